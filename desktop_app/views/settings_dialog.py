"""The settings dialog: storage (local or R2, with a connection test), limits, server, language."""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont, QGuiApplication, QShowEvent, QTextLayout, QTextOption
from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core.mediatypes import IMAGE_TYPES, VIDEO_TYPES
from core.settings import DATA_DIR_FLAG, MAX_EXPIRY, MIN_EXPIRY, Settings, pinned_settings
from desktop_app.controllers.settings_controller import SettingsController, restart_kinds
from desktop_app.errors import ErrorMessage
from desktop_app.formatting import tip_text
from desktop_app.i18n import LANGUAGES, command_line_language
from desktop_app.views.a11y import name_spin_boxes
from desktop_app.views.colors import set_status_style
from desktop_app.views.message_box import open_warning
from desktop_app.views.wheel import wheel_needs_focus

MIB = 1024 * 1024
# The retention fields' range: a century; a longer setting (README: days past the calendar keep
# for good) is shown as it is
MAX_RETENTION_DAYS = 36500
FRAME_ALLOWANCE = 40  # px kept for a title bar and frame when the form must scroll
URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+")
# A folder's path (the local folder's, in the result and its errors): from its root ("/",
# "C:\", "\\server", "~/") at the start of a word (or after its opening quote)
PATH = re.compile(r"(?<![^\s\"'“«(])(?:[A-Za-z]:[\\/]|~?[\\/]{1,2})\S+")
WHOLE = re.compile(f"{URL.pattern}|{PATH.pattern}")


def _urls_cut(text: str, font: QFont, width: int) -> list[tuple[int, int]]:
    """Where the URLs and paths of `text` are that a line break falls inside, word-wrapped to
    `width` as a plain-text QLabel lays it out."""
    layout = QTextLayout(text.replace("\n", "\u2028"), font)  # (a QLabel's line breaks)
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WordWrap)
    layout.setTextOption(option)
    starts = []
    layout.beginLayout()
    while (line := layout.createLine()).isValid():
        line.setLineWidth(width)
        starts.append(line.textStart())
    layout.endLayout()
    spans = (m.span() for m in WHOLE.finditer(text))
    return [(a, b) for a, b in spans if any(a < start < b for start in starts)]


class SettingsDialog(QDialog):
    """Edits a copy of the settings; Save writes the settings file through the controller."""

    def __init__(self, controller: SettingsController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.setWindowTitle(self.tr("Settings"))
        self.setMinimumWidth(560)
        layout = QVBoxLayout(self)
        # The form scrolls when the screen is shorter than it (R2 on a 1024×768 screen put
        # Save and Cancel below the screen's edge); the note and the buttons stay in view.
        self.form = QWidget(self)
        rows = QVBoxLayout(self.form)
        rows.setContentsMargins(0, 0, 0, 0)
        rows.addWidget(self._build_storage())
        rows.addWidget(self._build_limits())
        rows.addWidget(self._build_server())
        rows.addWidget(self._build_language())
        self.form_scroll = QScrollArea(self)
        self.form_scroll.setWidgetResizable(True)
        self.form_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.form_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.form_scroll.setWidget(self.form)
        self.form_scroll.setAccessibleName(self.tr("Settings"))
        # No Tab stop: it showed nothing between the last field and Save (it scrolls to the
        # field Tab reaches, and the wheel or the scroll bar scroll it), as the details panel's
        self.form_scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        # ...but a scroll area scrolls to a field only when the focus moves through it: Shift+Tab
        # from Save, or Tab wrapping from Cancel, left the field reached out of sight (an arrow
        # key then changed the language unseen). Every field the focus reaches is shown.
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._show_focused)
        layout.addWidget(self.form_scroll, 1)
        self.env_note = QLabel(self)  # which fields the environment sets (see _pin_environment)
        self.env_note.setWordWrap(True)
        self.env_note.setStyleSheet("color: palette(placeholder-text);")
        layout.addWidget(self.env_note)
        self.restart_note = QLabel(self)
        self.restart_note.setWordWrap(True)
        set_status_style(self.restart_note, "warning")
        layout.addWidget(self.restart_note)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self._save)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        controller.testFinished.connect(self._on_test_answer)
        controller.saved.connect(self._on_saved)
        controller.saveFailed.connect(self._on_save_failed)
        controller.switchCounted.connect(self._on_switch_counted)
        self.switch_choice = ""  # "move" or "keep" when the backend changes
        # the controller's requests this window made and waits for (0: none): its signals
        # answer every window's, and only the one that asked may react (see _mine)
        self._request = 0
        self._test_request = 0
        # (the button that had the keyboard, the field Qt gave it to when it was disabled)
        self._test_focus: tuple[QWidget, QWidget | None] | None = None
        self._save_focus: tuple[QWidget, QWidget | None] | None = None
        self._asked_kept = False  # the save under way is Move the old files…'s
        self.nothing_moved = False  # Move the old files… found none left: the window said so
        self.load(controller.settings)
        # Move the old files… offered with none left (deleted, moved by another window) saved
        # and said only "Settings saved.": counted now, it is disabled when there are none
        self._kept_request = 0
        if controller.kept is not None and not controller.migrating:
            self._kept_request = controller.new_request()
            controller.files_to_switch(self.values(), self._kept_request, ask_kept=True)
        # Fields keep their natural height whatever the window's size: the dialog grows (or
        # scrolls with the screen) instead of squashing a form to a few pixels.
        for field in self.findChildren(QLineEdit) + self.findChildren(QSpinBox):
            field.setMinimumHeight(field.sizeHint().height())
        name_spin_boxes(self)
        wheel_needs_focus(self.form)  # the wheel scrolls the page, not the box under it

    # ---- layout -------------------------------------------------------------------------------
    def _build_storage(self) -> QGroupBox:
        box = QGroupBox(self.tr("Storage"), self)
        column = QVBoxLayout(box)
        kinds = QHBoxLayout()
        self.local_radio = QRadioButton(self.tr("Local folder"), box)
        self.r2_radio = QRadioButton(self.tr("Cloudflare R2 (or S3)"), box)
        group = QButtonGroup(box)
        group.addButton(self.local_radio)
        group.addButton(self.r2_radio)
        kinds.addWidget(self.local_radio)
        kinds.addWidget(self.r2_radio)
        kinds.addStretch(1)
        column.addLayout(kinds)
        self.local_page = self._build_local_page()
        self.r2_page = self._build_r2_page()
        column.addWidget(self.local_page)
        column.addWidget(self.r2_page)
        test_row = QHBoxLayout()
        self.test_button = QPushButton(self.tr("Test connection"), box)
        self.test_button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.test_result = QLabel(box)
        self.test_result.setTextFormat(Qt.TextFormat.PlainText)  # the store's own words
        self.test_result.setWordWrap(True)
        self.test_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.test_result.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        # A fixed box for up to four lines: a long error never squashes the form above it,
        # and the button never moves as the message changes (the full text is the tooltip).
        self.test_result.setFixedHeight(self.fontMetrics().lineSpacing() * 4 + 4)
        self.test_result.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        test_row.addWidget(self.test_button, 0, Qt.AlignmentFlag.AlignTop)
        test_row.addWidget(self.test_result, 1)
        column.addLayout(test_row)
        # Files kept where they were are not asked about at each Save: moved from here later
        self.move_kept_button = QPushButton(self.tr("Move the old files…"), box)
        self.move_kept_button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.move_kept_button.setToolTip(
            self.tr(
                "Saves these settings and offers to move the files you chose to keep reading "
                "from the old storage."
            )
        )
        self.move_kept_button.setVisible(self.controller.kept is not None)
        self.move_kept_button.clicked.connect(lambda: self._save(ask_kept=True))
        column.addWidget(self.move_kept_button)
        self.local_radio.toggled.connect(self._on_kind)
        self.test_button.clicked.connect(self._test)
        return box

    def _build_local_page(self) -> QWidget:
        page = QWidget(self)
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.data_dir = QLineEdit(page)
        self.data_dir.setAccessibleName(self.tr("Data folder"))  # its label names the row
        self.data_dir.setPlaceholderText(self.tr("Default folder of your user account"))
        self.browse_button = QPushButton(self.tr("Browse…"), page)
        self.browse_button.clicked.connect(self._browse)
        row.addWidget(self.data_dir, 1)
        row.addWidget(self.browse_button)
        form.addRow(self.tr("Data folder"), row)
        self.data_dir.textChanged.connect(self._update_note)
        return page

    def _build_r2_page(self) -> QWidget:
        page = QWidget(self)
        form = QFormLayout(page)
        form.setContentsMargins(0, 0, 0, 0)
        self.endpoint = QLineEdit(page)
        self.endpoint.setPlaceholderText("https://<account>.r2.cloudflarestorage.com")
        self.bucket = QLineEdit(page)
        self.access_key = QLineEdit(page)
        self.secret_key = QLineEdit(page)
        self.secret_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.public_domain = QLineEdit(page)
        self.public_domain.setPlaceholderText("https://media.example.org")
        self.region = QLineEdit(page)
        for title, widget in (
            (self.tr("Endpoint URL"), self.endpoint),
            (self.tr("Bucket"), self.bucket),
            (self.tr("Access key ID"), self.access_key),
            (self.tr("Secret access key"), self.secret_key),
            (self.tr("Public domain (optional)"), self.public_domain),
            (self.tr("Region"), self.region),
        ):
            form.addRow(title, widget)
            widget.textChanged.connect(self._update_note)
        return page

    def _build_limits(self) -> QGroupBox:
        box = QGroupBox(self.tr("Limits"), self)
        form = QFormLayout(box)
        self.max_size = QSpinBox(box)
        self.max_size.setRange(1, 1024 * 1024)
        self.max_size.setSuffix(" MiB")
        self.expiry = QSpinBox(box)
        self.expiry.setRange(MIN_EXPIRY, MAX_EXPIRY)
        self.expiry.setSuffix(self.tr(" s"))
        form.addRow(self.tr("Maximum file size"), self.max_size)
        form.addRow(self.tr("Signed link lifetime"), self.expiry)
        # MEDIADESK_TRASH_RETENTION_DAYS and MEDIADESK_AUDIT_RETENTION_DAYS: they were only in
        # settings.toml or the environment, so a club could not see how long the trash kept a
        # file. Both apply at once, here and in every process of this data folder.
        self.trash_days = QSpinBox(box)
        self.trash_days.setRange(0, MAX_RETENTION_DAYS)
        self.trash_days.setSuffix(self.tr(" days"))
        self.trash_days.setToolTip(
            self.tr("Files in the trash are deleted for good this many days after they went in")
        )
        form.addRow(self.tr("Keep trashed files"), self.trash_days)
        self.audit_days = QSpinBox(box)
        self.audit_days.setRange(0, MAX_RETENTION_DAYS)
        self.audit_days.setSuffix(self.tr(" days"))
        self.audit_days.setSpecialValueText(self.tr("Forever"))
        self.audit_days.setToolTip(
            self.tr(
                "The audit log of the API (who uploaded, read and deleted what) is kept this long"
            )
        )
        form.addRow(self.tr("Keep the audit log"), self.audit_days)
        self.rate_limit = QSpinBox(box)
        self.rate_limit.setRange(0, 100000)
        self.rate_limit.setSuffix(self.tr(" per minute"))
        self.rate_limit.setSpecialValueText(self.tr("No limit"))
        self.rate_limit.setToolTip(self.tr("Uploads each API token (or address) may make"))
        form.addRow(self.tr("API upload limit"), self.rate_limit)
        self.parts_threshold = QSpinBox(box)
        self.parts_threshold.setRange(1, 1024 * 1024)
        self.parts_threshold.setSuffix(" MiB")
        self.parts_threshold.setToolTip(
            self.tr(
                "Files bigger than this are sent in parts: a pause, closing MediaDesk or a "
                "network outage resumes from the last part instead of from the start"
            )
        )
        form.addRow(self.tr("Upload in parts above"), self.parts_threshold)
        # ALLOWED_IMAGE_TYPES / ALLOWED_VIDEO_TYPES: one box per type MediaDesk validates
        self.type_boxes: dict[str, QCheckBox] = {}
        for title, media_types in (
            (self.tr("Accepted images"), IMAGE_TYPES),
            (self.tr("Accepted videos"), VIDEO_TYPES),
        ):
            row = QHBoxLayout()
            for media in media_types:
                check = QCheckBox(media.ext.upper(), box)
                check.setToolTip(media.mime)
                self.type_boxes[media.mime] = check
                row.addWidget(check)
            row.addStretch(1)
            form.addRow(title, row)
        return box

    def _build_server(self) -> QGroupBox:
        box = QGroupBox(self.tr("Embedded server"), self)
        form = QFormLayout(box)
        self.host = QLineEdit(box)
        self.port = QSpinBox(box)
        self.port.setRange(1, 65535)
        self.autostart = QCheckBox(self.tr("Start the server with MediaDesk"), box)
        form.addRow(self.tr("Host"), self.host)
        form.addRow(self.tr("Port"), self.port)
        form.addRow("", self.autostart)
        hint = QLabel(
            self.tr(
                "127.0.0.1 serves this computer only; 0.0.0.0 serves the "
                "network. Host and port apply the next time the server starts."
            ),
            box,
        )
        hint.setWordWrap(True)
        hint.setStyleSheet("color: palette(placeholder-text);")
        form.addRow("", hint)
        return box

    def _build_language(self) -> QGroupBox:
        box = QGroupBox(self.tr("Language"), self)
        form = QFormLayout(box)
        self.language = QComboBox(box)
        self.language.addItem(self.tr("System language"), "")
        for code, name in LANGUAGES.items():
            self.language.addItem(name, code)
        self.language.currentIndexChanged.connect(self._update_note)
        form.addRow(self.tr("Interface language"), self.language)
        return box

    # ---- data ---------------------------------------------------------------------------------
    def load(self, s: Settings) -> None:
        (self.r2_radio if s.uses_r2 else self.local_radio).setChecked(True)
        self._on_kind()
        self.data_dir.setText(s.data_dir)
        self.endpoint.setText(s.r2_endpoint_url)
        self.bucket.setText(s.r2_bucket_name)
        self.access_key.setText(s.r2_access_key_id)
        self.secret_key.setText(s.r2_secret_access_key)
        self.public_domain.setText(s.r2_public_domain)
        self.region.setText(s.r2_region)
        self.max_size.setValue(max(1, s.max_file_size // MIB))
        self.expiry.setValue(s.presigned_url_expiry)
        # a number of days past the calendar keeps for good (README): shown as it is
        for spin, days in (
            (self.trash_days, s.trash_retention_days),
            (self.audit_days, s.audit_retention_days),
        ):
            spin.setMaximum(max(MAX_RETENTION_DAYS, days))
            spin.setValue(days)
        self.rate_limit.setValue(s.upload_rate_limit)
        self.parts_threshold.setValue(max(1, s.resumable_threshold // MIB))
        allowed = set(s.allowed_image_types) | set(s.allowed_video_types)
        for mime, check in self.type_boxes.items():
            check.setChecked(mime in allowed)
        self.host.setText(s.server_host)
        self.port.setValue(s.server_port)
        self.autostart.setChecked(s.server_autostart)
        self.language.setCurrentIndex(max(0, self.language.findData(s.language)))
        self._pin_environment()
        self._update_note()

    def _setting_widgets(self) -> dict[str, list[QWidget]]:
        """The fields that edit each setting."""
        widgets: dict[str, list[QWidget]] = {
            "data_dir": [self.data_dir, self.browse_button],
            "r2_endpoint_url": [self.endpoint],
            "r2_bucket_name": [self.bucket],
            "r2_access_key_id": [self.access_key],
            "r2_secret_access_key": [self.secret_key],
            "r2_public_domain": [self.public_domain],
            "r2_region": [self.region],
            "storage_backend": [self.local_radio, self.r2_radio],
            "max_file_size": [self.max_size],
            "presigned_url_expiry": [self.expiry],
            "trash_retention_days": [self.trash_days],
            "audit_retention_days": [self.audit_days],
            "upload_rate_limit": [self.rate_limit],
            "resumable_threshold": [self.parts_threshold],
            "server_host": [self.host],
            "server_port": [self.port],
            "server_autostart": [self.autostart],
            "language": [self.language],
        }
        for kind, media_types in (("image", IMAGE_TYPES), ("video", VIDEO_TYPES)):
            widgets[f"allowed_{kind}_types"] = [self.type_boxes[t.mime] for t in media_types]
        return widgets

    def _pin_environment(self) -> None:
        """A setting an environment variable gives wins over settings.toml at every start: its
        field is shown with the environment's value, greyed out and naming the variable. It
        could be changed, saved and promised to apply after a restart, which it never did.
        The data folder of `mediadesk --data-dir` is pinned the same way, naming the flag."""
        pinned = pinned_settings(self.controller.settings)
        names = []
        for name, widgets in self._setting_widgets().items():
            variable = pinned.get(name, "")
            for widget in widgets:
                widget.setEnabled(not variable)
                if variable:
                    widget.setToolTip(tip_text(self.tr("Set by %1").replace("%1", variable)))
            if variable:
                names.append(variable)
        notes = []
        variables = [name for name in names if name != DATA_DIR_FLAG]
        if variables:
            notes.append(
                self.tr(
                    "Greyed-out fields are set by environment variables and cannot be changed "
                    "here: %1"
                ).replace("%1", ", ".join(variables))
            )
        if DATA_DIR_FLAG in names:
            notes.append(
                self.tr(
                    "The data folder was given with --data-dir when MediaDesk was started: it "
                    "cannot be changed here."
                )
            )
        given = self._command_line_note("language" in pinned)
        if given:
            notes.append(given)
        self.env_note.setText("\n".join(notes))
        self.env_note.setVisible(bool(notes))

    def _command_line_note(self, pinned: bool) -> str:
        """Why the window is in the language of `mediadesk --language`, "" without the flag.
        The field stays editable: the flag holds for this run only, and the choice saved here
        is the one later starts without it use (a window in Spanish beside "System language"
        read as a setting that did not work). `pinned`: the environment sets the language."""
        given = command_line_language()
        if not given:
            return ""
        name = {"en": self.tr("English"), "es": self.tr("Spanish")}.get(given, given)
        if pinned:  # greyed out, naming its variable: the flag beats that only for this run
            text = self.tr("This window is in %1 because MediaDesk was started with --language %2.")
        else:
            text = self.tr(
                "This window is in %1 because MediaDesk was started with --language %2. The "
                "language chosen here applies when MediaDesk starts without --language."
            )
        text = text.replace("%1", name).replace("%2", given)
        if not pinned:
            self.language.setToolTip(tip_text(text))
        return text

    def values(self) -> dict[str, Any]:
        r2 = self.r2_radio.isChecked()
        text = {
            "r2_endpoint_url": self.endpoint,
            "r2_bucket_name": self.bucket,
            "r2_access_key_id": self.access_key,
            "r2_secret_access_key": self.secret_key,
            "r2_public_domain": self.public_domain,
        }
        entered = {name: w.text().strip() for name, w in text.items()}
        # Local with a complete R2 form keeps the credentials: files left in the bucket stay
        # readable ("keep reading old files from where they are").
        required = ("r2_endpoint_url", "r2_bucket_name", "r2_access_key_id", "r2_secret_access_key")
        keep_r2 = r2 or all(entered[n] for n in required)
        values: dict[str, Any] = {
            name: (value if keep_r2 else "") for name, value in entered.items()
        }
        values["storage_backend"] = "r2" if r2 else ("local" if keep_r2 else "")
        values.update(
            {
                "r2_region": self.region.text().strip() or "auto",
                "data_dir": self.data_dir.text().strip(),
                "max_file_size": self.max_size.value() * MIB,
                "presigned_url_expiry": self.expiry.value(),
                "trash_retention_days": self.trash_days.value(),
                "audit_retention_days": self.audit_days.value(),
                "upload_rate_limit": self.rate_limit.value(),
                "resumable_threshold": self.parts_threshold.value() * MIB,
                "server_host": self.host.text().strip() or "127.0.0.1",
                "server_port": self.port.value(),
                "server_autostart": self.autostart.isChecked(),
                "language": str(self.language.currentData() or ""),
                "allowed_image_types": self._checked_types(IMAGE_TYPES),
                "allowed_video_types": self._checked_types(VIDEO_TYPES),
            }
        )
        if self.max_size.value() * MIB == (self.controller.settings.max_file_size // MIB) * MIB:
            values["max_file_size"] = self.controller.settings.max_file_size  # unchanged
        old_threshold = self.controller.settings.resumable_threshold
        if self.parts_threshold.value() == max(1, old_threshold // MIB):
            values["resumable_threshold"] = old_threshold  # unchanged (not a whole MiB)
        return values

    def _checked_types(self, media_types: Any) -> tuple[str, ...]:
        return tuple(t.mime for t in media_types if self.type_boxes[t.mime].isChecked())

    # ---- actions ------------------------------------------------------------------------------
    def _on_kind(self, *_: object) -> None:
        local = self.local_radio.isChecked()
        self.local_page.setVisible(local)
        self.r2_page.setVisible(not local)
        self.test_result.clear()
        self._update_note()
        self._fit_height()

    def _show_focused(self, _old: QWidget | None, new: QWidget | None) -> None:
        if new is not None and self.form.isAncestorOf(new):
            self.form_scroll.ensureWidgetVisible(new)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        self._fit_height()  # on its screen, with the fonts and fields polished

    def _fit_height(self) -> None:
        """Grows the dialog to what its rows need at its width. Qt's minimum size leaves out the
        wrapped labels' extra lines (height for width), so adjustSize() and the user could
        shrink the dialog until the R2 fields overlapped and the Region field was cut off."""
        if rows := self.form.layout():
            rows.activate()  # the page just shown counts
        outer = self.layout()
        margins = outer.contentsMargins() if outer is not None else None
        # The form never scrolls sideways, and a scroll area does not pass its form's width on
        # to the dialog: in Spanish the form is wider than 560 px, and "Examinar…" and the last
        # video type (TS) were cut at the dialog's edge, Tab to TS sliding every label out of
        # sight on the left. The dialog is as wide as the form's widest row and a scroll bar.
        form_width = (
            self.form.minimumSizeHint().width()
            + self.form_scroll.verticalScrollBar().sizeHint().width()
            + 2 * self.form_scroll.frameWidth()
            + (margins.left() + margins.right() if margins else 0)
        )
        if form_width > self.minimumWidth():
            self.setMinimumWidth(form_width)
        width = max(self.width(), self.minimumWidth()) if self.isVisible() else self.minimumWidth()
        inner = width - (margins.left() + margins.right() if margins else 0)
        form_height = self.form.heightForWidth(inner)
        if form_height <= 0:
            form_height = self.form.minimumSizeHint().height()
        self.form_scroll.setMinimumHeight(form_height)

        def needed() -> int:
            # While the restart note has never had a text its label has no height for width,
            # nor then has the dialog (the scroll area hides the form's): heightForWidth() was
            # -1 and the dialog kept the height its unpolished form asked, 855 px on an 800 px
            # screen with Save and Cancel below its edge
            least = outer.totalMinimumSize().height() if outer is not None else 0
            return max(self.heightForWidth(width), least)

        need = needed()
        screen = (self.screen() or QGuiApplication.primaryScreen()).availableGeometry()
        room = screen.height() - FRAME_ALLOWANCE  # the window manager's title bar and border
        if need > room:  # the form scrolls rather than pushing the buttons off the screen
            self.form_scroll.setMinimumHeight(max(form_height - (need - room), 100))
            need = needed()
        if need > 0:
            self.setMinimumHeight(need)
            self.resize(width, need)
            if self.isVisible() and self.frameGeometry().bottom() > screen.bottom():
                self.move(self.x(), screen.top())
        # A note coming (Restart MediaDesk…, as the language is changed) makes the form's room
        # shorter, and its scroll went back to the top: the field being changed went out of
        # sight under the keyboard. It is shown again once the form has its new height.
        QTimer.singleShot(0, self, self._show_focus)

    def _show_focus(self) -> None:
        self._show_focused(None, QApplication.focusWidget())

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, self.tr("Data folder"), self.data_dir.text()
        )
        if folder:
            self.data_dir.setText(folder)

    def _disable(self, *widgets: QWidget) -> tuple[QWidget, QWidget | None] | None:
        """Disables `widgets` while an answer is awaited. Qt gives a disabled button's focus to
        the next field (Maximum file size, its text selected for typing over), or to none (Save
        and Cancel together), and the storage question's Cancel left it there (or on the first
        field): returns the button and that field, for `_focus_back` at the answer."""
        before = self.focusWidget()
        for widget in widgets:
            widget.setEnabled(False)
        after = self.focusWidget()
        if before is None or after is before:
            return None
        if any(w is before or w.isAncestorOf(before) for w in widgets):
            return before, after
        return None

    def _focus_back(self, taken: tuple[QWidget, QWidget | None] | None) -> None:
        """The keyboard back on the button that started the wait (enabled again), unless the
        user moved it since (where Qt put it, or anywhere when Qt put it nowhere)."""
        if taken is None:
            return
        button, field = taken
        now = self.focusWidget()
        if (field is None or now is field) and now is not button and button.isEnabled():
            button.setFocus(Qt.FocusReason.OtherFocusReason)
            if now is not None:
                for edit in (now, *now.findChildren(QLineEdit)):
                    if isinstance(edit, QLineEdit):
                        edit.deselect()

    def _test(self) -> None:
        self._test_focus = self._disable(self.test_button)
        set_status_style(self.test_result, None)
        self.test_result.setText(self.tr("Testing…"))
        self._test_request = self.controller.new_request()
        self.controller.test_connection(self.values(), self._test_request)

    def _on_test_answer(self, ok: bool, text: str) -> None:
        if self._mine(self._test_request):
            self._test_request = 0
            self._on_test(ok, text)

    def _on_test(self, ok: bool, text: str) -> None:
        self.test_button.setEnabled(True)
        taken, self._test_focus = self._test_focus, None
        self._focus_back(taken)
        set_status_style(self.test_result, "ok" if ok else "error")
        self.test_result.setText(self._fitted(self._whole_urls(("✔ " if ok else "✘ ") + text)))
        self.test_result.setToolTip(tip_text(text))

    def _whole_urls(self, text: str) -> str:
        """`text` with no line break inside a URL or a folder's path: Qt breaks a line after a
        '/' ("…bucket R2 club en http://" over "127.0.0.1:18681", "…local folder /home/ana/"
        over ".local/share/…"). One a line breaks goes whole to the next line, elided in its
        middle if it is longer than a line (the tooltip has it all)."""
        label = self.test_result
        width = max(label.contentsRect().width(), 1)
        metrics = label.fontMetrics()
        for _ in range(len(WHOLE.findall(text))):  # (each round mends one)
            cut = _urls_cut(text, label.font(), width)
            if not cut:
                break
            start, end = cut[0]
            # the word it is in (an opening quote with it) starts the next line
            word = max(text.rfind(" ", 0, start), text.rfind("\n", 0, start)) + 1
            head, before, url = text[:word], text[word:start], text[start:end]
            if head and not head.endswith("\n"):
                head = head.rstrip(" ") + "\n"
            room = width - metrics.horizontalAdvance(before)
            if metrics.horizontalAdvance(url) > room:
                url = metrics.elidedText(url, Qt.TextElideMode.ElideMiddle, room)
            text = head + before + url + text[end:]
        return text

    def _fitted(self, text: str) -> str:
        """`text`, cut with "…" to the lines the result box holds: a longer one (a URL in the
        technical detail) showed the top half of a fifth line, cut through (all of it is in the
        tooltip)."""
        label = self.test_result
        metrics = label.fontMetrics()
        width = max(label.width(), 1)
        flags = int(Qt.TextFlag.TextWordWrap)

        def fits(candidate: str) -> bool:
            box = metrics.boundingRect(0, 0, width, 100000, flags, candidate)
            return box.height() <= label.height()

        if fits(text):
            return text
        low, high = 0, len(text)  # the longest start that fits with "…"
        while low < high:
            middle = (low + high + 1) // 2
            if fits(text[:middle].rstrip() + "…"):
                low = middle
            else:
                high = middle - 1
        return text[:low].rstrip() + "…"

    def _update_note(self, *_: object) -> None:
        fields = self.controller.restart_needed(self.values())
        shown = bool(self.restart_note.text())
        storage, language = restart_kinds(fields)
        if storage and language:
            text = self.tr(
                "Restart MediaDesk after saving to apply the storage and language changes."
            )
        elif storage:
            text = self.tr("Restart MediaDesk after saving to apply the storage change.")
        elif language:
            text = self.tr("Restart MediaDesk after saving to apply the language change.")
        else:
            text = ""
        self.restart_note.setText(text)
        if shown != bool(fields) and self.isVisible():
            self._fit_height()  # the note's line comes or goes

    def _save(self, ask_kept: bool = False) -> None:
        """The file is written in a worker; the dialog closes when it is saved.

        A backend change with files on the old backend first asks what to do with them; so
        does a save keeping the backend while files are still on the other one, unless the
        user chose to keep them there (`ask_kept`: asked anyway, Move the old files…).
        """
        self._save_focus = self._disable(self.buttons, self.move_kept_button)
        self.switch_choice = ""
        self._asked_kept = ask_kept
        self._request = self.controller.new_request()
        self.controller.files_to_switch(self.values(), self._request, ask_kept)

    def _mine(self, request: int) -> bool:
        """Whether the controller's signal being emitted answers this window's `request`."""
        return request != 0 and self.controller.answering == request

    def done(self, result: int) -> None:
        # closed (Cancel, Escape, saved): an answer still on its way is no longer awaited
        self._request = self._test_request = self._kept_request = 0
        super().done(result)

    def _on_switch_counted(self, old: str, new: str, files: int) -> None:
        if self._mine(self._kept_request):
            self._kept_request = 0
            if not files:
                self._none_kept()
            return
        if not self._mine(self._request):
            return
        if not files:
            if self._asked_kept:
                self.nothing_moved = True
            self.controller.save(self.values(), self._request)
            return
        from desktop_app.views.storage_switch import StorageSwitchDialog

        # the backend kept: files a stopped or partly failed move left behind
        resume = new == self.controller.settings.backend_name
        self._switch_pair = (old, new)
        self.switch_dialog = StorageSwitchDialog(old, new, files, self, resume=resume)
        self.switch_dialog.finished.connect(self._on_switch_answer)
        self.switch_dialog.open()

    def _on_switch_answer(self, result: int) -> None:
        if result != QDialog.DialogCode.Accepted or not self._request:
            self._request = 0
            self._enable_save()  # nothing saved, nothing moved
            return
        self.switch_choice = self.switch_dialog.choice
        self.controller.save(self.values(), self._request)

    def _on_saved(self, settings: Settings, *_: object) -> None:
        if not self._mine(self._request):
            return
        self._request = 0
        self.buttons.setEnabled(True)
        self._save_focus = None  # (the window closes)
        self.saved_path = self.controller.saved_path
        if self.nothing_moved:
            self.controller.remember_kept(None)  # none left to keep reading there
        if self.switch_choice:
            # kept: not asked again at each Save until the storage changes (or Move the old
            # files… asks); moved: nothing is left to remember
            kept = self.switch_choice == "keep"
            self.controller.remember_kept(self._switch_pair if kept else None)
        if self.switch_choice == "move":
            from desktop_app.views.storage_switch import MigrationProgress

            self.migration = MigrationProgress(self.controller, self.parentWidget())
            self.migration.show()
            self.controller.start_migration(settings.backend_name)
        self.accept()

    def _on_save_failed(self, message: ErrorMessage) -> None:
        if not self._mine(self._request):
            return
        self._request = 0
        self._enable_save()
        open_warning(self, self.tr("Settings not saved"), message)

    def _none_kept(self) -> None:
        """No file is left where the user chose to keep them: Move the old files… has nothing
        to move, and the choice is forgotten (not offered at the next opening)."""
        self.controller.remember_kept(None)
        self.move_kept_button.setEnabled(False)
        self.move_kept_button.setToolTip(self.tr("No files are left on the old storage."))

    def _enable_save(self) -> None:
        self.buttons.setEnabled(True)
        self.move_kept_button.setEnabled(self.controller.kept is not None)
        taken, self._save_focus = self._save_focus, None
        self._focus_back(taken)
