"""Periodic housekeeping: trash purge, pending-upload expiry, multipart abort, thumbnails of an
older rendering made again, audit log retention, reconcile report."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from core import keys
from core.errors import (
    CATALOG_UNREACHABLE,
    SETUP_FAULT_REASONS,
    Conflict,
    MediaDeskError,
    NotFound,
    StorageUnavailable,
    StorageUnusable,
    is_no_space,
    no_space,
)
from core.jobs import JobRecord, JobState, current_derivatives
from core.library import Library
from core.records import FileStatus
from core.storage.base import Storage
from core.storage.local import LocalStorage
from core.video import service
from core.video.worker import sweep_work_folders

logger = logging.getLogger(__name__)

STALE_MULTIPART_SECONDS = 24 * 3600


@dataclass
class MaintenanceReport:
    purged: list[int] = field(default_factory=list)
    # trashed files whose claim for deletion outlived its lease (a deletion that died): those
    # with their bytes unmarked, kept in the trash; those without, deleted as it would have
    released_claims: list[int] = field(default_factory=list)
    finished_deletions: list[int] = field(default_factory=list)
    expired_pending: list[int] = field(default_factory=list)
    aborted_multipart: int = 0
    expired_uploads: list[str] = field(default_factory=list)  # tus / multipart (resumable)
    # uploads not expired whose leftovers were cleaned: bytes of no upload in progress, a row
    # whose bytes are gone (a termination on a full disk), bytes past the recorded offset
    cleaned_uploads: list[str] = field(default_factory=list)
    # partial files of writers that are gone; the first run of a process also lists those its
    # opening of the library removed (right after a crash, that is where they went)
    removed_partials: list[str] = field(default_factory=list)
    removed_work_folders: list[str] = field(default_factory=list)  # of video workers gone
    deferred_deletions: list[str] = field(default_factory=list)
    # photos whose thumbnail and variants an older rendering made, made again (a batch a run)
    remade_thumbnails: list[int] = field(default_factory=list)
    # photos whose remake met another writer's change of their row: tried again next run
    skipped_thumbnails: list[int] = field(default_factory=list)
    # audit entries older than MEDIADESK_AUDIT_RETENTION_DAYS, deleted
    audit_pruned: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class ReconcileReport:
    objects_without_rows: list[str] = field(default_factory=list)
    rows_without_objects: list[int] = field(default_factory=list)
    # partial files of writers that are gone (maintenance removes them)
    orphan_partials: list[str] = field(default_factory=list)
    # old keys of moved files, deleted once no reader can use them: expected, not a fault
    pending_deletions: list[str] = field(default_factory=list)
    # ready rows whose object is not the size they record (a bad restore, a disk fault): every
    # read of them fails with object_damaged (core/library.py) until the bytes are restored
    size_mismatch: list[dict[str, object]] = field(default_factory=list)
    # files in the trash claimed for deletion whose object is gone: a deletion under way, or
    # one that died (an Empty trash or hard delete killed after the bytes went), which the
    # first maintenance after its lease finishes (Library.claimed_deletions): not a fault
    claimed_deletions: list[int] = field(default_factory=list)
    # the last of their leases' ends (ISO 8601, UTC), None without any
    claimed_deletions_settle_after: str | None = None
    # objects_without_rows by the backend holding them (those with any): every configured one
    # is listed, a key may be a stray on one and a file's object on another
    objects_without_rows_by_backend: dict[str, list[str]] = field(default_factory=dict)
    # configured backends other than the active one that could not be listed: name -> why
    unreachable_backends: dict[str, str] = field(default_factory=dict)
    # objects outside the folders MediaDesk writes (keys.OWN_PREFIXES): another application's
    # in a bucket they share, never MediaDesk's to judge; counted, a few named, not unclean
    foreign_objects: int = 0
    foreign_examples: list[str] = field(default_factory=list)
    # ready videos (outside the trash) whose current processing results name stored files
    # that are gone (a web copy, an HLS playlist or segment, scrub thumbnails deleted by hand
    # or left out of a backup): their players meet 404 until `mediadesk reprocess ID` makes
    # them again. Not unclean: the originals are whole. {file_id, kinds, missing, keys}
    missing_derivatives: list[dict[str, object]] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (
            self.objects_without_rows
            or self.rows_without_objects
            or self.orphan_partials
            or self.size_mismatch
        )

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "clean": self.clean}

    def summary(self) -> dict[str, object]:
        """What the catalog keeps of it (core/leader.py record_reconcile): counts, and the
        first file ids, for /health and `mediadesk doctor`. An id list is cut at SUMMARY_IDS,
        so its count is kept beside it (`…_count`): read as the count, the cut list said 100
        files without their object when 149 were."""
        return {
            "clean": self.clean,
            "objects_without_rows": len(self.objects_without_rows),
            "rows_without_objects": self.rows_without_objects[:SUMMARY_IDS],
            "rows_without_objects_count": len(self.rows_without_objects),
            "size_mismatch": [m["file_id"] for m in self.size_mismatch[:SUMMARY_IDS]],
            "size_mismatch_count": len(self.size_mismatch),
            "claimed_deletions": self.claimed_deletions[:SUMMARY_IDS],
            "claimed_deletions_count": len(self.claimed_deletions),
            "claimed_deletions_settle_after": self.claimed_deletions_settle_after,
            "orphan_partials": len(self.orphan_partials),
            "objects_without_rows_by_backend": {
                name: len(found) for name, found in self.objects_without_rows_by_backend.items()
            },
            "unreachable_backends": sorted(self.unreachable_backends),
            "foreign_objects": self.foreign_objects,
            "foreign_examples": self.foreign_examples,
            "missing_derivatives": [m["file_id"] for m in self.missing_derivatives[:SUMMARY_IDS]],
            "missing_derivatives_count": len(self.missing_derivatives),
        }


SUMMARY_IDS = 100
EXAMPLES = 5  # keys named beside a count (foreign objects, a video's missing files)


def purge_time(deleted_at: datetime, retention_days: int) -> datetime:
    """When `purge_trash` deletes a file moved to the trash at `deleted_at` for good: never
    past the last date there is (a retention of a million days, "keep it for ever")."""
    last = datetime.max.replace(tzinfo=deleted_at.tzinfo)
    try:
        return min(deleted_at + timedelta(days=retention_days), last)
    except OverflowError:
        return last


def retention_cutoff(now: datetime, retention_days: int) -> datetime | None:
    """What was moved before this is older than the retention, or None when nothing can be
    (a retention reaching back before year 1: `now - timedelta` raised OverflowError, which
    ended every maintenance run)."""
    try:
        return now - timedelta(days=retention_days)
    except OverflowError:
        return None


def purge_trash(
    lib: Library,
    retention_days: int | None = None,
    now: datetime | None = None,
    purged: list[int] | None = None,
) -> list[int]:
    """Permanently deletes files trashed longer than the retention; returns their ids, also
    added to `purged` as they go (the report keeps them when a file kept raises at the end).
    A file on a backend this process cannot use (not built, storage_not_configured, or set up
    too incompletely: StorageUnusable) stays in the trash untouched, the others go, and then
    that error is raised."""
    days = lib.settings.trash_retention_days if retention_days is None else retention_days
    cutoff = retention_cutoff(now or datetime.now(UTC), days)
    purged = [] if purged is None else purged
    if cutoff is None:
        return purged
    lib.redate_future_trash(now or datetime.now(UTC))  # else a date years ahead is never purged
    unreachable: StorageUnusable | None = None
    for file_id in lib.trashed_before(cutoff):
        try:
            lib.delete_permanently(file_id, only_trashed=True)
        except (NotFound, Conflict):
            continue  # restored or deleted since the list was read
        except StorageUnusable as exc:
            unreachable = exc
            continue
        purged.append(file_id)
    if unreachable is not None:
        raise unreachable
    return purged


def expire_pending(lib: Library, now: datetime | None = None) -> list[int]:
    """Removes pending uploads whose URL expired without a confirmation (row and object)."""
    moment = now or datetime.now(UTC)
    # the row's deletion reaches the change feed by itself (core/feed.py)
    return [
        file_id
        for file_id, key in lib.expired_uploads(moment)
        if lib.drop_expired_upload(file_id, key)
    ]


# The tasks that give disk space back by deleting local files only, and need no catalog write
# to do it (a catalog write that follows, e.g. an expired upload's row, may fail: what it
# records is done again next time). The leader runs them alone when the catalog cannot even
# take its lease (core/leader.py). The others delete what the catalog still refers to (a
# trashed file's object, a pending upload's object, deferred deletions, the bucket's multipart
# uploads) and then write the catalog: on a catalog that refuses writes they would leave rows
# whose objects are gone (a trashed file restored without its bytes), so they wait for the
# lease, which the room these tasks give back usually brings on the next tick.
FILE_ONLY_TASKS = frozenset(
    {"sweep_partials", "sweep_uploads", "sweep_work_folders", "expire_uploads"}
)
# What lies in one data folder only: on PostgreSQL every node of a team has its own, and the
# leader's runs reach the leader's; the other nodes run these on theirs (core/leader.py).
LOCAL_TASKS = frozenset({"sweep_partials", "sweep_uploads", "sweep_work_folders"})


def run_maintenance(
    lib: Library, now: datetime | None = None, only: frozenset[str] | None = None
) -> MaintenanceReport:
    """One pass of every periodic task (or of those named in `only`); a failing task is
    reported, the others still run.

    Those that give a full disk its room back come first and need no catalog write to do it:
    on a full disk the catalog (SQLite's WAL on the same disk) may refuse every write.
    """
    report = MaintenanceReport()
    for name, task in (
        ("sweep_partials", lambda: _sweep(lib, report)),
        ("sweep_uploads", lambda: report.cleaned_uploads.extend(lib.resumable.sweep(now))),
        ("sweep_work_folders", lambda: _sweep_work_folders(lib, report)),
        ("deferred_deletions", lambda: _deferred(lib, report, now)),
        ("stale_claims", lambda: _settle_stale_claims(lib, report, now)),
        ("purge_trash", lambda: purge_trash(lib, now=now, purged=report.purged)),
        ("expire_pending", lambda: report.expired_pending.extend(expire_pending(lib, now))),
        ("abort_multipart", lambda: _abort(lib, report)),
        ("expire_uploads", lambda: report.expired_uploads.extend(lib.resumable.expire(now))),
        ("purge_jobs", lambda: _purge_jobs(lib, now)),
        ("prune_audit", lambda: _prune_audit(lib, report, now)),
        ("remake_thumbnails", lambda: _remake_thumbnails(lib, report)),
    ):
        if only is not None and name not in only:
            continue
        try:
            task()
        except MediaDeskError as exc:
            # a catalog outage has one ERROR line, its first failure's, whoever met it (the
            # change feed, a request): a task meeting it later says it as a WARNING
            known_outage = (
                isinstance(exc, StorageUnavailable)
                and exc.reason == CATALOG_UNREACHABLE
                and not exc.first
            )
            logger.log(
                logging.WARNING if known_outage else logging.ERROR,
                "Maintenance task %s failed: %s",
                name,
                exc.message,
            )
            report.errors.append(f"{name}: {exc.message}")
        except Exception as exc:
            if not is_no_space(exc):  # the catalog's own "database or disk is full"
                raise
            full = no_space()
            logger.error("Maintenance task %s failed: %s (%s)", name, full.message, exc)
            report.errors.append(f"{name}: {full.message}")
    logger.info("Maintenance: %s", report.as_dict())
    return report


def _settle_stale_claims(lib: Library, report: MaintenanceReport, now: datetime | None) -> None:
    released, finished = lib.settle_stale_claims(now)
    report.released_claims.extend(released)
    report.finished_deletions.extend(finished)


def _remake_thumbnails(lib: Library, report: MaintenanceReport) -> None:
    # a batch a run (core/thumbnail_remake.py BATCH): a large library catches up over hours
    report.remade_thumbnails.extend(lib.thumbnail_remaker.run(skipped=report.skipped_thumbnails))


def _purge_jobs(lib: Library, now: datetime | None) -> None:
    """Finished processing jobs are kept as long as trashed files, then dropped."""
    cutoff = retention_cutoff(now or datetime.now(UTC), lib.settings.trash_retention_days)
    if cutoff is not None:
        lib.jobs.purge_finished(cutoff)


def _prune_audit(lib: Library, report: MaintenanceReport, now: datetime | None) -> None:
    days = lib.settings.audit_retention_days
    if days == 0:  # kept for good
        return
    cutoff = retention_cutoff(now or datetime.now(UTC), days)
    if cutoff is not None:
        for removed in lib.audit.prune(cutoff):
            report.audit_pruned += removed


def _deferred(lib: Library, report: MaintenanceReport, now: datetime | None) -> None:
    """Due deferred deletions, with those the command's own start made (as removed_partials
    has the start's sweep): the report said none while their keys were gone."""
    opened = lib.take_deferred_at_open()
    report.deferred_deletions.extend([*opened, *lib.deferred.run(now)])


def _sweep(lib: Library, report: MaintenanceReport) -> None:
    # With those the opening of the library removed: `mediadesk maintenance` right after a
    # crash finds the crash's partial files gone by the time it sweeps. Taken after this run's
    # sweep, so a sweep that fails leaves them for the next run to report.
    removed = lib.sweep_partials()
    report.removed_partials.extend(str(p) for p in sorted({*lib.take_swept_at_open(), *removed}))


def _sweep_work_folders(lib: Library, report: MaintenanceReport) -> None:
    # The workers' own start-up sweep: without it a data folder whose killed workers are not
    # started again (MEDIADESK_WORKERS=0, a worker machine retired) never gets its space back.
    report.removed_work_folders.extend(str(p) for p in sweep_work_folders(lib))


def _abort(lib: Library, report: MaintenanceReport) -> None:
    report.aborted_multipart = lib.abort_stale_multipart(STALE_MULTIPART_SECONDS)


def reconcile(lib: Library) -> ReconcileReport:
    """Objects in the store without a catalog row, ready rows whose object is missing or is
    not the size they record. A file in the trash claimed for deletion whose object is gone is
    a deletion under way (claimed_deletions), not a file whose bytes were lost: the callers run
    maintenance first, whose stale_claims task has finished those whose lease is over.

    Every configured backend is listed once, each against the rows that live on it: listing
    only those holding files left an object on another one unseen (a variant cached in the
    bucket while it was active, after every file moved back to the local folder). A backend
    other than the active one that cannot be listed is reported, and the rest still checked.

    Only the folders MediaDesk writes are judged (keys.OWN_PREFIXES): what else a bucket
    holds is another application's, counted as foreign. The files a done video's jobs stored
    (web copy, HLS, scrub thumbnails) are looked for in the same listing.
    """
    rows = lib.stored_keys()
    where = lib.backends.backend_of_every_key()
    pending = lib.deferred.pending_keys()
    left_behind = lib.deferred.left_behind()
    # a deletion that claims its files after this read and deletes their bytes before the
    # listing below is seen by the reads after it (_still_missing)
    claims = lib.claimed_deletions()
    report = ReconcileReport()
    report.orphan_partials = [str(p) for p in lib.sweep_partials(dry_run=True)]
    # read before the listing: a job finishing during it is judged by the folder it replaced,
    # and _confirm_missing reads a file's jobs again before naming it
    done = _done_video_jobs(lib)
    present: dict[str, int] = {}  # every listed backend's objects: what pending deletions find
    on: dict[str, dict[str, int]] = {}  # backend -> its objects' sizes
    stores: dict[str, Storage] = {}
    foreign: list[str] = []
    for index, (name, storage) in enumerate(lib.backends.configured()):
        try:
            listed = {obj.key: obj.size for obj in storage.list_keys("")}
            strays = storage.strays() if isinstance(storage, LocalStorage) else []
        except (MediaDeskError, OSError) as exc:
            if index == 0:  # the active backend: no report without it (as before)
                raise
            # the storage's own text names the endpoint and the listing: the log's (INFO, the
            # server's log file), never the report's, which `mediadesk maintenance` prints
            logger.info("Reconcile could not list the %s storage: %s", name, exc)
            said = _unlisted(name, exc)
            logger.warning("Reconcile: %s", said)
            report.unreachable_backends[name] = said
            continue
        on[name] = listed
        stores[name] = storage
        present.update(listed)
        theirs = [k for k in [*listed, *strays] if not keys.is_own_key(k)]
        foreign += theirs
        if theirs:
            listed = {k: n for k, n in listed.items() if keys.is_own_key(k)}
            strays = [k for k in strays if keys.is_own_key(k)]
        found = _without_rows(
            listed, strays, _known_on(rows, where, name, pending, left_behind), active=index == 0
        )
        if found:
            found = _still_without_rows(lib, name, listed, strays, found, active=index == 0)
        if found:
            report.objects_without_rows += found
            report.objects_without_rows_by_backend[name] = found
    active = next(iter(on))
    for file_id, key, status, _ in rows:
        backend = where.get(key, active)
        # a row on a backend that could not be listed is not known missing (that is reported);
        # one on a backend no longer configured is: its bytes cannot be read
        missing = key not in on.get(backend, {})
        if status == FileStatus.READY and backend not in report.unreachable_backends and missing:
            if file_id in claims:
                report.claimed_deletions.append(file_id)
            else:
                report.rows_without_objects.append(file_id)
    if report.rows_without_objects:
        _still_missing(lib, report, claims, {file_id: key for file_id, key, _, _ in rows})
    if report.claimed_deletions:
        last = max(claims[file_id] for file_id in report.claimed_deletions)
        if last.microsecond:  # to the second after: a maintenance at the time said finishes them
            last += timedelta(seconds=1)
        report.claimed_deletions_settle_after = last.astimezone(UTC).isoformat(timespec="seconds")
    for file_id, key, recorded in lib.recorded_sizes():
        stored = on.get(where.get(key, active), {}).get(key)
        if stored is not None and stored != recorded:
            report.size_mismatch.append(
                {"file_id": file_id, "key": key, "stored_size": stored, "recorded_size": recorded}
            )
    report.foreign_objects = len(foreign)
    report.foreign_examples = sorted(foreign)[:EXAMPLES]
    report.missing_derivatives = _missing_derivatives(lib, done, rows, where, on, stores, active)
    # an expired upload URL's sweep is no news while nothing was written there (the usual case)
    idle = lib.deferred.url_sweeps() - set(present)
    report.pending_deletions = sorted(
        k for k in pending - idle if not k.startswith(keys.THUMBNAIL_PREFIX)
    )
    return report


# `mediadesk maintenance --forget-missing` forgets at most this many files, or this share of
# the catalog's files with stored bytes, whichever is more, unless the exact count is confirmed
# (FORGET_CONFIRM): a restored catalog is missing only what was deleted while its backup ran;
# more is a store not mounted, a bucket misnamed, a copy not finished, and forgetting those
# files would empty the library of files whose bytes are somewhere else.
FORGET_FEW = 10
FORGET_SHARE = 0.01
FORGET_CONFIRM = "--forget-missing-count"
FORGET_ACTOR = "cli:maintenance"
FORGET_ACTION = "forget_missing"


@dataclass
class ForgetReport:
    # {id, key, name}: the files forgotten (rows, jobs, derivatives, links: a hard delete's)
    forgotten: list[dict[str, object]] = field(default_factory=list)
    # why nothing was forgotten (None when something could be): read by the summary's reader
    refused: str | None = None
    refused_reason: str | None = None
    errors: list[dict[str, object]] = field(default_factory=list)  # {id, code, message}

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def forget_missing(
    lib: Library, found: ReconcileReport, confirmed: int | None = None
) -> ForgetReport:
    """Deletes for good the files whose object reconcile found missing (`found`, read by the
    caller under the maintenance run lock): a restored catalog names files deleted after its
    backup (a hard delete, an emptied trash) whose bytes no backup holds. Each goes as a hard
    delete goes (core/library.py delete_permanently: its derivatives, jobs and links too) and
    is audited. Refused, nothing forgotten, when the store holds none of the catalog's files
    (a disk not mounted, an empty or wrong bucket) or when more are missing than
    FORGET_FEW / FORGET_SHARE allow, unless `confirmed` is that exact count."""
    report = ForgetReport()
    missing = list(found.rows_without_objects)
    if not missing:
        return report
    rows = {
        file_id: key for file_id, key, status, _ in lib.stored_keys() if status == FileStatus.READY
    }
    if found.unreachable_backends:
        report.refused_reason = "store_unreachable"
        report.refused = (
            f"The storage {', '.join(sorted(found.unreachable_backends))} could not be listed: "
            "its files cannot be told missing. Nothing was forgotten."
        )
        return report
    # Judged by backend: a library kept on two (local and R2 after a switch) whose one store
    # holds none of its files (a disk not mounted, a wrong bucket) looked healthy by the other's
    # files, and all of the empty one's were forgotten.
    backend_of = lib.backends.backend_of_every_key()
    claimed = set(found.claimed_deletions)
    on: dict[str, list[int]] = {}
    for file_id, key in rows.items():
        on.setdefault(backend_of.get(key, ""), []).append(file_id)
    lost = set(missing)
    for backend, ids in sorted(on.items()):
        gone = [i for i in ids if i in lost]
        if not gone:
            continue
        where = f"the {backend} storage" if backend else "the storage"
        stored = len(ids) - len(gone) - len(claimed.intersection(ids))
        limit = max(FORGET_FEW, int(len(ids) * FORGET_SHARE))
        if stored <= 0:
            report.refused_reason = "store_empty"
            report.refused = (
                f"None of the {len(ids)} files on {where} has its object there: it looks not "
                "mounted, empty or not the library's (check the data folder's objects/ or the "
                "bucket's settings with `mediadesk doctor`). Nothing was forgotten."
            )
            return report
        if len(gone) > limit and confirmed != len(missing):
            report.refused_reason = "too_many_missing"
            report.refused = (
                f"{len(gone)} of the {len(ids)} files on {where} are missing their object, "
                f"more than the {limit} a restore of a backup taken while the library was in "
                "use usually misses: part of the storage may not be there (a disk, a folder "
                "not copied). Nothing was forgotten. If they are truly gone, run again with "
                f"`{FORGET_CONFIRM} {len(missing)}`."
            )
            return report
    for file_id in missing:
        key = rows.get(file_id, "")
        try:
            record = lib.delete_permanently(file_id)
        except NotFound:
            continue  # deleted meanwhile
        except MediaDeskError as exc:
            report.errors.append({"id": file_id, "code": exc.code, "message": exc.message})
            continue
        lib.audit.record(
            FORGET_ACTOR,
            FORGET_ACTION,
            file_id,
            detail=f"{key}: its object was missing from the storage (a restored catalog)",
        )
        report.forgotten.append({"id": file_id, "key": key, "name": record.original_filename})
    logger.info("Forgot %d files whose object was missing", len(report.forgotten))
    return report


DONE_JOBS_PAGE = 1000


def _done_video_jobs(lib: Library) -> dict[int, list[JobRecord]]:
    """The done jobs of the ready videos outside the trash, by file (a reprocess refuses the
    others: nothing to advise for them)."""
    videos = set(lib.ready_video_ids())
    done: dict[int, list[JobRecord]] = {}
    offset = 0
    while videos:
        page, _ = lib.jobs.list(state=JobState.DONE, limit=DONE_JOBS_PAGE, offset=offset)
        for job in page:
            if job.file_id in videos:
                done.setdefault(job.file_id, []).append(job)
        if len(page) < DONE_JOBS_PAGE:
            break
        offset += DONE_JOBS_PAGE
    return done


def _missing_derivatives(
    lib: Library,
    done: dict[int, list[JobRecord]],
    rows: list[tuple[int, str, str, bool]],
    where: dict[str, str],
    on: dict[str, dict[str, int]],
    stores: dict[str, Storage],
    active: str,
) -> list[dict[str, object]]:
    """The videos whose current derivatives (core.jobs.current_derivatives: the files the last
    done job of each kind stored) are not all in the listing of the video's own backend; each
    confirmed by _confirm_missing. A backend that was not listed is not judged."""
    key_of = {file_id: key for file_id, key, _, _ in rows}
    found: list[dict[str, object]] = []
    for file_id, jobs in sorted(done.items()):
        key = key_of.get(file_id)
        if key is None:
            continue
        backend = where.get(key, active)
        listed = on.get(backend)
        if listed is None:
            continue
        if any(
            k not in listed
            for job in current_derivatives(jobs).values()
            for k in service.stored_files(key, job)
        ):
            gone = _confirm_missing(lib, file_id, key, stores[backend])
            if gone:
                found.append(gone)
    return found


def _confirm_missing(
    lib: Library, file_id: int, key: str, storage: Storage
) -> dict[str, object] | None:
    """The derivatives of `file_id` missing now, by the jobs read again and a listing of each
    job's folder: a reprocess that finished while the whole store was listed replaced the
    folders it was judged by (those go after a grace period). None when nothing is missing."""
    missing: dict[str, list[str]] = {}
    for kind, job in current_derivatives(lib.jobs.latest_for_file(file_id)).items():
        prefix = service.job_prefix_at(key, job.kind, job.result)
        stored = {obj.key for obj in storage.list_keys(prefix)}
        gone = [k for k in service.stored_files(key, job) if k not in stored]
        if gone:
            missing[kind] = gone
    if not missing:
        return None
    every = [k for kind in sorted(missing) for k in missing[kind]]
    return {
        "file_id": file_id,
        "kinds": sorted(missing),
        "missing": len(every),
        "keys": every[:EXAMPLES],
    }


class _Known(NamedTuple):
    """What one backend may hold without being an orphan."""

    keys: set[str]
    video_owners: set[str]  # unique file names whose renditions, HLS and sprites are kept
    stems: set[str]  # keys without their extension: whose resized variants are kept
    # folders queued for deletion (a replaced video job's): what is under them is pending
    prefixes: tuple[str, ...] = ()


def _known_on(
    rows: list[tuple[int, str, str, bool]],
    where: dict[str, str],
    backend: str,
    pending: set[str],
    left_behind: list[tuple[str, str]],
) -> _Known:
    # a queued prefix ends with "/" (DeferredDeleter.queue_prefix), an object's key never does
    known = _Known(set(pending), set(), set(), tuple(sorted(k for k in pending if k[-1:] == "/")))
    for _, key, status, has_thumb in rows:
        if where.get(key) != backend:
            continue
        known.keys.add(key)
        # a pending upload's confirm writes the thumbnail before the row is ready: a process
        # killed between them leaves it to the confirm's retry or to the upload's expiry
        if has_thumb or status == FileStatus.PENDING:
            known.keys.add(keys.thumbnail_key(key))
        _derivatives_of(known, key)
    # a moved file's old copy queued for deletion here (a migration stopped or killed in its
    # wait): its renditions, HLS, sprites and variants go with it (delete_file_objects)
    for where_queued, key in left_behind:
        if where_queued == backend:
            _derivatives_of(known, key)
    return known


def _derivatives_of(known: _Known, key: str) -> None:
    """Notes the folders of `key`'s derivatives (keys.video_prefix, keys.variant_prefix) as
    known, by the names _without_rows reads back from a listed key."""
    known.video_owners.add(keys.video_prefix(key)[len(keys.VIDEO_PREFIX) : -1])
    known.stems.add(keys.variant_prefix(key)[len(keys.VARIANT_PREFIX) : -1])


def _still_missing(
    lib: Library, report: ReconcileReport, claims: dict[int, datetime], keyed: dict[int, str]
) -> None:
    """Keeps in rows_without_objects the files the catalog, read again after the listing,
    still has ready with the same key and no claim: a file deleted for good (on any server of
    a team) between the first read and the listing was reported as a file whose bytes are lost
    (exit status 1, doctor failing until the next run). A deletion claims the file, deletes its
    object, then its row: the claims are read before the rows, so one of them sees it."""
    claims.update(lib.claimed_deletions())
    now = {file_id: (key, status) for file_id, key, status, _ in lib.stored_keys()}
    missing: list[int] = []
    for file_id in report.rows_without_objects:
        if file_id in claims:
            report.claimed_deletions.append(file_id)
        elif now.get(file_id) == (keyed[file_id], FileStatus.READY):
            missing.append(file_id)
    report.rows_without_objects = missing


def _still_without_rows(
    lib: Library,
    backend: str,
    listed: dict[str, int],
    strays: list[str],
    found: list[str],
    active: bool,
) -> list[str]:
    """Those of `found` that the catalog, read again after the listing, still does not know.
    An upload records its object's deletion before writing it and swaps that record for its
    row in one commit, so an upload catalogued between the first reads and the listing was
    reported a stray (`mediadesk maintenance` while staff upload: exit status 1, and doctor
    failing until the next run). The deletions are read before the rows: a swap between the
    two reads is then seen in one of them."""
    pending = lib.deferred.pending_keys()
    left_behind = lib.deferred.left_behind()
    rows = lib.stored_keys()
    where = lib.backends.backend_of_every_key()
    again = {k: n for k, n in listed.items() if k in found}
    return _without_rows(
        again,
        [k for k in strays if k in found],
        _known_on(rows, where, backend, pending, left_behind),
        active=active,
    )


def _unlisted(name: str, exc: BaseException) -> str:
    """What the report says of a backend it could not list, in user terms."""
    storage = {"r2": "R2 storage", "local": "local folder"}.get(name, f"{name} storage")
    if getattr(exc, "reason", None) == "storage_not_configured":
        return (
            f"Files of this library are on the {storage}, which this process was started "
            "without and cannot use from the saved settings; their objects were not checked"
        )
    if getattr(exc, "reason", None) in SETUP_FAULT_REASONS:
        return (
            f"The {storage} refuses the listing (its address, bucket or access keys are set "
            "wrong; `mediadesk doctor` checks them); its objects were not checked"
        )
    return f"The {storage} cannot be reached; its objects were not checked"


def _without_rows(
    listed: dict[str, int], strays: list[str], known: _Known, active: bool
) -> list[str]:
    found: list[str] = []
    for key in listed:
        if key.startswith(keys.VARIANT_PREFIX):
            # the active backend caches every file's variants, wherever the file lives
            # (Library.open_variant); another one only keeps those of its own files
            if active or key[len(keys.VARIANT_PREFIX) :].rsplit(".", 2)[0] in known.stems:
                continue
        elif keys.video_owner_name(key) in known.video_owners:
            continue  # a rendition, HLS file or sprite of a file the catalog has
        if key not in known.keys and not key.startswith(known.prefixes):
            found.append(key)
    # what a local folder holds that can be no object (a symlink, a name that is not UTF-8):
    # listed like any other stray, never deleted
    return found + [e for e in strays if e not in known.keys]
