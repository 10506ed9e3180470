"""An offscreen desktop window and a `mediadesk serve` process on one data folder (SQLite).

The window sees an upload through the server in its grid within a second, a PATCH through
the server while the window edits the same file opens the conflict dialog (Overwrite and
Reload both do what they say), a file trashed through the server while open says so, and the
status bar names the catalog and shows the live feed connected.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.library import Library
from desktop_app.views.conflict_dialog import ConflictDialog
from desktop_app.views.main_window import MainWindow
from tests.qt_helpers import shown_window, wait_for
from tests.server_fixtures import bearer, http_call, make_tokens
from tests.test_team import Serve, _base_env, ready, spawn_serve, upload

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def server(library: Library, data_dir: Path) -> Iterator[tuple[Serve, str]]:
    admin = make_tokens(library).admin
    serve = ready(spawn_serve(data_dir, _base_env()))
    try:
        yield serve, admin
    finally:
        serve.stop()


@pytest.fixture
def window(qtbot: Any, library: Library) -> Iterator[MainWindow]:
    with shown_window(qtbot, library) as win:
        yield win


def patch(url: str, token: str, file_id: int, **changes: Any) -> dict[str, Any]:
    reply = http_call(
        f"{url}/files/{file_id}",
        "PATCH",
        json.dumps(changes).encode(),
        {**bearer(token), "Content-Type": "application/json"},
    )
    assert reply.status == 200, reply.body
    return dict(reply.json())


def test_window_is_live_with_a_server_process(
    qtbot: Any, window: MainWindow, server: tuple[Serve, str], media_dir: Any, library: Library
) -> None:
    serve, admin = server
    status = window.status
    assert "SQLite mediadesk.sqlite3" in status.catalog.text()
    wait_for(qtbot, lambda: status.feed.text() == "● Live")

    # an upload through the server appears in the grid within a second
    record = upload(serve.url, admin, media_dir.jpeg)
    answered = time.monotonic()
    file_id = int(record.get("file_id", record.get("id")))
    grid = window.controller.grid
    wait_for(qtbot, lambda: grid.row_of(file_id) >= 0)
    assert time.monotonic() - answered <= 1.0

    # edits in the window while the server saves the same file: the conflict dialog
    current = library.get_file(file_id)
    window.controller.set_current(current)
    details = window.details
    wait_for(qtbot, lambda: details.record is not None and details.record.id == file_id)
    details.description.setPlainText("mine")
    assert details.dirty
    theirs = patch(serve.url, admin, file_id, description="theirs", is_public=True)
    wait_for(qtbot, lambda: details.record.version == theirs["version"])
    assert details.dirty and details.description.toPlainText() == "mine"  # edits kept
    assert details.request_save()
    team = window.team
    wait_for(qtbot, lambda: team.conflict_dialog is not None)
    dialog = team.conflict_dialog
    assert dialog is not None and dialog.isVisible()
    assert ("Description", "theirs", "mine") in dialog.rows()
    dialog.overwrite_button.click()
    wait_for(qtbot, lambda: library.get_file(file_id).description == "mine")
    saved = library.get_file(file_id)
    assert saved.is_public is True  # their other change stays: only my fields are written
    wait_for(qtbot, lambda: not details.dirty)

    # again, and this time Reload: my edits go, theirs show
    details.description.setPlainText("mine again")
    theirs = patch(serve.url, admin, file_id, description="theirs again")
    wait_for(qtbot, lambda: details.record.version == theirs["version"])
    assert details.request_save()
    wait_for(qtbot, lambda: team.conflict_dialog is not None)
    reload_dialog = team.conflict_dialog
    assert isinstance(reload_dialog, ConflictDialog)
    reload_dialog.reload_button.click()
    wait_for(qtbot, lambda: not details.dirty)
    assert details.description.toPlainText() == "theirs again"
    assert library.get_file(file_id).description == "theirs again"

    # trashed through the server while open here: the window says so
    reply = http_call(f"{serve.url}/files/{file_id}", "DELETE", headers=bearer(admin))
    assert reply.status == 200, reply.body
    wait_for(qtbot, lambda: "was moved to the trash on" in status.currentMessage())
    assert media_dir.jpeg.name in status.currentMessage()
