"""The thumbnail grid's model: pages of catalog rows fetched on demand, updated by live events."""

from __future__ import annotations

import dataclasses
import logging
from bisect import bisect_left
from collections.abc import Callable
from datetime import datetime
from typing import Any

from PySide6 import QtGui
from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    Qt,
    QTimer,
    Signal,
)

from core.events import FILE_KINDS, ChangeEvent, EventKind
from core.feed import file_record
from core.jobs import JobState
from core.library import Library
from core.maintenance import purge_time
from core.query import insert_position, matches, order_key
from core.records import FileQuery, FileRecord, Page
from desktop_app.formatting import datetime_text, duration_text, percent_text, size_text
from desktop_app.models import Index
from desktop_app.models.thumbnails import ThumbnailLoader
from desktop_app.views.jobs_dock import state_text
from desktop_app.workers import TaskRunner

logger = logging.getLogger(__name__)

END_PAGE_SIZE = 1000  # rows per request while going to the end (the catalog's largest page)
# End with more rows than this still to load jumps to the last rows instead of loading every
# row on the way (a million rows took minutes and a gigabyte); scrolling up from there loads
# the rows before, a page at a time, by a backwards keyset cursor (FileQuery.backwards).
END_JUMP = 5000
TAIL_PAGE = 200  # rows loaded by the jump to the end
USER = int(Qt.ItemDataRole.UserRole)
# New files that arrive within this long (ms) of the last ones inserted wait and go in together
# at its end. A bulk import's files came one delivery of the live feed each (an upload's event
# as it ended), and each cost the view an insertion, a layout and a repaint of every tile shown:
# a thousand files kept the window's thread busy for most of the import. A file that comes
# alone still shows at once; a stream of them, ten times a second. Changes to loaded rows
# (edits, trash) never wait: they are the user's own, and go in order after the files held.
# Only the live feed's stream waits (apply_events(settle=True)): a direct call applies now.
ARRIVALS_SETTLE_MS = 100


class FileGridListModel(QAbstractListModel):
    """Rows are FileRecords; `fetchMore` loads the next page in a worker, never all rows."""

    RecordRole = USER + 1
    IdRole = USER + 2
    NameRole = USER + 3
    SizeRole = USER + 4
    DurationRole = USER + 5  # the badge text ("1:05"), empty for images
    FileTypeRole = USER + 6
    ThumbnailRole = int(Qt.ItemDataRole.DecorationRole)

    # file id -> processing state of a video (set by the main window), as its badge shows
    processing_of: Callable[[int], dict[str, Any] | None] | None = None

    loadingChanged = Signal(bool)
    totalChanged = Signal(int)
    loadFailed = Signal(object)
    pageLoaded = Signal()  # a page arrived (after a failure: the catalog answers again)
    recordChanged = Signal(object)  # a loaded record was replaced by a newer version
    reachedEnd = Signal()  # fetch_all() loaded the last row
    # file id: an updated file's new place is past the loaded rows; its row is removed next,
    # though the file is still in the view (paging, or `load_until`, brings it back)
    rowLeaving = Signal(int)

    def __init__(
        self,
        library: Library,
        runner: TaskRunner,
        thumbnails: ThumbnailLoader | None = None,
        page_size: int = 100,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.library, self.runner, self.thumbnails = library, runner, thumbnails
        self.page_size = page_size
        self._query = FileQuery(limit=page_size)
        self._rows: list[FileRecord] = []
        self._rows_by_id: dict[int, int] | None = {}
        self._total = 0
        self._generation = 0
        self._fetching = False
        self._loaded_once = False
        # the last page asked did not arrive (its error) until one does: no empty answer
        self._failed: BaseException | None = None
        # refresh(): the rows are the query's as last listed; the first page is asked again
        # and replaces them when it comes (the next page asked is that one, not the rows after)
        self._stale = False
        self._held_events: list[ChangeEvent] = []  # arrived while a page was loading
        # keyset position after the last page: the next page costs the same at any depth
        self._cursor: str | None = None
        self._to_end = False  # fetch_all(): keep loading (in big pages) until the last row
        # After a jump to the end the rows are the order's last ones: `_back` is the backwards
        # cursor to the rows before them (None: the first row is loaded, as in a plain list)
        self._back: str | None = None
        # load_until(): the file to load the pages up to, and the row count to give up at
        self._seek: tuple[int, int] | None = None
        # a count of the view's files on its way (_recount), and whether one more must follow
        self._recounting = self._recount_again = False
        # new files held till the last ones inserted settle (ARRIVALS_SETTLE_MS), not yet in
        # the rows nor the total: each with whether the total counts it already (_insert_many)
        self._arriving: list[tuple[FileRecord, bool]] = []
        self._arrivals_timer = QTimer(self, singleShot=True, interval=ARRIVALS_SETTLE_MS)
        self._arrivals_timer.timeout.connect(self._insert_arrived)
        if thumbnails is not None:
            thumbnails.loaded.connect(self._on_thumbnail)

    # ---- query ------------------------------------------------------------------------------
    @property
    def query(self) -> FileQuery:
        return self._query

    @property
    def total(self) -> int:
        return self._total

    @property
    def loading(self) -> bool:
        return self._fetching

    @property
    def loaded(self) -> bool:
        """True once the first page of the current query arrived (or failed)."""
        return self._loaded_once

    @property
    def failed(self) -> BaseException | None:
        """Why the last page asked did not arrive, until one does (None: it did). A failed
        first page is no answer: the view is not known to be empty, nor its total 0."""
        return self._failed

    def set_query(self, query: FileQuery) -> None:
        self._query = dataclasses.replace(query, limit=self.page_size, offset=0)
        self.reload()

    def reload(self) -> None:
        """Drops the loaded rows and fetches the first page again."""
        self._total = 0
        self._reset()
        self.totalChanged.emit(0)
        self._fetch()

    def refresh(self) -> None:
        """The same query asked again (F5): the rows loaded stay until its first page comes,
        then give way to it. Dropped at once, a catalog outage left the grid saying "The files
        cannot be listed" in place of the files the user was looking at, and their selection
        lost, until the catalog came back."""
        if not self._rows:
            self.reload()
            return
        self._generation += 1  # a page on its way is the old rows': dropped
        self._fetching = False  # (quietly: the request below says it loads)
        self._stale, self._failed = True, None
        self._to_end, self._seek = False, None
        self._fetch()

    def _reset(self) -> None:
        """No rows (a page on its way is dropped by the generation); the total is kept."""
        self._generation += 1
        self._fetching = self._loaded_once = self._to_end = False
        self._failed = None
        self._held_events = []
        self._arriving = []  # (committed before the page to come reads the catalog: in it)
        self._seek = None
        self._drop_rows()

    def _drop_rows(self) -> None:
        self.beginResetModel()
        self._rows, self._rows_by_id = [], {}
        self._cursor, self._back, self._stale = None, None, False
        self.endResetModel()

    def _on_fresh(self, page: Page) -> None:
        """refresh()'s first page: the rows loaded give way to it (the changes held while it
        loaded go on top of it, as on any page)."""
        self._drop_rows()
        self._on_page(page)

    @property
    def complete(self) -> bool:
        """Every row of the query is loaded."""
        return (
            self._loaded_once
            and not self._stale
            and self._failed is None
            and not self._fetching
            and self._back is None
            and len(self._rows) >= self._total
        )

    @property
    def has_before(self) -> bool:
        """After a jump to the end: rows before the first loaded one (`fetch_previous`)."""
        return self._back is not None

    @property
    def _end_loaded(self) -> bool:
        # with rows before the loaded ones, the loaded ones are the order's last
        return self._back is not None or (
            self._loaded_once and self._failed is None and len(self._rows) >= self._total
        )

    def fetch_all(self) -> None:
        """Loads the remaining rows, or with many, jumps to the last ones (End goes to the true
        end either way); `reachedEnd` when the last row is loaded."""
        if self._end_loaded and not self._fetching:
            self.reachedEnd.emit()
            return
        if self._loaded_once and self._total - len(self._rows) > END_JUMP:
            self._jump_to_end()
            return
        self._to_end = True
        if self._loaded_once:
            self._fetch()  # else the first page, on its way, continues the run

    def load_until(self, file_id: int) -> None:
        """Loads the next pages (big ones, in workers) until this file's row is loaded, or the
        last row is, or END_JUMP more rows are (beyond that it stays unloaded, as End and Ctrl+A
        do not load all rows either). `seeking` is True meanwhile."""
        if self.row_of(file_id) >= 0 or self._back is not None or self.complete:
            return
        self._seek = (file_id, len(self._rows) + END_JUMP)
        if self._loaded_once:
            self._fetch()  # else the first page, on its way, continues the run

    @property
    def seeking(self) -> bool:
        return self._seek is not None

    def _jump_to_end(self) -> None:
        """Drops the loaded rows and loads the last TAIL_PAGE of the order."""
        self._reset()
        query = dataclasses.replace(self._query, limit=TAIL_PAGE, backwards=True)
        self._request(query, self._on_tail)

    def _on_tail(self, page: Page) -> None:
        self._loaded_once = True
        self._arrived()
        self._prepend(page)
        self._total = max(page.total, len(self._rows))
        self.totalChanged.emit(self._total)
        self._page_in()
        self.reachedEnd.emit()

    def fetch_previous(self) -> None:
        """After a jump to the end: loads the page of rows before the first loaded one."""
        if self._back is None or self._fetching or self._stale:
            return
        self._insert_arrived()  # (as _fetch)
        query = dataclasses.replace(
            self._query, limit=self.page_size, backwards=True, cursor=self._back, offset=0
        )
        self._request(query, self._on_previous)

    def _on_previous(self, page: Page) -> None:
        self._arrived()
        self._prepend(page)
        self._total = max(self._total, len(self._rows))
        self._page_in()

    def _prepend(self, page: Page) -> None:
        """A backwards page (nearest first) before the loaded rows; its cursor goes on back,
        None once the first row is loaded (a plain, complete list again)."""
        known = self._index()
        new = [r for r in page.items[::-1] if r.id not in known]
        if new:  # (the view keeps its place while `has_before` still holds)
            self.beginInsertRows(QModelIndex(), 0, len(new) - 1)
            self._rows[:0] = new
            self._rows_by_id = None
            self.endInsertRows()
        self._back = page.next_cursor

    def _apply_held(self) -> None:
        held, self._held_events = self._held_events, []
        self.apply_events(held)

    def _page_in(self) -> None:
        """A page's rows and total are in: the changes held for it go on top, and only then
        does loading end. Said before the rows, its listeners saw none: the empty notice
        flashed over a full grid and took the keyboard from it."""
        self._fetching = False  # (quietly, for now: else the held changes are held again)
        self._apply_held()
        if not self._fetching:  # (a held change it could not read reloads: a page is asked)
            self.loadingChanged.emit(False)

    def _fetch(self) -> None:
        if self._fetching:
            return
        # before the offset is taken and the catalog read: they are in what it answers, and
        # held past it they would go on top of it, counted twice
        self._insert_arrived()
        limit = END_PAGE_SIZE if self._to_end or self._seek else self.page_size
        if self._stale:
            first = dataclasses.replace(self._query, offset=0, cursor=None, limit=limit)
            self._request(first, self._on_fresh)
            return
        if self._back is not None:
            return
        offset = len(self._rows)
        cursor = self._cursor if offset else None
        query = dataclasses.replace(
            self._query, offset=0 if cursor else offset, cursor=cursor, limit=limit
        )
        self._request(query, self._on_page)

    def _request(self, query: FileQuery, on_page: Callable[[Page], None]) -> None:
        """One page in a worker; dropped when the query changed meanwhile (the generation)."""
        self._set_fetching(True)
        generation = self._generation

        def done(page: Page) -> None:
            if generation == self._generation:
                on_page(page)

        self.runner.submit(
            self.library.list_files,
            query,
            on_result=done,
            on_error=lambda exc: self._on_error(generation, exc),
        )

    def _set_fetching(self, value: bool) -> None:
        if value != self._fetching:
            self._fetching = value
            self.loadingChanged.emit(value)

    def fetch_again(self) -> None:
        """The page that failed asked again (from the rows loaded; the first if none), unless
        another is on its way (a new query's)."""
        self._fetch()

    def _arrived(self) -> None:
        self._failed = None
        self.pageLoaded.emit()

    def _on_page(self, page: Page) -> None:
        self._loaded_once = True
        self._arrived()
        self._cursor = page.next_cursor
        known = self._index()
        new = [r for r in page.items if r.id not in known]
        if new:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            self._rows.extend(new)
            # the index grows with the rows: rebuilding it for every page made End quadratic
            known.update((r.id, i) for i, r in enumerate(new, first))
            self.endInsertRows()
        if page.total != self._total:
            self._total = max(page.total, len(self._rows))
            self.totalChanged.emit(self._total)
        # The page may predate changes announced while it loaded: they go on top of it.
        self._page_in()
        if self._seek is not None:
            file_id, give_up = self._seek
            more = len(self._rows) < min(self._total, give_up) and bool(page.items)
            if self.row_of(file_id) < 0 and more:
                self._fetch()
            else:
                self._seek = None
        if self._to_end:
            if len(self._rows) < self._total and page.items:
                self._fetch()
            else:
                self._to_end = False
                self.reachedEnd.emit()

    def _on_error(self, generation: int, exc: BaseException) -> None:
        if generation == self._generation:
            self._loaded_once = True
            # (before loading ends: its listeners read it) The total stays what the catalog
            # said last: the rows not loaded are not asked for (canFetchMore) until a page comes
            self._failed = exc
            self._set_fetching(False)
            self._to_end = False
            self._seek = None
            self._apply_held()
            self.loadFailed.emit(exc)

    # ---- Qt model API -------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        if parent.isValid() or self._fetching or self._back is not None or self._failed:
            return False
        if self._stale:
            return False  # the first page is asked again, not the rows after the old ones
        return self._loaded_once and len(self._rows) < self._total

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        if self.canFetchMore(parent):
            self._fetch()

    def data(self, index: Index, role: int = int(Qt.ItemDataRole.DisplayRole)) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        record = self._rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, self.NameRole):
            return record.original_filename
        if role == self.ThumbnailRole:
            return self.thumbnails.pixmap(record) if self.thumbnails is not None else None
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = f"{record.original_filename}\n{size_text(record.size)}"
            if record.deleted_at is not None:
                tip += "\n" + self._purge_text(record.deleted_at)
            # as text: a name that starts like a tag (`<font size=1>…`) made Qt read the
            # whole tip as markup
            return QtGui.Qt.convertFromPlainText(tip, Qt.WhiteSpaceMode.WhiteSpaceNormal)
        if role == Qt.ItemDataRole.AccessibleDescriptionRole:
            return self._description(record)
        if role == self.RecordRole:
            return record
        if role == self.IdRole:
            return record.id
        if role == self.SizeRole:
            return size_text(record.size)
        if role == self.DurationRole:
            return duration_text(record.duration) if record.file_type == "video" else ""
        if role == self.FileTypeRole:
            return record.file_type
        return None

    def _purge_text(self, deleted_at: datetime) -> str:
        """When a trashed file is deleted for good (its tooltip and what a screen reader says)."""
        when = purge_time(deleted_at, self.library.settings.trash_retention_days)
        return self.tr("Deleted for good on %1").replace("%1", datetime_text(when))

    def _description(self, record: FileRecord) -> str:
        """What a tile shows besides its name, for a screen reader (which read the name only):
        its kind, length or picture size, file size, the processing badge and, in the trash,
        when it goes for good: "Video, 2:05, 12.3 MiB, processing running, 40 %"."""
        video = record.file_type == "video"
        parts = [self.tr("Video") if video else self.tr("Image")]
        if video and record.duration is not None:
            parts.append(duration_text(record.duration))
        elif not video and record.display_size:
            parts.append("{} × {}".format(*record.display_size))
        if record.size is not None:
            parts.append(size_text(record.size))
        state = self.processing_of(record.id) if self.processing_of is not None else None
        kind = (state or {}).get("state")
        if kind in (JobState.QUEUED, JobState.RUNNING, JobState.FAILED):  # the badge's states
            parts.append(self.tr("processing %1").replace("%1", state_text(str(kind))))
            if kind == JobState.RUNNING:
                parts.append(percent_text((state or {}).get("progress")))
        text = ", ".join(parts)
        if record.deleted_at is not None:
            text += ". " + self._purge_text(record.deleted_at)
        return text

    def processing_changed(self, file_id: int) -> None:
        """A video's processing state changed: its tile's description (and badge) with it."""
        row = self.row_of(file_id)
        if row >= 0:
            index = self.index(row)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.AccessibleDescriptionRole])

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    # ---- lookups ------------------------------------------------------------------------------
    def _index(self) -> dict[int, int]:
        if self._rows_by_id is None:
            self._rows_by_id = {r.id: i for i, r in enumerate(self._rows)}
        return self._rows_by_id

    def row_of(self, file_id: int) -> int:
        return self._index().get(file_id, -1)

    def record_at(self, row: int) -> FileRecord | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def record(self, file_id: int) -> FileRecord | None:
        row = self.row_of(file_id)
        return self._rows[row] if row >= 0 else None

    def _on_thumbnail(self, file_id: int) -> None:
        row = self.row_of(file_id)
        if row >= 0:
            index = self.index(row)
            self.dataChanged.emit(index, index, [self.ThumbnailRole])

    # ---- live updates -------------------------------------------------------------------------
    def apply_event(self, event: ChangeEvent) -> None:
        """Inserts, replaces or removes the row an event is about, keeping paging offsets right."""
        self.apply_events([event])

    def _counted_before(self, event: ChangeEvent) -> bool:
        """Whether the file's version before `event` matched the view: the total counted it."""
        previous = _previous_record(event)
        return previous is not None and matches(previous, self._query)

    def apply_events(self, events: list[ChangeEvent], settle: bool = False) -> None:
        """`apply_event` for each, with the rows they remove taken out in one removal per run of
        neighbouring rows: moving 900 selected files to the trash removed them one at a time,
        and each removal cost the view a pass over the whole selection (seconds frozen). New
        files likewise go in with one insertion per run of neighbours (`_insert_many`): a
        bulk import inserted them one row, one total and one view update at a time. `settle`
        (the live feed's stream): new files within ARRIVALS_SETTLE_MS of the last ones inserted
        wait for the end of it; without, every change held goes in now too."""
        gone: set[int] = set()  # rows to remove; still in place, so row numbers hold meanwhile
        # files not loaded that come in, in event order (after those held): inserted together
        # before any other change touches the rows, or at the end (or held, ARRIVALS_SETTLE_MS)
        coming, self._arriving = self._arriving, []
        coming_ids = {record.id for record, _counted in coming}
        for event in events:
            if event.kind not in FILE_KINDS or event.file_id is None:
                continue
            if self._fetching:
                self._held_events.append(event)  # applied when the page arrives
                continue
            if not self._loaded_once:
                continue
            if event.file_id in coming_ids:  # a later change of a file still to insert
                self._remove(gone)
                self._insert_many(coming)
                coming_ids.clear()
            # a count on its way may have been read before this change: one more follows it
            self._recount_again = self._recount_again or self._recounting
            row = self.row_of(event.file_id)
            # core.feed's reader, the server's too: a field added to records reaches the grid
            record = None if event.kind == EventKind.DELETED else file_record(event)
            counted: bool | None = None  # whether the total counted a file not loaded
            if row < 0 and event.kind != EventKind.DELETED:
                counted = self._counted_before(event)
                if record is not None and matches(record, self._query):
                    coming.append((record, counted))
                    coming_ids.add(record.id)
                    continue
            if coming:  # in before a change that may move or remove rows
                self._remove(gone)  # (the rows to remove first: their numbers hold till then)
                self._insert_many(coming)
                coming_ids.clear()
                row = self.row_of(event.file_id)
            if event.kind == EventKind.DELETED:
                if row >= 0:
                    gone.add(row)
                else:
                    self._forget_unloaded(event)
                continue
            if record is None:
                logger.warning("Cannot read the file in event %s; reloading", event.kind)
                gone.clear()  # the reload drops every row
                self.reload()
                continue
            if row >= 0 and not matches(record, self._query):
                gone.add(row)
                continue
            # its row leaves with an earlier event of this batch (restored, then trashed again)
            leaving = row >= 0 and row in gone
            self._remove(gone)  # before a row moves or comes back: rows renumber after it
            row = self.row_of(event.file_id)
            if row >= 0:
                row = self._place(row, record)
                if row >= 0:
                    self._rows[row] = record
                    index = self.index(row)
                    self.dataChanged.emit(index, index)
                self.recordChanged.emit(record)
                continue
            if leaving:
                # back in the view: it comes in again, no longer counted (its removal took it
                # from the total). Taken for a file not in the view, it was lost from the grid
                # and its total until the view was loaded again: the trash showed one file
                # fewer, or "The trash is empty" beside a count of 1
                coming.append((record, False))
                coming_ids.add(record.id)
                continue
            # Not loaded and not in the view (one that is went to `coming` above): the version
            # before the change tells whether the total counted it.
            if counted is None:  # its row was removed above, by an earlier event of the batch
                counted = self._counted_before(event)
            if counted:
                # it left the view unseen (trashed, renamed out of a search...)
                self._total = max(self._total - 1, len(self._rows))
                self.totalChanged.emit(self._total)
        self._remove(gone)  # (first: the insertions' places are among the rows left)
        if coming and settle and self._arrivals_timer.isActive():
            self._arriving = coming  # the last ones went in a moment ago: these wait
        elif coming:
            self._insert_many(coming)
            if settle:
                self._arrivals_timer.start()  # the next ones wait for the end of it

    def _insert_arrived(self) -> None:
        """The new files held (ARRIVALS_SETTLE_MS) go in now."""
        if self._arriving and self._loaded_once and not self._fetching:
            self._insert_many(self._arriving)
            self._arrivals_timer.start()  # (still streaming in: the next ones wait too)

    def _forget_unloaded(self, event: ChangeEvent) -> None:
        """A file deleted for good that is not among the loaded rows: the total counted it if
        it matched the view as it was when deleted (the event's record, core.feed's snapshot:
        a trashed file already left the library's total and is in the trash's). An event
        whose record cannot be read (older writers) leaves only a recount to tell, as does one
        whose status is not the view's: the record of a file that left the ready ones holds its
        new status (core.feed._dirty_kind), that of a pending upload deleted its own."""
        record = file_record(event)
        if record is None:
            self._recount()
            return
        if self._query.status and record.status != self._query.status:
            self._recount()
            return
        if matches(record, self._query):
            self._total = max(self._total - 1, len(self._rows))
            self.totalChanged.emit(self._total)

    def _recount(self) -> None:
        """Reads the view's total again, in a worker. Asked again while one is on its way, one
        more follows it (read after the latest change), whatever the number asked meanwhile:
        a thousand deletions cost two counts, not a thousand."""
        if self._recounting:
            self._recount_again = True
            return
        self._insert_arrived()  # (as _fetch: the count has them)
        self._recounting = True
        generation = self._generation
        query = dataclasses.replace(self._query, limit=1, offset=0, cursor=None, backwards=False)

        def done(page: Page) -> None:
            self._recounting = False
            if self._recount_again:
                self._recount_again = False
                self._recount()
            elif generation == self._generation and not self._fetching:
                # (a page on its way brings its own total, and the events held for it)
                self._total = max(page.total, len(self._rows))
                self.totalChanged.emit(self._total)

        def failed(exc: BaseException) -> None:
            self._recounting = self._recount_again = False
            logger.warning("Cannot count the files of the view: %s", exc)

        self.runner.submit(self.library.list_files, query, on_result=done, on_error=failed)

    def _remove(self, rows: set[int]) -> None:
        """Removes these rows, last run of neighbours first (the rows above keep their numbers)."""
        if not rows:
            return
        count = len(rows)
        ordered = sorted(rows, reverse=True)
        rows.clear()
        start = 0
        while start < len(ordered):
            end = start
            while end + 1 < len(ordered) and ordered[end + 1] == ordered[end] - 1:
                end += 1
            first, last = ordered[end], ordered[start]
            self.beginRemoveRows(QModelIndex(), first, last)
            del self._rows[first : last + 1]
            self._rows_by_id = None
            self.endRemoveRows()
            start = end + 1
        self._total = max(self._total - count, len(self._rows))
        self.totalChanged.emit(self._total)

    def _place(self, row: int, record: FileRecord) -> int:
        """Moves the row of an updated record to where its new version sorts (a rename under
        the name order kept its old place); returns its row, or -1 when its place is outside the
        loaded rows, like `_insert`: it left them (the total keeps it) and paging brings it back
        (`rowLeaving` first: the browser keeps it selected and loads the pages up to it).
        A move, not a removal and insertion: the view's selection and current index follow."""
        rows = self._rows
        key = order_key(self._query.sort)
        old, new = key(rows[row]), key(record)
        # the other rows stay in order: search only the side the record now sorts on
        if row > 0 and new < key(rows[row - 1]):
            position = bisect_left(rows, new, 0, row, key=key)
        elif row + 1 < len(rows) and key(rows[row + 1]) < new:
            position = bisect_left(rows, new, row + 1, len(rows), key=key) - 1
        else:
            position = row
        # at an edge of the loaded rows with rows not loaded beyond it, it may sort among those
        if (position == 0 and self._back is not None and new < old) or (
            position == len(rows) - 1 and not self._end_loaded and old < new
        ):
            self.rowLeaving.emit(record.id)
            self.beginRemoveRows(QModelIndex(), row, row)
            del rows[row]
            self._rows_by_id = None
            self.endRemoveRows()
            return -1
        if position == row:
            return row
        # Qt counts the destination before the move: below the row, one more
        self.beginMoveRows(
            QModelIndex(), row, row, QModelIndex(), position + 1 if position > row else position
        )
        rows.insert(position, rows.pop(row))
        self._rows_by_id = None
        self.endMoveRows()
        return position

    def _insert_many(self, coming: list[tuple[FileRecord, bool]]) -> None:
        """Puts files not loaded at their places in the loaded rows, those that sort among
        them; each with `counted`: the total already has it (an edited file, unloaded before).
        Emptied. One insertion per run of new files that fall between the same two loaded
        rows (all of them, for newest first: the top), and one total: a file at a time, a
        thousand files arriving cost the view a thousand insertions and as many layouts."""
        if not coming:
            return
        sort = self._query.sort
        end_loaded = self._end_loaded  # (as the rows were: the new total may exceed them)
        self._total += sum(1 for _record, counted in coming if not counted)
        records = sorted((record for record, _counted in coming), key=order_key(sort))
        coming.clear()
        runs: list[tuple[int, list[FileRecord]]] = []  # (place among the loaded rows, files)
        for record in records:
            position = insert_position(self._rows, record, sort)
            if position == 0 and self._back is not None:
                continue  # it sorts before the loaded rows: fetch_previous brings it (keyset)
            if position == len(self._rows) and not end_loaded:
                continue  # it sorts after the loaded rows; the next fetchMore brings it
            if runs and runs[-1][0] == position:
                runs[-1][1].append(record)
            else:
                runs.append((position, [record]))
        # the last run first: the places of the runs before it hold
        for position, run in reversed(runs):
            self.beginInsertRows(QModelIndex(), position, position + len(run) - 1)
            self._rows[position:position] = run
            self._rows_by_id = None
            self.endInsertRows()
        self.totalChanged.emit(self._total)


def _previous_record(event: ChangeEvent) -> FileRecord | None:
    """The file as it was before the event's change, if the event says (`previous`: the fields
    the change altered): its record with those fields, read by core.feed's one reader of an
    event's record, as the record itself is."""
    if not event.previous:
        return None
    before = {**event.data, **event.previous}
    return file_record(dataclasses.replace(event, data=before, previous=None))
