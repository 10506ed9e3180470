"""Child process of tests/test_desktop_preview_release.py: opens and closes video previews fast.

A hang of the kind this hunts holds the GIL in the GUI thread: no Python thread (pytest-timeout's
included) can run any more, so the watchdog is faulthandler's own C thread. A QTimer on the GUI
thread re-arms it every 100 ms; when the GUI thread processes no event for `--watchdog`
seconds, faulthandler prints every thread's Python stack to stderr and ends the process with
exit code 1. The parent test runs this in its own process so such a hang fails one test (with
the stacks) instead of stopping the whole run.

Modes:
  cycles     the tester's steps on the real dialog: open a preview of a 2-second MP4 (sound
             and picture, audio output on as in the app), close it with Escape while the media
             is still loading, right after playback starts, after the first frame, after a seek
             (Right), after 1.2 s... then the next file; `--cycles` times.
  lockstep   the interleaving of the freeze, made likely: the GUI thread keeps the GIL (switch
             interval raised) while the FFmpeg backend tears its renderers down (QMediaPlayer
             .stop()), then calls into the backend again (play(), which connects a new audio
             renderer to the audio output). Before the fix about one cycle in three froze.

--fresh-players gives every preview a new QMediaPlayer and QAudioOutput (a new pool), so the
run relies on media_pool.settle_overrides alone, not on reusing a player.

Prints one JSON line: cycles run, slowest close (ms) and longest stall of the GUI thread (ms).
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import logging
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEventLoop, Qt, QTimer
from PySide6.QtMultimedia import QMediaPlayer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from core.records import FileRecord
from desktop_app.app import route_qt_messages
from tests import media
from tests.media import make_record

State = QMediaPlayer.PlaybackState
Status = QMediaPlayer.MediaStatus


class Watchdog:
    """faulthandler's C thread dumps all stacks and exits unless the GUI thread re-arms it."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.last = time.monotonic()
        self.max_gap = 0.0
        self.label = "start"  # what the GUI thread was doing (see `log`)
        self.max_gap_at = ""
        self.timer = QTimer()
        self.timer.setInterval(100)
        self.timer.timeout.connect(self.beat)
        self.beat()
        self.timer.start()

    def beat(self) -> None:
        now = time.monotonic()
        if now - self.last > self.max_gap:
            self.max_gap, self.max_gap_at = now - self.last, self.label
        self.last = now
        faulthandler.dump_traceback_later(self.seconds, exit=True)

    def stop(self) -> None:
        self.timer.stop()
        faulthandler.cancel_dump_traceback_later()


def spin(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def wait_until(predicate: Any, timeout_s: float = 10.0) -> bool:
    end = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > end:
            return False
        spin(2)
    return True


def record(file_id: int, name: str) -> FileRecord:
    """A 2-second 320×240 H.264 clip's record."""
    return make_record(
        "video",
        name,
        id=file_id,
        content_type="video/mp4",
        width=320,
        height=240,
        duration=2.0,
        video_codec="h264",
        audio_codec="aac",
        frame_rate=24.0,
    )


WATCHDOG: Watchdog | None = None


def log(text: str) -> None:
    if WATCHDOG is not None:
        WATCHDOG.label = text
    print(text, file=sys.stderr, flush=True)


# -- the tester's steps ---------------------------------------------------------------------------
MOMENTS = [
    "loading",  # at once: the media is still being opened (LoadingMedia)
    "loading+1ms",
    "loaded",  # as soon as the status leaves LoadingMedia: the backend builds its decoders
    "playing",
    "first-frame",
    "after-seek",
    "random",
]


def run_cycles(
    clips: list[Path], cycles: int, seed: int, moments: list[str], fresh: bool = False
) -> dict[str, Any]:
    from desktop_app.preview import open_preview

    rng = random.Random(seed)
    window = QWidget()
    window.resize(400, 300)
    window.show()
    closes: dict[str, float] = {}
    for i in range(cycles):
        moment = "1.2s" if i % 12 == 11 and len(moments) > 1 else moments[i % len(moments)]
        clip = clips[i % len(clips)]  # "Right to the next file"
        log(f"cycle {i}: {clip.name}, close at {moment}")
        if fresh:  # a new pool: this preview's player and audio output are new too
            from desktop_app.preview import media_pool

            media_pool._pool = None
        dialog: Any = open_preview(window, record(i + 1, clip.name), str(clip))
        viewer = dialog.viewer
        frames: list[int] = []
        viewer.video_sink().videoFrameChanged.connect(lambda f, frames=frames: frames.append(1))
        if moment == "loading+1ms":
            spin(1)
        elif moment == "loaded":
            wait_until(lambda v=viewer: v.player.mediaStatus() != Status.LoadingMedia)
        elif moment == "playing":
            wait_until(lambda v=viewer: v.player.playbackState() == State.PlayingState)
        elif moment in ("first-frame", "after-seek"):
            wait_until(lambda f=frames: bool(f))
        elif moment == "random":
            spin(rng.randrange(0, 400))
        elif moment == "1.2s":
            spin(1200)
        if moment == "after-seek":
            dialog.activateWindow()
            wait_until(dialog.isActiveWindow, 2.0)
            QTest.keyClick(viewer, Qt.Key.Key_Right)  # the preview's seek key
        started = time.monotonic()
        QTest.keyClick(viewer, Qt.Key.Key_Escape)  # PreviewDialog.done -> release
        closes[moment] = max(closes.get(moment, 0.0), time.monotonic() - started)
        if dialog.isVisible():
            raise SystemExit(f"cycle {i}: Escape did not close the preview")
        spin(rng.randrange(0, 30))  # the user's next key press comes soon
    window.close()
    spin(100)
    return {
        "cycles": cycles,
        "max_close_ms": round(max(closes.values()) * 1000, 1),
        "max_close_ms_by_moment": {k: round(v * 1000, 1) for k, v in closes.items()},
    }


# -- the freeze's interleaving, made likely -------------------------------------------------------
def run_lockstep(clips: list[Path], cycles: int, fresh: bool = False) -> dict[str, Any]:
    from desktop_app.preview.video_player import VideoPlayer

    for i in range(cycles):
        log(f"lockstep {i}")
        if fresh:
            from desktop_app.preview import media_pool

            media_pool._pool = None
        player = VideoPlayer(audio=True, autoplay=True)
        player.show()
        player.load(str(clips[i % len(clips)]))
        media_player = player.player
        if not wait_until(
            lambda mp=media_player: mp.playbackState() == State.PlayingState and mp.position() > 100
        ):
            raise SystemExit(f"lockstep {i}: the clip did not play")
        interval = sys.getswitchinterval()
        sys.setswitchinterval(30.0)  # the GUI thread gives the GIL away only when Qt lets it
        try:
            media_player.stop()  # the backend deletes its renderers in their threads
            end = time.monotonic() + 0.1
            while time.monotonic() < end:  # 100 ms of Python on the GUI thread
                pass
            media_player.play()  # new renderers: one connects to the QAudioOutput
        finally:
            sys.setswitchinterval(interval)
        spin(20)
        player.release()
        player.deleteLater()
        spin(10)
    return {"cycles": cycles, "max_close_ms": 0.0}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["cycles", "lockstep"])
    parser.add_argument("--cycles", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--moments", default=",".join(MOMENTS), help="when to close, cycled")
    parser.add_argument("--watchdog", type=float, default=10.0)
    parser.add_argument(
        "--fresh-players", action="store_true", help="a new media player for every preview"
    )
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["QT_LOGGING_RULES"] = "qt.multimedia*=false;qt.multimedia.*=false;qt.qpa.*=false"
    logging.basicConfig(level=logging.ERROR)
    app = QApplication.instance() or QApplication([])
    route_qt_messages()  # as the app does: Qt's messages (FFmpeg threads' too) go to Python
    global WATCHDOG
    watchdog = WATCHDOG = Watchdog(args.watchdog)
    with tempfile.TemporaryDirectory() as folder:
        clips = [
            media.make_mp4(Path(folder) / f"clip{n}.mp4", seconds=2, size=(320, 240), fps=24)
            for n in (1, 2)
        ]
        if args.mode == "cycles":
            moments = args.moments.split(",")
            result = run_cycles(clips, args.cycles, args.seed, moments, args.fresh_players)
        else:
            result = run_lockstep(clips, args.cycles, args.fresh_players)
    result["max_stall_ms"] = round(watchdog.max_gap * 1000, 1)
    result["max_stall_at"] = watchdog.max_gap_at
    watchdog.stop()
    print(json.dumps(result), flush=True)
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
