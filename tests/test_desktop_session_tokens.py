"""The desktop's preview token (a read token a session makes to play private files through its
embedded server) was revoked only on a clean close: after a kill -9 it stayed active forever, one
more per crash, and the next session listed it in English as "(this session)"."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

pytest.importorskip("PySide6.QtWidgets")

from core.library import Library  # noqa: E402
from desktop_app.controllers.library_controller import (  # noqa: E402
    LEGACY_PREVIEW_TOKEN_NAME,
    PREVIEW_TOKEN_PURPOSE,
)
from desktop_app.views.main_window import MainWindow  # noqa: E402
from tests.qt_helpers import wait_for

# Another desktop on the same catalog: it announces itself (as Library.open does) and makes its
# preview token; "crash" then kills itself with SIGKILL, "live" waits for stdin to close.
CHILD = """
import os, signal, sys
from core.db.engine import Database
from core.tokens import TokenStore
db = Database(sys.argv[1])
db.announce()
info, _ = TokenStore(db).create_for_process(sys.argv[2], "read")
print(info.id, flush=True)
if sys.argv[3] == "crash":
    os.kill(os.getpid(), signal.SIGKILL)
sys.stdin.read()
"""


def _run_desktop(library: Library, mode: str) -> tuple[subprocess.Popen[str], int]:
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            CHILD,
            library.settings.effective_database_url,
            PREVIEW_TOKEN_PURPOSE,
            mode,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    token_id = int(child.stdout.readline())
    if mode == "crash":
        assert child.wait(timeout=60) == -signal.SIGKILL
    return child, token_id


@pytest.fixture
def live_desktop(library: Library) -> Iterator[int]:
    child, token_id = _run_desktop(library, "live")
    yield token_id
    assert child.stdin is not None
    child.stdin.close()
    child.wait(timeout=60)


def test_a_crashed_sessions_preview_token_is_revoked_at_the_next_start(
    qtbot,  # type: ignore[no-untyped-def]
    library: Library,
    live_desktop: int,
) -> None:
    """A session killed with SIGKILL left its token active; the next start revokes it (and
    the fixed English name versions before used), not a running desktop's live one."""
    _child, crashed = _run_desktop(library, "crash")
    legacy, _ = library.tokens.create(LEGACY_PREVIEW_TOKEN_NAME, "read")
    mine, _ = library.tokens.create("my script", "read")
    window = MainWindow(library, saved_state={})
    qtbot.addWidget(window)
    try:
        wait_for(qtbot, lambda: not library.tokens.get(crashed).active)
        # the legacy one only while no other process has the catalog open: the live desktop's
        assert library.tokens.get(legacy.id).active
        assert library.tokens.get(live_desktop).active
        assert library.tokens.get(mine.id).active
    finally:
        window.shutdown()


def test_a_legacy_preview_token_goes_when_nobody_else_has_the_catalog(
    qtbot,  # type: ignore[no-untyped-def]
    library: Library,
) -> None:
    legacy, _ = library.tokens.create(LEGACY_PREVIEW_TOKEN_NAME, "read")
    window = MainWindow(library, saved_state={})
    qtbot.addWidget(window)
    try:
        wait_for(qtbot, lambda: not library.tokens.get(legacy.id).active)
    finally:
        window.shutdown()


def test_preview_tokens_are_listed_in_the_users_language(
    qtbot,  # type: ignore[no-untyped-def]
    library: Library,
    live_desktop: int,
) -> None:
    from desktop_app.i18n import install_translations

    install_translations("es")
    window = MainWindow(library, saved_state={})
    qtbot.addWidget(window)
    try:
        legacy, _ = library.tokens.create(LEGACY_PREVIEW_TOKEN_NAME, "read")
        library.tokens.revoke(legacy.id)
        window.controller._session_token()
        window.server.refresh_tokens()
        table = window.server_panel.table
        names = {}

        def listed() -> bool:
            names.clear()
            for row in range(table.rowCount()):
                item = table.item(row, 0)
                if item is not None:
                    names[item.data(256)] = item.text()
            return len(names) == 3

        wait_for(qtbot, listed)
        mine = next(t for t in library.tokens.list() if t.id not in (legacy.id, live_desktop))
        assert names[mine.id].startswith("Vistas previas de la app MediaDesk (esta sesión) (mdk_")
        assert names[legacy.id].startswith("Vistas previas de la app MediaDesk (sesión anterior)")
        assert names[live_desktop].startswith("Vistas previas de la app MediaDesk (otra sesión, ")
        assert "this session" not in " ".join(names.values())
    finally:
        install_translations("en")
        window.shutdown()
