"""Video player widget on QMediaPlayer + QVideoWidget (+ QAudioOutput) with keyboard controls.

The QMediaPlayer and QAudioOutput are borrowed from the application's pool (media_pool.py says
why a preview never makes or destroys its own) and given back, unloaded, by release().
"""

from __future__ import annotations

import logging
import math

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer, QVideoFrame, QVideoSink
from PySide6.QtMultimediaWidgets import QVideoWidget
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from desktop_app.errors import ErrorMessage
from desktop_app.formatting import tip_text
from desktop_app.preview import media_pool
from desktop_app.preview.player_controls import PlayerControls
from desktop_app.preview.sources import to_url
from desktop_app.views.colors import set_status_style

logger = logging.getLogger(__name__)

DEFAULT_FRAME_RATE = 25.0
DEFAULT_VOLUME = 80  # percent
SEEK_STEP_MS = 5000  # ←/→ and J
VOLUME_STEP = 5  # percent, ↑/↓ (←/→ seek, as in most players)
MAX_RATE = 4.0  # L doubles the speed up to this

State = QMediaPlayer.PlaybackState


class VideoPlayer(QWidget):
    """Plays one local file or http(s) URL with the keys of video editors.

    Space play/pause; J back 5 s (or slower when L sped it up), K pause, L play (again: 2×,
    4×); ←/→ 5 s; ,/. one frame; M mute; F fullscreen. Qt Multimedia cannot play backwards,
    so J jumps back instead of reversing.
    """

    # the source Qt could not play (after its fallback): whoever knows the file may find out
    # why and say it with show_cause (Qt's own text is English and technical)
    failed = Signal(str)

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        frame_rate: float | None = None,
        audio: bool = True,
        autoplay: bool = False,
    ) -> None:
        super().__init__(parent)
        self._frame_rate = frame_rate if frame_rate and frame_rate > 0 else DEFAULT_FRAME_RATE
        self._autoplay = autoplay
        self._muted = False
        self._volume = DEFAULT_VOLUME
        self._last_frame_us = -1
        self._stepped = (-1, -1)  # the frame a step went to, at this position (ms)
        # the last picture shown, put back when Qt blanks the sink at the end (below)
        self._last_frame: QVideoFrame | None = None
        # played to its end and holding the last frame: play starts again from the beginning
        self._at_end = False
        self._restore_maximized = False
        # what to play when Qt cannot decode the source (a video's web rendition)
        self.fallback_source: str | None = None
        self._source = ""
        # the source known deleted for good (source_gone): whoever said so says it all, and
        # Qt's failure to read the vanished file ("Demuxing failed") is not added under it
        self._gone_source: str | None = None

        lease = media_pool.pool().acquire(audio)
        self._lease: media_pool.Lease | None = lease
        self.player: QMediaPlayer = lease.player
        self.audio_output: QAudioOutput | None = lease.audio_output
        self._video = QVideoWidget(self)
        self._video.installEventFilter(self)
        self.player.setVideoOutput(self._video)
        self.video_sink().videoFrameChanged.connect(self._on_frame)
        # Deleted without release() (a window closed with its preview open): the player goes
        # back all the same. The lambda holds the lease, not this widget.
        self.destroyed.connect(lambda *_: media_pool.pool().give_back(lease))

        self.controls = PlayerControls(self)
        self._error = QLabel(self)
        self._error.setTextFormat(Qt.TextFormat.PlainText)  # Qt's error quotes the address
        self._error.setWordWrap(True)
        set_status_style(self._error, "error")
        self._error.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self._video, 1)
        layout.addWidget(self._error)
        layout.addWidget(self.controls)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

        self._connect(lease)
        self._apply_audio()
        self._build_shortcuts()

    def _connect(self, lease: media_pool.Lease) -> None:
        c, p = self.controls, self.player
        c.play_button.clicked.connect(self.toggle_play)
        c.back_button.clicked.connect(self.step_backward)
        c.forward_button.clicked.connect(self.step_forward)
        c.mute_button.clicked.connect(self.toggle_mute)
        c.fullscreen_button.clicked.connect(self.toggle_fullscreen)
        c.volume_slider.setValue(self._volume)
        c.volume_slider.valueChanged.connect(self.set_volume)
        c.seek_slider.sliderMoved.connect(self._seek_to)
        c.seek_slider.seekRequested.connect(self._seek_to)
        # The player outlives this widget: its signals are linked through the lease, which
        # disconnects them when the player is given back.
        lease.link(p.durationChanged, c.set_duration)
        lease.link(p.positionChanged, self._on_position)
        lease.link(p.playbackStateChanged, self._on_state)
        lease.link(p.seekableChanged, c.seek_slider.setEnabled)
        lease.link(p.errorOccurred, self._on_error)
        lease.link(p.mediaStatusChanged, self._on_status)

    def _build_shortcuts(self) -> None:
        keys = [
            ("Space", self.toggle_play),
            ("J", self.key_j),
            ("K", self.pause),
            ("L", self.key_l),
            ("Left", lambda: self.seek_by(-SEEK_STEP_MS)),
            ("Right", lambda: self.seek_by(SEEK_STEP_MS)),
            ("Up", lambda: self.change_volume(VOLUME_STEP)),
            ("Down", lambda: self.change_volume(-VOLUME_STEP)),
            ("M", self.toggle_mute),
            ("F", self.toggle_fullscreen),
            (".", self.step_forward),
            (",", self.step_backward),
        ]
        for key, slot in keys:
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        self._escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        self._escape.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self._escape.activated.connect(self.leave_fullscreen)
        self._escape.setEnabled(False)  # Esc closes the dialog unless we are fullscreen

    # -- media --------------------------------------------------------------------------------
    def load(self, source: str) -> None:
        """Open a local path or an http(s) URL; plays at once when built with autoplay=True."""
        if self._lease is None:
            return  # released: the player may be another preview's by now
        self._error.hide()
        self._last_frame_us = -1
        self._stepped = (-1, -1)
        self._last_frame = None
        self._at_end = False
        self._source = source
        self.player.setSource(to_url(source))
        if self._autoplay:
            self.player.play()  # while the media loads this only records the wish
        else:
            self.player.pause()  # shows the first frame

    def release(self) -> None:
        """Stop playback, drop the media (closes files and network connections) and give the
        player back to the pool. Never waits on the GIL-holding side of Qt's media backend: no
        stop(), the unload runs with the GIL released (media_pool.unload). Idempotent."""
        self.leave_fullscreen()
        lease, self._lease = self._lease, None
        if lease is not None:
            media_pool.pool().give_back(lease)

    def is_released(self) -> bool:
        return self._lease is None

    def show_steps(self, previous: QAction, following: QAction) -> None:
        """Puts the preview's Previous file / Next file (PageUp / PageDown) in the control bar."""
        self.controls.add_steps(previous, following)

    def video_sink(self) -> QVideoSink:
        return self._video.videoSink()

    def video_widget(self) -> QVideoWidget:
        return self._video

    def frame_rate(self) -> float:
        return self._frame_rate

    def error_text(self) -> str:
        return self._error.text() if not self._error.isHidden() else ""

    def _on_frame(self, frame: QVideoFrame) -> None:
        if frame.isValid():
            self._last_frame = frame
            if frame.startTime() >= 0:
                self._last_frame_us = frame.startTime()
        elif self._last_frame is not None and self._lease is not None:
            # At the end of the media Qt hands the sink an empty frame (a moment before
            # EndOfMedia): the picture went black until the seek of _hold_last_frame decoded the
            # last frame again from its keyframe, 0.3-0.5 s later. The last frame goes back at
            # once. A new source clears _last_frame first, so its blank is not covered up.
            self.video_sink().setVideoFrame(self._last_frame)

    def _on_position(self, ms: int) -> None:
        # Held at its end the player sits one frame before it ("0:02 / 0:03" for a 3 s clip):
        # the bar says the clip was played through, its whole length
        if self._at_end:
            self.controls.set_ended()
        else:
            self.controls.set_position(ms)

    def _on_state(self, state: QMediaPlayer.PlaybackState) -> None:
        self.controls.set_playing(state == State.PlayingState)

    def _on_status(self, status: QMediaPlayer.MediaStatus) -> None:
        if status == QMediaPlayer.MediaStatus.InvalidMedia and not self.error_text():
            self._show_error(self.tr("This video cannot be played."))
        elif status == QMediaPlayer.MediaStatus.EndOfMedia and self._lease is not None:
            self._hold_last_frame()

    def _hold_last_frame(self) -> None:
        """At its end Qt's player stops and its picture goes black; editors and players
        (VLC, QuickTime) keep the last frame on screen instead, paused there."""
        duration = self.player.duration()
        if duration <= 0:
            return
        frame_ms = math.ceil(1000 / self._frame_rate)
        self._set_position(max(duration - frame_ms, 0))
        self._at_end = True
        self.controls.set_ended()

    # -- playback -----------------------------------------------------------------------------
    def _seek_to(self, ms: int) -> None:
        if self._lease is not None:
            self._set_position(ms)

    def _set_position(self, ms: int) -> None:
        self._at_end = False
        stopped = self.player.playbackState() == State.StoppedState
        self.player.setPosition(ms)
        if stopped:
            # Stopped (the video played to its end), Qt's backend renders nothing after a
            # seek until play: the picture stayed black. Paused, it shows the frame there.
            self.player.pause()

    def toggle_play(self) -> None:
        if self._lease is None:
            return
        if self.player.playbackState() == State.PlayingState:
            self.player.pause()
        else:
            self._play()

    def _play(self) -> None:
        if self._at_end:
            self._set_position(0)  # from the held last frame: again from the beginning
        self.player.play()

    def pause(self) -> None:
        if self._lease is None:
            return
        self.player.pause()
        self.player.setPlaybackRate(1.0)

    def key_l(self) -> None:
        """Play; pressed again while playing, twice as fast (up to MAX_RATE)."""
        if self._lease is None:
            return
        if self.player.playbackState() == State.PlayingState:
            self.player.setPlaybackRate(min(self.player.playbackRate() * 2, MAX_RATE))
        else:
            self.player.setPlaybackRate(1.0)
            self._play()

    def key_j(self) -> None:
        """Slower when L sped playback up; else 5 s back (reverse play is not available)."""
        if self._lease is None:
            return
        if self.player.playbackState() == State.PlayingState and self.player.playbackRate() > 1:
            self.player.setPlaybackRate(max(self.player.playbackRate() / 2, 1.0))
        else:
            self.seek_by(-SEEK_STEP_MS)

    def seek_by(self, ms: int) -> None:
        """Moves the position by `ms`, kept inside the video; playing or paused stays so, and
        stopped at the end it pauses at the new position (its frame shows)."""
        if self._lease is None:
            return
        target = max(self.player.position() + ms, 0)
        duration = self.player.duration()
        if duration > 0 and ms > 0 and target >= duration:
            # → at (or near) the end went back to reading "0:03 / 0:04", one millisecond
            # before the end: past the end is the end, held there as a clip played through
            self._hold_last_frame()
            return
        if duration > 0:
            target = min(target, max(duration - 1, 0))
        self._set_position(target)

    def step_forward(self) -> None:
        self._step(1)

    def step_backward(self) -> None:
        self._step(-1)

    def _step(self, frames: int) -> None:
        """Pause and move by whole frames; QMediaPlayer has no frame step, so seek.

        A seek to a frame's exact start showed the frame before it (at 30 fps frame 153
        starts at 5100 ms: `.` did not move, `,` went back two), and a container's rounded
        timestamps (a millisecond time base) put some starts a little after n / fps: the seek
        goes to the middle of the target frame instead."""
        if self._lease is None:
            return
        if self.player.playbackState() == State.PlayingState:
            self.player.pause()
        index = self.frame_index()
        target = frame_middle_ms(max(index + frames, 0), self._frame_rate)
        duration = self.player.duration()
        if duration > 0:
            target = min(target, max(duration - 1, 0))
        self._stepped = (index + frames, target)
        self._set_position(target)

    def frame_index(self) -> int:
        """The frame shown: the one a step left pending while its picture is still decoding
        (two quick `.` are two frames), else the last picture's start, else the position."""
        index, ms = self._stepped
        if ms >= 0 and self.player.position() == ms:
            return index
        if self._last_frame_us >= 0:  # a frame's start: n / fps, rounded by the container
            return round(self._last_frame_us * self._frame_rate / 1_000_000)
        return frame_at(self.player.position(), self._frame_rate)

    # -- audio --------------------------------------------------------------------------------
    def is_muted(self) -> bool:
        return self._muted

    def volume(self) -> int:
        return self._volume

    def toggle_mute(self) -> None:
        self.set_muted(not self._muted)

    def set_muted(self, muted: bool) -> None:
        self._muted = bool(muted)
        self._apply_audio()

    def set_volume(self, percent: int) -> None:
        self._volume = max(0, min(100, int(percent)))
        self._apply_audio()

    def change_volume(self, delta: int) -> None:
        """↑/↓: the slider takes no focus (the arrows seek), so the volume had no keys. Raising
        it unmutes, as players do: a muted player's louder volume is still silence."""
        if delta > 0:
            self._muted = False
        self.set_volume(self._volume + delta)

    def _apply_audio(self) -> None:
        self.controls.set_muted(self._muted)
        if self.controls.volume_slider.value() != self._volume:
            self.controls.volume_slider.setValue(self._volume)
        if self.audio_output is not None and self._lease is not None:
            self.audio_output.setMuted(self._muted)
            self.audio_output.setVolume(_linear_volume(self._volume))

    # -- fullscreen ---------------------------------------------------------------------------
    def is_fullscreen(self) -> bool:
        return self.window().isFullScreen()

    def toggle_fullscreen(self) -> None:
        if self.is_fullscreen():
            self.leave_fullscreen()
        else:
            self.enter_fullscreen()

    def enter_fullscreen(self) -> None:
        window = self.window()
        if window.isFullScreen():
            return
        self._restore_maximized = window.isMaximized()
        window.showFullScreen()
        self._escape.setEnabled(True)
        self.controls.set_fullscreen(True)

    def leave_fullscreen(self) -> None:
        self._escape.setEnabled(False)
        self.controls.set_fullscreen(False)
        window = self.window()
        if not window.isFullScreen():
            return
        if self._restore_maximized:
            window.showMaximized()
        else:
            window.showNormal()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._video and event.type() == QEvent.Type.MouseButtonDblClick:
            self.toggle_fullscreen()
            return True
        return super().eventFilter(watched, event)

    # -- errors -------------------------------------------------------------------------------
    def _on_error(self, error: QMediaPlayer.Error, detail: str) -> None:
        if error == QMediaPlayer.Error.NoError:
            return
        logger.info("media player error %s: %s", error, detail)
        fallback = self.fallback_source
        if fallback and error in (
            QMediaPlayer.Error.FormatError,
            QMediaPlayer.Error.ResourceError,
        ):
            self.fallback_source = None  # once: a broken rendition must not loop
            logger.info("playing the web rendition instead: %s", fallback)
            # not from inside the player's own signal: it goes on emitting after this slot
            QTimer.singleShot(0, self, lambda: self.load(fallback))
            return
        messages = {
            QMediaPlayer.Error.ResourceError: self.tr("The video could not be opened."),
            QMediaPlayer.Error.FormatError: self.tr("This video format is not supported."),
            QMediaPlayer.Error.NetworkError: self.tr("A network error stopped the video."),
            QMediaPlayer.Error.AccessDeniedError: self.tr("Access to the video was denied."),
        }
        text = messages.get(error, self.tr("The video cannot be played."))
        self._show_error(
            self.tr("{message} ({detail})").format(message=text, detail=detail) if detail else text
        )
        self.failed.emit(self._source)

    def source_gone(self) -> None:
        """The file playing was deleted for good (said elsewhere, above the player): its own
        open and decode errors are not shown from now on, nor its web rendition tried."""
        self._gone_source = self._source
        self.fallback_source = None
        self._error.hide()

    def show_cause(self, source: str, cause: ErrorMessage) -> None:
        """Says why `source` failed (a storage outage, a missing file) in place of Qt's text,
        which stays in the tooltip; ignored once another source is loaded."""
        if source != self._source or self._error.isHidden():
            return
        qt_text = self._error.text()
        self._show_error(cause.display())
        self._error.setToolTip(tip_text(qt_text))

    def _show_error(self, text: str) -> None:
        if self._source and self._source == self._gone_source:
            logger.info("not shown, the file is gone: %s", text)
            return
        self._error.setText(text)
        self._error.setToolTip("")
        self._error.show()


def frame_at(ms: float, fps: float) -> int:
    """The frame playing at `ms` (frame n starts at n / fps; the slack is float rounding's)."""
    return math.floor(ms * fps / 1000 + 1e-6)


def frame_middle_ms(index: int, fps: float) -> int:
    """A position inside frame `index`, half a frame from both of its ends."""
    return math.floor((index + 0.5) * 1000 / fps)


def _linear_volume(percent: int) -> float:
    """Slider percent (perceived loudness) to the linear gain QAudioOutput expects."""
    try:
        from PySide6.QtMultimedia import QtAudio as audio_ns
    except ImportError:  # Qt < 6.7
        from PySide6.QtMultimedia import QAudio as audio_ns  # type: ignore[assignment]
    scale = audio_ns.VolumeScale
    return audio_ns.convertVolume(
        percent / 100, scale.LogarithmicVolumeScale, scale.LinearVolumeScale
    )
