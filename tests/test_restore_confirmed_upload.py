"""A catalog backed up while a presigned upload was still pending, restored after that upload
was confirmed: the restored row is pending again, at the key the presign handed out, and
maintenance drops it with "its" object once its URL has expired. On R2/S3 the confirm had
copied the bytes to a key of their own, so that deletion found nothing and the confirmed copy
was a stray for `--adopt-strays`; on local storage the confirmed file kept the presigned key,
and the first maintenance after the restore deleted the only copy of the photo. Real server
over loopback, real SQLite catalog restored from a sqlite3 backup, local storage and moto."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from core.adopt import adopt_strays
from core.library import Library
from core.maintenance import reconcile, run_maintenance
from core.records import FileStatus
from core.settings import Settings
from server.entry import EmbeddedServer
from tests.backup_helpers import backup_catalog, restore_catalog
from tests.internals import storage_of
from tests.server_fixtures import bearer, http_call, make_tokens, presign_grant, server_config

pytestmark = pytest.mark.timeout(120)


def _read(lib: Library, key: str) -> bytes:
    return b"".join(storage_of(lib).open_range(key, 0, None))


def _presign_put_confirm(
    settings: Settings, photo: Path, backup: Path
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Presign, back up the catalog, PUT the bytes, confirm: (the grant, the confirmed file)."""
    lib = Library.open(settings)
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        token = make_tokens(lib).upload
        grant = presign_grant(
            server.url,
            token,
            original_filename="p.jpg",
            file_type="image",
            content_type="image/jpeg",
        )
        backup_catalog(settings, backup)
        put = http_call(grant["upload_url"], "PUT", photo.read_bytes(), grant["headers"])
        assert put.status in (200, 201, 204), put.body
        done = http_call(
            f"{server.url}/files/{grant['file_id']}/confirm-upload", "POST", b"", bearer(token)
        )
        assert done.status == 200, done.body
        confirmed = done.json()
        assert confirmed["status"] == FileStatus.READY
        # a PUT to the URL after the confirm leaves the confirmed file's bytes alone: this
        # server refuses it, a bucket's URL writes the old key, whose deletion is noted
        again = http_call(grant["upload_url"], "PUT", b"other bytes", grant["headers"])
        if settings.r2_bucket_name:
            assert again.status == 200, again.body
            assert grant["file_key"] in lib.deferred.url_sweeps()
        else:
            assert again.status == 409, again.body
        assert _read(lib, confirmed["storage_key"]) == photo.read_bytes()
        return grant, confirmed
    finally:
        server.stop()
        lib.close()


def test_a_restored_catalog_keeps_an_upload_confirmed_after_its_backup(
    backend_settings: Settings, media_dir: Any, tmp_path: Path
) -> None:
    settings = backend_settings
    backup = tmp_path / "backup.sqlite3"
    grant, confirmed = _presign_put_confirm(settings, media_dir.jpeg, backup)
    key = str(confirmed["storage_key"])
    restore_catalog(settings, backup)

    lib = Library.open(settings)
    try:
        later = datetime.now(UTC) + timedelta(days=2)  # past the URL's expiry and its sweep
        first = run_maintenance(lib, now=later)
        assert first.expired_pending == [grant["file_id"]], first.as_dict()
        run_maintenance(lib, now=later)  # what the expiry noted is due as well
        data = _read(lib, key)  # still there
        assert not storage_of(lib).exists(grant["file_key"])  # what the URL wrote went
        assert hashlib.sha256(data).hexdigest() == confirmed["sha256"]

        report = adopt_strays(lib)
        (adopted,) = report.adopted
        assert adopted["key"] == key, report
        record = lib.get_file(int(str(adopted["file_id"])))
        assert record.status == FileStatus.READY and record.sha256 == confirmed["sha256"]
        assert reconcile(lib).clean
        assert run_maintenance(lib).errors == []
    finally:
        lib.close()
    # the confirmed file never lay where the URL handed out writes
    assert key != grant["file_key"]
