"""What a screen reader reads, in the window's language, where an outside tester (a screen-reader
user) heard too little: the player's position read as milliseconds ("65000"), grid tiles read
as the file name only (not photo or video, not a video's processing, not the trash's deletion
date), the upload queue's overall progress bar and the image preview's toolbar without a name.

Each test reads what Qt hands the screen reader: QAccessible's interface texts or the model's
accessible roles, on real widgets.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtGui import QAccessible  # noqa: E402
from PySide6.QtWidgets import QToolBar, QWidget  # noqa: E402

from core.library import Library  # noqa: E402
from core.maintenance import purge_time  # noqa: E402
from desktop_app.controllers.upload_controller import UploadController  # noqa: E402
from desktop_app.formatting import datetime_text, size_text  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from desktop_app.preview.image_viewer import ImageViewer  # noqa: E402
from desktop_app.preview.player_controls import PlayerControls  # noqa: E402
from desktop_app.views.upload_dock import UploadDock  # noqa: E402
from tests.conftest import make_settings  # noqa: E402
from tests.qt_helpers import shown_window, wait_for  # noqa: E402

Text = QAccessible.Text


@pytest.fixture
def screen_reader(qapp: Any) -> Iterator[None]:
    """Qt as with a screen reader listening: it then keeps its item interfaces in step with
    the views' models (without one, a cell read before a view's rows changed stays stale)."""
    was = QAccessible.isActive()
    QAccessible.setActive(True)
    yield
    QAccessible.setActive(was)


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


def _tiles(window: Any) -> dict[str, str]:
    """The grid's tiles as a screen reader gets them: name → description."""
    iface = QAccessible.queryAccessibleInterface(window.browser.grid)
    assert iface is not None
    cells = (iface.child(k) for k in range(iface.childCount()))
    return {cell.text(Text.Name): cell.text(Text.Description) for cell in cells if cell}


@pytest.mark.usefixtures("screen_reader")
def test_grid_tiles_say_their_kind_size_processing_and_deletion(
    qtbot: Any, tmp_path: Path, language: str
) -> None:
    """A tile read as its file name only: nothing told a photo from a video, nor the badge's
    processing state, nor, in the trash, when the file goes for good."""
    from tests.media import make_jpeg, make_mp4

    library = Library.open(make_settings(tmp_path / "data", workers=0))  # no badge but ours
    try:
        photo = library.uploads.ingest(make_jpeg(tmp_path / "photo.jpg", (64, 48)), "image")
        video = library.uploads.ingest(make_mp4(tmp_path / "clip.mp4", 2, (64, 48)), "video")
        dark = make_jpeg(tmp_path / "gone.jpg", (32, 24), color=(9, 9, 9))  # other bytes
        gone = library.uploads.ingest(dark, "image")
        library.trash(gone.id)
        words = {
            "en": ("Image", "Video", "processing running", "processing failed"),
            "es": ("Imagen", "Vídeo", "procesamiento en curso", "procesamiento fallido"),
        }[language]
        image, clip, running, failed = words
        with shown_window(qtbot, library) as window:
            wait_for(qtbot, lambda: len(_tiles(window)) == 2)
            tiles = _tiles(window)
            assert tiles["photo.jpg"] == f"{image}, 64 × 48, {size_text(photo.size)}"
            plain = f"{clip}, 0:02, {size_text(video.size)}"
            window.processing.set(video.id, {"state": "running", "progress": 0.4})
            assert _tiles(window)["clip.mp4"] == f"{plain}, {running}, 40 %"
            # as the badge and Qt's bars: not done while it runs (rounded, it read "100 %")
            window.processing.set(video.id, {"state": "running", "progress": 0.996})
            assert _tiles(window)["clip.mp4"] == f"{plain}, {running}, 99 %"
            window.processing.set(video.id, {"state": "failed"})
            assert _tiles(window)["clip.mp4"] == f"{plain}, {failed}"
            window.processing.set(video.id, {"state": "done"})
            assert _tiles(window)["clip.mp4"] == plain
            c = window.controller
            window.sidebar.setCurrentIndex(c.sidebar.index_of("trash"))
            wait_for(qtbot, lambda: c.filter.section == "trash" and c.grid.rowCount() == 1)
            trashed = c.grid.record_at(0)
            assert trashed is not None and trashed.deleted_at is not None
            when = datetime_text(
                purge_time(trashed.deleted_at, library.settings.trash_retention_days)
            )
            sentence = {"en": "Deleted for good on", "es": "Se eliminará definitivamente el"}
            assert _tiles(window)["gone.jpg"] == (
                f"{image}, 32 × 24, {size_text(gone.size)}. {sentence[language]} {when}"
            )
    finally:
        library.close()


@pytest.mark.usefixtures("screen_reader")
def test_the_sidebars_counts_headers_and_headings_have_names(
    qtbot: Any, library: Library, tmp_path: Path, language: str
) -> None:
    """Each count was its own item read as a bare number ("23"), the headings' and the hint's
    empty count cells were items without a name, and the columns were named "1" and "2"."""
    from tests.media import make_jpeg

    library.uploads.ingest(make_jpeg(tmp_path / "one.jpg", (32, 24)), "image")
    with shown_window(qtbot, library) as window:
        model = window.controller.sidebar
        wait_for(qtbot, lambda: model.count_text("all") == "1")
        iface = QAccessible.queryAccessibleInterface(window.sidebar)
        assert iface is not None
        cells = [iface.child(k) for k in range(iface.childCount())]
        roles: dict[QAccessible.Role, list[str]] = {
            QAccessible.Role.ColumnHeader: [],
            QAccessible.Role.TreeItem: [],
        }
        for cell in cells:
            roles.setdefault(cell.role(), []).append(cell.text(Text.Name).strip())
        headers, items = roles[QAccessible.Role.ColumnHeader], roles[QAccessible.Role.TreeItem]
        assert headers == {"en": ["Section", "Files"], "es": ["Sección", "Archivos"]}[language]
        assert items and all(items), items  # every cell has a name
        assert not [name for name in items if name.isdigit()], items
        one, none = {"en": ("1 file", "0 files"), "es": ("1 archivo", "0 archivos")}[language]
        assert items.count(one) == 2  # All files, Images
        assert none in items  # Videos, Public, Trash


@pytest.mark.usefixtures("screen_reader")
def test_a_trash_retention_saved_in_settings_dates_the_trash_anew(
    qtbot: Any, tmp_path: Path
) -> None:
    """Settings ▸ Keep trashed files applies at once: the Trash's tiles and the details panel
    read "Deleted for good on" from the library's setting, which the save changes."""
    from tests.media import make_jpeg

    library = Library.open(make_settings(tmp_path / "data", workers=0))
    try:
        gone = library.uploads.ingest(make_jpeg(tmp_path / "gone.jpg", (32, 24)), "image")
        library.trash(gone.id)
        with shown_window(qtbot, library) as window:
            c = window.controller
            window.sidebar.setCurrentIndex(c.sidebar.index_of("trash"))
            wait_for(qtbot, lambda: c.filter.section == "trash" and c.grid.rowCount() == 1)
            trashed = c.grid.record_at(0)
            assert trashed is not None and trashed.deleted_at is not None

            def said(days: int) -> bool:
                when = datetime_text(purge_time(trashed.deleted_at, days))
                return when in _tiles(window)["gone.jpg"]

            assert said(library.settings.trash_retention_days) and not said(3)
            window.open_settings()
            dialog = window.settings_dialog
            dialog.trash_days.setValue(3)
            with qtbot.waitSignal(window.settings_controller.saved, timeout=20000):
                dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
            assert library.settings.trash_retention_days == 3
            assert said(3)
    finally:
        library.close()
