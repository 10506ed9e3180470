"""The console stays quiet in normal use: access-log lines, Qt Multimedia chatter and MediaDesk's
own INFO notices go to the log file only; its warnings and errors still reach the console."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.qt_helpers import run_desktop_child

CHILD = textwrap.dedent(
    """
    import logging, sys
    from PySide6.QtCore import QCoreApplication, QLoggingCategory, qCWarning
    from core.settings import load_settings
    from desktop_app.app import route_qt_messages, setup_logging
    settings = load_settings(environ={}, config_file=sys.argv[1] + "/settings.toml",
                             data_dir=sys.argv[1])
    app = QCoreApplication([])
    setup_logging(settings)
    route_qt_messages()
    logging.getLogger("aiohttp.access").info('127.0.0.1 "GET /health HTTP/1.1" 200')
    category = QLoggingCategory("qt.multimedia.ffmpeg")
    qCWarning(category, "Input #0, mov,mp4: Stream #0:0: Video: h264 VAAPI probing failed")
    logging.getLogger("desktop_app.views").info("Embedded server listening")
    logging.getLogger("core.library").error("Real trouble")
    """
)


def test_access_log_and_multimedia_chatter_stay_off_the_console(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    done = run_desktop_child(CHILD, str(data), home=tmp_path, timeout=60)
    assert done.returncode == 0, done.stderr
    console = done.stdout + done.stderr
    assert "GET /health" not in console and "VAAPI" not in console
    assert "Embedded server listening" not in console and "Real trouble" in console
    log = (data / "logs" / "desktop.log").read_text(encoding="utf-8")
    assert "GET /health" in log and "VAAPI probing failed" in log  # kept for debugging
    assert "Embedded server listening" in log


PREVIEW_CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    import av
    from PySide6.QtCore import QTimer, QUrl, qWarning
    from PySide6.QtWidgets import QApplication
    from PySide6.QtMultimedia import QMediaPlayer, QVideoSink
    from core.settings import load_settings
    from desktop_app.app import route_qt_messages, setup_logging
    from desktop_app.preview.media_pool import pool
    from tests.media import make_mp4
    data = Path(sys.argv[1])
    settings = load_settings(environ={}, config_file=str(data / "settings.toml"),
                             data_dir=str(data))
    # an RGB VP9 (profile 1): FFmpeg tries VA-API for it and says why it falls back
    with av.open(str(data / "rgb.webm"), "w", format="webm") as out:
        video = out.add_stream("libvpx-vp9", rate=24)
        video.width, video.height, video.pix_fmt = 64, 64, "gbrp"
        video.options = {"deadline": "realtime", "cpu-used": "8"}
        for i in range(3):
            frame = av.VideoFrame(64, 64, "rgb24")
            frame.pts = i
            out.mux(video.encode(frame.reformat(format="gbrp")))
        out.mux(video.encode(None))
    app = QApplication([])
    setup_logging(settings)
    route_qt_messages()
    # what Qt Multimedia says, without a category, on a machine without sound
    qWarning("PulseAudioService: pa_context_connect() failed")
    qWarning("No audio device detected")
    player = pool().acquire(audio=True).player  # as a preview gets one
    sink = QVideoSink()
    player.setVideoSink(sink)
    ended = QMediaPlayer.MediaStatus

    def loaded(status):
        if status in (ended.LoadedMedia, ended.InvalidMedia):
            print("status", status.name, flush=True)
            if player.source().fileName() == "clip.mp4":
                player.setSource(QUrl.fromLocalFile(str(data / "rgb.webm")))
                player.play()

    def shown(frame):
        if frame.isValid():
            print("frame shown", flush=True)
            app.quit()

    player.mediaStatusChanged.connect(loaded)
    sink.videoFrameChanged.connect(shown)
    QTimer.singleShot(60_000, app.quit)  # a guard only: the frame comes in well before
    player.setSource(QUrl.fromLocalFile(str(make_mp4(data / "clip.mp4", seconds=1))))
    app.exec()
    """
)


def test_previews_leave_ffmpeg_dumps_and_audio_probing_off_the_console(tmp_path: Path) -> None:
    """Opening a video in the player printed FFmpeg's "Input #0, mov,mp4…" dump (written to
    stderr by FFmpeg itself, past Qt's message handler) and Qt Multimedia's uncategorised
    "No audio device detected" warnings on the console, at every preview; an RGB VP9 WebM
    printed "[vp9 @ 0x…] A hardware frames or device context is required…" and "Failed setup
    for format vaapi…" (FFmpeg's fallback to its software decoder), which go to the log."""
    pytest.importorskip("PySide6.QtMultimedia")
    data = tmp_path / "data"
    data.mkdir()
    done = run_desktop_child(PREVIEW_CHILD, str(data), home=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "status LoadedMedia" in done.stdout, done.stdout + done.stderr  # really opened
    console = done.stdout + done.stderr
    assert "Input #0" not in console and "Duration:" not in console
    assert "No audio device" not in console and "PulseAudioService" not in console
    assert "frame shown" in done.stdout, done.stdout + done.stderr
    assert " @ 0x" not in console and "hwaccel" not in console, console
    log = (data / "logs" / "desktop.log").read_text(encoding="utf-8")
    assert "No audio device detected" in log  # kept for debugging
    assert "hwaccel initialisation returned error" in log
