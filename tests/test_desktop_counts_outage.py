"""A background refresh of the sidebar's counts that meets a catalog outage opens no dialog.

A change made elsewhere (another desktop, a server) refreshes the counts by itself; while the
team's PostgreSQL catalog restarted, that refresh failed and every desktop on it opened a modal
warning although nobody there did anything (LibraryController._on_sidebar_failed ->
runner.failed -> MainWindow.show_error). Now it is logged, the status bar says it, and the
counts are refreshed again by themselves once the catalog answers.

Real SQLite catalog and a second Library on it as the other desktop; the outage is core's own
error for a catalog out of reach (core.errors.catalog_down, what every path of core raises once
the catalog is known to be out), raised by the counts while `down`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: E402

from core.errors import catalog_down, catalog_unreachable  # noqa: E402
from core.library import Library  # noqa: E402
from core.records import FileRecord  # noqa: E402
from core.settings import Settings  # noqa: E402
from desktop_app.controllers import library_controller  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from tests.qt_helpers import shown_window, wait_for  # noqa: E402

pytestmark = pytest.mark.timeout(120)


def _photos(library: Library, folder: Path, count: int) -> list[FileRecord]:
    folder.mkdir(parents=True, exist_ok=True)
    records = []
    for i in range(count):
        path = folder / f"count-{i}.jpg"
        Image.new("RGB", (32, 24), (i * 50 % 256, 120, 30)).save(path, "JPEG")
        records.append(library.uploads.ingest(path, "image"))
    return records


@pytest.fixture
def other(settings: Settings) -> Iterator[Library]:
    lib = Library.open(settings)
    yield lib
    lib.close()


@pytest.fixture
def english(qapp: Any) -> None:
    install_translations("en")


class CatalogDown:
    """The counts fail as on a catalog out of reach while `down`."""

    def __init__(self, library: Library, monkeypatch: pytest.MonkeyPatch) -> None:
        self.down = False
        self.failed = 0
        real = library.counts

        def counts(*args: Any, **kwargs: Any) -> Any:
            if self.down:
                self.failed += 1
                raise catalog_down()
            return real(*args, **kwargs)

        monkeypatch.setattr(library, "counts", counts)


def _boxes() -> list[QMessageBox]:
    return [
        w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()
    ]


def test_a_background_refresh_in_an_outage_opens_no_dialog_and_comes_back(
    qtbot: Any,
    library: Library,
    other: Library,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    english: None,
) -> None:
    assert catalog_unreachable(catalog_down())  # the outage as core tells it
    monkeypatch.setattr(library_controller, "COUNTS_RETRY_FIRST", 300)
    photos = _photos(library, tmp_path / "photos", 2)
    outage = CatalogDown(library, monkeypatch)
    with shown_window(qtbot, library) as window:
        c = window.controller
        wait_for(qtbot, lambda: c.counts.get("all") == 2)
        messages: list[str] = []
        c.outageChanged.connect(messages.append)
        outage.down = True
        other.trash(photos[0].id)  # a team change: the counts refresh by themselves
        wait_for(qtbot, lambda: outage.failed >= 1)
        qtbot.wait(500)
        assert QApplication.activeModalWidget() is None, QApplication.activeModalWidget()
        assert _boxes() == []
        assert window.last_error == ""
        assert any("catalog" in m and "cannot be reached" in m for m in messages), messages
        assert "cannot be reached" in window.status.currentMessage()
        assert c.counts.get("all") == 2  # the last counts stay meanwhile

        outage.down = False  # the catalog is back: no further change needed
        wait_for(qtbot, lambda: c.counts.get("all") == 1 and c.counts.get("trash") == 1)
        assert _boxes() == [] and window.last_error == ""


def test_other_errors_of_a_refresh_are_still_shown(
    qtbot: Any, library: Library, monkeypatch: pytest.MonkeyPatch, english: None
) -> None:
    """Only an outage, which passes by itself, is kept out of a dialog: a fault is not."""

    def broken() -> Any:
        raise RuntimeError("a bug in the counts")

    with shown_window(qtbot, library) as window:
        monkeypatch.setattr(library, "counts", broken)
        window.controller.refresh_sidebar()
        wait_for(qtbot, lambda: bool(window.last_error))
        for box in _boxes():
            box.close()


def test_the_example_files_in_an_outage_open_no_dialog(
    qtbot: Any, library: Library, monkeypatch: pytest.MonkeyPatch, english: None
) -> None:
    """The server panel's example files, looked for when the counts change: no dialog either."""

    def down(*_args: Any, **_kwargs: Any) -> Any:
        raise catalog_down()

    with shown_window(qtbot, library) as window:
        c = window.controller
        seen: list[BaseException] = []
        c.runner.errorSeen.connect(seen.append)
        monkeypatch.setattr(library, "list_files", down)
        c.refresh_examples()
        wait_for(qtbot, lambda: bool(seen))
        qtbot.wait(300)
        assert _boxes() == [] and window.last_error == ""


def _listing_goes_down(
    library: Library, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[bool], list[int]]:
    """The library's listing fails as an unreachable catalog while `down[0]`; `failed[0]`
    counts the pages it refused."""
    real, down, failed = library.list_files, [False], [0]

    def list_files(*args: Any, **kwargs: Any) -> Any:
        if down[0]:
            failed[0] += 1
            raise catalog_down()
        return real(*args, **kwargs)

    monkeypatch.setattr(library, "list_files", list_files)
    return down, failed


def test_grid_pages_in_an_outage_open_no_dialog_and_load_by_themselves(
    qtbot: Any,
    library: Library,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    english: None,
) -> None:
    """Each page the grid asked while the catalog was out opened a modal warning (loadFailed
    -> MainWindow.show_error): now the status bar says it once and the page is asked again."""
    monkeypatch.setattr(library_controller, "COUNTS_RETRY_FIRST", 200)
    _photos(library, tmp_path / "photos", 2)
    down, failed = _listing_goes_down(library, monkeypatch)
    with shown_window(qtbot, library) as window:
        c = window.controller
        wait_for(qtbot, lambda: c.grid.rowCount() == 2)
        messages: list[str] = []
        c.outageChanged.connect(messages.append)
        down[0] = True
        c.grid.reload()  # F5, a new search, a change elsewhere that reloads
        wait_for(qtbot, lambda: failed[0] >= 2)  # asked again by itself
        assert QApplication.activeModalWidget() is None, QApplication.activeModalWidget()
        assert _boxes() == [] and window.last_error == ""
        listed = [m for m in messages if "files are listed by themselves" in m]
        assert len(listed) == 1, messages  # said once, not at every try
        down[0] = False
        wait_for(qtbot, lambda: c.grid.rowCount() == 2)
        assert _boxes() == [] and window.last_error == ""


def test_other_errors_of_a_page_are_still_shown(
    qtbot: Any, library: Library, monkeypatch: pytest.MonkeyPatch, english: None
) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("a bug in the listing")

    with shown_window(qtbot, library) as window:
        monkeypatch.setattr(library, "list_files", broken)
        window.controller.grid.reload()
        wait_for(qtbot, lambda: bool(window.last_error))
        for box in _boxes():
            box.close()


def test_a_view_asked_in_an_outage_says_so_not_that_it_is_empty(
    qtbot: Any,
    library: Library,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    english: None,
) -> None:
    """A search (a view, F5) whose first page met the outage said "No files match …" and
    "0 files" while the sidebar said 3, as if the catalog had answered with nothing; and its
    status-bar line went after 6 s though the page was still asked again. Now the empty area
    says the catalog is out, the header names no count, and the line stays until a page comes."""
    monkeypatch.setattr(library_controller, "COUNTS_RETRY_FIRST", 200)
    _photos(library, tmp_path / "photos", 3)
    down, failed = _listing_goes_down(library, monkeypatch)
    with shown_window(qtbot, library) as window:
        c, browser = window.controller, window.browser
        wait_for(qtbot, lambda: c.grid.rowCount() == 3)
        down[0] = True
        c.set_search("count-1")
        wait_for(qtbot, lambda: failed[0] >= 1 and not c.grid.loading)
        assert browser.stack.currentWidget() is browser.empty
        notice = browser.empty.text()
        assert "cannot be reached" in notice and "match" not in notice, notice
        assert browser.total.text() == "", browser.total.text()  # not "0 files"
        assert "listed by themselves" in window.status.currentMessage()
        window.status.showMessage("Link copied to the clipboard", 50)  # another notice passes
        wait_for(qtbot, lambda: "listed by themselves" in window.status.currentMessage())
        wait_for(qtbot, lambda: failed[0] >= 2)  # asked again: the notice stays meanwhile
        assert browser.stack.currentWidget() is browser.empty
        assert "cannot be reached" in browser.empty.text()
        down[0] = False
        wait_for(qtbot, lambda: c.grid.rowCount() == 1)
        assert browser.stack.currentWidget() is browser.grid
        assert browser.total.text() == "1 file"
        assert window.status.currentMessage() == ""
