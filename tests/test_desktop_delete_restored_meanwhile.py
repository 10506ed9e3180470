"""*Delete permanently* in the Trash view keeps a file restored meanwhile.

The question was open (Shift+Delete) when another desktop, on the same catalog, restored the
file; confirming then deleted it for good: the desktop asked core to delete whatever state the
file was in, though the user confirmed deleting a file of the trash. README's Trash section says
a file restored meanwhile is kept. Now the window says so, in the status bar, and for a
selection deletes the others and counts the kept ones. Real SQLite catalog and local storage,
a second Library on the same catalog file as the other desktop, the window's real question.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtWidgets import QMessageBox  # noqa: E402

from core.errors import NotFound  # noqa: E402
from core.library import Library  # noqa: E402
from core.records import FileRecord  # noqa: E402
from core.settings import Settings  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from desktop_app.views.main_window import MainWindow  # noqa: E402
from tests.qt_helpers import wait_for  # noqa: E402
from tests.test_desktop_confirm import BoxSpy, press_destructive  # noqa: E402

pytestmark = pytest.mark.timeout(120)


def _photos(library: Library, folder: Path, count: int) -> list[FileRecord]:
    folder.mkdir(parents=True, exist_ok=True)
    records = []
    for i in range(count):
        path = folder / f"keep-{i}.jpg"
        Image.new("RGB", (32, 24), (i * 40 % 256, 77, 11)).save(path, "JPEG")
        records.append(library.uploads.ingest(path, "image"))
    return records


@pytest.fixture
def other(settings: Settings) -> Iterator[Library]:
    """Another desktop on the same catalog file."""
    lib = Library.open(settings)
    yield lib
    lib.close()


@pytest.fixture
def languages(qapp: Any) -> Iterator[None]:
    yield
    install_translations("en")


def _trash_window(qtbot: Any, library: Library, count: int) -> MainWindow:
    win = MainWindow(library, page_size=50)
    qtbot.addWidget(win)
    win.show()
    c = win.controller
    win.sidebar.setCurrentIndex(c.sidebar.index_of("trash"))
    wait_for(qtbot, lambda: c.filter.section == "trash" and c.counts.get("trash") == count)
    wait_for(qtbot, lambda: c.grid.rowCount() == count and not c.grid.loading)
    return win


def _confirm_after(action: Any) -> BoxSpy:
    """Answers the question with its destructive button once `action` ran (the colleague's
    restore while the question is open)."""

    def answer(box: QMessageBox) -> None:
        action()
        press_destructive(box)

    return BoxSpy(answer)


def _alive(library: Library, file_id: int) -> FileRecord | None:
    try:
        return library.get_file(file_id)
    except NotFound:
        return None


@pytest.mark.parametrize(
    ("language", "words"), [("en", "restored meanwhile"), ("es", "restaurado mientras")]
)
def test_a_file_restored_while_the_question_is_open_is_kept(
    qtbot: Any,
    library: Library,
    other: Library,
    tmp_path: Path,
    languages: None,
    language: str,
    words: str,
) -> None:
    install_translations(language)
    (photo,) = _photos(library, tmp_path / "photos", 1)
    library.trash(photo.id)
    win = _trash_window(qtbot, library, 1)
    try:
        messages: list[str] = []
        win.controller.message.connect(messages.append)
        win.browser.select_row(win.controller.grid.row_of(photo.id))
        spy = _confirm_after(lambda: other.restore(photo.id))
        win.commands.delete.trigger()  # Shift+Delete
        wait_for(qtbot, lambda: bool(spy.seen))
        wait_for(qtbot, lambda: bool(messages) or bool(win.last_error))  # the outcome is said
        kept = _alive(library, photo.id)
        assert kept is not None, "deleted for good after a colleague restored it"
        assert not kept.is_trashed
        path = library.local_path(kept)
        assert path is not None and path.is_file()
        assert any(words in m for m in messages), messages
        assert win.last_error == ""  # no error box: the user is told, not warned
    finally:
        win.shutdown()


def test_a_selection_deletes_the_others_and_counts_the_kept(
    qtbot: Any, library: Library, other: Library, tmp_path: Path, languages: None
) -> None:
    install_translations("en")
    photos = _photos(library, tmp_path / "photos", 3)
    for record in photos:
        library.trash(record.id)
    win = _trash_window(qtbot, library, 3)
    try:
        messages: list[str] = []
        win.controller.message.connect(messages.append)
        win.commands.select_all.trigger()
        wait_for(qtbot, lambda: len(win.browser.selected_records()) == 3)
        spy = _confirm_after(lambda: other.restore(photos[1].id))
        win.delete_permanently()  # what Shift+Delete runs
        wait_for(qtbot, lambda: bool(spy.seen))
        wait_for(qtbot, lambda: any("permanently" in m for m in messages))
        assert _alive(library, photos[0].id) is None
        assert _alive(library, photos[2].id) is None
        kept = _alive(library, photos[1].id)
        assert kept is not None, "deleted for good after a colleague restored it"
        assert not kept.is_trashed
        said = [m for m in messages if "permanently" in m][-1]
        assert said == "Deleted 2 files permanently (1 restored meanwhile elsewhere, kept)", said
    finally:
        win.shutdown()
