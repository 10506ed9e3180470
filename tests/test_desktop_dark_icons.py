"""The preview's icon buttons on a dark theme: the video player's play, frame steps, mute and
full screen, and the preview's Previous file / Next file, were the styles' standard icons,
near black whatever the palette: 1.41:1 on a dark Fusion window (#2d2d2d), full screen 1.13:1
(an outside tester's run, Xvfb + openbox). They are drawn in the palette's text colour, also
after a live switch of theme."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtGui import QColor, QIcon, QPalette  # noqa: E402
from PySide6.QtWidgets import QAbstractButton, QWidget  # noqa: E402

from core.library import Library  # noqa: E402
from tests.media_fixtures import MediaSet  # noqa: E402
from tests.qt_helpers import contrast, dark_colours, light_colours, themed, wait_for  # noqa: E402

DARK = dark_colours()  # the tester's dark Fusion palette
LIGHT = light_colours()


def _ink(icon: QIcon) -> QColor:
    """The mean colour of the icon's opaque pixels at 16 px, as drawn on a button."""
    image = icon.pixmap(16, 16).toImage()
    seen = [
        image.pixelColor(x, y)
        for x in range(image.width())
        for y in range(image.height())
        if image.pixelColor(x, y).alpha() > 200
    ]
    assert seen, "an icon with no opaque pixel"
    return QColor(
        sum(c.red() for c in seen) // len(seen),
        sum(c.green() for c in seen) // len(seen),
        sum(c.blue() for c in seen) // len(seen),
    )


@pytest.fixture
def palette(qapp: Any) -> Iterator[Any]:
    """Sets the application's palette to the given colours; puts the old one back after."""
    with themed() as use:
        yield use


def _icons(widget: QWidget) -> dict[str, QIcon]:
    found = {
        button.accessibleName() or button.toolTip(): button.icon()
        for button in widget.findChildren(QAbstractButton)
        if button.isVisible() and not button.icon().isNull()
    }
    assert found
    return found


def _readable(widget: QWidget, window: QColor) -> None:
    for name, icon in _icons(widget).items():
        ink = _ink(icon)
        ratio = contrast(ink, window)
        # WCAG 2.1 non-text contrast (1.4.11): 3:1
        assert ratio >= 3.0, (name, ink.name(), window.name(), round(ratio, 2))


@pytest.mark.parametrize("start", ["dark", "light"])
def test_the_players_icons_read_on_a_dark_and_a_light_theme(
    qtbot: Any, library: Library, media_dir: MediaSet, palette: Any, start: str
) -> None:
    from desktop_app.preview.dialog import PreviewDialog
    from desktop_app.preview.video_player import VideoPlayer

    first, then = (DARK, LIGHT) if start == "dark" else (LIGHT, DARK)
    palette(first)
    record = library.uploads.ingest(media_dir.mp4, "video")
    dialog = PreviewDialog(record, str(library.local_path(record)), audio=False, autoplay=False)
    qtbot.addWidget(dialog)
    dialog.set_navigable(True)  # Previous file / Next file shown
    dialog.show()
    qtbot.waitExposed(dialog)
    try:
        wait_for(qtbot, lambda: len(_icons(dialog)) >= 7)
        _readable(dialog, first[QPalette.ColorRole.Window])
        player = dialog.viewer
        assert isinstance(player, VideoPlayer)
        player.controls.set_playing(True)  # Pause
        player.controls.set_muted(True)  # Unmute
        player.controls.set_fullscreen(True)  # Leave full screen
        _readable(dialog, first[QPalette.ColorRole.Window])
        palette(then)  # a live theme switch: the widgets hear of it in turn
        wait_for(qtbot, lambda: _readable(dialog, then[QPalette.ColorRole.Window]))
    finally:
        dialog.close()
