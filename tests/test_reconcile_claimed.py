"""An Empty trash killed (kill -9) after its batch's bytes went and before its rows did leaves
those files in the trash under a claim for deletion, whose lease (CLAIM_LEASE) maintenance
settles once it has passed. Reconcile (`mediadesk maintenance`, the server's daily run) listed
them as rows_without_objects, the store as not clean (exit status 1), and `mediadesk doctor`
said to restore their bytes from a backup, for a deletion that finishes by itself. Now they are
claimed_deletions, the store is clean, and doctor says when the next maintenance finishes them.

The kill: the store's delete_many deletes the batch's objects, then the process dies there
(an exception no handler of the deletion may see: a killed process runs none, so the claim is
not released either)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import core.library
from core import leader
from core.db.models import utcnow
from core.doctor import check_reconcile
from core.library import CLAIM_LEASE, Library
from core.maintenance import reconcile, run_maintenance
from server import cli
from tests.internals import db_of, storage_of

pytestmark = pytest.mark.timeout(90)


class _Killed(BaseException):
    """The process's death, seen by no handler of the deletion."""


@pytest.fixture(params=["sqlite-local", "sqlite-s3"])
def lib(request: pytest.FixtureRequest) -> Library:
    name = {"sqlite-local": "library", "sqlite-s3": "s3_library"}
    return request.getfixturevalue(name[request.param])


def _photos(lib: Library, folder: Path, n: int, first: int = 0) -> list[int]:
    ids = []
    for i in range(first, first + n):
        path = folder / f"c{i}.jpg"
        Image.new("RGB", (40, 30), (30 * i % 256, 60, 190)).save(path)
        ids.append(lib.uploads.ingest(path, "image").id)
    return ids


def _empty_trash_killed_after_the_bytes(lib: Library, monkeypatch: pytest.MonkeyPatch) -> None:
    storage = storage_of(lib)
    real = storage.delete_many

    def deleted_then_killed(found: Any, *args: Any, **kwargs: Any) -> Any:
        real(found, *args, **kwargs)
        raise _Killed

    with monkeypatch.context() as m:
        m.setattr(storage, "delete_many", deleted_then_killed)
        m.setattr(Library, "_drop_claim", lambda *_a, **_k: None)
        with pytest.raises(_Killed):
            lib.empty_trash()


def test_an_interrupted_emptying_is_a_deletion_under_way_not_lost_bytes(
    lib: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone = _photos(lib, tmp_path, 2)
    lost = _photos(lib, tmp_path, 1, first=2)[0]  # a live file whose bytes really were lost
    for file_id in gone:
        lib.trash(file_id)
    storage_of(lib).delete(lib.get_file(lost).storage_key)
    before = utcnow()
    _empty_trash_killed_after_the_bytes(lib, monkeypatch)
    for file_id in gone:
        record = lib.get_file(file_id, include_trashed=True)
        assert record.is_trashed and not storage_of(lib).exists(record.storage_key)

    report = run_maintenance(lib)  # within the lease: nothing to settle yet
    assert report.errors == [] and report.finished_deletions == []
    found = reconcile(lib)
    assert found.rows_without_objects == [lost]  # was: gone + [lost]
    assert found.claimed_deletions == gone
    settles = datetime.fromisoformat(str(found.claimed_deletions_settle_after))
    # the last claim's lease end, to the second after
    assert before + CLAIM_LEASE <= settles <= utcnow() + CLAIM_LEASE + timedelta(seconds=1)
    summary = found.summary()
    assert summary["claimed_deletions"] == gone and summary["claimed_deletions_count"] == 2
    assert summary["rows_without_objects_count"] == 1

    # only the file whose bytes were lost makes the store unclean, and is told to restore
    lib.remember_reconcile(summary)
    check = check_reconcile(db_of(lib))
    assert not check.ok
    assert f"files without their object: 1 (ids {lost})" in check.detail, check.detail
    when = settles.astimezone(UTC).isoformat(timespec="seconds")
    assert (
        "2 files are being deleted (a deletion was interrupted); they are finished by the "
        f"next maintenance after {when}"
    ) in check.detail, check.detail

    # without it, the store is clean: the deletion under way is no fault to fix
    lib.delete_permanently(lost)
    found = reconcile(lib)
    assert found.clean and found.claimed_deletions == gone, found.as_dict()
    lib.remember_reconcile(found.summary())
    check = check_reconcile(db_of(lib))
    assert check.ok and "restore" not in (check.detail + check.fix).lower(), check
    assert "2 files are being deleted (a deletion was interrupted)" in check.detail, check.detail

    # past the lease the next maintenance finishes the deletion, and nothing is left to say
    report = run_maintenance(lib, now=utcnow() + CLAIM_LEASE + timedelta(minutes=1))
    assert sorted(report.finished_deletions) == gone
    found = reconcile(lib)
    assert found.clean and found.claimed_deletions == [], found.as_dict()
    assert found.claimed_deletions_settle_after is None
    lib.remember_reconcile(found.summary())
    check = check_reconcile(db_of(lib))
    assert check.ok and "being deleted" not in check.detail, check


def test_mediadesk_maintenance_exits_0_during_an_interrupted_emptying(
    library: Library,
    data_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ids = _photos(library, tmp_path, 2)
    for file_id in ids:
        library.trash(file_id)
    _empty_trash_killed_after_the_bytes(library, monkeypatch)
    monkeypatch.setenv("MEDIADESK_DATA_DIR", str(data_dir))
    monkeypatch.setenv("MEDIADESK_CONFIG_FILE", str(data_dir / "settings.toml"))
    monkeypatch.setenv("MEDIADESK_WORKERS", "0")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setattr(leader, "RUN_WAIT", 1.0, raising=False)
    assert cli.run(["maintenance"]) == 0, capsys.readouterr()  # was 1: "not clean"
    out = json.loads(capsys.readouterr().out)
    assert out["reconcile"]["claimed_deletions"] == ids, out
    assert out["reconcile"]["rows_without_objects"] == [] and out["reconcile"]["clean"], out
    # a claim whose lease is over when it runs is settled before the reconcile, not listed
    monkeypatch.setattr(core.library, "CLAIM_LEASE", timedelta(0))
    assert cli.run(["maintenance"]) == 0, capsys.readouterr()
    out = json.loads(capsys.readouterr().out)
    assert sorted(out["maintenance"]["finished_deletions"]) == ids, out
    assert out["reconcile"]["claimed_deletions"] == [] and out["reconcile"]["clean"], out
