"""`mediadesk doctor` checked only the active storage: with files on R2 and no R2 keys (a move
stopped part-way, `storage_backend = "local"` after R2) it said "All good." and exit 0 while
every one of those files answered 500 storage_not_configured. And when maintenance could not
list that storage, the reconcile line's fix sent the reader to `mediadesk doctor`, from the
doctor itself. Now each storage the catalog has files on is checked (configured, answering),
with a fix that says what to give or how to move the files back."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.library import Library
from core.maintenance import reconcile
from core.settings import Settings, save_settings
from core.storage.factory import build_r2
from server import cli
from tests.conftest import make_s3_settings, make_settings
from tests.media_fixtures import MediaSet
from tests.r2_migrate import r2_environment
from tests.s3_server import S3Target


def _files_on_r2(data_dir: Path, bucket: S3Target, media: MediaSet) -> Settings:
    """A local library (its settings file saying local, no R2 keys anywhere) whose two files
    a move put in `bucket`, and whose last maintenance could not list R2."""
    settings = make_settings(data_dir, storage_backend="local")
    save_settings(settings, settings.config_file, environ={})
    lib = Library.open(settings)
    try:
        lib.uploads.ingest(media.jpeg, "image")
        lib.uploads.ingest(media.png, "image")
        bucket_store = build_r2(make_s3_settings(data_dir, bucket))
        report = lib.backends.migrate("r2", bucket_store)
        assert report.complete and report.moved == 2, report
        assert lib.backends.counts_by_backend() == {"r2": 2}
    finally:
        lib.close()
    lib = Library.open(settings)  # started without the bucket, as every later start is
    try:
        found = reconcile(lib)
        assert list(found.unreachable_backends) == ["r2"], found.as_dict()
        lib.remember_reconcile(found.summary())
    finally:
        lib.close()
    return settings


def test_files_on_a_storage_this_set_up_cannot_use_are_a_failure_with_its_fix(
    data_dir: Path,
    s3_bucket: S3Target,
    media_dir: MediaSet,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _files_on_r2(data_dir, s3_bucket, media_dir)
    data = ["--data-dir", str(data_dir)]

    # no R2 keys at all: the README's failed "storage settings" check, with what to give
    assert cli.run(["doctor", *data]) == 1
    out = capsys.readouterr().out
    assert "FAIL  storage settings: 2 files of the catalog are on R2, but R2 is not " in out, out
    assert "missing: R2_ENDPOINT_URL, R2_BUCKET_NAME, R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY" in out
    assert "mediadesk storage migrate --to r2 --save-keys" in out
    assert "mediadesk storage migrate --to local' with the R2_* variables set" in out
    # the reconcile line (R2 not listed) points to the checks above, never to the doctor
    assert "the r2 storage could not be listed" in out, out
    assert "mediadesk doctor" not in out, out

    # keys given, but a bucket that is not there: that storage fails, with the set-up fix
    env = r2_environment(s3_bucket)
    for name, value in (env | {"R2_BUCKET_NAME": "no-such-bucket"}).items():
        monkeypatch.setenv(name, value)
    assert cli.run(["doctor", *data]) == 1
    out = capsys.readouterr().out
    assert "FAIL  r2 storage: 2 files: " in out, out
    assert "fix: Check R2_ENDPOINT_URL, R2_BUCKET_NAME and the R2 token" in out, out
    assert "mediadesk doctor" not in out, out

    # the right keys: that storage answers, and nothing fails
    monkeypatch.setenv("R2_BUCKET_NAME", s3_bucket.bucket)
    assert cli.run(["doctor", *data]) == 0
    out = capsys.readouterr().out
    assert f"ok    r2 storage: 2 files in {s3_bucket.bucket} at {s3_bucket.endpoint_url}" in out
    assert "All good." in out, out
