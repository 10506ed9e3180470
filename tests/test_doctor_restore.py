"""What `mediadesk doctor` (and a start) says of a data folder restored badly: a catalog file cut
short (its fix was the file's permissions and free space), objects restored without their
catalog (it was "All good": the first start makes an empty library beside them), and a restored
catalog naming files deleted while its backup was taken (its fix, "restore the bytes from a
backup", cannot be followed when this is the backup). Real SQLite files, local storage and
moto's S3, the command line as an administrator runs it."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from core.db.engine import Database
from core.doctor import check_catalog, run_checks
from core.errors import StorageUnavailable
from core.library import Library
from core.settings import Settings
from server.entry import main
from tests.backup_helpers import backup_catalog, restore_catalog
from tests.conftest import make_s3_settings, make_settings
from tests.s3_server import S3Target, s3_client

pytestmark = pytest.mark.timeout(120)


def _doctor(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    status = main(["doctor", "--json", "--data-dir", str(data_dir)])
    return status, {c["name"]: c for c in json.loads(capsys.readouterr().out)["checks"]}


@pytest.mark.parametrize("damage", ["cut", "not a database"])
def test_a_damaged_catalog_is_said_so_with_restoring_it_as_the_fix(
    settings: Settings, damage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    Library.open(settings).close()
    catalog = settings.paths.database_file
    whole = catalog.read_bytes()
    # an unfinished copy (SQLite: "database disk image is malformed"), or something else in
    # its place ("file is not a database")
    catalog.write_bytes(whole[: len(whole) // 2] if damage == "cut" else b"\x07" * len(whole))
    status, checks = _doctor(settings.paths.data_dir, capsys)
    assert status == 1
    check = checks["catalog"]
    assert not check["ok"] and check["reasons"] == ["catalog_damaged"]
    assert "damaged" in check["detail"]
    assert "from a backup" in check["fix"] and "free space" not in check["fix"]

    with pytest.raises(StorageUnavailable) as raised:  # a start says it the same way
        Library.open(settings)
    assert raised.value.reason == "catalog_damaged"
    assert "Restore it from a backup" in raised.value.message
    assert main(["maintenance", "--data-dir", str(settings.paths.data_dir)]) == 2
    assert f"The catalog file {catalog} is damaged" in capsys.readouterr().err


def _restored_over_a_stale_wal(settings: Settings, backup: Path) -> None:
    """A backup copied over the catalog of a killed server, its -wal left beside it (README's
    restore steps say to remove it): the -wal's pages, written over a later state, are read as
    part of the restored file."""
    catalog = settings.paths.database_file
    conn = sqlite3.connect(catalog, isolation_level=None)
    try:
        conn.execute("PRAGMA wal_autocheckpoint=0")
        leases = "INSERT INTO catalog_leases (name, holder, info) VALUES (?, ?, '{}')"
        for i in range(50):  # the state after the backup, in the file
            conn.execute(leases, (f"later-{i:03d}", "h" * 60))
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        for i in range(50):  # and the killed server's last commits, only in its -wal
            conn.execute(leases, (f"last-{i:03d}", "h" * 60))
        stale_wal = Path(f"{catalog}-wal").read_bytes()
    finally:
        conn.close()  # the last connection folds its -wal in: a kill -9 leaves it
    Path(f"{catalog}-shm").unlink(missing_ok=True)
    catalog.write_bytes(backup.read_bytes())
    Path(f"{catalog}-wal").write_bytes(stale_wal)


def _index_page_overwritten(settings: Settings, backup: Path) -> None:
    """Bytes written over the cells of an index's page (a disk or a copy that went wrong)."""
    catalog = settings.paths.database_file
    conn = sqlite3.connect(catalog)
    try:
        (root,) = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'sqlite_autoindex_catalog_leases_1'"
        ).fetchone()
        (page_size,) = conn.execute("PRAGMA page_size").fetchone()
    finally:
        conn.close()
    with catalog.open("r+b") as f:
        f.seek(root * page_size - 64)  # a leaf's cells sit at its page's end
        f.write(b"\xff" * 64)


@pytest.mark.parametrize("damage", [_restored_over_a_stale_wal, _index_page_overwritten])
def test_a_catalog_that_opens_but_is_damaged_is_not_all_good(
    settings: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    damage: Callable[[Settings, Path], None],
) -> None:
    """Found by an outside tester: such a catalog opens and answers doctor's reads, and doctor
    said "reachable" and "All good" while SQLite's integrity_check listed rows missing from an
    index. Its fix is README's restore steps, the -wal and -shm removed."""
    Library.open(settings).close()
    db = Database(settings.effective_database_url)
    try:  # a whole catalog passes
        assert [c.ok for c in check_catalog(db)] == [True, True]
    finally:
        db.dispose()
    backup = tmp_path / "backup.sqlite3"
    backup_catalog(settings, backup)
    damage(settings, backup)

    status, checks = _doctor(settings.paths.data_dir, capsys)
    assert status == 1
    check = checks["catalog"]
    catalog = settings.paths.database_file
    assert not check["ok"] and check["reasons"] == ["catalog_damaged"]
    said = f"The catalog file {catalog} is damaged (SQLite's quick_check: "
    assert check["detail"].startswith(said)
    assert "\n" not in check["detail"]
    assert f"remove {catalog}-wal and {catalog}-shm" in check["fix"]
    assert "*Backups and restoring*" in check["fix"] and '".recover"' in check["fix"]
    assert checks["change feed"]["detail"] == "not checked: fix the catalog first"


def test_a_catalog_that_cannot_be_written_keeps_its_permission_advice(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not every failure to open is damage: a folder in the catalog file's place is not."""
    settings.paths.database_file.mkdir(parents=True)
    assert main(["doctor", "--json", "--data-dir", str(settings.paths.data_dir)]) in (1, 2)
    assert "catalog_damaged" not in capsys.readouterr().out


def test_objects_restored_without_their_catalog_are_not_all_good(
    settings: Settings, media_dir: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir = settings.paths.data_dir
    status, checks = _doctor(data_dir, capsys)  # a newcomer's empty data folder: all good
    assert status == 0 and "library" not in checks
    lib = Library.open(settings)
    try:
        photo = lib.uploads.ingest(media_dir.jpeg, "image")
    finally:
        lib.close()
    for leftover in data_dir.glob("mediadesk.sqlite3*"):  # the restore forgot the catalog
        leftover.unlink()
    status, checks = _doctor(data_dir, capsys)
    assert status == 1  # was 0, "All good"
    check = checks["library"]
    assert not check["ok"] and check["reasons"] == ["storage_without_catalog"]
    assert photo.storage_key in check["detail"]
    assert "--adopt-strays" in check["fix"]
    assert not settings.paths.database_file.exists()  # the doctor made no catalog


def test_a_bucket_holding_objects_under_a_new_catalog_is_not_all_good(
    data_dir: Path, s3_bucket: S3Target
) -> None:
    settings = make_s3_settings(data_dir, s3_bucket)
    checks = {c.name: c for c in run_checks(settings)}
    assert "library" not in checks  # an empty bucket: a new library
    # another program's object under general/: not a photo --adopt-strays would take, so not
    # a restore's (it was called MediaDesk's photos and videos)
    s3_client(s3_bucket).put_object(Bucket=s3_bucket.bucket, Key="general/readme.txt", Body=b"x")
    checks = {c.name: c for c in run_checks(make_s3_settings(data_dir, s3_bucket))}
    assert "library" not in checks
    s3_client(s3_bucket).put_object(
        Bucket=s3_bucket.bucket, Key="general/2026/01/" + "ab" * 16 + ".jpg", Body=b"x"
    )
    checks = {c.name: c for c in run_checks(make_s3_settings(data_dir, s3_bucket))}
    assert not checks["library"].ok
    assert checks["library"].reasons == ("storage_without_catalog",)
    assert s3_bucket.bucket in checks["library"].detail


def test_files_deleted_while_the_backup_ran_are_said_with_the_commands_that_mend_it(
    data_dir: Path, media_dir: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(data_dir)
    lib = Library.open(settings)
    try:
        gone = lib.uploads.ingest(media_dir.jpeg, "image")
        lib.uploads.ingest(media_dir.png, "image")  # kept: the storage is not empty
        backup_catalog(settings, tmp_path / "backup.sqlite3")
        lib.delete_permanently(gone.id)
    finally:
        lib.close()
    restore_catalog(settings, tmp_path / "backup.sqlite3")
    assert main(["maintenance", "--data-dir", str(data_dir)]) == 1
    status, checks = _doctor(data_dir, capsys)
    assert status == 1
    check = checks["reconcile"]
    assert check["reasons"] == ["rows_without_objects"]
    fix = check["fix"]
    assert fix.index("--adopt-strays") < fix.index("--forget-missing")
    assert "restore those files' bytes from a backup" in fix
    # the restored catalog's tokens are the backup's: one revoked since works again
    assert "a token revoked since works again" in fix and "mediadesk token revoke ID" in fix
    capsys.readouterr()
    assert main(["maintenance", "--forget-missing", "--data-dir", str(data_dir)]) == 0
    assert [f["id"] for f in json.loads(capsys.readouterr().out)["forget"]["forgotten"]] == [
        gone.id
    ]
    status, checks = _doctor(data_dir, capsys)
    assert status == 0 and checks["reconcile"]["reasons"] == []


@pytest.mark.parametrize(
    ("language", "words"), [("en", "from a backup"), ("es", "copia de seguridad")]
)
def test_the_desktop_says_a_damaged_catalog_is_restored_from_a_backup(
    settings: Settings, language: str, words: str, request: pytest.FixtureRequest
) -> None:
    """The desktop's start-up box said "The storage cannot be reached. Check the connection
    and the storage settings." for it."""
    pytest.importorskip("pytestqt")
    request.getfixturevalue("qapp")
    from desktop_app.errors import describe_error
    from desktop_app.i18n import install_translations

    Library.open(settings).close()
    whole = settings.paths.database_file.read_bytes()
    settings.paths.database_file.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(StorageUnavailable) as raised:
        Library.open(settings)
    install_translations(language)
    try:
        text = describe_error(raised.value).text
        storage = describe_error(StorageUnavailable("bucket silent")).text
    finally:
        install_translations("en")
    assert words in text and text != storage, text
