"""README's backup (the catalog first with sqlite3's .backup, then the objects) taken while the
library is in use: a hard delete, an emptied trash or a move to another athlete between the two
steps leaves the restored catalog naming objects the copy does not hold. `maintenance
--adopt-strays` put a moved file's new copy under `duplicates` with a manual "copy this object
there" step, and nothing made the catalog consistent for the files deleted meanwhile: reconcile
stayed unclean for good. Now --adopt-strays puts such a copy at the file's own key (copied,
read back, then the stray removed; a run killed after the copy is finished by the next) and
--forget-missing forgets the files deleted meanwhile, refusing when the storage looks absent.
Real SQLite catalogs (restored from a sqlite3 backup), local storage and moto's S3, real media.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from core import keys
from core.adopt import adopt_strays
from core.library import Library
from core.maintenance import FORGET_ACTION, forget_missing, reconcile
from core.records import FileRecord
from core.settings import Settings
from server.entry import main
from tests.backup_helpers import backup_catalog, restore_catalog
from tests.conftest import make_settings, r2_settings
from tests.faults import ROOT
from tests.internals import storage_of
from tests.resumable_client import noise_png
from tests.s3_server import S3Target

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(params=["local", "s3"])
def overrides(request: pytest.FixtureRequest) -> dict[str, str]:
    """The settings' keywords of a library on each backend: local storage, then moto's S3."""
    if request.param == "local":
        return {}
    bucket: S3Target = request.getfixturevalue("s3_bucket")
    return r2_settings(bucket)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _backup_while_in_use(
    settings: Settings, media_dir: Any, tmp_path: Path
) -> tuple[FileRecord, FileRecord, FileRecord, str]:
    """Three photos; the catalog backed up; then the first hard deleted and the second moved to
    an athlete, its old key gone after the move's grace period; the backup put back. Returns
    (deleted, moved as the backup knows it, kept, the moved file's new key)."""
    lib = Library.open(settings)
    try:
        deleted = lib.uploads.ingest(media_dir.jpeg, "image")
        moved = lib.uploads.ingest(media_dir.png, "image")
        kept = lib.uploads.ingest(media_dir.webp, "image")
        ana = lib.create_athlete("Ana")
        backup_catalog(settings, tmp_path / "backup.sqlite3")
        lib.delete_permanently(deleted.id)
        moved_to = lib.update_file(moved.id, {"athlete_id": ana.id}).storage_key
        lib.deferred.run(now=datetime.now(UTC) + timedelta(days=1))  # the old key went
        store = storage_of(lib)
        assert not store.exists(moved.storage_key) and store.exists(moved_to)
        assert store.exists(keys.thumbnail_key(moved_to))
    finally:
        lib.close()
    restore_catalog(settings, tmp_path / "backup.sqlite3")
    return deleted, moved, kept, moved_to


def test_a_file_moved_while_the_backup_ran_is_put_back_and_one_deleted_is_forgotten(
    data_dir: Path, overrides: dict[str, str], media_dir: Any, tmp_path: Path
) -> None:
    settings = make_settings(data_dir, **overrides)
    deleted, moved, kept, moved_to = _backup_while_in_use(settings, media_dir, tmp_path)
    lib = Library.open(settings)
    try:
        before = reconcile(lib)
        assert before.rows_without_objects == [deleted.id, moved.id]
        report = adopt_strays(lib)
        # was under duplicates: "copy this object there, then run `mediadesk maintenance`"
        assert report.restored == [{"id": moved.id, "key": moved.storage_key, "from": moved_to}]
        assert report.duplicates == [] and report.adopted == [] and report.errors == []
        store = storage_of(lib)
        assert not store.exists(moved_to)  # removed once its copy read back right
        assert store.exists(keys.thumbnail_key(moved.storage_key))
        assert not store.exists(keys.thumbnail_key(moved_to))
        assert _sha(lib.open_object(moved.storage_key).read_all()) == moved.sha256
        after = reconcile(lib)
        assert after.rows_without_objects == [deleted.id] and after.objects_without_rows == []

        forgot = forget_missing(lib, after)
        assert forgot.refused is None and forgot.errors == []
        assert forgot.forgotten == [
            {"id": deleted.id, "key": deleted.storage_key, "name": deleted.original_filename}
        ]
        assert {f.id for f in lib.list_files(status=None).items} == {moved.id, kept.id}
        entries, _ = lib.audit.query(action=FORGET_ACTION)
        assert [e.file_id for e in entries] == [deleted.id]
        assert reconcile(lib).clean
        # nothing more on a second run
        again = adopt_strays(lib)
        assert again.restored == [] and again.duplicates == []
        assert forget_missing(lib, reconcile(lib)).forgotten == []
    finally:
        lib.close()


def test_a_move_inside_its_grace_leaves_no_second_copy_for_good(
    data_dir: Path, overrides: dict[str, str], media_dir: Any, tmp_path: Path
) -> None:
    """An operator's hunt: the objects copied within a minute of a move to another athlete held
    both keys (the old one waits for its deletion, which the restored catalog no longer lists).
    --adopt-strays named the new copy and its thumbnail duplicates "left where it is": reconcile
    never clean, doctor failing for good, its fix a removal by hand. A copy whose file's own
    object reads back as the same bytes is removed now; one of a damaged file is left."""
    settings = make_settings(data_dir, **overrides)
    lib = Library.open(settings)
    try:
        moved = lib.uploads.ingest(media_dir.png, "image")
        damaged = lib.uploads.ingest(media_dir.jpeg, "image")
        ana = lib.create_athlete("Ana")
        backup_catalog(settings, tmp_path / "backup.sqlite3")
        moved_to = lib.update_file(moved.id, {"athlete_id": ana.id}).storage_key
        copied_to = lib.update_file(damaged.id, {"athlete_id": ana.id}).storage_key
        store = storage_of(lib)
        assert store.exists(moved.storage_key) and store.exists(moved_to)  # within the grace
        store.put_bytes(damaged.storage_key, b"not the photo's bytes", "image/jpeg")
    finally:
        lib.close()
    restore_catalog(settings, tmp_path / "backup.sqlite3")

    lib = Library.open(settings)
    try:
        report = adopt_strays(lib)
        by_key = {str(d["key"]): d for d in report.duplicates}
        assert sorted(by_key) == sorted([moved_to, copied_to]), report
        assert by_key[moved_to]["removed"] is True and by_key[moved_to]["file_id"] == moved.id
        assert by_key[copied_to]["removed"] is False  # its file's object does not hold them
        store = storage_of(lib)
        assert not store.exists(moved_to) and not store.exists(keys.thumbnail_key(moved_to))
        assert store.exists(copied_to)
        assert _sha(lib.open_object(moved.storage_key).read_all()) == moved.sha256
        left = [copied_to, keys.thumbnail_key(copied_to)]
        assert sorted(reconcile(lib).objects_without_rows) == sorted(left)
        again = adopt_strays(lib)
        assert [d["key"] for d in again.duplicates] == [copied_to]
    finally:
        lib.close()


# A child that puts the strays of the library in argv[1] in place, killed (by the parent) once
# the copy of the stray argv[2] is checked at its file's key, before the stray is removed.
CHILD = """
import json, sys, time
from pathlib import Path
from core.adopt import adopt_strays
from core.library import Library
from core.settings import load_settings
data_dir, stray, extra = sys.argv[1:4]
lib = Library.open(load_settings(
    environ={}, config_file=Path(data_dir, "settings.toml"), data_dir=data_dir,
    **json.loads(extra),
))
store = lib.backends.configured()[0][1]
real = store.delete

def stalled(key, *args, **kwargs):
    if key == stray:
        print(key, flush=True)
        time.sleep(60)
    return real(key, *args, **kwargs)

store.delete = stalled
adopt_strays(lib)
print("not stalled", flush=True)
"""


def test_a_run_killed_after_the_copy_is_finished_by_the_next(
    data_dir: Path, overrides: dict[str, str], media_dir: Any, tmp_path: Path
) -> None:
    settings = make_settings(data_dir, **overrides)
    _, moved, _, moved_to = _backup_while_in_use(settings, media_dir, tmp_path)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(data_dir), moved_to, json.dumps(overrides)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    try:
        assert child.stdout.readline().strip() == moved_to
    finally:
        child.kill()
        child.wait(15)
    lib = Library.open(settings)
    try:
        store = storage_of(lib)
        # both copies there: the stray alone would read as a duplicate "left where it is"
        assert store.exists(moved_to) and store.exists(moved.storage_key)
        report = adopt_strays(lib)
        assert report.restored == [{"id": moved.id, "key": moved.storage_key, "from": moved_to}]
        assert report.duplicates == []
        assert not store.exists(moved_to)
        assert _sha(lib.open_object(moved.storage_key).read_all()) == moved.sha256
        assert reconcile(lib).objects_without_rows == []
    finally:
        lib.close()


def test_forget_missing_refuses_a_storage_that_looks_absent_or_mostly_missing(
    settings: Settings, media_dir: Any
) -> None:
    lib = Library.open(settings)
    try:
        files = [
            lib.uploads.ingest(path, "image")
            for path in (media_dir.jpeg, media_dir.png, media_dir.webp, media_dir.gif)
        ]
        store = storage_of(lib)
        for record in files:  # every object gone: a disk not mounted, a bucket misnamed
            store.delete(record.storage_key)
        found = reconcile(lib)
        assert len(found.rows_without_objects) == 4
        report = forget_missing(lib, found)
        assert report.forgotten == [] and report.refused_reason == "store_empty"
        assert lib.list_files(status=None).total == 4
    finally:
        lib.close()


def test_forget_missing_judges_each_backend_of_a_library_kept_on_two(
    s3_settings: Settings, media_dir: Any, tmp_path: Path
) -> None:
    """A library kept on local storage and R2 after a switch: the local folder empty (a disk not
    mounted) while R2 holds its files. Counted over both, the R2 files made the empty one look
    healthy and every local file was forgotten (the regression hunter's repro)."""
    before = s3_settings.replace(storage_backend="local")
    lib = Library.open(before)
    try:
        old = [lib.uploads.ingest(p, "image") for p in (media_dir.jpeg, media_dir.png)]
    finally:
        lib.close()
    lib = Library.open(before.replace(storage_backend=""))  # new files go to R2 now
    try:
        for n in range(12):  # more than FORGET_FEW on R2, all there
            lib.uploads.ingest(noise_png(tmp_path / f"n{n}.png", 16 + n), "image")
        for record in old:
            (before.paths.objects_dir / record.storage_key).unlink()
        found = reconcile(lib)
        assert sorted(found.rows_without_objects) == sorted(r.id for r in old)
        report = forget_missing(lib, found)
        assert report.forgotten == [] and report.refused_reason == "store_empty", report
        assert "local" in str(report.refused)
        assert lib.list_files(status=None).total == 14
    finally:
        lib.close()


def test_forget_missing_past_the_limit_needs_the_exact_count(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """12 files, 11 of them missing: more than the 10 a backup's window usually misses. The
    command refuses and names the count; run again with that exact count, it forgets them."""
    from PIL import Image

    lib = Library.open(settings)
    try:
        files = []
        for i in range(12):
            path = tmp_path / f"p{i}.png"
            Image.new("RGB", (8, 8), (i * 20, 10, 10)).save(path)
            files.append(lib.uploads.ingest(path, "image"))
        store = storage_of(lib)
        for record in files[1:]:
            store.delete(record.storage_key)
    finally:
        lib.close()
    data = ["--data-dir", str(settings.paths.data_dir)]
    capsys.readouterr()
    for confirm in ([], ["--forget-missing-count", "10"]):
        assert main(["maintenance", "--forget-missing", *confirm, *data]) == 1
        said = json.loads(capsys.readouterr().out)["forget"]
        assert said["refused_reason"] == "too_many_missing" and said["forgotten"] == []
        assert "`--forget-missing-count 11`" in said["refused"]
    assert main(["maintenance", "--forget-missing", "--forget-missing-count", "11", *data]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert sorted(f["id"] for f in printed["forget"]["forgotten"]) == [f.id for f in files[1:]]
    assert printed["reconcile"]["clean"] is True
