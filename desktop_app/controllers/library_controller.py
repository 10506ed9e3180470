"""The library controller: sidebar filter, search and sort, edits, trash, links and live updates."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from core.errors import Conflict, MediaDeskError, NotFound, catalog_unreachable
from core.events import ChangeEvent, EventKind
from core.feed import file_record
from core.filenames import disk_name, numbered_name
from core.jobs import JobRecord, JobState
from core.library import Library
from core.links import only_this_machine, share_path, shareable_origin
from core.listing import SORTS
from core.mediatypes import FileKind
from core.query import matches
from core.records import BulkOutcome, FileQuery, FileRecord, FileStatus, Sort
from core.storage.local import fsync_dir
from desktop_app.errors import (
    ErrorMessage,
    as_change,
    describe_error,
    describe_failure,
    error_from_record,
    job_reason,
    retry_in,
    with_duplicate_name,
)
from desktop_app.formatting import number_text
from desktop_app.live import LiveEvents
from desktop_app.models.file_grid_model import FileGridListModel
from desktop_app.models.sidebar_model import SidebarFilter, SidebarModel
from desktop_app.models.thumbnails import ThumbnailLoader
from desktop_app.workers import TaskRunner

logger = logging.getLogger(__name__)

SidebarRefresh = tuple[dict[str, int], list[Any]]
PREVIEW_URL_EXPIRY = 6 * 3600
STREAM_ASK_TIMEOUT = 10  # seconds: asking a stream that failed why it did
# core.jobs.FAILURE_REASONS' code of an original its jobs could not decode (damaged, cut off)
UNDECODABLE = "undecodable_media"
# The purpose in the name of the read token a session makes for its previews (core.tokens
# process tokens: the name says which process made it); the token list shows it translated.
PREVIEW_TOKEN_PURPOSE = "mediadesk-desktop-previews"
# What versions before it named that token, whatever the session: a crash left it active.
LEGACY_PREVIEW_TOKEN_NAME = "MediaDesk app previews (this session)"
# A restore of up to this many files says which became a copy uploaded again meanwhile
MERGES_LOOKED = 50
FAILURES_LISTED = 10  # an export's summary names this many failed files, then counts the rest
# Counts that met a catalog outage are asked again after this, doubling up to COUNTS_RETRY_MAX
# (ms), or when the failure says when to ask (retry_in): back by themselves.
COUNTS_RETRY_FIRST, COUNTS_RETRY_MAX = 2_000, 60_000
# A move to the trash not done after this (ms) says it is under way: one batch reports only at
# its end, and on a catalog on a slow network share nothing showed for seconds after Delete.
BUSY_NOTICE_DELAY = 400


class _AskedAgain:
    """A read that met a catalog outage (the counts, a grid page), asked again by itself:
    after COUNTS_RETRY_FIRST doubling to COUNTS_RETRY_MAX, or when core says. `out` until it
    answers."""

    def __init__(self, parent: QObject, ask: Callable[[], None]) -> None:
        self._timer = QTimer(parent, singleShot=True)
        self._timer.timeout.connect(ask)
        self._delay = COUNTS_RETRY_FIRST
        self.out = False

    def failed(self, exc: BaseException) -> int:
        """Asks again later; the wait (ms)."""
        delay = self._delay
        # any failure that says when, not only one refused unasked (StorageNotAsked): asked
        # sooner, the store or catalog is only refused again (core keeps it quiet meanwhile)
        said = retry_in(exc)
        if said is not None:
            delay = max(delay, said * 1000)
        self._delay = min(delay * 2, COUNTS_RETRY_MAX)
        self._timer.start(delay)
        self.out = True
        return delay

    def wake(self) -> None:
        """The catalog answered elsewhere: asked again now, not at the end of a wait that has
        grown to a minute (the grid said "cannot be listed" that long after a restart)."""
        if self.out:
            self._delay = COUNTS_RETRY_FIRST
            self._timer.start(0)

    def answered(self) -> None:
        self.stop()
        self._delay = COUNTS_RETRY_FIRST
        self.out = False

    def stop(self) -> None:
        self._timer.stop()


@dataclass(frozen=True)
class ExportOutcome:
    """What an export of several files to a folder did: the files written, and the name and
    error of each file that was not (the others went on)."""

    folder: Path
    total: int
    written: tuple[Path, ...]
    failed: tuple[tuple[str, BaseException], ...]


@dataclass(frozen=True)
class ReprocessOutcome:
    """What Process again did to a selection: the photos remade, the videos with the jobs
    queued again, how many were gone (trashed or deleted meanwhile), the other failures, and
    the photos whose originals could not be decoded (they keep the images they had)."""

    photos: tuple[FileRecord, ...]
    videos: tuple[tuple[FileRecord, tuple[JobRecord, ...]], ...]
    gone: int
    errors: tuple[BaseException, ...]
    not_made: tuple[FileRecord, ...] = ()


@dataclass(frozen=True)
class RenameRefused:
    """A rename of an athlete refused because it was renamed meanwhile elsewhere (another
    desktop of the team, the HTTP API): the name asked, and the athlete's name and version
    now, which a rename anyway names."""

    athlete_id: int
    wanted: str
    current: str
    version: int
    message: ErrorMessage


def export_to_folder(
    library: Library, file_ids: list[int], folder: Path, report: Callable[..., None]
) -> ExportOutcome:
    """Each file into `folder` under its name made safe for the disk, numbered ("name (2).jpg")
    where the name is taken, by an earlier file of the selection or one already there; a
    failure (bytes missing, a full disk) is kept and the next file goes on. Runs in a worker."""
    written: list[Path] = []
    failed: list[tuple[str, BaseException]] = []
    for done, file_id in enumerate(file_ids):
        report(done, len(file_ids))
        name = str(file_id)
        try:
            name = library.get_ready(file_id).original_filename
            written.append(_export_one(library, file_id, folder, disk_name(name)))
        except Exception as exc:  # noqa: BLE001 - listed in the summary, the others go on
            failed.append((name, exc))
    return ExportOutcome(folder, len(file_ids), tuple(written), tuple(failed))


def _export_one(library: Library, file_id: int, folder: Path, name: str) -> Path:
    """The file written whole under a hidden temporary name (a failure leaves no half file
    with the real name), then given the first free numbered name. That name is taken with
    O_EXCL, which no other writer can win meanwhile and which a case-insensitive disk answers
    for "A.jpg" against "a.jpg"; the bytes then replace that empty claim at once."""
    tmp = folder / f".mediadesk-export-{uuid.uuid4().hex}.part"  # short: room for the store's
    try:
        library.export(file_id, tmp)
        n = 1
        while True:
            target = folder / numbered_name(name, n)
            try:
                os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
                break
            except FileExistsError:
                n += 1
        try:
            os.replace(tmp, target)
        except OSError:
            with contextlib.suppress(OSError):  # the replace's error is the one to report
                target.unlink()
            raise
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
    fsync_dir(folder)
    return target


def playback_failure(
    library: Library, record: FileRecord, source: str
) -> BaseException | JobRecord | None:
    """Why a preview could not play, asked again off the GUI thread: the library's own look at
    the file (a storage outage, a missing object, with the details to act on), else its video
    jobs' finding that it is damaged (a job failed `undecodable_media`: Qt's "format not
    supported" sent the user looking for a codec), else the JSON error of our server's stream
    URL (a revoked token, a missing rendition); None when all answer, and Qt's own text
    stands."""
    try:
        library.stat(record)
    except (MediaDeskError, OSError) as exc:
        return exc
    if record.file_type == FileKind.VIDEO:
        for job in library.jobs.latest_for_file(record.id):
            if job.state == JobState.FAILED and job.reason == UNDECODABLE:
                return job
    if not source.startswith(("http://", "https://")):
        return None
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # as the player: direct
    ask = urllib.request.Request(source, headers={"Range": "bytes=0-0"})
    try:
        with opener.open(ask, timeout=STREAM_ASK_TIMEOUT):
            return None
    except urllib.error.HTTPError as exc:
        try:
            body = json.loads(exc.read(64 * 1024) or b"null")
        except ValueError:
            return None  # not our server (a signed storage URL answers XML)
        return error_from_record(body.get("error")) if isinstance(body, dict) else None
    except (OSError, ValueError):
        return None


class LibraryController(QObject):
    """Everything the main window does to the library, run off the GUI thread."""

    errorOccurred = Signal(object)  # ErrorMessage: a translated sentence and the detail
    saveFailed = Signal(int, object)  # file id, ErrorMessage (also sent as errorOccurred)
    saveConflict = Signal(int, dict)  # file id, the unsaved changes: a newer version exists
    message = Signal(str)  # a short status bar notice
    # a notice that holds while slow actions run (BUSY_NOTICE_DELAY after one began): the latest
    # still running's; "" once none runs
    busyNotice = Signal(str)
    countsChanged = Signal(dict)
    currentChanged = Signal(object)  # FileRecord | None (the details panel's record)
    # ChangeEvent: the file shown, with unsaved edits (has_unsaved_edits), was trashed or deleted
    # elsewhere, or changed there out of the shown section. It stays current: the edits are the
    # user's to keep or drop (desktop_app/team.py)
    currentGone = Signal(object)
    saved = Signal(object)  # FileRecord after a metadata save
    athleteChosen = Signal(int)  # a new athlete's name that another athlete has: that one's id
    athleteRenameRefused = Signal(object)  # RenameRefused: renamed meanwhile elsewhere
    linkReady = Signal(str)
    exported = Signal(object)  # ExportOutcome: an export of several files ended
    # FileRecord: its link opens only through the embedded server, which is stopped (nothing
    # was copied: a link to a stopped server is refused)
    linkNeedsServer = Signal(object)
    previewReady = Signal(object, str)  # FileRecord, source (path or URL)
    previewFailureExplained = Signal(str, object)  # source, ErrorMessage: why it did not play
    filterChanged = Signal(object)  # SidebarFilter
    searchChanged = Signal(str)  # the search text, when set from code (not the search box)
    revealReady = Signal(int)  # file id: select it and scroll to it
    examplesReady = Signal(object, object)  # newest image and video FileRecord (or None)
    # the status bar's standing line while the catalog is out of reach ("" once it answers)
    outageChanged = Signal(str)
    trashEmptied = Signal()  # empty_trash ended (done or failed): Empty trash… may run again

    def __init__(
        self, library: Library, page_size: int = 100, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.library = library
        self.runner = TaskRunner(max_threads=4, parent=self)
        self.runner.failed.connect(self._report)
        # the slow bulk moves running (`_bulk`), oldest first: their notices
        self._busy: dict[object, str] = {}
        self.thumbnails = ThumbnailLoader(library, parent=self)
        self.grid = FileGridListModel(library, self.runner, self.thumbnails, page_size, self)
        self.grid.loadFailed.connect(self._on_page_failed)
        self.grid.pageLoaded.connect(self._on_page_loaded)
        self.grid.recordChanged.connect(self._on_record_changed)
        self.sidebar = SidebarModel(self)
        self.filter = SidebarFilter()
        self.search = ""
        self.sort: str = Sort.NEWEST
        self.current: FileRecord | None = None
        # The one source of every count on screen (grid header, sidebar, status bar): the
        # latest catalog count, refreshed from the change events, applied in request order.
        self.counts: dict[str, int] = {}
        self._athlete_counts: dict[int, int] = {}
        self._athlete_trash: dict[int, int] = {}
        self._counts_asked = 0
        self._counts_applied = 0
        self._counts_in_flight = False  # refresh_sidebar's read is on its way
        self._counts_wanted = False  # and another was asked meanwhile: it follows that one
        self._example_kinds: tuple[int, int] | None = None
        self._example_ids: set[int] = set()  # the files the examples name (refresh_examples)
        self._examples_asked = 0
        self._examples_applied = 0
        self.server_url: Callable[[], str | None] = lambda: None
        self.preview_fallbacks: dict[int, str | None] = {}  # file id -> web rendition
        self.preview_scrubs: dict[int, Any] = {}  # file id -> (cues, sprite) for the seek bar
        self._preview_token: tuple[int, str] | None = None
        self._token_lock = threading.Lock()
        self.live = LiveEvents(library.events, self)
        self.handles_conflicts = False  # set when the conflict dialog handles saveConflict
        # Whether the details panel holds unsaved edits of a file (set by the main window's team
        # mode): such a file trashed elsewhere is not dropped from the panel (currentGone)
        self.has_unsaved_edits: Callable[[int], bool] = lambda _file_id: False
        self.live.changedTogether.connect(self._on_events)
        self._reveal: int | None = None  # a file to select once its row is loaded
        self._reveal_seeks = False  # the grid loads its pages up to it (reveal_in_view)
        self.grid.rowsInserted.connect(self._check_reveal)
        self.grid.modelReset.connect(self._check_reveal)
        self.grid.loadingChanged.connect(self._give_up_reveal_later)
        self._sidebar_timer = QTimer(self, singleShot=True, interval=250)
        self._sidebar_timer.timeout.connect(self.refresh_sidebar)
        self._counts_again = _AskedAgain(self, self.refresh_sidebar)
        self._pages_again = _AskedAgain(self, self.grid.fetch_again)
        self._outage = ""  # the line outageChanged said last

    # ---- browsing -----------------------------------------------------------------------------
    def start(self) -> None:
        self.refresh_sidebar()
        self._requery()
        # A session killed (kill -9, a crash, a power cut) never revoked its preview token: each
        # crash left one more valid read token. Another desktop's live one is kept.
        self.runner.submit(
            self.library.tokens.revoke_orphans,
            PREVIEW_TOKEN_PURPOSE,
            (LEGACY_PREVIEW_TOKEN_NAME,),
            on_error=lambda exc: logger.warning("Could not revoke old preview tokens: %s", exc),
        )

    def query(self) -> FileQuery:
        return self.filter.apply(FileQuery(q=self.search.strip(), sort=self.sort))

    def _requery(self) -> None:
        self.grid.set_query(self.query())
        self.set_current(None)

    def set_filter(self, flt: SidebarFilter) -> None:
        if flt != self.filter:
            self.filter = flt
            self.filterChanged.emit(flt)
            self._requery()

    def set_search(self, text: str) -> None:
        if text.strip() != self.search.strip():
            self.search = text
            self._requery()

    def set_sort(self, sort: str) -> None:
        if sort not in SORTS:
            raise ValueError(sort)
        if sort != self.sort:
            self.sort = sort
            self._requery()

    def refresh(self) -> None:
        self.refresh_sidebar()
        self.grid.refresh()  # the files shown stay until the catalog answers

    @property
    def upload_athlete_id(self) -> int | None:
        """Dropped files go to the athlete selected in the sidebar."""
        return self.filter.athlete_id if self.filter.section == "athlete" else None

    def refresh_sidebar(self) -> None:
        if self._counts_in_flight:
            # One count on its way at a time, one more remembered: asked once per change, a
            # burst (a bulk trash's batches, a slow catalog) queued a count per ask, each read
            # over the whole catalog and each applied on the GUI thread in turn.
            self._counts_wanted = True
            return
        self._counts_in_flight = True
        lib = self.library
        self._counts_asked += 1
        asked = self._counts_asked

        def answered(result: SidebarRefresh) -> None:
            self._ask_remembered_counts()  # first: the views know more counts are coming
            self._on_sidebar(asked, result)

        def failed(exc: BaseException) -> None:
            if catalog_unreachable(exc):
                self._counts_wanted = False  # asked again when it answers (_AskedAgain)
            self._ask_remembered_counts()
            self._on_sidebar_failed(asked, exc)

        self.runner.submit(
            lambda: (lib.counts(), lib.athletes()), on_result=answered, on_error=failed
        )

    def _ask_remembered_counts(self) -> None:
        self._counts_in_flight = False
        if self._counts_wanted:
            self._counts_wanted = False
            self.refresh_sidebar()

    @property
    def counts_pending(self) -> bool:
        """Counts asked for (or about to be) and not back yet: an empty grid waits for them
        rather than say "No files here yet" a moment before "All N files are in the trash"."""
        return self._sidebar_timer.isActive() or self._counts_asked > self._counts_applied

    def _on_sidebar_failed(self, asked: int, exc: BaseException) -> None:
        # the views stop waiting for these counts (they keep the last ones)
        self._counts_applied = max(self._counts_applied, asked)
        self.countsChanged.emit(self.counts)
        if not catalog_unreachable(exc):
            self.runner.failed.emit(exc)  # a fault, shown as any task's
            return
        # Nobody asked for these counts (a change elsewhere, a start): a catalog restarting
        # under a team opened a modal warning on every desktop at once. It passes by itself,
        # so the counts are asked again until it answers, and the status bar says it once.
        delay = self._counts_again.failed(exc)
        logger.warning("Cannot refresh the counts, asked again in %.1f s: %s", delay / 1000, exc)
        self._say_outage()

    def _on_page_failed(self, exc: BaseException) -> None:
        """A page of the grid that met a catalog outage is asked again by itself, said once
        in the status bar: a modal warning opened at every page asked while a team's catalog
        restarted (scrolling, a change elsewhere, each retry). Other faults are shown."""
        if not catalog_unreachable(exc):
            self._report(exc)
            return
        delay = self._pages_again.failed(exc)
        logger.warning("Cannot list the files, asked again in %.1f s: %s", delay / 1000, exc)
        self._say_outage()

    def _on_page_loaded(self) -> None:
        self._pages_again.answered()
        self._say_outage()
        self.catalog_back()

    def catalog_back(self) -> None:
        """Any sign the catalog answers again (a read of ours that answered, the live feed
        connected again): every read still waiting out an outage is asked again at once. Each
        waited on its own back-off, so the grid kept saying it cannot list the files for up to
        a minute while the feed and the counts were already back."""
        for waiting in (self._pages_again, self._counts_again):
            waiting.wake()

    def _say_outage(self) -> None:
        """The status bar's line while pages or counts are asked again (the pages' first: the
        grid waits on them), said once, kept until they all answer (outageChanged)."""
        text = ""
        if self._pages_again.out:
            text = self.tr(
                "The catalog (database) cannot be reached right now: the files are listed "
                "by themselves once it is back."
            )
        elif self._counts_again.out:
            text = self.tr(
                "The catalog (database) cannot be reached right now: the counts are "
                "refreshed by themselves once it is back."
            )
        if text != self._outage:
            self._outage = text
            self.outageChanged.emit(text)

    def refresh_examples(self) -> None:
        """Finds a real image and video for the server panel's example commands."""
        lib = self.library

        def newest() -> tuple[FileRecord | None, FileRecord | None]:
            found = [lib.list_files(FileQuery(file_type=kind, limit=1)).items for kind in FileKind]
            return found[0][0] if found[0] else None, found[1][0] if found[1] else None

        self._examples_asked += 1
        asked = self._examples_asked

        def found(pair: tuple[FileRecord | None, FileRecord | None]) -> None:
            if asked < self._examples_applied:
                return  # an older search finished after a newer one: keep the newer files
            self._examples_applied = asked
            self._example_ids = {record.id for record in pair if record is not None}
            self.examplesReady.emit(*pair)
            self.catalog_back()

        def failed(exc: BaseException) -> None:
            if not catalog_unreachable(exc):
                self.runner.failed.emit(exc)
                return
            # asked by the counts, not by the user: no dialog for an outage; the next counts
            # that arrive (a change, or the counts asked again) look for them again
            self._example_kinds = None
            logger.warning("Cannot find the example files: %s", exc)

        self.runner.submit(newest, on_result=found, on_error=failed)

    def view_count(self) -> int | None:
        """The count of what the grid shows, from `counts`; None while searching (or unknown)."""
        if self.search.strip() or not self.counts:
            return None
        if self.filter.section == "athlete":
            return self._athlete_counts.get(self.filter.athlete_id or 0)
        return self.counts.get(self.filter.section)

    def athlete_trash_count(self) -> int:
        """The selected athlete's files in the trash (0 outside an athlete's view)."""
        if self.filter.section != "athlete":
            return 0
        return self._athlete_trash.get(self.filter.athlete_id or 0, 0)

    def _on_sidebar(self, asked: int, result: SidebarRefresh) -> None:
        if asked < self._counts_applied:
            return  # an older count finished after a newer one: never step back
        self._counts_applied = asked
        self._counts_again.answered()
        self._say_outage()
        self.catalog_back()
        counts, athletes = result
        self.counts = counts
        self._athlete_counts = {a.id: a.file_count for a in athletes}
        self._athlete_trash = {a.id: a.trash_count for a in athletes}
        kinds = (counts.get(FileKind.IMAGE, 0), counts.get(FileKind.VIDEO, 0))
        if kinds != self._example_kinds:
            self._example_kinds = kinds
            self.refresh_examples()
        self.sidebar.set_counts(counts)
        self.sidebar.set_athletes(athletes)
        self.countsChanged.emit(counts)

    def reveal(self, file_id: int) -> None:
        """Selects a file in the grid; when it is not loaded, shows it by its name first."""
        if self.grid.row_of(file_id) >= 0:
            self.revealReady.emit(file_id)
            return
        self._call(self.library.get_file, file_id, then=self._reveal_record)

    def _reveal_record(self, record: FileRecord) -> None:
        self._reveal, self._reveal_seeks = record.id, False
        self.filter = SidebarFilter("trash") if record.is_trashed else SidebarFilter()
        self.search = record.original_filename
        self.filterChanged.emit(self.filter)
        self.searchChanged.emit(self.search)
        self._requery()

    def reveal_in_view(self, file_id: int) -> None:
        """Selects a file of the view shown, loading the pages up to it first (in workers):
        Esc after a search lost a file that sorts past the first page loaded."""
        self._reveal, self._reveal_seeks = file_id, True
        if self.grid.row_of(file_id) >= 0:
            self._check_reveal()
        else:
            self.grid.load_until(file_id)
            if not self.grid.seeking:
                self._reveal = None  # every row that can be is loaded: it is not in the view

    def drop_reveal(self) -> None:
        """The user picked another file meanwhile: the one on its way is not selected."""
        self._reveal = None

    def _give_up_reveal_later(self, loading: bool) -> None:
        if not loading:  # rows are in; the 0 ms turn lets follow-on fetches start first
            QTimer.singleShot(0, self, self._give_up_reveal)

    def _give_up_reveal(self) -> None:
        # the pages stopped without it (not in the view, or too far): a row that shows up
        # later must not take the selection then
        if self._reveal_seeks and not self.grid.loading and not self.grid.seeking:
            self._reveal = None

    def _check_reveal(self, *_: object) -> None:
        if self._reveal is not None and self.grid.row_of(self._reveal) >= 0:
            file_id, self._reveal = self._reveal, None
            self.revealReady.emit(file_id)

    # ---- current record -------------------------------------------------------------------------
    def set_current(self, record: FileRecord | None) -> None:
        self.current = record
        self.currentChanged.emit(record)

    def _on_record_changed(self, record: FileRecord) -> None:
        if self.current is not None and record.id == self.current.id:
            self.set_current(record)

    # ---- edits ----------------------------------------------------------------------------------
    def save_metadata(
        self, file_id: int, changes: dict[str, Any], expected_version: int | None
    ) -> None:
        def done(record: FileRecord) -> None:
            self.saved.emit(record)
            if self.current is not None and self.current.id == record.id:
                self.set_current(record)
            self.message.emit(self.tr("Saved %1").replace("%1", record.original_filename))

        def failed(exc: BaseException) -> None:
            message = dataclasses.replace(
                describe_failure(as_change(exc)), title=self.tr("Changes not saved")
            )
            self.saveFailed.emit(file_id, message)
            # theirs vs yours (desktop_app/team.py) only for a newer version: a refusal that
            # is no one's change (an edit that would make a duplicate) offered "keep mine",
            # refused again the same way, and never said why
            if (
                isinstance(exc, Conflict)
                and exc.reason == "stale_version"
                and self.handles_conflicts
            ):
                self.saveConflict.emit(file_id, changes)
            else:
                self.errorOccurred.emit(message)

        lib = self.library

        def update() -> FileRecord:
            try:
                return lib.update_file(file_id, changes, expected_version)
            except Conflict as exc:
                # a duplicate refusal names the other file (here, off the GUI thread)
                named = with_duplicate_name(exc, lambda i: lib.get_file(i).original_filename)
                if named is exc:
                    raise
                raise named from exc

        self.runner.submit(update, on_result=done, on_error=failed)

    def trash(
        self,
        file_ids: list[int],
        moved: Callable[[tuple[int, ...]], None] | None = None,
    ) -> None:
        """`moved` gets the ids this move put in the trash, not those already there."""
        self._bulk(
            self.library.trash_many,
            file_ids,
            "already_trashed",
            lambda n: self.tr("Moved %Ln file(s) to the trash", "", n),
            lambda done, total: self.tr(
                "Moving to the trash: %1 of %Ln file(s)…", "", total
            ).replace("%1", number_text(done)),
            settled=None if moved is None else lambda outcome: moved(outcome.done),
            slow=lambda n: self.tr("Moving %Ln file(s) to the trash…", "", n),
        )

    def restore(self, file_ids: list[int]) -> None:
        lib = self.library
        # the names shown before the restore: a file merged into its copy answers as that copy
        own = {i: r.original_filename for i in file_ids if (r := self.grid.record(i)) is not None}
        merged: list[tuple[str, FileRecord]] = []  # written by the worker, read once it is done

        def run(ids: list[int], report: Callable[..., None]) -> BulkOutcome:
            outcome = lib.restore_many(ids, report=report)
            # A file whose bytes were uploaded again meanwhile is merged into that copy
            # (README "Duplicates keep their id"): its id answers as the copy's, and its own
            # edits gave way. Looked for in a selection of a usual size only: a read per file.
            if len(outcome.done) <= MERGES_LOOKED:
                for file_id in outcome.done:
                    record = lib.get_file(file_id)
                    if record.duplicate and record.duplicate_of not in (None, file_id):
                        merged.append((own.get(file_id, str(file_id)), record))
            return outcome

        def said() -> str:
            if len(merged) == 1:
                name, record = merged[0]
                return (
                    self.tr(
                        "“%1” became “%2” (file %3), the same photo or video uploaded again "
                        "meanwhile: its own edits (description, athlete, sharing) gave way to "
                        "that file's."
                    )
                    .replace("%1", name)
                    .replace("%2", record.original_filename)
                    .replace("%3", str(record.duplicate_of))
                )
            if merged:
                return self.tr(
                    "%Ln of them became the copies of the same photos or videos uploaded again "
                    "meanwhile: their own edits gave way to those copies'.",
                    "",
                    len(merged),
                )
            return ""

        self._bulk(
            run,
            file_ids,
            "not_trashed",
            lambda n: self.tr("Restored %Ln file(s)", "", n),
            lambda done, total: self.tr("Restoring: %1 of %Ln file(s)…", "", total).replace(
                "%1", number_text(done)
            ),
            # Undo after another desktop (or the server) put them back: said as it is, not
            # "Restored 1 file" for a restore that found nothing to do
            lambda n: self.tr("Nothing to restore: the file was already restored", "", n),
            lambda n: self.tr("(%Ln already restored elsewhere)", "", n),
            said,
            slow=lambda n: self.tr("Restoring %Ln file(s)…", "", n),
        )

    def _bulk(
        self,
        action: Callable[..., BulkOutcome],
        file_ids: list[int],
        already: str,
        notice: Callable[[int], str],
        progress: Callable[[int, int], str],
        none_left: Callable[[int], str] | None = None,
        some_left: Callable[[int], str] | None = None,
        more: Callable[[], str] | None = None,
        settled: Callable[[BulkOutcome], None] | None = None,
        slow: Callable[[int], str] | None = None,
    ) -> None:
        """A selection trashed or restored in batches (core's `trash_many`), the status bar
        following a big one. A file already where it was asked to go (another window or the
        server moved it meanwhile) is no error: the user's wish holds for it too. `slow`: the
        notice held from BUSY_NOTICE_DELAY on until the end."""
        notice_due: QTimer | None = None
        token = object()  # this move's entry in `_busy`
        if slow is not None:
            said = slow

            def under_way() -> None:
                self._busy[token] = said(len(set(file_ids)))
                self.busyNotice.emit(self._busy[token])

            notice_due = QTimer(self, singleShot=True, interval=BUSY_NOTICE_DELAY)
            notice_due.timeout.connect(under_way)
            notice_due.start()

        def ended() -> None:
            if notice_due is not None:
                notice_due.stop()
                notice_due.deleteLater()
            if self._busy.pop(token, None) is not None:
                # Another slow move still running is named again: the first of two to end
                # took the notice away while the other went on.
                self.busyNotice.emit(next(reversed(self._busy.values()), ""))

        def report(done: int, total: int) -> None:
            if done < total:
                self.message.emit(progress(done, total))

        def failed(exc: BaseException) -> None:
            ended()
            self._report(exc)

        def done(outcome: BulkOutcome) -> None:
            ended()
            if settled is not None:
                settled(outcome)
            errors = [e for _i, e in outcome.failed if getattr(e, "reason", None) != already]
            found = len(outcome.failed)
            extra = more() if more is not None else ""
            if errors:
                self._report(errors[0])
                return
            if found and none_left is not None and not outcome.done:
                text = none_left(found)
            elif found and some_left is not None:
                text = f"{notice(len(outcome.done))} {some_left(found)}"
            else:
                text = notice(len(outcome.done) + found)
            self.message.emit(f"{text}: {extra}" if extra else text)

        self.runner.submit(
            action, list(file_ids), on_report=report, on_result=done, on_error=failed
        )

    def delete_permanently(self, file_ids: list[int]) -> None:
        """In the Trash view the user confirmed deleting files of the trash: one restored
        meanwhile (another window, desktop or server, while the question was open) is kept,
        and the status bar says so. Elsewhere the file is deleted whatever its state."""
        only_trashed = self.filter.section == "trash"
        lib = self.library

        def run() -> tuple[int, int, list[BaseException], int]:
            deleted = kept = trashed_instead = 0
            errors: list[BaseException] = []
            for file_id in file_ids:
                try:
                    lib.delete_permanently(file_id, only_trashed=only_trashed)
                    deleted += 1
                except Conflict as exc:
                    if exc.reason != "not_trashed":
                        errors.append(exc)
                    else:
                        kept += 1
                except Exception as exc:  # noqa: BLE001 - reported together below
                    errors.append(exc)
                    if not only_trashed and _now_trashed(lib, file_id):
                        trashed_instead += 1
            return deleted, kept, errors, trashed_instead

        def done(outcome: tuple[int, int, list[BaseException], int]) -> None:
            deleted, kept, errors, trashed_instead = outcome
            if trashed_instead:
                # a DELETE the storage did not answer: the file waits in the trash (README),
                # which "try again" alone did not say, and it left the view without a word
                message = describe_failure(as_change(errors[0]))
                instead = self.tr(
                    "%Ln file(s) went to the trash instead: the storage may still delete "
                    "them; if it did not, they stay in the trash, where they can be restored.",
                    "",
                    trashed_instead,
                )
                said = dataclasses.replace(message, text=f"{message.text} {instead}")
                if deleted:
                    self.message.emit(self.tr("Deleted %Ln file(s) permanently", "", deleted))
                self.errorOccurred.emit(said)
                return
            if kept and not deleted:
                self.message.emit(
                    self.tr(
                        "Nothing deleted: the file was restored meanwhile and is kept", "", kept
                    )
                )
            elif kept:
                self.message.emit(
                    self.tr("Deleted %Ln file(s) permanently", "", deleted)
                    + " "
                    + self.tr("(%Ln restored meanwhile elsewhere, kept)", "", kept)
                )
            elif not errors:
                self.message.emit(self.tr("Deleted %Ln file(s) permanently", "", deleted))
            if errors:
                self._report(errors[0])

        self.runner.submit(run, on_result=done, on_error=self._report)

    def empty_trash(self, confirmed: int = 0) -> None:
        """Deletes every file in the trash, not only the grid's loaded page of it (core asks
        the catalog for them); the status bar follows it as it goes. `confirmed`: the count
        the user's question named; fewer deleted are said as gone from the trash elsewhere
        meanwhile (core keeps a file restored meanwhile and skips one deleted meanwhile), or
        "2 files" confirmed ended in "1 file deleted" without a word why."""

        def progress(done: int, total: int) -> None:
            self.message.emit(
                self.tr("Emptying the trash: %1 of %Ln file(s) deleted…", "", total).replace(
                    "%1", number_text(done)
                )
            )

        def done(deleted: list[int]) -> None:
            self.trashEmptied.emit()
            text = self.tr("Emptied the trash: %Ln file(s) deleted", "", len(deleted))
            missing = confirmed - len(deleted)
            if missing > 0:
                text += " " + self.tr("(%Ln restored or deleted elsewhere meanwhile)", "", missing)
            self.message.emit(text)

        def failed(exc: BaseException) -> None:
            self.trashEmptied.emit()
            self._report(exc)

        self.message.emit(self.tr("Emptying the trash…"))
        self.runner.submit(
            self.library.empty_trash, on_report=progress, on_result=done, on_error=failed
        )

    def export(self, file_id: int, destination: Path) -> None:
        self.runner.submit(
            self.library.export,
            file_id,
            destination,
            on_result=lambda path: self.message.emit(
                self.tr("Exported to %1").replace("%1", str(path))
            ),
            on_error=self._report_file,
        )

    def export_many(self, file_ids: list[int], folder: Path) -> None:
        """Several files into `folder` in a worker, the status bar following; a summary at the
        end, with every file that failed and why."""

        def progress(done: int, total: int) -> None:
            self.message.emit(
                self.tr("Exporting: %1 of %Ln file(s)…", "", total).replace("%1", number_text(done))
            )

        def done(outcome: ExportOutcome) -> None:
            self.exported.emit(outcome)
            if not outcome.failed:
                self.message.emit(
                    self.tr("Exported %Ln file(s) to %1", "", len(outcome.written)).replace(
                        "%1", str(outcome.folder)
                    )
                )
            else:
                self.errorOccurred.emit(self._export_failures(outcome))

        self.runner.submit(
            export_to_folder,
            self.library,
            list(file_ids),
            folder,
            on_report=progress,
            on_result=done,
            on_error=self._report_file,
        )

    def _export_failures(self, outcome: ExportOutcome) -> ErrorMessage:
        """The summary of an export some files of which failed: each failed file's name and
        why in the interface language, what was written; core's English as the detail."""
        failed = outcome.failed
        head = (
            self.tr("%Ln of %1 file(s) could not be exported to %2:", "", len(failed))
            .replace("%1", number_text(outcome.total))
            .replace("%2", str(outcome.folder))
        )
        lines = [f"{name}: {describe_error(exc).text}" for name, exc in failed[:FAILURES_LISTED]]
        rest = len(failed) - FAILURES_LISTED
        if rest > 0:
            lines.append(self.tr("…and %Ln more", "", rest))
        written = self.tr("%Ln file(s) exported.", "", len(outcome.written))
        detail = "\n".join(f"{name}: {describe_error(exc).detail or exc}" for name, exc in failed)
        return ErrorMessage("\n".join([head, *lines, written]), detail)

    def copy_link(self, file_id: int) -> None:
        def done(found: tuple[FileRecord, str | None]) -> None:
            record, url = found
            if url is None:
                self.linkNeedsServer.emit(record)
            else:
                self.linkReady.emit(url)

        self._call(self._link, file_id, then=done)

    def _link(self, file_id: int) -> tuple[FileRecord, str | None]:
        """A video's watch page while the server runs (it plays anywhere), a public image's
        stream URL, else the file; no URL when the file's link opens only through the
        embedded server and it is stopped."""
        record = self.library.get_file(file_id)
        server = self.server_url()
        # the address others reach this server at (MEDIADESK_PUBLIC_URL), or, bound to every
        # address, this machine's on the network; not the loopback one the app's own player
        # uses: a link pasted into a team chat must open elsewhere
        bound = self.library.backends.bound if server else None
        shared = shareable_origin(bound, self.library.settings.public_origin)
        origin = (shared or server or "").rstrip("/")
        ready = record.status == FileStatus.READY
        if record.file_type == FileKind.VIDEO and server and ready:
            from core.video.service import watch_link

            return record, watch_link(self.library, record, origin)
        share = share_path(record)  # a public file's permanent link, as the web's shareUrl()
        if share is not None and origin:
            # a CDN link (R2_PUBLIC_DOMAIN) stays first for the bytes; a video's is its player.
            # One in the trash has none: download_url says why it has no link.
            cdn = None if record.file_type == FileKind.VIDEO else self.library.public_url(record)
            if cdn:
                return record, cdn
            # A server only this computer reaches names a link that opens nowhere else: a
            # bucket's own (signed) link opens anywhere, a local file's is signed for it anyway
            if not only_this_machine(origin) or self.library.backends.on_backend(
                record.storage_key, "local"
            ):
                return record, origin + share
        if not server and ready and self.link_needs_server(record):
            return record, None  # (a file not ready: download_url says why it has no link)
        url = self.library.download_url(file_id)
        if server and origin != server.rstrip("/") and url.startswith(f"{server}/"):
            # a local file's link is signed for the server's loopback address (the player's);
            # the signature does not cover the origin, so the same link opens from the network
            url = origin + url[len(server) :]
        return record, url

    def reprocess(self, file_ids: list[int]) -> None:
        """Process again, in one worker, file after file: a photo's thumbnail and variants made
        again now (as POST /files/{id}/reprocess answers for a photo), a video's jobs queued
        again (the Jobs dock's button); the status bar follows a big selection and sums it up
        at the end. The tiles then load the photos' thumbnails again. A file trashed or
        deleted meanwhile is passed over and said, as `mediadesk reprocess --all` does; any
        other failure is shown (the first), the rest going on."""
        library = self.library

        def run(report: Callable[..., None]) -> ReprocessOutcome:
            from core.video import service

            photos: list[FileRecord] = []
            not_made: list[FileRecord] = []
            videos: list[tuple[FileRecord, tuple[JobRecord, ...]]] = []
            errors: list[BaseException] = []
            gone = 0
            for done, file_id in enumerate(file_ids):
                report(done, len(file_ids))
                try:
                    record = service.reprocessable(library, file_id)
                    if record.file_type == FileKind.IMAGE:
                        # one that cannot be decoded was said "made again", as the CLI did
                        remade = library.thumbnail_remaker.remake_told(file_id)
                        (photos if remade.made else not_made).append(remade.record)
                    else:
                        videos.append((record, tuple(service.reprocess(library, file_id))))
                except NotFound:
                    gone += 1
                except Exception as exc:  # noqa: BLE001 - the first is shown, the rest go on
                    errors.append(exc)
            return ReprocessOutcome(
                tuple(photos), tuple(videos), gone, tuple(errors), tuple(not_made)
            )

        def progress(done: int, total: int) -> None:
            if done:  # (one file, or the first: the summary comes soon enough)
                self.message.emit(
                    self.tr("Processing again: %1 of %Ln file(s)…", "", total).replace(
                        "%1", number_text(done)
                    )
                )

        def done(outcome: ReprocessOutcome) -> None:
            for record in outcome.photos:
                self.thumbnails.forget(record.id)
            said = []
            if len(outcome.photos) == 1 and not outcome.videos:
                said.append(
                    self.tr("Made the thumbnail of %1 again").replace(
                        "%1", outcome.photos[0].original_filename
                    )
                )
            elif outcome.photos:
                said.append(
                    self.tr("Made the thumbnails of %Ln photo(s) again", "", len(outcome.photos))
                )
            if len(outcome.videos) == 1 and not outcome.photos:
                record, jobs = outcome.videos[0]
                said.append(
                    self.tr("Queued %Ln job(s) of %1 again", "", len(jobs)).replace(
                        "%1", record.original_filename
                    )
                )
            elif outcome.videos:
                said.append(
                    self.tr("Queued the jobs of %Ln video(s) again", "", len(outcome.videos))
                )
            if len(outcome.not_made) == 1 and not outcome.photos and not outcome.videos:
                said.append(
                    self.tr(
                        "The thumbnail of %1 could not be made again: its original cannot be "
                        "decoded, and it keeps the one it had"
                    ).replace("%1", outcome.not_made[0].original_filename)
                )
            elif outcome.not_made:
                said.append(
                    self.tr(
                        "The thumbnails of %Ln photo(s) could not be made again: their "
                        "originals cannot be decoded, and they keep the ones they had",
                        "",
                        len(outcome.not_made),
                    )
                )
            if outcome.gone:
                said.append(
                    self.tr(
                        "%Ln file(s) passed over: trashed or deleted meanwhile", "", outcome.gone
                    )
                )
            if said:
                self.message.emit(" · ".join(said))
            if outcome.errors:
                self._report(outcome.errors[0])

        self.runner.submit(run, on_report=progress, on_result=done, on_error=self._report)

    def link_needs_server(self, record: FileRecord) -> bool:
        """Whether the file's link is one this process's server must answer: a file in the
        local folder is signed for its address (a bucket's link goes to the bucket, a public
        one to its CDN). With MEDIADESK_PUBLIC_URL the link names that address, which another
        server may answer (a team's): not this window's to judge."""
        lib = self.library
        return (
            not lib.settings.public_origin
            and lib.public_url(record) is None
            and lib.backends.on_backend(record.storage_key, "local")
        )

    def request_preview(self, record: FileRecord) -> None:
        self._call(
            self._preview_source, record, then=lambda src: self.previewReady.emit(record, src)
        )

    def _preview_source(self, record: FileRecord) -> str:
        """A local file plays directly; an R2 one through the embedded server's stream URL.

        Players cannot send an Authorization header, so private files carry this session's
        read token as `access_token`; without a running server a signed R2 URL is used.
        """
        jobs: list[JobRecord] = []
        if record.file_type == FileKind.VIDEO:  # for a player that cannot decode the original
            from core.video.service import scrub_thumbnails, web_fallback

            # one read of the file's jobs for the fallback, the scrub track and the pinned URL
            jobs = self.library.jobs.latest_for_file(record.id)
            self.preview_fallbacks[record.id] = web_fallback(self.library, record, jobs)
            self.preview_scrubs[record.id] = scrub_thumbnails(self.library, record, jobs)
        local = self.library.local_path(record)
        if local is not None and local.is_file():
            return str(local)
        if record.is_trashed:
            # The server and presigned_get serve no trashed file; a preview of one in the trash
            # (to decide whether to restore it) signs its object directly.
            return self.library.sign_object(record, PREVIEW_URL_EXPIRY)
        server = self.server_url()
        if server:
            if record.file_type == FileKind.VIDEO:
                from core.video.service import choose_video

                # pinned to the bytes it names: the bare URL switches to the faststart or web
                # copy once made and the player, asking ranges without If-Range, would splice them
                query = choose_video(record, jobs, None).query
                url = f"{server}/stream/{record.id}/video?{query}"
            else:
                url = f"{server}/stream/{record.id}/image"
            if record.is_public:
                return url
            return f"{url}{'&' if '?' in url else '?'}access_token={self._session_token()}"
        return self.library.presigned_get(record.id, PREVIEW_URL_EXPIRY, attachment=False).url

    def explain_preview_failure(self, record: FileRecord, source: str) -> None:
        """Finds out off the GUI thread why `source` did not play; a cause found is sent as
        previewFailureExplained, translated here (Qt's player says it in technical English)."""

        def explained(cause: BaseException | JobRecord | None) -> None:
            if isinstance(cause, BaseException):
                self.previewFailureExplained.emit(source, describe_error(cause))
            elif cause is not None:  # the jobs found it damaged: their sentence
                self.previewFailureExplained.emit(source, job_reason(cause))

        self.runner.submit(
            playback_failure,
            self.library,
            record,
            source,
            on_result=explained,
            on_error=lambda exc: logger.info("Could not tell why a preview failed: %s", exc),
        )

    def _session_token(self) -> str:
        """A read token for this app session's previews, revoked when the app closes."""
        with self._token_lock:
            if self._preview_token is None:
                info, secret = self.library.tokens.create_for_process(PREVIEW_TOKEN_PURPOSE, "read")
                self._preview_token = (info.id, secret)
            return self._preview_token[1]

    # ---- athletes -------------------------------------------------------------------------------
    def create_athlete(self, name: str) -> None:
        def failed(exc: BaseException) -> None:
            self._report(exc)
            # another desktop added that name first (or it was there already): the user meant
            # that athlete, so it is the one chosen, and the message says why
            if isinstance(exc, Conflict) and exc.reason == "athlete_exists":
                existing = exc.details.get("athlete_id")
                if isinstance(existing, int):
                    self.athleteChosen.emit(existing)

        self.runner.submit(
            self.library.create_athlete,
            name,
            on_result=lambda a: self.message.emit(
                self.tr("Added athlete %1").replace("%1", a.name)
            ),
            on_error=failed,
        )

    def rename_athlete(self, athlete_id: int, name: str, version: int | None = None) -> None:
        """`version`: the athlete's as the dialog showed it, so that a rename made meanwhile
        elsewhere is not overwritten (None: the last rename wins)."""

        def failed(exc: BaseException) -> None:
            details = exc.details if isinstance(exc, Conflict) else {}
            current, now = details.get("name"), details.get("version")
            if not (
                isinstance(exc, Conflict)
                and exc.reason == "stale_version"
                and isinstance(current, str)
                and isinstance(now, int)
            ):
                self._report(exc)
                return
            self.refresh_sidebar()  # the name given meanwhile, not the one the dialog showed
            if current != name:  # renamed to the very name asked: nothing was lost
                refused = RenameRefused(athlete_id, name, current, now, describe_error(exc))
                self.athleteRenameRefused.emit(refused)

        self.runner.submit(self.library.rename_athlete, athlete_id, name, version, on_error=failed)

    # ---- plumbing -------------------------------------------------------------------------------
    def _call(
        self, fn: Callable[..., Any], *args: Any, then: Callable[[Any], None] | None = None
    ) -> None:
        self.runner.submit(fn, *args, on_result=then, on_error=self._report)

    def _report(self, exc: BaseException) -> None:
        """An action's failure: every action here saves a change (trash, restore, an edit, a
        deletion, an athlete), so a full disk is said as the change's (as_change), as the
        server's 507 says it; an export's is `_report_file`."""
        self._report_file(as_change(exc))

    def _report_file(self, exc: BaseException) -> None:
        # a store throttling or failing, a store or catalog out of reach: when to try again,
        # as the server's Retry-After says it (a throttled store is not asked before then)
        message: ErrorMessage = describe_failure(exc)
        self.errorOccurred.emit(message)

    def _on_events(self, events: list[ChangeEvent]) -> None:
        """Changes from anywhere (this window, the HTTP API, maintenance) update the views; the
        ones that arrived together at once (a move of 900 files to the trash is 900 events)."""
        # At most one count per interval while events stream in: a restarted (debounced)
        # timer would leave the counts stale for a whole bulk import. Started before the grid
        # changes, so a grid emptied by these events knows new counts are coming (counts_pending).
        if not self._sidebar_timer.isActive():
            self._sidebar_timer.start()
        # (new files streaming in wait a moment and go in together: FileGridListModel)
        self.grid.apply_events(events, settle=True)
        # the counts refresh the examples only when a file of a kind comes or goes: a rename
        # of a file they name would have kept its old name there until then
        if any(event.file_id in self._example_ids for event in events):
            self.refresh_examples()
        current = self.current
        back = _back_from_trash(current, events)
        if back is not None and matches(back, self.grid.query):
            # Restored elsewhere while the details kept it with unsaved edits, under the "moved
            # to the trash" note: the panel shows it back with the edits, and a save saves
            # them. Left trashed, the note stayed, and Save, Ctrl+S and Restore and save all
            # said "The file is not in the trash": the edits could only be discarded.
            self.set_current(back)
            self.reveal_in_view(back.id)  # its tile selected again, once its row is in
        elif (
            current is not None
            and any(event.file_id == current.id for event in events)
            and self.grid.row_of(current.id) < 0
        ):
            gone = self._gone_elsewhere(current.id, events)
            if gone is not None and self.has_unsaved_edits(current.id):
                # Dropped, the typed text went without a word, and the panel, the keyboard
                # focus still in it, moved to the neighbouring file: typing edited that one.
                # So too for a file only moved out of the shown section (another athlete, made
                # private) by a change made elsewhere
                self.currentGone.emit(gone)
            else:
                self.set_current(None)  # deleted, or moved out of the shown section

    def _gone_elsewhere(self, file_id: int, events: list[ChangeEvent]) -> ChangeEvent | None:
        """The last of `events` that trashed or deleted the file in another process, else the
        last that changed it there (it left the shown section); None when this one did."""
        own = self.library.feed.origin
        mine = [e for e in events if e.file_id == file_id]
        elsewhere = [e for e in mine if e.origin is not None and e.origin != own]
        for event in reversed(elsewhere):
            if event.kind in (EventKind.TRASHED, EventKind.DELETED):
                return event
        if any(e.kind in (EventKind.TRASHED, EventKind.DELETED) for e in mine):
            return None  # trashed here: not kept
        return elsewhere[-1] if elsewhere else None

    def shutdown(self) -> None:
        self._counts_again.stop()
        self._pages_again.stop()
        if self._preview_token is not None:
            try:
                self.library.tokens.revoke(self._preview_token[0])
            except MediaDeskError as exc:
                logger.warning("Could not revoke the preview token: %s", exc.message)
            self._preview_token = None
        self.live.close()
        self.thumbnails.shutdown()
        self.runner.shutdown()


def _back_from_trash(current: FileRecord | None, events: list[ChangeEvent]) -> FileRecord | None:
    """The newer version `events` carry of `current` when they took it out of the trash (a
    restore on another desktop, the HTTP API); else None."""
    if current is None:
        return None
    mine = [e for e in events if e.file_id == current.id]
    if not any(e.kind == EventKind.RESTORED for e in mine) or mine[-1].kind == EventKind.DELETED:
        return None
    record = file_record(mine[-1])
    # an older version (our own restore's event after our save) must not take the panel back
    if record is None or record.is_trashed or record.version <= current.version:
        return None
    return record


def _now_trashed(lib: Library, file_id: int) -> bool:
    """Whether a permanent delete that failed left the file in the trash (its DELETE got no
    answer: the storage may still carry it out); False when that cannot be read now."""
    try:
        return lib.get_file(file_id).is_trashed
    except Exception:  # noqa: BLE001 - the failure itself is what is said
        return False
