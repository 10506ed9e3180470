"""The dialog shown when a save meets a newer version: theirs vs yours, Reload or Overwrite."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.records import FileRecord
from desktop_app.formatting import datetime_text, tip_text
from desktop_app.views.tables import read_only_table

FIELDS = ("original_filename", "athlete_id", "is_public", "description")


class ConflictDialog(QDialog):
    """Lists each field that differs between the saved version (theirs) and the edits (yours).

    `choice` is RELOAD (drop the edits, show theirs), OVERWRITE (save the edits over theirs)
    or None (cancelled: keep editing).
    """

    RELOAD = "reload"
    OVERWRITE = "overwrite"

    def __init__(
        self,
        theirs: FileRecord,
        yours: dict[str, Any],
        athlete_name: Callable[[int | None], str],
        who: str | None = None,
        when: datetime | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.choice: str | None = None
        self.theirs = theirs
        self.yours = dict(yours)
        self.setWindowTitle(self.tr("Changed by someone else"))
        self.setModal(True)
        layout = QVBoxLayout(self)
        intro = self.tr("“%1” was changed elsewhere while you were editing it.").replace(
            "%1", theirs.original_filename
        )
        if who and when is not None:
            intro += " " + self.tr("Last change: %1, on %2.").replace(
                "%1", datetime_text(when)
            ).replace("%2", who)
        elif who:
            intro += " " + self.tr("Last change on %1.").replace("%1", who)
        self.intro = QLabel(intro, self)
        # the other side's name, as written: `<h1><font color=red>…` was rendered as markup
        self.intro.setTextFormat(Qt.TextFormat.PlainText)
        self.intro.setWordWrap(True)
        layout.addWidget(self.intro)
        self.table = read_only_table(
            self,
            [self.tr("Field"), self.tr("Theirs (saved)"), self.tr("Yours (unsaved)")],
            stretch=None,
        )
        for field in FIELDS:
            if field not in self.yours:
                continue
            theirs_text = self._text(field, getattr(theirs, field), athlete_name)
            yours_text = self._text(field, self.yours[field], athlete_name)
            row = self.table.rowCount()
            self.table.insertRow(row)
            for column, text in enumerate((self._label(field), theirs_text, yours_text)):
                item = QTableWidgetItem(text)
                item.setToolTip(tip_text(text))
                if column and theirs_text != yours_text:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(row, column, item)
        layout.addWidget(self.table)
        buttons = QDialogButtonBox(self)
        self.reload_button = QPushButton(self.tr("Reload (drop my edits)"), self)
        self.overwrite_button = QPushButton(self.tr("Overwrite with mine"), self)
        buttons.addButton(self.reload_button, QDialogButtonBox.ButtonRole.RejectRole)
        buttons.addButton(self.overwrite_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.reload_button.clicked.connect(lambda: self._finish(self.RELOAD))
        self.overwrite_button.clicked.connect(lambda: self._finish(self.OVERWRITE))
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(640, 320)

    def _finish(self, choice: str) -> None:
        self.choice = choice
        self.accept()

    def rows(self) -> list[tuple[str, str, str]]:
        """(field, theirs, yours) as shown."""
        out = []
        for row in range(self.table.rowCount()):
            cells = [self.table.item(row, c) for c in range(3)]
            out.append(tuple(c.text() if c is not None else "" for c in cells))
        return out  # type: ignore[return-value]

    def _label(self, field: str) -> str:
        return {
            "original_filename": self.tr("File name"),
            "athlete_id": self.tr("Athlete"),
            "is_public": self.tr("Public"),
            "description": self.tr("Description"),
        }[field]

    def _text(self, field: str, value: Any, athlete_name: Callable[[int | None], str]) -> str:
        if field == "athlete_id":
            return athlete_name(value) if value is not None else self.tr("None")
        if field == "is_public":
            return self.tr("Yes") if value else self.tr("No")
        text = str(value or "")
        return text.replace("\n", " ⏎ ") if text else "—"
