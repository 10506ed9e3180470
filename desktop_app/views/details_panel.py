"""The details panel: metadata editor with save/revert, technical metadata and file actions."""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import (
    QFocusEvent,
    QGuiApplication,
    QKeySequence,
    QPaintEvent,
    QPalette,
    QResizeEvent,
    QShortcut,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QStyle,
    QStyleOptionComboBox,
    QStylePainter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.filenames import type_extension
from core.maintenance import purge_time
from core.records import AthleteRecord, FileRecord, FileStatus
from desktop_app.formatting import (
    DASH,
    datetime_text,
    duration_text,
    number_text,
    size_text,
    tip_text,
)
from desktop_app.views.colors import set_focus_frame


class ElidedLabel(QLabel):
    """One line that elides, in the middle by default (both ends of a hash or key stay
    readable).

    The full text is the tooltip; `full_text()` is what a copy button copies.
    """

    def __init__(
        self,
        parent: QWidget | None = None,
        mode: Qt.TextElideMode = Qt.TextElideMode.ElideMiddle,
    ) -> None:
        super().__init__(parent)
        self._full = ""
        self._mode = mode
        self.setMinimumWidth(40)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.setTextFormat(Qt.TextFormat.PlainText)  # values as stored, never markup

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        self._full = text
        self.setToolTip(tip_text(text) if text != DASH else "")
        self._elide()

    def full_text(self) -> str:
        return self._full

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        shown = self.fontMetrics().elidedText(self._full, self._mode, max(self.width(), 20))
        if shown != super().text():
            super().setText(shown)


class ElidedComboBox(QComboBox):
    """A combo box whose current text ends in "…" where the box is narrower than it, as the
    sidebar shows a long athlete name, with the whole text in its tooltip: Qt's styles cut it
    mid-letter ("Maximiliano Alejandro de los Sa"), the rest nowhere to be read."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.currentIndexChanged.connect(self._update_tip)

    def _field(self) -> tuple[QStyleOptionComboBox, int]:
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        field = self.style().subControlRect(
            QStyle.ComplexControl.CC_ComboBox, option, QStyle.SubControl.SC_ComboBoxEditField, self
        )
        icon = option.iconSize.width() + 4 if not option.currentIcon.isNull() else 0
        return option, max(field.width() - icon, 0)

    def shown_text(self) -> str:
        """The current text as drawn: whole, or shortened with "…" to the box's width."""
        option, room = self._field()
        return self.fontMetrics().elidedText(option.currentText, Qt.TextElideMode.ElideRight, room)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        painter = QStylePainter(self)
        painter.setPen(self.palette().color(QPalette.ColorRole.Text))
        option, _room = self._field()
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
        option.currentText = self.shown_text()
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, option)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._update_tip()

    def _update_tip(self, *_: object) -> None:
        whole = self.currentText()
        self.setToolTip(tip_text(whole) if self.shown_text() != whole else "")


class FileNameEdit(QLineEdit):
    """The file name field. Reached by F2 or Tab, it selects the base name only, as file
    managers do: typing replaces the name and the extension stays (the library would add it
    back anyway, see core.filenames.with_type_extension)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.content_type: str | None = None  # the shown file's: which extension is one

    def select_base_name(self) -> None:
        name = self.text()
        ext = type_extension(name, self.content_type)
        self.setSelection(0, len(name) - len(ext) - 1 if ext else len(name))

    def focusInEvent(self, event: QFocusEvent) -> None:  # noqa: N802 - Qt's name
        super().focusInEvent(event)  # selects everything when tabbed into
        keyboard = (
            Qt.FocusReason.TabFocusReason,
            Qt.FocusReason.BacktabFocusReason,
            Qt.FocusReason.ShortcutFocusReason,
        )
        if event.reason() in keyboard and self.selectedText() == self.text():
            self.select_base_name()


def edited_fields(record: FileRecord, values: dict[str, Any]) -> dict[str, Any]:
    """Only the editable fields whose value differs from the record."""
    return {name: value for name, value in values.items() if getattr(record, name) != value}


# the panel's narrowest where its content needs less (English): the fields stay usable
DETAILS_MIN_WIDTH = 300
# Pixels between the technical details' rows
FIGURE_SPACING = 2
# Lines the description field shows before it scrolls
DESCRIPTION_LINES = 3
# Saves the panel's edits from anywhere in the window (the window's shortcut; the tooltip's keys)
SAVE_KEYS = "Ctrl+S"


def description_height(field: QPlainTextEdit) -> int:
    """The field's height for DESCRIPTION_LINES lines of its font, its frame and margins."""
    lines = field.fontMetrics().lineSpacing() * DESCRIPTION_LINES
    margins = field.contentsMargins()
    document = 2 * int(field.document().documentMargin())
    return lines + document + margins.top() + margins.bottom()


class DetailsPanel(QWidget):
    """Shows one FileRecord; emits requests, the main window passes them to the controller."""

    saveRequested = Signal(int, dict, int)  # file id, changes, expected version
    previewRequested = Signal()
    copyLinkRequested = Signal()
    exportRequested = Signal()
    reprocessRequested = Signal()
    trashRequested = Signal()
    restoreRequested = Signal()
    deleteRequested = Signal()
    # A rename (F2) ended by Esc (cancelled) or Enter (saved): the window gives the focus back
    # to the grid
    renameCancelled = Signal()
    dirtyChanged = Signal(bool)
    # The file being edited went elsewhere (show_gone): put it back and save the edits (its id),
    # or drop them
    restoreAndSaveRequested = Signal(int)
    goneDiscarded = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.record: FileRecord | None = None
        self.retention_days: Callable[[], int] = lambda: 30  # the main window passes settings
        self._dirty = False
        self._edit_base: FileRecord | None = None  # the version unsaved edits started from
        self._sent: dict[int, dict[str, Any]] = {}  # file id: the changes its save sent
        self._loading = False
        self._filled: int | None = None  # the id of the file whose values the form holds
        self._held: frozenset[str] = frozenset()  # fields show_saved keeps as typed
        self._renaming = False  # F2 put the focus in the name; Enter or Esc hands it back
        self._last_field: QWidget | None = None  # the field edited last (_set_dirty's focus)
        self._selected = 1  # files selected in the grid (the main window tells)
        # With several files selected the panel says so: the details are of one of them, while
        # Move to trash, Restore and Delete act on all (a Delete once trashed an unseen file).
        self.selection_note = QLabel(self)
        self.selection_note.setObjectName("selection-note")
        self.selection_note.setTextFormat(Qt.TextFormat.RichText)
        self.selection_note.setWordWrap(True)
        self.selection_note.setFrameShape(QLabel.Shape.StyledPanel)
        self.selection_note.setMargin(6)
        self.selection_note.hide()
        self._gone: str | None = None  # "trashed" or "deleted" elsewhere while being edited
        self.gone_note = self._build_gone_note()
        self.stack = QStackedWidget(self)
        self.empty = QLabel(self.tr("Select a file to see its details."), self)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self._build_details())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.selection_note)
        layout.addWidget(self.gone_note)
        layout.addWidget(self.stack)
        self.show_record(None)

    # ---- layout -------------------------------------------------------------------------------
    def _build_gone_note(self) -> QWidget:
        note = QWidget(self)
        note.setObjectName("gone-note")
        note.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        note.setStyleSheet("#gone-note { background: #fff3cd; } QLabel { color: #5c4400; }")
        column = QVBoxLayout(note)
        column.setContentsMargins(6, 6, 6, 6)
        self.gone_text = QLabel(note)
        self.gone_text.setTextFormat(Qt.TextFormat.PlainText)  # a file name, as written
        self.gone_text.setWordWrap(True)
        column.addWidget(self.gone_text)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.discard_button = QPushButton(self.tr("Discard"), note)
        self.restore_save_button = QPushButton(self.tr("Restore and save"), note)
        self.restore_save_button.setToolTip(
            self.tr("Take the file out of the trash and save your changes to it")
        )
        buttons.addWidget(self.discard_button)
        buttons.addWidget(self.restore_save_button)
        column.addLayout(buttons)
        self.discard_button.clicked.connect(self._discard_gone)
        self.restore_save_button.clicked.connect(self._restore_and_save)
        note.hide()
        return note

    def _build_details(self) -> QWidget:
        scroll = QScrollArea(self)
        self.details_scroll = scroll
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # a Tab stop that showed nothing
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget(scroll)
        column = QVBoxLayout(body)
        margins = column.contentsMargins()  # the style's at the sides, less above and below
        column.setContentsMargins(margins.left(), 4, margins.right(), 4)
        column.addWidget(self._build_editor())
        column.addWidget(self._build_actions())
        column.addWidget(self._build_technical())
        column.addStretch(1)
        scroll.setWidget(body)
        # Never clip the (translated) labels: the panel is at least as wide as its content.
        scroll.setMinimumWidth(
            body.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width()
        )
        return scroll

    def _build_editor(self) -> QGroupBox:
        box = QGroupBox(self.tr("Metadata"), self)
        self.editor = box
        form = QFormLayout(box)
        self.filename = FileNameEdit(box)
        self.filename.setAcceptDrops(False)
        self.athlete = ElidedComboBox(box)
        self.athlete.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.athlete.setMinimumContentsLength(12)
        self.public = QCheckBox(self.tr("Public"), box)
        self.public.setToolTip(self.tr("Anyone with the link can view a public file."))
        self.description = QPlainTextEdit(box)
        self.description.setAcceptDrops(False)
        self.description.setPlaceholderText(self.tr("Event, place, people…"))
        # three lines, not 90 px (four and a half): with the technical details' rows a typical
        # video's panel needed a scroll bar at the default window size, its last line cut
        self.description.setFixedHeight(description_height(self.description))
        self.description.setTabChangesFocus(True)  # Tab moves on, as in every other field
        set_focus_frame(self.description)
        form.addRow(self.tr("File name"), self.filename)
        form.addRow(self.tr("Athlete"), self.athlete)
        form.addRow(self.tr("Sharing"), self.public)
        form.addRow(self.tr("Description"), self.description)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.revert_button = QPushButton(self.tr("Revert"), box)
        self.save_button = QPushButton(self.tr("Save"), box)
        self.save_button.setDefault(True)
        buttons.addWidget(self.revert_button)
        buttons.addWidget(self.save_button)
        form.addRow(buttons)
        self.filename.textEdited.connect(self._mark_dirty)
        self.athlete.currentIndexChanged.connect(self._mark_dirty)
        self.public.toggled.connect(self._mark_dirty)
        self.description.textChanged.connect(self._mark_dirty)
        self.save_button.clicked.connect(self.request_save)
        self.revert_button.clicked.connect(self.revert)
        # the keys as the window's shortcut has them, written as Qt writes keys in the menus
        # (in Spanish "Control+S": a hint of its own said "Ctrl+S")
        keys = QKeySequence(SAVE_KEYS).toString(QKeySequence.SequenceFormat.NativeText)
        self.save_button.setToolTip(
            tip_text(self.tr("Save the changes (Enter in the name, %1)").replace("%1", keys))
        )
        # Enter in the name saves, as in a dialog; the description keeps Enter for new lines
        # and saves with Ctrl+Enter. Ctrl+S is the main window's: it saves from anywhere in the
        # window, the panel hidden too (a shortcut of the panel's own is off while it is).
        self.filename.returnPressed.connect(self._save_name)
        self.filename.editingFinished.connect(self._rename_over)  # after returnPressed
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(self.request_save)
        # Esc in the name cancels a rename (F2), as in a file manager: it did nothing
        cancel = QShortcut(QKeySequence(Qt.Key.Key_Escape), self.filename)
        cancel.setContext(Qt.ShortcutContext.WidgetShortcut)
        cancel.activated.connect(self.cancel_rename)
        return box

    def _build_actions(self) -> QGroupBox:
        box = QGroupBox(self.tr("Actions"), self)
        grid = QGridLayout(box)
        self.preview_button = QPushButton(self.tr("Preview"), box)
        self.link_button = QPushButton(self.tr("Copy link"), box)
        self.export_button = QPushButton(self.tr("Export…"), box)
        self.trash_button = QPushButton(self.tr("Move to trash"), box)
        self.restore_button = QPushButton(self.tr("Restore"), box)
        # made in reading order (Tab's order): Process again is left of Delete permanently
        # a photo's thumbnail and variants, a video's versions, made again from the original
        self.reprocess_button = QPushButton(self.tr("Process again"), box)
        self.delete_button = QPushButton(self.tr("Delete permanently"), box)
        grid.addWidget(self.preview_button, 0, 0)
        grid.addWidget(self.link_button, 0, 1)
        grid.addWidget(self.export_button, 1, 0)
        grid.addWidget(self.trash_button, 1, 1)  # trash and restore share a cell: one shows
        grid.addWidget(self.restore_button, 1, 1)
        grid.addWidget(self.reprocess_button, 2, 0)
        grid.addWidget(self.delete_button, 2, 1)
        self.trash_note = QLabel(box)
        self.trash_note.setTextFormat(Qt.TextFormat.PlainText)
        self.trash_note.setWordWrap(True)
        grid.addWidget(self.trash_note, 3, 0, 1, 2)
        self.preview_button.clicked.connect(self.previewRequested)
        self.link_button.clicked.connect(self.copyLinkRequested)
        self.export_button.clicked.connect(self.exportRequested)
        self.reprocess_button.clicked.connect(self.reprocessRequested)
        self.trash_button.clicked.connect(self.trashRequested)
        self.restore_button.clicked.connect(self.restoreRequested)
        self.delete_button.clicked.connect(self.deleteRequested)
        return box

    def _build_technical(self) -> QGroupBox:
        box = QGroupBox(self.tr("Technical details"), self)
        outer = QVBoxLayout(box)
        outer.setSpacing(FIGURE_SPACING)  # the extensions' lines one row's spacing below
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        # the figures as a list's lines, closer than the fields above: at the style's spacing a
        # video's rows ran past the panel's bottom at the default window size (a scroll bar,
        # the last line cut by the edge)
        form.setVerticalSpacing(FIGURE_SPACING)
        outer.addLayout(form)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        rows = [
            ("type", self.tr("Type")),
            ("size", self.tr("Size")),
            ("dimensions", self.tr("Dimensions")),
            ("duration", self.tr("Duration")),
            ("codecs", self.tr("Codecs")),
            ("frame_rate", self.tr("Frame rate")),
            ("sha256", self.tr("SHA-256")),
            ("storage_key", self.tr("Storage key")),
            ("created", self.tr("Created")),
            ("id", self.tr("File ID")),
        ]
        self.technical: dict[str, QLabel] = {}
        self.copy_buttons: dict[str, QToolButton] = {}
        # A label longer than its share of the panel (Spanish "Clave de almacenamiento",
        # "Fotogramas por segundo") wraps onto two lines, rather than leave the values a sliver:
        # at 1024 px "Vídeo (video/mp4)" broke in two and the hash read "ef…21". See resizeEvent.
        self._technical_labels: list[QLabel] = []
        metrics = self.fontMetrics()
        self._longest_word = max(
            metrics.horizontalAdvance(word) for _key, title in rows for word in title.split()
        )
        for key, title in rows:
            label = QLabel(title, box)
            label.setWordWrap(True)
            self._technical_labels.append(label)
            field: QLabel
            if key == "type":  # "Video (video/mp4)": one line, the rest in the tooltip if cut
                field = ElidedLabel(box, Qt.TextElideMode.ElideRight)
                self.technical[key] = field
                form.addRow(label, field)
                continue
            if key in ("sha256", "storage_key"):  # long: elided in the middle, never widening
                field = ElidedLabel(box)
                button = QToolButton(box)
                button.setText(self.tr("Copy"))
                button.setAutoRaise(True)
                button.setToolTip(self.tr("Copy %1").replace("%1", title))
                button.clicked.connect(lambda _c=False, f=field: self._copy(f.full_text()))
                self.copy_buttons[key] = button
                row = QHBoxLayout()
                row.setContentsMargins(0, 0, 0, 0)
                row.setSpacing(2)
                row.addWidget(field, 1)
                row.addWidget(button)
                self.technical[key] = field
                form.addRow(label, row)
                continue
            field = QLabel(box)
            field.setTextFormat(Qt.TextFormat.PlainText)
            field.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            field.setWordWrap(True)
            self.technical[key] = field
            form.addRow(label, field)
        # Other features' lines (video processing) end this box, inside its margins, in the
        # labels' column, one row's spacing below the last figure: a bare line after the box
        # sat on the scroll area's bottom edge, out of line with everything else. Not a form
        # row: an empty one (a photo's) would still take a row's spacing.
        self.extensions = QVBoxLayout()
        outer.addLayout(self.extensions)
        return box

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        # Not setMinimumWidth: the splitter takes an explicit minimum over what the content
        # needs, and restored a layout saved in English (300 px) to a Spanish panel that needs
        # some 330; its boxes and scroll bar ran past the window's edge.
        hint = super().minimumSizeHint()
        return QSize(max(hint.width(), DETAILS_MIN_WIDTH), hint.height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        # The technical labels take two fifths of the panel at most (never less than their
        # longest word): English ones fit whole, longer ones wrap
        cap = max(self.width() * 2 // 5, self._longest_word)
        for label in self._technical_labels:
            if label.maximumWidth() != cap:
                label.setMaximumWidth(cap)

    def _copy(self, text: str) -> None:
        QGuiApplication.clipboard().setText(text)

    # ---- data ---------------------------------------------------------------------------------
    def set_athletes(self, athletes: list[AthleteRecord]) -> None:
        self._loading = True
        current = self.athlete.currentData()
        self.athlete.clear()
        self.athlete.addItem(self.tr("(none)"), None)
        for athlete in athletes:
            self.athlete.addItem(athlete.name, athlete.id)
            # the list is as wide as the box: a long name there is cut short, whole in its tip
            self.athlete.setItemData(
                self.athlete.count() - 1, tip_text(athlete.name), Qt.ItemDataRole.ToolTipRole
            )
        wanted = current if self._dirty else (self.record.athlete_id if self.record else None)
        self._select_athlete(wanted)
        self._loading = False

    def _select_athlete(self, athlete_id: int | None) -> None:
        index = self.athlete.findData(athlete_id)
        if index < 0 and athlete_id is not None and self.record is not None:
            self.athlete.addItem(self.record.athlete_name or str(athlete_id), athlete_id)
            index = self.athlete.count() - 1
        self.athlete.setCurrentIndex(max(index, 0))

    def show_selection_count(self, count: int) -> None:
        """How many files are selected in the grid: more than one is said above the details."""
        self._selected = count
        self._update_selection_note()

    def _update_selection_note(self) -> None:
        many = self._selected > 1 and self.record is not None
        if many and self.record is not None:
            title = self.tr("%Ln files selected", "", self._selected)
            # only the buttons that act on them: a view never mixes trashed files with others
            if self.record.is_trashed:
                detail = self.tr(
                    "The details below are of “%1”. Restore and Delete permanently act on all "
                    "of them."
                )
            else:
                detail = self.tr(
                    "The details below are of “%1”. Export, Process again, Move to trash and "
                    "Delete permanently act on all of them."
                )
            detail = detail.replace("%1", self.record.original_filename)
            self.selection_note.setText(f"<b>{html.escape(title)}</b><br>{html.escape(detail)}")
        self.selection_note.setVisible(many)

    def show_record(self, record: FileRecord | None, keep_edits: bool = False) -> None:
        """Shows a record; with keep_edits, unsaved edits of the same file are kept."""
        same = record is not None and self.record is not None and record.id == self.record.id
        if not same or (record is not None and not record.is_trashed):
            self._set_gone(None)  # another file, or this one back from the trash
        self.record = record
        self._update_selection_note()
        if record is None:
            self.stack.setCurrentIndex(0)
            self._set_dirty(False)
            return
        self.stack.setCurrentIndex(1)
        self.filename.content_type = record.content_type
        self._fill_technical(record)
        trashed = record.is_trashed
        self.trash_button.setVisible(not trashed)
        self.restore_button.setVisible(trashed)
        for button in (self.link_button, self.export_button):
            button.setEnabled(not trashed)
        self.preview_button.setEnabled(True)  # from the trash too: look before deciding
        self.reprocess_button.setVisible(not trashed)
        self.reprocess_button.setEnabled(record.status == FileStatus.READY)
        self.trash_note.setVisible(trashed)
        self.trash_note.setText(self.trash_text(record) if trashed else "")
        if not (keep_edits and same and self._dirty):
            self.revert()
            return
        base = self._edit_base
        if base is None:
            return
        theirs = edited_fields(base, self._fields_of(record))
        if not theirs:
            # a newer version that changed nothing of the form (our own trash or undo, still
            # being written when the edit began on a slow disk): the edit stands on it, and its
            # save is no conflict; one that changed a field of the form keeps the old base
            self._edit_base = record
            return
        # Their change to the fields the user left alone shows: the panel went on showing the
        # old name, athlete or sharing beside the edit (the grid the new one) until the save's
        # conflict. Those fields stand on their values now, so they are not the user's changes;
        # the version stays the old one, so the save still meets theirs vs yours.
        typed = self.changes()
        untouched = {name: value for name, value in theirs.items() if name not in typed}
        if untouched:
            self._fill(untouched)
            self._edit_base = dataclasses.replace(base, **untouched)

    def show_saved(self, record: FileRecord) -> None:
        """Shows the version our own save stored. Edits typed while it was on its way are kept,
        now standing on that version: reverting here dropped them without a word when the save
        came back before the next question, and keeping the old base made the next save a
        conflict with ourselves. Only the fields the user changed are kept; the rest of the
        form shows the stored version, whose other changes (someone else's, which the save
        left alone) are not the user's to undo. A field still as this panel's last save sent it
        was saved, as the library stored it: "final" typed is "final.mp4" stored, and kept as
        typed it showed an unsaved rename that the next save made again."""
        sent = self._sent.pop(record.id, {})
        if self.record is None or self.record.id != record.id or not self._dirty:
            self.show_record(record)
            return
        edits = self.changes()
        typed = {
            name: value
            for name, value in edits.items()
            if getattr(record, name) != value and (name not in sent or sent[name] != value)
        }
        # the typed fields are left as they stand while the stored version fills the rest:
        # set to the stored value and back, the text cursor went to the start of the field
        self._held = frozenset(typed)
        try:
            self.show_record(record)  # the stored version, clean
        finally:
            self._held = frozenset()
        if typed:
            self._fill(typed)
            self._mark_dirty()  # as if typed: dirty against the record shown

    def _fill(self, values: dict[str, Any]) -> None:
        """Sets some or all of the form's fields (values() names), not as the user's typing.
        A text field of the same file that already shows its value is left alone: setting it
        put the text cursor at the start (the end in the name) and scrolled back, so after
        Ctrl+S the next keys typed went in front of the description; its undo history stays
        too. Another file's value is always set, which also empties the undo history."""
        same_file = self.record is not None and self._filled == self.record.id
        self._loading = True
        for name, value in values.items():
            if name in self._held:
                continue
            if name == "original_filename":
                if not (same_file and self.filename.text() == value):
                    self.filename.setText(value)
            elif name == "athlete_id":
                self._select_athlete(value)
            elif name == "is_public":
                self.public.setChecked(value)
            elif name == "description" and not (
                same_file and self.description.toPlainText() == value
            ):
                self.description.setPlainText(value)
        self._loading = False
        self._filled = self.record.id if self.record is not None else None

    def show_gone(self, text: str, restorable: bool) -> None:
        """The file shown, with unsaved edits, was trashed (`restorable`) or deleted elsewhere:
        `text` says so. The edits stay in the form, on this file, until the user chooses."""
        if restorable:
            advice = self.tr(
                "Your unsaved changes are still here: restore the file and save them, or "
                "discard them."
            )
        else:
            advice = self.tr(
                "Your unsaved changes are still here, but they can no longer be saved: copy "
                "what you need, then discard them."
            )
        self.gone_text.setText(f"{text}\n{advice}")
        self._set_gone("trashed" if restorable else "deleted")

    def _set_gone(self, gone: str | None) -> None:
        self._gone = gone
        self.restore_save_button.setVisible(gone == "trashed")
        self.gone_note.setVisible(gone is not None)

    def _restore_and_save(self) -> None:
        if self.record is not None and self._gone == "trashed":
            self.restoreAndSaveRequested.emit(self.record.id)

    def _discard_gone(self) -> None:
        self._set_gone(None)
        self.revert()
        self.goneDiscarded.emit()

    def trash_text(self, record: FileRecord) -> str:
        """Since when a file is in the trash and when it is deleted for good."""
        if record.deleted_at is None:
            return ""
        # Two short lines, each within the panel's width: one sentence wrapped to three lines
        # in Spanish and pushed the technical details below the fold
        since = self.tr("In the trash since %1.").replace("%1", datetime_text(record.deleted_at))
        days = self.retention_days()
        if days <= 0:
            end = self.tr("Deleted for good at the next clean-up unless restored.")
        else:
            when = datetime_text(purge_time(record.deleted_at, days))
            end = self.tr("Deleted for good on %1 unless restored.").replace("%1", when)
        return f"{since}\n{end}"

    def revert(self) -> None:
        record = self.record
        if record is None:
            return
        self._fill(self._fields_of(record))
        self._set_dirty(False)

    def _fields_of(self, record: FileRecord) -> dict[str, Any]:
        """The record's values of the form's fields (as values() names them)."""
        return {name: getattr(record, name) for name in self.values()}

    def values(self) -> dict[str, Any]:
        return {
            "original_filename": self.filename.text().strip(),
            "athlete_id": self.athlete.currentData(),
            "is_public": self.public.isChecked(),
            "description": self.description.toPlainText(),
        }

    def changes(self) -> dict[str, Any]:
        """What the user changed, against the version the edits started from (not against a
        newer one that arrived meanwhile: its changes are not the user's to undo)."""
        base = self._edit_base if self._edit_base is not None else self.record
        return edited_fields(base, self.values()) if base is not None else {}

    def request_save(self) -> bool:
        """Asks for the edits to be saved; False when there is nothing to save.

        The expected version is the one the edits started from: a newer version that arrived
        live meanwhile (someone else's save) makes it a conflict, not a silent overwrite.
        """
        changes = self.changes()
        if self.record is None or not changes:
            return False
        if self._gone is not None:
            # a plain save would meet the trash's newer version (a conflict dialog about a
            # file no longer there): Ctrl+S does what the note offers, or nothing once deleted
            self._restore_and_save()
            return False
        base = self._edit_base if self._edit_base is not None else self.record
        self._sent = {self.record.id: dict(changes)}
        self.saveRequested.emit(self.record.id, changes, base.version)
        return True

    def _mark_dirty(self, *_: object) -> None:
        if not self._loading:
            field = self.sender()
            if isinstance(field, QWidget):  # typed or chosen in it (not called directly)
                self._last_field = field
            self._set_dirty(bool(self.changes()))

    def _set_dirty(self, dirty: bool) -> None:
        if not dirty and (self.save_button.hasFocus() or self.revert_button.hasFocus()):
            # Qt gives a disabled button's focus to the next one: Save pressed with Space left
            # it on Preview, and Space again opened the preview. It goes back to the field
            # edited last (the name when none was), where the user's next keys belong.
            field = self._last_field if self._last_field is not None else self.filename
            field.setFocus(Qt.FocusReason.OtherFocusReason)
        self.save_button.setEnabled(dirty)
        self.revert_button.setEnabled(dirty)
        # Said in the title, which never widens the panel (a label beside the buttons did).
        self.editor.setTitle(
            self.tr("Metadata (unsaved changes)") if dirty else self.tr("Metadata")
        )
        if dirty != self._dirty:
            self._edit_base = self.record if dirty else None
            self._dirty = dirty
            self.dirtyChanged.emit(dirty)

    @property
    def dirty(self) -> bool:
        return self._dirty

    def _save_name(self) -> None:
        """Enter in the name saves. After F2 the rename is over: the focus goes back to the
        grid, as after Esc (it stayed in the name, and the arrow keys moved its text cursor
        instead of the selection)."""
        self.request_save()
        if self._renaming:
            self._renaming = False
            self.renameCancelled.emit()

    def _rename_over(self) -> None:
        self._renaming = False

    def cancel_rename(self) -> None:
        """Puts back the name the edits started from (the other fields keep their edits)."""
        self._renaming = False
        base = self._edit_base if self._edit_base is not None else self.record
        if base is not None:
            self._fill({"original_filename": base.original_filename})
            self._mark_dirty()
        self.renameCancelled.emit()

    def start_rename(self) -> None:
        # scrolled down to the technical details (a small screen), F2 typed into a name field
        # out of sight
        self.details_scroll.ensureWidgetVisible(self.filename)
        self.filename.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filename.select_base_name()
        self._renaming = True

    def _fill_technical(self, r: FileRecord) -> None:
        kinds = {"image": self.tr("Image"), "video": self.tr("Video")}
        codecs = " / ".join(c for c in (r.video_codec, r.audio_codec) if c)
        values = {
            "type": f"{kinds.get(r.file_type, r.file_type)} ({r.content_type or DASH})",
            "size": size_text(r.size),
            "dimensions": "{} × {}".format(*r.display_size) if r.display_size else DASH,
            "duration": duration_text(r.duration) or DASH,
            "codecs": codecs or DASH,
            "frame_rate": self.tr("%1 fps").replace("%1", number_text(r.frame_rate, 2))
            if r.frame_rate
            else DASH,
            "sha256": r.sha256 or DASH,
            "storage_key": r.storage_key,
            "created": datetime_text(r.created_at),
            "id": str(r.id),
        }
        for key, field in self.technical.items():
            field.setText(values[key])
