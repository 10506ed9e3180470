"""The GUI thread never touches the database, the storage or the files: every call goes to a worker.

A real library is instrumented: each method of the Library, its Database, its Storage and its
Presigner (and the desktop app's own file helpers) records when it runs on the main thread. The
main window is then driven through its common flows.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import QItemSelectionModel, Qt  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402

from core.library import Library  # noqa: E402
from desktop_app.controllers import settings_controller, upload_controller  # noqa: E402
from desktop_app.views import main_window, server_panel  # noqa: E402
from desktop_app.views.main_window import MainWindow  # noqa: E402
from tests.internals import db_of, presigner_of, storage_of
from tests.media_fixtures import MediaSet  # noqa: E402
from tests.qt_helpers import TIMEOUT, wait_for


class MainThreadRecorder:
    """Wraps callables so that calls made on the main thread are listed in `calls`."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.recording = False

    def _wrap(self, label: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if self.recording and threading.current_thread() is threading.main_thread():
                self.calls.append(label)
            return fn(*args, **kwargs)

        return wrapper

    def instrument(self, obj: object, skip: tuple[str, ...] = ()) -> None:
        """Every public method of `obj`, as instance attributes shadowing the class's."""
        for name in dir(type(obj)):
            if name.startswith("_") or name in skip:
                continue
            attr = getattr(type(obj), name, None)
            if isinstance(attr, property | classmethod | staticmethod) or not callable(attr):
                continue
            setattr(obj, name, self._wrap(f"{type(obj).__name__}.{name}", getattr(obj, name)))

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """For the test's own checks of the library."""
        was, self.recording = self.recording, False
        try:
            yield
        finally:
            self.recording = was

    def function(self, monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> None:
        monkeypatch.setattr(module, name, self._wrap(name, getattr(module, name)))


@pytest.fixture
def recorder(library: Library, monkeypatch: pytest.MonkeyPatch) -> Iterator[MainThreadRecorder]:
    rec = MainThreadRecorder()
    # apply_settings: a reference swap; maintenance_leader: makes the object (its thread works)
    rec.instrument(library, skip=("open", "apply_settings", "maintenance_leader"))
    rec.instrument(db_of(library))
    rec.instrument(storage_of(library))
    rec.instrument(presigner_of(library))
    rec.function(monkeypatch, upload_controller, "sniff_file")
    rec.function(monkeypatch, upload_controller, "expand_paths")
    rec.function(monkeypatch, settings_controller, "save_settings")
    rec.function(monkeypatch, settings_controller, "check_storage")
    rec.function(monkeypatch, main_window, "save_state")  # the folder an export dialog chose
    rec.function(monkeypatch, main_window, "read_dialog_folders")  # at start, dialogs, activation
    rec.function(monkeypatch, main_window, "start_folders")  # Pictures, Videos: stats in home
    # The window's layout: the app reads it with the library behind the splash and hands it to
    # the window (test_desktop_startup.py); a window made without it reads it itself, here.
    rec.function(monkeypatch, main_window, "read_window_state")
    yield rec
    rec.recording = False


def answer(monkeypatch: pytest.MonkeyPatch, module: object, **replies: Any) -> None:
    """Replaces QInputDialog/QMessageBox/QFileDialog calls of a module with fixed replies."""
    for name, reply in replies.items():
        owner, method = name.split("__")
        target = getattr(module, owner)
        monkeypatch.setattr(target, method, staticmethod(lambda *a, _r=reply, **k: _r))


def test_the_recorder_sees_calls_on_the_main_thread_only(
    library: Library, recorder: MainThreadRecorder
) -> None:
    recorder.recording = True
    library.counts()
    with recorder.paused():
        library.athletes()
    worker = threading.Thread(target=library.athletes)
    worker.start()
    worker.join()
    assert recorder.calls == ["Library.counts", "Database.read"]


def test_common_flows_never_touch_core_on_the_gui_thread(
    qtbot,  # type: ignore[no-untyped-def]
    library: Library,
    recorder: MainThreadRecorder,
    media_dir: MediaSet,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    athlete = library.create_athlete("Ana Torres")
    photo = library.uploads.ingest(media_dir.jpeg, "image", athlete_id=athlete.id)
    library.uploads.ingest(media_dir.mp4, "video")
    recorder.recording = True
    window = MainWindow(library, page_size=20, saved_state={})  # read behind the splash
    qtbot.addWidget(window)
    try:
        _drive(qtbot, window, library, media_dir, monkeypatch, tmp_path, athlete.id, photo.id)
    finally:
        recorder.recording = False
        window.shutdown()
    assert recorder.calls == []


def _drive(  # type: ignore[no-untyped-def]
    qtbot,
    window: MainWindow,
    library: Library,
    media_dir: MediaSet,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    athlete_id: int,
    photo_id: int,
) -> None:
    c = window.controller
    # Start-up: grid, sidebar counts, athletes, the server and the token table.
    window.show()
    window.start_services()
    wait_for(qtbot, lambda: c.grid.rowCount() == 2 and c.counts.get("all") == 2)
    wait_for(qtbot, lambda: window.server.running)
    wait_for(qtbot, lambda: window.controller.thumbnails.idle)

    # Select a file, edit and save it.
    window.browser.select_row(c.grid.row_of(photo_id))
    assert window.details.record is not None and window.details.record.id == photo_id
    window.details.description.setPlainText("Relay final")
    with qtbot.waitSignal(c.saved, timeout=TIMEOUT):
        window.details.save_button.click()

    # Edit, then move to another file: the question's "Save" saves in a worker too.
    window.details.description.setPlainText("Relay final, lane 4")
    monkeypatch.setattr(window, "ask_unsaved", lambda record: QMessageBox.StandardButton.Save)
    other = next(c.grid.record_at(r) for r in range(2) if c.grid.record_at(r).id != photo_id)
    window.browser.select_row(c.grid.row_of(other.id))
    wait_for(qtbot, lambda: c.current is not None and c.current.id == other.id)
    window.browser.select_row(c.grid.row_of(photo_id))
    assert window.details.description.toPlainText() == "Relay final, lane 4"

    # Copy a link, export, preview.
    with qtbot.waitSignal(c.linkReady, timeout=TIMEOUT):
        window.commands.copy_link.trigger()
    target = tmp_path / "export.jpg"
    answer(monkeypatch, main_window, QFileDialog__getSaveFileName=(str(target), ""))
    with qtbot.waitSignal(c.message, timeout=TIMEOUT):
        window.commands.export.trigger()
    assert target.is_file()
    with qtbot.waitSignal(c.previewReady, timeout=TIMEOUT):
        window.commands.preview.trigger()
    window.preview_dialog.close()

    # Trash, look at the trash, restore (the photo selected again: this test is about threads,
    # and a live refresh after the preview may have moved the selection).
    wait_for(qtbot, lambda: not c.grid.loading and c.grid.row_of(photo_id) >= 0)
    window.browser.select_row(c.grid.row_of(photo_id))
    wait_for(qtbot, lambda: c.current is not None and c.current.id == photo_id)
    window.commands.trash.trigger()
    wait_for(qtbot, lambda: c.grid.row_of(photo_id) < 0)
    window.sidebar.setCurrentIndex(c.sidebar.index_of("trash"))
    wait_for(qtbot, lambda: c.grid.rowCount() == 1 and not c.grid.loading)
    window.browser.select_row(0)
    window.commands.restore.trigger()
    wait_for(qtbot, lambda: c.grid.rowCount() == 0)

    # Sidebar: an athlete's files, add and rename athletes.
    window.sidebar.setCurrentIndex(c.sidebar.index_of(f"athlete:{athlete_id}"))
    wait_for(qtbot, lambda: c.grid.rowCount() == 1 and not c.grid.loading)
    monkeypatch.setattr(main_window, "ask_text", lambda *a, **k: ("Luis Pérez", True))
    window.commands.new_athlete.trigger()
    wait_for(qtbot, lambda: len(c.sidebar.athletes()) == 2)
    monkeypatch.setattr(main_window, "ask_text", lambda *a, **k: ("Ana Torres Ruiz", True))
    window.commands.rename_athlete.trigger()
    wait_for(qtbot, lambda: "Ana Torres Ruiz" in [a.name for a in c.sidebar.athletes()])

    # Drop a file for the selected athlete.
    window.add_uploads([media_dir.png, media_dir.dir / "missing.jpg"])
    wait_for(qtbot, lambda: window.uploads.model.rowCount() == 2 and not window.uploads.busy)
    wait_for(qtbot, lambda: c.grid.rowCount() == 2)

    # Server panel: create and revoke a token.
    window.server_dock.raise_()
    panel = window.server_panel
    monkeypatch.setattr(server_panel, "ask_text", lambda *a, **k: ("Club website", True))
    monkeypatch.setattr(QMessageBox, "open", lambda self: None)  # the "token created" notice
    errors: list[object] = []  # what the panel would show: said when a wait below times out
    window.server.errorOccurred.connect(errors.append)
    with qtbot.waitSignal(window.server.tokensChanged, timeout=TIMEOUT):
        panel.create_button.click()
    # the new token's row: the table is rebuilt when the list arrives, maybe after other rows
    wait_for(qtbot, lambda: _chosen(panel, "Club website", errors))
    # The irreversible-action question (views/confirm.py), answered "yes"
    monkeypatch.setattr(server_panel, "confirm_irreversible", lambda *a, **k: True)
    with qtbot.waitSignal(window.server.tokensChanged, timeout=TIMEOUT):
        panel.revoke_button.click()
    assert not errors, [getattr(e, "text", e) for e in errors]

    # Settings: test the storage, save.
    window.open_settings()
    dialog = window.settings_dialog
    with qtbot.waitSignal(window.settings_controller.testFinished, timeout=TIMEOUT):
        dialog.test_button.click()
    dialog.expiry.setValue(900)
    with qtbot.waitSignal(window.settings_controller.saved, timeout=TIMEOUT):
        dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    wait_for(qtbot, lambda: not dialog.isVisible())
    assert library.settings.presigned_url_expiry == 900

    # Delete permanently, refresh.
    window.sidebar.setCurrentIndex(c.sidebar.index_of("all"))
    wait_for(qtbot, lambda: c.grid.rowCount() == 3 and c.counts.get("all") == 3)
    window.browser.select_row(c.grid.row_of(photo_id))
    monkeypatch.setattr(main_window, "confirm_irreversible", lambda *a, **k: True)
    window.delete_permanently()
    wait_for(qtbot, lambda: c.counts.get("all") == 2)
    window.commands.refresh.trigger()
    wait_for(qtbot, lambda: c.grid.rowCount() == 2 and not c.grid.loading)
    qtbot.keyClick(window.browser.grid, Qt.Key.Key_Escape)


def _chosen(panel: Any, name: str, errors: list[object]) -> bool:
    """Selects the token called `name` (again, if a later list rebuilt the table) and says
    whether Revoke is on for it; a token task that failed fails the wait with its message."""
    assert not errors, [getattr(e, "text", e) for e in errors]
    row = _row_named(panel, name)
    if row < 0:
        return False
    selection = panel.table.selectionModel()
    if {i.row() for i in selection.selectedRows()} != {row}:
        # through the selection model, as a click does: selectRow() reads the keyboard's
        # modifiers, and an earlier test's Shift-click in this process can leave Shift held
        # in Qt's idea of the keyboard (a Shift-selection from no anchor selects nothing)
        flags = QItemSelectionModel.SelectionFlag
        selection.select(panel.table.model().index(row, 0), flags.ClearAndSelect | flags.Rows)
    return bool(panel.revoke_button.isEnabled())


def _row_named(panel: Any, name: str) -> int:
    """The tokens table's row of the token called `name`, or -1."""
    for row in range(panel.table.rowCount()):
        item = panel.table.item(row, 0)
        if item is not None and item.text().startswith(f"{name} ("):
            return row
    return -1
