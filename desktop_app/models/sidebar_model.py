"""The sidebar: library sections (All, Images, Videos, Public, Trash) and athletes with counts."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, replace

from PySide6.QtCore import QModelIndex, QObject, Qt
from PySide6.QtGui import QGuiApplication, QPalette, QStandardItem, QStandardItemModel

from core.records import AthleteRecord, FileQuery
from desktop_app.formatting import number_text

USER = int(Qt.ItemDataRole.UserRole)
SPOKEN = int(Qt.ItemDataRole.AccessibleTextRole)  # a cell's name to a screen reader
SECTIONS = ("all", "image", "video", "public", "trash")


@dataclass(frozen=True)
class SidebarFilter:
    """What a sidebar entry shows: a section, or one athlete's files."""

    section: str = "all"  # all | image | video | public | trash | athlete
    athlete_id: int | None = None

    def apply(self, query: FileQuery) -> FileQuery:
        base = replace(query, athlete_id=None, file_type=None, is_public=None, trashed=False)
        if self.section in ("image", "video"):
            return replace(base, file_type=self.section)
        if self.section == "public":
            return replace(base, is_public=True)
        if self.section == "trash":
            return replace(base, trashed=True)
        if self.section == "athlete":
            return replace(base, athlete_id=self.athlete_id)
        return base

    @property
    def key(self) -> str:
        return f"athlete:{self.athlete_id}" if self.section == "athlete" else self.section


class SidebarModel(QStandardItemModel):
    """Two groups (Library, Athletes); column 0 the name, column 1 the file count."""

    FilterRole = USER + 1
    KeyRole = USER + 2
    AthleteIdRole = USER + 3
    NameRole = USER + 4
    HintRole = USER + 5  # "new-athlete" on the row that invites to add the first athlete
    OrderRole = USER + 6  # an athlete's place in the catalog's order, by which rows are sorted

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setColumnCount(2)
        self.setSortRole(self.OrderRole)
        # hidden, but a screen reader names the columns by them (Qt's default: "1" and "2")
        self.setHorizontalHeaderLabels([self.tr("Section"), self.tr("Files")])
        self._library = self._group(self.tr("Library"))
        self._athletes = self._group(self.tr("Athletes"))
        names = {
            "all": self.tr("All files"),
            "image": self.tr("Images"),
            "video": self.tr("Videos"),
            "public": self.tr("Public"),
            "trash": self.tr("Trash"),
        }
        for section in SECTIONS:
            self._library.appendRow(self._entry(names[section], SidebarFilter(section)))
        self._athlete_rows: list[AthleteRecord] = []
        self._hint_shown = False

    def _group(self, title: str) -> QStandardItem:
        item = QStandardItem(title)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled)
        font = item.font()
        font.setBold(True)
        item.setFont(font)
        self.appendRow([item, self._blank(title)])
        return item

    @staticmethod
    def _blank(name: str) -> QStandardItem:
        """The empty count cell of a row without a count: a screen reader read it as an item
        with no name; it is read as its row's title."""
        count = QStandardItem("")
        count.setData(name, SPOKEN)
        count.setFlags(Qt.ItemFlag.ItemIsEnabled)
        return count

    def _show_count(self, item: QStandardItem, count: int) -> None:
        """A count cell: the number shown, "23 files" to a screen reader (a bare "23" said
        nothing of what it counts)."""
        item.setText(number_text(count))
        item.setData(self.tr("%Ln file(s)", "", count), SPOKEN)

    def _entry(self, name: str, flt: SidebarFilter) -> list[QStandardItem]:
        item = QStandardItem(name)
        item.setData(flt, self.FilterRole)
        item.setData(flt.key, self.KeyRole)
        item.setData(flt.athlete_id, self.AthleteIdRole)
        item.setData(name, self.NameRole)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
        count = QStandardItem("")
        count.setData(flt, self.FilterRole)
        count.setData(flt.key, self.KeyRole)
        count.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        count.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
        return [item, count]

    def _hint(self) -> list[QStandardItem]:
        item = QStandardItem(self.tr("Add an athlete…"))
        item.setData("new-athlete", self.HintRole)
        item.setToolTip(
            self.tr(
                "Athletes group the photos and videos of one person. Click here or press Ctrl+N "
                "to add the first one."
            )
        )
        font = item.font()
        font.setItalic(True)
        item.setFont(font)
        item.setForeground(QGuiApplication.palette().brush(QPalette.ColorRole.PlaceholderText))
        item.setFlags(Qt.ItemFlag.ItemIsEnabled)  # clickable, never selected
        return [item, self._blank(item.text())]

    # ---- updates --------------------------------------------------------------------------------
    def set_counts(self, counts: dict[str, int]) -> None:
        for row in range(self._library.rowCount()):
            section = SECTIONS[row]
            self._show_count(self._library.child(row, 1), counts.get(section, 0))

    def set_athletes(self, athletes: list[AthleteRecord]) -> None:
        """Updates counts in place; adds, renames, removes and reorders only the rows that
        changed.

        Athletes come in the catalog's order (natural: "Team 2" before "Team 10",
        core/catalog.py `Catalog.athletes`).
        """
        same = [(a.id, a.name) for a in athletes] == [(a.id, a.name) for a in self._athlete_rows]
        # Only the counts that changed are written: the counts come every quarter second
        # while a bulk trash runs, and formatting each of 120 athletes' counts anew
        # each time kept the GUI thread from repainting.
        shown = {a.id: a.file_count for a in self._athlete_rows}
        if not same or self._hint_shown != (not athletes):
            shown = {}  # rows added: every count written (the rare change, not a count's)
            self._update_rows(athletes)
        for row, athlete in enumerate(athletes):
            if shown.get(athlete.id) != athlete.file_count:
                self._show_count(self._athletes.child(row, 1), athlete.file_count)
        self._athlete_rows = list(athletes)

    def _update_rows(self, athletes: list[AthleteRecord]) -> None:
        """The athletes' rows made `athletes`, each athlete's row kept as it is: the view's
        selection and current row follow a row (persistent indexes) and are lost with it. All
        rows removed and added back lost the athlete being viewed whenever any athlete was
        added or renamed, and the window went back to "All files" (asking to save unsaved
        edits first)."""
        group = self._athletes
        if self._hint_shown:
            group.removeRows(0, group.rowCount())
            self._hint_shown = False
        # each athlete takes a row of its id, the rows left over go (an id listed twice, as a
        # made-up list may, takes two rows)
        wanted = Counter(a.id for a in athletes)
        rows: dict[int, list[QStandardItem]] = defaultdict(list)
        for r in range(group.rowCount()):
            item = group.child(r, 0)
            rows[item.data(self.AthleteIdRole)].append(item)
        for r in reversed(range(group.rowCount())):
            athlete_id = group.child(r, 0).data(self.AthleteIdRole)
            if len(rows[athlete_id]) > wanted[athlete_id]:
                rows[athlete_id].pop()  # the last of its id: this row, counted from the end
                group.removeRow(r)  # no longer listed: the view shows "All files" (SidebarView)
        for place, athlete in enumerate(athletes):
            if rows[athlete.id]:
                item = rows[athlete.id].pop(0)
                if item.data(self.NameRole) != athlete.name:
                    item.setText(athlete.name)
                    item.setData(athlete.name, self.NameRole)
            else:
                entry = self._entry(athlete.name, SidebarFilter("athlete", athlete.id))
                group.appendRow(entry)
                item = entry[0]
            item.setData(place, self.OrderRole)
        if any(group.child(r, 0).data(self.OrderRole) != r for r in range(group.rowCount())):
            group.sortChildren(0)  # one layout change: selection and current row move along
        if not athletes:
            group.appendRow(self._hint())
            self._hint_shown = True

    # ---- lookups --------------------------------------------------------------------------------
    def athletes(self) -> list[AthleteRecord]:
        return list(self._athlete_rows)

    def hint_index(self) -> QModelIndex:
        """The "Add an athlete…" row, shown while there are no athletes (else invalid)."""
        return self._athletes.child(0, 0).index() if self._hint_shown else QModelIndex()

    def is_heading(self, index: QModelIndex) -> bool:
        """A group's title row ("Library", "Athletes"): never current, never selected."""
        return index.isValid() and not index.parent().isValid()

    def is_hint(self, index: QModelIndex) -> bool:
        return index.isValid() and index.siblingAtColumn(0).data(self.HintRole) == "new-athlete"

    def filter_at(self, index: QModelIndex) -> SidebarFilter | None:
        value = index.data(self.FilterRole) if index.isValid() else None
        return value if isinstance(value, SidebarFilter) else None

    def index_of(self, key: str) -> QModelIndex:
        for group in (self._library, self._athletes):
            for row in range(group.rowCount()):
                item = group.child(row, 0)
                if item.data(self.KeyRole) == key:
                    return item.index()
        return QModelIndex()

    def count_text(self, key: str) -> str:
        index = self.index_of(key)
        return index.siblingAtColumn(1).data() if index.isValid() else ""
