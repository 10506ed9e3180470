"""The window in team mode, on one SQLite data folder shared with other processes.

- With its server off, the window is the catalog's maintenance leader: a trash past its
  retention is purged; when a `mediadesk serve` that led dies, the window takes over.
- A file trashed by another process while its preview is open: the preview says so.
- Live changes from another process and a refresh (F5) keep the selected files selected.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QItemSelectionModel
from PySide6.QtWidgets import QLabel

from core.errors import NotFound
from core.library import Library
from desktop_app.views.main_window import MainWindow
from tests.conftest import make_settings
from tests.qt_helpers import wait_for
from tests.server_fixtures import bearer, http_call, make_tokens
from tests.test_team import _base_env, health, ready, spawn_serve

pytestmark = pytest.mark.timeout(180)


def _purged(library: Library, file_id: int) -> bool:
    try:
        library.get_file(file_id)
    except NotFound:
        return True
    return False


def _window(qtbot: Any, library: Library) -> MainWindow:
    win = MainWindow(library, page_size=50)
    qtbot.addWidget(win)
    win.show()
    wait_for(qtbot, lambda: not win.controller.grid.loading)
    return win


@pytest.fixture
def team_library(data_dir: Path) -> Iterator[Library]:
    """The window's library: maintenance every second, trash kept 0 days, no server."""
    lib = Library.open(
        make_settings(
            data_dir, maintenance_interval=1, trash_retention_days=0, server_autostart=False
        )
    )
    yield lib
    lib.close()


def test_window_with_its_server_off_runs_maintenance(
    qtbot: Any, team_library: Library, media_dir: Any
) -> None:
    lib = team_library
    record = lib.uploads.ingest(media_dir.jpeg, "image")
    lib.trash(record.id)
    window = _window(qtbot, lib)
    try:
        assert not window.server.running
        wait_for(qtbot, lambda: window.team.leader is not None and window.team.leader.is_leader)
        wait_for(qtbot, lambda: _purged(lib, record.id))
        leader = window.team.leader
        assert leader is not None
        wait_for(qtbot, lambda: leader.status().get("last_run_by") == leader.name)
        assert record.id in leader.status()["last_report"]["purged"]
    finally:
        window.shutdown()


def test_window_takes_over_from_a_dead_leader_and_says_what_was_trashed(
    qtbot: Any, team_library: Library, data_dir: Path, media_dir: Any
) -> None:
    lib = team_library
    admin = make_tokens(lib).admin
    env = _base_env(MEDIADESK_TRASH_RETENTION_DAYS="30")  # the server keeps the trash
    serve = ready(spawn_serve(data_dir, env))
    window = None
    try:
        wait_for(qtbot, lambda: health(serve.url, admin)["maintenance"]["leader"])
        record = lib.uploads.ingest(media_dir.png, "image")
        window = _window(qtbot, lib)
        team = window.team
        assert team.leader is not None and not team.leader.is_leader
        grid = window.controller.grid
        wait_for(qtbot, lambda: grid.row_of(record.id) >= 0)

        # the preview is open when the server (another process) trashes the file
        window.browser.select_row(grid.row_of(record.id))
        with qtbot.waitSignal(window.controller.previewReady, timeout=15000):
            window.commands.preview.trigger()
        preview = window.preview_dialog
        wait_for(qtbot, lambda: preview.isVisible())
        reply = http_call(f"{serve.url}/files/{record.id}", "DELETE", headers=bearer(admin))
        assert reply.status == 200, reply.body

        def banner() -> str:
            label = preview.findChild(QLabel, "elsewhereBanner")
            return label.text() if label is not None and label.isVisible() else ""

        wait_for(qtbot, lambda: "was moved to the trash on" in banner())
        assert media_dir.png.name in banner()
        preview.close()

        # the leading server dies: the window leads within an interval and purges the trash
        assert not _purged(lib, record.id)  # the server kept it 30 days
        serve.proc.kill()
        serve.proc.wait()
        wait_for(qtbot, lambda: team.leader is not None and team.leader.is_leader)
        wait_for(qtbot, lambda: _purged(lib, record.id))
        leader = team.leader
        wait_for(qtbot, lambda: leader.status().get("last_run_by") == leader.name)
    finally:
        if window is not None:
            window.shutdown()
        serve.stop()


def test_live_changes_and_refresh_keep_the_selection(
    qtbot: Any, library: Library, settings: Any, media_dir: Any
) -> None:
    ids = [
        library.uploads.ingest(path, "image").id
        for path in (media_dir.jpeg, media_dir.png, media_dir.webp, media_dir.gif)
    ]
    window = _window(qtbot, library)
    other = Library.open(settings)  # another writer on the catalog: its own feed origin
    try:
        grid = window.controller.grid
        browser = window.browser
        wait_for(qtbot, lambda: grid.rowCount() == 4)
        picked = [ids[1], ids[2]]
        browser.select_row(grid.row_of(picked[0]))
        wait_for(qtbot, lambda: window.controller.current is not None)
        browser.grid.selectionModel().select(
            grid.index(grid.row_of(picked[1])), QItemSelectionModel.SelectionFlag.Select
        )

        def description(file_id: int) -> str | None:
            record = grid.record(file_id)
            return record.description if record is not None else None

        def kept() -> bool:
            current = window.controller.current
            return (
                sorted(browser.selected_ids()) == sorted(picked)
                and current is not None
                and current.id == picked[0]
                and browser.grid.currentIndex().row() == grid.row_of(picked[0])
            )

        assert kept()

        # another process adds a file (a row above), edits one and trashes another
        added = other.uploads.ingest(media_dir.jpeg_rotated, "image")
        other.update_file(ids[0], {"description": "edited elsewhere"})
        other.trash(ids[3])
        wait_for(qtbot, lambda: grid.row_of(added.id) >= 0 and grid.row_of(ids[3]) < 0)
        wait_for(qtbot, lambda: description(ids[0]) == "edited elsewhere")
        assert kept()

        # a selected file edited elsewhere (its row is replaced) stays selected
        other.update_file(picked[1], {"description": "mine, edited elsewhere"})
        wait_for(qtbot, lambda: description(picked[1]) == "mine, edited elsewhere")
        assert kept()

        # F5: the rows are loaded again; the same files are selected
        window.commands.refresh.trigger()
        wait_for(qtbot, lambda: not grid.loading and grid.rowCount() == 4)
        wait_for(qtbot, kept)

        # a preview and back
        with qtbot.waitSignal(window.controller.previewReady, timeout=15000):
            window.commands.preview.trigger()
        window.preview_dialog.close()
        wait_for(qtbot, kept)
    finally:
        other.close()
        window.shutdown()


def test_settings_saved_by_another_process_show_in_the_settings_dialog(
    qtbot: Any, library: Library, settings: Any
) -> None:
    from core import shared_settings
    from core.settings import save_settings

    window = _window(qtbot, library)
    other = Library.open(settings)  # another process of this data folder
    try:
        limit = library.settings.max_file_size // 2
        save_settings(
            other.settings.replace(
                max_file_size=limit, trash_retention_days=9, audit_retention_days=40
            )
        )
        shared_settings.announce(other)
        wait_for(qtbot, lambda: library.settings.max_file_size == limit)
        assert library.settings.trash_retention_days == 9
        assert library.settings.audit_retention_days == 40  # maintenance reads it at each run
        window.open_settings()
        assert window.settings_controller.settings.max_file_size == limit
        window.settings_dialog.close()
    finally:
        other.close()
        window.shutdown()
