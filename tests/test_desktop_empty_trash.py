"""Edit ▸ Empty trash…: every file in the trash goes, not only the grid's loaded page of it.

Before it, a user emptied the trash with Ctrl+A and Shift+Delete, which reach the rows the
grid has loaded. Real SQLite catalog and local storage; the window's real question box.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtWidgets import QMessageBox  # noqa: E402

from core import library as core_library  # noqa: E402
from core.errors import NotFound  # noqa: E402
from core.library import Library  # noqa: E402
from core.records import FileRecord  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from desktop_app.i18n_update import PACKAGE, sources  # noqa: E402
from desktop_app.views.main_window import MainWindow  # noqa: E402
from tests.qt_helpers import wait_for  # noqa: E402
from tests.test_desktop_confirm import BoxSpy, press_destructive, press_enter  # noqa: E402
from tests.test_desktop_threading import MainThreadRecorder, recorder  # noqa: E402, F401

ROOT = PACKAGE.parent
PAGE = 4  # the grid's page: the trash holds three pages of files
TRASHED = 10


def _photos(library: Library, folder: Path, count: int, start: int = 0) -> list[FileRecord]:
    """`count` small JPEGs of different bytes (the same bytes would be one file)."""
    folder.mkdir(parents=True, exist_ok=True)
    records = []
    for i in range(start, start + count):
        path = folder / f"photo-{i}.jpg"
        Image.new("RGB", (32, 24), (i * 20 % 256, 90, 200 - i * 7 % 200)).save(path, "JPEG")
        records.append(library.uploads.ingest(path, "image"))
    return records


@pytest.fixture(autouse=True)
def english(qapp: Any) -> None:
    install_translations("en")  # as the app does: the plural forms of the English texts


@pytest.fixture
def trashed(library: Library, tmp_path: Path) -> list[FileRecord]:
    photos = _photos(library, tmp_path / "photos", TRASHED + 1)
    for record in photos[:TRASHED]:
        library.trash(record.id)
    return photos[:TRASHED]


def _window(qtbot: Any, library: Library) -> MainWindow:
    win = MainWindow(library, page_size=PAGE)
    qtbot.addWidget(win)
    win.show()
    return win


@pytest.fixture
def trash_window(qtbot: Any, library: Library, trashed: list[FileRecord]) -> Iterator[MainWindow]:
    """The window showing the trash, its first page loaded and the trash's count in."""
    win = _window(qtbot, library)
    win.resize(900, 600)  # room for a page or two of cells: the grid loads no more
    c = win.controller
    win.sidebar.setCurrentIndex(c.sidebar.index_of("trash"))
    wait_for(qtbot, lambda: c.filter.section == "trash" and c.counts.get("trash") == TRASHED)
    wait_for(qtbot, lambda: c.grid.rowCount() >= PAGE and not c.grid.loading)
    yield win
    win.shutdown()


def test_core_empties_every_trashed_file_in_batches(
    library: Library, trashed: list[FileRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(core_library, "BULK_BATCH", 4)
    objects = [library.local_path(r) for r in trashed]
    assert all(p is not None and p.is_file() for p in objects)
    live = library.list_files().items
    reports: list[tuple[int, int]] = []

    deleted = library.empty_trash(report=lambda done, total: reports.append((done, total)))

    assert sorted(deleted) == sorted(r.id for r in trashed)
    assert reports == [(4, TRASHED), (8, TRASHED), (TRASHED, TRASHED)]
    for record, path in zip(trashed, objects, strict=True):
        with pytest.raises(NotFound):
            library.get_file(record.id)
        assert path is not None and not path.exists()
    assert library.counts()["trash"] == 0
    assert [r.id for r in library.list_files().items] == [r.id for r in live]
    assert library.empty_trash() == []  # an empty trash: nothing to do, no error


def test_the_question_groups_the_digits_of_a_large_count(
    trash_window: MainWindow, library: Library
) -> None:
    """The question said "Permanently delete 1673 files" beside a sidebar showing 1,673."""
    trash_window.controller.counts["trash"] = 1673  # the count as a large trash shows it
    spy = BoxSpy(press_enter)  # Enter: the safe answer, nothing is deleted
    trash_window.commands.empty_trash.trigger()
    assert spy.seen[0]["text"] == "Permanently delete 1,673 files in the trash?"
    assert library.counts()["trash"] == TRASHED


def test_no_count_in_a_plural_text_goes_without_digit_grouping() -> None:
    """%n shows 1673 where the rest of the window shows 1,673 (%Ln: the locale's way)."""
    bare = [
        f"{path}:{n}"
        for path in sources()
        for n, line in enumerate((ROOT / path).read_text(encoding="utf-8").splitlines(), 1)
        if "%n" in line
    ]
    assert bare == []


def test_the_command_is_disabled_while_the_trash_is_empty(
    qtbot: Any, library: Library, tmp_path: Path
) -> None:
    _photos(library, tmp_path / "photos", 1)
    win = _window(qtbot, library)
    c = win.controller
    try:
        win.sidebar.setCurrentIndex(c.sidebar.index_of("trash"))
        wait_for(qtbot, lambda: c.filter.section == "trash" and c.counts.get("all") == 1)
        action, button = win.commands.empty_trash, win.browser.empty_trash
        assert button is not None and button.isVisible()
        assert not action.isEnabled() and not button.isEnabled()
        assert action in win.menuBar().actions()[1].menu().actions()  # Edit, by the trash's
        messages: list[str] = []
        c.message.connect(messages.append)
        spy = BoxSpy(press_destructive)  # were it asked: the question's answer
        action.trigger()  # disabled: nothing
        win.empty_trash()  # a stale trigger: nothing to empty, no question, no task
        assert spy.seen == [] and messages == []
    finally:
        win.shutdown()


def test_confirming_empties_the_whole_trash_beyond_the_loaded_page(
    qtbot: Any, trash_window: MainWindow, library: Library, recorder: MainThreadRecorder
) -> None:
    win, c = trash_window, trash_window.controller
    assert c.grid.rowCount() < TRASHED  # the grid holds a page or two; the trash holds more
    button = win.browser.empty_trash
    assert button is not None and button.isVisible() and button.isEnabled()
    assert button.text() == "Empty trash…"
    messages: list[str] = []
    c.message.connect(messages.append)

    recorder.recording = True
    spy = BoxSpy(press_destructive)
    button.click()
    wait_for(qtbot, lambda: messages[-1:] == [f"Emptied the trash: {TRASHED} files deleted"])
    wait_for(qtbot, lambda: c.counts.get("trash") == 0 and c.grid.rowCount() == 0)
    recorder.recording = False

    assert recorder.calls == []  # the library was asked off the GUI thread only
    assert spy.seen[0]["text"] == f"Permanently delete {TRASHED} files in the trash?"
    assert spy.seen[0]["informative"] == "This cannot be undone."
    assert spy.seen[0]["escape_is_default"]  # Enter and Escape are the safe answer
    assert messages[0] == "Emptying the trash…"
    assert f"Emptying the trash: {TRASHED} of {TRASHED} files deleted…" in messages
    assert library.counts()["trash"] == 0 and library.counts()["all"] == 1
    wait_for(qtbot, lambda: not win.commands.empty_trash.isEnabled())


def test_cancelling_deletes_nothing(qtbot: Any, trash_window: MainWindow, library: Library) -> None:
    win, c = trash_window, trash_window.controller
    messages: list[str] = []
    c.message.connect(messages.append)
    spy = BoxSpy(press_enter)  # the default button: Cancel
    win.commands.empty_trash.trigger()
    assert spy.seen and spy.seen[0]["default_role"] == QMessageBox.ButtonRole.RejectRole
    assert messages == []  # no "Emptying the trash…": nothing was asked of the library
    qtbot.wait(300)  # were a task on its way, it would have deleted some by now
    assert library.counts()["trash"] == TRASHED
    assert win.commands.empty_trash.isEnabled()


def test_the_command_and_its_question_in_spanish(
    qtbot: Any, library: Library, trashed: list[FileRecord]
) -> None:
    install_translations("es")
    try:
        win = _window(qtbot, library)
        c = win.controller
        try:
            wait_for(qtbot, lambda: c.counts.get("trash") == TRASHED)
            assert win.commands.empty_trash.text() == "&Vaciar la papelera…"
            spy = BoxSpy(press_enter)
            win.commands.empty_trash.trigger()
            assert spy.seen[0]["text"] == (
                f"¿Eliminar definitivamente los {TRASHED} archivos de la papelera?"
            )
            assert spy.seen[0]["informative"] == "No se puede deshacer."
            one = win.tr("Permanently delete %Ln file(s) in the trash?", "", 1)
            assert one == "¿Eliminar definitivamente 1 archivo de la papelera?"
            done = c.tr("Emptied the trash: %Ln file(s) deleted", "", 1)
            assert done == "Papelera vaciada: 1 archivo eliminado"
            many = c.tr("Emptied the trash: %Ln file(s) deleted", "", 16730)
            assert many == "Papelera vaciada: 16.730 archivos eliminados"
        finally:
            win.shutdown()
    finally:
        install_translations("en")
