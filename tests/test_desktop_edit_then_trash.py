"""The file whose details are being edited (unsaved text in the panel), and what happens to it.

- Trashed from this window: the typed edit is saved first, then the file goes to the trash,
  so Undo brings it back with the edit (it was dropped without a word).
- Moved out of the shown section by a change made elsewhere (made public in another window
  while "Public" is not the section shown... here: its athlete changed elsewhere while one
  athlete's files are shown): the panel keeps it and the typed text, as for a file trashed
  elsewhere (LibraryController.currentGone), instead of dropping the edit.
- Undo of a trash after another desktop already restored the file says so, not "Restored 1
  file" (English and Spanish).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from core.library import Library
from core.records import FileRecord
from desktop_app.i18n import install_translations
from desktop_app.models.sidebar_model import SidebarFilter
from desktop_app.views.main_window import MainWindow
from tests.qt_helpers import shown_window, wait_for
from tests.test_catalog_disk_gone import english  # noqa: F401  (a fixture)

pytestmark = pytest.mark.timeout(120)


def _photos(library: Library, folder: Path, count: int, **extra: Any) -> list[FileRecord]:
    records = []
    for i in range(count):
        path = folder / f"photo{i}.jpg"
        Image.new("RGB", (64, 48), (i * 30 % 256, 90, 160)).save(path)
        records.append(library.uploads.ingest(path, "image", **extra))
    return records


def _select(qtbot: Any, window: MainWindow, file_id: int) -> None:
    grid = window.controller.grid
    wait_for(qtbot, lambda: grid.row_of(file_id) >= 0)
    window.browser.select_row(grid.row_of(file_id))
    details = window.details
    wait_for(qtbot, lambda: details.record is not None and details.record.id == file_id)


def test_trashing_the_file_being_edited_saves_the_edit_first(
    qtbot: Any, library: Library, tmp_path: Path
) -> None:
    records = _photos(library, tmp_path, 3)
    target = records[1]
    with shown_window(qtbot, library) as window:
        details = window.details
        _select(qtbot, window, target.id)
        qtbot.keyClicks(details.description, "typed before the trash")
        assert details.dirty
        window.commands.trash.trigger()
        wait_for(qtbot, lambda: library.get_file(target.id).is_trashed)
        assert library.get_file(target.id).description == "typed before the trash"
        window.commands.undo_trash.trigger()
        wait_for(qtbot, lambda: not library.get_file(target.id).is_trashed)
        assert library.get_file(target.id).description == "typed before the trash"
        others = [r for r in records if r.id != target.id]
        assert all(library.get_file(r.id).description == r.description for r in others)


def test_the_file_being_edited_moved_out_of_the_section_elsewhere_keeps_the_edit(
    qtbot: Any, library: Library, settings: Any, tmp_path: Path
) -> None:
    first = library.create_athlete("Ana")
    second = library.create_athlete("Bea")
    records = _photos(library, tmp_path, 2, athlete_id=first.id)
    target = records[0]
    other = Library.open(settings)
    try:
        with shown_window(qtbot, library) as window:
            controller, details = window.controller, window.details
            controller.set_filter(SidebarFilter("athlete", first.id))
            wait_for(qtbot, lambda: not controller.grid.loading)
            _select(qtbot, window, target.id)
            qtbot.keyClicks(details.description, "unsaved note")
            assert details.dirty
            other.update_file(target.id, {"athlete_id": second.id}, None)
            wait_for(qtbot, lambda: controller.grid.row_of(target.id) < 0)
            qtbot.wait(500)
            assert details.record is not None and details.record.id == target.id
            assert details.description.toPlainText() == "unsaved note"
            assert details.dirty
    finally:
        other.close()


def test_undo_after_another_desktop_restored_says_so(
    qtbot: Any,
    library: Library,
    settings: Any,
    tmp_path: Path,
    english: None,  # noqa: F811
) -> None:
    records = _photos(library, tmp_path, 2)
    target = records[0]
    other = Library.open(settings)
    try:
        with shown_window(qtbot, library) as window:
            _select(qtbot, window, target.id)
            messages: list[str] = []
            window.controller.message.connect(messages.append)
            window.commands.trash.trigger()
            wait_for(qtbot, lambda: messages == ["Moved 1 file to the trash"])
            other.restore(target.id)
            messages.clear()
            window.commands.undo_trash.trigger()
            wait_for(qtbot, lambda: bool(messages))
            assert messages == ["Nothing to restore: the file was already restored"], messages
            install_translations("es")
            nothing = "Nothing to restore: the file was already restored"
            spanish = window.controller.tr(nothing, "", 1)
            install_translations("en")
            assert spanish.startswith("Nada que restaurar"), spanish
    finally:
        other.close()
