"""The control bar under the video: play, frame step, seek slider with times, volume, fullscreen."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QMouseEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSlider,
    QStyle,
    QStyleOptionSlider,
    QToolButton,
    QWidget,
)

from desktop_app.formatting import clock_text, duration_text
from desktop_app.views.colors import set_glyph

SP = QStyle.StandardPixmap


def format_time(ms: int) -> str:
    """A position (the elapsed time) in milliseconds as m:ss, or h:mm:ss from one hour on:
    the seconds played so far, so it counts up as players do; the total is a duration_text."""
    return clock_text(max(int(ms), 0) // 1000)


class SeekSlider(QSlider):
    """A position slider where a click jumps to the clicked point (not a page step)."""

    seekRequested = Signal(int)  # milliseconds

    def value_at(self, x: int) -> int:
        """The slider value under horizontal position `x` (widget coordinates)."""
        option = QStyleOptionSlider()
        self.initStyleOption(option)
        style = self.style()
        groove = style.subControlRect(
            QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderGroove, self
        )
        handle = style.subControlRect(
            QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderHandle, self
        )
        span = max(groove.width() - handle.width(), 1)
        offset = x - groove.x() - handle.width() // 2
        return QStyle.sliderValueFromPosition(
            self.minimum(), self.maximum(), min(max(offset, 0), span), span, option.upsideDown
        )

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.maximum() > self.minimum():
            value = self.value_at(int(event.position().x()))
            self.setValue(value)
            self.seekRequested.emit(value)
        super().mousePressEvent(event)  # a press on the handle, now under the mouse, drags it


class PlayerControls(QWidget):
    """Passive widgets; VideoPlayer wires them to the QMediaPlayer."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.play_button = self._button(SP.SP_MediaPlay, self.tr("Play (Space)"), self.tr("Play"))
        self.back_button = self._button(
            SP.SP_MediaSkipBackward, self.tr("Previous frame (,)"), self.tr("Previous frame")
        )
        self.forward_button = self._button(
            SP.SP_MediaSkipForward, self.tr("Next frame (.)"), self.tr("Next frame")
        )
        self.elapsed_label = QLabel(format_time(0), self)
        self.total_label = QLabel(format_time(0), self)
        self.seek_slider = SeekSlider(Qt.Orientation.Horizontal, self)
        self.seek_slider.setRange(0, 0)
        self.seek_slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.seek_slider.setToolTip(
            self.tr("Position: click to jump, ←/→ 5 s, J/K/L back, pause, play faster")
        )
        self.seek_slider.setAccessibleName(self.tr("Position"))
        self.mute_button = self._button(SP.SP_MediaVolume, self.tr("Mute (M)"), self.tr("Mute"))
        self.volume_slider = QSlider(Qt.Orientation.Horizontal, self)
        self.volume_slider.setRange(0, 100)
        self.volume_slider.setMaximumWidth(100)
        # no focus, as the position's: the player's keys (↑/↓ here) work wherever focus is
        self.volume_slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.volume_slider.setToolTip(self.tr("Volume (↑/↓)"))
        self.volume_slider.setAccessibleName(self.tr("Volume"))
        self.fullscreen_button = self._button(
            SP.SP_TitleBarMaxButton, self.tr("Full screen (F)"), self.tr("Full screen")
        )

        layout = QHBoxLayout(self)
        self._layout = layout
        self._steps: list[tuple[QAction, QToolButton]] = []
        layout.setContentsMargins(6, 2, 6, 4)
        row: tuple[QWidget, ...] = (
            self.play_button,
            self.back_button,
            self.forward_button,
            self.elapsed_label,
            self.seek_slider,
            self.total_label,
            self.mute_button,
            self.volume_slider,
            self.fullscreen_button,
        )
        for widget in row:
            layout.addWidget(widget, 1 if widget is self.seek_slider else 0)  # the slider grows

    def add_steps(self, previous: QAction, following: QAction) -> None:
        """Buttons for the preview's Previous file / Next file, at the two ends of the bar."""
        for action in (previous, following):
            button = QToolButton(self)
            button.setDefaultAction(action)  # icon, tooltip, enabled follow the action
            button.setAutoRaise(True)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            self._steps.append((action, button))
            action.changed.connect(self._show_steps)  # visibility does not follow by itself
        self._layout.insertWidget(0, self._steps[-2][1])
        self._layout.addWidget(self._steps[-1][1])
        self._show_steps()

    def _show_steps(self) -> None:
        for action, button in self._steps:
            button.setVisible(action.isVisible())

    def _button(self, pixmap: QStyle.StandardPixmap, tip: str, name: str) -> QToolButton:
        button = QToolButton(self)
        set_glyph(button, pixmap, self)  # in the text's colour: readable on a dark theme
        button.setToolTip(tip)
        button.setAccessibleName(name)  # icon only: a screen reader reads no tooltip as name
        button.setAutoRaise(True)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        return button

    def set_playing(self, playing: bool) -> None:
        if playing:
            set_glyph(self.play_button, SP.SP_MediaPause, self)
            self.play_button.setToolTip(self.tr("Pause (Space)"))
            self.play_button.setAccessibleName(self.tr("Pause"))
        else:
            set_glyph(self.play_button, SP.SP_MediaPlay, self)
            self.play_button.setToolTip(self.tr("Play (Space)"))
            self.play_button.setAccessibleName(self.tr("Play"))

    def set_muted(self, muted: bool) -> None:
        icon = SP.SP_MediaVolumeMuted if muted else SP.SP_MediaVolume
        set_glyph(self.mute_button, icon, self)
        self.mute_button.setToolTip(self.tr("Unmute (M)") if muted else self.tr("Mute (M)"))
        self.mute_button.setAccessibleName(self.tr("Unmute") if muted else self.tr("Mute"))

    def set_fullscreen(self, fullscreen: bool) -> None:
        icon = SP.SP_TitleBarNormalButton if fullscreen else SP.SP_TitleBarMaxButton
        set_glyph(self.fullscreen_button, icon, self)
        self.fullscreen_button.setToolTip(
            self.tr("Leave full screen (Esc)") if fullscreen else self.tr("Full screen (F)")
        )
        self.fullscreen_button.setAccessibleName(
            self.tr("Leave full screen") if fullscreen else self.tr("Full screen")
        )

    def set_duration(self, ms: int) -> None:
        self.seek_slider.setRange(0, max(int(ms), 0))
        self.total_label.setText(duration_text(max(int(ms), 0) / 1000))
        self._describe_position()

    def set_position(self, ms: int) -> None:
        if not self.seek_slider.isSliderDown():
            self.seek_slider.setValue(int(ms))
        self.elapsed_label.setText(format_time(ms))
        self._describe_position()

    def set_ended(self) -> None:
        """Played to its end (its last frame held): all of it elapsed, as the total reads."""
        if not self.seek_slider.isSliderDown():
            self.seek_slider.setValue(self.seek_slider.maximum())
        self.elapsed_label.setText(self.total_label.text())
        self._describe_position()

    def _describe_position(self) -> None:
        """A screen reader reads a slider's value as its number, here milliseconds ("65000"),
        and Qt's value interface cannot be replaced from Python: the description says the
        time as the labels show it. Set only when its text changes, once a second at most:
        each change is an event to the screen reader, and positions come every frame."""
        text = self.tr("%1 of %2").replace("%1", self.elapsed_label.text())
        text = text.replace("%2", self.total_label.text())
        if text != self.seek_slider.accessibleDescription():
            self.seek_slider.setAccessibleDescription(text)
