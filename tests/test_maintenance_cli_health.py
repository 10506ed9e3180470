"""`mediadesk maintenance` is the last run /health shows.

Found by an outside team run: after command-line runs, `GET /health` went on showing the last
scheduled run (`last_run_at`, `last_run_by`, a process long dead, and its report) beside the
command line's newer reconcile. The command's run is now the catalog's last run, and since it
puts the next scheduled run an interval after it, it prunes the change log as that run does.
A real server, the real CLI in its own process, one SQLite catalog."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from core.library import Library
from server.entry import EmbeddedServer
from tests.faults import cli
from tests.media_fixtures import MediaSet
from tests.server_fixtures import Tokens, bearer, http_call, server_config, upload_file

pytestmark = pytest.mark.timeout(120)


def _maintenance(server: EmbeddedServer, tokens: Tokens) -> dict[str, Any]:
    reply = http_call(f"{server.url}/health", headers=bearer(tokens.admin))
    return dict(reply.json()["maintenance"])


@pytest.fixture
def live(library: Library) -> Iterator[EmbeddedServer]:
    """A server taking part in maintenance, whose first scheduled run (a minute after its
    start, core.leader.FIRST_RUN_DELAY) does not come within the test."""
    server = EmbeddedServer(library, config=server_config(library, maintenance_interval=3600))
    server.start()
    yield server
    server.stop()


def test_a_command_line_run_is_the_last_run_health_shows(
    live: EmbeddedServer, library: Library, tokens: Tokens, media_dir: MediaSet
) -> None:
    upload_file(live, tokens.upload, media_dir.jpeg)
    assert _maintenance(live, tokens).get("last_run_at") is None  # none scheduled yet
    started = datetime.now(UTC).replace(microsecond=0)
    result = cli("maintenance", "--data-dir", str(library.paths.data_dir))
    assert result.returncode == 0, result.stdout + result.stderr
    state = _maintenance(live, tokens)
    assert state["last_run_by"].endswith("(mediadesk maintenance)"), state
    assert datetime.fromisoformat(state["last_run_at"]) >= started
    report = state["last_report"]
    assert report["reconcile"]["clean"] is True and "change_log_pruned" in report
    assert "purged" in report  # the tasks' own report, as a scheduled run keeps it
    # its reconcile is the one /health shows beside it: one run, not two
    assert datetime.fromisoformat(state["reconcile"]["at"]) >= started
