"""Runs the upload queue: walks dropped folders, then sniffs and ingests files in a bounded pool."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from PySide6.QtCore import QObject, QTimer, Signal

from core.errors import (
    Cancelled,
    NotFound,
    StorageNotAsked,
    StorageUnavailable,
    UploadGone,
    passing_outage,
)
from core.filenames import clean_filename, local_name, readable_name
from core.library import Library
from core.mediatypes import sniff_file
from core.natsort import natural_key
from core.records import FileRecord
from desktop_app.errors import describe_error, error_from_record, error_record, retry_in
from desktop_app.models.upload_queue_model import (
    NewRow,
    UploadItem,
    UploadQueueModel,
    UploadState,
    source_key,
)
from desktop_app.upload_persistence import (
    DISCARD,
    WALK,
    QueueJournal,
    SavedRow,
    checkpoint,
    journal_file,
    load_queue,
    new_key,
    queue_file,
    restore_queue,
)
from desktop_app.workers import TaskRunner

logger = logging.getLogger(__name__)

PROGRESS_INTERVAL = 0.08  # seconds between progress reports of one file
# A row paused because the storage could not be reached is tried again after this long,
# doubling up to RETRY_MAX, or after the wait the failure asks for when longer (retry_in): a
# network that comes back resumes the upload by itself.
RETRY_FIRST, RETRY_MAX = 15_000, 300_000  # ms
# states a row's waits end with (a paused row's go on into its next pause)
_ENDED = frozenset(
    s.value
    for s in (UploadState.DONE, UploadState.DUPLICATE, UploadState.FAILED, UploadState.CANCELLED)
)
COARSE_SLACK = 1.06  # a coarse QTimer (2 s and more) may fire 5 % early: set this much later
SAVE_DELAY = 500  # ms: bursts of changes are saved once
# ...but a long busy import (changes never pausing for SAVE_DELAY) is still saved this often,
# so a crash in the middle of it loses little of the queue.
SAVE_MAX_DELAY = 5.0  # s
# A finished row is in the journal (upload_persistence) at once, and on disk (one append and
# fsync for all the rows finished meanwhile) at most this long after.
JOURNAL_DELAY = 100  # ms
# A restored row's "duplicate" is its own upload, from the run that was stopped before it saved
# the result, when the library got the file after the row was queued (this slack of clock).
CLOCK_SLACK = 2.0  # s
# Closing the app waits this long at most for the uploads of removed or cancelled rows to be
# dropped; what is left is dropped at the next start (the saved queue's "discard" rows).
DISCARD_WAIT_MS = 4000
# A row's own file failing so is no outage: the row fails (UploadController._source_unusable)
_SOURCE_UNUSABLE = (FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError)


def catalog_name(path: Path) -> str:
    """The name an imported local file is stored under: core.filenames.local_name, the rule
    the client's uploads follow too (a backslash in it is stored as U+2216)."""
    return local_name(path.name)


# A folder walk hands its files to the queue this often: on a slow or network disk (a stat per
# file) the rows appear, and the first files upload, while the rest is still being read.
WALK_BATCH = 0.25  # s
# Closing the app waits this long for a walk to see its cancel (it stops between two files; a
# disk that hangs longer is left behind, and the folder is read again at the next start)
WALK_WAIT_MS = 1000
# Found files join the queue this many at a time, the event loop running between two chunks:
# a thousand-file drop added at once froze the window for seconds.
ENQUEUE_CHUNK = 200


def expand_paths(
    paths: Iterable[Path], unreadable: list[OSError] | None = None
) -> list[tuple[Path, int]]:
    """Files as given and the files inside folders (walked in natural order, hidden skipped);
    folders that cannot be read are added to `unreadable`, if given.

    Natural order is what a file manager shows: game_5 before game_10.
    """
    return [found for found in iter_paths(paths, unreadable) if found is not FOLDER_READ]


# What iter_paths yields once a folder's files are all found, before it reads the next folder
# (which may be the one a network disk hangs on)
FOLDER_READ = (Path(), -1)


def iter_paths(
    paths: Iterable[Path], unreadable: list[OSError] | None = None
) -> Iterator[tuple[Path, int]]:
    """expand_paths one file at a time, with FOLDER_READ after each folder's files."""
    for path in paths:
        path = Path(path)
        if path.is_dir():
            # Linked folders are walked, as the file manager shows them, each real folder once
            # (a link back up would loop)
            seen: set[str] = set()
            for folder, dirs, files in os.walk(
                path,
                onerror=unreadable.append if unreadable is not None else None,
                followlinks=True,
            ):
                real = os.path.realpath(folder)
                if real in seen:
                    dirs[:] = []
                    continue
                seen.add(real)
                dirs[:] = sorted((d for d in dirs if not d.startswith(".")), key=natural_key)
                for name in sorted(files, key=natural_key):
                    if not name.startswith("."):
                        yield _with_size(Path(folder, name))
                yield FOLDER_READ
        else:
            yield _with_size(path)


def _walk(
    paths: list[Path], cancel: threading.Event, report: Callable[..., None]
) -> tuple[list[tuple[Path, int]], list[OSError]]:
    """Reports the files to queue in batches as they are found, and returns the last batch and
    the folders that could not be read (walker thread). Stops between two files once `cancel`
    is set."""
    unreadable: list[OSError] = []
    batch: list[tuple[Path, int]] = []
    last = time.monotonic()
    for found in iter_paths(paths, unreadable):
        if cancel.is_set():
            raise Cancelled("Reading the dropped folders was stopped")
        if found is not FOLDER_READ:
            batch.append(found)
        if batch and (found is FOLDER_READ or time.monotonic() - last >= WALK_BATCH):
            report(batch)
            batch, last = [], time.monotonic()
    return batch, unreadable


class _Walk:
    """A drop still being read (GUI thread). `queued_at` and `resumed` are those of a walk
    started again at the start after the app closed in the middle of it."""

    def __init__(
        self, paths: list[Path], athlete_id: int | None, queued_at: float | None = None
    ) -> None:
        self.paths, self.athlete_id = paths, athlete_id
        self.cancel = threading.Event()
        self.resumed = queued_at is not None
        self.queued_at = time.time() if queued_at is None else queued_at
        # Found but not queued yet (_enqueue adds them a chunk at a time); the walk stays
        # saved as one to read again until they are all in, and ends after its last file
        self.found: deque[tuple[Path, int]] = deque()
        self.unreadable: list[OSError] = []
        self.read = False  # the walker has finished (or failed)
        self.error: BaseException | None = None
        # Files of this drop not queued because a row of theirs is still to send
        self.repeated: list[Path] = []


def _with_size(path: Path) -> tuple[Path, int]:
    try:
        return path, path.stat().st_size
    except OSError:
        return path, 0


# What a big row waits on before it is sent: its size and athlete (UploadController._gate)
_Gate = tuple[int, int | None]


class _Upload(NamedTuple):
    """What the worker needs of a row, copied in the GUI thread when the row is submitted
    (the model changes its rows while the worker runs)."""

    path: Path
    size: int
    athlete_id: int | None
    upload_id: str | None
    cancel: threading.Event
    key: str  # the row's name in the queue's journal


class _Throttle:
    """Passes progress on at most every PROGRESS_INTERVAL, yet always each stage, end, 5 % step,
    and a step back (a pause abandoned a part: the row shows what is stored).

    Each report carries the time it was made: a busy window's thread takes a backlog of them at
    once, and timed on arrival they read as a long wait with few bytes followed by a burst
    (a steady 5 MiB/s upload showed 211 KiB/s and an hour left)."""

    def __init__(self, report: Callable[..., None]) -> None:
        self._report = report
        self._last = (0.0, "", 0)

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        last_time, last_stage, last_done = self._last
        if (
            stage != last_stage
            or now - last_time >= PROGRESS_INTERVAL
            or done >= total
            or done < last_done
            or (total > 0 and done - last_done >= total / 20)
        ):
            self._last = (now, stage, done)
            self._report("progress", stage, done, total, now)


def _upload(
    library: Library, item: _Upload, journal: QueueJournal | None, report: Callable[..., None]
) -> FileRecord:
    """Sends one file and notes the outcome in the journal as soon as it is known (worker
    thread): a result that never reaches the window (the app closing) is not lost."""

    def created(upload_id: str) -> None:
        if journal is not None:
            journal.record(item.key, upload_id=upload_id)
        report("upload_id", upload_id)

    record = _send(library, item, created, report)
    if journal is not None:
        state = "duplicate" if record.duplicate else "done"
        journal.record(item.key, state=state, file_id=record.id)
    return record


def _send(
    library: Library,
    item: _Upload,
    created: Callable[[str], None],
    report: Callable[..., None],
) -> FileRecord:
    """Sniffs and stores one file (worker thread); reports ("state", UploadState),
    ("progress", stage, done, total, monotonic time) and ("upload_id", id) on the way."""
    if item.cancel.is_set():
        raise Cancelled("Cancelled before it started")
    report("state", UploadState.VALIDATING)
    # a refusal names this library's types, not every one MediaDesk knows (MPEG-TS is known
    # but accepted only where ALLOWED_VIDEO_TYPES names it)
    settings = library.settings
    media = sniff_file(item.path, [*settings.allowed_image_types, *settings.allowed_video_types])
    progress = _Throttle(report)
    if item.upload_id or item.size > library.settings.resumable_threshold:
        # A big file whose bytes the library already holds ends here, nothing sent: sent in
        # parts, it met the duplicate rule only at its end, after gigabytes over the link.
        # Hashed first only when a ready file of its size is filed for the athlete (core).
        # A row with an upload in parts already has bytes in the store: its end answers it.
        known = (
            None
            if item.upload_id
            else library.uploads.known_duplicate(
                item.path,
                original_filename=catalog_name(item.path),
                athlete_id=item.athlete_id,
                progress=progress,
                cancel=item.cancel,
            )
        )
        if known is not None:
            return known
        # Big files go in parts that survive a pause, a restart or a network outage
        return library.resumable.send_file(
            item.path,
            media.kind,
            upload_id=item.upload_id,
            original_filename=catalog_name(item.path),
            athlete_id=item.athlete_id,
            progress=lambda stage, done, total: progress(
                "sending" if stage == "uploading" else stage, done, total
            ),
            cancel=item.cancel,
            on_created=created,
        )
    return library.uploads.ingest(
        item.path,
        media.kind,
        original_filename=catalog_name(item.path),
        athlete_id=item.athlete_id,
        progress=progress,
        cancel=item.cancel,
    )


def _discard_upload(
    library: Library, upload_id: str, journal: QueueJournal | None, key: str
) -> None:
    """Drops a cancelled or removed row's resumable upload (worker thread): its bytes here and
    its multipart upload in the bucket, which otherwise waited for the 7-day expiry. Once it
    is gone the journal says so: the row's "discard" record is not tried again at start."""
    with contextlib.suppress(NotFound, UploadGone):  # already gone: expired or swept
        library.resumable.terminate(upload_id, owner="desktop")
    if journal is not None:
        journal.record(key, state="removed")


class UploadController(QObject):
    """Owns the queue model; at most `max_parallel` files are ingested at the same time."""

    uploaded = Signal(object)  # FileRecord of a new file
    # A row whose bytes were already in the library: (the row's name, the library file's).
    # Sent as `uploaded`, it had the status bar say "Uploaded sprint_50.jpg" for a dropped
    # carpeta_sprint_50.jpg that was not uploaded at all. Both are the library's name when the
    # row's file would have been stored under that very name (the rule of catalog_name).
    duplicate = Signal(str, str)
    # A drop's files that a row still to send (queued, running, paused) already holds, said in
    # one sentence when the drop is all read: they are not queued again. Dropped twice by
    # mistake, a folder of match recordings was sent twice over the club's link.
    already_queued = Signal(str)
    # ...and the ids of the rows that hold them, which the queue selects and scrolls to
    already_queued_rows = Signal(list)
    idle = Signal()  # every row finished

    def __init__(
        self,
        library: Library,
        max_parallel: int = 2,
        parent: QObject | None = None,
        persist: bool = True,
    ) -> None:
        super().__init__(parent)
        self.library = library
        self.model = UploadQueueModel(self)
        self._uploads = TaskRunner(max_threads=max_parallel, parent=self)
        self._walker = TaskRunner(max_threads=1, parent=self)
        self._walks: list[_Walk] = []  # drops still being read, oldest first
        self._enqueue_due = False  # a chunk of found files is to queue (_enqueue)
        self._running = 0
        self._closing = False
        # item id -> ms of its last automatic wait, and what of the row the store held then
        self._retry_wait: dict[int, tuple[int, float]] = {}
        self._auto_resumed: set[int] = set()  # rows tried again by _auto_resume, not by hand
        # item id -> the turn of the row's live retry timer: a timer set before the row's
        # latest wait, or before a Resume by hand, finds another turn and does nothing
        self._timers: dict[int, int] = {}
        self._turns = 0
        # item id -> the turn of the row's worker attempt that speaks for it. A row paused
        # while its attempt waited for a worker, and resumed, has a newer one: the old one,
        # stopped at its start, made the row Cancelled while the new one sent it.
        self._attempts: dict[int, int] = {}
        # the turn of an attempt that made an upload in parts once a newer attempt spoke for
        # its row -> the key of that upload's "discard" row: dropped once that worker stops
        self._superseded: dict[int, str] = {}
        # Files this run's rows uploaded: another restored row with the same bytes is a duplicate
        self._claimed: set[int] = set()
        # A big row goes to its worker only once no other row of its size and athlete is being
        # sent: (size, athlete) -> the item id and turn of the row sending, and the rows held
        # behind it, in order (_submit). Two paths to the same recording dropped together were
        # both sent in full, over the club's link, before the second met the duplicate rule.
        self._sending: dict[_Gate, tuple[int, int]] = {}
        self._held: dict[_Gate, dict[int, None]] = {}  # in the order held
        self._held_at: dict[int, _Gate] = {}  # item id -> what it waits on
        # The queue file and its journal are read and written off the GUI thread, in order, by
        # a thread of their own (a long folder walk does not hold a save back)
        self._queue_file = queue_file(library.paths.data_dir) if persist else None
        self._journal = (
            QueueJournal(journal_file(self._queue_file)) if self._queue_file is not None else None
        )
        self._disk = TaskRunner(max_threads=1, parent=self)
        self._cleanup = TaskRunner(max_threads=1, parent=self)
        # Rows removed while a worker still ran: item id -> the row's key. Their resumable
        # upload is dropped once the worker has stopped and let go of it.
        self._removed: dict[int, str] = {}
        # Uploads to drop, by the key of the row they were sent for (None: a removed row's
        # worker has not reported one yet). Saved as "discard" rows until dropped, so that
        # closing the app (or a crash) first leaves them to the next start, not to the expiry.
        self._discards: dict[str, str | None] = {}
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(SAVE_DELAY)
        self._save_timer.timeout.connect(self._save)
        self._save_due = 0.0  # monotonic time by which the pending save must run
        self._journal_timer = QTimer(self)
        self._journal_timer.setSingleShot(True)
        self._journal_timer.setInterval(JOURNAL_DELAY)
        self._journal_timer.timeout.connect(self._flush_journal)
        self.model.stateChanged.connect(self._state_changed)
        # Until the saved queue is read back, a save would leave its rows out
        self._restoring = self._queue_file is not None
        if self._queue_file is not None and self._journal is not None:
            self._running += 1
            self._disk.submit(
                restore_queue,
                self._queue_file,
                self._journal,
                on_result=self._restore,
                on_error=self._restore_failed,
            )

    def add_paths(self, paths: Iterable[Path], athlete_id: int | None = None) -> None:
        """Queues files and the contents of folders; walking happens off the GUI thread."""
        self._start_walk(_Walk([Path(p) for p in paths], athlete_id))

    def _start_walk(self, walk: _Walk) -> None:
        self._running += 1
        self._walks.append(walk)
        self._walker.submit(
            _walk,
            walk.paths,
            walk.cancel,
            on_report=lambda batch: self._found(walk, batch),
            on_result=lambda found: self._walk_read(walk, *found),
            on_error=lambda exc: self._walk_read(walk, [], [], exc),
        )
        # the drop is on disk at once (as a walk to do again), not after the next quiet moment
        # of a busy import (SAVE_MAX_DELAY): a crash or a close right after it loses nothing
        self._save_timer.stop()
        self._save()

    def _found(self, walk: _Walk, files: list[tuple[Path, int]]) -> None:
        walk.found.extend(files)
        self._schedule_enqueue()

    def _walk_read(
        self,
        walk: _Walk,
        files: list[tuple[Path, int]],
        unreadable: list[OSError],
        exc: BaseException | None = None,
    ) -> None:
        walk.found.extend(files)
        walk.unreadable, walk.read, walk.error = unreadable, True, exc
        self._schedule_enqueue()

    def _schedule_enqueue(self) -> None:
        if not self._enqueue_due:
            self._enqueue_due = True
            QTimer.singleShot(0, self, self._enqueue)

    def _enqueue(self) -> None:
        """Queues the next chunk of found files, then lets the event loop run before the next
        one; a walk whose files are all in ends."""
        self._enqueue_due = False
        room = ENQUEUE_CHUNK
        for walk in list(self._walks):
            if walk.cancel.is_set():
                walk.found.clear()  # found before Cancel all stopped the walk: not queued
            if walk.found and room:
                take = min(room, len(walk.found))
                self._add_found(walk, [walk.found.popleft() for _ in range(take)])
                room -= take
            if walk.read and not walk.found:
                self._walk_done(walk)
        if any(walk.found for walk in self._walks):
            self._schedule_enqueue()

    def _add_found(self, walk: _Walk, files: list[tuple[Path, int]]) -> None:
        # a walk read again at start skips the rows the close saved; the files it stored are
        # told apart from real duplicates by its queue time (_own_earlier_upload)
        queued = {str(item.path) for item in self.model.items()} if walk.resumed else set()
        rows: list[NewRow] = []
        taken: set[str] = set()  # of this chunk (a folder dropped with a file inside it)
        for path, size in files:
            if walk.resumed:
                if str(path) not in queued:
                    rows.append(NewRow(path, size, walk.athlete_id, None, walk.queued_at, True))
                continue
            source = source_key(path)
            if source in taken or self.model.pending_source(source):
                walk.repeated.append(path)
                continue
            taken.add(source)
            rows.append(NewRow(path, size, walk.athlete_id))
        for item in self.model.add_many(rows):
            self._submit(item)
        if rows:
            self._schedule_save()  # one save for the chunk (and the next ones, if quick)

    def _walk_done(self, walk: _Walk) -> None:
        self._running -= 1
        if not walk.cancel.is_set():
            for error in walk.unreadable:
                # a folder whose files were left out says so in a failed row (the walk went on)
                folder = Path(os.fsdecode(error.filename)) if error.filename else Path()
                self._fail(self.model.add(folder, 0, walk.athlete_id).id, error)
            self._say_repeated(walk.repeated)
        self._walks.remove(walk)
        if walk.error is not None and not isinstance(walk.error, Cancelled):
            logger.warning("Could not read dropped folders: %s", walk.error)
        self._save_timer.stop()
        self._save()  # the walk row goes, the last rows come
        self._check_idle()

    def _say_repeated(self, repeated: list[Path]) -> None:
        if repeated:
            ids = self.model.pending_ids({source_key(path) for path in repeated})
            if ids:
                self.already_queued_rows.emit(ids)
        if len(repeated) == 1:
            name = readable_name(repeated[0].name)  # as its row shows it
            text = self.tr("“%1” is already in the upload queue: not added again.")
            self.already_queued.emit(text.replace("%1", name))
        elif repeated:
            self.already_queued.emit(
                self.tr(
                    "%Ln files are already in the upload queue: not added again.", "", len(repeated)
                )
            )

    def _gate(self, item: UploadItem) -> _Gate | None:
        """What a row waits on before it is sent: a big file's size and athlete, the catalog's
        own first test of the duplicate rule (Catalog.holds_size, in known_duplicate; the
        desktop's files are never public). None for a row the early check does not ask: a
        small file, or one with an upload in parts, whose end answers it."""
        if item.upload_id or item.size <= self.library.settings.resumable_threshold:
            return None
        return item.size, item.athlete_id

    def _submit(self, item: UploadItem) -> None:
        item_id = item.id
        # a row paused or cancelled before it went ends in its worker at once: it waits on none
        gate = None if item.cancel.is_set() else self._gate(item)
        if gate is not None:
            sending = self._sending.get(gate)
            if sending is not None and sending[0] != item_id:
                # The one being sent may be these very bytes: once it is stored, this row's
                # early check (core's rule) finds it and sends nothing. Another file of the
                # same size only waits its turn. The row stays Queued; the rows it waits for
                # are not held up, nor are those of other sizes.
                if item_id not in self._held_at:
                    self._held.setdefault(gate, {})[item_id] = None
                    self._held_at[item_id] = gate
                    self._running += 1
                return
        self._turns += 1
        turn = self._attempts[item_id] = self._turns
        if gate is not None:
            self._sending[gate] = (item_id, turn)
        self._running += 1
        self._uploads.submit(
            _upload,
            self.library,
            _Upload(item.path, item.size, item.athlete_id, item.upload_id, item.cancel, item.key),
            self._journal,
            on_report=lambda kind, *args: self._reported(item_id, turn, kind, *args),
            on_result=lambda record: self._sent(item_id, record, gate, turn),
            on_error=lambda exc: self._sent(item_id, exc, gate, turn),
        )

    def _reported(self, item_id: int, turn: int, kind: str, *args: Any) -> None:
        if self._attempts.get(item_id) == turn:  # (an older attempt's news is not the row's)
            self._on_report(item_id, kind, *args)
        elif kind == "upload_id":
            self._supersede(item_id, turn, str(args[0]))

    def _supersede(self, item_id: int, turn: int, upload_id: str) -> None:
        """An upload in parts made by an attempt that began before its row was paused (the row
        still read Queued) and resumed: the newer attempt sends the file in one of its own, and
        this one, which no row names, waited with its bytes here and its multipart upload in the
        bucket for the day-old sweep. It is a "discard" row on disk at once, dropped once its
        worker has let go of it (_sent)."""
        key = self._superseded[turn] = new_key()
        self._discards[key] = upload_id
        if self._journal is not None and not self._closing:
            self._journal.record(key, upload_id=upload_id)
            self._journal.record(key, state=DISCARD)
            # its worker noted it as the row's: the row's own upload, when it has one, again
            item = self.model.item(item_id)
            if item is not None and item.upload_id is not None:
                self._journal.record(item.key, upload_id=item.upload_id)
            self._schedule_flush()
        self._schedule_save()

    def _sent(self, item_id: int, result: object, gate: _Gate | None, turn: int) -> None:
        superseded = self._superseded.pop(turn, None)
        if superseded is not None:
            upload_id = self._discards.get(superseded)
            if isinstance(result, FileRecord) or upload_id is None:
                self._discards.pop(superseded, None)  # it became the file: nothing to drop
                self._forget(superseded)
            else:
                self._drop_upload(superseded, upload_id)
        if self._attempts.get(item_id) == turn:
            del self._attempts[item_id]
            self._on_finished(item_id, result)
        elif isinstance(result, FileRecord):
            self._on_finished(item_id, result)  # stored before it saw its pause: it is news
        else:
            # an attempt paused before its worker began, the row resumed since: the newer
            # attempt says how the row ends
            self._running -= 1
            self._check_idle()
        if gate is not None and self._sending.get(gate) == (item_id, turn):
            # (a row paused and resumed before its worker began has a later turn: its first
            # worker's Cancelled ends nothing)
            del self._sending[gate]
            self._release(gate)

    def _release(self, gate: _Gate) -> None:
        """Sends the row held longest behind a size and athlete (closing: it stays queued, and
        is saved so)."""
        held = self._held.get(gate)
        if not held or self._closing:
            return
        item_id = next(iter(held))
        self._unhold(item_id)
        item = self.model.item(item_id)
        if item is not None:
            self._submit(item)  # it takes the gate: the next one waits on it
        self._check_idle()

    def _unhold(self, item_id: int) -> bool:
        """Lets go of a row held behind another: sent now, or paused, cancelled or removed."""
        gate = self._held_at.pop(item_id, None)
        if gate is None:
            return False
        held = self._held[gate]
        del held[item_id]
        if not held:
            del self._held[gate]
        self._running -= 1
        return True

    def _on_report(self, item_id: int, kind: str, *args: Any) -> None:
        if item_id in self._removed:
            if kind == "upload_id":  # created before the worker saw the cancel
                self._discards[self._removed[item_id]] = str(args[0])
                self._schedule_save()
            return
        if kind == "upload_id":
            self.model.set_upload_id(item_id, str(args[0]))
            self._schedule_flush()  # the worker noted it in the journal
            self._schedule_save()
        elif kind == "progress":
            stage, done, total, made_at = args
            self.model.set_progress(item_id, stage, done, total, now=made_at)
        else:
            self.model.set_state(item_id, *args)

    def _on_finished(self, item_id: int, result: object) -> None:
        self._running -= 1
        key = self._removed.pop(item_id, None)  # of a row removed while it ran
        if key is not None:
            upload_id = self._discards.pop(key, None)
            if upload_id is not None and not isinstance(result, FileRecord):
                # the worker has let go of it (a file it stored before seeing the cancel stays)
                self._drop_upload(key, upload_id)
            else:
                self._forget(key)
        if isinstance(result, FileRecord):
            self._schedule_flush()  # the worker noted the outcome in the journal
            item = self.model.item(item_id)
            duplicate = result.duplicate and not (
                item is not None and self._own_earlier_upload(item, result)
            )
            if not duplicate:
                self._claimed.add(result.id)
            state = UploadState.DUPLICATE if duplicate else UploadState.DONE
            self.model.set_state(item_id, state, file_id=result.id)
            if not duplicate:
                self.uploaded.emit(result)
            elif (
                item is None or clean_filename(catalog_name(item.path)) == result.original_filename
            ):
                self.duplicate.emit(result.original_filename, result.original_filename)
            else:
                self.duplicate.emit(item.name, result.original_filename)
        elif isinstance(result, Cancelled):
            item = self.model.item(item_id)
            paused = item is not None and (item.pause_requested or self._closing)
            self.model.set_state(item_id, UploadState.PAUSED if paused else UploadState.CANCELLED)
            if not paused:
                self._discard(item_id)  # the worker has let go of it now
        elif isinstance(result, OSError) and self._source_unusable(item_id, result):
            # The file itself is gone (deleted, moved) or cannot be read any more: no wait
            # brings it back. The row fails (Retry once it is back) and its upload goes, its
            # parts here and in the bucket: it waited Paused, retried at every start, until
            # the 7-day expiry
            self._fail(item_id, result)
            self._drop_failed(item_id)
        elif isinstance(result, BaseException) and (
            passing_outage(result)
            or (isinstance(result, StorageUnavailable | OSError) and self._resumable(item_id))
        ):
            # Wait for the storage (or the catalog, or its disk pulled out) and go on by itself:
            # a row in parts from the bytes sent so far, any other from the start. A pulled USB
            # disk failed every queued import at once, each to be retried by hand.
            self._wait(item_id, result)
        elif isinstance(result, BaseException):
            self._fail(item_id, result)
        self._check_idle()

    def _wait(self, item_id: int, exc: BaseException) -> None:
        """Pauses a row the storage stopped; it is tried again later (_retry_later)."""
        message = describe_error(exc)
        text = message.text
        if isinstance(exc, StorageUnavailable) and exc.reason == "catalog_disk_unreachable":
            # describe_error ends with "then try again": this row goes on by itself
            text = self.tr(
                "The disk holding the library (%1) cannot be read or written: it was "
                "unplugged, or the network share is gone. Connect it again; the upload goes "
                "on by itself."
            ).replace("%1", str(exc.details.get("folder") or ""))
        self.model.set_state(item_id, UploadState.PAUSED, text, detail=message.detail)
        if not self._resumable(item_id):
            self.model.show_stored(item_id, 0.0)  # a file not in parts starts again from nothing
        self._retry_later(item_id, exc)

    def _fail(self, item_id: int, exc: BaseException) -> None:
        message = describe_error(exc)
        self.model.set_state(item_id, UploadState.FAILED, message.text, detail=message.detail)
        item = self.model.item(item_id)
        if item is not None:
            item.error = error_record(exc)  # kept on disk: said again in the next start's language

    def _source_unusable(self, item_id: int, exc: OSError) -> bool:
        """Whether a row's failure is its own file's: gone, or no longer a file it may read
        (not the data folder's or the storage's, which are outages that pass)."""
        item = self.model.item(item_id)
        if item is None or not isinstance(exc, _SOURCE_UNUSABLE) or exc.filename is None:
            return False
        return Path(os.fsdecode(exc.filename)) == item.path

    def _drop_failed(self, item_id: int) -> None:
        """Drops the upload of a row that failed for good; the row stays, failed. The drop
        has a key of its own on disk: the row's would say the row is gone once it is done."""
        item = self.model.item(item_id)
        if item is None or item.upload_id is None:
            return
        upload_id, item.upload_id = item.upload_id, None
        key = new_key()
        if self._journal is not None and not self._closing:
            self._journal.record(item.key, upload_id=None)  # a Retry starts a new upload
            self._journal.record(key, upload_id=upload_id)  # the "discard" row's upload
        self._drop_upload(key, upload_id)

    def _own_earlier_upload(self, item: UploadItem, record: FileRecord) -> bool:
        """Whether a restored row's "duplicate" is the file that row itself uploaded in the run
        that was stopped (or killed) before saving the result: it is the same bytes for the
        same athlete (the duplicate rule), under the row's file name, it entered the library
        after the user queued the row, and no other row of this run claimed it. A real
        duplicate (the bytes were in the library before the row was queued) stays one."""
        if not item.restored or record.id in self._claimed:
            return False
        if record.original_filename != clean_filename(catalog_name(item.path)):
            return False
        if item.queued_at is None:  # saved by a version that did not note it
            return True
        return record.created_at.timestamp() >= item.queued_at - CLOCK_SLACK

    def _resumable(self, item_id: int) -> bool:
        item = self.model.item(item_id)
        return item is not None and item.upload_id is not None

    def _retry_later(self, item_id: int, exc: BaseException) -> None:
        # a store throttling, failing inside or out of reach says when to ask it again (its
        # Retry-After, core's quiet window): asked before, it only refuses the row again
        said = retry_in(exc)
        item = self.model.item(item_id)
        stored = item.fraction if item is not None else 0.0
        kept = self._retry_wait.get(item_id)
        # a row in parts the store took more of since its last wait starts its back-off again:
        # an hour-long upload over a link that drops now and then was left waiting the longest
        # wait after a few drops hours apart, every part between them stored
        moved = kept is not None and stored > kept[1] and self._resumable(item_id)
        last = kept[0] if kept is not None and not moved else None
        automatic = item_id in self._auto_resumed
        self._auto_resumed.discard(item_id)
        if last is not None and not automatic:
            # A Resume by hand: the row's waits start over (README: 15 s, then doubling); it
            # went on doubling the waits before it. But one core kept from the store (inside
            # its window, or the store's own Retry-After) keeps its wait: the store refused
            # nothing more, so it does not grow (a 2 s Retry-After and a Resume inside it was
            # 2 + 4 s), nor shrink. An automatic try still backs off: rows kept to the
            # window's end would all ask the store then
            delay = last if isinstance(exc, StorageNotAsked) else RETRY_FIRST
        else:
            delay = min(last * 2, RETRY_MAX) if last is not None else RETRY_FIRST
        if said is not None:
            delay = max(delay, said * 1000)
        self._retry_wait[item_id] = (delay, stored)
        logger.info("Upload paused, tried again in %.1f s: %s", delay / 1000, exc)
        # Qt's timer for 2 s and more is coarse, up to 5 % early: it fired inside the window
        # the store or core said to wait out. Set past it instead (a QTimer object of our own
        # with a precise type crashed PySide once its wrapper was gone and it fired)
        self._turns += 1
        turn = self._timers[item_id] = self._turns
        QTimer.singleShot(
            int(delay * COARSE_SLACK) + 1, self, lambda: self._auto_resume(item_id, turn)
        )

    def _auto_resume(self, item_id: int, turn: int) -> None:
        if self._closing:  # the queue is saved with the row paused: the next start resumes it
            return
        if self._timers.get(item_id) != turn:
            # set before a Resume by hand, or before the row's latest wait: it tried the row
            # again before that wait was over, and doubled it once more
            return
        del self._timers[item_id]
        item = self.model.item(item_id)
        if item is not None and item.state == UploadState.PAUSED and item.reason:
            self._auto_resumed.add(item_id)
            # only rows the storage paused; a user's pause stays
            self._submit_again(self.model.resume(item_id))

    def _check_idle(self) -> None:
        if self._running == 0:
            self.idle.emit()

    @property
    def busy(self) -> bool:
        return self._running > 0

    # ---- user actions -------------------------------------------------------------------------
    def cancel(self, item_id: int) -> None:
        item = self.model.item(item_id)
        paused = item is not None and item.state == UploadState.PAUSED
        if self.model.cancel(item_id) and paused:
            self._discard(item_id)  # no worker holds it: a running row's goes when it stops

    def cancel_all(self) -> None:
        """Cancels every row still to do, paused ones too, and stops reading the drops."""
        for walk in self._walks:
            walk.cancel.set()
        self.cancel_many([item.id for item in self.model.items()])

    def cancel_many(self, item_ids: Iterable[int]) -> int:
        with self.model.batch():
            return self._each(list(item_ids), self.cancel)

    def pause(self, item_id: int) -> None:
        self.model.pause(item_id)

    def pause_many(self, item_ids: Iterable[int]) -> int:
        with self.model.batch():
            return self._each(list(item_ids), self.pause)

    def pause_all(self) -> int:
        return self.pause_many(item.id for item in self.model.items() if item.state.active)

    def resume_many(self, item_ids: Iterable[int]) -> int:
        with self.model.batch():
            return self._each(list(item_ids), self.resume)

    def resume(self, item_id: int) -> None:
        """Resumes a paused row by hand: its retry timer, if any, is void, and a wait it meets
        again starts over (_retry_later)."""
        self._timers.pop(item_id, None)
        self._auto_resumed.discard(item_id)
        self._submit_again(self.model.resume(item_id))

    def resume_all(self) -> int:
        return self.resume_many(self.model.paused_ids())

    def retry(self, item_id: int) -> None:
        before = self.model.item(item_id)
        old_key = before.key if before is not None else ""
        item = self.model.retry(item_id)
        if item is not None and self._journal is not None and not self._closing:
            # The retry names the row anew: a crash before the next save of the queue must
            # neither bring the old failure back nor miss this attempt's end in the journal
            self._journal.record(old_key, retried_as=item.key, queued_at=item.queued_at)
            self._schedule_flush()
        self._submit_again(item)

    def retry_failed(self) -> int:
        """Puts every failed row back in the queue; returns how many."""
        return self.retry_many(self.model.failed_ids())

    def retry_many(self, item_ids: Iterable[int]) -> int:
        with self.model.batch():
            return self._each(list(item_ids), self.retry)

    def _submit_again(self, item: UploadItem | None) -> None:
        if item is not None:  # None: the row had gone or was in no state to go again
            self._submit(item)

    @staticmethod
    def _each(item_ids: list[int], action: Callable[[int], None]) -> int:
        for item_id in item_ids:
            action(item_id)
        return len(item_ids)

    def remove(self, item_id: int) -> None:
        item = self.model.item(item_id)
        held = self._unhold(item_id)  # no worker holds it: it goes as a row that ended
        if item is not None and (held or not item.state.active):
            self._note_gone(item_id, "removed")
            self._discard(item_id)
        elif item is not None:
            # its worker (or the one it waits for) still holds the upload: dropped when it
            # stops; until then the row is on disk as one whose upload is to drop
            self._removed[item_id] = item.key
            self._discards[item.key] = item.upload_id
            self._note_gone(item_id, DISCARD)
        self.model.remove(item_id)
        self._settled(item_id)
        self._schedule_save()
        if held:
            self._check_idle()

    def remove_many(self, item_ids: Iterable[int]) -> int:
        with self.model.batch():
            return self._each(list(item_ids), self.remove)

    def clear_finished(self) -> None:
        self.model.clear_finished()

    def _discard(self, item_id: int) -> None:
        """Drops the resumable upload of a row that will not go on (not of a stored file)."""
        item = self.model.item(item_id)
        if item is None or item.upload_id is None:
            return
        if item.state in (UploadState.DONE, UploadState.DUPLICATE):
            return  # the upload became the file: nothing is left over
        upload_id, item.upload_id = item.upload_id, None
        self._drop_upload(item.key, upload_id)

    def _drop_upload(self, key: str, upload_id: str) -> None:
        """Drops an upload off the GUI thread; it stays a "discard" row on disk until done."""
        self._discards[key] = upload_id
        if self._journal is not None and not self._closing:
            self._journal.record(key, state=DISCARD)
            self._schedule_flush()
        self._schedule_save()
        if self._closing:
            return  # shutdown drops what is left, for a few seconds; the next start the rest
        self._cleanup.submit(
            _discard_upload,
            self.library,
            upload_id,
            self._journal,
            key,
            on_result=lambda _none: self._dropped(key, upload_id),
            on_error=lambda exc: logger.warning("Could not drop upload %s: %s", upload_id, exc),
        )

    def _dropped(self, key: str, upload_id: str) -> None:
        if self._discards.get(key) == upload_id:
            del self._discards[key]
        self._schedule_flush()  # the worker noted it in the journal
        self._schedule_save()

    def _forget(self, key: str) -> None:
        """A removed row with no upload left to drop: its "discard" record goes."""
        if self._journal is not None and not self._closing:
            self._journal.record(key, state="removed")
            self._schedule_flush()
        self._schedule_save()

    # ---- the queue on disk ------------------------------------------------------------------
    def _restore_failed(self, exc: BaseException) -> None:
        self._running -= 1
        self._restoring = False
        logger.warning("Could not read the saved upload queue: %s", exc)

    def _restore(self, rows: list[SavedRow]) -> None:
        self._running -= 1
        self._restoring = False
        walks = [row for row in rows if row.state == WALK]
        for row in rows:
            if row.state == WALK:
                continue  # read again below, once the saved rows are back
            if row.state == DISCARD:  # removed or cancelled before its upload was dropped
                if row.upload_id:
                    self._drop_upload(row.key, row.upload_id)
                else:
                    self._forget(row.key)
                continue
            item = self.model.add(
                Path(row.path),
                row.size,
                row.athlete_id,
                key=row.key,
                queued_at=row.queued_at,
                restored=True,
            )
            item.upload_id = row.upload_id
            if row.upload_id:
                self.model.show_stored(item.id, row.fraction)
            if row.state == "queued":
                self._submit(item)
                continue
            error = error_from_record(row.error)
            if row.state == "failed" and error is not None:
                self._fail(item.id, error)  # in this start's language
            else:
                state = UploadState.PAUSED if row.state == "paused" else UploadState.FAILED
                self.model.set_state(item.id, state, row.reason, detail=row.detail)
        for row in walks:
            self._start_walk(_Walk([Path(row.path)], row.athlete_id, queued_at=row.queued_at))
        if rows:
            self._check_idle()
        if self.model.rowCount():  # also rows added while the saved queue was read
            self._schedule_save()

    def _state_changed(self, item_id: int, state: str) -> None:
        if state != UploadState.QUEUED.value and self._unhold(item_id):
            self._check_idle()  # paused or cancelled while it waited
        if state == UploadState.CANCELLED.value:
            self._note_gone(item_id, state)
        if state in _ENDED:
            self._settled(item_id)
        self._schedule_save()

    def _settled(self, item_id: int) -> None:
        """A row that ended or went: its waits are over (a retry by hand starts from the first
        wait; a long session kept every row's it had ever paused)."""
        self._auto_resumed.discard(item_id)
        self._retry_wait.pop(item_id, None)
        self._timers.pop(item_id, None)

    def _note_gone(self, item_id: int, state: str) -> None:
        """A row the user cancelled or removed is not restored, even after a crash."""
        item = self.model.item(item_id)
        if item is not None and self._journal is not None and not self._closing:
            self._journal.record(item.key, state=state)
            self._schedule_flush()

    def _schedule_flush(self) -> None:
        if self._journal is not None and not self._closing and not self._journal_timer.isActive():
            self._journal_timer.start()

    def _flush_journal(self) -> None:
        if self._journal is not None and self._journal.pending:
            self._disk.submit(self._journal.flush, on_error=self._unsaved)

    def _schedule_save(self) -> None:
        if self._queue_file is None or self._closing:
            return
        now = time.monotonic()
        if not self._save_timer.isActive():
            self._save_due = now + SAVE_MAX_DELAY
        elif now + self._save_timer.interval() / 1000 > self._save_due:
            return  # pushing it back again would pass the deadline: let it fire
        self._save_timer.start()

    def snapshot(self) -> list[SavedRow]:
        """The rows to keep: unfinished ones (running or queued resume at the next start).

        A row that finished is not in it: from then on nothing sends its file again."""
        rows = [
            SavedRow("", 0, state=DISCARD, upload_id=upload_id, key=key)
            for key, upload_id in self._discards.items()
        ]
        rows += [
            SavedRow(str(path), 0, walk.athlete_id, WALK, key=new_key(), queued_at=walk.queued_at)
            for walk in self._walks
            if not walk.cancel.is_set()
            for path in walk.paths
        ]
        for item in self.model.items():
            if item.state.active and item.cancel.is_set() and not item.pause_requested:
                # cancelled, its worker not stopped yet: its upload is to drop, not resumed
                rows.append(SavedRow("", 0, state=DISCARD, upload_id=item.upload_id, key=item.key))
                continue
            if item.state == UploadState.PAUSED:
                # a user's pause stays; a pause the storage caused is tried again at start
                state = "queued" if item.reason else "paused"
            elif item.state == UploadState.FAILED:
                state = "failed"
            elif item.state.active:
                state = "queued"
            else:
                continue
            failed = state == "failed"
            rows.append(
                SavedRow(
                    str(item.path),
                    item.size,
                    item.athlete_id,
                    state,
                    item.upload_id,
                    # a failure core or the system described is said again from its record
                    item.reason if failed and item.error is None else "",
                    item.detail if failed and item.error is None else "",
                    key=item.key,
                    queued_at=item.queued_at,
                    error=item.error if failed else None,
                    # a file not in parts starts again from nothing
                    fraction=item.fraction if item.upload_id else 0.0,
                )
            )
        return rows

    def _save(self) -> None:
        if self._restoring or self._closing:
            return  # saved once the rows are back (_restore), or by shutdown
        if self._queue_file is not None and self._journal is not None:
            upto = self._journal.seq  # the journal entries this snapshot already holds
            self._disk.submit(
                checkpoint,
                self._queue_file,
                self._journal,
                self.snapshot(),
                upto,
                on_error=self._unsaved,
            )

    def _unsaved(self, exc: BaseException) -> None:
        logger.warning("Could not save the upload queue: %s", exc)

    def shutdown(self, wait_ms: int = 10000) -> None:
        """Closing the app pauses the uploads; the queue is saved for the next start.

        Rows still running are saved as queued; those whose worker finishes while the app
        closes noted it in the journal, which is written after the queue and read over it at
        the next start: a file stored during the close is not sent again.
        """
        rows = self.snapshot()  # before the workers stop: running rows are saved as queued
        upto = self._journal.seq if self._journal is not None else 0
        restoring = self._restoring
        self._closing = True
        self._save_timer.stop()
        self._journal_timer.stop()
        for walk in self._walks:
            walk.cancel.set()  # the saved queue reads it again at the next start
        for item in self.model.items():
            item.cancel.set()
        self._walker.shutdown(WALK_WAIT_MS)
        self._uploads.shutdown(wait_ms)
        # The workers have let go of their uploads: those of removed or cancelled rows are
        # dropped now, for a few seconds at most (the worker notes each in the journal, which
        # the save below writes). Any left (a slow store, an id whose report had not arrived)
        # are in the saved queue as "discard" rows, dropped at the next start.
        for row in rows:
            if row.state == DISCARD and row.upload_id:
                self._cleanup.submit(
                    _discard_upload, self.library, row.upload_id, self._journal, row.key
                )
        self._cleanup.shutdown(DISCARD_WAIT_MS, finish_queued=True)
        self._disk.shutdown()  # a save under way ends first; the one below comes last
        if self._queue_file is not None and self._journal is not None:
            try:
                if restoring:  # closed before the saved rows were back: they stay saved
                    rows = load_queue(self._queue_file) + rows
                checkpoint(self._queue_file, self._journal, rows, upto)
            except Exception as exc:
                # The app closes all the same (the window asked it to, and a closeEvent that
                # raised left it gone with "Something unexpected went wrong"): the queue saved
                # last, and the journal, are what the next start finds
                logger.warning(
                    "Could not save the upload queue: %s",
                    exc,
                    exc_info=not isinstance(exc, OSError),
                )
