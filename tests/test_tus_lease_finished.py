"""The renewer's "its lease is no longer this process's" means another server took the upload,
never that the upload's own request finished it: a round of the renewer lists the held uploads,
then renews them one by one, and a request that catalogued its upload and dropped its lease in
between was logged as taken from its writer (12 of 20 slow uploads to one server).

On a PostgreSQL catalog, whose row locks let the test hold the round on one upload's renewal
while another upload finishes: the round meets the finished one only after its drop."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from core.errors import UploadLocked
from core.library import Library
from tests.conftest import make_settings
from tests.pg_server import fresh_database, postgres_url  # noqa: F401
from tests.resumable_client import padded_mp4

pytestmark = pytest.mark.timeout(60)
LEASE = 5  # seconds: the shortest the settings allow; a renewal is due every third of it
BOUND = 20.0  # generous, for a loaded machine: a third of a lease is expected
TAKEN = "no longer this process's"


@pytest.fixture
def catalog(postgres_url: str) -> str:  # noqa: F811
    return fresh_database(postgres_url, "tus_lease_finished")


@pytest.fixture
def lib(data_dir: Path, catalog: str) -> Iterator[Library]:
    lib = Library.open(make_settings(data_dir, database_url=catalog, tus_lease_seconds=LEASE))
    try:
        yield lib
    finally:
        lib.close()


def poll(what: str, ready: Callable[[], bool]) -> None:
    deadline = time.monotonic() + BOUND
    while not ready():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


def test_a_finished_upload_is_no_takeover_but_a_taken_one_is(
    lib: Library, catalog: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="core.resumable")
    data = padded_mp4(tmp_path / "v.mp4", 200_000).read_bytes()
    meta = {"filename": "v.mp4", "filetype": "video/mp4"}
    idle = lib.resumable.create(len(data), meta).id
    finished = lib.resumable.create(len(data), meta).id
    # held first, so listed first by each round of the renewer
    waiting = lib.resumable.writer(idle, 0)
    writer = lib.resumable.writer(finished, 0)
    writer.write(data)
    url = catalog.replace("+psycopg", "")
    with psycopg.connect(url, autocommit=True) as look, psycopg.connect(url) as locker:

        def renewal_waits() -> bool:
            found = look.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND query LIKE 'UPDATE resumable_uploads SET "
                "lease_until%%'"
            ).fetchone()
            return bool(found and found[0])

        locker.execute("SELECT 1 FROM resumable_uploads WHERE id = %s FOR UPDATE", (idle,))

        # a round, due a third of a lease after the takes, holds both uploads and waits on the
        # first one's row
        poll("the renewer never renewed", renewal_waits)
        done = writer.close()  # catalogued, its lease dropped by its request
        assert done.file_id is not None
        # the round's renewal must still be waiting (it gives up after a third of a lease):
        # else the finished upload's renewal was not tried after its drop
        assert renewal_waits()
    # the round goes on to the finished upload. Then another server takes the idle one (as a
    # take writes it): the next round must say so.
    with psycopg.connect(url, autocommit=True) as other:
        other.execute(
            "UPDATE resumable_uploads SET lease_owner = 'othermachine:1:1', "
            "lease_until = now() + interval '1 minute' WHERE id = %s",
            (idle,),
        )
    told = f"tus upload {idle}: its lease is {TAKEN}"
    poll("the takeover was never told", lambda: told in caplog.text)
    assert f"tus upload {finished}: its lease" not in caplog.text  # nor any line of its lease
    with pytest.raises(UploadLocked):
        waiting.write(data[:1000])
    waiting.abort()
