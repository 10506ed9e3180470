"""Issue 8, item 1: a server killed with SIGKILL mid-upload leaves nothing behind after a restart,
and maintenance never removes the partial file (job work folder, storage migration copy) of a
process still alive."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from core import partials
from core.library import Library
from core.maintenance import run_maintenance
from core.settings import Settings, save_settings
from core.spool import SpoolWriter
from core.video.worker import sweep_work_folders, work_folder
from tests.faults import (
    ROOT,
    assert_healthy_cli,
    cli,
    open_request,
    partial_files,
    start_serve,
    wait_for,
)
from tests.server_fixtures import bearer, http_call, multipart_body

pytestmark = pytest.mark.timeout(90)

BIG = 20 * 1024 * 1024  # announced; only the first MiB or two ever arrive


def _upload_ready(url: str, token: str, media_dir: Any) -> tuple[int, bytes]:
    data = media_dir.png.read_bytes()
    body, ctype = multipart_body({"file_type": "image"}, {"file": ("keep.png", data, "image/png")})
    reply = http_call(
        f"{url}/files/upload/direct",
        "POST",
        body,
        {**bearer(token), "Content-Type": ctype},
    )
    assert reply.status == 201, reply.body
    return reply.json()["id"], data


def test_sigkill_mid_upload_leaves_no_partial_after_restart(data_dir: Path, media_dir: Any) -> None:
    server = start_serve(data_dir)
    try:
        assert server.token
        file_id, data = _upload_ready(server.url, server.token, media_dir)

        # 1. A direct (multipart) upload, killed while its spool file grows in tmp/.
        boundary = "----faultboundary"
        preamble = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file_type"\r\n\r\nvideo\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="match.mp4"\r\nContent-Type: video/mp4\r\n\r\n'
        ).encode()
        head = (
            "POST /files/upload/direct HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {server.token}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {len(preamble) + BIG}\r\n\r\n"
        )
        direct = open_request(server.url, head, preamble + b"\0" * (2 * 1024 * 1024))
        spool = wait_for(
            lambda: [p for p in (data_dir / "tmp").glob("upload-*.part") if p.stat().st_size],
            what="the spool file",
        )

        # 2. A local signed PUT, killed while its hidden .part grows in objects/.
        form, ctype = multipart_body(
            {
                "original_filename": "match.mp4",
                "file_type": "video",
                "content_type": "video/mp4",
                "size": str(BIG),
            }
        )
        presigned = http_call(
            f"{server.url}/files/upload/presigned",
            "POST",
            form,
            {**bearer(server.token), "Content-Type": ctype},
        )
        assert presigned.status == 201, presigned.body
        target = presigned.json()["upload_url"].split("//", 1)[1].split("/", 1)[1]
        head = (
            f"PUT /{target} HTTP/1.1\r\nHost: x\r\nContent-Type: video/mp4\r\n"
            f"Content-Length: {BIG}\r\n\r\n"
        )
        signed = open_request(server.url, head, b"\0" * (2 * 1024 * 1024))
        hidden = wait_for(
            lambda: [p for p in (data_dir / "objects").rglob(".*.part") if p.stat().st_size],
            what="the signed PUT's partial object",
        )
        assert set(partial_files(data_dir)) >= {*spool, *hidden}
        server.kill()
        direct.close()
        signed.close()
    finally:
        server.stop()

    # What the kill left: both partial files, with a dead owner.
    assert set(partial_files(data_dir)) >= {*spool, *hidden}
    restarted = start_serve(data_dir)
    try:
        assert partial_files(data_dir) == []  # start-up removed them, whatever their age
        reply = http_call(f"{restarted.url}/health")
        assert reply.status == 200
    finally:
        restarted.stop()
    assert_healthy_cli(data_dir, {file_id: data})


LIVE_WRITER = """
import sys, time
from pathlib import Path
from core.spool import SpoolWriter
writer = SpoolWriter(Path(sys.argv[1]), 10**9)
writer.write(b"x" * 1000)
print(writer.path, flush=True)
time.sleep(60)
"""


def _child_printing_a_path(script: str, arg: Path) -> tuple[subprocess.Popen[str], Path]:
    """A Python child running `script arg` that prints a path, then stays alive."""
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(arg)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        return child, Path(child.stdout.readline().strip())
    except BaseException:
        child.kill()
        child.wait()
        raise


def test_maintenance_keeps_a_live_writers_partial_and_removes_a_dead_ones(
    data_dir: Path, media_dir: Any
) -> None:
    tmp = data_dir / "tmp"
    # A partial of this (live) process, one of a live child, one with no owner at all.
    mine = SpoolWriter(tmp, 10**9)
    mine.write(b"y" * 10)
    child, theirs = _child_printing_a_path(LIVE_WRITER, tmp)
    try:
        assert theirs.is_file() and partials.owner_of(theirs.name) != partials.TOKEN
        orphan = tmp / "upload-legacy.part"
        orphan.write_bytes(b"z")

        # (the command's start-up sweep and its maintenance pass both apply the rule)
        result = cli("maintenance", "--data-dir", str(data_dir))
        assert json.loads(result.stdout)["reconcile"]["orphan_partials"] == []
        assert mine.path.exists() and theirs.exists() and not orphan.exists()

        child.kill()
        child.wait(15)
        result = cli("maintenance", "--data-dir", str(data_dir))
        assert json.loads(result.stdout)["reconcile"]["orphan_partials"] == []
        assert mine.path.exists() and not theirs.exists()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        mine.abort()
    assert_healthy_cli(data_dir, {})


WORKER = """
import os, sys, time
from core import partials
from core.library import Library
from core.settings import load_settings
from core.video.worker import work_folder
lib = Library.open(load_settings(environ={}, data_dir=sys.argv[1]))
job = lib.jobs.claim("worker")
partials.register(lib.paths.tmp_dir)  # the fork below shares this lock
# The folder is made by a fork that exits at once while this process, its owner, lives on: the
# maker's pid is gone as a worker's in another container is from here; only the lock can tell.
if os.fork() == 0:
    print(work_folder(lib, job), flush=True)
    os._exit(0)
os.wait()
time.sleep(60)
"""


def test_maintenance_removes_a_killed_workers_job_folder_and_keeps_a_live_ones(
    data_dir: Path, library: Library, media_dir: Any
) -> None:
    # Three running jobs: one claimed by a worker SIGKILLed mid-job, one by a worker that lives
    # on in another process, one by this process.
    image = library.uploads.ingest(media_dir.png, "image")
    library.jobs.enqueue(image.id, ("faststart", "web", "hls"))
    killed, theirs = _child_printing_a_path(WORKER, data_dir)
    killed.kill()
    killed.wait(15)
    live, elsewhere = _child_printing_a_path(WORKER, data_dir)
    try:
        job = library.jobs.claim("live-worker")
        assert job is not None
        mine = work_folder(library, job)
        assert all(f.is_dir() and f.parent == mine.parent for f in (theirs, elsewhere))
        # The killed worker's job still reads `running`: only its lock being free marks it.
        jobs, _ = library.jobs.list(file_id=image.id)
        assert [j.state for j in jobs] == ["running"] * 3

        result = cli("maintenance", "--data-dir", str(data_dir))
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["maintenance"]["removed_work_folders"] == [str(theirs)]
        assert not theirs.exists() and elsewhere.is_dir() and mine.is_dir()

        live.kill()
        live.wait(15)
        assert sweep_work_folders(library) == [elsewhere]
        assert mine.is_dir()
    finally:
        if live.poll() is None:
            live.kill()
            live.wait()


MIGRATION = """
import sys, time
from pathlib import Path
from core.library import Library
from core.settings import load_settings
from tests.internals import storage_of
data_dir = sys.argv[1]
config = Path(data_dir, "settings.toml")
lib = Library.open(load_settings(environ={}, config_file=config, data_dir=data_dir))

def stalled_put(key, path, *args):  # the copy is on its way to R2 when the kill comes
    print(path, flush=True)
    time.sleep(60)

storage_of(lib).backend("r2").put_file = stalled_put
lib.backends.migrate("r2")
"""


def test_maintenance_removes_a_killed_storage_migrations_copy_and_keeps_a_running_ones(
    s3_settings: Settings, media_dir: Any
) -> None:
    settings = s3_settings.replace(storage_backend="local")
    save_settings(settings, settings.config_file)  # what the migrating child opens
    lib = Library.open(settings)
    try:
        record = lib.uploads.ingest(media_dir.jpeg, "image")
        child, copy = _child_printing_a_path(MIGRATION, settings.paths.data_dir)
        try:
            copy_bytes = copy.read_bytes()
            assert copy_bytes == media_dir.jpeg.read_bytes()
            report = run_maintenance(lib)  # what `mediadesk maintenance` runs
            assert report.errors == [] and report.removed_partials == []
            assert copy.exists()

            child.kill()
            child.wait(15)
            assert run_maintenance(lib).removed_partials == [str(copy)]
            assert not copy.exists()
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
        # The kill came before the switch: the file is still local, and a new run moves it.
        assert lib.backends.migrate("r2").moved == 1
        assert b"".join(lib.open_range(lib.get_file(record.id), 0, None)) == copy_bytes
        assert list(settings.paths.tmp_dir.iterdir()) == []
    finally:
        lib.close()
