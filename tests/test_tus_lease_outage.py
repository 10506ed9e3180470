"""A tus writer whose lease renewals fail (its PostgreSQL catalog stopped) neither crashes
anything nor writes beside a new holder: once its lease is about to run out it stops writing
(StorageUnavailable, as for a catalog outage), keeps what was recorded, records nothing more
and cuts nothing from the file another writer may own by then.

Two libraries on one throwaway cluster and one data folder (tests/pg_server.py `pg_cluster`):
two processes of a team, as the catalog tells them apart."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.errors import StorageUnavailable, UploadLocked
from core.library import Library
from core.resumable import TusWriter
from tests.conftest import make_settings
from tests.pg_server import Cluster, pg_cluster  # noqa: F401
from tests.resumable_client import MiB, padded_mp4

pytestmark = pytest.mark.timeout(120)
LEASE = 5  # seconds: the shortest the settings allow
BOUND = 30.0  # generous, for a loaded machine: about a lease is expected


@pytest.fixture
def team(data_dir: Path, pg_cluster: Cluster) -> Iterator[tuple[Library, Library]]:  # noqa: F811
    settings = make_settings(data_dir, database_url=pg_cluster.url, tus_lease_seconds=LEASE)
    a = Library.open(settings)
    b = Library.open(settings)
    try:
        yield a, b
    finally:
        b.close()
        a.close()


def taken(lib: Library, upload_id: str) -> TusWriter:
    deadline = time.monotonic() + BOUND
    while True:
        try:
            return lib.resumable.writer(upload_id, None)
        except (UploadLocked, StorageUnavailable) as exc:
            assert time.monotonic() < deadline, f"never taken: {exc}"
            time.sleep(0.05)


def test_a_writer_that_cannot_renew_stops_before_another_takes_over(
    team: tuple[Library, Library],
    pg_cluster: Cluster,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, b = team
    crashed: list[threading.ExceptHookArgs] = []
    monkeypatch.setattr(threading, "excepthook", crashed.append)
    data = padded_mp4(tmp_path / "v.mp4", 12 * MiB).read_bytes()
    upload_id = a.resumable.create(len(data), {"filename": "v.mp4"}).id
    late = a.resumable.writer(upload_id, 0)
    late.write(data[:MiB])
    pg_cluster.stop()
    try:
        # a slow client's bytes go on arriving while the catalog is out: written, until the
        # lease's end nears and no renewal went through
        deadline = time.monotonic() + BOUND
        with pytest.raises(StorageUnavailable) as stopped:
            while True:
                late.write(data[late.offset : late.offset + 1024])
                assert time.monotonic() < deadline, "the writer went on past its lease"
                time.sleep(0.1)
        assert stopped.value.reason == "catalog_unreachable"
    finally:
        pg_cluster.start()
    held_by_a = late.offset
    # the catalog back, b (another server) takes the upload from the offset recorded
    writer = taken(b, upload_id)
    assert writer.offset == 0
    writer.write(data[: 10 * MiB])
    deadline = time.monotonic() + BOUND
    while b.resumable.get(upload_id).offset < 10 * MiB:  # b's checkpoint, recorded
        assert time.monotonic() < deadline
        time.sleep(0.05)
    # a's request ends only now: it records nothing over b's offset, cuts nothing of b's file
    late.abort()
    assert b.resumable.get(upload_id).offset == 10 * MiB
    part = data_file(a, upload_id)
    assert part.stat().st_size >= 10 * MiB > held_by_a
    writer.write(data[10 * MiB :])
    done = writer.close()
    assert done.file_id is not None
    stored = b.read_object(b.get_file(done.file_id).storage_key)
    assert hashlib.sha256(stored).hexdigest() == hashlib.sha256(data).hexdigest()
    assert crashed == []  # no thread (the renewer's) died of the outage


def data_file(lib: Library, upload_id: str) -> Path:
    return lib.paths.data_dir / "uploads" / f"{upload_id}.part"
