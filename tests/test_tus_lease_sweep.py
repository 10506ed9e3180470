"""Maintenance run by another process on the data folder leaves alone the bytes of an upload
whose writer still runs, even once its lease has run out (a silent request's lease is left to
run out since 7155fc3, so that another server may take the upload from its client).

A regression hunter's repro: `mediadesk serve` took half a PATCH body, the client went silent,
and `mediadesk maintenance` run meanwhile cut the bytes past the recorded offset ("cleaned"), so
the writer's late bytes got 423 and the client sent everything again. Two libraries on one
SQLite data folder: two processes, as the catalog tells them apart."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.db.models import ResumableUpload
from core.library import Library
from core.maintenance import run_maintenance
from tests.conftest import make_settings
from tests.internals import db_of
from tests.resumable_client import MiB, padded_mp4


def test_maintenance_keeps_the_bytes_of_a_live_writer_whose_lease_ran_out(
    data_dir: Path, tmp_path: Path
) -> None:
    settings = make_settings(data_dir, max_file_size=300 * MiB)
    server, maintainer = Library.open(settings), Library.open(settings)
    try:
        data = padded_mp4(tmp_path / "v.mp4", 3 * MiB).read_bytes()
        upload_id = server.resumable.create(len(data), {"filename": "v.mp4"}).id
        writer = server.resumable.writer(upload_id, 0)
        writer.write(data[:MiB])  # past the recorded offset (0) until the request ends
        with db_of(server).write() as s:  # as after a silence: not renewed, run out
            row = s.get(ResumableUpload, upload_id)
            assert row is not None
            row.lease_until = datetime.now(UTC) - timedelta(seconds=1)
        part = data_dir / "uploads" / f"{upload_id}.part"
        assert part.stat().st_size == MiB

        report = run_maintenance(maintainer)
        assert upload_id not in report.cleaned_uploads, report.as_dict()
        assert part.stat().st_size == MiB

        writer.write(data[MiB:])  # the client's late bytes: taken, nothing sent again
        done = writer.close()
        assert done.file_id is not None
        stored = server.read_object(server.get_file(done.file_id).storage_key)
        assert hashlib.sha256(stored).digest() == hashlib.sha256(data).digest()
    finally:
        maintainer.close()
        server.close()
