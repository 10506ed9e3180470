"""A tus upload that fills the disk the whole data folder lives on, catalog included (a real
small tmpfs, root only; real HTTP over loopback): the bytes past the recorded offset are cut off
at once, termination frees the bytes before it writes to the catalog, maintenance finishes
what a full disk interrupted, and the log file says once that it cannot be written."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from core.leader import MaintenanceLeader
from core.library import Library
from core.maintenance import run_maintenance
from server.entry import EmbeddedServer
from tests.conftest import make_s3_settings, make_settings
from tests.faults import assert_healthy, fill_disk, small_tmpfs, start_serve, wait_for
from tests.internals import db_of
from tests.resumable_client import TUS, MiB, create, head, noise_png, padded_mp4, patch
from tests.server_fixtures import bearer, http_call, make_tokens, multipart_body, server_config

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def full_library(tmp_path: Path) -> Iterator[Library]:
    """A library whose whole data folder (catalog, uploads, objects, logs) is a 16 MiB tmpfs."""
    with small_tmpfs(tmp_path / "data", "16m") as data_dir:
        lib = Library.open(make_settings(data_dir, max_file_size=300 * MiB))
        try:
            yield lib
        finally:
            lib.close()


def _empty_wal(lib: Library) -> None:
    """Checkpoints the catalog's WAL and cuts it to nothing, so that the next catalog write
    needs new room on the disk (as a WAL that has no room left; SQLite reuses a WAL's space)."""
    with db_of(lib).engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    wal = Path(f"{lib.paths.database_file}-wal")
    assert not wal.exists() or wal.stat().st_size == 0, wal


def _direct(url: str, token: str, data: bytes) -> Any:
    body, ctype = multipart_body({"file_type": "image"}, {"file": ("p.png", data, "image/png")})
    return http_call(
        f"{url}/files/upload/direct", "POST", body, {**bearer(token), "Content-Type": ctype}
    )


def _part(lib: Library, url: str) -> Path:
    return lib.paths.data_dir / "uploads" / f"{url.rsplit('/', 1)[1]}.part"


def test_a_patch_that_fills_the_disk_leaves_no_unrecorded_tail_and_resumes(
    full_library: Library, tmp_path: Path, media_dir: Any
) -> None:
    """The catalog cannot record the bytes written when the disk filled up (its WAL is on the
    same disk), so they are cut off at once: the .part is exactly the offset HEAD reports and
    the room they took is back for other uploads. With more room the upload resumes there and
    the catalogued file is the exact bytes."""
    lib = full_library
    tokens = make_tokens(lib)
    data = padded_mp4(tmp_path / "m.mp4", 24 * MiB + 99).read_bytes()
    png = media_dir.png.read_bytes()
    with EmbeddedServer(lib, config=server_config(lib)) as server:
        url = server.url + create(server.url, tokens.upload, len(data)).headers["Location"]
        _empty_wal(lib)
        full = patch(url, tokens.upload, 0, data)
        assert full.status == 507, full.body
        assert full.json()["error"]["code"] == "insufficient_storage"
        kept = int(head(url, tokens.upload).headers["Upload-Offset"])
        assert _part(lib, url).stat().st_size == kept  # nothing past the recorded offset
        stored = _direct(server.url, tokens.upload, png)
        assert stored.status == 201, stored.body
        data_dir = lib.paths.data_dir
        subprocess.run(["mount", "-o", "remount,size=64m", str(data_dir)], check=True)
        done = patch(url, tokens.upload, kept, data[kept:])
        assert done.status == 204, done.body
        file_id = int(done.headers["MediaDesk-File-Id"])
        assert lib.get_file(file_id).sha256 == hashlib.sha256(data).hexdigest()
        ready = {file_id: data, stored.json()["id"]: png}
        assert_healthy(lib, ready, server.url, tokens.read)


def png_ending_in_a_page(tmp_path: Path) -> bytes:
    """A PNG whose last byte goes to the .part's last page: storing it takes no new room."""
    data = noise_png(tmp_path / "p.png", 300).read_bytes()
    assert (len(data) - 1) % 4096
    return data


def sent_but_the_last_byte(
    lib: Library, base: str, token: str, data: bytes
) -> tuple[str, int, Path]:
    """A tus upload of `data` to the server at `base`, sent but for its last byte, then the disk
    filled: the upload's URL, its offset, and the filler file whose removal makes room."""
    url = base + create(base, token, len(data)).headers["Location"]
    offset, step = 0, (len(data) - 1) // 40 + 1
    while offset < len(data) - 1:  # many records: a WAL with room for those that follow
        end = min(offset + step, len(data) - 1)
        assert patch(url, token, offset, data[offset:end]).status == 204
        offset = end
    _reusable_wal(lib)
    filler = lib.paths.data_dir / "filler"
    fill_disk(filler)
    return url, offset, filler


def _reusable_wal(lib: Library) -> None:
    """Checkpoints the catalog's WAL keeping its file, so that the next catalog writes reuse its
    room (SQLite starts a checkpointed WAL over from its beginning): on a full disk the catalog
    still takes a few records while no new file can be written."""
    with db_of(lib).engine.connect() as conn:
        busy, _, _ = conn.exec_driver_sql("PRAGMA wal_checkpoint(RESTART)").one()
    assert busy == 0
    wal = Path(f"{lib.paths.database_file}-wal")
    assert wal.stat().st_size > 300 * 1024, wal.stat().st_size  # room for the records below


def test_a_last_patch_the_full_disk_cannot_store_keeps_the_upload_for_the_next_try(
    full_library: Library, tmp_path: Path
) -> None:
    """The disk fills up as the last PATCH completes an upload: its bytes are in and recorded,
    but storing the file (here its thumbnail) has no room. That answered 507 and ended the
    upload: the next HEAD said 410, and the client had to send the whole file again. Now the
    upload keeps every byte and its row: HEAD (or an empty PATCH at the full offset) tries the
    completion again, 507 while the disk is full, and catalogues the file once there is room;
    nothing is left half-stored."""
    lib = full_library
    tokens = make_tokens(lib)
    data = png_ending_in_a_page(tmp_path)
    with EmbeddedServer(lib, config=server_config(lib)) as server:
        url, offset, filler = sent_but_the_last_byte(lib, server.url, tokens.upload, data)
        last = patch(url, tokens.upload, offset, data[offset:])
        assert last.status == 507, last.body
        assert last.json()["error"]["code"] == "insufficient_storage"
        again = head(url, tokens.upload)  # tus clients HEAD before they go on
        assert again.status == 507, again.headers
        assert _part(lib, url).read_bytes() == data  # every byte kept
        empty = patch(url, tokens.upload, len(data), b"")
        assert empty.status == 507, empty.body
        filler.unlink()
        done = head(url, tokens.upload)  # as tuspy and tus-js-client go on after the error
        assert done.status == 200, done.headers
        assert done.headers["Upload-Offset"] == str(len(data))  # done: nothing more to send
        file_id = int(done.headers["MediaDesk-File-Id"])
        late = patch(url, tokens.upload, len(data), b"")  # the empty PATCH's answer, once done
        assert late.status == 409 and late.json()["error"]["details"]["file_id"] == file_id
        assert not list((lib.paths.data_dir / "uploads").iterdir())  # no .part, no link
        assert lib.get_file(file_id).sha256 == hashlib.sha256(data).hexdigest()
        assert_healthy(lib, {file_id: data}, server.url, tokens.read)


def test_terminating_an_upload_on_a_full_disk_frees_its_bytes_first(
    full_library: Library, tmp_path: Path, media_dir: Any
) -> None:
    """Everything is full, the catalog too (it cannot even record a lease): DELETE removes the
    upload's bytes first, and with their room the catalog write works; the upload is gone and
    other uploads work again."""
    lib = full_library
    tokens = make_tokens(lib)
    data = padded_mp4(tmp_path / "m.mp4", 20 * MiB).read_bytes()
    png = media_dir.png.read_bytes()
    filler = lib.paths.data_dir / "filler"
    with EmbeddedServer(lib, config=server_config(lib)) as server:
        url = server.url + create(server.url, tokens.upload, len(data)).headers["Location"]
        assert patch(url, tokens.upload, 0, data[: 6 * MiB]).status == 204
        _empty_wal(lib)
        fill_disk(filler)
        assert _direct(server.url, tokens.upload, png).status == 507  # really full
        assert head(url, tokens.upload).headers["Upload-Offset"] == str(6 * MiB)  # reads work
        gone = http_call(url, "DELETE", headers={**bearer(tokens.upload), **TUS})
        assert gone.status == 204, gone.body
        assert not _part(lib, url).exists()
        assert head(url, tokens.upload).status == 404
        stored = _direct(server.url, tokens.upload, png)
        assert stored.status == 201, stored.body
        filler.unlink()
        assert_healthy(lib, {stored.json()["id"]: png}, server.url, tokens.read)


def test_what_a_full_disk_interrupted_maintenance_finishes(
    full_library: Library, tmp_path: Path, media_dir: Any
) -> None:
    """A termination whose catalog write fails (its upload had no bytes to give back) answers
    507 but has removed the bytes; maintenance then removes the row whose bytes are gone, the
    bytes of an upload that is done, and the bytes a killed server wrote past an upload's
    recorded offset (that upload then resumes with the exact bytes)."""
    lib = full_library
    tokens = make_tokens(lib)
    png = media_dir.png.read_bytes()
    data = padded_mp4(tmp_path / "m.mp4", 3 * MiB + 7).read_bytes()
    filler = lib.paths.data_dir / "filler"
    with EmbeddedServer(lib, config=server_config(lib)) as server:
        done_url = server.url + create(server.url, tokens.upload, len(png)).headers["Location"]
        finished = patch(done_url, tokens.upload, 0, png)
        assert finished.status == 204, finished.body
        _part(lib, done_url).write_bytes(b"left behind")  # as by a failed unlink
        resumed = server.url + create(server.url, tokens.upload, len(data)).headers["Location"]
        assert patch(resumed, tokens.upload, 0, data[:MiB]).status == 204
        with open(_part(lib, resumed), "ab") as fh:  # as by a server killed mid-PATCH
            fh.write(os.urandom(MiB))
        empty = server.url + create(server.url, tokens.upload, 1000).headers["Location"]
        _empty_wal(lib)
        fill_disk(filler)
        refused = http_call(empty, "DELETE", headers={**bearer(tokens.upload), **TUS})
        assert refused.status == 507, refused.body
        assert refused.json()["error"]["code"] == "insufficient_storage"
        assert not _part(lib, empty).exists()  # the bytes went before the catalog write
        filler.unlink()
        report = run_maintenance(lib)
        assert report.errors == [], report.as_dict()
        ids = {u.rsplit("/", 1)[1] for u in (done_url, resumed, empty)}
        assert sorted(report.cleaned_uploads) == sorted(ids), report.as_dict()
        assert head(empty, tokens.upload).status == 404
        assert not _part(lib, done_url).exists()
        assert _part(lib, resumed).stat().st_size == MiB
        assert head(resumed, tokens.upload).headers["Upload-Offset"] == str(MiB)
        last = patch(resumed, tokens.upload, MiB, data[MiB:])
        assert last.status == 204, last.body
        file_id = int(last.headers["MediaDesk-File-Id"])
        ready = {file_id: data, int(finished.headers["MediaDesk-File-Id"]): png}
        assert_healthy(lib, ready, server.url, tokens.read)


LOG_REFUSED = "server.log cannot be written"


def test_the_log_file_on_a_full_disk_says_so_once_not_a_traceback_per_record(
    tmp_path: Path,
) -> None:
    """`mediadesk serve` keeps its log in the data folder: while the disk is full its stderr
    gets one line saying the file cannot be written (no "--- Logging error ---" traceback per
    record), and one when it can be written again."""
    with small_tmpfs(tmp_path / "data", "16m") as data_dir:
        server = start_serve(data_dir)
        try:
            log = data_dir / "logs" / "server.log"
            wait_for(lambda: log.exists() and log.stat().st_size, what="the log file")
            fill_disk(data_dir / "filler")

            def refused() -> bool:  # a request logs a line; the file's last page may take a few
                assert http_call(f"{server.url}/health").status in (200, 503)
                return any(LOG_REFUSED in line for line in server.stderr)

            wait_for(refused, what="the line saying the log file cannot be written")
            for _ in range(20):  # every one of them logs a record the file cannot take
                assert http_call(f"{server.url}/health").status in (200, 503)
            time.sleep(0.5)
            said = "".join(server.stderr)
            assert "Logging error" not in said and "Errno 28" in said, said
            # the log file's own line: the video worker's claim also says "The catalog cannot
            # be written" on this full disk (its record of the catalog's last contact)
            assert said.count(LOG_REFUSED) == 1, said
            (data_dir / "filler").unlink()
            assert http_call(f"{server.url}/health").status == 200
            wait_for(
                lambda: any("can be written again" in line for line in server.stderr),
                what="the line saying the log file works again",
            )
            time.sleep(0.5)
            said = "".join(server.stderr)
            assert said.count("can be written again") == 1, said
            assert "Logging error" not in said, said
            lost = re.search(r"can be written again; (\d+) log records were lost", said)
            assert lost and int(lost.group(1)) >= 20, said
            assert lost.group(0) in log.read_text()
        finally:
            server.stop()


def test_scheduled_maintenance_on_a_full_catalog_frees_room_then_takes_the_lease_again(
    full_library: Library, caplog: pytest.LogCaptureFixture
) -> None:
    """The disk is full, the catalog too: no process can write the maintenance lease. The
    scheduled run still removes what only deletes files (here a killed upload's spool file),
    says so once in the log, and with the room that gave back takes the lease on a later tick
    and runs (and records) the whole maintenance."""
    lib = full_library
    lib.paths.tmp_dir.mkdir(exist_ok=True)
    dead = lib.paths.tmp_dir / f"upload-own-{'0' * 16}-killed.part"  # its owner is gone
    dead.write_bytes(os.urandom(2 * MiB))
    _empty_wal(lib)
    fill_disk(lib.paths.data_dir / "filler")
    caplog.set_level(logging.INFO, logger="core")
    leader = MaintenanceLeader(lib, db_of(lib), interval=1.0, first_delay=0)
    leader.start()
    try:
        wait_for(lambda: not dead.exists(), what="the dead upload's bytes removed")
        wait_for(lambda: leader.status().get("last_run_at"), what="a full run, recorded")
        assert leader.is_leader
    finally:
        leader.stop()
    said = [r.getMessage() for r in caplog.records if r.name == "core.leader"]
    assert len([m for m in said if "catalog cannot be written" in m]) == 1, said
    assert any("can be written again" in m for m in said), said
    # the run without the lease did the file-only tasks and nothing else
    assert any(m.startswith("Maintenance without the lease") for m in said), said


def test_a_part_the_bucket_took_but_a_full_disk_kept_from_the_catalog_is_cut_back(
    tmp_path: Path, s3_bucket: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A tus upload to R2/S3 whose data folder fills up between a part's upload and its record
    (the catalog's WAL is on that disk): the part counted as sent before the catalog had it, so
    the buffer was cut to a negative size (the recorded offset less parts it did not record)
    and the log said "could not cut the unrecorded bytes" while they kept their room. Now the
    buffer goes back to what the catalog recorded, and the upload resumes from there."""
    data = padded_mp4(tmp_path / "m.mp4", 11 * MiB).read_bytes()
    with small_tmpfs(tmp_path / "data", "16m") as data_dir:
        settings = make_s3_settings(
            data_dir,
            s3_bucket,
            upload_part_size=5 * MiB,
        )
        lib = Library.open(settings)
        try:
            uploads = lib.resumable
            upload_id = uploads.create(len(data), {"filename": "m.mp4"}).id
            first = uploads.writer(upload_id, 0)
            first.write(data[: 7 * MiB])  # part 1 sent, 2 MiB in the buffer
            first.close()
            buffer = data_dir / "uploads" / f"{upload_id}.buffer"
            second = uploads.writer(upload_id, 7 * MiB)  # its lease recorded before the disk fills
            _empty_wal(lib)
            filler = data_dir / "filler"
            fill_disk(filler)
            os.truncate(filler, filler.stat().st_size - 3 * MiB)  # room for the buffer only
            caplog.set_level(logging.INFO, logger="core.resumable")
            with pytest.raises(OperationalError, match="disk is full"):
                second.write(data[7 * MiB : 10 * MiB])  # part 2 sent; its record fails
            second.abort()
            assert not [r for r in caplog.records if "could not cut" in r.getMessage()]
            assert buffer.stat().st_size == 2 * MiB  # 7 MiB recorded, 5 of them in part 1
            filler.unlink()
            offset = uploads.get(upload_id).offset
            assert offset == 7 * MiB
            last = uploads.writer(upload_id, offset)
            last.write(data[offset:])
            state = last.close()
            assert state.file_id is not None
            record = lib.get_file(state.file_id)
            assert record.sha256 == hashlib.sha256(data).hexdigest()
        finally:
            lib.close()
