"""What a screen reader reads, in the window's language, where an outside tester (a screen-reader
user) heard too little: the player's position read as milliseconds ("65000"), grid tiles read
as the file name only (not photo or video, not a video's processing, not the trash's deletion
date), the upload queue's overall progress bar and the image preview's toolbar without a name.

Each test reads what Qt hands the screen reader: QAccessible's interface texts or the model's
accessible roles, on real widgets.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtGui import QAccessible  # noqa: E402
from PySide6.QtWidgets import QToolBar, QWidget  # noqa: E402

from core.library import Library  # noqa: E402
from desktop_app.controllers.upload_controller import UploadController  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from desktop_app.preview.image_viewer import ImageViewer  # noqa: E402
from desktop_app.preview.player_controls import PlayerControls  # noqa: E402
from desktop_app.views.upload_dock import UploadDock  # noqa: E402

Text = QAccessible.Text


@pytest.fixture(params=["en", "es"])
def language(request: pytest.FixtureRequest, qapp: Any) -> Iterator[str]:
    install_translations(request.param)
    yield request.param
    install_translations("en")


def _text(widget: QWidget, kind: QAccessible.Text) -> str:
    iface = QAccessible.queryAccessibleInterface(widget)
    assert iface is not None
    return iface.text(kind).strip()


def test_the_position_slider_reads_the_time_not_milliseconds(qtbot: Any, language: str) -> None:
    controls = PlayerControls()
    qtbot.addWidget(controls)
    controls.show()
    controls.set_duration(125_000)
    controls.set_position(65_000)
    slider = controls.seek_slider
    of = {"en": "of", "es": "de"}[language]
    assert _text(slider, Text.Name) == {"en": "Position", "es": "Posición"}[language]
    assert _text(slider, Text.Description) == f"1:05 {of} 2:05"
    controls.set_position(65_900)  # the same second: nothing new to say
    assert _text(slider, Text.Description) == f"1:05 {of} 2:05"
    controls.set_position(3_000)
    assert _text(slider, Text.Description) == f"0:03 {of} 2:05"
    controls.set_ended()
    assert _text(slider, Text.Description) == f"2:05 {of} 2:05"


def test_the_upload_queues_overall_progress_bar_has_a_name(
    qtbot: Any, library: Library, language: str
) -> None:
    controller = UploadController(library, max_parallel=1)
    dock = UploadDock(controller)
    qtbot.addWidget(dock)
    dock.show()
    try:
        assert (
            _text(dock.total_bar, Text.Name)
            == {
                "en": "Overall upload progress",
                "es": "Progreso total de las subidas",
            }[language]
        )
    finally:
        controller.shutdown()


def test_the_image_previews_toolbar_has_a_name(qtbot: Any, language: str) -> None:
    viewer = ImageViewer()
    qtbot.addWidget(viewer)
    viewer.show()
    toolbar = viewer.findChild(QToolBar)
    assert toolbar is not None
    assert (
        _text(toolbar, Text.Name) == {"en": "Image tools", "es": "Herramientas de imagen"}[language]
    )
