"""`mediadesk maintenance --adopt-strays`: the stored photos and videos a catalog does not know,
taken into it.

A catalog older than the storage (a backup of it restored, the objects kept or restored
newer) leaves every file uploaded since as an object no row names: reconcile lists them
(objects_without_rows) and maintenance keeps them, the only copies of those files. Each one in
the seed's layout (core/keys.py media_key) on the active storage is read as an upload reads
its file (type from its bytes, validation, metadata, SHA-256, thumbnail, video jobs) and
catalogued where it lies, under its own key: nothing is copied, moved or deleted.

One kind of stray is put in place instead: the new copy of a file moved to another athlete
after the catalog's backup (its old key deleted after the move's grace period, core/deferred.py),
whose bytes (SHA-256 and size) are those of a catalogued file missing its object. It is copied
to that file's own key, the copy read back and checked, and only then is the stray removed
(with the thumbnail the move carried): a run killed anywhere leaves the stray, or a checked
copy that the next run finishes from the catalog's note (RESTORING).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from core import keys
from core.db.engine import Database
from core.db.models import CatalogLease, MediaFile
from core.errors import (
    CorruptFile,
    EmptyFile,
    InvalidInput,
    MediaDeskError,
    TooLarge,
    TypeMismatch,
    UnsupportedType,
)
from core.library import Library
from core.maintenance import reconcile
from core.mediatypes import FileKind, sniff_file
from core.records import FileStatus
from core.spool import discard, hash_file, owned_temp, too_large
from core.storage.base import ObjectStat, Storage
from core.video import service

logger = logging.getLogger(__name__)

# The catalog's note of the keys being adopted (catalog_leases.info["keys"]), each written
# before its file's row and cleared once its video jobs are queued: a run killed between the
# row's commit and the jobs leaves a ready video nothing would ever process (its key no longer
# a stray), which the next run finds here and queues.
JOURNAL = "adopting"
# The strays being put in place of a file's missing object (catalog_leases.info["moves"]:
# [stray, file's key, file id]), each noted before its copy and cleared once the stray is gone:
# a run killed after the copy leaves a stray whose bytes a file now holds, which alone would
# read as a duplicate "left where it is"; the next run finishes its removal from this note.
RESTORING = "restoring"
# What an upload refuses for its content (answered 4xx): the object is named, not adopted
REFUSALS = (UnsupportedType, TypeMismatch, TooLarge, EmptyFile, CorruptFile, InvalidInput)


@dataclass
class AdoptReport:
    # {key, file_id, name, file_type, athlete_id, created_at, dated_by[, note]}
    adopted: list[dict[str, object]] = field(default_factory=list)
    # objects whose bytes a ready file of the catalog already holds (SHA-256), with that file's
    # id: removed when that file's own object was read back and holds them ("removed": true),
    # else left where they are, still listed by reconcile
    duplicates: list[dict[str, object]] = field(default_factory=list)
    # strays put in place of a catalogued file's missing object, their bytes that file's
    # (a move to another athlete after the catalog's backup): {id, key, from}
    restored: list[dict[str, object]] = field(default_factory=list)
    # objects an upload of the same bytes would be refused for: {key, code, message}
    refused: list[dict[str, object]] = field(default_factory=list)
    # videos a run killed after their row but before their jobs adopted: their jobs queued now
    jobs_queued: list[int] = field(default_factory=list)
    # objects that could not be read or catalogued now (the store or the catalog out):
    # {key, code, message}; a run again tries them again
    errors: list[dict[str, object]] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def adopt_strays(lib: Library) -> AdoptReport:
    """Adopts every stray media object of the active storage. The caller holds the
    maintenance run lock (core.leader.full_run): nothing else judges the strays meanwhile,
    and it reconciles afterwards (what is left: derivatives of no file, keys outside the
    layout, the duplicates and refusals named here, strays on another storage)."""
    report = AdoptReport()
    db = _catalog(lib)
    name, storage = lib.backends.configured()[0]
    _finish_interrupted(lib, db, report)
    _finish_restores(lib, db, storage, report)
    found = reconcile(lib)
    strays = found.objects_without_rows_by_backend.get(name, [])
    layout = {key: parsed for key in strays if (parsed := keys.parse_media_key(key)) is not None}
    # the listing's stats: its time dates the file; a local symlink (a stray that is no
    # object) is never listed, so never adopted
    stats = {
        obj.key: obj
        for prefix in keys.MEDIA_PREFIXES
        for obj in storage.list_keys(prefix)
        if obj.key in layout
    }
    athletes = {a.id for a in lib.athletes()}
    where = lib.backends.backend_of_every_key()
    # the files missing their object on the active storage: only there can a stray stand in
    lost = set(found.rows_without_objects)
    missing = {
        file_id
        for file_id, key, _, _ in lib.stored_keys()
        if file_id in lost and where.get(key, name) == name
    }
    # a file's own object is read back on its own storage, never on this one: after a switch
    # (storage migrate) the stray keeps the file's key here, and read back "as the file's own
    # object" it was the stray itself, removed while the file's storage had nothing left
    stores = dict(lib.backends.configured())

    def own(key: str) -> tuple[str, Storage | None]:
        backend = where.get(key, name)
        return backend, stores.get(backend)

    for key in sorted(stats):
        try:
            _adopt_one(
                lib, db, storage, stats[key], layout[key], athletes, missing, lost, own, report
            )
        except REFUSALS as exc:
            report.refused.append({"key": key, "code": exc.code, "message": exc.message})
        except MediaDeskError as exc:
            logger.warning("Could not adopt %s: %s", key, exc.message)
            report.errors.append({"key": key, "code": exc.code, "message": exc.message})
    logger.info(
        "Adopted %d stored objects (%d put in place, %d duplicates, %d refused, %d errors)",
        len(report.adopted),
        len(report.restored),
        len(report.duplicates),
        len(report.refused),
        len(report.errors),
    )
    return report


def _catalog(lib: Library) -> Database:
    # The library's catalog as its job queue holds it: the Library offers no reading of files
    # by SHA-256 (any athlete, trashed too) nor of catalog_leases rows
    return lib.jobs.db


def _adopt_one(
    lib: Library,
    db: Database,
    storage: Storage,
    stat: ObjectStat,
    parsed: keys.MediaKey,
    athletes: set[int],
    missing: set[int],
    lost: set[int],
    own: Callable[[str], tuple[str, Storage | None]],
    report: AdoptReport,
) -> None:
    key = stat.key
    # Refused by the listed size, as an upload is by its declared one: a download first (R2/S3)
    # would land the whole object in the data folder's tmp/, one too large filling its disk
    max_size = lib.settings.max_file_size
    if stat.size > max_size:
        raise too_large(max_size)
    with _local_copy(lib, storage, key) as path:
        media = sniff_file(path)  # the kind an upload's bytes are found to be
        _, sha = hash_file(path)
        same = _holder_of(db, sha)
        if same is not None and same.file_id in missing and same.size == stat.size:
            _restore(lib, db, storage, key, same, report)
            return
        backend, store = own(same.key) if same is not None else ("", None)
        if (
            same is not None
            and same.file_id not in lost
            and store is not None
            and not (store is storage and same.key == key)
            and _holds(lib, store, same.key, same.sha256, same.size)
        ):
            _drop_redundant(storage, key)
            report.duplicates.append(
                {
                    "key": key,
                    "file_id": same.file_id,
                    "removed": True,
                    "message": f"The same bytes as file {same.file_id}, whose own object "
                    f"{same.key} was read back and holds them: removed",
                }
            )
            return
        if same is not None:
            elsewhere = backend if same.file_id in lost and same.file_id not in missing else ""
            report.duplicates.append(
                {"key": key, "removed": False, **_duplicate(same, missing, elsewhere)}
            )
            return
        athlete = parsed.athlete_id if parsed.athlete_id in athletes else None
        when, dated_by = _created_at(stat, parsed)
        entry: dict[str, object] = {
            "key": key,
            "file_id": None,
            "name": parsed.name,
            "file_type": media.kind,
            "athlete_id": athlete,
            "created_at": when.isoformat(),
            "dated_by": dated_by,
        }
        if parsed.athlete_id is not None and athlete is None:
            entry["note"] = (
                f"Athlete {parsed.athlete_id}, whose folder holds it, is not in the catalog: "
                "adopted without an athlete"
            )
        _note(db, key, True)
        record = lib.uploads.ingest(
            path,
            media.kind,
            original_filename=parsed.name,
            athlete_id=athlete,
            stored_key=key,
            created_at=when,
        )
        # a failure above leaves the note: the next run sees whether a row came of it
        _note(db, key, False)
    if record.duplicate or record.storage_key != key:
        # an upload of the same bytes catalogued them meanwhile: that file holds them
        report.duplicates.append(
            {
                "key": key,
                "file_id": record.id,
                "removed": False,
                "message": f"The same bytes as file {record.id}: left where it is",
            }
        )
        return
    entry.update(file_id=record.id, name=record.original_filename)
    report.adopted.append(entry)


@contextlib.contextmanager
def _local_copy(lib: Library, storage: Storage, key: str) -> Iterator[Path]:
    """The object as a file: the local storage's own (read, never changed), or a download."""
    local = storage.local_path(key)
    if local is not None:
        yield local
        return
    fd, tmp = owned_temp(lib.paths.tmp_dir, "adopt")
    os.close(fd)
    try:
        storage.download_to(key, tmp)
        yield tmp
    finally:
        discard(tmp)


@dataclass(frozen=True)
class _Holder:
    file_id: int
    key: str
    trashed: bool
    sha256: str
    size: int | None


def _holder_of(db: Database, sha: str) -> _Holder | None:
    """A ready file of these bytes, whatever its athlete or flags, one outside the trash
    first; None when none is. Adopted, such an object was a second copy of a file's bytes
    (an upload of them is that file, or shares its object)."""
    with db.read() as s:
        row = s.execute(
            select(
                MediaFile.id,
                MediaFile.storage_key,
                MediaFile.deleted_at,
                MediaFile.sha256,
                MediaFile.size,
            )
            .where(
                MediaFile.sha256 == sha,
                MediaFile.status == FileStatus.READY,
                MediaFile.alias_of.is_(None),
            )
            .order_by(MediaFile.deleted_at.is_not(None), MediaFile.id)
            .limit(1)
        ).first()
    if row is None:
        return None
    return _Holder(int(row[0]), str(row[1]), row[2] is not None, str(row[3]), row[4])


def _restore(
    lib: Library, db: Database, storage: Storage, stray: str, same: _Holder, report: AdoptReport
) -> None:
    """`stray` put at the key of the file `same`, whose object is missing and whose bytes it
    holds: noted, copied, the copy checked, then the stray removed (_finish_restore)."""
    _note_restore(db, [stray, same.key, same.file_id], True)
    storage.copy(stray, same.key)
    _finish_restore(lib, db, storage, stray, same, report)


def _finish_restore(
    lib: Library, db: Database, storage: Storage, stray: str, same: _Holder, report: AdoptReport
) -> None:
    """The copy at the file's key read back: its bytes the file's, the stray and its thumbnail
    go; else the copy (this run's own write over a missing object) goes and the stray stays,
    an error. Nothing of the stray is deleted before its copy is checked."""
    if not _holds(lib, storage, same.key, same.sha256, same.size):
        with contextlib.suppress(MediaDeskError):
            if storage.exists(stray):  # else the copy is all there is of those bytes
                storage.delete(same.key)
        _note_restore(db, [stray, same.key, same.file_id], False)
        raise CorruptFile(
            f"The copy of {stray} at {same.key} (file {same.file_id}) does not read back as "
            "that file's bytes: left where it was"
        )
    # the thumbnail the move carried to the stray's key (core/library.py _copy_object): the
    # file's own went with its old key
    thumb, own = keys.thumbnail_key(stray), keys.thumbnail_key(same.key)
    if storage.exists(thumb):
        if not storage.exists(own):
            storage.copy(thumb, own)
        if storage.stat(own).size == storage.stat(thumb).size:
            storage.delete(thumb)
    storage.delete_prefix(keys.variant_prefix(stray))  # a cache, made again on demand
    storage.delete(stray)
    _note_restore(db, [stray, same.key, same.file_id], False)
    report.restored.append({"id": same.file_id, "key": same.key, "from": stray})


def _drop_redundant(storage: Storage, stray: str) -> None:
    """A second copy of a catalogued file's bytes, that file's own object checked: the copy
    a move to another athlete made after the catalog's backup, while the old key still waited
    for its deletion (core/deferred.py, which the restored catalog no longer lists). Left, it
    kept reconcile from ever being clean and doctor failing, its fix a removal by hand. Its
    thumbnail and variants first, the object last: a run killed between finds it again."""
    storage.delete(keys.thumbnail_key(stray))
    storage.delete_prefix(keys.variant_prefix(stray))
    storage.delete(stray)


def _holds(lib: Library, storage: Storage, key: str, sha: str, size: int | None) -> bool:
    """Whether the object at `key` is there and its bytes are `sha` (and `size`)."""
    try:
        with _local_copy(lib, storage, key) as path:
            found_size, found_sha = hash_file(path)
    except (MediaDeskError, OSError):
        return False
    return found_sha == sha and (size is None or found_size == size)


def _restores(db: Database) -> list[list[object]]:
    with db.read() as s:
        row = s.get(CatalogLease, RESTORING)
        return list((row.info or {}).get("moves", [])) if row is not None else []


def _note_restore(db: Database, move: list[object], adding: bool) -> None:
    with db.write() as s:
        row = s.get(CatalogLease, RESTORING)
        if row is None:
            row = CatalogLease(name=RESTORING, info={"moves": []})
            s.add(row)
        noted = [m for m in (row.info or {}).get("moves", []) if m != move]
        row.info = {"moves": [*noted, move] if adding else noted}


def _finish_restores(lib: Library, db: Database, storage: Storage, report: AdoptReport) -> None:
    """The strays a killed run was putting in place: a stray whose copy at the file's key is
    there and checked is removed now; one whose copy is not (killed before it) is a stray
    again, for this run to put in place."""
    for move in _restores(db):
        stray, key, file_id = str(move[0]), str(move[1]), int(str(move[2]))
        record = lib.find_by_key(key)
        if record is None or record.id != file_id or record.sha256 is None:
            _note_restore(db, move, False)  # the file went since: its stray is a stray
            continue
        same = _Holder(file_id, key, record.is_trashed, record.sha256, record.size)
        if not storage.exists(stray):
            _note_restore(db, move, False)  # removed already: its report was the run's
            continue
        if _holds(lib, storage, key, same.sha256, same.size):
            _finish_restore(lib, db, storage, stray, same, report)
        else:
            _note_restore(db, move, False)


def _duplicate(same: _Holder, missing: set[int], elsewhere: str = "") -> dict[str, object]:
    """What the report says of an object holding the bytes of the file `same`. That file's
    own object missing (a move to another athlete after the catalog's backup: the catalog
    names the old key), this one is what to put back there; missing on `elsewhere`, another
    storage (a catalog backed up before `storage migrate`), the same there."""
    said = f"The same bytes as file {same.file_id}" + (" (in the trash)" if same.trashed else "")
    if elsewhere:
        said += (
            f", whose own object {same.key} is missing from the {elsewhere} storage, where "
            "the catalog names it (a catalog restored from before a storage switch?): left "
            f"where it is; copy it to {same.key} on the {elsewhere} storage, then run "
            "`mediadesk maintenance` again"
        )
    elif same.file_id in missing:
        said += (
            f", whose own object {same.key} is missing: copy this object there, then run "
            "`mediadesk maintenance` again"
        )
    else:
        said += ": left where it is"
    return {"file_id": same.file_id, "message": said}


def _created_at(stat: ObjectStat, parsed: keys.MediaKey) -> tuple[datetime, str]:
    """When the file came into the library: the object's time when it falls in the month its
    key was made in (an upload's), else the first of that month (a copy that did not keep the
    time, a move within the store: the key's month is all that is known)."""
    start, end = parsed.month_span()
    if start <= stat.last_modified < end:
        return stat.last_modified, "object"
    return start, "key"


def _journal(db: Database) -> list[str]:
    with db.read() as s:
        row = s.get(CatalogLease, JOURNAL)
        return list((row.info or {}).get("keys", [])) if row is not None else []


def _note(db: Database, key: str, adding: bool) -> None:
    with db.write() as s:
        row = s.get(CatalogLease, JOURNAL)
        if row is None:
            row = CatalogLease(name=JOURNAL, info={"keys": []})
            s.add(row)
        noted = [k for k in (row.info or {}).get("keys", []) if k != key]
        row.info = {"keys": [*noted, key] if adding else noted}


def _finish_interrupted(lib: Library, db: Database, report: AdoptReport) -> None:
    """The keys a killed run was adopting: a ready video catalogued without its jobs gets
    them; a key no row names is a stray again, for this run to adopt."""
    for key in _journal(db):
        record = lib.find_by_key(key)
        if (
            record is not None
            and record.status == FileStatus.READY
            and not record.is_trashed
            and record.file_type == FileKind.VIDEO
            and lib.jobs.list(file_id=record.id, limit=1)[1] == 0
            and service.queue_new_video(lib, record)
        ):
            report.jobs_queued.append(record.id)
        _note(db, key, False)
