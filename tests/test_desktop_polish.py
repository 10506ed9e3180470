"""Rough edges of the desktop app: upload queue stages and failures, drops on athletes, player
keys, keyboard, counts that agree, server panel examples, Spanish and polish."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import (  # noqa: E402
    QItemSelectionModel,
    QLocale,
    QMimeData,
    QPoint,
    QPointF,
    Qt,
    QUrl,
)
from PySide6.QtGui import (  # noqa: E402
    QAction,
    QColor,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QGuiApplication,
    QPalette,
)
from PySide6.QtWidgets import QApplication  # noqa: E402

from core.library import Library  # noqa: E402
from desktop_app.controllers.upload_controller import UploadController, expand_paths  # noqa: E402
from desktop_app.formatting import eta_text, size_text, speed_text  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from desktop_app.models.upload_queue_model import UploadQueueModel, UploadState  # noqa: E402
from desktop_app.views.main_window import MainWindow  # noqa: E402
from desktop_app.views.upload_dock import UploadDock  # noqa: E402
from tests.media_fixtures import MediaSet  # noqa: E402
from tests.qt_helpers import TIMEOUT, shown_window, wait_for


# ---- upload queue ------------------------------------------------------------------------------
def test_queue_reports_each_stage_honestly(qapp) -> None:  # type: ignore[no-untyped-def]
    model = UploadQueueModel()
    a = model.add(Path("/tmp/a.mp4"), 1000)
    b = model.add(Path("/tmp/b.jpg"), 1000)
    index = model.index(model.row_of(a.id), model.PROGRESS)

    def row(column: int) -> str:
        return str(model.index(model.row_of(a.id), column).data())

    model.set_progress(a.id, "reading", 0, 1000, now=10.0)
    model.set_progress(a.id, "reading", 400, 1000, now=10.5)
    assert index.data(model.ProgressRole) == 40
    assert index.data(model.ProgressTextRole) == "Hashing 40 %"
    assert row(model.STATE) == "Hashing"
    assert row(model.ETA) == ""  # no guess from the hashing speed
    model.set_progress(a.id, "reading", 1000, 1000, now=10.8)
    model.set_progress(a.id, "validating", 0, 1000, now=11.0)
    # Checking has no measure: a busy bar that says so, no speed, no "< 1 s".
    assert index.data(model.ProgressRole) == -1
    assert index.data(model.ProgressTextRole) == "Checking the file…"
    assert row(model.SPEED) == "" and row(model.ETA) == ""
    assert model.item(a.id).fraction == pytest.approx(0.5)
    model.set_progress(a.id, "thumbnail", 0, 0, now=11.5)
    assert index.data(model.ProgressTextRole) == "Making the thumbnail…"
    model.set_progress(a.id, "uploading", 0, 1000, now=12.0)
    model.set_progress(a.id, "uploading", 250, 1000, now=12.5)
    item = model.item(a.id)
    assert item.state == UploadState.UPLOADING
    assert index.data(model.ProgressRole) == 25
    assert item.fraction == pytest.approx(0.625)
    assert item.speed == pytest.approx(500)
    assert item.eta == pytest.approx(1.5)  # 750 bytes left at 500 B/s
    assert row(model.ETA) == "0:02"
    # Only rows a worker is on count as running; b is queued.
    fraction, running = model.total_progress()
    assert running == 1 and fraction == pytest.approx(0.3125)
    model.set_state(a.id, UploadState.DONE, file_id=3)
    model.set_state(b.id, UploadState.FAILED, "Broken file")
    fraction, running = model.total_progress()
    # Every row has ended: 100 %, the failure is counted beside it (not as work left)
    assert running == 0 and fraction == 1.0
    # A tiny file still to do next to a big one: short of 100 % until it ends.
    big = model.add(Path("/tmp/big.mp4"), 10**9)
    tiny = model.add(Path("/tmp/tiny.jpg"), 1000)
    totals: list[int] = []
    model.totalProgressChanged.connect(lambda per_mille, _running: totals.append(per_mille))
    model.set_state(big.id, UploadState.DONE, file_id=4)
    assert model.total_progress()[0] > 0.9999 and totals[-1] == 999
    model.set_state(tiny.id, UploadState.FAILED, "Broken file")
    assert totals[-1] == 1000


def test_sizes_and_speeds_use_one_unit_system(qapp) -> None:  # type: ignore[no-untyped-def]
    assert size_text(1536 * 1024) == "1.5 MiB"
    assert size_text(3 * 1024**3) == "3.0 GiB"
    assert speed_text(2 * 1024 * 1024) == "2.0 MiB/s"
    assert eta_text(None) == ""


def test_folder_imports_in_natural_order(tmp_path: Path) -> None:
    for name in ("game_10.jpg", "game_5.jpg", "Game_7.jpg", "game_1.jpg"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "round 10").mkdir()
    (tmp_path / "round 9").mkdir()
    (tmp_path / "round 10" / "a.jpg").write_bytes(b"x")
    (tmp_path / "round 9" / "a.jpg").write_bytes(b"x")
    names = [str(p.relative_to(tmp_path)) for p, _ in expand_paths([tmp_path])]
    assert names == [
        "game_1.jpg",
        "game_5.jpg",
        "Game_7.jpg",
        "game_10.jpg",
        "round 9/a.jpg",
        "round 10/a.jpg",
    ]


@pytest.fixture
def dock(qtbot, library: Library) -> Iterator[UploadDock]:  # type: ignore[no-untyped-def]
    controller = UploadController(library, max_parallel=2)
    widget = UploadDock(controller)
    qtbot.addWidget(widget)
    widget.resize(900, 300)
    widget.show()
    yield widget
    controller.shutdown()


def _wait_idle(qtbot, dock: UploadDock, rows: int) -> None:  # type: ignore[no-untyped-def]
    model = dock.model
    wait_for(
        qtbot, lambda: model.rowCount() == rows and all(i.state.finished for i in model.items())
    )


def test_failed_rows_stay_visible_retryable_and_explained(
    qtbot,
    dock: UploadDock,
    media_dir: MediaSet,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    folder = tmp_path / "match"
    folder.mkdir()
    shutil.copy(media_dir.jpeg, folder / "game_10.jpg")
    shutil.copy(media_dir.png, folder / "game_5.png")
    shutil.copy(media_dir.wav, folder / "anthem.wav")  # refused
    dock.controller.add_paths([folder])
    _wait_idle(qtbot, dock, 3)
    model = dock.model
    assert [i.name for i in model.items()] == ["anthem.wav", "game_5.png", "game_10.jpg"]
    failed = next(i for i in model.items() if i.state == UploadState.FAILED)
    # Every row has ended: the footer reads 100 % and says a row failed; the failed row's bar
    # is empty (not the half it had hashed).
    assert dock.total_bar.value() == 1000
    assert dock.total_bar.text() == "Total 100 % · 1 failed"
    row = model.row_of(failed.id)
    assert model.index(row, model.PROGRESS).data(UploadQueueModel.ProgressRole) == 0
    assert "Running: 0" in dock.total_label.text()
    # Retry works without choosing a row first.
    assert not dock.table.selectionModel().hasSelection()
    assert dock.retry_button.isEnabled() and dock.retry_button.text() == "Retry failed"
    # The failed filter shows only the failure.
    dock.set_filter("failed")
    assert dock.proxy.rowCount() == 1
    assert dock.source_index(0).data(UploadQueueModel.ItemIdRole) == failed.id
    dock.set_filter("all")
    # The context menu of the failed row.
    menu = dock.build_context_menu(dock.view_index(failed.id))
    assert menu is not None
    actions = {a.text(): a for a in menu.actions()}
    assert set(actions) == {
        "Re&try",
        "Re&move from the queue",
        "&Show in the library",
        "&Copy the error",
    }
    assert actions["Re&try"].isEnabled() and not actions["&Show in the library"].isEnabled()
    actions["&Copy the error"].trigger()
    copied = QGuiApplication.clipboard().text()
    assert "anthem.wav" in copied and failed.reason in copied
    done = next(i for i in model.items() if i.name == "game_5.png")
    menu = dock.build_context_menu(dock.view_index(done.id))
    assert menu is not None
    show = next(a for a in menu.actions() if a.text() == "&Show in the library")
    with qtbot.waitSignal(dock.showInGridRequested) as shown:
        show.trigger()
    assert shown.args == [done.file_id]
    # Clear finished keeps the failure; Retry puts it back in the queue (it fails again).
    dock.clear_button.click()
    assert [i.name for i in model.items()] == ["anthem.wav"]
    dock.table.clearSelection()
    dock.retry_button.click()
    assert model.items()[0].state != UploadState.FAILED or model.items()[0].reason == ""
    _wait_idle(qtbot, dock, 1)
    assert model.items()[0].state == UploadState.FAILED
    menu = dock.build_context_menu(dock.view_index(model.items()[0].id))
    assert menu is not None
    next(a for a in menu.actions() if a.text() == "Re&move from the queue").trigger()
    assert model.rowCount() == 0


def test_the_rows_menu_acts_on_every_selected_row(qtbot, dock: UploadDock) -> None:  # type: ignore[no-untyped-def]
    """Three failed rows selected, Shift+F10 ▸ Remove from the queue took one of them; the
    others stayed, still selected (failed rows outlive Clear finished and restarts, so they
    went one by one). Retry and Remove act on the selection the menu's row is part of."""
    model = dock.model
    items = [model.add(Path(f"/nowhere/bad_{n}.jpg"), 100) for n in range(4)]
    for item in items:
        model.set_state(item.id, UploadState.FAILED, "Broken")
    table = dock.table
    for item in items[:3]:
        table.selectionModel().select(
            dock.view_index(item.id),
            QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
        )

    def menu_action(text: str) -> QAction:
        menu = dock.build_context_menu(dock.view_index(items[1].id))
        assert menu is not None
        return next(a for a in menu.actions() if a.text() == text)

    menu_action("Re&try").trigger()  # back in the queue at once (they fail again: no files)
    assert [i.state == UploadState.FAILED for i in model.items()] == [False, False, False, True]
    _wait_idle(qtbot, dock, 4)
    for item in items[:3]:
        table.selectionModel().select(
            dock.view_index(item.id),
            QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows,
        )
    menu_action("Re&move from the queue").trigger()
    assert [i.id for i in model.items()] == [items[3].id]


def test_a_failure_scrolls_into_view(qtbot, dock: UploadDock) -> None:  # type: ignore[no-untyped-def]
    model = dock.model
    dock.resize(700, 160)
    items = [model.add(Path(f"/tmp/f{i}.jpg"), 100) for i in range(60)]
    qtbot.wait(50)
    last = items[-1]
    view = dock.view_index(last.id)
    assert not dock.table.viewport().rect().intersects(dock.table.visualRect(view))
    model.set_state(last.id, UploadState.FAILED, "Broken")
    rect = dock.table.visualRect(dock.view_index(last.id))
    assert dock.table.viewport().rect().contains(rect)


def test_sizes_in_spanish_keep_the_binary_units(qapp) -> None:  # type: ignore[no-untyped-def]
    QLocale.setDefault(QLocale("es"))
    try:
        assert size_text(1536 * 1024) == "1,5 MiB"
    finally:
        QLocale.setDefault(QLocale("en"))


# ---- main window helpers ------------------------------------------------------------------------
@pytest.fixture
def window(qtbot, library: Library) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    install_translations("en")  # as the app does: the plural forms of the English texts
    with shown_window(qtbot, library) as win:
        yield win


_KEEP: list[QMimeData] = []


def drag_event(kind: type, pos: QPoint, paths: list[Path]):  # type: ignore[no-untyped-def]
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    _KEEP.append(mime)  # the event does not own its mime data
    args = (
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    try:
        return kind(QPointF(pos), *args)
    except TypeError:  # PySide6 before 6.12 takes a QPoint for drag enter/move events
        return kind(pos, *args)


def sidebar_point(window: MainWindow, key: str) -> QPoint:
    index = window.controller.sidebar.index_of(key)
    rect = window.sidebar.visualRect(index)
    return window.sidebar.viewport().mapTo(window, rect.center())


# ---- drops ------------------------------------------------------------------------------------
def test_drop_onto_an_athlete_files_there_with_overlay_and_highlight(
    qtbot,
    window: MainWindow,
    library: Library,
    media_dir: MediaSet,  # type: ignore[no-untyped-def]
) -> None:
    ana = library.create_athlete("Ana Torres")
    library.create_athlete("Luis Pérez")
    key = f"athlete:{ana.id}"
    wait_for(qtbot, lambda: window.controller.sidebar.index_of(key).isValid())
    assert window.controller.filter.section == "all"  # nobody selected in the sidebar
    # Dragging over the grid: the overlay says the files are not filed under anybody.
    middle = window.browser.mapTo(window, window.browser.rect().center())
    enter = drag_event(QDragEnterEvent, middle, [media_dir.png])
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    overlay = window.drop_overlay
    assert overlay.isVisible() and overlay.geometry() == window.rect()
    wait_for(qtbot, lambda: overlay.title == "Drop to add 1 file to the library")
    assert "Not filed under an athlete" in overlay.detail and overlay.target.isNull()
    # Over Ana's row: the row is highlighted and named.
    point = sidebar_point(window, key)
    move = drag_event(QDragMoveEvent, point, [media_dir.png])
    QApplication.sendEvent(window, move)
    assert move.isAccepted()
    assert window.drop_athlete_id == ana.id
    assert overlay.detail == "Filed under Ana Torres"
    assert overlay.target.contains(point) and not overlay.target.isNull()
    drop = drag_event(QDropEvent, point, [media_dir.png])
    QApplication.sendEvent(window, drop)
    assert drop.isAccepted() and not overlay.isVisible()
    wait_for(qtbot, lambda: library.counts()["all"] == 1)
    record = library.list_files().items[0]
    assert record.athlete_id == ana.id
    # Leaving the window hides the overlay.
    QApplication.sendEvent(window, drag_event(QDragEnterEvent, middle, [media_dir.jpeg]))
    assert overlay.isVisible()
    QApplication.sendEvent(window, QDragLeaveEvent())
    assert not overlay.isVisible()


def test_show_in_the_library_selects_an_uploaded_file(
    qtbot,
    window: MainWindow,
    library: Library,
    media_dir: MediaSet,  # type: ignore[no-untyped-def]
) -> None:
    window.add_uploads([media_dir.jpeg])
    wait_for(qtbot, lambda: any(i.file_id for i in window.uploads.model.items()))
    item = window.uploads.model.items()[0]
    # Somewhere it is not shown: the videos section.
    window.sidebar.setCurrentIndex(window.controller.sidebar.index_of("video"))
    wait_for(qtbot, lambda: window.controller.filter.section == "video")
    window.upload_dock.showInGridRequested.emit(item.file_id)
    wait_for(
        qtbot,
        lambda: (
            window.controller.current is not None and window.controller.current.id == item.file_id
        ),
    )
    assert window.browser.selected_ids() == [item.file_id]
    assert window.sidebar.currentIndex() == window.controller.sidebar.index_of("all")


# ---- player ---------------------------------------------------------------------------------
def test_player_click_to_seek_arrows_and_jkl(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtMultimedia import QMediaPlayer

    from desktop_app.preview.video_player import VideoPlayer
    from tests.media import make_mp4

    state = QMediaPlayer.PlaybackState
    clip = make_mp4(tmp_path / "long.mp4", seconds=20, size=(160, 120), fps=5, audio=False)
    player = VideoPlayer(audio=False)
    qtbot.addWidget(player)
    player.resize(640, 360)
    player.show()
    player.load(str(clip))
    wait_for(qtbot, lambda: player.player.duration() > 19000)
    slider = player.controls.seek_slider
    wait_for(qtbot, slider.isEnabled)
    # A click three quarters along the bar goes there, not one page step.
    x = next(x for x in range(slider.width()) if slider.value_at(x) >= 15000)
    qtbot.mouseClick(slider, Qt.MouseButton.LeftButton, pos=QPoint(x, slider.height() // 2))
    wait_for(qtbot, lambda: abs(player.player.position() - 15000) < 600)
    player.activateWindow()
    player.setFocus()
    wait_for(qtbot, player.isActiveWindow)
    qtbot.keyClick(player, Qt.Key.Key_Left)
    wait_for(qtbot, lambda: abs(player.player.position() - 10000) < 600)
    qtbot.keyClick(player, Qt.Key.Key_Right)
    wait_for(qtbot, lambda: abs(player.player.position() - 15000) < 600)
    qtbot.keyClick(player, Qt.Key.Key_J)  # paused: five seconds back
    wait_for(qtbot, lambda: abs(player.player.position() - 10000) < 600)
    assert player.player.playbackState() == state.PausedState
    qtbot.keyClick(player, Qt.Key.Key_L)
    wait_for(qtbot, lambda: player.player.playbackState() == state.PlayingState)
    assert player.player.playbackRate() == 1.0
    qtbot.keyClick(player, Qt.Key.Key_L)
    assert player.player.playbackRate() == 2.0
    qtbot.keyClick(player, Qt.Key.Key_J)  # slower again
    assert player.player.playbackRate() == 1.0
    qtbot.keyClick(player, Qt.Key.Key_K)
    wait_for(qtbot, lambda: player.player.playbackState() == state.PausedState)
    player.release()


# ---- counts ---------------------------------------------------------------------------------
def _first_number(text: str) -> int:
    return int(text.split()[0].replace(",", ""))


def test_counts_agree_during_a_live_import(
    qtbot,
    window: MainWindow,
    library: Library,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    from tests.media import make_png

    seen: list[tuple[int, int, int]] = []

    def observe(*_: object) -> None:
        if not window.controller.counts:
            return
        seen.append(
            (
                _first_number(window.browser.total.text()),
                int(window.controller.sidebar.count_text("all") or 0),
                _first_number(window.status.counts.text()),
            )
        )

    # Connected after the views: each observation sees the labels as the user does.
    window.controller.grid.totalChanged.connect(observe)
    window.controller.countsChanged.connect(observe)
    paths = [make_png(tmp_path / f"p{i}.png", (64, 48), color=(i * 8, 20, 90)) for i in range(24)]
    worker = threading.Thread(target=lambda: [library.uploads.ingest(p, "image") for p in paths])
    worker.start()
    wait_for(qtbot, lambda: not worker.is_alive(), timeout=TIMEOUT * 2)
    wait_for(qtbot, lambda: window.controller.counts.get("all") == 24)
    wait_for(qtbot, lambda: window.controller.grid.rowCount() == 24)
    observe()
    assert len(seen) > 2
    disagreeing = [s for s in seen if len(set(s)) != 1]
    assert not disagreeing, disagreeing[:5]
    assert seen[-1] == (24, 24, 24)


# ---- keyboard -------------------------------------------------------------------------------
def _focus(qtbot, window: MainWindow, widget) -> None:  # type: ignore[no-untyped-def]
    window.activateWindow()
    wait_for(qtbot, lambda: QApplication.activeWindow() is window)
    widget.setFocus()


def test_enter_and_ctrl_s_save_and_escape_clears_the_search(
    qtbot,
    window: MainWindow,
    library: Library,
    media_dir: MediaSet,  # type: ignore[no-untyped-def]
) -> None:
    record = library.uploads.ingest(media_dir.jpeg, "image")
    wait_for(qtbot, lambda: window.controller.grid.rowCount() == 1)
    window.browser.select_row(0)
    wait_for(qtbot, lambda: window.details.record is not None)
    name = window.details.filename
    _focus(qtbot, window, name)
    name.selectAll()
    qtbot.keyClicks(name, "finish.jpg")
    assert window.details.dirty
    qtbot.keyClick(name, Qt.Key.Key_Return)
    wait_for(qtbot, lambda: library.get_file(record.id).original_filename == "finish.jpg")
    wait_for(qtbot, lambda: not window.details.dirty)
    text = window.details.description
    _focus(qtbot, window, text)
    qtbot.keyClicks(text, "Heat 2")
    qtbot.keyClick(text, Qt.Key.Key_Return)  # a new line, not a save
    assert window.details.dirty and "\n" in text.toPlainText()
    _focus(qtbot, window, window.browser.grid)
    qtbot.keyClick(window.browser.grid, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    wait_for(qtbot, lambda: library.get_file(record.id).description.startswith("Heat 2"))
    search = window.browser.search
    _focus(qtbot, window, search)
    qtbot.keyClicks(search, "nothing")
    qtbot.keyClick(search, Qt.Key.Key_Return)
    wait_for(qtbot, lambda: window.controller.grid.rowCount() == 0)
    qtbot.keyClick(search, Qt.Key.Key_Escape)
    assert search.text() == "" and window.controller.search == ""
    wait_for(qtbot, lambda: window.controller.grid.rowCount() == 1)


def test_end_goes_to_the_true_end_of_the_library(
    qtbot,
    window: MainWindow,
    library: Library,  # type: ignore[no-untyped-def]
) -> None:
    from tests.test_desktop_models import add_rows

    add_rows(library, 230)  # page size 50: the last row is four pages away
    window.controller.refresh()
    grid = window.controller.grid
    wait_for(qtbot, lambda: grid.total == 230 and not grid.loading)
    assert grid.rowCount() < 230
    _focus(qtbot, window, window.browser.grid)
    window.browser.select_row(0)
    qtbot.keyClick(window.browser.grid, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    wait_for(
        qtbot,
        lambda: (
            window.controller.current is not None
            and window.controller.current.original_filename == "file-00000.jpg"
        ),
    )
    assert grid.rowCount() == 230
    assert window.browser.grid.currentIndex().row() == 229
    qtbot.keyClick(window.browser.grid, Qt.Key.Key_Home)
    wait_for(qtbot, lambda: window.browser.grid.currentIndex().row() == 0)


def test_details_never_show_a_file_that_is_not_selected(
    qtbot,
    window: MainWindow,
    library: Library,  # type: ignore[no-untyped-def]
) -> None:
    from PySide6.QtCore import QItemSelectionModel

    from tests.test_desktop_models import add_rows

    add_rows(library, 3)
    window.controller.refresh()
    grid = window.controller.grid
    wait_for(qtbot, lambda: grid.rowCount() == 3)
    view = window.browser.grid
    flags = QItemSelectionModel.SelectionFlag
    window.browser.select_row(0)
    wait_for(qtbot, lambda: window.details.record is not None)
    first = grid.record_at(0)
    assert first is not None and window.details.record.id == first.id
    # Ctrl+click on the shown file deselects it: the panel empties.
    view.selectionModel().select(grid.index(0), flags.Deselect)
    wait_for(qtbot, lambda: window.details.record is None)
    # Two selected, the shown one deselected: the other one is shown.
    view.selectionModel().select(grid.index(1), flags.Select)
    view.selectionModel().setCurrentIndex(grid.index(2), flags.Select)
    wait_for(
        qtbot,
        lambda: (
            window.details.record is not None and window.details.record.id == grid.record_at(2).id
        ),
    )
    view.selectionModel().select(grid.index(2), flags.Deselect)
    wait_for(
        qtbot,
        lambda: (
            window.details.record is not None and window.details.record.id == grid.record_at(1).id
        ),
    )
    # The focus moving without selecting (Ctrl+arrow, or Qt giving the grid its focus after
    # a dialog closes): the panel stays on the selected file.
    view.selectionModel().setCurrentIndex(grid.index(0), flags.NoUpdate)
    qtbot.wait(50)
    assert window.details.record is not None and window.details.record.id == grid.record_at(1).id
    assert window.controller.current is not None
    assert window.controller.current.id == grid.record_at(1).id


# ---- server panel ---------------------------------------------------------------------------
def test_server_examples_name_real_files_and_copy_the_token_only_when_asked(
    qtbot,
    window: MainWindow,
    library: Library,
    media_dir: MediaSet,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    import shlex
    import subprocess

    panel = window.server_panel
    # commands only for a running server (tests/test_desktop_link_needs_server.py)
    with qtbot.waitSignal(window.server.stateChanged, timeout=TIMEOUT):
        window.server.start("127.0.0.1", 0)
    wait_for(qtbot, lambda: window.server.running)
    wait_for(qtbot, lambda: "No files yet" in panel.examples.toPlainText())
    assert "/stream/" not in panel.examples.toPlainText()
    video = library.uploads.ingest(media_dir.mp4, "video")
    image = library.uploads.ingest(media_dir.png, "image")
    assert (video.id, image.id) != (1, 1)
    text = lambda: panel.examples.toPlainText()  # noqa: E731
    wait_for(
        qtbot,
        lambda: f"/stream/{video.id}/video" in text() and f"/stream/{image.id}/image" in text(),
    )
    assert f"/stream/{image.id}/video" not in text() and f"/stream/{video.id}/image" not in text()
    # Without a token made in this session, nothing secret can be copied.
    assert not panel.token_action.isEnabled()
    panel.copy_button.click()
    note = panel.copied.text()
    copied = QGuiApplication.clipboard().text()
    assert "$TOKEN" in copied and "without a token" in note and "UPLOAD_TOKEN=" in note
    assert note.startswith(f"Copied {copied.count('curl ')} commands")
    with qtbot.waitSignal(window.server.tokenCreated, timeout=TIMEOUT) as made:
        window.server.create_token("Phone", "read")
    secret = made.args[1]
    QApplication.activeModalWidget() and QApplication.activeModalWidget().close()
    assert panel.token_action.isEnabled() and secret not in text()
    panel.copy_button.click()  # the plain copy: still no secret
    assert secret not in QGuiApplication.clipboard().text()
    panel.token_action.trigger()
    note = panel.copied.text()
    copied = QGuiApplication.clipboard().text()
    assert secret in copied and "$TOKEN" not in copied and "“Phone”" in note
    assert secret not in text()  # the panel never shows it
    # The video command, run as copied, downloads that very video.
    line = next(x for x in copied.splitlines() if f"/stream/{video.id}/video" in x)
    subprocess.run([*shlex.split(line), "-s", "-f"], cwd=tmp_path, check=True, timeout=30)
    assert (tmp_path / video.original_filename).read_bytes() == media_dir.mp4.read_bytes()
    # A read token (Create token…'s first scope) cannot upload: the upload command was copied
    # without it (as it was, it answered 403), and the note says what it needs.
    upload = next(x for x in copied.splitlines() if "/files/upload/direct" in x)
    assert secret not in upload and 'Bearer $UPLOAD_TOKEN"' in upload
    assert "“Phone” cannot upload" in note and "$UPLOAD_TOKEN" in note
    # Made with the upload scope, the token is in every command, and the upload runs as copied.
    with qtbot.waitSignal(window.server.tokenCreated, timeout=TIMEOUT) as made:
        window.server.create_token("Scanner", "upload")
    QApplication.activeModalWidget() and QApplication.activeModalWidget().close()
    panel.token_action.trigger()
    copied = QGuiApplication.clipboard().text()
    assert "TOKEN" not in copied and "cannot upload" not in panel.copied.text()
    shutil.copy(media_dir.jpeg, tmp_path / "photo.jpg")
    upload = next(x for x in copied.splitlines() if "/files/upload/direct" in x)
    run = [*shlex.split(upload), "-s", "-f", "-o", "/dev/null"]
    subprocess.run(run, cwd=tmp_path, check=True, timeout=30)


# ---- Spanish ----------------------------------------------------------------------------------
@pytest.fixture
def spanish(qapp) -> Iterator[None]:  # type: ignore[no-untyped-def]
    install_translations("es")
    yield
    install_translations("en")


def test_qt_file_dialog_is_all_spanish(spanish) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QFileDialog, QLabel

    dialog = QFileDialog()
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog)
    labels = {label.text() for label in dialog.findChildren(QLabel)}
    assert {"&Buscar en:", "Archivos de &tipo:", "&Nombre de fichero:"} <= labels
    assert not any("Look in" in t or "Files of" in t for t in labels)
    dialog.deleteLater()


def test_qt_file_dialog_shows_sizes_and_types_whole(
    qtbot,
    spanish,
    media_dir: MediaSet,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    """Qt sizes its Size and Type columns for "128.88 GB" and "mp3Folder": in Spanish the
    import dialog read "16....KiB" and "im...EG" (imagen JPEG)."""
    from PySide6.QtWidgets import QFileDialog, QTreeView

    from desktop_app.views.file_dialogs import _on_focus, fit_file_dialog_columns

    more = tmp_path / "more"
    more.mkdir()
    for folder in (tmp_path, more):
        shutil.copy(media_dir.jpeg, folder / "photo red.jpg")
        shutil.copy(media_dir.mp4, folder / "clip one.mp4")
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    fit_file_dialog_columns(app)  # as create_application does
    try:
        dialog = QFileDialog(None, "Importar", str(tmp_path))
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog)
        dialog.setViewMode(QFileDialog.ViewMode.Detail)
        qtbot.addWidget(dialog)
        dialog.show()
        dialog.activateWindow()
        tree = dialog.findChild(QTreeView, "treeView")
        assert tree is not None
        wait_for(qtbot, lambda: tree.model().rowCount(tree.rootIndex()) == 3)
        # Qt's own widths (it keeps the last ones in the user's QtProject.conf, so set here)
        for column in (1, 2):
            tree.header().resizeSection(column, 30)
        dialog.setDirectory(str(more))
        wait_for(qtbot, lambda: tree.model().rowCount(tree.rootIndex()) == 2)
        for column in (1, 2):  # Size, Type
            wait_for(
                qtbot,
                lambda: tree.columnWidth(column) >= tree.sizeHintForColumn(column) > 0,  # noqa: B023
            )
        dialog.reject()
    finally:
        app.focusChanged.disconnect(_on_focus)
        app.setProperty("mediadesk_file_dialogs", False)


def test_a_folder_read_after_the_file_dialog_closed_is_ignored(qtbot) -> None:  # type: ignore[no-untyped-def]
    """The Import dialog's folder model can finish reading a folder after the dialog's views are
    gone (the static QFileDialog.get* calls delete the dialog when they return): widening the
    columns of a deleted view raised "Internal C++ object already deleted", shown to the user as
    an unexpected error right after choosing files."""
    import shiboken6
    from PySide6.QtWidgets import QTreeView

    from desktop_app.views.file_dialogs import _grow

    view = QTreeView()
    shiboken6.delete(view)
    _grow(view, "/a/folder")  # raised before


def test_spanish_titles_are_never_clipped_and_host_is_translated(
    qtbot,
    library: Library,
    tmp_path: Path,
    spanish,  # type: ignore[no-untyped-def]
) -> None:
    from PySide6.QtWidgets import QFormLayout, QLabel

    state = tmp_path / "window-state.ini"
    install_translations("en")
    english = MainWindow(library, state_file=state)
    qtbot.addWidget(english)
    english.upload_dock.table.horizontalHeader().resizeSection(UploadQueueModel.ETA, 40)
    english.save_window_state()
    english.shutdown()
    install_translations("es")
    window = MainWindow(library, state_file=state)
    qtbot.addWidget(window)
    header = window.upload_dock.table.horizontalHeader()
    model = window.uploads.model
    for column in range(model.columnCount()):
        title = model.headerData(column, Qt.Orientation.Horizontal)
        assert header.sectionSize(column) > header.fontMetrics().horizontalAdvance(title), title
    form = window.server_panel.host.parentWidget().layout()
    assert isinstance(form, QFormLayout)
    label = form.labelForField(window.server_panel.host)
    assert isinstance(label, QLabel) and label.text() == "Dirección"
    window.shutdown()


def test_long_values_elide_in_the_middle_with_tooltip_and_copy(
    qtbot,
    library: Library,
    media_dir: MediaSet,  # type: ignore[no-untyped-def]
) -> None:
    import dataclasses

    from desktop_app.views.details_panel import DetailsPanel

    record = library.uploads.ingest(media_dir.jpeg, "image")
    record = dataclasses.replace(record, storage_key="athletes/general/2024/05/" + "k" * 80)
    panel = DetailsPanel()
    qtbot.addWidget(panel)
    panel.resize(320, 700)
    panel.show()
    panel.show_record(record)
    qtbot.wait(20)
    for key, full in (("sha256", record.sha256), ("storage_key", record.storage_key)):
        label = panel.technical[key]
        shown = label.text()
        assert "…" in shown and shown != full
        head, tail = shown.split("…")
        assert full.startswith(head) and full.endswith(tail) and head and tail
        assert label.toolTip() == full
        panel.copy_buttons[key].click()
        assert QGuiApplication.clipboard().text() == full


def test_dimensions_are_those_of_the_file_as_shown(
    qtbot,
    library: Library,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    """A phone's portrait photo (stored 640×480 with EXIF orientation 6) is shown upright in the
    grid and the preview, yet the details said "640 × 480"; a video turned by its display
    matrix the same."""
    from desktop_app.views.details_panel import DetailsPanel
    from tests.media import make_jpeg, make_mp4

    photo = library.uploads.ingest(
        make_jpeg(tmp_path / "phone.jpg", (640, 480), exif_orientation=6), "image"
    )
    video = library.uploads.ingest(
        make_mp4(tmp_path / "phone.mp4", seconds=1, size=(320, 240), rotation=90), "video"
    )
    plain = library.uploads.ingest(make_jpeg(tmp_path / "plain.jpg", (640, 480)), "image")
    panel = DetailsPanel()
    qtbot.addWidget(panel)
    for record, shown in ((photo, "480 × 640"), (video, "240 × 320"), (plain, "640 × 480")):
        panel.show_record(record)
        assert panel.technical["dimensions"].text() == shown, record.original_filename


def test_tab_goes_through_the_actions_in_reading_order(
    qtbot,
    library: Library,
    media_dir: MediaSet,  # type: ignore[no-untyped-def]
) -> None:
    """Tab went to Delete permanently before Process again, its left neighbour (right to left
    in the Actions box's last row)."""
    from desktop_app.views.details_panel import DetailsPanel

    record = library.uploads.ingest(media_dir.jpeg, "image")
    panel = DetailsPanel()
    qtbot.addWidget(panel)
    panel.resize(360, 900)
    panel.show()
    panel.show_record(record)
    buttons = [
        panel.preview_button,
        panel.link_button,
        panel.export_button,
        panel.trash_button,
        panel.restore_button,
        panel.reprocess_button,
        panel.delete_button,
    ]
    shown = [b for b in buttons if b.isVisible()]
    assert panel.reprocess_button in shown and panel.delete_button in shown
    tabbed, widget = [], panel.preview_button
    for _ in range(len(buttons) * 4):  # the buttons follow each other in the chain
        if widget in shown and widget not in tabbed:
            tabbed.append(widget)
        widget = widget.nextInFocusChain()
    reading = sorted(shown, key=lambda b: (b.y(), b.x()))
    assert [b.text() for b in tabbed] == [b.text() for b in reading]


# ---- polish -----------------------------------------------------------------------------------
def test_counts_use_plural_forms_in_both_languages(qtbot, library: Library) -> None:  # type: ignore[no-untyped-def]
    from desktop_app.views.status_bar import MainStatusBar

    install_translations("en")
    try:
        bar = MainStatusBar(library.settings)
        qtbot.addWidget(bar)
        bar.set_counts({"all": 1, "image": 0, "video": 1, "bytes": 1536})
        assert bar.counts.text() == "1 file · 0 images · 1 video · 1.5 KiB"
        bar.set_counts({"all": 1667, "image": 1666, "video": 1, "bytes": 0})
        assert bar.counts.text().startswith("1,667 files · 1,666 images · 1 video")
        install_translations("es")
        bar = MainStatusBar(library.settings)
        qtbot.addWidget(bar)
        bar.set_counts({"all": 1, "image": 2, "video": 1, "bytes": 0})
        assert bar.counts.text().startswith("1 archivo · 2 imágenes · 1 vídeo")
    finally:
        install_translations("en")


def test_file_dialogs_open_in_the_last_used_folder(
    qtbot,
    library: Library,
    media_dir: MediaSet,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    from PySide6.QtCore import QStandardPaths
    from PySide6.QtWidgets import QFileDialog

    asked: list[str] = []

    def open_names(_parent, _title, folder, _filters):  # type: ignore[no-untyped-def]
        asked.append(folder)
        return [str(media_dir.png)], ""

    monkeypatch.setattr(QFileDialog, "getOpenFileNames", staticmethod(open_names))
    state = tmp_path / "state.ini"
    window = MainWindow(library, state_file=state)
    qtbot.addWidget(window)
    window.import_files()
    pictures = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.PicturesLocation)
    assert asked[0] in (pictures, str(Path.home()))
    window.import_files()
    assert asked[1] == str(media_dir.png.parent)
    window.shutdown()
    again = MainWindow(library, state_file=state)  # remembered across sessions
    qtbot.addWidget(again)
    wait_for(qtbot, lambda: "import" in again.dialog_folders)  # found there by a worker
    again.import_files()
    assert asked[2] == str(media_dir.png.parent)
    again.shutdown()


def test_a_first_dialog_opens_in_a_folder_that_is_there(
    qtbot,
    library: Library,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    """The first import opened in ~/Pictures when there was none (a fresh account, a server
    install): the dialog showed a folder that was not there. It opens in Pictures or Videos
    when a worker has found them, else in the home folder."""
    from PySide6.QtWidgets import QFileDialog

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))  # Qt finds Pictures and Videos under it (XDG)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    asked: list[str] = []

    def open_names(_parent, _title, folder, _filters):  # type: ignore[no-untyped-def]
        asked.append(folder)
        return [], ""

    monkeypatch.setattr(QFileDialog, "getOpenFileNames", staticmethod(open_names))
    window = MainWindow(library, state_file=tmp_path / "state.ini")
    qtbot.addWidget(window)
    try:
        wait_for(qtbot, lambda: bool(window.start_folders))  # the first look has answered
        window.import_files()
        assert asked == [str(home)]
        (home / "Videos").mkdir()  # only videos: the import starts there too
        window.check_dialog_folders()
        wait_for(qtbot, lambda: window.start_folders["image"] == str(home / "Videos"))
        window.import_files()
        assert asked[-1] == str(home / "Videos")
        (home / "Pictures").mkdir()
        window.check_dialog_folders()
        wait_for(qtbot, lambda: window.start_folders["image"] == str(home / "Pictures"))
        window.import_files()
        assert asked[-1] == str(home / "Pictures")
        assert window.dialog_folder("export", "video") == str(home / "Videos")
    finally:
        window.shutdown()


def test_a_file_dialog_never_stats_its_folder_on_the_gui_thread(
    qtbot,
    library: Library,
    media_dir: MediaSet,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    """The import dialog checked the remembered folder with a stat on the GUI thread as it
    opened: on a network disk that went away the window froze. A worker looks ahead of time;
    until it has found the folder there, the dialog opens in Pictures."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QFileDialog

    share = tmp_path / "share"
    share.mkdir()
    state = tmp_path / "state.ini"
    saved = QSettings(str(state), QSettings.Format.IniFormat)
    saved.setValue("dialogs/import", str(share))
    saved.sync()
    disk = threading.Event()  # the slow disk answers once this is set
    on_gui_thread: list[Path] = []
    is_dir = Path.is_dir

    def slow_is_dir(self: Path, *args, **kwargs) -> bool:  # type: ignore[no-untyped-def]
        if self == share:
            if threading.current_thread() is threading.main_thread():
                on_gui_thread.append(self)
            disk.wait(5)  # bounded: the test fails, rather than hangs, on a GUI-thread stat
        return is_dir(self, *args, **kwargs)

    asked: list[str] = []

    def open_names(_parent, _title, folder, _filters):  # type: ignore[no-untyped-def]
        asked.append(folder)
        return [], ""

    monkeypatch.setattr(Path, "is_dir", slow_is_dir)
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", staticmethod(open_names))
    window = MainWindow(library, state_file=state)
    qtbot.addWidget(window)
    try:
        window.import_files()  # the disk has not answered yet
        assert on_gui_thread == [] and asked[0] != str(share)
        disk.set()
        wait_for(qtbot, lambda: window.dialog_folders.get("import") == str(share))
        window.import_files()
        assert asked[1] == str(share) and on_gui_thread == []
        share.rmdir()  # gone: the next look (the window activated again) finds it missing
        window.check_dialog_folders()
        wait_for(qtbot, lambda: "import" not in window.dialog_folders)
        window.import_files()
        assert asked[2] != str(share) and on_gui_thread == []
    finally:
        disk.set()
        window.shutdown()


def test_sort_title_about_and_natural_athletes(
    qtbot,
    library: Library,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    from PySide6.QtWidgets import QMessageBox

    from desktop_app.resources import app_version

    for name in ("Team 10", "Team 2", "ana"):
        library.create_athlete(name)
    state = tmp_path / "state.ini"
    install_translations("en")
    window = MainWindow(library, state_file=state)
    qtbot.addWidget(window)
    wait_for(qtbot, lambda: len(window.controller.sidebar.athletes()) == 3)
    assert [a.name for a in window.controller.sidebar.athletes()] == ["ana", "Team 2", "Team 10"]
    # The title names the view; the platform adds the application name once.
    assert window.windowTitle() == "All files[*]"
    team = window.controller.sidebar.athletes()[1]
    window.sidebar.setCurrentIndex(window.controller.sidebar.index_of(f"athlete:{team.id}"))
    wait_for(qtbot, lambda: window.windowTitle() == "Team 2[*]")
    # About names the version.
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "about", staticmethod(lambda _p, _t, text: shown.append(text)))
    window.about()
    assert app_version() in shown[0] and app_version() != "(development)"
    # The sort order is remembered.
    combo = window.browser.sort
    combo.setCurrentIndex(combo.findData("original_filename"))
    assert window.controller.sort == "original_filename"
    window.close()
    again = MainWindow(library, state_file=state)
    qtbot.addWidget(again)
    assert again.controller.sort == "original_filename"
    assert again.browser.sort.currentData() == "original_filename"
    assert again.controller.grid.query.sort == "original_filename"
    again.shutdown()


def test_trash_shows_the_purge_date_and_allows_preview(
    qtbot,
    window: MainWindow,
    library: Library,
    media_dir: MediaSet,  # type: ignore[no-untyped-def]
) -> None:
    from core.maintenance import purge_time
    from desktop_app.formatting import datetime_text

    record = library.uploads.ingest(media_dir.jpeg, "image")
    library.trash(record.id)
    trashed = library.get_file(record.id)
    window.sidebar.setCurrentIndex(window.controller.sidebar.index_of("trash"))
    grid = window.controller.grid
    wait_for(qtbot, lambda: grid.rowCount() == 1)
    window.browser.select_row(0)
    wait_for(qtbot, lambda: window.details.record is not None)
    assert trashed.deleted_at is not None
    due = datetime_text(purge_time(trashed.deleted_at, library.settings.trash_retention_days))
    note = window.details.trash_note
    assert note.isVisibleTo(window.details) and f"Deleted for good on {due}" in note.text()
    assert due in str(grid.index(0).data(Qt.ItemDataRole.ToolTipRole))
    assert window.commands.preview.isEnabled() and window.details.preview_button.isEnabled()
    with qtbot.waitSignal(window.controller.previewReady, timeout=TIMEOUT) as ready:
        window.preview()
    assert ready.args[0].id == record.id
    window.preview_dialog.close()


def test_preview_dialog_fits_its_content(qtbot, library: Library, media_dir: MediaSet) -> None:  # type: ignore[no-untyped-def]
    from desktop_app.preview.dialog import PreviewDialog

    record = library.uploads.ingest(media_dir.jpeg, "image")  # 640 × 480
    dialog = PreviewDialog(record, str(library.local_path(record)))
    qtbot.addWidget(dialog)
    assert (dialog.width(), dialog.height()) == (640, 480)


def test_an_empty_queue_shows_no_total(
    qtbot,
    dock: UploadDock,
    media_dir: MediaSet,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    """The footer read "Total 0 %" with nothing queued, like an upload stuck at its start: the
    bar is empty and says nothing until there are rows, then their real total."""
    assert dock.model.rowCount() == 0
    assert dock.total_bar.text() == "" and dock.total_bar.value() <= 0
    shutil.copy(media_dir.jpeg, tmp_path / "heat_1.jpg")
    dock.controller.add_paths([tmp_path / "heat_1.jpg"])
    _wait_idle(qtbot, dock, 1)
    assert dock.total_bar.text() == "Total 100 %"
    dock.controller.clear_finished()
    wait_for(qtbot, lambda: dock.model.rowCount() == 0)
    assert dock.total_bar.text() == ""


def test_escape_in_the_search_keeps_the_selected_file(
    qtbot,
    window: MainWindow,
    library: Library,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    """Esc cleared the search and the selection with it: the file selected when Esc is
    pressed stays selected in the whole view; with none selected, the one selected before the
    search is selected again."""
    from tests.media import make_jpeg

    names = ["heat_1.jpg", "heat_2.jpg", "final.jpg", "podium.jpg"]
    for n, name in enumerate(names):  # distinct pictures: a copy would be refused as a duplicate
        library.uploads.ingest(make_jpeg(tmp_path / name, (320 + 16 * n, 240)), "image")
    grid, browser = window.controller.grid, window.browser
    wait_for(qtbot, lambda: grid.rowCount() == 4)

    def select(name: str) -> None:
        row = next(r for r in range(grid.rowCount()) if grid.record_at(r).original_filename == name)
        browser.select_row(row)
        wait_for(qtbot, lambda: window.details.record is not None)
        assert window.details.record.original_filename == name

    def selected() -> list[str]:
        return [r.original_filename for r in browser.selected_records()]

    def search_then_escape(
        text: str, rows: int, pick: str | None, escape_in: str = "search"
    ) -> None:
        search = browser.search
        _focus(qtbot, window, search)
        search.clear()
        qtbot.keyClicks(search, text)
        qtbot.keyClick(search, Qt.Key.Key_Return)
        wait_for(qtbot, lambda: grid.rowCount() == rows and not grid.loading)
        if pick is not None:
            select(pick)
        where = search if escape_in == "search" else browser.grid
        _focus(qtbot, window, where)
        qtbot.keyClick(where, Qt.Key.Key_Escape)
        wait_for(qtbot, lambda: grid.rowCount() == 4 and not grid.loading)

    select("podium.jpg")
    search_then_escape("heat", 2, "heat_2.jpg")  # a file picked in the results
    wait_for(qtbot, lambda: selected() == ["heat_2.jpg"])
    assert window.details.record is not None
    assert window.details.record.original_filename == "heat_2.jpg"
    search_then_escape("final", 1, None)  # nothing picked: the file from before the search
    wait_for(qtbot, lambda: selected() == ["heat_2.jpg"])
    assert window.details.record.original_filename == "heat_2.jpg"
    select("final.jpg")  # Esc from the grid too
    search_then_escape("heat", 2, None, escape_in="grid")
    wait_for(qtbot, lambda: selected() == ["final.jpg"])
    assert window.details.record.original_filename == "final.jpg"


def _contrast(a: QColor, b: QColor) -> float:
    """WCAG's contrast ratio of two colours."""

    def luminance(c: QColor) -> float:
        def channel(v: float) -> float:
            return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

        red, green, blue = channel(c.redF()), channel(c.greenF()), channel(c.blueF())
        return 0.2126 * red + 0.7152 * green + 0.0722 * blue

    x, y = luminance(a), luminance(b)
    return (max(x, y) + 0.05) / (min(x, y) + 0.05)


@pytest.mark.parametrize("window_colour", ["#2b2b2b", "#efefef"])
def test_status_texts_are_readable_on_dark_and_light_palettes(
    qtbot, library: Library, window_colour: str
) -> None:  # type: ignore[no-untyped-def]
    """The settings' test result and restart note, the status bar's storage warning and the
    player's error kept light-theme colours: on a dark window (Breeze Dark, Adwaita-dark) they
    fell below WCAG's 4.5:1."""
    import re

    from desktop_app.controllers.settings_controller import SettingsController
    from desktop_app.preview.video_player import VideoPlayer
    from desktop_app.views.settings_dialog import SettingsDialog
    from desktop_app.views.status_bar import MainStatusBar

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    kept = app.palette()
    palette = QPalette(kept)
    palette.setColor(QPalette.ColorRole.Window, QColor(window_colour))
    app.setPalette(palette)
    try:
        dialog = SettingsDialog(SettingsController(library.settings))
        qtbot.addWidget(dialog)
        bar = MainStatusBar(library.settings)
        qtbot.addWidget(bar)
        player = VideoPlayer(audio=False)
        qtbot.addWidget(player)
        labels = {"restart note": dialog.restart_note, "storage warning": bar.storage_warning}
        labels["player error"] = player._error
        for ok in (True, False):
            dialog._on_test(ok, "Connection works" if ok else "The endpoint cannot be reached.")
            labels[f"test result {ok}"] = dialog.test_result
            for name, label in labels.items():
                found = re.search(r"color:\s*(#[0-9a-fA-F]{6})", label.styleSheet())
                assert found, name
                ratio = _contrast(QColor(found.group(1)), QColor(window_colour))
                assert ratio >= 4.5, (name, found.group(1), window_colour, ratio)
    finally:
        app.setPalette(kept)
