"""An upload that fails after its object was stored cleans up as a move's failed copy does
(core.deferred.discard_unless_recorded): never an object that a row names (a commit can
succeed and still raise: PostgreSQL's acknowledgement lost with the connection), never a
note left behind once its object is gone (reconcile listed it as pending for 6 hours), and
the upload's own error for the caller even when the object cannot be deleted (it is then
left to its note, and collected later). A delete that follows the answer (the copy of bytes
another process stored meanwhile, a presigned duplicate's copy, the object of an upload that
validation refused) is as best effort: the caller hears that answer, not the delete's error.

The catalog is a real SQLite file; its faults are injected with SQLAlchemy's session events,
a failed delete with the file system's own error."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from core import keys
from core.db.models import MediaFile
from core.errors import Conflict, MediaDeskError
from core.library import Library
from core.maintenance import reconcile, run_maintenance
from core.records import FileRecord
from tests.internals import db_of, storage_of

pytestmark = pytest.mark.timeout(60)


class CommitLost(ConnectionError):
    """The injected fault: the commit of a file's row raised."""


@contextlib.contextmanager
def row_commit_raises(*, committed: bool) -> Iterator[None]:
    """The next commit that adds a file row raises CommitLost once: after the commit
    (`committed`, the row is in) or in its place (nothing is)."""
    fired: list[bool] = []

    def note_row(session: Session, _context: Any) -> None:
        if any(isinstance(obj, MediaFile) for obj in session.new):
            session.info["adds_file_row"] = True

    def fail(session: Session) -> None:
        if session.info.pop("adds_file_row", False) and not fired:
            fired.append(True)
            raise CommitLost("the connection dropped before the commit was acknowledged")

    when = "after_commit" if committed else "before_commit"
    event.listen(Session, "after_flush", note_row)
    event.listen(Session, when, fail)
    try:
        yield
    finally:
        event.remove(Session, when, fail)
        event.remove(Session, "after_flush", note_row)
    assert fired, "no file row was committed"


def _the_one_row_key(library: Library) -> str:
    with db_of(library).read() as s:
        [key] = s.scalars(select(MediaFile.storage_key)).all()
    return key


def _noted(library: Library) -> set[str]:
    return {k for k in library.deferred.pending_keys() if not k.startswith(keys.THUMBNAIL_PREFIX)}


def test_an_upload_whose_commit_succeeded_but_raised_keeps_its_object(
    library: Library, media_dir: Any
) -> None:
    with row_commit_raises(committed=True), pytest.raises(CommitLost):
        library.uploads.ingest(media_dir.png, "image")
    key = _the_one_row_key(library)
    # was: deleted under its own row (a file that lists, and whose stream is 404)
    assert storage_of(library).exists(key)
    assert storage_of(library).exists(keys.thumbnail_key(key))
    assert _noted(library) == set()  # the row's commit cancelled the note
    check = reconcile(library)
    assert check.clean, check.as_dict()


def test_an_upload_whose_object_cannot_be_deleted_raises_its_own_error(
    library: Library, media_dir: Any, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    """The row's commit failed, then so does the object's deletion: the caller hears why
    the upload failed, and the note collects the object later."""
    objects = library.paths.objects_dir
    real_unlink = Path.unlink

    def unlink(path: Path, missing_ok: bool = False) -> None:
        if objects in path.parents:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        real_unlink(path, missing_ok)

    caplog.set_level(logging.WARNING, logger="core")
    with monkeypatch.context() as m, row_commit_raises(committed=False):
        m.setattr(Path, "unlink", unlink)
        with pytest.raises(CommitLost):  # was: storage_unavailable "Cannot delete ..."
            library.uploads.ingest(media_dir.png, "image")
    [key] = _noted(library)  # kept for the object that is still there
    assert storage_of(library).exists(key)
    said = [r for r in caplog.records if key in r.getMessage()]
    assert len(said) == 1 and said[0].levelno == logging.WARNING, caplog.text
    assert library.deferred.run(now=datetime.now(UTC) + timedelta(days=1)) == [key]
    assert not storage_of(library).exists(key)
    assert _noted(library) == set()


def test_a_tus_upload_on_s3_that_fails_after_completing_leaves_no_note(
    s3_library: Library, media_dir: Any
) -> None:
    """The object a tus upload completed in the bucket, deleted again when the upload fails
    or is a duplicate, goes with its note (was: pending for 6 hours in reconcile); when the
    row's commit succeeded but raised, the object stays under its row."""
    lib, storage = s3_library, storage_of(s3_library)
    png = media_dir.png
    # ingest with stored_key: the row's commit fails
    with row_commit_raises(committed=False), pytest.raises(CommitLost):
        lib.resumable.send_file(png, "image")
    assert _noted(lib) == set()
    assert [o.key for o in storage.list_keys("")] == []
    # ... succeeds but raises: the object is the file's
    with row_commit_raises(committed=True), pytest.raises(CommitLost):
        lib.resumable.send_file(png, "image")
    key = _the_one_row_key(lib)
    assert storage.exists(key) and _noted(lib) == set()
    # a duplicate of that file: its own completed object goes
    again = lib.resumable.send_file(png, "image")
    assert again.duplicate and again.storage_key == key
    assert _noted(lib) == set()
    # bytes of no accepted type, found out after the completion (_finish_multipart)
    odd = b"not a picture " * 100
    state = lib.resumable.create(len(odd), {"filename": "notes.bin"})
    writer = lib.resumable.writer(state.id, 0)
    writer.write(odd)
    with pytest.raises(MediaDeskError):
        writer.close()
    assert _noted(lib) == set()
    assert {o.key for o in storage.list_keys("")} == {key, keys.thumbnail_key(key)}


# ---- deletes after the answer is known: a success, a duplicate, an upload's own error ---------
@contextlib.contextmanager
def deletes_fail(library: Library, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every delete of an object (or thumbnail) meets the file system's own refusal."""
    objects, real_unlink = library.paths.objects_dir, Path.unlink

    def unlink(path: Path, missing_ok: bool = False) -> None:
        if objects in path.parents:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        real_unlink(path, missing_ok)

    with monkeypatch.context() as m:
        m.setattr(Path, "unlink", unlink)
        yield


def _warned_once(caplog: Any, key: str) -> None:
    """One warning about the object left behind (its upload's own error may name it too)."""
    said = [r for r in caplog.records if key in r.getMessage() and r.levelno == logging.WARNING]
    assert len(said) == 1, caplog.text


def _later() -> datetime:
    return datetime.now(UTC) + timedelta(days=1)


@contextlib.contextmanager
def stored_meanwhile(
    library: Library, settings: Any, media: Path, then: Callable[[Library, FileRecord], None]
) -> Iterator[Callable[[str, int, int], None]]:
    """A progress callback for `library`'s ingest of `media`: once its object is stored and
    before its row's transaction, another process (a library of its own on the same data
    folder and catalog) uploads the same bytes, and `then(other, its_file)` runs."""
    other = Library.open(settings)
    done: list[FileRecord] = []

    def progress(stage: str, _done: int, _total: int) -> None:
        if stage == "finishing" and not done:
            done.append(other.uploads.ingest(media, "image"))
            then(other, done[0])

    try:
        yield progress
    finally:
        other.close()
    assert done, "the upload never reached its row"


def test_an_upload_whose_copy_gives_way_but_cannot_be_deleted_is_a_success(
    library: Library, settings: Any, media_dir: Any, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    """Another process stored the same bytes meanwhile: the row names its object, and our
    copy, which the storage refuses to delete, is left to its note. Was: storage_unavailable
    'Cannot delete' for a file that is in the library (a client retries)."""
    caplog.set_level(logging.WARNING, logger="core")
    storage, theirs = storage_of(library), []
    with deletes_fail(library, monkeypatch):

        def keep(_other: Library, record: FileRecord) -> None:
            theirs.append(record)

        with stored_meanwhile(library, settings, media_dir.png, keep) as progress:
            got = library.uploads.ingest(media_dir.png, "image", progress=progress)
    assert got.id == theirs[0].id and got.duplicate_of == theirs[0].id
    [ours] = _noted(library)
    assert ours != theirs[0].storage_key
    assert storage.exists(ours) and storage.exists(keys.thumbnail_key(ours))
    _warned_once(caplog, ours)
    assert library.deferred.run(now=_later()) == [ours]
    assert not storage.exists(ours) and not storage.exists(keys.thumbnail_key(ours))
    assert storage.exists(theirs[0].storage_key)
    check = reconcile(library)
    assert check.clean and not check.pending_deletions, check.as_dict()


def test_an_upload_whose_copy_cannot_check_the_object_it_gives_way_to_is_a_success(
    library: Library, settings: Any, media_dir: Any, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    """Another process stored the same bytes meanwhile, and the store cannot say whether that
    object is there (its folder unreadable): the upload is in the library all the same, and
    our copy stays to its note. Was: storage_unavailable for a file that is in the library."""
    caplog.set_level(logging.WARNING, logger="core")
    storage, theirs, real_stat = storage_of(library), [], Path.stat

    def stat(path: Path, **kw: Any) -> Any:
        if theirs and path == library.paths.objects_dir / theirs[0].storage_key:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_stat(path, **kw)

    def unreadable(_other: Library, record: FileRecord) -> None:
        theirs.append(record)
        monkeypatch.setattr(Path, "stat", stat)

    with stored_meanwhile(library, settings, media_dir.png, unreadable) as progress:
        got = library.uploads.ingest(media_dir.png, "image", progress=progress)
    monkeypatch.undo()
    assert got.id == theirs[0].id and got.duplicate_of == theirs[0].id
    [ours] = _noted(library)
    assert ours != theirs[0].storage_key and storage.exists(ours)
    _warned_once(caplog, ours)
    assert library.deferred.run(now=_later()) == [ours]
    assert not storage.exists(ours) and storage.exists(theirs[0].storage_key)
    check = reconcile(library)
    assert check.clean and not check.pending_deletions, check.as_dict()


def test_a_copy_that_fails_to_take_a_deleted_objects_place_is_not_deleted_later(
    library: Library, settings: Any, media_dir: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The object our row now names went meanwhile, and the move of our copy to its key
    fails: the upload raises (its row names nothing), and our copy, the only bytes of that
    file, stays for someone to put back. Was: its note deleted it once due."""
    objects, real_replace = library.paths.objects_dir, os.replace

    def replace(src: Any, dst: Any) -> None:
        if objects in Path(src).parents:
            raise PermissionError(errno.EACCES, "Permission denied", str(src))
        real_replace(src, dst)

    def object_gone(other: Library, record: FileRecord) -> None:
        storage_of(other).delete(record.storage_key)  # as a deletion by another process would
        monkeypatch.setattr(os, "replace", replace)

    storage = storage_of(library)
    meanwhile = stored_meanwhile(library, settings, media_dir.png, object_gone)
    with meanwhile as progress, pytest.raises(MediaDeskError):
        library.uploads.ingest(media_dir.png, "image", progress=progress)
    monkeypatch.undo()
    [theirs] = library.list_files().items
    [ours] = [o.key for o in storage.list_keys("") if not o.key.startswith("_derived/")]
    assert ours != theirs.storage_key
    assert library.deferred.run(now=_later()) == []
    assert storage.exists(ours)  # the bytes of the file whose object is missing
    check = reconcile(library)
    assert ours in check.objects_without_rows and check.rows_without_objects == [theirs.id]


def test_a_presigned_upload_refused_by_validation_answers_why_when_its_object_stays(
    library: Library, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    """The confirm's answer is the validation's, not the failed delete's; the failed row is
    kept (a repeat answers it) and the object goes with it at the URL's expiry."""
    caplog.set_level(logging.WARNING, logger="core")
    storage = storage_of(library)
    up = library.uploads.create_presigned_upload("a.png", "image", content_type="image/png")
    storage.put_bytes(up.file_key, b"not a picture " * 100, "image/png")
    with deletes_fail(library, monkeypatch), pytest.raises(MediaDeskError) as refused:
        library.uploads.confirm_upload(up.file.id)
    assert refused.value.code != "storage_unavailable", refused.value  # was: 'Cannot delete'
    with pytest.raises(
        Conflict, match=re.escape(refused.value.message)
    ):  # failed, not left pending
        library.uploads.confirm_upload(up.file.id)
    assert storage.exists(up.file_key) and _noted(library) == {up.file_key}
    _warned_once(caplog, up.file_key)
    run_maintenance(library, now=_later(), only=frozenset({"deferred_deletions", "expire_pending"}))
    assert not storage.exists(up.file_key)
    check = reconcile(library)
    assert check.clean and not check.pending_deletions, check.as_dict()


def test_a_presigned_duplicate_answers_the_file_when_its_copy_stays(
    library: Library, media_dir: Any, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    """The confirm of a duplicate answers the existing file (its id now an alias) whatever
    becomes of the copy; one that cannot be deleted is noted and collected, though the alias
    row keeps its key."""
    caplog.set_level(logging.WARNING, logger="core")
    storage = storage_of(library)
    first = library.uploads.ingest(media_dir.png, "image")
    up = library.uploads.create_presigned_upload("copy.png", "image", content_type="image/png")
    storage.put_file(up.file_key, media_dir.png, "image/png")
    with deletes_fail(library, monkeypatch):
        dup = library.uploads.confirm_upload(up.file.id)  # was: storage_unavailable
    assert dup.id == up.file.id and dup.duplicate_of == first.id
    assert storage.exists(up.file_key) and _noted(library) == {up.file_key}
    _warned_once(caplog, up.file_key)
    assert library.deferred.run(now=_later()) == [up.file_key]
    assert not storage.exists(up.file_key) and storage.exists(first.storage_key)
    check = reconcile(library)
    assert check.clean and not check.pending_deletions, check.as_dict()
