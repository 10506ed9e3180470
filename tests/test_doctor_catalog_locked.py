"""`mediadesk doctor` on a SQLite catalog another program holds locked.

A lock that lets readers in (`BEGIN EXCLUSIVE` in WAL, a script's or a backup tool's) passed the
catalog's reads, and the write probe's busy error was taken for "not an unwritable file": doctor
said "ok catalog: reachable", and the lock showed only in the change feed's line, as a truncated
"StorageUnavailable: …" with "the catalog must be reachable" for a fix. A lock keeping readers
out was named already (7b96a6a), but its fix sent the user to the file's permissions. Both now
fail the catalog line naming the file held, with the same fix: close the program holding it.

A real second process holds the real catalog; doctor is a real process given the cut busy
timeout on its command line (tests/catalog_lock_helpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.doctor import LOCKED_FIX
from core.errors import catalog_locked
from tests.catalog_lock_helpers import LOCKS, catalog, held, mediadesk  # noqa: F401 (a fixture)


@pytest.mark.parametrize("kind", LOCKS)
def test_doctor_fails_the_catalog_held_locked_with_its_fix(catalog: Path, kind: str) -> None:  # noqa: F811
    with held(catalog, kind):
        done = mediadesk("doctor", "--data-dir", str(catalog.parent))
    out = done.stdout
    assert done.returncode == 1, out + done.stderr
    assert "Traceback" not in out + done.stderr, done.stderr
    lines = out.splitlines()
    [at] = [i for i, line in enumerate(lines) if line.startswith("FAIL  catalog: ")]
    assert lines[at].endswith(catalog_locked(catalog).message), out
    assert lines[at + 1] == f"      fix: {LOCKED_FIX}", out
    assert "StorageUnavailable" not in out, out
    assert "ok    catalog" not in out, out
    # and once it lets go, the same doctor is content with the catalog
    again = mediadesk("doctor", "--data-dir", str(catalog.parent))
    assert "FAIL  catalog" not in again.stdout, again.stdout
