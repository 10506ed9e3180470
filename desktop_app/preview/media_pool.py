"""Long-lived media players for the previews: a preview borrows one and gives it back.

Why not a QMediaPlayer per preview: closing a video preview froze the app for good, about once
in 50 previews (PySide6 6.11, Qt's FFmpeg backend). The GUI thread hung in
QMediaPlayer.stop() -> QObject::disconnect -> a mutex; one of the backend's threads hung in
~QObject -> Sbk_GetPyOverride -> the GIL. What happens:

- A QAudioOutput made from Python is a PySide wrapper: each call of one of its C++ virtuals first
  asks Python, under the GIL, whether a Python subclass overrides it. Shiboken keeps a "no"
  per object, so only the first call of each virtual on that object needs the GIL.
- The backend decodes and renders in threads of its own, and its audio renderer connects to the
  QAudioOutput. Whenever the backend replaces its renderers (stop, play again, end of media, a
  new source...), it deletes the old ones in their threads; ~QObject then calls the audio output's
  disconnectNotify() while it holds Qt's signal-slot locks of the renderer and of the audio
  output. On a fresh audio output that call waits for the GIL.
- PySide runs QMediaPlayer.stop(), play(), pause(), setPosition(), setVideoOutput() without
  releasing the GIL, and in them the backend connects and disconnects the same objects. When
  the GUI thread gets to such a lock while a backend thread holds it and waits for the GIL,
  neither ever goes on.

So the players here are made once, in the GUI thread, and each is asked there at once about
the virtuals the backend's threads call (`settle_overrides`): from then on those threads never
need the GIL. They are unloaded with setSource(QUrl()), which stops playback first and which
PySide runs with the GIL released; never with stop(), and they are not deleted until the app
quits. The players, their audio outputs and the answers shiboken keeps outlive every preview.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QUrl
from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer

from desktop_app import ffmpeg_log

logger = logging.getLogger(__name__)


AV_LOG_ERROR = 16  # libavutil/log.h
AV_LOG_WARNING = 24
_ffmpeg_quiet = False


def _ignore(*_args: object) -> None:
    pass


def quiet_ffmpeg() -> None:
    """Qt Multimedia's FFmpeg writes a dump of every file a preview opens ("Input #0,
    mov,mp4…", a dozen lines) and its decoder warnings: only warnings and errors are left, and
    only errors while they go to stderr (no ffmpeg_log.route_through_qt; Qt's plugin, when routing
    them, starts at FFmpeg's debug level). The level lives in the libavutil that PySide6 ships,
    which can only be opened once Qt's FFmpeg plugin has loaded it (with the libraries it
    needs): so after the first player is made. PyAV's own copy is not touched."""
    global _ffmpeg_quiet
    if _ffmpeg_quiet:
        return
    _ffmpeg_quiet = True
    import ctypes

    import PySide6

    root = Path(PySide6.__file__).resolve().parent
    found = [
        *sorted((root / "Qt" / "lib").glob("libavutil.so.*")),  # Linux
        *sorted((root / "Qt" / "lib").glob("libavutil*.dylib")),  # macOS
        *sorted(root.glob("avutil*.dll")),  # Windows
    ]
    level = AV_LOG_WARNING if ffmpeg_log.routed() else AV_LOG_ERROR
    try:
        ctypes.CDLL(str(found[0])).av_log_set_level(level)
    except (IndexError, OSError, AttributeError) as exc:
        logger.debug("FFmpeg's log level left as it is: %s", exc)


def settle_overrides(obj: QObject) -> None:
    """Has shiboken look up here, in the GUI thread, that no Python code overrides `obj`'s
    connectNotify() and disconnectNotify(); it remembers that for `obj`, so a thread of Qt's
    media backend connecting to or disconnecting from `obj` later does not wait for the GIL."""
    obj.objectNameChanged.connect(_ignore)
    obj.objectNameChanged.disconnect(_ignore)


def unload(player: QMediaPlayer) -> None:
    """Stops playback and drops the media: files, network connections and decoder threads.

    QMediaPlayer.setSource() stops first and PySide calls it with the GIL released, so the
    backend's threads can finish whatever they are doing while it waits for them. It returns
    at once while a source is still loading (the load is cancelled)."""
    player.setSource(QUrl())


class _Player:
    """A pooled QMediaPlayer and its QAudioOutput (None when made without sound)."""

    def __init__(self, player: QMediaPlayer, audio_output: QAudioOutput | None) -> None:
        self.player = player
        self.audio_output = audio_output


class Lease:
    """One loan of a pooled player, to one borrower: the QMediaPlayer, its QAudioOutput and
    the connections the borrower made to it, undone when it is given back. A lease given back
    stays given back: a late give_back() of an old borrower cannot take the player from the
    next one."""

    def __init__(self, pooled: _Player) -> None:
        self._pooled = pooled
        self.player = pooled.player
        self.audio_output = pooled.audio_output
        self.active = True
        self._links: list[tuple[Any, Callable[..., Any]]] = []

    def link(self, signal: Any, slot: Callable[..., Any]) -> None:
        """signal.connect(slot), undone when the player is given back."""
        signal.connect(slot)
        self._links.append((signal, slot))

    def unlink(self) -> None:
        links, self._links = self._links, []
        for signal, slot in links:
            # A receiver already deleted took its connections along (PySide then raises)
            with contextlib.suppress(RuntimeError, TypeError, SystemError):
                signal.disconnect(slot)


class PlayerPool:
    """Idle players by kind (with or without an audio output); more are made only while every
    one of that kind is lent out, so there are as many as previews were ever open at once."""

    def __init__(self) -> None:
        self._idle: dict[bool, list[_Player]] = {True: [], False: []}
        self._all: list[_Player] = []
        self._closed = False

    def acquire(self, audio: bool) -> Lease:
        idle = self._idle[audio]
        pooled = idle.pop() if idle else self._make(audio)
        pooled.player.setPlaybackRate(1.0)  # the last borrower may have sped it up (L)
        return Lease(pooled)

    def give_back(self, lease: Lease) -> None:
        """Disconnects the borrower, unloads the media, detaches the video output. Only the
        first call of a lease does anything."""
        if not lease.active:
            return
        lease.active = False
        pooled = lease._pooled
        try:
            lease.unlink()
        finally:
            if shiboken6.isValid(pooled.player):
                unload(pooled.player)
                # no media any more, so the backend has nothing to redo (stubs want a QObject)
                pooled.player.setVideoOutput(None)  # type: ignore[arg-type]
                if self._closed:
                    self._delete(pooled)
                else:
                    self._idle[pooled.audio_output is not None].append(pooled)

    def count(self) -> int:
        """How many players were made (idle and lent out)."""
        return len(self._all)

    def idle(self, audio: bool) -> int:
        return len(self._idle[audio])

    def close(self) -> None:
        """At quit: unloads every player and deletes the idle ones (lent ones when returned)."""
        if self._closed:
            return
        self._closed = True
        for pooled in self._all:
            if shiboken6.isValid(pooled.player):
                unload(pooled.player)
        for kind in self._idle.values():
            for pooled in kind:
                self._delete(pooled)
            kind.clear()

    def _make(self, audio: bool) -> _Player:
        player = QMediaPlayer()  # no parent: it lives as long as the pool
        quiet_ffmpeg()  # Qt's FFmpeg is loaded now
        audio_output = QAudioOutput() if audio else None
        if audio_output is not None:
            settle_overrides(audio_output)
            player.setAudioOutput(audio_output)
        settle_overrides(player)
        pooled = _Player(player, audio_output)
        self._all.append(pooled)
        logger.debug("media player %d made (audio output: %s)", len(self._all), audio)
        return pooled

    def _delete(self, pooled: _Player) -> None:
        for obj in (pooled.player, pooled.audio_output):
            if obj is not None and shiboken6.isValid(obj):
                shiboken6.delete(obj)


_pool: PlayerPool | None = None


def pool() -> PlayerPool:
    """The application's player pool (made on first use, closed when the application quits)."""
    global _pool
    if _pool is None:
        _pool = PlayerPool()
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(_pool.close)
        atexit.register(_pool.close)  # runs before PySide's own clean-up (registered earlier)
    return _pool
