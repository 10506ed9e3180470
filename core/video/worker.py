"""Workers that claim video jobs and run each encode in a low-priority subprocess.

In-process (the desktop app and `mediadesk serve`, `MEDIADESK_WORKERS`) or standalone
(`mediadesk worker`, on any machine sharing the catalog and the store). A worker holds a lease on
its job and renews it; it polls for a cancel twice a second and kills the encode when asked, so
nothing half-made is ever uploaded. Derivatives reach the store only after a clean encode, and
the job is marked done only while the worker still owns it, the file still exists and its files
are in the folder its current name has (a move to a new name during the upload: stored again).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import queue
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core import keys, partials
from core.deferred import backend_of_file
from core.errors import (
    MediaDeskError,
    NotFound,
    StorageUnavailable,
    catalog_unreachable,
    check_object_size,
    is_no_space,
    outage_level,
    owes_outage_error,
    passing_outage,
)
from core.events import EventKind
from core.fsmodes import make_dirs
from core.jobs import BACKOFF_BASE, JobRecord, JobState
from core.logsetup import RESOURCE_REPORT_INTERVAL, BoundedReports, OutageReports
from core.records import FileRecord, FileStatus
from core.thumbnail_remake import behind, read_metadata
from core.video import service
from core.video.encode import faststart_skip_reason
from core.video.failures import JobFailure, failure_message, failure_reason, without_paths
from core.video.runner import POSTER

if TYPE_CHECKING:
    from core.library import Library

logger = logging.getLogger(__name__)

STOP_POLL = 0.4  # seconds between cancel checks: a cancel stops the encode within a second
_ENDED = "_ended"  # the reader's last message: the runner's output is over
PUBLISH_EVERY = 0.5
# Seconds a job that an outage stopped waits at most before it is tried again
OUTAGE_BACKOFF_MAX = 60.0
# Seconds after its claim a job is announced running (a `processing` event) even before its
# work has begun: the download of a big original takes a while. A job an outage stops sooner
# goes back to the queue unannounced (_Running).
ANNOUNCE_AFTER = 2.0
# Moves of a file to a new name, while a job stores its files, that the job follows (storing
# them again in the new name's folder); at the next one it fails, to run again
MOVES_FOLLOWED = 3


@dataclass
class _Outcome:
    kind: str  # result | skipped | error | stopped
    result: dict[str, Any] | None = None
    message: str = ""
    permanent: bool = False
    reason: str = ""  # a skip's or a failure's stable code (SKIP_REASONS, FAILURE_REASONS)
    poster_error: str = ""  # why a thumbnails job's poster was not made (its sprite was)
    # a thumbnails job's reading of the original's metadata (core.metadata.read_again)
    meta: dict[str, Any] | None = None


class _Running:
    """The `processing` event saying a claimed job runs: sent once its work begins (the
    original at hand, `now`) or ANNOUNCE_AFTER seconds after the claim, whichever comes
    first, never after `close`. A job an outage of the store stops before either goes back
    to the queue with no event at all, its claim and put-back unannounced: while the store
    was out, each claim said running and each put-back queued, 19 events in a second for
    four files, and every change a subscriber saw was a flip that did no work."""

    def __init__(self, lib: Library, job: JobRecord) -> None:
        self._lib = lib
        self._job = job
        self._lock = threading.Lock()
        self._said = False
        self._closed = False
        self._timer = threading.Timer(ANNOUNCE_AFTER, self.now)
        self._timer.daemon = True
        self._timer.start()

    def now(self) -> None:
        with self._lock:
            if self._said or self._closed:
                return
            self._said = True
            try:
                service.publish(self._lib, self._job.file_id, self._job)
            except Exception as exc:  # the catalog out of reach: the next event tells
                # unless it met the catalog's outage first: then the episode's one ERROR line
                level = outage_level(exc, logging.INFO)
                logger.log(level, "Job %s not announced running: %s", self._job.id, _words(exc))

    def close(self) -> bool:
        """No announcement after this; whether one was made."""
        self._timer.cancel()
        with self._lock:
            self._closed = True
            return self._said


@dataclass(frozen=True)
class _PutBack:
    """A job an outage or a full disk stopped whose put-back the catalog could not record (it
    was the catalog that was out of reach, or its disk that was full): recorded once it
    answers, or has room (VideoWorker._put_back_held)."""

    job_id: int
    owner: str
    message: str
    reason: str
    delay: float
    space: bool = False  # stopped by a full disk (the log's words)


class VideoWorker:
    """`concurrency` threads, each claiming one job at a time."""

    def __init__(
        self,
        lib: Library,
        concurrency: int = 1,
        name: str | None = None,
        poll_interval: float = 1.0,
        nice: int = 10,
    ) -> None:
        self.lib = lib
        self.concurrency = max(1, concurrency)
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.poll_interval = poll_interval
        self.nice = nice  # encodes yield the CPU to the GUI and the API (os.nice in the child)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self._unsubscribe = None
        self._outages = 0  # jobs in a row that an outage stopped: their back-off grows
        # Full disks in a row (the work folder's, the catalog's): no job is taken before
        # _full_until (time.monotonic()), a back-off that grows while the disk stays full
        self._full = 0
        self._full_until = 0.0
        # No job is taken before this either (time.monotonic()): a job an outage stopped
        # holds the claims back for its own back-off. Before, the next job was claimed at
        # once, met the same outage and went back too, each queued job in turn every time.
        self._outage_until = 0.0
        self._reports = BoundedReports(RESOURCE_REPORT_INTERVAL)
        self._outage_reports = OutageReports(RESOURCE_REPORT_INTERVAL)
        # job id -> its put-back the catalog could not record yet; any thread records it
        self._held: dict[int, _PutBack] = {}
        self._held_lock = threading.Lock()
        self._away = 0  # turns in a row the catalog (or the store) was out of reach

    # ---- lifecycle --------------------------------------------------------------------------
    def start(self) -> VideoWorker:
        sweep_work_folders(self.lib)
        self._unsubscribe = self.lib.events.subscribe(self._on_event)  # type: ignore[assignment]
        for i in range(self.concurrency):
            t = threading.Thread(
                target=self._loop,
                args=(f"{self.name}#{i}",),
                name=f"video-worker-{i}",
                daemon=True,
            )
            t.start()
            self._threads.append(t)
        logger.info("Video worker %s started (%d at a time)", self.name, self.concurrency)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Running encodes are stopped and their jobs handed back to the queue."""
        self._stop.set()
        self._wake.set()
        if self._unsubscribe:
            self._unsubscribe()  # type: ignore[unreachable]
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        self._threads.clear()
        if self._held:  # the catalog may be back: else their leases lapse, an attempt each
            with contextlib.suppress(Exception):
                self._put_back_held()

    def _on_event(self, event: Any) -> None:
        if event.kind in (EventKind.PROCESSING, EventKind.CREATED):
            self._wake.set()

    def _loop(self, owner: str) -> None:
        while not self._stop.is_set():
            wait = max(self._full_until, self._outage_until) - time.monotonic()
            if wait > 0:  # a disk is full, or the store out: a job taken would only fail
                if self._held and not self._retry_held():
                    # within the lease: a put-back recorded after it lapsed may come too
                    # late (another process's claim takes the job, spending its attempt)
                    wait = min(wait, self.poll_interval)
                self._stop.wait(wait)
                continue
            wait = self.poll_interval
            try:
                job = self.run_once(owner)
            except Exception as exc:
                job = None
                if is_no_space(exc):  # the catalog's disk: not even the claim was recorded
                    self._disk_full(_space_message(exc))
                elif self._outage_reports.log(
                    logger, exc, "Video worker %s waits for the catalog", owner
                ):
                    wait = self._away_wait()
                else:
                    logger.exception("Video worker %s failed to run a job", owner)
            else:
                self._away = 0
            if job is None:
                self._wake.wait(wait)
                self._wake.clear()

    def _away_wait(self) -> float:
        """The wait before the next turn while the catalog is out of reach: doubling from
        poll_interval, at most a third of a lease. A job this worker holds (`_held`) must be
        put back within the lease a catalog back from an outage grants before any process
        takes it again (JobQueue.claim); OUTAGE_BACKOFF_MAX would let it go."""
        self._away += 1
        most = max(self.poll_interval, self.lib.jobs.lease_seconds / 3)
        return float(min(self.poll_interval * 2 ** min(self._away - 1, 10), most))

    # ---- one job ----------------------------------------------------------------------------
    def run_once(self, owner: str | None = None) -> JobRecord | None:
        """Claims and runs one job; None when the queue had nothing runnable."""
        owner = owner or f"{self.name}#x"
        self._put_back_held()  # before any claim: else the lapsed lease is claimed, +1 attempt
        job = self.lib.jobs.claim(owner)
        if job is None:
            return None
        logger.info("Job %s (%s of file %s) claimed by %s", job.id, job.kind, job.file_id, owner)
        running = _Running(self.lib, job)
        unannounced = False  # put back by an outage before it was announced running
        try:
            self._run(job, owner, running)
        except Exception as exc:
            message = self._said(exc)
            if passing_outage(exc) or _unbuilt(exc):
                unannounced = not running.close()
                self._postpone(job, owner, exc, message)
            elif is_no_space(exc):
                space = self._said(_space_message(exc))
                self._put_back_for_space(job, owner, space, failure_reason(exc))
            else:
                logger.exception("Job %s failed", job.id)
                self.lib.jobs.fail(job.id, owner, message, reason=failure_reason(exc))
        else:
            self._outages = 0
            if time.monotonic() >= self._full_until:  # not a job _settle put back for space
                self._full = 0
        finally:
            running.close()
        if job.id in self._held:  # the catalog is away: nothing to read or tell yet
            return job
        final = self._get(job.id)
        if not unannounced:  # queued it was, queued it is: nothing to tell
            service.publish(self.lib, job.file_id, final or job)
        return final or job

    def _said(self, failure: BaseException | str) -> str:
        """A failure's words as a job's `error` keeps them: without a local path, for it is
        answered to every token holder (GET /jobs, /stream/{id}/info). The runner's come
        without one already (it knows its work folder); the worker's own may name a path in
        the data folder (the store on disk, the work folders, the catalog's disk): said from
        there."""
        places = {self.lib.paths.data_dir: "the data folder"}
        if isinstance(failure, str):
            return without_paths(failure, places)
        if isinstance(failure, MediaDeskError):
            return without_paths(failure.message, places)
        return failure_message(failure, places)

    def _postpone(self, job: JobRecord, owner: str, exc: Exception, message: str) -> None:
        """A job the store's or the catalog's outage stopped goes back to the queue after a
        back-off that grows while the outage lasts, its attempt not spent; logged as the
        catalog's outages are (core/logsetup.py OutageLogFilter): one line, no traceback, at
        most every RESOURCE_REPORT_INTERVAL s with a count. Every queued job failed in turn
        within a second of an outage, a traceback each, and two short outages failed a job
        for good."""
        self._outages += 1
        delay = min(BACKOFF_BASE * 2 ** min(self._outages - 1, 10), OUTAGE_BACKOFF_MAX)
        # not before the store may be asked again (its quiet window, its own Retry-After)
        delay = max(delay, float(getattr(exc, "retry_after", None) or 0))
        # and no other job is taken meanwhile: it would meet the same outage
        self._outage_until = max(self._outage_until, time.monotonic() + delay)
        put_back = _PutBack(job.id, owner, message, failure_reason(exc), delay)
        when = ""
        # the job (or its put-back) met the catalog's outage first: the episode's one ERROR
        # line, not a WARNING counted with the others (the outage had no ERROR line at all)
        first: BaseException | None = exc if owes_outage_error(exc) else None
        try:
            self.lib.jobs.postpone(job.id, owner, message, put_back.reason, delay)
        except Exception as again:
            if not catalog_unreachable(again):
                raise
            if owes_outage_error(again):
                first = again
            # Not recorded: the job stays running under our lease. Held here and put back
            # before this worker claims anything (run_once); before, the lease lapsed and the
            # next claim took the job again, spending the attempt, with an ERROR traceback.
            with self._held_lock:
                self._held[job.id] = put_back
            when = " (recorded once the catalog answers)"
        if first is not None:
            self._reports.forget("outage")  # the counts start again with the episode
            logger.error(
                "Job %s put back for %.0f s%s, its attempt not counted: %s",
                job.id,
                delay,
                when,
                _words(first),
            )
            return
        count = self._reports.due("outage")
        if count is not None:
            logger.warning(
                "Job %s put back for %.0f s%s, its attempt not counted: %s (%d such since the "
                "last report, reported at most every %.0f s)",
                job.id,
                delay,
                when,
                message,
                count,
                self._reports.interval,
            )

    def _put_back_held(self) -> None:
        """Records the put-backs of `_postpone` the catalog could not take; raises while it
        still cannot (the caller's turn waits for it)."""
        with self._held_lock:
            held = list(self._held.values())
        for put_back in held:
            recorded = self.lib.jobs.postpone(
                put_back.job_id, put_back.owner, put_back.message, put_back.reason, put_back.delay
            )
            with self._held_lock:
                self._held.pop(put_back.job_id, None)
            if recorded is not None and put_back.space:
                logger.info(
                    "Room again in the catalog: job %s put back, its attempt not counted",
                    put_back.job_id,
                )
            elif recorded is not None:
                logger.info("Job %s put back now that the catalog answers", put_back.job_id)
            else:  # cancelled, deleted, or taken after its lease lapsed (a catalog partition)
                logger.info(
                    "Job %s was not ours any more when the catalog answered", put_back.job_id
                )

    def _retry_held(self) -> bool:
        """Tries again to record the put-backs the catalog could not take, while this worker
        takes no job (a full disk's back-off); renews their leases where it still cannot, so
        that no claim takes them meanwhile. Whether none is left."""
        try:
            self._put_back_held()
        except Exception as exc:
            if not (is_no_space(exc) or catalog_unreachable(exc)):
                logger.exception("Video worker %s could not put its jobs back", self.name)
            elif owes_outage_error(exc):  # it met the outage first: the ERROR
                logger.error(
                    "Video worker %s could not put its jobs back: %s", self.name, _words(exc)
                )
            with self._held_lock:
                held = list(self._held.values())
            for put_back in held:  # a smaller write (no error text): it may get through
                with contextlib.suppress(Exception):
                    self.lib.jobs.heartbeat(put_back.job_id, put_back.owner)
        return not self._held

    def _put_back_for_space(self, job: JobRecord, owner: str, message: str, reason: str) -> None:
        """A job a full disk stopped (its work folder's, or the catalog's) is queued again,
        its attempt not spent and its code insufficient_storage, and this worker takes no job
        for a back-off that grows while the disk stays full. Before, each queued job failed
        in turn, and with the catalog's disk full even that was not recorded: the worker took
        the next job, failed to record it and logged a traceback about once a second, for as
        long as the disk stayed full.

        The catalog on the full disk (the default layout) may not take the put-back either:
        it is held, as for the catalog's outages, and tried again at every poll until there
        is room (`_loop`). Before, it was dropped, logged "not counted" all the same, and the
        job stayed running until its lease lapsed and a claim took it again, spending the
        attempt."""
        delay = self._hold_back()
        put_back = _PutBack(job.id, owner, message, reason, delay, space=True)
        try:
            recorded = self.lib.jobs.postpone(job.id, owner, message, reason, delay)
        except Exception as again:
            if not (is_no_space(again) or catalog_unreachable(again)):
                raise
            with self._held_lock:
                self._held[job.id] = put_back
            self._report_full(message, delay, f"job {job.id} stopped, put back once there is room")
            return
        self._report_full(
            message,
            delay,
            f"job {job.id} put back, its attempt not counted"
            if recorded is not None
            else f"job {job.id} was not ours any more",
        )

    def _disk_full(self, message: str) -> None:
        """No job taken: the catalog's disk is full (not even a claim is recorded)."""
        self._report_full(message, self._hold_back(), "no job taken")

    def _hold_back(self) -> float:
        """Holds this worker's claims back while a disk is full (doubling, at most
        OUTAGE_BACKOFF_MAX s): the back-off it starts."""
        self._full += 1
        delay = min(BACKOFF_BASE * 2 ** min(self._full - 1, 10), OUTAGE_BACKOFF_MAX)
        self._full_until = time.monotonic() + delay
        return delay

    def _report_full(self, message: str, delay: float, what: str) -> None:
        """A full disk in one WARNING line at most every RESOURCE_REPORT_INTERVAL s, with a
        count; `what` became of the job (said once it is recorded)."""
        count = self._reports.due("disk_full")
        if count is not None:
            logger.warning(
                "No space left: %s; video jobs wait %.0f s (%s) (%d such since the last "
                "report, reported at most every %.0f s)",
                message,
                delay,
                what,
                count,
                self._reports.interval,
            )

    def _get(self, job_id: int) -> JobRecord | None:
        try:
            return self.lib.jobs.get(job_id)
        except NotFound:
            return None

    def _run(self, job: JobRecord, owner: str, running: _Running) -> None:
        lib = self.lib
        try:
            record = lib.get_file(job.file_id)
        except NotFound:
            lib.jobs.finish(job.id, owner, JobState.CANCELLED, error="The file was deleted")
            lib.jobs.forget_file(job.file_id)
            return
        work = work_folder(lib, job)
        try:
            started = time.monotonic()
            try:
                with self._source(record, work) as src:
                    running.now()  # the work begins: its encode's progress follows
                    fetched = time.monotonic()
                    outcome = self._encode(job, owner, record, src, work / "out")
                    if job.kind == "thumbnails" and outcome.kind == "result":
                        # the original at hand: a reprocess reads an older version's
                        # metadata again (a new video's first reading changes nothing)
                        outcome = dataclasses.replace(outcome, meta=read_metadata(record, src))
            except JobFailure as exc:
                if exc.reason != "original_missing" or not self._deleted(job, owner):
                    raise
                # A hard delete took the original after we read the row (README: a normal
                # outcome, nothing stays): no failure to log or retry. Failed, the job was
                # queued again after the delete had removed the file's other rows.
                self._settle(job, owner, record, _Outcome("stopped"), work / "out")
                logger.info("Job %s of file %s stopped: the file was deleted", job.id, job.file_id)
                return
            encoded = time.monotonic()
            self._settle(job, owner, record, outcome, work / "out")
            logger.info(
                "Job %s %s: fetch %.1f s, encode %.1f s, store %.1f s",
                job.id,
                outcome.kind,
                fetched - started,
                encoded - fetched,
                time.monotonic() - encoded,
            )
        finally:
            shutil.rmtree(work, ignore_errors=True)

    @contextlib.contextmanager
    def _source(self, record: FileRecord, work: Path) -> Iterator[Path]:
        local = self.lib.local_path(record)
        if local is not None and local.is_file():
            yield local
            return
        ext = record.storage_key.rsplit(".", 1)[-1]
        target = work / f"source.{ext}"
        try:
            self.lib.download_object(record.storage_key, target)
        except NotFound as exc:  # the store answers, without the original
            raise JobFailure(exc.message, "original_missing") from exc
        # as local_path checks a local original: a bucket's cut one was encoded as it was,
        # and its shorter copy served as the video
        if record.status == FileStatus.READY:
            check_object_size(record.storage_key, target.stat().st_size, record.size)
        yield target

    def _encode(
        self, job: JobRecord, owner: str, record: FileRecord, src: Path, out: Path
    ) -> _Outcome:
        if job.kind == "faststart":  # a few header reads decide it: no process needed
            skip = faststart_skip_reason(src, record.content_type)
            if skip is not None:
                return _Outcome("skipped", message=str(skip), reason=skip.reason)
        settings = self.lib.settings
        spec = {
            "kind": job.kind,
            "src": str(src),
            "out": str(out),
            "content_type": record.content_type,
            "ladder": list(settings.hls_ladder),
            "segment_seconds": settings.hls_segment_seconds,
            "parent": os.getpid(),
            "nice": self.nice,
            # A poster of an older rendering made again where the original is at hand (a
            # reprocess only queues this job); a new video's is today's, made at its upload
            "poster": job.kind == "thumbnails" and behind(record),
        }
        errlog = out.parent / "stderr.log"
        with errlog.open("wb") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "core.video.runner", json.dumps(spec)],
                stdout=subprocess.PIPE,
                stderr=err,
                stdin=subprocess.DEVNULL,
                cwd=str(Path(__file__).resolve().parents[2]),
                text=True,
                # bytes that are not UTF-8 (a codec library's own output) end no reading: the
                # reader died on them and the job's result was lost
                errors="replace",
            )
        messages: queue.Queue[dict[str, Any]] = queue.Queue()

        def read() -> None:
            assert proc.stdout is not None
            try:
                for line in proc.stdout:
                    with contextlib.suppress(ValueError):
                        said = json.loads(line)
                        # the runner says objects; anything else (a library printing to
                        # stdout) is not a message, nor may it pass for the end of the output
                        if isinstance(said, dict) and _ENDED not in said:
                            messages.put(said)
            finally:
                messages.put({_ENDED: True})  # its output is over: it is exiting, said at once

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        outcome: _Outcome | None = None
        ended = False
        poster_error = ""
        progress, published, beat = 0.0, 0.0, time.monotonic()
        lease_every = max(1.0, self.lib.jobs.lease_seconds / 3)
        try:
            while True:
                try:
                    msg = messages.get(timeout=STOP_POLL)
                except queue.Empty:
                    msg = None
                if msg is not None and _ENDED in msg:
                    # The runner closed its output as it exits: waited for here rather than
                    # noticed at the next STOP_POLL, 0.4 s after every job's end
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        proc.wait(STOP_POLL)
                    msg, ended = None, True
                if msg is not None:
                    if "progress" in msg:
                        progress = float(msg["progress"])
                    elif "poster_error" in msg:  # said before its job's result
                        poster_error = str(msg["poster_error"])
                    elif "result" in msg:
                        outcome = _Outcome(
                            "result", result=msg["result"], poster_error=poster_error
                        )
                    elif "skipped" in msg:
                        outcome = _Outcome(
                            "skipped",
                            message=str(msg["skipped"]),
                            reason=str(msg.get("reason") or ""),
                        )
                    elif "error" in msg:
                        outcome = _Outcome(
                            "error",
                            message=str(msg["error"]),
                            permanent=bool(msg["permanent"]),
                            reason=str(msg.get("reason") or "internal"),
                        )
                now = time.monotonic()
                if self._stop.is_set() or self.lib.jobs.should_stop(job.id, owner):
                    _kill(proc)
                    return _Outcome("stopped")
                if now - beat >= lease_every:
                    beat = now
                    if not self.lib.jobs.heartbeat(job.id, owner, progress):
                        _kill(proc)
                        return _Outcome("stopped")
                if now - published >= PUBLISH_EVERY and msg is not None and "progress" in msg:
                    published = now
                    self.lib.jobs.heartbeat(job.id, owner, progress)
                    service.publish(self.lib, job.file_id, self._get(job.id))
                # every message came before the reader's last one, in order
                if ended and proc.poll() is not None:
                    break
        finally:
            if proc.poll() is None:
                _kill(proc)
            reader.join(2)
        if outcome is None:
            tail = errlog.read_bytes()[-400:].decode("utf-8", "replace").strip()
            outcome = _Outcome(  # it died before saying why (a crash, the OOM killer)
                "error",
                message=f"The encoder exited with status {proc.returncode}. {tail}",
                reason="encoder_failed",
            )
        return outcome

    def _settle(
        self, job: JobRecord, owner: str, record: FileRecord, outcome: _Outcome, out: Path
    ) -> None:
        lib = self.lib
        outcome = dataclasses.replace(outcome, message=self._said(outcome.message))
        if outcome.kind == "stopped":
            if self._stop.is_set() and not lib.jobs.should_stop(job.id, owner):
                lib.jobs.release(job.id, owner)
                return
            lib.jobs.finish(job.id, owner, JobState.CANCELLED, error="Cancelled")
            if not self._file_exists(record.id):
                lib.jobs.forget_file(record.id)
            return
        if outcome.kind == "skipped":
            why = {"reason": outcome.reason} if outcome.reason else {}
            if not lib.jobs.finish(
                job.id, owner, JobState.SKIPPED, result=why, error=outcome.message
            ):
                # A cancel asked while it ran (a reprocess replacing it): a skip has no encode
                # whose cancel check would stop it, so the job stayed running with its lease,
                # was taken again when it lapsed, and after three such attempts failed "The
                # worker running it stopped responding on every attempt".
                lib.jobs.finish(job.id, owner, JobState.CANCELLED, error="Cancelled")
            return
        if outcome.kind == "error" and outcome.reason == "insufficient_storage":
            # the encode's files first: the room they free is what the catalog, on the same
            # disk in the default layout, may need to record the put-back
            shutil.rmtree(out.parent, ignore_errors=True)
            self._put_back_for_space(job, owner, outcome.message, outcome.reason)
            return
        if outcome.kind == "error":
            failed = lib.jobs.fail(
                job.id, owner, outcome.message, permanent=outcome.permanent, reason=outcome.reason
            )
            # A job failed for good needs someone (the web copy, HLS or posters stay missing):
            # a WARNING an operator watching the log sees, with the reason; an attempt that
            # will be tried again is only INFO.
            if failed is not None:
                gave_up = failed.state == JobState.FAILED
                logger.log(
                    logging.WARNING if gave_up else logging.INFO,
                    "Job %s (%s of file %s) %s after attempt %s: %s (%s)",
                    job.id,
                    job.kind,
                    job.file_id,
                    "failed for good" if gave_up else "failed, to be tried again",
                    failed.attempts,
                    failed.error_code,
                    outcome.message.splitlines()[0] if outcome.message else "",
                )
            return
        result = dict(outcome.result or {})
        # A folder of this job's own: the job being served keeps its files (see service.job_dir)
        result["dir"] = service.job_dir(job.kind, job.id)
        # read before the upload: a storage move's switch after it is seen when finishing
        home = self._home(record.id)
        result["sizes"] = self._upload(record, job.kind, result, out)
        stored = [record]  # the readings of the file whose video folders got the files
        for _ in range(MOVES_FOLLOWED + 1):
            now, done = self._finish_in_place(job, owner, result, stored[-1], home)
            if now is None:  # a hard delete ran during the upload: nothing made may remain
                for each in stored:
                    self._remove(each, job.kind, result)
                lib.jobs.finish(job.id, owner, JobState.CANCELLED, error="The file was deleted")
                lib.jobs.forget_file(record.id)
                return
            if done is not None:
                self._after_finish(job, owner, now, outcome, result, out, done)
                return
            if _folder(now) != _folder(stored[-1]):
                # Moved to a new name after our files went to the old one's folder: the
                # move's copy may have missed them, and that folder goes after its grace.
                if len(stored) > MOVES_FOLLOWED:
                    break
                self._upload(now, job.kind, result, out, stored)
                self._drop_copy(stored[-1], job.kind, result)
                stored.append(now)
            else:
                # Moved to another storage (a storage move) after our files went to the old
                # one, whose copy of the video folder was made before they came: stored again
                # at the new one. What the old one holds goes with the moved file's old copy.
                if len(stored) > MOVES_FOLLOWED:
                    break
                home = self._home(now.id)
                self._upload(now, job.kind, result, out, stored)
                stored.append(now)
        self._remove(stored[-1], job.kind, result)
        raise JobFailure(
            f"The file moved {MOVES_FOLLOWED + 1} times while its {job.kind} files were stored; "
            "the job runs again",
            "internal",
        )

    def _finish_in_place(
        self,
        job: JobRecord,
        owner: str,
        result: dict[str, Any],
        stored: FileRecord,
        home: str | None = None,
    ) -> tuple[FileRecord | None, bool | None]:
        """Records the job done if the file's video folder is still `stored`'s, on the storage
        `home` (read before the upload): (the file as read, None if deleted; whether the job was
        recorded done, None if not tried)."""
        current = self._current(job.file_id)
        if current is None:
            return None, None
        # Under the key's object lock, which a move to a new file name (a public link's end)
        # holds from its copy of the video folder to its commit (Library._update_locked):
        # while we hold it, the key read is not one whose folder was copied without our files
        # and is about to be replaced. A hard delete holds it too.
        with self.lib.deferred.object_locks.hold(current.storage_key):
            now = self._current(job.file_id)
            if now is None or now.storage_key != current.storage_key:
                return now, None  # deleted or moved meanwhile: read again
            if _folder(now) != _folder(stored):
                return now, None
            # a storage move holds this lock from its copy of the video folder to its switch:
            # files stored before it, on the old storage, were not in its copy
            if home is not None and self._home(now.id) != home:
                return now, None
            done = self.lib.jobs.finish(
                job.id, owner, JobState.DONE, result=result, superseded=self._supersede(now)
            )
            return now, done

    def _upload(
        self,
        record: FileRecord,
        kind: str,
        result: dict[str, Any],
        out: Path,
        earlier: Sequence[FileRecord] = (),
    ) -> dict[str, int]:
        """Stores the job's files in `record`'s video folder; their sizes. On a failure the
        files are removed from it and from the folders of `earlier` readings (a retry uploads
        them all again)."""
        sizes: dict[str, int] = {}
        try:
            for name in result.get("files", []):
                path = out / name
                sizes[name] = path.stat().st_size
                self.lib.put_object_file(  # to the video's own backend, maybe not this process's
                    service.derived_key(record, kind, name, result),
                    path,
                    service.content_type_of(name),
                    beside=record.storage_key,
                )
        except BaseException:
            for each in [*earlier, record]:
                self._remove(each, kind, result)
            raise
        return sizes

    def _drop_copy(self, record: FileRecord, kind: str, result: dict[str, Any]) -> None:
        """The job's files under a name the file left: queued for deletion first (it survives
        this process), then removed at once, for that name may be one a public domain served
        (the reason of the move) and no player was ever given these files."""
        prefix = service.job_prefix(record, kind, result)
        try:
            with self.lib.deferred.db.write() as session:
                backend = backend_of_file(session, record.id)
                self.lib.deferred.queue_prefix(session, prefix, "move", backend=backend)
        except MediaDeskError as exc:  # the removal below is tried all the same
            level = outage_level(exc, logging.WARNING)  # it met the outage first: the ERROR
            logger.log(level, "Could not queue the deletion of %s: %s", prefix, _words(exc))
        self._remove(record, kind, result)

    def _supersede(self, record: FileRecord) -> Callable[[Any, list[JobRecord]], None]:
        """What a job recorded done leaves to delete of the jobs it replaced (`record`: the
        file as it is now, whose folder has their files: a move copied them there)."""
        lib = self.lib

        def supersede(session: Any, replaced: list[JobRecord]) -> None:
            # the replaced jobs' files stay for players holding their playlists, then go: from
            # the file's backend, which may be one this process did not start with (moved to
            # R2 by `storage migrate` elsewhere) and the process running the deletion hours
            # later may not have loaded (it builds the one the entry names)
            backend = backend_of_file(session, record.id)
            for old in replaced:
                prefixes, names = service.superseded(record, old)
                for prefix in prefixes:
                    lib.deferred.queue_prefix(session, prefix, "reprocess", backend=backend)
                for key in names:
                    lib.deferred.queue(session, key, "reprocess", replaced=True, backend=backend)

        return supersede

    def _after_finish(
        self,
        job: JobRecord,
        owner: str,
        record: FileRecord,
        outcome: _Outcome,
        result: dict[str, Any],
        out: Path,
        done: bool,
    ) -> None:
        lib = self.lib
        if done:
            lib.deferred.schedule()
            self._keep_poster(record, outcome, out)
            return
        logger.info("Job %s was cancelled or taken over; its upload is not recorded", job.id)
        if lib.jobs.finish(job.id, owner, JobState.CANCELLED, error="Cancelled"):
            # still ours, so no other worker writes this job's folder and nothing serves it
            self._remove(record, job.kind, result)

    def _keep_poster(self, record: FileRecord, outcome: _Outcome, out: Path) -> None:
        """The poster a thumbnails job made again stored, its rows marked (the content tag,
        `?v=`, ETag and local cache name change: every cache fetches it). After the job is
        recorded done: a poster that cannot be made or kept (a full store, an outage) never
        fails the job nor loses its sprite; the old poster and its rendering stay, and the
        next reprocess of the video tries again. The metadata the job read again is written
        with the poster's marks, or alone when there is no poster to keep."""
        made = out / POSTER
        if outcome.poster_error:
            logger.warning("Posters of file %s not made: %s", record.id, outcome.poster_error)
        remaker = self.lib.thumbnail_remaker
        try:
            if made.is_file():
                try:
                    remaker.keep_poster(record.id, made.read_bytes(), outcome.meta)
                    return
                except NotFound:
                    raise
                except MediaDeskError as exc:  # StorageUnavailable, InsufficientStorage
                    logger.log(
                        outage_level(exc, logging.WARNING),  # met the outage first: the ERROR
                        "Poster of file %s not kept (the next reprocess tries again): %s",
                        record.id,
                        _words(exc),
                    )
            if outcome.meta is not None:
                remaker.keep_metadata(record.id, outcome.meta)
        except NotFound as exc:  # deleted or trashed meanwhile: a normal outcome
            logger.info("Poster of file %s not made again: %s", record.id, exc.message)
        except MediaDeskError as exc:  # the catalog out of reach: the next reprocess reads it
            level = outage_level(exc, logging.WARNING)  # it met the outage first: the ERROR
            logger.log(level, "Metadata of file %s not written: %s", record.id, _words(exc))

    def _remove(self, record: FileRecord, kind: str, result: dict[str, Any]) -> None:
        """Removes the files of one run of a job that was not recorded done (its own folder)."""
        try:
            self.lib.delete_objects_under(service.job_prefix(record, kind, result))
        except MediaDeskError as exc:  # left for the hard delete of the file to remove
            level = outage_level(exc, logging.WARNING)  # it met the outage first: the ERROR
            logger.log(level, "Could not remove the files of a %s job: %s", kind, _words(exc))

    def _deleted(self, job: JobRecord, owner: str) -> bool:
        """Whether the job's file is gone or being hard-deleted: the delete tells the file's
        running jobs to stop (JobQueue.forget_file) before it removes the row."""
        return not self._file_exists(job.file_id) or self.lib.jobs.should_stop(job.id, owner)

    def _home(self, file_id: int) -> str | None:
        """The storage holding the file's object and video folder now (None: no such row)."""
        with self.lib.deferred.db.read() as session:
            return backend_of_file(session, file_id)

    def _current(self, file_id: int) -> FileRecord | None:
        try:
            return self.lib.get_file(file_id)
        except NotFound:
            return None

    def _file_exists(self, file_id: int) -> bool:
        try:
            self.lib.get_file(file_id)
            return True
        except NotFound:
            return False


def _words(exc: BaseException) -> str:
    """A failure in a log line: its message, and the catalog's own words when it was out of
    reach (StorageUnavailable.cause: "Connection refused"…)."""
    said = exc.message if isinstance(exc, MediaDeskError) else str(exc)
    cause = getattr(exc, "cause", None)
    return f"{said} ({cause})" if cause else said


def _folder(record: FileRecord) -> str:
    """The video folder a file's job files go to: named by the file name, so an athlete move
    keeps it and only a move to a new name (a public link's end) changes it."""
    return keys.video_prefix(record.storage_key)


def _unbuilt(exc: BaseException) -> bool:
    """The video's backend (moved there by another process) cannot be built from the saved
    settings: its files are written nowhere else, and the job waits, as for an outage, its
    attempt not spent, until the settings are saved (`StorageBackends._configure` reads
    them again once changed) or this process restarts with them."""
    return isinstance(exc, StorageUnavailable) and exc.reason == "storage_not_configured"


def _space_message(exc: BaseException) -> str:
    """A full disk's words for the job's error and the log: SQLAlchemy's text of SQLite's
    "database or disk is full" carries the whole statement and its parameters."""
    if isinstance(exc, MediaDeskError | OSError):
        return exc.message if isinstance(exc, MediaDeskError) else str(exc)
    return "The catalog cannot be written: its disk is full (database or disk is full)"


def _kill(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(5)


def _jobs_root(lib: Library) -> Path:
    return lib.paths.tmp_dir / "jobs"


def work_folder(lib: Library, job: JobRecord) -> Path:
    """A new folder for one run of `job`, owned by this process (see core.partials)."""
    root = _jobs_root(lib)
    make_dirs(root)  # 0750 like the rest of tmp/, not the umask's choice (core/fsmodes.py)
    partials.register(lib.paths.tmp_dir)
    return Path(tempfile.mkdtemp(prefix=f"job-{job.id}-{partials.tag()}-", dir=root))


def sweep_work_folders(lib: Library) -> list[Path]:
    """Removes the work folders killed workers left behind; returns them.

    The one home of the rule, run when workers start and by every maintenance pass. A folder
    is named `job-{job id}-own-{owner token}-…` (see `work_folder`): it is stale once its
    owner's lock is free (the partials rule; a pid would not do, a worker in another container
    sharing the data folder has one this machine cannot see) or the job is no longer running,
    so a live worker's folder is never touched (a cancelled job stays `running` until its
    worker has stopped the encode). A folder named without a token predates the rule: stale.
    """
    root = _jobs_root(lib)
    if not root.is_dir():  # nothing ran here yet: no folder to create just to look in it
        return []
    removed: list[Path] = []
    for folder in root.glob("job-*-*-*"):
        try:
            job_id = int(folder.name.split("-")[1])
            live = (
                partials.owner_alive(lib.paths.tmp_dir, folder.name)
                and lib.jobs.get(job_id).state == JobState.RUNNING
            )
        except (ValueError, NotFound):
            live = False
        if not live:
            shutil.rmtree(folder, ignore_errors=True)
            if not folder.exists():
                removed.append(folder)
    if removed:
        logger.info("Removed %d work folders of video workers that are gone", len(removed))
    return removed


def start_in_process(lib: Library) -> VideoWorker | None:
    """The workers of the desktop app and `mediadesk serve` (MEDIADESK_WORKERS; 0 = none)."""
    if lib.settings.workers <= 0:
        return None
    return VideoWorker(lib, lib.settings.workers).start()
