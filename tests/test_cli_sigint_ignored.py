"""`mediadesk maintenance` and `mediadesk catalog copy` started with SIGINT ignored stop on it.

A command started from a script's `cmd &`, from cron or nohup under `trap '' INT`, or by a
parent that ignores SIGINT inherits the signal ignored, and Python keeps an inherited SIG_IGN:
`serve` had restored a handler for itself, but maintenance and catalog copy went on deaf to
Ctrl+C and to the `kill -INT` meant to stop them (a copy ran to its end and committed). Now
every command hears it (core/stdio.py `hear_interrupts`, one place): stopped where it is, the
step under way rolled back, "mediadesk: interrupted", exit status 130.

Real `.venv/bin/mediadesk` processes; the signal comes while the command is held where the
test knows it is: maintenance inside its run (its run lock held), its request to the store
(moto behind a stalled proxy) unanswered; the copy inside its one transaction on the tests'
PostgreSQL, its stderr a full pipe. Nothing depends on timing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from core.leader import RUN_LOCK, proc_lock_pids
from core.library import Library
from tests import media
from tests.conftest import make_settings
from tests.faults import ROOT, CuttableProxy, wait_for
from tests.pg_server import fresh_database, postgres_url  # noqa: F401
from tests.s3_server import S3Target, s3_client

pytestmark = pytest.mark.timeout(120)
MEDIADESK = str(ROOT / ".venv" / "bin" / "mediadesk")
WAIT = 60.0


def _ignoring_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as `trap '' INT` or a background job


def _env(**more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEDIADESK_", "R2_"))}
    return {**env, **more}


def _start(args: list[str], env: dict[str, str], **pipes: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [MEDIADESK, *args],
        cwd=ROOT,
        env=env,
        preexec_fn=_ignoring_sigint,  # noqa: PLW1509 - only a signal disposition, before exec
        **pipes,
    )


@pytest.fixture
def proxy(s3_bucket: S3Target) -> Iterator[CuttableProxy]:
    store = CuttableProxy.in_front_of(s3_bucket.endpoint_url)
    yield store
    store.close()


def _keys(bucket: S3Target) -> set[str]:
    listed = s3_client(bucket).list_objects_v2(Bucket=bucket.bucket)
    return {o["Key"] for o in listed.get("Contents", [])}


def test_maintenance_stops_on_sigint_mid_step(
    data_dir: Path, s3_bucket: S3Target, proxy: CuttableProxy
) -> None:
    r2 = {
        "R2_ENDPOINT_URL": proxy.url,
        "R2_BUCKET_NAME": s3_bucket.bucket,
        "R2_ACCESS_KEY_ID": s3_bucket.access_key_id,
        "R2_SECRET_ACCESS_KEY": s3_bucket.secret_access_key,
        "R2_REGION": s3_bucket.region,
    }
    lib = Library.open(
        make_settings(
            data_dir,
            r2_endpoint_url=proxy.url,
            r2_bucket_name=s3_bucket.bucket,
            r2_access_key_id=s3_bucket.access_key_id,
            r2_secret_access_key=s3_bucket.secret_access_key,
            r2_region=s3_bucket.region,
        )
    )
    try:
        trashed = []
        for i in range(2):
            photo = data_dir.parent / f"p{i}.jpg"
            media.make_jpeg(photo, size=(64, 48), color=(60 * i, 80, 120))
            trashed.append(lib.uploads.ingest(photo, "image").id)
            lib.trash(trashed[-1])
    finally:
        lib.close()
    stored = _keys(s3_bucket)
    assert stored
    # a retention of 0 days: maintenance purges the whole trash, deleting objects in the store
    env = _env(MEDIADESK_TRASH_RETENTION_DAYS="0", **r2)
    proxy.stall()
    run = _start(
        ["maintenance", "--data-dir", str(data_dir)],
        env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(lambda: proxy.waiting() or run.poll() is not None, WAIT, "a store request")
        assert run.poll() is None, run.communicate()
        # inside its run (the run lock is taken once the library is open), a step waiting on
        # the store
        assert run.pid in proc_lock_pids(data_dir / RUN_LOCK, "FLOCK")
        run.send_signal(signal.SIGINT)
        # what the stall holds is dropped: deaf to the signal, the run would go on to its end
        proxy.restore()
        out, err = run.communicate(timeout=WAIT)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    said = err.decode()
    assert run.returncode == 130, said
    assert said.rstrip().endswith("mediadesk: interrupted"), said
    assert "Traceback" not in said and out == b"", said
    # nothing was purged: the trash and the bytes as they were
    assert _keys(s3_bucket) == stored
    lib = Library.open(make_settings(data_dir, **{k.lower(): v for k, v in r2.items()}))
    try:
        in_trash = lib.list_files(status=None, trashed=True, limit=10).items
        assert sorted(f.id for f in in_trash) == sorted(trashed)
    finally:
        lib.close()
    # the run lock was let go, the store agrees with the catalog: the next run does it all
    again = subprocess.run(
        [MEDIADESK, "maintenance", "--data-dir", str(data_dir)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=WAIT,
    )
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["reconcile"]["clean"], report
    assert sorted(report["maintenance"]["purged"]) == sorted(trashed), report
    assert _keys(s3_bucket) == set()


def _tables(url: str) -> list[str]:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
    return sorted(r[0] for r in rows)


def _in_transaction(admin_url: str, name: str) -> bool:
    """Whether a connection to the database `name` holds a transaction open."""
    with psycopg.connect(admin_url, autocommit=True) as admin:
        return bool(
            admin.execute(
                "SELECT 1 FROM pg_stat_activity WHERE datname = %s "
                "AND state = 'idle in transaction'",
                (name,),
            ).fetchall()
        )


def _writing_a_full_pipe(pid: int) -> bool:
    """Whether the process waits in a write to a full pipe (Linux: its wait channel)."""
    try:
        return "pipe_write" in Path(f"/proc/{pid}/wchan").read_text()
    except OSError:
        return False


def _full_pipe() -> tuple[int, int]:
    """A pipe whose buffer is already full: the first write to it blocks."""
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    for size in (65536, 1):
        try:
            while True:
                os.write(write_end, b"x" * size)
        except BlockingIOError:
            pass
    os.set_blocking(write_end, True)
    return read_end, write_end


def test_catalog_copy_stops_on_sigint_and_leaves_the_target_empty(
    data_dir: Path,
    postgres_url: str,  # noqa: F811
) -> None:
    lib = Library.open(make_settings(data_dir))
    try:
        lib.create_athlete("Ana")
        lib.tokens.create("club admin", "admin")
    finally:
        lib.close()
    target = fresh_database(postgres_url, "sigint")
    admin_url = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    # its stderr a pipe already full: the copy's first progress line, written once the schema
    # is made and the first table's rows are in (not committed), holds it there (as in
    # test_catalog_copy's kill)
    read_end, write_end = _full_pipe()
    copy = _start(
        ["catalog", "copy", "--data-dir", str(data_dir), "--to", target],
        _env(),
        stdout=subprocess.PIPE,
        stderr=write_end,
    )
    os.close(write_end)
    said = bytearray()

    def drain() -> None:
        while chunk := os.read(read_end, 65536):
            said.extend(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    try:
        # its first progress line: the schema made and the first table's rows written
        wait_for(
            lambda: _writing_a_full_pipe(copy.pid) or copy.poll() is not None,
            2 * WAIT,  # the schema's migrations run first, on a machine maybe loaded
            "the copy's first progress line",
        )
        assert copy.poll() is None
        assert _in_transaction(admin_url, target.rsplit("/", 1)[1])
        assert _tables(target) == []  # nothing is seen before the commit
        copy.send_signal(signal.SIGINT)
        reader.start()  # deaf to the signal, the copy would go on to its commit now
        copy.wait(WAIT)
        reader.join(WAIT)
        assert copy.stdout is not None
        out = copy.stdout.read()
    finally:
        if copy.poll() is None:
            copy.kill()
            copy.wait()
        os.close(read_end)
    text = said.decode(errors="replace")
    assert copy.returncode == 130, text[-2000:]
    assert text.rstrip().endswith(
        "mediadesk: interrupted: nothing was copied (the target is left empty)"
    ), text[-2000:]
    assert "Traceback" not in text and out == b""
    assert _tables(target) == []
    # nothing half-made is in the way of a second run
    again = subprocess.run(
        [MEDIADESK, "catalog", "copy", "--data-dir", str(data_dir), "--to", target],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=WAIT,
    )
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["tables"]["athletes"] == 1
