"""The Storage dock: what the library holds per type and athlete, the store's real size and its
drift from the catalog, and the daily history kept in the catalog (core/usage.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import QLocale, Qt, Signal
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.library import Library
from core.usage import StoreScan
from desktop_app.errors import describe_error
from desktop_app.formatting import date_text, size_text, stamp_text
from desktop_app.views.focus_ring import ButtonsAtWork
from desktop_app.views.tables import read_only_table
from desktop_app.workers import Mailbox, TaskRunner

HISTORY_DAYS = 90


def _load(library: Library) -> dict[str, Any]:
    """Worker side: the report, its history and whether its drift still holds, in one trip."""
    usage = library.usage
    return {
        **usage.report(),  # a copy: core keeps the report it built for the server's gauges
        "history": usage.history(HISTORY_DAYS),
        "drift_outdated": usage.catalog_changed_since_scan(),
    }


def _scan_and_load(library: Library) -> dict[str, Any]:
    library.usage.scan()
    return _load(library)


class StorageView(QDockWidget):
    """`usageChanged(report)` after every refresh (the status bar's warning follows it)."""

    usageChanged = Signal(object)

    def __init__(self, library: Library, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Storage"), parent)
        self.setObjectName("storage-dock")
        self.library = library
        self.runner = TaskRunner(1, self)
        self.report: dict[str, Any] | None = None
        body = QWidget(self)
        layout = QVBoxLayout(body)
        top = QHBoxLayout()
        self.summary = QLabel(body)
        self.summary.setTextFormat(Qt.TextFormat.PlainText)  # errors may quote a key
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.refresh_button = QPushButton(self.tr("Refresh"), body)
        self.scan_button = QPushButton(self.tr("List the store now"), body)
        self._work = ButtonsAtWork(self.refresh_button, self.scan_button)
        self.scan_button.setToolTip(
            self.tr("Lists every object of the bucket or folder (slow on a large bucket)")
        )
        top.addWidget(self.summary, 1)
        top.addWidget(self.refresh_button)
        top.addWidget(self.scan_button)
        layout.addLayout(top)
        tables = QHBoxLayout()
        files, size = self.tr("Files"), self.tr("Size")
        self.by_type = read_only_table(body, [self.tr("Type"), files, size])
        self.by_athlete = read_only_table(body, [self.tr("Athlete"), files, size])
        self.history = read_only_table(body, [self.tr("Day"), files, size, self.tr("In the store")])
        # three tables side by side, each read by its name (their headers all say Files, Size)
        self.by_type.setAccessibleName(self.tr("Storage by type"))
        self.by_athlete.setAccessibleName(self.tr("Storage by athlete"))
        self.history.setAccessibleName(self.tr("Storage by day"))
        for table in (self.by_type, self.by_athlete, self.history):
            tables.addWidget(table)
            # Figures are never cut: their columns fit them and the first takes what is left
            header = table.horizontalHeader()
            for column in range(1, table.columnCount()):
                header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        # A day is as important as its figures ("2026-12…" was cut): every column fits its
        # contents (a narrow dock scrolls sideways); the last one also takes the spare width
        # (a Stretch column would be squeezed below its contents instead)
        history = self.history.horizontalHeader()
        history.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        history.setStretchLastSection(True)
        layout.addLayout(tables, 1)
        self.setWidget(body)
        self.refresh_button.clicked.connect(self.refresh)
        self.scan_button.clicked.connect(self.scan)
        self.visibilityChanged.connect(self._on_visibility)
        self.summary.setText(self.tr("Loading…"))
        # A listing made elsewhere in this process (the embedded server's, soon after it starts
        # and then on its schedule): the panel said "not listed yet", or an older listing and
        # its drift, until Refresh. Heard in the scanning thread, read again in a worker.
        self._scanned_at: datetime | None = None  # the newest listing heard of
        self._scans = Mailbox(self._on_scanned, self)
        self._unsubscribe = library.usage.on_scanned(self._scans.post)
        self.destroyed.connect(self._unsubscribe)

    def _on_visibility(self, shown: bool) -> None:
        if shown:
            self.refresh()

    def _on_scanned(self, scan: StoreScan) -> None:
        if self._scanned_at is None or scan.scanned_at > self._scanned_at:
            self._scanned_at = scan.scanned_at
        if not self.runner.busy:  # else `_show` asks again if what it got is older
            self._refresh_if_behind()

    def _refresh_if_behind(self) -> None:
        """Loads again when a listing newer than the report's was heard of."""
        heard = self._scanned_at
        if heard is None:
            return
        shown = self.report["store"]["scanned_at"] if self.report is not None else None
        if shown is None or datetime.fromisoformat(shown) < heard:
            self.refresh()

    # ---- loading (off the GUI thread) ---------------------------------------------------------
    def refresh(self) -> None:
        self._submit(_load)

    def scan(self) -> None:
        self.summary.setText(self.tr("Listing the store…"))
        self._submit(_scan_and_load)

    def _submit(self, fn: Any) -> None:
        self._work.disable()
        self.runner.submit(fn, self.library, on_result=self._show, on_error=self._failed)

    def _failed(self, exc: BaseException) -> None:
        self._enable()
        self.summary.setText(describe_error(exc).display())

    def _enable(self) -> None:
        self._work.enable()

    # ---- showing ------------------------------------------------------------------------------
    def used_bytes(self, catalog_bytes: int) -> int:
        """The bytes the warning compares: the store's when it was listed, else the catalog's."""
        report = self.report
        if report is not None and report["store"]["bytes"] is not None:
            return int(report["store"]["bytes"])
        return catalog_bytes

    def _show(self, report: dict[str, Any]) -> None:
        self._enable()
        self.report = report
        total, store = report["total"], report["store"]
        lines = [
            self.tr("%Ln file(s) in the library", "", total["files"])
            + " · "
            + size_text(total["bytes"]),
        ]
        if store["bytes"] is None:
            lines.append(self.tr("The store has not been listed yet."))
        else:
            when = stamp_text(_to_qdatetime(store["scanned_at"]))
            # The listing may be the server's own (it lists the store soon after it starts),
            # made before files were added or removed: its drift is then of another catalog.
            if report.get("drift_outdated"):
                drift = self.tr("not checked since the files changed (“%1” checks it)").replace(
                    "%1", self.scan_button.text()
                )
            else:
                drift = _signed_size(store["drift_bytes"])
            lines.append(
                self.tr("Store: %1 objects, %2 (listed %3); drift from the catalog: %4")
                .replace("%1", QLocale().toString(int(store["objects"])))
                .replace("%2", size_text(store["bytes"]))
                .replace("%3", when)
                .replace("%4", drift)
            )
            lines.append(
                self.tr("Thumbnails and other derivatives: %1").replace(
                    "%1", size_text(report["derivatives"]["bytes"])
                )
            )
        trashed = report["by_status"]["trashed"]
        lines.append(self.tr("In the trash: %1").replace("%1", size_text(trashed["bytes"])))
        self.summary.setText("\n".join(lines))
        kinds = {"image": self.tr("Images"), "video": self.tr("Videos")}
        self._fill(
            self.by_type,
            [
                (kinds[k], v["files"], size_text(v["bytes"]))
                for k, v in report["by_file_type"].items()
                if k in kinds
            ],
        )
        self._fill(
            self.by_athlete,
            [
                (a["name"] or self.tr("No athlete"), a["files"], size_text(a["bytes"]))
                for a in report["by_athlete"]
            ],
        )
        self._fill(
            self.history,
            [
                (
                    date_text(h["day"]),
                    h["files"],
                    size_text(h["bytes"]),
                    size_text(h["store_bytes"]) if h["store_bytes"] is not None else "—",
                )
                for h in reversed(report.get("history", []))
            ],
        )
        self.usageChanged.emit(report)
        self._refresh_if_behind()  # a listing that ended while this report was read

    @staticmethod
    def _fill(table: QTableWidget, rows: list[tuple[Any, ...]]) -> None:
        table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                item = QTableWidgetItem(
                    QLocale().toString(value) if isinstance(value, int) else str(value)
                )
                if isinstance(value, int) or c > 0:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                table.setItem(r, c, item)

    def shutdown(self) -> None:
        self._unsubscribe()
        self._scans.close()
        self.runner.shutdown()


def _signed_size(value: int | None) -> str:
    if value is None:
        return "—"
    return ("+" if value > 0 else "−" if value < 0 else "") + size_text(abs(value))


def _to_qdatetime(iso: str) -> Any:
    from PySide6.QtCore import QDateTime

    return QDateTime.fromString(iso, Qt.DateFormat.ISODateWithMs).toLocalTime()
