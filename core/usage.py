"""Storage usage: what the catalog holds, what the bucket or folder really holds, and a daily
history of both (the seed's "monitor bucket sizes")."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from core.db.engine import Database
from core.db.models import Athlete, FileCount, MediaFile, UsageDay, utcnow
from core.mediatypes import FileKind
from core.records import FileStatus

if TYPE_CHECKING:
    from core.library import Library
    from core.settings import Settings

logger = logging.getLogger(__name__)

DERIVED_PREFIX = "_derived/"
HISTORY_DAYS = 400


def storage_summary(settings: Settings, detailed: bool) -> str:
    """The report's `storage`: where the store is (folder path, bucket and endpoint) for an
    administrator, only its kind for anyone else."""
    if detailed:
        return settings.storage_description
    return "R2 bucket" if settings.uses_r2 else "local folder"


@dataclass(frozen=True)
class StoreScan:
    """One listing of the bucket or folder."""

    objects: int
    bytes: int
    original_bytes: int
    derivative_objects: int
    derivative_bytes: int
    scanned_at: datetime
    catalog_bytes: int = 0  # what the catalog says the originals weigh, at the listing's time
    # the catalog's ready originals (files, bytes) from its kept counts, at the listing's time
    catalog_mark: tuple[int, int] = (0, 0)


class UsageMonitor:
    """Builds the /usage report; `scan()` lists the store (slow on big buckets: a worker's job)."""

    def __init__(self, library: Library, db: Database) -> None:
        self.lib = library  # settings and the store's listing through the façade
        self._db = db
        self._lock = threading.Lock()
        self._scan_lock = threading.Lock()
        self._last_scan: StoreScan | None = None
        self._last_report: dict[str, Any] | None = None
        self._listeners: list[Callable[[StoreScan], None]] = []

    def on_scanned(self, callback: Callable[[StoreScan], None]) -> Callable[[], None]:
        """Calls `callback(scan)` in the scanning thread after each listing; returns the function
        that removes it. The desktop's Storage panel kept its listing of before a scan the
        embedded server's schedule made (its drift hidden until Refresh) without it."""
        with self._lock:
            self._listeners.append(callback)

        def remove() -> None:
            with self._lock:
                if callback in self._listeners:
                    self._listeners.remove(callback)

        return remove

    @property
    def last_scan(self) -> StoreScan | None:
        with self._lock:
            return self._last_scan

    @property
    def last_report(self) -> dict[str, Any] | None:
        """The report built last (by /usage or a scan), for gauges that must not query."""
        with self._lock:
            return self._last_report

    def scan(self) -> StoreScan:
        """Lists every object of the store, then records today's line of the history."""
        with self._scan_lock:  # one listing at a time; a second caller waits for its result
            objects = size = derived_n = derived_bytes = 0
            for obj in self.lib.list_objects():
                objects += 1
                size += obj.size
                if obj.key.startswith(DERIVED_PREFIX):
                    derived_n += 1
                    derived_bytes += obj.size
            scan = StoreScan(
                objects=objects,
                bytes=size,
                original_bytes=size - derived_bytes,
                derivative_objects=derived_n,
                derivative_bytes=derived_bytes,
                scanned_at=utcnow(),
                catalog_bytes=self._catalog_bytes(),
                catalog_mark=self._catalog_mark(),
            )
            with self._lock:
                self._last_scan = scan
            report = self.report()
            self._record_day(report, scan)
            logger.info(
                "Store scanned: %d objects, %d bytes (drift %s bytes)",
                objects,
                size,
                report["store"]["drift_bytes"],
                extra={"outcome": "scanned"},
            )
        with self._lock:
            listeners = list(self._listeners)
        for callback in listeners:
            try:
                callback(scan)
            except Exception:  # a listener's fault is not the scan's
                logger.exception("A store scan listener failed")
        return scan

    def report(self) -> dict[str, Any]:
        """The /usage document: totals of ready, untrashed originals, then the store's size.

        Sums over the counts kept by triggers (`file_counts`, migrations 0012 and 0014), never
        over the rows: a few hundred rows to read however big the catalog."""
        c = FileCount
        n, b = func.coalesce(func.sum(c.n), 0), func.coalesce(func.sum(c.bytes), 0)
        live = (c.trashed == False, c.status == FileStatus.READY, c.alias == False)  # noqa: E712
        with self._db.read() as s:
            by_type = {
                kind: {"files": int(files or 0), "bytes": int(size or 0)}
                for kind, files, size in s.execute(
                    select(c.file_type, n, b).where(*live).group_by(c.file_type)
                )
            }
            counted = s.execute(
                select(c.athlete_id, n, b).where(*live).group_by(c.athlete_id).having(n > 0)
            ).all()
            names = dict(
                s.execute(
                    select(Athlete.id, Athlete.name).where(
                        Athlete.id.in_([a for a, _n, _b in counted if a])
                    )
                ).all()
            )
            athletes = [(a or None, names.get(a), files, size) for a, files, size in counted]
            statuses = {
                status: (int(files or 0), int(size or 0))
                for status, files, size in s.execute(
                    select(c.status, n, b)
                    .where(c.trashed == False, c.alias == False)  # noqa: E712
                    .group_by(c.status)
                )
            }
            trashed = s.execute(select(n, b).where(c.trashed == True)).one()  # noqa: E712
        for kind in FileKind:
            by_type.setdefault(kind, {"files": 0, "bytes": 0})
        total = {
            "files": sum(v["files"] for v in by_type.values()),
            "bytes": sum(v["bytes"] for v in by_type.values()),
        }
        by_status: dict[str, dict[str, int]] = {
            name: {"files": statuses.get(name, (0, 0))[0], "bytes": statuses.get(name, (0, 0))[1]}
            for name in (FileStatus.READY, FileStatus.PENDING, FileStatus.FAILED)
        }
        by_status["trashed"] = {"files": int(trashed[0] or 0), "bytes": int(trashed[1] or 0)}
        scan = self.last_scan
        report: dict[str, Any] = {
            "total": total,
            "by_file_type": by_type,
            "by_athlete": sorted(
                (
                    {"athlete_id": aid, "name": name, "files": int(n or 0), "bytes": int(b or 0)}
                    for aid, name, n, b in athletes
                ),
                key=lambda a: (-a["bytes"], a["athlete_id"] or 0),
            ),
            "by_status": by_status,
            "derivatives": {
                "files": scan.derivative_objects if scan else None,
                "bytes": scan.derivative_bytes if scan else None,
            },
            "store": {
                "objects": scan.objects if scan else None,
                "bytes": scan.bytes if scan else None,
                "scanned_at": scan.scanned_at.isoformat() if scan else None,
                # originals in the store minus what the catalog says they weigh: orphans,
                # uploads in progress, or objects lost behind the catalog's back
                "drift_bytes": scan.original_bytes - scan.catalog_bytes if scan else None,
            },
            "storage": storage_summary(self.lib.settings, detailed=True),
            "warn_bytes": self.lib.settings.storage_warn_bytes or None,
        }
        with self._lock:
            self._last_report = report
        return report

    def _catalog_bytes(self) -> int:
        """What the store should hold as originals: every ready row, trashed ones too, an
        object shared by several files (the same bytes for other athletes) once. A pass over
        the rows: run with each listing of the store (itself a pass over every object)."""
        objects = (
            select(MediaFile.storage_key, func.max(MediaFile.size).label("size"))
            .where(MediaFile.status == FileStatus.READY, MediaFile.alias_of.is_(None))
            .group_by(MediaFile.storage_key)
            .subquery()
        )
        with self._db.read() as s:
            return int(s.scalar(select(func.coalesce(func.sum(objects.c.size), 0))) or 0)

    def _catalog_mark(self) -> tuple[int, int]:
        """The ready originals (trashed ones too, as in the drift) counted and weighed from the
        kept counts: a few hundred rows, cheap enough to compare on every report."""
        c = FileCount
        ready = (c.status == FileStatus.READY, c.alias == False)  # noqa: E712
        with self._db.read() as s:
            files, size = s.execute(
                select(func.coalesce(func.sum(c.n), 0), func.coalesce(func.sum(c.bytes), 0)).where(
                    *ready
                )
            ).one()
        return int(files or 0), int(size or 0)

    def catalog_changed_since_scan(self) -> bool:
        """Whether ready originals came, went or changed since the last listing: its drift then
        compares the store with a catalog that is no more (a listing of an empty library, run by
        the server just after start, said 0 beside a library of files). False before any."""
        scan = self.last_scan
        return scan is not None and self._catalog_mark() != scan.catalog_mark

    def used_bytes(self, report: dict[str, Any]) -> int:
        """What the warning threshold is compared with: the store when listed, else the catalog."""
        store = report["store"]["bytes"]
        return int(store) if store is not None else int(report["total"]["bytes"])

    def over_warning(self, report: dict[str, Any]) -> bool:
        limit = self.lib.settings.storage_warn_bytes
        return bool(limit) and self.used_bytes(report) > limit

    def _record_day(self, report: dict[str, Any], scan: StoreScan) -> None:
        day = scan.scanned_at.astimezone(UTC).strftime("%Y-%m-%d")
        by_type = report["by_file_type"]
        with self._db.write() as s:
            row = s.get(UsageDay, day) or UsageDay(day=day)
            row.files = report["total"]["files"]
            row.bytes = report["total"]["bytes"]
            row.image_bytes = by_type[FileKind.IMAGE]["bytes"]
            row.video_bytes = by_type[FileKind.VIDEO]["bytes"]
            row.store_objects = scan.objects
            row.store_bytes = scan.bytes
            row.recorded_at = scan.scanned_at
            s.add(row)
            cutoff = (scan.scanned_at - timedelta(days=HISTORY_DAYS)).strftime("%Y-%m-%d")
            s.query(UsageDay).filter(UsageDay.day < cutoff).delete()

    def history(self, days: int = 90) -> list[dict[str, Any]]:
        """The daily lines, oldest first."""
        cutoff = (utcnow() - timedelta(days=days)).strftime("%Y-%m-%d")
        with self._db.read() as s:
            rows = s.scalars(
                select(UsageDay).where(UsageDay.day >= cutoff).order_by(UsageDay.day)
            ).all()
            return [
                {
                    "day": r.day,
                    "files": r.files,
                    "bytes": r.bytes,
                    "image_bytes": r.image_bytes,
                    "video_bytes": r.video_bytes,
                    "store_objects": r.store_objects,
                    "store_bytes": r.store_bytes,
                }
                for r in rows
            ]
