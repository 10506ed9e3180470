"""`mediadesk storage migrate`: only a complete move makes the target the active backend."""

from __future__ import annotations

import json
from pathlib import Path

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


def test_progress_written_to_a_log_is_lines(
    s3_settings: Settings, media_dir: MediaSet, capsys: pytest.CaptureFixture[str]
) -> None:
    """stderr not a terminal (cron, journald, `2>>migrate.log`): the progress was redrawn
    with \\r as on a terminal, each step padded to 60 columns, so the log held one line of
    every file moved. Now lines: the first step's at once, one every few seconds, the last's."""
    settings = s3_settings.replace(storage_backend="local")
    save_settings(settings, settings.config_file)
    lib = Library.open(settings)
    for path in (media_dir.jpeg, media_dir.png):
        lib.uploads.ingest(path, "image")
    lib.close()
    assert cli.run(["storage", "migrate", "--to", "r2", "--data-dir", settings.data_dir]) == 0
    err = capsys.readouterr().err
    assert "\r" not in err, err
    # the second within LOG_EVERY of the first: held, then said at the end
    assert err.splitlines() == [f"1/2 {media_dir.jpeg.name}", f"2/2 {media_dir.png.name}"], err


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
            "reason": None,
        }
    ], out


def test_r2_keys_from_the_environment_are_saved_on_request_and_missing_ones_are_a_finding(  # type: ignore[no-untyped-def]
    settings: Settings,
    s3_bucket,
    media_dir: MediaSet,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`storage migrate --to r2` with R2_* only in the environment made r2 active without
    saving the keys (rightly) and without a word: every later start without them exited 2,
    `storage status` and `doctor` included. Now migrate says they were not saved and how to
    save them (--save-keys), status and doctor report the missing keys, serve's refusal says
    how to fix it, and --save-keys saves them (the secret in the secret store)."""
    save_settings(settings, settings.config_file)
    lib = Library.open(settings)
    lib.uploads.ingest(media_dir.jpeg, "image")
    lib.close()
    r2_env = {
        "R2_ENDPOINT_URL": s3_bucket.endpoint_url,
        "R2_BUCKET_NAME": s3_bucket.bucket,
        "R2_ACCESS_KEY_ID": s3_bucket.access_key_id,
        "R2_SECRET_ACCESS_KEY": s3_bucket.secret_access_key,
        "R2_REGION": "us-east-1",
    }
    data = ["--data-dir", str(settings.paths.data_dir)]

    def with_keys(present: bool) -> None:
        for name, value in r2_env.items():
            if present:
                monkeypatch.setenv(name, value)
            else:
                monkeypatch.delenv(name, raising=False)

    with_keys(True)
    assert cli.run(["storage", "migrate", "--to", "r2", *data]) == 0
    err = capsys.readouterr().err
    assert "R2_SECRET_ACCESS_KEY, R2_ENDPOINT_URL, R2_BUCKET_NAME, R2_REGION came from the " in err
    assert "environment and were not saved" in err, err
    assert "mediadesk storage migrate --to r2 --save-keys" in err

    with_keys(False)
    assert cli.run(["storage", "status", *data]) == 0
    out, err = capsys.readouterr()
    status = json.loads(out)
    assert status["active"] == "r2" and status["files"] == {"r2": 1}
    assert "missing: R2_ENDPOINT_URL" in status["problem"] and "--save-keys" in status["problem"]
    assert cli.run(["doctor", *data]) == 1
    out = capsys.readouterr().out
    assert "FAIL  storage settings: Setting MEDIADESK_STORAGE_BACKEND: 'r2' needs" in out, out
    assert "fix: Set them in the environment, or save them once" in out
    assert cli.run(["serve", "--port", "0", *data]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mediadesk: Setting MEDIADESK_STORAGE_BACKEND") and "--save-keys" in err

    with_keys(True)
    assert cli.run(["storage", "migrate", "--to", "r2", "--save-keys", *data]) == 0
    assert "not saved" not in capsys.readouterr().err
    with_keys(False)
    saved = load_settings(data_dir=str(settings.paths.data_dir))
    assert saved.storage_problem == "" and saved.backend_name == "r2"
    assert saved.r2_secret_access_key == s3_bucket.secret_access_key
    assert "r2_secret_access_key" not in Path(settings.config_file).read_text()
    assert cli.run(["storage", "status", *data]) == 0
    assert json.loads(capsys.readouterr().out) == {"active": "r2", "files": {"r2": 1}}


def test_status_counts_the_files_not_a_duplicates_alias_nor_a_pending_upload(
    tmp_path: Path, media_dir: MediaSet, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same photo uploaded twice (presign + confirm) is one file, GET /files/ total 1, yet
    `storage status` said {"local": 2}: it counted every row, the duplicate's alias one (and a
    pending upload's) too. Files are what a move takes: ready ones, trashed ones included."""
    from tests.conftest import make_settings

    settings = make_settings(tmp_path / "data")
    lib = Library.open(settings)
    try:
        first = lib.uploads.ingest(media_dir.png, "image")
        lib.trash(lib.uploads.ingest(media_dir.jpeg, "image").id)  # stored still: a file
        copy = lib.uploads.create_presigned_upload("copy.png", "image", content_type="image/png")
        storage_of(lib).put_file(copy.file_key, media_dir.png, "image/png")
        assert lib.uploads.confirm_upload(copy.file.id).duplicate_of == first.id
        lib.uploads.create_presigned_upload("later.png", "image", content_type="image/png")
        assert lib.list_files().total == 1
        assert lib.backends.files_elsewhere() == 0
    finally:
        lib.close()
    assert cli.run(["storage", "status", "--data-dir", str(settings.paths.data_dir)]) == 0
    assert json.loads(capsys.readouterr().out) == {"active": "local", "files": {"local": 2}}


def test_a_relative_data_dir_is_saved_as_the_folder_it_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`mediadesk storage migrate --to local --data-dir lib` wrote `data_dir = "lib"` into
    lib/settings.toml (so did `catalog copy --save`): a later start reading that file through
    MEDIADESK_CONFIG_FILE from another folder took it for a new, empty library there."""
    for name in ("MEDIADESK_DATA_DIR", "MEDIADESK_CONFIG_FILE", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    assert cli.run(["storage", "migrate", "--to", "local", "--data-dir", "lib"]) == 0
    capsys.readouterr()
    library = tmp_path / "lib"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    settings = load_settings(environ={}, config_file=library / "settings.toml")
    assert settings.paths.data_dir == library
    assert not (elsewhere / "lib").exists()
