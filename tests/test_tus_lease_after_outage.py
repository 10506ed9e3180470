"""A tus upload's catalog lease that its process could not drop (the PostgreSQL catalog stopped
under its PATCH) is dropped once the catalog answers again, so another server of the team takes
the upload within seconds, not once the lease runs out (LEASE, 10 minutes of 423s); a live
writer's lease is never dropped so.

Two libraries on one throwaway cluster (tests/pg_server.py `pg_cluster`), each its own
ResumableUploads: two servers of a team as the catalog tells them apart."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.errors import StorageUnavailable, UploadLocked
from core.library import Library
from core.resumable import TusWriter
from tests.conftest import make_settings
from tests.pg_server import Cluster, pg_cluster  # noqa: F401
from tests.resumable_client import MiB

pytestmark = pytest.mark.timeout(90)
# How long the other server may be refused once the catalog is back: a lease left for good
# (before the fix) refused it for LEASE; dropped again within a few seconds now.
TAKEN_WITHIN = 20.0


@pytest.fixture
def team(tmp_path: Path, pg_cluster: Cluster) -> Iterator[tuple[Library, Library]]:  # noqa: F811
    libs: list[Library] = []
    try:
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            libs.append(Library.open(make_settings(tmp_path / name, database_url=pg_cluster.url)))
        yield libs[0], libs[1]
    finally:
        for lib in libs:
            lib.close()


def cut_by_an_outage(a: Library, cluster: Cluster, caplog: pytest.LogCaptureFixture) -> str:
    """An upload whose PATCH on `a` ends while the catalog is stopped; the catalog back."""
    state = a.resumable.create(4 * MiB, {"filename": "v.mp4", "filetype": "video/mp4"})
    writer = a.resumable.writer(state.id, 0)
    writer.write(b"x" * MiB)
    cluster.stop()
    with caplog.at_level(logging.INFO, logger="core.resumable"):
        writer.abort()  # its record and the drop of its lease meet the outage
    assert "could not drop the lease" in caplog.text
    cluster.start()
    return state.id


def taken(lib: Library, upload_id: str) -> TusWriter:
    """A writer of the upload on `lib`, polled for while another process's lease refuses it
    (and while the library's first sessions meet the pool's connections the stop cut)."""
    deadline = time.monotonic() + TAKEN_WITHIN
    while True:
        try:
            return lib.resumable.writer(upload_id, None)
        except (UploadLocked, StorageUnavailable) as exc:
            if time.monotonic() > deadline:
                pytest.fail(f"still refused {TAKEN_WITHIN} s after the catalog came back: {exc}")
            time.sleep(0.05)


def test_another_server_takes_the_upload_once_the_catalog_is_back(
    team: tuple[Library, Library],
    pg_cluster: Cluster,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    a, b = team
    upload_id = cut_by_an_outage(a, pg_cluster, caplog)
    writer = taken(b, upload_id)
    try:
        # b holds it now: the single writer, seen from a as well
        with pytest.raises(UploadLocked):
            a.resumable.writer(upload_id, None)
        writer.write(b"y" * MiB)
    finally:
        writer.abort()
    assert b.resumable.get(upload_id).offset == writer.offset


def test_a_live_writer_of_the_same_process_keeps_its_lease(
    team: tuple[Library, Library],
    pg_cluster: Cluster,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The lease a's process left is its again as soon as a takes the upload for a new PATCH:
    a drop retried after that must not free it under the live writer."""
    a, b = team
    upload_id = cut_by_an_outage(a, pg_cluster, caplog)
    writer = taken(a, upload_id)
    try:
        # the retry at its worst moment: its round read the leases left before a's new take
        a.resumable._drop_later(upload_id)
        a.resumable.drop_leftover_leases()
        with pytest.raises(UploadLocked):
            b.resumable.writer(upload_id, None)
    finally:
        writer.abort()
    taken(b, upload_id).abort()  # the writer that ended dropped it


def test_closing_the_library_ends_its_dropper_thread(
    team: tuple[Library, Library],
    pg_cluster: Cluster,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A library closed while a lease is still left to drop (the catalog out again) stops
    trying it: its thread would otherwise go on against the disposed engine until the lease
    ran out, 10 minutes later."""
    a, _ = team
    upload_id = cut_by_an_outage(a, pg_cluster, caplog)
    pg_cluster.stop()
    a.resumable._drop_later(upload_id)  # as the cut left it, should the first retry have won
    dropper = a.resumable._dropper
    assert dropper is not None and dropper.is_alive()
    try:
        a.close()
        dropper.join(10)
        assert not dropper.is_alive(), "the dropper thread outlived its library"
        a.resumable._drop_later(upload_id)  # a request ending after close starts none
        assert a.resumable._dropper is None
    finally:
        pg_cluster.start()
