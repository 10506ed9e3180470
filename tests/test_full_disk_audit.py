"""Private files read while the catalog's disk is full (a real small tmpfs holding the SQLite
catalog alone, root only; real HTTP over loopback): their audit entries wait in memory, as the
tokens' last uses do, and are written once there is room.

Before, AuditSink.flush kept entries only for a catalog busy or out of reach: "database or disk
is full" was logged with a traceback at every flush ("Could not write N audit entries") and the
entries dropped, so /audit missed every access to a private file made meanwhile."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.audit import AuditLog
from core.library import Library
from server import auditing
from server.auditing import AuditSink
from server.entry import EmbeddedServer
from server.state import Threads
from tests.faults import catalog_on_tmpfs, fill_disk, wait_for
from tests.internals import db_of
from tests.resumable_client import noise_png
from tests.server_fixtures import bearer, http_call, make_tokens, server_config

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def catalog_full(tmp_path: Path) -> Iterator[Library]:
    with catalog_on_tmpfs(tmp_path, "4m") as lib:
        yield lib


def _fill(lib: Library, folder: Path) -> Path:
    """Cuts the catalog's -wal to nothing (its next write needs new room) and fills the disk."""
    with db_of(lib).engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    filler = folder / "filler"
    fill_disk(filler)
    return filler


def _streamed(lib: Library) -> list[int | None]:
    entries, _total = lib.audit.query(action="stream_raw")
    return sorted(e.file_id for e in entries)  # type: ignore[arg-type, type-var]


def test_private_reads_on_a_full_catalog_disk_are_audited_once_there_is_room(
    catalog_full: Library,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lib = catalog_full
    monkeypatch.setattr(auditing, "RETRY_SECONDS", 0.1)  # several flushes meet the full disk
    caplog.set_level(logging.INFO, logger="server.auditing")
    tokens = make_tokens(lib)
    ids = [lib.uploads.ingest(noise_png(tmp_path / f"{n}.png", 40), "image").id for n in range(3)]
    assert not any(lib.get_file(i).is_public for i in ids)
    with EmbeddedServer(lib, config=server_config(lib)) as server:
        filler = _fill(lib, tmp_path / "catalog")
        edit = http_call(
            f"{server.url}/files/{ids[0]}",
            "PATCH",
            b'{"description": "x"}',
            {**bearer(tokens.upload), "Content-Type": "application/json"},
        )
        assert edit.status == 507, edit.body  # the catalog's disk is really full
        for file_id in ids:
            read = http_call(f"{server.url}/stream/{file_id}/raw", headers=bearer(tokens.read))
            assert read.status == 200, read.body
        wait_for(lambda: _met_the_full_disk(caplog), 20, "a flush meeting the full disk")
        assert _streamed(lib) == []
        filler.unlink()
        wait_for(lambda: _streamed(lib) == sorted(ids), 20, "the entries written")
    flushes = [r for r in caplog.records if r.name == "server.auditing"]
    assert not any(r.exc_info for r in flushes), [r.getMessage() for r in flushes]
    said = [r.getMessage() for r in flushes]
    assert sum("wait in memory" in m for m in said) == 1, said  # once for the episode
    assert sum("that waited for room" in m for m in said) == 1, said


def _met_the_full_disk(caplog: pytest.LogCaptureFixture) -> bool:
    """A flush met the full disk: the sink said its entries wait (or, before, dropped them)."""
    said = [r.getMessage() for r in caplog.records if r.name == "server.auditing"]
    return any("wait in memory" in m or "Could not write" in m for m in said)


def test_past_the_cap_the_oldest_go_and_are_counted_once(
    catalog_full: Library,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Memory stays bounded while the disk stays full: past KEEP_AT_MOST the oldest entries are
    dropped, said in one line for the episode (not one per flush), and counted when the ones
    kept are written."""
    lib = catalog_full
    monkeypatch.setattr(auditing, "KEEP_AT_MOST", 2)
    caplog.set_level(logging.INFO, logger="server.auditing")
    log = AuditLog(db_of(lib))
    threads = Threads(2)
    threads.start()
    sink = AuditSink(log)
    sink.bind(threads)
    filler = _fill(lib, tmp_path / "catalog")

    async def episode() -> list[bool]:
        flushed = []
        for n in range(5):
            sink.add("token:test", "stream_raw", n + 1, "127.0.0.1")
            flushed.append(await sink.flush())
        filler.unlink()
        flushed.append(await sink.flush())
        return flushed

    try:
        assert asyncio.run(episode()) == [False] * 5 + [True]
    finally:
        threads.shutdown()
    assert _streamed(lib) == [4, 5]  # the newest kept
    said = [r.getMessage() for r in caplog.records if r.name == "server.auditing"]
    assert sum("Dropping the oldest" in m for m in said) == 1, said
    assert sum("wait in memory" in m for m in said) == 1, said  # five flushes, one line
    assert any("3 older ones were dropped" in m for m in said), said
    assert not any(r.exc_info for r in caplog.records), said
