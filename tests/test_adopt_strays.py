"""A catalog older than the storage (a backup of it restored): the files uploaded since are
objects no row names. Maintenance kept them but nothing brought them back, and doctor said
'objects no file names', its fix to move them out of the storage: the only copies of those
photos. `mediadesk maintenance --adopt-strays` catalogues them where they lie. Real SQLite
catalogs (restored from a sqlite3 backup), local storage and moto, real media."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from core import keys
from core.adopt import adopt_strays
from core.library import Library
from core.maintenance import reconcile
from core.records import FileStatus
from core.settings import Settings
from server.entry import main
from tests.backup_helpers import backup_catalog, restore_catalog
from tests.conftest import make_s3_settings, make_settings
from tests.faults import ROOT, CuttableProxy
from tests.internals import storage_of
from tests.s3_server import S3Target, s3_client

pytestmark = pytest.mark.timeout(120)


def _file_id(said: dict[str, object]) -> int:
    return int(str(said["file_id"]))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_older_catalog_gets_the_files_stored_since_back(
    backend_settings: Settings, media_dir: Any, tmp_path: Path
) -> None:
    settings = backend_settings
    lib = Library.open(settings)
    try:
        bea = lib.create_athlete("Bea")
        moved = lib.uploads.ingest(media_dir.webp, "image")
        backup_catalog(settings, tmp_path / "last-week.sqlite3")
        # since the backup: a new athlete, a photo and a video, a file moved to an athlete
        ana = lib.create_athlete("Ana")
        photo = lib.uploads.ingest(media_dir.jpeg, "image", athlete_id=bea.id)
        video = lib.uploads.ingest(media_dir.mp4, "video", athlete_id=ana.id)
        moved_to = lib.update_file(moved.id, {"athlete_id": bea.id}).storage_key
        lib.deferred.run(now=datetime.now(UTC) + timedelta(days=1))  # its old key went
        store = storage_of(lib)
        store.put_bytes(f"general/2026/11/{'ab' * 16}.jpg", b"not a photo at all", "image/jpeg")
        store.put_bytes("_derived/video/0123456789abcdef/web.mp4", b"x", "video/mp4")
        stats = {k: store.stat(k) for k in (photo.storage_key, video.storage_key)}
    finally:
        lib.close()
    restore_catalog(settings, tmp_path / "last-week.sqlite3")

    lib = Library.open(settings)
    try:
        before = reconcile(lib)
        assert {photo.storage_key, video.storage_key, moved_to} <= set(before.objects_without_rows)
        assert before.rows_without_objects == [moved.id]
        report = adopt_strays(lib)
        adopted = {str(a["key"]): a for a in report.adopted}
        assert sorted(adopted) == sorted([photo.storage_key, video.storage_key]), report
        for original, source in ((photo, media_dir.jpeg), (video, media_dir.mp4)):
            said = adopted[original.storage_key]
            record = lib.get_file(_file_id(said))
            # read as an upload reads its file, catalogued where it lies
            assert record.storage_key == original.storage_key
            assert record.status == FileStatus.READY and not record.is_trashed
            assert record.file_type == original.file_type == said["file_type"]
            assert (record.sha256, record.size) == (_sha(source), source.stat().st_size)
            assert (record.width, record.height) == (original.width, original.height)
            assert record.has_thumbnail and not record.is_public
            # named by the object's file name, dated by the object
            assert record.original_filename == original.storage_key.rsplit("/", 1)[1]
            assert said["dated_by"] == "object"
            stored = stats[original.storage_key].last_modified
            assert abs(record.created_at - stored) < timedelta(milliseconds=1)
        adopted_photo = lib.get_file(_file_id(adopted[photo.storage_key]))
        assert adopted_photo.athlete_id == bea.id and adopted_photo.extra.get("taken_at")
        # the video's athlete came after the backup: none, and said
        assert adopted[video.storage_key]["athlete_id"] is None
        assert f"Athlete {ana.id}, whose folder holds it" in str(adopted[video.storage_key]["note"])
        video_id = _file_id(adopted[video.storage_key])
        assert lib.jobs.list(file_id=video_id)[1] > 0  # its processing queued
        # the moved file's new copy holds the bytes the catalog misses under the old key: put
        # there (tests/test_backup_window.py)
        assert report.restored == [{"id": moved.id, "key": moved.storage_key, "from": moved_to}]
        assert report.duplicates == []
        assert [(r["key"], r["code"]) for r in report.refused] == [
            (f"general/2026/11/{'ab' * 16}.jpg", "unsupported_type")
        ]
        assert report.errors == [] and report.jobs_queued == []

        after = set(reconcile(lib).objects_without_rows)
        for key in (photo.storage_key, video.storage_key):  # and their thumbnails
            assert key not in after and keys.thumbnail_key(key) not in after
        assert f"general/2026/11/{'ab' * 16}.jpg" in after and moved_to not in after
        assert "_derived/video/0123456789abcdef/web.mp4" in after  # of no file: still listed

        # run again: nothing more, nothing twice
        again = adopt_strays(lib)
        assert again.adopted == again.duplicates == again.restored == []
        assert again.refused == report.refused
        assert lib.list_files(status=None).total == 3
    finally:
        lib.close()


def test_an_object_whose_time_is_not_its_keys_is_dated_by_its_key(
    data_dir: Path, media_dir: Any, tmp_path: Path
) -> None:
    """A copy of the objects that did not keep their times (cp without -p): the key's month."""
    settings = make_settings(data_dir)
    lib = Library.open(settings)
    try:
        backup_catalog(settings, tmp_path / "empty.sqlite3")
        photo = lib.uploads.ingest(media_dir.png, "image")
    finally:
        lib.close()
    restore_catalog(settings, tmp_path / "empty.sqlite3")
    later = datetime.now(UTC) + timedelta(days=400)
    os.utime(settings.paths.objects_dir / photo.storage_key, (later.timestamp(),) * 2)
    lib = Library.open(settings)
    try:
        (said,) = adopt_strays(lib).adopted
        month = keys.parse_media_key(photo.storage_key)
        assert month is not None
        assert said["dated_by"] == "key"
        record = lib.get_file(_file_id(said))
        assert record.created_at == month.month_span()[0]
    finally:
        lib.close()


def test_maintenance_adopt_strays_and_what_doctor_says_before_and_after(
    data_dir: Path, media_dir: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(data_dir)
    lib = Library.open(settings)
    try:
        backup_catalog(settings, tmp_path / "empty.sqlite3")
        photo = lib.uploads.ingest(media_dir.jpeg, "image")
    finally:
        lib.close()
    restore_catalog(settings, tmp_path / "empty.sqlite3")

    assert main(["maintenance", "--data-dir", str(data_dir)]) == 1
    capsys.readouterr()
    assert main(["doctor", "--data-dir", str(data_dir)]) == 1
    said = capsys.readouterr().out.splitlines()
    line = next(x for x in said if x.startswith("FAIL  reconcile:"))
    fix = said[said.index(line) + 1]
    # the photo and its thumbnail; was "objects no file names: 2", fix "move the stray objects
    # out of the storage"
    assert "2 stored objects the catalog does not know (e.g. after restoring an older " in line
    assert fix.index("`mediadesk maintenance --adopt-strays`") < fix.index("move what is left")

    assert main(["maintenance", "--adopt-strays", "--data-dir", str(data_dir)]) == 0
    printed = json.loads(capsys.readouterr().out)
    (adopted,) = printed["adopt"]["adopted"]
    assert adopted["key"] == photo.storage_key
    assert printed["reconcile"]["clean"] is True
    assert main(["doctor", "--data-dir", str(data_dir)]) == 0
    assert "ok    reconcile: the store matched the catalog at " in capsys.readouterr().out


# A child that adopts the strays of the library in argv[1], stalled (so the parent kills it
# there) after the store took the thumbnail of the key argv[3] ("thumbnail"), or once a video's
# row is in but before its jobs are queued ("jobs").
CHILD = """
import sys, time
from pathlib import Path
from core.adopt import adopt_strays
from core.library import Library
from core.settings import load_settings
from tests.internals import storage_of
data_dir, stall_on, key = sys.argv[1:4]
config = Path(data_dir, "settings.toml")
lib = Library.open(load_settings(environ={}, config_file=config, data_dir=data_dir))
if stall_on == "thumbnail":
    store = storage_of(lib)
    real = store.put_bytes

    def stalled(k, *args, **kwargs):
        done = real(k, *args, **kwargs)
        if k == key:
            print(k, flush=True)
            time.sleep(60)
        return done

    store.put_bytes = stalled
else:
    def stalled(file_id, kinds):
        print(file_id, flush=True)
        time.sleep(60)

    lib.jobs.enqueue = stalled
adopt_strays(lib)
print("not stalled", flush=True)
"""


def _killed_at_stall(data_dir: Path, stall_on: str, key: str = "") -> str:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(data_dir), stall_on, key],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    try:
        return child.stdout.readline().strip()
    finally:
        child.kill()
        child.wait(15)


def _restored_without(settings: Settings, tmp_path: Path, *sources: tuple[Path, str]) -> list[str]:
    """The keys of `sources` stored after the catalog's backup, the backup put back."""
    lib = Library.open(settings)
    try:
        backup_catalog(settings, tmp_path / "empty.sqlite3")
        stored = [lib.uploads.ingest(path, kind).storage_key for path, kind in sources]
    finally:
        lib.close()
    restore_catalog(settings, tmp_path / "empty.sqlite3")
    return stored


def test_a_run_killed_before_a_row_is_finished_by_the_next(
    settings: Settings, media_dir: Any, tmp_path: Path
) -> None:
    stored = sorted(
        _restored_without(settings, tmp_path, (media_dir.png, "image"), (media_dir.gif, "image"))
    )
    # killed with the second photo's thumbnail stored, its row not written
    thumb = keys.thumbnail_key(stored[1])
    assert _killed_at_stall(settings.paths.data_dir, "thumbnail", thumb) == thumb
    lib = Library.open(settings)
    try:
        first = lib.find_by_key(stored[0])
        assert first is not None and first.status == FileStatus.READY
        assert lib.find_by_key(stored[1]) is None  # no half row
        report = adopt_strays(lib)
        assert [a["key"] for a in report.adopted] == [stored[1]]
        assert lib.list_files(status=None).total == 2
        assert reconcile(lib).clean
    finally:
        lib.close()


def test_a_run_killed_before_a_videos_jobs_are_queued_is_finished_by_the_next(
    settings: Settings, media_dir: Any, tmp_path: Path
) -> None:
    """Killed once the video's row was in: its key no longer a stray, nothing would ever have
    queued its processing (no web copy, no HLS, ever)."""
    (key,) = _restored_without(settings, tmp_path, (media_dir.mp4, "video"))
    file_id = int(_killed_at_stall(settings.paths.data_dir, "jobs"))
    lib = Library.open(settings)
    try:
        record = lib.find_by_key(key)
        assert record is not None and record.id == file_id and record.status == FileStatus.READY
        assert lib.jobs.list(file_id=file_id)[1] == 0
        report = adopt_strays(lib)
        assert report.jobs_queued == [file_id] and report.adopted == []
        assert lib.jobs.list(file_id=file_id)[1] > 0
        assert adopt_strays(lib).jobs_queued == []  # once
    finally:
        lib.close()


class _SeenProxy(CuttableProxy):
    """The bucket behind a proxy that keeps what the library sent it (request lines)."""

    def __init__(self, host: str, port: int) -> None:
        self.sent = bytearray()
        super().__init__(host, port)

    def _pump(self, src: socket.socket, dst: socket.socket, limited: bool = False) -> None:
        if not limited:  # the store's answers
            super()._pump(src, dst, limited)
            return
        with contextlib.suppress(OSError):
            while chunk := src.recv(65536):
                with self._lock:
                    self.sent += chunk
                dst.sendall(chunk)
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def test_a_stray_larger_than_the_limit_is_refused_by_its_listed_size_before_any_download(
    data_dir: Path, media_dir: Any, s3_bucket: S3Target
) -> None:
    """Was downloaded whole into the data folder's tmp/ and only then refused as too large: a
    huge stray could fill the data folder's disk first. The bucket's listing gives its size."""
    moto = urlsplit(s3_bucket.endpoint_url)
    proxy = _SeenProxy(moto.hostname or "127.0.0.1", moto.port or 80)
    settings = make_settings(
        data_dir,
        r2_endpoint_url=proxy.url,
        r2_bucket_name=s3_bucket.bucket,
        r2_access_key_id=s3_bucket.access_key_id,
        r2_secret_access_key=s3_bucket.secret_access_key,
        r2_region="us-east-1",
        max_file_size=1024,
    )
    key = f"general/2026/11/{'cd' * 16}.jpg"
    photo = media_dir.jpeg.read_bytes()
    assert len(photo) > 1024  # a real photo an upload refuses as too large
    s3_client(s3_bucket).put_object(Bucket=s3_bucket.bucket, Key=key, Body=photo)
    lib = Library.open(settings)
    try:
        report = adopt_strays(lib)
        assert report.refused == [
            {
                "key": key,
                "code": "too_large",
                "message": "The file is larger than the limit of 1024 bytes (MAX_FILE_SIZE)",
            }
        ]
        assert report.adopted == report.duplicates == report.errors == []
        assert f"GET /{s3_bucket.bucket}/{key}".encode() not in proxy.sent  # never downloaded
        assert list(settings.paths.tmp_dir.iterdir()) == []
        assert key in reconcile(lib).objects_without_rows  # left where it is, still listed
    finally:
        lib.close()
        proxy.close()


def test_a_stray_at_the_key_of_a_file_missing_from_its_own_storage_is_kept(
    data_dir: Path, media_dir: Any, s3_bucket: S3Target
) -> None:
    """A catalog backed up before `storage migrate --to r2`, restored: its rows name the
    local folder, emptied by the move, and the bucket holds the bytes at the same keys. The
    stray was read back "as the file's own object" on the bucket, which was the stray itself,
    and removed: every copy of the photo was gone."""
    lib = Library.open(make_settings(data_dir))
    try:
        photo = lib.uploads.ingest(media_dir.jpeg, "image")
    finally:
        lib.close()
    bucket = s3_client(s3_bucket)
    bucket.put_object(
        Bucket=s3_bucket.bucket, Key=photo.storage_key, Body=media_dir.jpeg.read_bytes()
    )
    (data_dir / "objects" / photo.storage_key).unlink()  # the move emptied it
    lib = Library.open(make_s3_settings(data_dir, s3_bucket))
    try:
        report = adopt_strays(lib)
        assert report.adopted == report.restored == []
        (said,) = report.duplicates
        assert said["key"] == photo.storage_key and said["removed"] is False
        assert "is missing from the local storage" in str(said["message"])
        bucket.head_object(Bucket=s3_bucket.bucket, Key=photo.storage_key)  # still there
    finally:
        lib.close()
