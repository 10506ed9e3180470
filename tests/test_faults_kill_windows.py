"""Found by killing a serving MediaDesk at random moments: the windows between storing an object
and committing the row that names it. A process killed there left an object no row named,
which maintenance never removed (reconcile unclean for good), or a tus upload whose every HEAD
answered 500 (then, on local storage, 410 or 404: the client sent the whole file again). And a
hard delete that ran while the file moved to another athlete deleted the
row and left the move's copy behind."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from core import keys
from core.db.models import MediaFile
from core.deferred import DeferredDeleter, collect_unless_recorded, forget_noted
from core.leader import full_run
from core.library import Library
from core.maintenance import reconcile, run_maintenance
from core.records import FileStatus
from core.settings import Settings, load_settings, save_settings
from server.entry import EmbeddedServer
from tests.faults import ROOT, start_serve
from tests.internals import db_of, storage_of
from tests.resumable_client import create as tus_create
from tests.resumable_client import head
from tests.resumable_client import patch as tus_patch
from tests.server_fixtures import bearer, http_call, make_tokens, server_config

pytestmark = pytest.mark.timeout(90)

# A child that opens the library and runs one step whose store call named by argv[2] stalls
# after the real call (printing the key), so the parent kills it exactly there; with argv[5],
# only the call on that key stalls.
CHILD = """
import sys, time
from pathlib import Path
from core.library import Library
from core.settings import load_settings
from tests.internals import storage_of
data_dir, stall_on, step = sys.argv[1], sys.argv[2], sys.argv[3]
config = Path(data_dir, "settings.toml")
lib = Library.open(load_settings(environ={}, config_file=config, data_dir=data_dir))
storage = storage_of(lib)
target = lib.uploads if stall_on == "confirm_upload" else storage  # after the row is ready
real = getattr(target, stall_on)
only = sys.argv[5] if len(sys.argv) > 5 else None

def stalled(key, *args, **kwargs):
    done = real(key, *args, **kwargs)
    if only is not None and key != only:
        return done
    print(args[0] if stall_on == "copy" else key, flush=True)
    time.sleep(60)
    return done

setattr(target, stall_on, stalled)
if step == "move":
    lib.update_file(int(sys.argv[4]), {"athlete_id": 9})
elif step == "ingest":
    lib.uploads.ingest(Path(sys.argv[4]), "image")
elif step == "confirm":  # a presigned upload whose bytes arrived, confirmed
    source = Path(sys.argv[4])
    made = lib.uploads.create_presigned_upload(source.name, "image", size=source.stat().st_size)
    storage.put_file(made.file_key, source, "image/png")
    print(made.file.id, flush=True)
    lib.uploads.confirm_upload(made.file.id)
elif step == "confirm_shared":  # the bytes of a stored file, presigned for another athlete
    source = Path(sys.argv[4])
    made = lib.uploads.create_presigned_upload(
        source.name, "image", athlete_id=9, size=source.stat().st_size
    )
    storage.put_file(made.file_key, source, "image/png")
    print(made.file_key, flush=True)
    lib.uploads.confirm_upload(made.file.id)
else:  # a tus upload's last PATCH (on local storage the bytes are taken by a rename)
    data = Path(sys.argv[4]).read_bytes()
    state = lib.resumable.create(len(data), {"filename": "last.png"})
    print(state.id, flush=True)
    writer = lib.resumable.writer(state.id, 0)
    writer.write(data)
    writer.close()
"""


def _killed_at_stall(
    data_dir: Path, stall_on: str, step: str, arg: str, only: str | None = None
) -> list[str]:
    """Runs CHILD, SIGKILLs it once it stalls; the lines it printed."""
    extra = [only] if only else []
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(data_dir), stall_on, step, arg, *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    try:
        lines = [child.stdout.readline().strip()]
        if step.startswith(("tus", "confirm")):
            lines.append(child.stdout.readline().strip())
    finally:
        child.kill()
        child.wait(15)
    assert all(lines), lines
    return lines


def _maintained(data_dir: Path) -> dict[str, Any]:
    """`mediadesk maintenance` (server/cli.py's run: the tasks, then the reconcile) on the data
    folder, in this process: a fresh process for it took a second or two of each call, nine in
    this module; its report's reconcile."""
    settings = load_settings(environ={}, config_file=data_dir / "settings.toml", data_dir=data_dir)
    with contextlib.closing(Library.open(settings)) as lib, full_run(lib):
        report = run_maintenance(lib)
        assert report.errors == []
        return reconcile(lib).as_dict()


def _after_grace(settings: Settings) -> Library:
    """The library once the noted deletions came due (hours later)."""
    lib = Library.open(settings)
    lib.deferred.run(now=datetime.now(UTC) + timedelta(days=1))
    return lib


def test_a_move_killed_between_copy_and_commit_leaves_no_stray_object(
    settings: Settings, media_dir: Any
) -> None:
    lib = Library.open(settings)
    record = lib.uploads.ingest(media_dir.png, "image")
    lib.close()
    copy = _killed_at_stall(settings.paths.data_dir, "copy", "move", str(record.id))[0]
    assert copy.startswith("athletes/9/")

    check = _maintained(settings.paths.data_dir)
    assert check["clean"], check  # was: objects_without_rows [copy, its thumbnail]
    assert check["pending_deletions"] == [copy]
    lib = _after_grace(settings)
    try:
        storage = storage_of(lib)
        assert not storage.exists(copy) and not storage.exists(keys.thumbnail_key(copy))
        assert lib.get_file(record.id).storage_key == record.storage_key
        assert b"".join(lib.open_range(record, 0, None)) == media_dir.png.read_bytes()
        assert reconcile(lib).as_dict() == {**check, "pending_deletions": []}
    finally:
        lib.close()


def test_an_upload_killed_before_its_row_leaves_no_stray_object(
    settings: Settings, media_dir: Any
) -> None:
    Library.open(settings).close()
    # killed once the object and its thumbnail are stored, before the row is committed
    thumb = _killed_at_stall(settings.paths.data_dir, "put_bytes", "ingest", str(media_dir.png))
    key = thumb[0].removeprefix(keys.THUMBNAIL_PREFIX).rsplit(".", 1)[0] + ".png"

    check = _maintained(settings.paths.data_dir)
    assert check["clean"], check  # was: objects_without_rows [key, its thumbnail]
    assert check["pending_deletions"] == [key]
    lib = _after_grace(settings)
    try:
        assert not storage_of(lib).exists(key)
        assert lib.stored_keys() == []
        assert reconcile(lib).pending_deletions == []
    finally:
        lib.close()


def test_an_object_noted_before_it_is_written_goes_unless_its_row_records_it(
    library: Library, media_dir: Any
) -> None:
    """The rule the writes above follow (core.deferred.collect_unless_recorded), in-process:
    the note is committed before the object is written, so a write killed before its row
    leaves the object to the deferred deletion; only the commit of the row that names the
    object (or the writer's own cleanup, once nothing is left) drops the note."""
    db, storage = db_of(library), storage_of(library)
    crashed, failed, recorded = (keys.media_key(None, "png") for _ in range(3))
    placed: list[str] = []
    for key in (crashed, failed, recorded):
        collect_unless_recorded(db, key, storage, "upload", also=lambda _s, k: placed.append(k))
        assert key in library.deferred.pending_keys()  # committed: a kill from here is known
        storage.put_file(key, media_dir.png, "image/png")
    assert placed == [crashed, failed, recorded]
    storage.delete(failed)  # a failed write's cleanup: the object, then its note
    forget_noted(db, failed)
    assert recorded in library.deferred.pending_keys()  # stored is not recorded
    with db.write() as s:
        s.add(
            MediaFile(
                storage_key=recorded,
                original_filename="recorded.png",
                file_type="image",
                status=FileStatus.READY,
            )
        )
        DeferredDeleter.cancel(s, recorded)
    # `crashed` was killed between its store and its row
    assert library.deferred.pending_keys() == {crashed, keys.thumbnail_key(crashed)}
    assert library.deferred.run() == []  # the long grace: a writer elsewhere may still record
    assert library.deferred.run(now=datetime.now(UTC) + timedelta(days=1)) == [crashed]
    assert not storage.exists(crashed) and storage.exists(recorded)


# A served MediaDesk (real HTTP) whose store call or ingest step named by argv[2] stalls after
# the real call (before it, with argv[3] "before"), printing "stalled", so the parent SIGKILLs
# it exactly there.
SERVED = """
import sys, time
from pathlib import Path
from core.library import Library
from core.settings import load_settings
from server.entry import EmbeddedServer
from tests.internals import storage_of
from tests.server_fixtures import server_config
data_dir, stall_on, before = sys.argv[1], sys.argv[2], sys.argv[3] == "before"
config = Path(data_dir, "settings.toml")
lib = Library.open(load_settings(environ={}, config_file=config, data_dir=data_dir))
target = storage_of(lib) if stall_on == "adopt_file" else lib.uploads
real = getattr(target, stall_on)

def stalled(*args, **kwargs):
    done = None if before else real(*args, **kwargs)
    print("stalled", flush=True)
    time.sleep(60)
    return done

setattr(target, stall_on, stalled)
server = EmbeddedServer(lib, config=server_config(lib))
server.start()
print(server.url, flush=True)
time.sleep(60)
"""


def _patch_cut(url: str, token: str, offset: int, data: bytes) -> None:
    with contextlib.suppress(OSError):  # the server is killed before it answers
        tus_patch(url, token, offset, data)


def _last_patch_killed(data_dir: Path, stall_on: str, when: str, token: str, data: bytes) -> str:
    """A tus upload of `data` to a served child, SIGKILLed in its last PATCH `when` ("before",
    "after") the step `stall_on`; the upload's path (Location)."""
    child = subprocess.Popen(
        [sys.executable, "-c", SERVED, str(data_dir), stall_on, when],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    try:
        url = child.stdout.readline().strip()
        created = tus_create(url, token, len(data), filename="match.mp4")
        assert created.status == 201, created.body
        location = created.headers["Location"]
        half = len(data) // 2
        assert tus_patch(url + location, token, 0, data[:half]).status == 204
        last = threading.Thread(
            target=_patch_cut, args=(url + location, token, half, data[half:]), daemon=True
        )
        last.start()
        assert child.stdout.readline().strip() == "stalled"
    finally:
        child.kill()
        child.wait(15)
    return location


@pytest.mark.parametrize(
    ("when", "stall_on", "resume_by"),
    [
        ("before", "adopt_file", "HEAD"),
        ("after", "adopt_file", "HEAD"),
        ("after", "_announce", "PATCH"),
    ],
    ids=["before-the-rename", "after-the-rename", "after-the-file-row"],
)
def test_a_local_tus_upload_killed_while_stored_resumes_to_its_file(
    settings: Settings, media_dir: Any, when: str, stall_on: str, resume_by: str
) -> None:
    data_dir = settings.paths.data_dir
    lib = Library.open(settings)
    token = make_tokens(lib).upload
    lib.close()
    data = media_dir.mp4.read_bytes()
    # killed once every byte is in and validated, before the store takes them (the .part
    # renamed into objects/); once it took them, before the file's row; or once that row is
    # in, before the upload is marked done
    location = _last_patch_killed(data_dir, stall_on, when, token, data)

    # maintenance before the client comes back: the bytes are in the store, the upload kept
    check = _maintained(data_dir)
    assert check["clean"], check
    server = start_serve(data_dir)
    try:
        url = server.url + location
        if resume_by == "HEAD":  # tuspy, tus-js-client
            reply = head(url, token)
            assert reply.status == 200, (reply.status, reply.body)
        else:  # a client that PATCHes the offset it last sent
            reply = tus_patch(url, token, len(data), b"")
            assert reply.status == 204, (reply.status, reply.body)
        # was: 410 upload_gone (404 once maintenance had run): the whole file sent again
        assert int(reply.headers["Upload-Offset"]) == len(data)
        assert "MediaDesk-Duplicate" not in reply.headers  # the upload's own file
        file_id = int(reply.headers["MediaDesk-File-Id"])
        assert int(head(url, token).headers["MediaDesk-File-Id"]) == file_id
        streamed = http_call(f"{server.url}/stream/{file_id}/raw", headers=bearer(token))
        assert streamed.status == 200 and streamed.body == data
    finally:
        server.stop()
    check = _maintained(data_dir)
    assert check["clean"] and check["pending_deletions"] == [], check
    lib = Library.open(settings)
    try:
        assert [row[0] for row in lib.stored_keys()] == [file_id]
        assert list(lib.resumable.folder.iterdir()) == []
    finally:
        lib.close()


def test_a_hard_delete_during_a_move_leaves_no_copy(library: Library, media_dir: Any) -> None:
    record = library.uploads.ingest(media_dir.png, "image")
    storage = storage_of(library)
    real_copy, real_delete = storage.copy, storage.delete
    copied, delete_started, moved = threading.Event(), threading.Event(), threading.Event()

    def copy(src: str, dst: str) -> Any:
        done = real_copy(src, dst)
        copied.set()
        delete_started.wait(2)  # the delete reads the file now, unless it has to wait
        return done

    def delete(key: str) -> None:
        if key == record.storage_key:
            delete_started.set()
            moved.wait(5)  # the move commits between the delete's read and its row write
        real_delete(key)

    storage.copy, storage.delete = copy, delete  # type: ignore[method-assign]

    def move() -> None:
        try:
            library.update_file(record.id, {"athlete_id": 5})
        except Exception:  # noqa: BLE001 (the delete won: any answer but a stray is fine)
            pass
        finally:
            moved.set()

    mover = threading.Thread(target=move)
    mover.start()
    assert copied.wait(10)
    deleter = threading.Thread(target=library.delete_permanently, args=(record.id,))
    deleter.start()
    mover.join(15)
    deleter.join(15)
    storage.copy, storage.delete = real_copy, real_delete  # type: ignore[method-assign]
    library.deferred.run(now=datetime.now(UTC) + timedelta(days=1))
    check = reconcile(library)
    assert check.clean, check.as_dict()  # was: objects_without_rows [the move's copy, thumb]
    assert [k for k in storage.list_keys("") if not k.key.startswith("_derived/")] == []


def test_a_tus_upload_on_s3_killed_after_completing_is_catalogued_on_resume(
    s3_settings: Settings, media_dir: Any
) -> None:
    save_settings(s3_settings, s3_settings.config_file)  # what the child opens
    Library.open(s3_settings).close()
    data_dir = s3_settings.paths.data_dir
    upload_id, key = _killed_at_stall(data_dir, "complete_multipart", "tus", str(media_dir.png))
    lib = Library.open(s3_settings)
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        assert storage_of(lib).exists(key)  # completed in the bucket, no row names it
        token = make_tokens(lib).upload
        reply = head(f"{server.url}/files/upload/tus/{upload_id}", token)
        # was: 500 on every HEAD (moto answers UploadPart of a completed upload 500; R2/S3
        # NoSuchUpload, so 410 parts_gone), and the object left in the bucket for good
        assert reply.status == 200, (reply.status, reply.body)
        file_id = int(reply.headers["MediaDesk-File-Id"])
        record = lib.get_file(file_id)
        assert record.storage_key == key
        assert b"".join(lib.open_range(record, 0, None)) == media_dir.png.read_bytes()
        check = reconcile(lib)
        assert check.clean and check.pending_deletions == [], check.as_dict()
    finally:
        server.stop()
        lib.close()


def test_a_tus_upload_on_s3_killed_before_its_row_leaves_no_stray_object(
    s3_settings: Settings, media_dir: Any
) -> None:
    save_settings(s3_settings, s3_settings.config_file)
    Library.open(s3_settings).close()
    data_dir = s3_settings.paths.data_dir
    upload_id, key = _killed_at_stall(data_dir, "complete_multipart", "tus", str(media_dir.png))
    lib = Library.open(s3_settings)
    try:
        lib.resumable.expire(datetime.now(UTC) + timedelta(days=2))  # the client never came
        check = reconcile(lib)
        assert check.clean, check.as_dict()  # was: objects_without_rows [key]
        lib.deferred.run(now=datetime.now(UTC) + timedelta(days=3))
        assert not storage_of(lib).exists(key)
        assert reconcile(lib).pending_deletions == []
    finally:
        lib.close()


def test_a_confirm_killed_after_its_thumbnail_leaves_reconcile_clean(
    settings: Settings, media_dir: Any
) -> None:
    Library.open(settings).close()
    file_id, thumb = _killed_at_stall(
        settings.paths.data_dir, "put_bytes", "confirm", str(media_dir.png)
    )
    lib = Library.open(settings)
    try:
        assert storage_of(lib).exists(thumb)  # written, and the row still pending
        check = reconcile(lib)
        assert check.clean, check.as_dict()  # was: objects_without_rows [the thumbnail]
        # the client never confirms again: the upload's expiry removes the object and thumbnail
        report = run_maintenance(lib, now=datetime.now(UTC) + timedelta(days=2))
        assert int(file_id) in report.expired_pending, report.as_dict()
        assert not storage_of(lib).exists(thumb)
        assert reconcile(lib).clean
    finally:
        lib.close()


def test_a_confirm_killed_before_dropping_its_shared_copy_leaves_no_stray_object(
    settings: Settings, media_dir: Any
) -> None:
    lib = Library.open(settings)
    stored = lib.uploads.ingest(media_dir.png, "image")
    lib.close()
    # the same bytes presigned for another athlete reference the stored object; killed once
    # the row names it (the stat of that object that decides whether the copy goes)
    copy, _ = _killed_at_stall(
        settings.paths.data_dir, "stat", "confirm_shared", str(media_dir.png), stored.storage_key
    )

    check = _maintained(settings.paths.data_dir)
    assert check["clean"], check  # was: objects_without_rows [copy]
    assert check["pending_deletions"] == [copy]
    lib = _after_grace(settings)
    try:
        assert not storage_of(lib).exists(copy)
        shared = [row for row in lib.stored_keys() if row[0] != stored.id]
        assert [(key, status) for _, key, status, _ in shared] == [(stored.storage_key, "ready")]
        assert reconcile(lib).as_dict() == {**check, "pending_deletions": []}
    finally:
        lib.close()


def test_a_tus_upload_on_s3_killed_after_its_file_is_ready_keeps_that_file_on_resume(
    s3_settings: Settings, media_dir: Any
) -> None:
    save_settings(s3_settings, s3_settings.config_file)  # what the child opens
    Library.open(s3_settings).close()
    data_dir = s3_settings.paths.data_dir
    # killed once the upload's file is ready, before the upload is marked done
    upload_id, file_id = _killed_at_stall(data_dir, "confirm_upload", "tus", str(media_dir.png))
    lib = Library.open(s3_settings)
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        token = make_tokens(lib).upload
        reply = head(f"{server.url}/files/upload/tus/{upload_id}", token)
        assert reply.status == 200, (reply.status, reply.body)
        assert int(reply.headers["MediaDesk-File-Id"]) == int(file_id)
        assert "MediaDesk-Duplicate" not in reply.headers  # the upload's own file, not a copy
        record = lib.get_file(int(file_id))
        # was: the resumed finish took the file for a duplicate of itself and deleted "its
        # copy", which was the file's own object: the file streamed 404 for good
        assert storage_of(lib).exists(record.storage_key)
        assert b"".join(lib.open_range(record, 0, None)) == media_dir.png.read_bytes()
        assert [row[0] for row in lib.stored_keys()] == [int(file_id)]
        check = reconcile(lib)
        assert check.clean and check.pending_deletions == [], check.as_dict()
    finally:
        server.stop()
        lib.close()
