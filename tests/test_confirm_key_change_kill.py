"""A presigned upload's confirm that gives the object another key, killed (-9) before the row
names it. The confirm moved the object (a rename on local storage since 797a10d, for every
upload; a bucket's copy and delete when the bytes' type gave another extension) before the
commit that names the new key: killed in between, the pending row named a key with no object,
and the retried confirm answered 400 upload_not_received: the client had to send the file
again. Now the object is copied (a hard link on local storage), the row names the copy, and the
old key goes only after that commit. Real server over loopback, real SQLite catalog, a real
child process SIGKILLed in that window, local storage and moto's S3 server."""

from __future__ import annotations

import errno
import hashlib
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from core import keys
from core.db.models import DeferredDeletion, MediaFile
from core.ingest import Ingestor
from core.library import Library
from core.maintenance import reconcile, run_maintenance
from core.records import FileStatus
from core.settings import Settings, save_settings
from core.storage.local import LocalStorage
from server.entry import EmbeddedServer
from tests.conftest import make_settings
from tests.faults import ROOT
from tests.internals import db_of, storage_of
from tests.media_fixtures import MediaSet
from tests.server_fixtures import bearer, http_call, make_tokens, presign_grant, server_config

pytestmark = pytest.mark.timeout(120)

# The confirm of file argv[2] in a library of its own on data folder argv[1], SIGKILLed where
# the storage work is done and the catalog's commit not begun: the kill itself, no logic
# replaced (the process never returns from it).
CHILD = """
import os, signal, sys
from pathlib import Path
from core.ingest import Ingestor
from core.library import Library
from core.settings import load_settings

def killed(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

Ingestor._make_ready = killed
data = Path(sys.argv[1])
settings = load_settings(environ={}, config_file=data / "settings.toml", data_dir=str(data))
Library.open(settings).uploads.confirm_upload(int(sys.argv[2]))
"""


def _presign_and_put(lib: Library, url: str, token: str, body: bytes) -> dict[str, Any]:
    """A presigned upload named as a JPEG and its PUT of `body` (a PNG: the bytes' type gives
    the confirmed key another extension, on every backend)."""
    grant = presign_grant(
        url, token, original_filename="p.jpg", file_type="image", content_type="image/jpeg"
    )
    put = http_call(grant["upload_url"], "PUT", body, grant["headers"])
    assert put.status in (200, 201, 204), put.body
    return grant


def _queued(lib: Library) -> list[str]:
    with db_of(lib).read() as s:
        return sorted(s.scalars(select(DeferredDeletion.storage_key)))


def test_a_confirm_killed_between_its_copy_and_its_commit_can_be_retried(
    backend_settings: Settings, media_dir: MediaSet
) -> None:
    settings = backend_settings
    save_settings(settings, settings.config_file)  # what the child opens
    body = media_dir.png.read_bytes()
    lib = Library.open(settings)
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        token = make_tokens(lib).upload
        grant = _presign_and_put(lib, server.url, token, body)
    finally:
        server.stop()
        lib.close()
    file_id = int(grant["file_id"])

    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(settings.paths.data_dir), str(file_id)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr

    lib = Library.open(settings)
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        record = lib.get_file(file_id)
        assert record.status == FileStatus.PENDING  # killed before the commit
        # the presigning token's retry: another token's confirm is the 404 of no such file
        done = http_call(f"{server.url}/files/{file_id}/confirm-upload", "POST", b"", bearer(token))
        # was: 400 upload_not_received (the row named a key the kill had emptied)
        assert done.status == 200, done.body
        confirmed = done.json()
        assert confirmed["status"] == FileStatus.READY
        assert confirmed["sha256"] == hashlib.sha256(body).hexdigest()
        key = str(confirmed["storage_key"])
        assert key.endswith(".png") and key != grant["file_key"]
        data = b"".join(storage_of(lib).open_range(key, 0, None))
        assert hashlib.sha256(data).hexdigest() == confirmed["sha256"]
    finally:
        server.stop()

    try:
        # what the killed confirm copied is noted; its deletion comes due hours later
        later = datetime.now(UTC) + timedelta(days=2)
        assert run_maintenance(lib, now=later).errors == []
        run_maintenance(lib, now=later)
        left = sorted(o.key for o in storage_of(lib).list_keys(""))
        thumbnail = [keys.thumbnail_key(key)] if lib.get_file(file_id).has_thumbnail else []
        assert left == sorted([key, *thumbnail]), left
        assert reconcile(lib).clean
        assert _queued(lib) == []
    finally:
        lib.close()


def _pending_upload(lib: Library, body: bytes) -> tuple[int, str]:
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        grant = _presign_and_put(lib, server.url, make_tokens(lib).upload, body)
    finally:
        server.stop()
    return int(grant["file_id"]), str(grant["file_key"])


def _objects(lib: Library) -> Path:
    store = storage_of(lib).active  # type: ignore[attr-defined]
    assert isinstance(store, LocalStorage)
    return store.root


@pytest.mark.parametrize(
    "refusal", [None, errno.EXDEV, errno.EPERM], ids=["link", "EXDEV", "EPERM"]
)
def test_a_local_confirm_links_the_upload_to_its_key(
    data_dir: Path, media_dir: MediaSet, monkeypatch: pytest.MonkeyPatch, refusal: int | None
) -> None:
    """The copy is a hard link (the same file, no bytes written), or the bytes copied where
    the file system makes no link (another mount, a share)."""
    lib = Library.open(make_settings(data_dir))
    try:
        body = media_dir.png.read_bytes()
        file_id, sent = _pending_upload(lib, body)
        uploaded = os.stat(_objects(lib) / sent)
        if refusal is not None:

            def no_link(*args: Any, **kwargs: Any) -> None:
                raise OSError(refusal, os.strerror(refusal))

            monkeypatch.setattr(os, "link", no_link)
        record = lib.uploads.confirm_upload(file_id)
        monkeypatch.undo()
        assert record.status == FileStatus.READY
        assert not (_objects(lib) / sent).exists()  # the old name is gone
        path = _objects(lib) / record.storage_key
        assert path.read_bytes() == body
        assert record.sha256 == hashlib.sha256(body).hexdigest()
        linked = os.stat(path).st_ino == uploaded.st_ino
        assert linked == (refusal is None)
        assert os.stat(path).st_nlink == 1
        leftovers = [p for p in _objects(lib).rglob("*") if p.name.endswith(".part")]
        assert leftovers == []
        assert _queued(lib) == []
        assert reconcile(lib).clean
    finally:
        lib.close()


def test_a_linked_copy_keeps_its_bytes_when_the_source_is_written_again(
    data_dir: Path,
) -> None:
    """Objects are replaced, never written in place: a link is a copy of its own."""
    store = LocalStorage(data_dir / "objects", data_dir / "tmp")
    store.put_bytes("a/one.bin", b"first", "application/octet-stream")
    store.copy("a/one.bin", "b/two.bin")
    assert os.stat(store.root / "b/two.bin").st_nlink == 2  # one file, two names
    store.put_bytes("a/one.bin", b"second", "application/octet-stream")
    assert store.root.joinpath("b/two.bin").read_bytes() == b"first"
    store.delete("a/one.bin")
    assert store.root.joinpath("b/two.bin").read_bytes() == b"first"


def test_a_copy_onto_a_link_of_its_own_file_leaves_no_partial(data_dir: Path) -> None:
    """A file moved to another athlete and back within the old key's grace: its copy back made
    a temp link and renamed it onto the old key, already a link of the same file, and rename(2)
    then does nothing: the temp name stayed in objects/, holding the bytes, until a restart
    (outside tester)."""
    store = LocalStorage(data_dir / "objects", data_dir / "tmp")
    store.put_bytes("a/one.bin", b"first", "application/octet-stream")
    store.copy("a/one.bin", "b/two.bin")
    store.copy("b/two.bin", "a/one.bin")  # back: onto the name still linked to it
    names = sorted(str(p.relative_to(store.root)) for p in store.root.rglob("*") if p.is_file())
    assert names == ["a/one.bin", "b/two.bin"]
    assert store.root.joinpath("a/one.bin").read_bytes() == b"first"


def test_a_copy_confirmed_meanwhile_elsewhere_stays_noted_until_it_goes(
    data_dir: Path, media_dir: MediaSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process made the file ready at a key of its own while this confirm copied it
    (the row's re-check in the commit sees it): the commit names neither this confirm's copy
    nor the uploaded key, and leaves both noted for deletion, so that a kill before they are
    deleted leaves no object that nothing tracks. The commit cancelled the copy's note."""
    lib = Library.open(make_settings(data_dir))
    try:
        body = media_dir.png.read_bytes()
        file_id, sent = _pending_upload(lib, body)
        store = storage_of(lib)
        theirs = keys.media_key(None, "png")
        making_ready = Ingestor._make_ready
        seen: dict[str, list[str]] = {}

        def confirmed_elsewhere(
            self: Ingestor, record: Any, info: Any, sha: str, key: str, *args: Any
        ) -> Any:
            # the other process's confirm, committed before this transaction
            store.copy(key, theirs)
            with db_of(lib).write() as s:
                s.execute(
                    update(MediaFile)
                    .where(MediaFile.id == file_id)
                    .values(
                        status=FileStatus.READY,
                        storage_key=theirs,
                        sha256=sha,
                        size=info.size,
                        upload_expires_at=None,
                    )
                )
            placed = making_ready(self, record, info, sha, key, *args)
            seen["queued"] = _queued(lib)  # what a kill here would leave to the notes
            seen["ours"] = [key]
            return placed

        monkeypatch.setattr(Ingestor, "_make_ready", confirmed_elsewhere)
        record = lib.uploads.confirm_upload(file_id)
        monkeypatch.undo()
        assert record.status == FileStatus.READY and record.storage_key == theirs
        (ours,) = seen["ours"]
        assert ours not in (sent, theirs)
        assert seen["queued"] == sorted([ours, sent]), seen
        assert [o.key for o in store.list_keys("")] == [theirs]
        assert _queued(lib) == []
    finally:
        lib.close()
