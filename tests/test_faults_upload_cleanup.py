"""An upload that fails after its object was stored cleans up as a move's failed copy does
(core.deferred.discard_unless_recorded): never an object that a row names (a commit can
succeed and still raise: PostgreSQL's acknowledgement lost with the connection), never a
note left behind once its object is gone (reconcile listed it as pending for 6 hours), and
the upload's own error for the caller even when the object cannot be deleted (it is then
left to its note, and collected later).

The catalog is a real SQLite file; its faults are injected with SQLAlchemy's session events,
a failed delete with the file system's own error."""

from __future__ import annotations

import contextlib
import errno
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from core import keys
from core.db.models import MediaFile
from core.errors import MediaDeskError
from core.library import Library
from core.maintenance import reconcile
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
