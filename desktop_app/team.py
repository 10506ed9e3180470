"""Team mode in the window: several desktops and servers on one catalog, live.

- The window takes part in the catalog's maintenance leadership (core/leader.py), so the trash
  purge and upload expiry run even when no server runs anywhere.
- A save that meets a newer version opens the conflict dialog (theirs vs yours) instead of an
  error: Reload drops the edits, Overwrite saves them over the newer version.
- A file trashed or deleted elsewhere while it is open in the details panel or the preview says
  so, naming where. Being edited (unsaved), it stays in the panel with the typed text and a
  notice: Restore and save (when trashed) or Discard.
- The status bar shows the catalog and whether the live change feed is connected, and that
  the disk holding the library is gone once an action failed on it, until it answers again.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QDialog, QLabel

from core.errors import Conflict, StorageUnavailable
from core.events import ChangeEvent, EventKind
from core.leader import MaintenanceLeader
from core.records import FileRecord
from desktop_app.errors import as_change, describe_error, describe_failure
from desktop_app.views.conflict_dialog import ConflictDialog
from desktop_app.workers import TaskRunner

if TYPE_CHECKING:
    from desktop_app.views.main_window import MainWindow

logger = logging.getLogger(__name__)

FEED_CHECK_MS = 1000
GONE_NAMED = 3  # a line saying files gone elsewhere names this many, then counts them


def host_of(origin: str | None) -> str:
    """The machine part of a change's origin (host:pid:random)."""
    return (origin or "").split(":", 1)[0]


class TeamMode(QObject):
    """Attached to the main window by `attach(window)`; lives as long as the window."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.library = window.library
        self.conflict_dialog: ConflictDialog | None = None
        self.leader: MaintenanceLeader | None = None
        interval = self.library.settings.maintenance_interval
        if interval > 0:
            self.leader = self.library.maintenance_leader(interval)
            self.leader.start()
        controller = window.controller
        controller.saveConflict.connect(self._on_conflict)
        controller.handles_conflicts = True
        # `changed` comes before the controller's `changedTogether`, which closes the details of
        # a trashed file: this one has to see what was open to say what happened to it
        controller.live.changed.connect(self._on_event)
        # the files trashed or deleted elsewhere that arrived together, said in one line once
        # they are all in (emptying the trash elsewhere named only the file shown)
        self._gone_together: list[ChangeEvent] = []
        self._gone_shown: ChangeEvent | None = None
        # The line last said for files gone elsewhere and when: a batch (Empty trash) may reach
        # this window in more than one delivery of the feed, and the file shown goes with the
        # first, so later deliveries of the same change join that line instead of going unsaid
        self._gone_said: tuple[ChangeEvent, list[ChangeEvent], float] | None = None
        # The status bar's last "moved to the trash on …" line and the files it named: a restore
        # heard for one of them takes it down, or it went on saying so for 15 s over the file
        # back in the grid
        self._trash_line: tuple[str, set[int]] | None = None
        controller.live.changedTogether.connect(self._say_together)
        details = window.details
        controller.has_unsaved_edits = lambda file_id: (
            details.dirty and details.record is not None and details.record.id == file_id
        )
        controller.currentGone.connect(self._on_edited_gone)
        details.restoreAndSaveRequested.connect(self._restore_and_save)
        details.goneDiscarded.connect(lambda: controller.set_current(None))
        self._feed_state: tuple[bool | None, bool] | None = None
        # The disk under a SQLite catalog gone: reads may still be served from what the system
        # cached, so the feed's polling goes on as if live while every write fails. An action's
        # catalog_disk_unreachable says so; a write tells when it answers again.
        self._disk_gone: str | None = None  # the outage's sentence, while it lasts
        self._disk_since = 0.0
        self._leader_failed = False
        self._probing = False
        self._probe = TaskRunner(max_threads=1, parent=self)
        controller.runner.errorSeen.connect(self._on_task_error)
        self._timer = QTimer(self, interval=FEED_CHECK_MS)
        self._timer.timeout.connect(self._check_feed)
        self._timer.start()
        self._check_feed()

    def shutdown(self) -> None:
        self._timer.stop()
        self._probe.shutdown()
        leader, self.leader = self.leader, None
        if leader is not None:  # it joins threads and frees the lease: not on the GUI thread
            threading.Thread(target=leader.stop, name="mediadesk-leader-stop").start()

    # ---- status bar ---------------------------------------------------------------------------
    def _check_feed(self) -> None:
        if self._disk_gone is not None:
            self._check_disk()
        lib_feed = self.library.feed  # attributes only: no database call on the GUI thread
        state = lib_feed.connected if lib_feed.running else False
        if (state, self._disk_gone is not None) != self._feed_state:
            if state and (self._feed_state is None or not self._feed_state[0]):
                # the feed reached the catalog again: what waits out the outage is asked now
                self.window.controller.catalog_back()
            self._feed_state = (state, self._disk_gone is not None)
            detail = self._disk_gone or lib_feed.error or ""
            self.window.status.set_feed(state, detail, disk_gone=self._disk_gone is not None)

    def _on_task_error(self, exc: BaseException) -> None:
        if isinstance(exc, StorageUnavailable) and exc.reason == "catalog_disk_unreachable":
            if self._disk_gone is None:
                self._disk_since = time.monotonic()
                self._leader_failed = False
            self._disk_gone = describe_error(exc).text
            self._check_feed()

    def _check_disk(self) -> None:
        """Back once a write answers: the maintenance lease's, written every tick (attributes
        only here), failed since and then succeeded, or went on succeeding for a whole lease
        (the disk came back before its next tick); without a leader, a probe of the catalog."""
        leader = self.leader
        if leader is not None:
            if leader.last_error is not None:
                self._leader_failed = True
            elif self._leader_failed or time.monotonic() - self._disk_since > leader.ttl:
                self._disk_back(None)
            return
        if not self._probing:
            self._probing = True
            self._probe.submit(
                self.library.probe_catalog, on_result=self._disk_back, on_error=self._probed
            )

    def _probed(self, _exc: BaseException) -> None:
        self._probing = False

    def _disk_back(self, _result: object) -> None:
        self._probing = False
        self._disk_gone = None

    # ---- conflicts ----------------------------------------------------------------------------
    def _on_conflict(self, file_id: int, changes: dict[str, Any]) -> None:
        lib = self.library

        def load() -> tuple[FileRecord, ChangeEvent | None]:
            return lib.get_file(file_id), lib.last_change_of(file_id)

        self.window.controller.runner.submit(
            load,
            on_result=lambda pair: self._show_conflict(file_id, changes, *pair),
            on_error=self._failed,
        )

    def _show_conflict(
        self,
        file_id: int,
        changes: dict[str, Any],
        theirs: FileRecord,
        last: ChangeEvent | None,
    ) -> None:
        details = self.window.details

        def athlete_name(athlete_id: int | None) -> str:
            if athlete_id == theirs.athlete_id and theirs.athlete_name:
                return theirs.athlete_name
            index = details.athlete.findData(athlete_id)
            return details.athlete.itemText(index) if index >= 0 else str(athlete_id)

        who = host_of(last.origin) if last is not None else None
        when: datetime | None = last.at if last is not None else None
        dialog = ConflictDialog(theirs, changes, athlete_name, who, when, self.window)
        self.conflict_dialog = dialog

        def finished(_result: int) -> None:
            self.conflict_dialog = None
            controller = self.window.controller
            if dialog.choice == ConflictDialog.RELOAD:
                details.show_record(theirs)  # the edits go, the saved version shows
                if controller.current is not None and controller.current.id == file_id:
                    controller.set_current(theirs)
            elif dialog.choice == ConflictDialog.OVERWRITE:
                controller.save_metadata(file_id, changes, theirs.version)
            dialog.deleteLater()

        dialog.finished.connect(finished)
        dialog.open()

    # ---- changes made elsewhere ---------------------------------------------------------------
    def _on_event(self, event: ChangeEvent) -> None:
        # One change that cannot be said must not stop the others (nor open an error box per
        # file of a batch trashed elsewhere): it is logged, the next ones are said
        try:
            self._say_where(event)
        except Exception:
            logger.exception("Could not show a change made elsewhere: %s", event)

    def _say_where(self, event: ChangeEvent) -> None:
        if event.kind == EventKind.RESTORED and event.file_id is not None:
            self._unsay(event.file_id)
            self._unsay_status(event.file_id)
            return
        if event.kind == EventKind.UPDATED and event.file_id is not None:
            self._retitle(event)
            return
        if event.kind not in (EventKind.TRASHED, EventKind.DELETED) or event.file_id is None:
            return
        if event.origin is None or event.origin == self.library.feed.origin:
            return  # this window's own doing
        text = self._where_text(event)
        details = self.window.details.record
        preview = getattr(self.window, "preview_dialog", None)
        shown = details is not None and details.id == event.file_id
        if isinstance(preview, QDialog) and shiboken6.isValid(preview) and preview.isVisible():
            record = getattr(preview, "record", None)
            if record is not None and record.id == event.file_id:
                self._banner(preview, text)
                gone = getattr(getattr(preview, "viewer", None), "source_gone", None)
                if event.kind == EventKind.DELETED and callable(gone):
                    gone()  # the banner says it all: no "could not be opened" under it
                shown = True
        self._gone_together.append(event)
        if shown:
            self._gone_shown = event

    def _say_together(self, _events: list[ChangeEvent]) -> None:
        gone, self._gone_together = self._gone_together, []
        shown, self._gone_shown = self._gone_shown, None
        said = self._gone_said
        if said is not None and time.monotonic() - said[2] < 15:
            first, before, _ = said
            known = {e.file_id for e in before}

            def same_change(e: ChangeEvent) -> bool:
                return e.kind == first.kind and host_of(e.origin) == host_of(first.origin)

            # The same change's next delivery joins the line said, while it still shows: with
            # no file shown any more, or with the file the selection moved on to (the next
            # row, gone with the same Empty trash), which would otherwise replace the line
            # with its own name alone
            if (shown is None or same_change(shown)) and any(
                same_change(e) and e.file_id not in known for e in gone
            ):
                shown, gone = first, before + gone
        if shown is None:
            return
        try:
            self._say_gone(shown, gone)
        except Exception:
            logger.exception("Could not say the changes made elsewhere: %s", gone)

    def _say_gone(self, shown: ChangeEvent, gone: list[ChangeEvent]) -> None:
        """The file shown gone elsewhere, with the others that went with it (by the same kind
        of change, on the same machine): named up to GONE_NAMED, always counted."""
        alike = [
            e for e in gone if e.kind == shown.kind and host_of(e.origin) == host_of(shown.origin)
        ]
        ids = list(dict.fromkeys(e.file_id for e in alike))
        self._gone_said = (shown, alike, time.monotonic())
        if len(ids) < 2:
            self._show_gone_line(shown, self._where_text(shown), ids)
            return
        names = {e.file_id: str(e.data.get("original_filename") or e.file_id) for e in alike}
        quoted = self.tr("“%1”")  # «%1» in Spanish
        listed = ", ".join(quoted.replace("%1", names[i]) for i in ids[:GONE_NAMED])
        if len(ids) > GONE_NAMED:
            listed += " …"
        if shown.kind == EventKind.TRASHED:
            text = self.tr("%Ln file(s) were moved to the trash on %2: %1", "", len(ids))
        else:
            text = self.tr("%Ln file(s) were deleted permanently on %2: %1", "", len(ids))
        text = text.replace("%2", host_of(shown.origin)).replace("%1", listed)
        self._show_gone_line(shown, text, ids)

    def _show_gone_line(self, shown: ChangeEvent, text: str, ids: list[int | None]) -> None:
        self.window.status.showMessage(text, 15000)
        trashed = shown.kind == EventKind.TRASHED
        self._trash_line = (text, {i for i in ids if i is not None}) if trashed else None

    def _unsay_status(self, file_id: int) -> None:
        """A file the status bar says was moved to the trash is back: the line goes (when it
        still shows; another message since is left alone)."""
        line = self._trash_line
        if line is None or file_id not in line[1]:
            return
        self._trash_line = None
        self.window.status.withdraw(line[0])

    def _where_text(self, event: ChangeEvent) -> str:
        name = str(event.data.get("original_filename") or event.file_id)
        where = host_of(event.origin)
        if event.kind == EventKind.TRASHED:
            text = self.tr("“%1” was moved to the trash on %2.")
        else:
            text = self.tr("“%1” was deleted on %2.")
        return text.replace("%1", name).replace("%2", where)

    def _on_edited_gone(self, event: ChangeEvent) -> None:
        """The file being edited went elsewhere (LibraryController.currentGone): the panel keeps
        it and the typed text, and says what can be done."""
        if event.kind in (EventKind.TRASHED, EventKind.DELETED):
            self.window.details.show_gone(self._where_text(event), event.kind == EventKind.TRASHED)
            return
        # only out of the section shown: it is still there, and a save reaches it (theirs vs
        # yours when their change met a field being edited)
        name = str(event.data.get("original_filename") or event.file_id)
        text = self.tr("“%1” was changed on %2 and left this view; your edits are kept.")
        self.window.status.showMessage(
            text.replace("%1", name).replace("%2", host_of(event.origin)), 15000
        )

    def _restore_and_save(self, file_id: int) -> None:
        lib, controller = self.library, self.window.controller

        def restored(record: FileRecord) -> None:
            details = self.window.details
            if details.record is None or details.record.id != record.id or not details.dirty:
                return  # discarded or moved on meanwhile
            # the edits now stand on the restored version (the trash and the restore changed
            # none of the form's fields): the save is no conflict with the trash
            details.show_record(record, keep_edits=True)
            controller.set_current(record)
            details.request_save()
            # its tile left the grid with the trash: selected again once back, or the details
            # showed a file no tile was selected for
            controller.reveal_in_view(record.id)

        def restore() -> FileRecord:
            try:
                return lib.restore(file_id)
            except Conflict as exc:
                if exc.reason != "not_trashed":
                    raise
                # restored elsewhere before this window heard of it: the edits are saved to it
                # (said "The file is not in the trash", they could only be discarded)
                return lib.get_file(file_id)

        controller.runner.submit(restore, on_result=restored, on_error=self._failed)

    def _failed(self, exc: BaseException) -> None:
        """An action of the user's that failed, in words (errorOccurred carries ErrorMessages:
        the bare exception, "Restore and save" with the catalog out, was an "unexpected" error
        dialog: "'StorageUnavailable' object has no attribute 'display'")."""
        self.window.controller.errorOccurred.emit(describe_failure(as_change(exc)))

    def _unsay(self, file_id: int) -> None:
        """The file the preview shows is out of the trash again (restored here or elsewhere):
        its "moved to the trash" line goes, or it went on saying so over a file back in the
        grid."""
        preview = getattr(self.window, "preview_dialog", None)
        if not (isinstance(preview, QDialog) and shiboken6.isValid(preview)):
            return
        record = getattr(preview, "record", None)
        label = preview.findChild(QLabel, "elsewhereBanner")
        if record is not None and record.id == file_id and label is not None:
            label.hide()

    def _retitle(self, event: ChangeEvent) -> None:
        """The file the preview shows renamed (here or elsewhere): its title follows, as the
        grid's tile does (it kept the old name)."""
        preview = getattr(self.window, "preview_dialog", None)
        if not (isinstance(preview, QDialog) and shiboken6.isValid(preview)):
            return
        record = getattr(preview, "record", None)
        name = event.data.get("original_filename")
        if record is not None and record.id == event.file_id and isinstance(name, str) and name:
            preview.setWindowTitle(name)

    def _banner(self, dialog: QDialog, text: str) -> None:
        """A line at the top of the preview: it may stop playing, and this says why."""
        label = dialog.findChild(QLabel, "elsewhereBanner")
        if label is None:
            label = QLabel(dialog)
            label.setObjectName("elsewhereBanner")
            label.setTextFormat(Qt.TextFormat.PlainText)  # a file name, as written
            label.setWordWrap(True)
            label.setMargin(6)
            label.setStyleSheet("background: #fff3cd; color: #5c4400;")
            layout = dialog.layout()
            if layout is not None:
                layout.insertWidget(0, label)  # type: ignore[attr-defined]
        label.setText(text)
        label.show()


def attach(window: MainWindow) -> TeamMode:
    return TeamMode(window)
