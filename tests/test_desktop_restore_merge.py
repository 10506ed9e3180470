"""A restore that merges the file into a copy of the same bytes uploaded again while it was in
the trash (README "Duplicates keep their id": its id answers as the copy's, its own edits give
way) said only "Restored 1 file": nobody learnt that the file became the other one nor that
its description went. The status line now says both, naming the copy. Real library, real
files, the real window."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image

pytest.importorskip("PySide6.QtWidgets")

from core.library import Library  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from desktop_app.models.sidebar_model import SidebarFilter  # noqa: E402
from tests.qt_helpers import shown_window, wait_for  # noqa: E402

pytestmark = pytest.mark.timeout(120)


@pytest.mark.parametrize(
    ("language", "restored", "became", "gave_way"),
    [
        ("en", "Restored 1 file", "“mine.jpg” became “again.jpg”", "gave way"),
        ("es", "Se restauró 1 archivo", "«mine.jpg» pasó a ser «again.jpg»", "cedieron"),
    ],
)
def test_a_restore_merged_into_a_copy_uploaded_again_says_so(
    qtbot: Any,
    qapp: Any,
    library: Library,
    tmp_path: Path,
    language: str,
    restored: str,
    became: str,
    gave_way: str,
) -> None:
    install_translations(language)
    try:
        mine, again = tmp_path / "mine.jpg", tmp_path / "again.jpg"
        Image.new("RGB", (64, 48), (10, 200, 90)).save(mine, "JPEG")
        again.write_bytes(mine.read_bytes())
        first = library.uploads.ingest(mine, "image")
        library.update_file(first.id, {"description": "my notes"})
        library.trash(first.id)
        copy = library.uploads.ingest(again, "image")
        assert copy.id != first.id and not copy.duplicate
        with shown_window(qtbot, library) as window:
            c = window.controller
            c.set_filter(SidebarFilter("trash"))
            wait_for(qtbot, lambda: c.grid.row_of(first.id) >= 0)
            said: list[str] = []
            c.message.connect(said.append)
            c.restore([first.id])
            wait_for(qtbot, lambda: any(restored in m for m in said))
            (line,) = [m for m in said if restored in m]
            assert became in line, line
            assert str(copy.id) in line and gave_way in line, line
        merged = library.get_file(first.id)
        assert merged.duplicate_of == copy.id and merged.description != "my notes"
    finally:
        install_translations("en")
