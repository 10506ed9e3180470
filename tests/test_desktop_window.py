"""Main window on a real library: drops, refused files, edits, trash, live updates, Spanish."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl  # noqa: E402
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QPixmap  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from core.library import Library  # noqa: E402
from core.records import FileQuery  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from desktop_app.models.file_grid_model import FileGridListModel  # noqa: E402
from desktop_app.models.upload_queue_model import UploadState  # noqa: E402
from desktop_app.views.main_window import MainWindow  # noqa: E402
from tests.media_fixtures import MediaSet  # noqa: E402
from tests.qt_helpers import TIMEOUT, shown_window, wait_for


@pytest.fixture
def window(qtbot, library: Library) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    with shown_window(qtbot, library) as win:
        yield win


def drop(window: MainWindow, paths: list[Path]) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    enter = QDragEnterEvent(
        QPoint(300, 300),  # QPoint: PySide6 before 6.12 takes no QPointF here
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    event = QDropEvent(
        QPointF(300, 300),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, event)
    assert event.isAccepted()


def wait_uploads(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    model = window.uploads.model
    wait_for(
        qtbot,
        lambda: (
            model.rowCount() > 0
            and not window.uploads.busy
            and all(i.state.finished for i in model.items())
        ),
        timeout=TIMEOUT,
    )


def test_a_text_file_is_said_to_be_no_image_or_video_mediadesk_accepts(
    qtbot,
    window: MainWindow,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    """A dropped .txt read "This type of file (unknown content) is not supported", as if the
    file were damaged; the row says what it is not. The machine code stays the same."""
    notes = tmp_path / "notes.txt"
    notes.write_text("Relay order: Ana, Luis, Marta, Sofía\n")
    drop(window, [notes])
    wait_uploads(qtbot, window)
    (item,) = window.uploads.model.items()
    assert item.state == UploadState.FAILED
    assert item.reason == (
        "This file is not an image or video of a type MediaDesk accepts. This library accepts "
        "JPEG, PNG, WebP, GIF, MP4, AVI, MOV, WMV, WebM files."
    )
    assert item.error is not None
    assert (item.error["code"], item.error["reason"]) == ("unsupported_type", "unknown_content")


def ingest(library: Library, path: Path, kind: str = "image", **kw: object):  # type: ignore[no-untyped-def]
    return library.uploads.ingest(path, kind, **kw)  # type: ignore[arg-type]


def test_dropping_files_and_folders_ends_with_rows_and_thumbnails(
    qtbot,
    window: MainWindow,
    library: Library,
    media_dir: MediaSet,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    folder = tmp_path / "match day"
    folder.mkdir()
    shutil.copy(media_dir.webp, folder / "bench.webp")
    shutil.copy(media_dir.wav, folder / "anthem.wav")  # refused: not a photo or video
    drop(window, [media_dir.jpeg, media_dir.mp4, folder])
    wait_uploads(qtbot, window)
    states = {i.name: i for i in window.uploads.model.items()}
    assert {n: i.state for n, i in states.items()} == {
        "photo.jpg": UploadState.DONE,
        "clip.mp4": UploadState.DONE,
        "bench.webp": UploadState.DONE,
        "anthem.wav": UploadState.FAILED,
    }
    assert "not supported" in states["anthem.wav"].reason
    row = window.uploads.model.row_of(states["anthem.wav"].id)
    state = window.uploads.model.index(row, window.uploads.model.STATE)
    assert state.data().startswith("Failed: This type of file (WAV) is not supported.")
    assert "Unsupported file type" in state.data(Qt.ItemDataRole.ToolTipRole)  # the detail
    assert library.list_files(FileQuery()).total == 3
    grid = window.controller.grid
    wait_for(qtbot, lambda: grid.rowCount() == 3)

    def thumbnails_loaded() -> bool:
        pixmaps = [grid.index(r).data(FileGridListModel.ThumbnailRole) for r in range(3)]
        return all(isinstance(p, QPixmap) and not p.isNull() for p in pixmaps)

    wait_for(qtbot, thumbnails_loaded)
    video = grid.record(states["clip.mp4"].file_id)
    assert video is not None and video.file_type == "video"
    assert grid.index(grid.row_of(video.id)).data(FileGridListModel.DurationRole) == "0:02"
    wait_for(qtbot, lambda: window.controller.counts.get("all") == 3)


def test_drop_goes_to_the_selected_athlete_and_duplicates_are_reported(
    qtbot, window: MainWindow, library: Library, media_dir: MediaSet
) -> None:  # type: ignore[no-untyped-def]
    athlete = library.create_athlete("Ana Torres")
    sidebar = window.controller.sidebar
    wait_for(qtbot, lambda: sidebar.index_of(f"athlete:{athlete.id}").isValid())
    window.sidebar.setCurrentIndex(sidebar.index_of(f"athlete:{athlete.id}"))
    assert window.controller.upload_athlete_id == athlete.id
    drop(window, [media_dir.png])
    wait_uploads(qtbot, window)
    record = library.list_files(FileQuery()).items[0]
    assert record.athlete_id == athlete.id
    wait_for(qtbot, lambda: window.controller.grid.rowCount() == 1)
    drop(window, [media_dir.png])
    wait_for(qtbot, lambda: window.uploads.model.states().get("duplicate") == 1)


def test_metadata_edits_persist(
    qtbot,
    window: MainWindow,
    library: Library,  # type: ignore[no-untyped-def]
    media_dir: MediaSet,
) -> None:
    athlete = library.create_athlete("Luis Pérez")
    record = ingest(library, media_dir.jpeg)
    grid = window.controller.grid
    wait_for(qtbot, lambda: grid.rowCount() == 1)
    wait_for(qtbot, lambda: window.details.athlete.findData(athlete.id) >= 0)
    window.browser.select_row(0)
    details = window.details
    assert details.record is not None and details.record.id == record.id
    assert not details.save_button.isEnabled()
    details.filename.setText("final-sprint.jpg")
    details.filename.textEdited.emit("final-sprint.jpg")
    details.athlete.setCurrentIndex(details.athlete.findData(athlete.id))
    details.public.setChecked(True)
    details.description.setPlainText("100 m final")
    assert details.save_button.isEnabled()
    qtbot.mouseClick(details.save_button, Qt.MouseButton.LeftButton)

    def saved() -> bool:
        current = library.get_file(record.id)
        return current.original_filename == "final-sprint.jpg" and current.is_public

    wait_for(qtbot, saved)
    stored = library.get_file(record.id)
    assert stored.athlete_id == athlete.id and stored.description == "100 m final"
    wait_for(qtbot, lambda: grid.record_at(0).original_filename == "final-sprint.jpg")
    wait_for(qtbot, lambda: not details.save_button.isEnabled())
    details.description.setPlainText("changed my mind")
    details.revert()
    assert details.description.toPlainText() == "100 m final"


def test_trash_restore_and_delete(
    qtbot,
    window: MainWindow,
    library: Library,  # type: ignore[no-untyped-def]
    media_dir: MediaSet,
) -> None:
    record = ingest(library, media_dir.png)
    grid = window.controller.grid
    wait_for(qtbot, lambda: grid.rowCount() == 1)
    window.browser.select_row(0)
    window.commands.trash.trigger()
    wait_for(qtbot, lambda: library.get_file(record.id).is_trashed)
    wait_for(qtbot, lambda: grid.rowCount() == 0)
    window.sidebar.setCurrentIndex(window.controller.sidebar.index_of("trash"))
    wait_for(qtbot, lambda: grid.rowCount() == 1)
    window.browser.select_row(0)
    assert window.details.restore_button.isVisibleTo(window.details)
    window.commands.restore.trigger()
    wait_for(qtbot, lambda: not library.get_file(record.id).is_trashed)
    wait_for(qtbot, lambda: grid.rowCount() == 0)
    window.sidebar.setCurrentIndex(window.controller.sidebar.index_of("all"))
    wait_for(qtbot, lambda: grid.rowCount() == 1)
    window.browser.select_row(0)
    # the irreversible-action question (tests/test_desktop_confirm.py), answered "delete"
    from desktop_app.views import main_window as main_window_module

    original = main_window_module.confirm_irreversible
    main_window_module.confirm_irreversible = lambda *a, **k: True  # type: ignore[assignment]
    try:
        window.delete_permanently()
    finally:
        main_window_module.confirm_irreversible = original
    wait_for(qtbot, lambda: library.list_files(FileQuery()).total == 0)
    wait_for(qtbot, lambda: grid.rowCount() == 0)
    assert window.details.record is None


def test_upload_from_another_thread_appears_live(
    qtbot,
    window: MainWindow,
    library: Library,  # type: ignore[no-untyped-def]
    media_dir: MediaSet,
) -> None:
    grid = window.controller.grid
    worker = threading.Thread(target=ingest, args=(library, media_dir.gif))
    worker.start()
    wait_for(qtbot, lambda: grid.rowCount() == 1)
    worker.join()
    assert grid.record_at(0).original_filename == "anim.gif"
    wait_for(qtbot, lambda: window.controller.counts.get("image") == 1)


def test_search_and_sort(
    qtbot,
    window: MainWindow,
    library: Library,  # type: ignore[no-untyped-def]
    media_dir: MediaSet,
) -> None:
    ingest(library, media_dir.jpeg, description="Relay team at the podium")
    ingest(library, media_dir.mp4, "video")
    grid = window.controller.grid
    wait_for(qtbot, lambda: grid.rowCount() == 2)
    window.commands.find.trigger()
    window.browser.search.setText("podium")
    wait_for(qtbot, lambda: grid.rowCount() == 1 and not grid.loading)
    assert grid.record_at(0).original_filename == "photo.jpg"
    window.browser.search.clear()
    wait_for(qtbot, lambda: grid.rowCount() == 2)
    assert grid.record_at(0).file_type == "video"  # newest first: the video came second
    window.browser.sort.setCurrentIndex(window.browser.sort.findData("created_at"))
    wait_for(qtbot, lambda: grid.rowCount() == 2 and grid.record_at(0).file_type == "image")
    window.browser.sort.setCurrentIndex(window.browser.sort.findData("-duration"))
    wait_for(qtbot, lambda: grid.rowCount() == 2 and grid.record_at(0).file_type == "video")
    assert window.controller.sort == "-duration"


def test_a_renamed_file_moves_to_its_place_by_name_and_stays_current_in_sight(
    qtbot,
    window: MainWindow,
    library: Library,  # type: ignore[no-untyped-def]
) -> None:
    """Sorted by name, a renamed file kept its old place (the README: live rows go where the
    catalog would put them); it moves, still the current file and selected, and on screen."""
    from tests.test_desktop_models import add_rows

    add_rows(library, 30)
    grid = window.controller.grid
    window.controller.refresh()
    window.browser.sort.setCurrentIndex(window.browser.sort.findData("original_filename"))
    wait_for(qtbot, lambda: grid.rowCount() == 30 and grid.query.sort == "original_filename")
    window.browser.select_row(0)
    first = grid.record_at(0)
    assert first is not None
    library.update_file(first.id, {"original_filename": "zz.jpg"})  # a live event brings it
    wait_for(qtbot, lambda: grid.row_of(first.id) == 29)
    view = window.browser.grid
    assert view.currentIndex().row() == 29
    assert [i.row() for i in view.selectionModel().selectedIndexes()] == [29]
    assert view.viewport().rect().intersects(view.visualRect(view.currentIndex()))
    assert window.controller.current is not None
    assert window.controller.current.original_filename == "zz.jpg"


def test_the_current_file_stays_in_sight_when_the_window_narrows(
    qtbot,
    window: MainWindow,
    library: Library,  # type: ignore[no-untyped-def]
) -> None:
    """Narrowed from 1360 to 1024 px (as on a projector), the grid went from 3 columns to 2
    and kept its pixel offset: the selected file, on screen before, was scrolled out of sight."""
    from tests.test_desktop_models import add_rows

    add_rows(library, 40)
    grid, view = window.controller.grid, window.browser.grid
    window.controller.refresh()
    window.resize(1360, 860)
    wait_for(qtbot, lambda: grid.rowCount() == 40 and window.width() == 1360)

    def columns() -> int:
        return view.viewport().width() // view.gridSize().width()

    def in_sight() -> bool:
        return view.viewport().rect().intersects(view.visualRect(view.currentIndex()))

    wait_for(qtbot, lambda: view.horizontalOffset() == 0 and columns() >= 3)
    wanted = columns()
    window.browser.select_row(30)
    view.scrollTo(grid.index(30), view.ScrollHint.PositionAtBottom)
    qtbot.wait(150)  # laid out (a pending layout scrolled to it again)
    assert in_sight()
    window.resize(1024, 700)
    wait_for(qtbot, lambda: columns() < wanted)
    qtbot.wait(250)  # the grid lays its files out again 100 ms after a resize
    assert in_sight()
    # scrolled away right after a resize (before its late layout): left where it went; it
    # was brought back to the current file (End, then scrolling up at once, jumped back down)
    window.resize(1360, 860)
    wait_for(qtbot, lambda: columns() >= wanted)
    view.verticalScrollBar().setValue(0)
    qtbot.wait(250)
    assert view.verticalScrollBar().value() == 0 and not in_sight()


def test_a_view_switched_to_starts_at_its_top(
    qtbot,
    window: MainWindow,
    library: Library,  # type: ignore[no-untyped-def]
) -> None:
    """The Trash opened with 9 files scrolled a little down, its first row cut at the top:
    the grid kept the offset it had in the view before. The rows go at once, but Qt lays the
    view out again on a timer: a first page that came before it found the old offset and the
    old scroll range, and kept that offset when it fitted the new range."""
    from desktop_app.models.sidebar_model import SidebarFilter
    from tests.test_desktop_models import add_rows

    add_rows(library, 45)
    grid, view = window.controller.grid, window.browser.grid
    window.controller.refresh()
    wait_for(qtbot, lambda: grid.rowCount() == 45)
    for file_id in [grid.record_at(row).id for row in range(15)]:
        library.trash(file_id)
    wait_for(qtbot, lambda: grid.rowCount() == 30)
    bar = view.verticalScrollBar()
    bar.setValue(60)  # a little down: within the trash's own range
    window.controller.set_filter(SidebarFilter("trash"))
    assert bar.value() == 0  # before the first page comes, whenever Qt lays it out
    wait_for(qtbot, lambda: grid.rowCount() == 15 and not grid.loading)
    qtbot.wait(150)  # laid out
    assert bar.maximum() > 60  # more than fits: it could have stayed scrolled
    assert bar.value() == 0 and view.visualRect(grid.index(0)).top() >= 0


def test_a_selected_file_renamed_past_the_loaded_rows_stays_selected(
    qtbot,
    window: MainWindow,
    library: Library,  # type: ignore[no-untyped-def]
) -> None:
    """Renamed to sort past the loaded rows, the selected file left them and its selection went
    to the file in its place (Delete would trash that one). The grid loads the pages up to the
    renamed file and selects it again; no other file is selected meanwhile."""
    from tests.test_desktop_models import add_rows

    add_rows(library, 150)  # the grid loads 50 (tests.qt_helpers)
    grid = window.controller.grid
    window.controller.refresh()
    window.browser.sort.setCurrentIndex(window.browser.sort.findData("original_filename"))
    wait_for(qtbot, lambda: grid.rowCount() == 50 and grid.query.sort == "original_filename")
    window.browser.select_row(0)
    first = grid.record_at(0)
    assert first is not None
    wait_for(qtbot, lambda: window.controller.current is not None)
    shown: list[int | None] = []
    window.controller.currentChanged.connect(lambda r: shown.append(r.id if r else None))
    view = window.browser.grid
    selected: list[list[int]] = []
    view.selectionModel().selectionChanged.connect(
        lambda *_: selected.append(window.browser.selected_ids())
    )
    library.update_file(first.id, {"original_filename": "zz.jpg"})  # a live event brings it
    wait_for(qtbot, lambda: grid.row_of(first.id) == 149 and view.currentIndex().row() == 149)
    assert [i.row() for i in view.selectionModel().selectedIndexes()] == [149]
    current = window.controller.current
    assert current is not None and current.original_filename == "zz.jpg"
    assert all(ids in ([], [first.id]) for ids in selected), selected
    assert set(shown) <= {first.id, None}, shown
    wait_for(qtbot, lambda: view.viewport().rect().intersects(view.visualRect(view.currentIndex())))


def test_preview_opens_for_the_current_file(
    qtbot,
    window: MainWindow,
    library: Library,  # type: ignore[no-untyped-def]
    media_dir: MediaSet,
) -> None:
    record = ingest(library, media_dir.png)
    wait_for(qtbot, lambda: window.controller.grid.rowCount() == 1)
    window.browser.select_row(0)
    with qtbot.waitSignal(window.controller.previewReady, timeout=TIMEOUT) as blocker:
        window.commands.preview.trigger()
    shown, source = blocker.args
    assert shown.id == record.id and Path(source).is_file()
    dialog = window.preview_dialog
    assert dialog.isVisible()
    dialog.close()


def test_spanish_translation_loads(qtbot, library: Library) -> None:  # type: ignore[no-untyped-def]
    assert install_translations("es") == "es"
    try:
        win = MainWindow(library)
        qtbot.addWidget(win)
        menus = [a.text() for a in win.menuBar().actions()]
        assert "&Archivo" in menus
        assert win.controller.sidebar.index_of("all").data() == "Todos los archivos"
        assert win.details.save_button.text() == "Guardar"
        win.shutdown()
    finally:
        install_translations("en")


def test_shortcuts_work_from_the_grid(
    qtbot,
    window: MainWindow,
    library: Library,  # type: ignore[no-untyped-def]
    media_dir: MediaSet,
) -> None:
    record = ingest(library, media_dir.jpeg)
    grid = window.controller.grid
    wait_for(qtbot, lambda: grid.rowCount() == 1)
    window.activateWindow()
    wait_for(qtbot, lambda: QApplication.activeWindow() is window)
    window.browser.select_row(0)
    view = window.browser.grid
    view.setFocus()
    with qtbot.waitSignal(window.controller.previewReady, timeout=TIMEOUT):
        qtbot.keyClick(view, Qt.Key.Key_Space)
    window.preview_dialog.close()
    window.activateWindow()
    wait_for(qtbot, lambda: QApplication.activeWindow() is window)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_F2)
    assert window.details.filename.hasFocus()
    assert window.details.filename.selectedText() == "photo"
    qtbot.keyClick(view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.browser.search.hasFocus()
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    wait_for(qtbot, lambda: library.get_file(record.id).is_trashed)
    assert window.commands.import_files.shortcut().toString() == "Ctrl+I"


def test_export_copy_link_and_conflicts(
    qtbot,
    window: MainWindow,
    library: Library,  # type: ignore[no-untyped-def]
    media_dir: MediaSet,
    tmp_path: Path,
) -> None:
    record = ingest(library, media_dir.mp4, "video")
    wait_for(qtbot, lambda: window.controller.grid.rowCount() == 1)
    target = tmp_path / "out" / "export.mp4"
    target.parent.mkdir()
    with qtbot.waitSignal(window.controller.message, timeout=TIMEOUT):
        window.controller.export(record.id, target)
    assert target.read_bytes() == media_dir.mp4.read_bytes()
    # local storage with the server stopped: no link (it would be refused), the window asks to
    # start the server first (tests/test_desktop_link_needs_server.py); answered Cancel here
    window.ask_start_server_for_link = lambda _record: False  # type: ignore[method-assign]
    with qtbot.waitSignal(window.controller.linkNeedsServer, timeout=TIMEOUT) as needs:
        window.controller.copy_link(record.id)
    assert needs.args[0].id == record.id
    library.update_file(record.id, {"description": "edited elsewhere"})
    # a save over a newer version opens the conflict dialog (desktop_app/team.py), not an error
    window.controller.save_metadata(record.id, {"description": "mine"}, record.version)
    wait_for(qtbot, lambda: window.team.conflict_dialog is not None)
    dialog = window.team.conflict_dialog
    assert ("Description", "edited elsewhere", "mine") in dialog.rows()
    dialog.reject()  # Cancel: nothing saved, the edits stay
    assert library.get_file(record.id).description == "edited elsewhere"


def test_saved_limits_apply_at_once(qtbot, window: MainWindow, library: Library) -> None:  # type: ignore[no-untyped-def]
    values = {"max_file_size": 5 * 1024 * 1024, "presigned_url_expiry": 600, "server_port": 9234}
    with qtbot.waitSignal(window.settings_controller.saved, timeout=TIMEOUT):
        window.settings_controller.save(values)
    assert library.settings.max_file_size == 5 * 1024 * 1024
    assert library.settings.presigned_url_expiry == 600
    assert window.server.port == 9234 and window.server_panel.port.value() == 9234
    assert window.status.currentMessage() == "Settings saved."
