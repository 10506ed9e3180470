"""`mediadesk storage migrate`: only a complete move makes the target the active backend."""

from __future__ import annotations

import json

import pytest

from core.library import Library
from core.settings import Settings, load_settings, save_settings
from server import cli
from tests.internals import storage_of
from tests.media_fixtures import MediaSet


def test_a_migrate_that_leaves_files_behind_keeps_the_active_backend(
    s3_settings: Settings, media_dir: MediaSet, capsys: pytest.CaptureFixture[str]
) -> None:
    """README: exit 0 when every file moved (and the target becomes active), 1 when some could
    not be moved. An exit-1 migrate made the target active all the same, so new files went to
    the store that had just failed."""
    settings = s3_settings.replace(storage_backend="local")
    save_settings(settings, settings.config_file)
    lib = Library.open(settings)
    kept = lib.uploads.ingest(media_dir.jpeg, "image")
    lost = lib.uploads.ingest(media_dir.png, "image")
    storage_of(lib).delete(lost.storage_key)  # this one cannot be moved
    lib.close()
    data_dir = str(settings.paths.data_dir)
    assert cli.run(["storage", "migrate", "--to", "r2", "--data-dir", data_dir]) == 1
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["moved"] == 1 and [f["id"] for f in out["failed"]] == [lost.id], out
    assert load_settings(environ={}, config_file=settings.config_file).backend_name == "local"
    assert cli.run(["storage", "status", "--data-dir", data_dir]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status == {"active": "local", "files": {"local": 1, "r2": 1}}, (status, kept.id)


def test_a_full_disk_during_a_move_is_reported_in_user_terms(
    s3_settings: Settings, media_dir: MediaSet, capsys: pytest.CaptureFixture[str]
) -> None:
    """The data folder's disk full while a file is fetched from R2 (a real tmpfs on its temp
    folder): its `failed` entry said the raw "[Errno 28] No space left on device"; now the
    message every other path gives, with the code insufficient_storage."""
    from tests.faults import fill_disk, small_tmpfs

    settings = s3_settings.replace(storage_backend="r2")
    save_settings(settings, settings.config_file)
    lib = Library.open(settings)
    record = lib.uploads.ingest(media_dir.jpeg, "image")
    lib.close()
    with small_tmpfs(settings.paths.tmp_dir, "1m") as tmp:
        fill_disk(tmp / "filler")
        data_dir = str(settings.paths.data_dir)
        assert cli.run(["storage", "migrate", "--to", "local", "--data-dir", data_dir]) == 1
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["failed"] == [
        {
            "id": record.id,
            "error": "There is not enough free storage space to save the file",
            "code": "insufficient_storage",
        }
    ], out
