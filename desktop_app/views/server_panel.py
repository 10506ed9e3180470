"""The server panel: start/stop, host and port, API tokens and example curl commands."""

from __future__ import annotations

import html
import shlex

from PySide6.QtCore import QCoreApplication, QEvent, QItemSelectionModel, QObject, QSize, Qt
from PySide6.QtGui import (
    QAction,
    QFocusEvent,
    QGuiApplication,
    QKeyEvent,
    QResizeEvent,
    QTextBlock,
    QTextLayout,
    QTextOption,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QStyle,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.filenames import disk_name
from core.links import shareable_origin
from core.records import FileRecord
from core.tokens import TokenInfo, process_token_owner, scope_allows
from desktop_app.controllers.library_controller import (
    LEGACY_PREVIEW_TOKEN_NAME,
    PREVIEW_TOKEN_PURPOSE,
)
from desktop_app.controllers.server_controller import ServerController
from desktop_app.errors import ErrorMessage
from desktop_app.formatting import date_text, datetime_text, tip_text
from desktop_app.views.a11y import name_spin_boxes
from desktop_app.views.colors import set_focus_frame
from desktop_app.views.confirm import confirm_irreversible
from desktop_app.views.focus_ring import ButtonsAtWork
from desktop_app.views.message_box import ask_text, plain_text
from desktop_app.views.tables import read_only_table


def curl_examples(
    url: str,
    image: FileRecord | None = None,
    video: FileRecord | None = None,
    token: str | None = None,
    upload_token: str | None = None,
) -> str:
    """Copyable commands for the HTTP API, on files that exist and have the kind each needs.

    The token is read from $TOKEN unless `token` is given (only when the user asked for it);
    the upload's from $UPLOAD_TOKEN unless `upload_token` is: Create token… makes read tokens
    unless told otherwise, and the upload run with one of those answered 403.
    """
    base = url or "http://127.0.0.1:8765"
    auth = f'-H "Authorization: Bearer {token or "$TOKEN"}"'
    upload_auth = f'-H "Authorization: Bearer {upload_token or "$UPLOAD_TOKEN"}"'
    lines = [
        f"curl {base}/health",
        f'curl {auth} "{base}/files?limit=10"',
        f"curl {upload_auth} -F file_type=image -F file=@photo.jpg {base}/files/upload/direct",
    ]
    # -o writes the name as given: over 255 bytes curl failed ("File name too long"); cut
    # as export and `mediadesk download` write a file (core.filenames.disk_name)
    if image is not None:
        name = shlex.quote(disk_name(image.original_filename))
        lines.append(f"curl {auth} -o {name} {base}/stream/{image.id}/image")
        lines.append(f"curl {auth} -o thumbnail.webp {base}/files/{image.id}/thumbnail")
    if video is not None:
        name = shlex.quote(disk_name(video.original_filename))
        lines.append(f"curl {auth} -o {name} {base}/stream/{video.id}/video")
    if image is None and video is None:
        lines.append(
            QCoreApplication.translate(
                "ServerPanel", "# No files yet: upload one and its download command shows here."
            )
        )
    return "\n".join(lines)


# Lines of commands the examples box always shows; where the window has no room for every
# wrapped command the box scrolls (see ServerPanel._fit_examples)
EXAMPLE_LINES = 4
QWIDGETSIZE_MAX = (1 << 24) - 1  # Qt's "no maximum" for a widget's size
ACTIVE_ROLE = int(Qt.ItemDataRole.UserRole) + 1  # a token row: whether it can still be revoked
TOKEN_COLUMN_EDGE = 2  # px beside a token column's widest text (_token_column_need)
# Keys that move the tokens table's current row (or would, at its first or last row)
ROW_MOVES = {
    Qt.Key.Key_Up,
    Qt.Key.Key_Down,
    Qt.Key.Key_PageUp,
    Qt.Key.Key_PageDown,
    Qt.Key.Key_Home,
    Qt.Key.Key_End,
}


def _opens_menu(event: QKeyEvent) -> bool:
    """F4 or Alt+Down: the keys that open a combo box's list (not Alt+F4: the window's)."""
    modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
    if event.key() == Qt.Key.Key_F4:
        return modifiers == Qt.KeyboardModifier.NoModifier
    return event.key() == Qt.Key.Key_Down and modifiers == Qt.KeyboardModifier.AltModifier


def _capped(widths: list[int], room: int) -> list[int]:
    """`widths` with the widest cut to one common width, so that they add up to `room` at most;
    as they are when they fit."""
    if sum(widths) <= room:
        return widths
    cap, rest = room, len(widths)
    for width in sorted(widths):  # the narrow ones keep theirs while the rest share the room
        if width * rest > cap:
            break
        cap, rest = cap - width, rest - 1
    share = cap // rest if rest else 0
    return [min(width, share) for width in widths]


class StateLabel(QLabel):
    """The server's state; a Tab stop only while it holds a link (ServerPanel._show_state)."""

    def focusInEvent(self, event: QFocusEvent) -> None:  # noqa: N802 - Qt's name
        super().focusInEvent(event)
        # Tabbed to, a label shows no focus until a second Tab reaches its link: the keyboard
        # landed on nothing visible. The link itself takes the focus (and Enter opens it);
        # forward in both directions, from the start Shift+Tab found no link before it.
        if event.reason() in (Qt.FocusReason.TabFocusReason, Qt.FocusReason.BacktabFocusReason):
            self.focusNextPrevChild(True)


class ServerPanel(QWidget):
    """Layout and wiring over a ServerController."""

    def __init__(self, controller: ServerController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.example_image: FileRecord | None = None
        self.example_video: FileRecord | None = None
        self._secret: tuple[str, str, str] | None = None  # (name, secret, scope) of one made now
        self._on_screen = True  # False while another tab of its dock is shown (set_on_screen)
        self._address = ""  # the running server's, as other devices reach it (_on_state)
        layout = QHBoxLayout(self)  # side by side: the panel lives in a short bottom dock
        layout.setContentsMargins(6, 2, 6, 2)  # its height is short: every pixel a line of text
        layout.addWidget(self._build_server_box(), 2)
        layout.addWidget(self._build_tokens_box(), 3)
        layout.addWidget(self._build_examples_box(), 4)
        controller.stateChanged.connect(self._on_state)
        controller.busyChanged.connect(self._on_busy)
        controller.tokensChanged.connect(self._on_tokens)
        controller.tokenCreated.connect(self._on_token_created)
        controller.errorOccurred.connect(self._on_error)
        self._on_state(controller.running, controller.url)
        controller.refresh_tokens()

    # ---- layout -------------------------------------------------------------------------------
    def _build_server_box(self) -> QGroupBox:
        box = QGroupBox(self.tr("Embedded server"), self)
        form = QFormLayout(box)
        form.setVerticalSpacing(4)
        form.setContentsMargins(9, 6, 9, 6)
        self.host = QLineEdit(self.controller.host, box)
        self.host.setAcceptDrops(False)
        self.host.setMinimumWidth(120)
        self.port = QSpinBox(box)
        self.port.setRange(0, 65535)
        self.port.setSpecialValueText(self.tr("any free port"))
        self.port.setValue(self.controller.port)
        form.addRow(self.tr("Host"), self.host)
        form.addRow(self.tr("Port"), self.port)
        name_spin_boxes(box)
        self.toggle = QPushButton(box)
        self._toggle_work = ButtonsAtWork(self.toggle)  # disabled while it starts or stops
        self.toggle.clicked.connect(self._toggle)
        self.state = StateLabel(box)
        # Rich text always: it holds a link while running, and an error is escaped for it (left
        # to guess, a plain-looking error showed its `&` as `&amp;`)
        self.state.setTextFormat(Qt.TextFormat.RichText)
        self.state.setOpenExternalLinks(True)
        self.state.setWordWrap(True)
        row = QHBoxLayout()
        row.setSpacing(form.horizontalSpacing())  # (with two spacings the form passes on none)
        row.addWidget(self.toggle)
        row.addWidget(self.state, 1)
        form.addRow(row)
        self.note = QLabel(
            self.tr(
                "127.0.0.1 serves this computer only; 0.0.0.0 serves your "
                "network. Clients need a token."
            ),
            box,
        )
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: palette(placeholder-text);")
        form.addRow(self.note)
        return box

    def _build_tokens_box(self) -> QGroupBox:
        box = QGroupBox(self.tr("API tokens"), self)
        column = QVBoxLayout(box)
        column.setContentsMargins(9, 6, 9, 6)
        self.table = read_only_table(
            box, [self.tr("Name"), self.tr("Scope"), self.tr("Created"), self.tr("State")]
        )
        # The columns share the table's width (_fit_token_columns), every text elided and whole
        # in its tooltip: sized to a long name, the name pushed the others out of the 300 px
        # box; the others sized to their contents, Spanish ones left the name 26 px ("tes…")
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header.setMinimumSectionSize(1)  # narrow columns are set here, not held up by Qt
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.viewport().installEventFilter(self)
        # One token at a time (Revoke takes one), and the arrows select the row they reach
        # (eventFilter): Tabbed to, the table's first row only had the focus frame, and with a
        # single token Down moved nowhere and selected nothing, so Revoke stayed off
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.installEventFilter(self)
        column.addWidget(self.table, 1)
        self.scope = QComboBox(box)
        for scope in self.controller.scopes():
            self.scope.addItem(self._scope_texts(scope)[1], scope)
        # The scope says what it allows: shown whole, on a line of its own (beside the buttons
        # it was cut to "read: list, view and down…").
        self.scope.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.create_button = QPushButton(self.tr("Create token…"), box)
        self.revoke_button = QPushButton(self.tr("Revoke"), box)
        choose = QHBoxLayout()
        scope_label = QLabel(self.tr("Scope"), box)
        scope_label.setBuddy(self.scope)  # read beside its value, not the value alone
        self.scope.setAccessibleName(scope_label.text())
        choose.addWidget(scope_label)
        choose.addWidget(self.scope)
        choose.addStretch(1)
        column.addLayout(choose)
        row = QHBoxLayout()
        row.addWidget(self.create_button)
        row.addStretch(1)
        row.addWidget(self.revoke_button)
        column.addLayout(row)
        self.create_button.clicked.connect(self._create)
        self.revoke_button.clicked.connect(self._revoke)
        self.table.itemSelectionChanged.connect(self._update_revoke)
        self._update_revoke()
        return box

    def _build_examples_box(self) -> QGroupBox:
        box = QGroupBox(self.tr("Examples"), self)
        column = QVBoxLayout(box)
        column.setContentsMargins(9, 6, 9, 6)
        self.examples = QPlainTextEdit(box)
        self.examples.setReadOnly(True)
        # Long commands wrap at spaces (at 1024 px some 450 px of them were cut on the right):
        # a soft wrap, so a command selected by hand is still one line, as the Copy button's
        self.examples.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.examples.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        # its height follows its width (_fit_examples); the viewport's is the width laid out
        self.examples.viewport().installEventFilter(self)
        # Copy commands copies them: no Tab stop of its own (it showed nothing there), and the
        # mouse still selects in it, framed as focused once clicked
        self.examples.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        set_focus_frame(self.examples, "font-family: monospace;")
        self.examples.setToolTip(
            self.tr(
                "$TOKEN: any API token. $UPLOAD_TOKEN: a token of scope upload or admin (Create "
                "token… makes read tokens unless another scope is chosen)."
            )
        )
        # One button (the dock is narrow); its menu offers the token, only once one is known.
        self.copy_action = QAction(self.tr("C&opy commands"), box)
        # The button shows the action's icon text, which Qt makes by dropping the `&`: the key
        # (Alt+O, in Spanish too) was the menu item's only, and did nothing. Given whole, the
        # button's text keeps it and the button takes Alt+O.
        self.copy_action.setIconText(self.copy_action.text())
        self.copy_action.triggered.connect(lambda: self.copy_commands(with_token=False))
        self.token_action = QAction(self.tr("Copy with the &token"), box)
        self.token_action.setEnabled(False)
        self.token_action.setToolTip(
            self.tr(
                "Only a token created in this session can be included: its secret is shown "
                "once. Otherwise the commands read it from $TOKEN."
            )
        )
        self.token_action.triggered.connect(lambda: self.copy_commands(with_token=True))
        menu = QMenu(box)
        menu.setToolTipsVisible(True)
        menu.addAction(self.copy_action)
        menu.addAction(self.token_action)
        self.copy_button = QToolButton(box)
        self.copy_button.setDefaultAction(self.copy_action)
        self.copy_button.setMenu(menu)
        self.copy_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.copy_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        # Its menu opened only with the mouse: F4 or Alt+Down on the button open it, as a
        # combo box's list, so that Copy with the token (T) is reachable from the keyboard
        self.copy_button.installEventFilter(self)
        # What was copied, beside the button and only once something was: a line of its own,
        # empty, took a line from the commands in a short dock
        self.copied = QLabel(box)
        self.copied.setWordWrap(True)
        self.copied.hide()
        column.addWidget(self.examples, 1)
        row = QHBoxLayout()
        row.addWidget(self.copied, 1)
        row.addWidget(self.copy_button, 0, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        column.addLayout(row)
        return box

    def set_example_files(self, image: FileRecord | None, video: FileRecord | None) -> None:
        """The newest image and video of the library, for commands that work as shown."""
        self.example_image, self.example_video = image, video
        self._show_examples()

    def _show_examples(self) -> None:
        # Commands only for the running server's own address: stopped, or after a start that
        # failed on a busy port, they named a port where nothing (or another program) answers
        running = self.controller.running
        if running:
            # The panel itself never shows a secret (screenshots, screen sharing).
            text = curl_examples(self._address, self.example_image, self.example_video)
        else:
            text = self.tr("# Start the server: commands for its address show here.")
            self.copied.hide()  # what was copied named the stopped server
        self.examples.setPlainText(text)
        self.copy_action.setEnabled(running)
        self._fit_examples()

    def _fit_examples(self) -> None:
        # Every command shows without scrolling down (at 1024 × 768 some four of six did): the
        # dock is at least this tall (see minimumSizeHint). Wrapped, a command takes as many
        # lines as the box's width needs, counted here: the edit lays out lazily, only what
        # it shows.
        edit = self.examples
        edit.ensurePolished()  # the monospace font of its style sheet
        document = edit.document()
        width = edit.viewport().width() - 2 * document.documentMargin()
        option = QTextOption()
        option.setWrapMode(edit.wordWrapMode())
        # Behind another tab of the dock, a line a command: the tabs share the dock's height,
        # and the upload queue's tab is not made taller (the grid shorter) for the commands
        wrapped = self._on_screen and edit.isVisible()
        lines = 0 if wrapped else document.blockCount()
        block = document.firstBlock() if wrapped else QTextBlock()
        while block.isValid():
            text = QTextLayout(block.text(), edit.font())
            text.setTextOption(option)
            text.beginLayout()
            while (line := text.createLine()).isValid():
                line.setLineWidth(max(width, 1))
                lines += 1
            text.endLayout()
            block = block.next()
        margins = 2 * (document.documentMargin() + edit.frameWidth())
        spacing = edit.fontMetrics().lineSpacing()
        height = int(lines * spacing + margins) + 1
        # ...within a quarter of the screen: on a small one (800 × 600, or 1366 × 768 at 150 %)
        # every wrapped command made the window grow past the screen's bottom. There the box
        # scrolls; a few lines always show.
        height = min(height, max(self._examples_room(), int(EXAMPLE_LINES * spacing + margins) + 1))
        if edit.minimumHeight() != height:
            edit.setMinimumHeight(height)

    def _examples_room(self) -> int:
        """The most the examples box asks for: a quarter of its screen's height, as the docks'
        first height (main_window.first_dock_height). Measured against the window instead,
        the box grew in steps ahead of the layout (a window's minimum follows a new minimum
        of the box only once the docks are laid out again)."""
        screen = self.screen()
        return screen.availableGeometry().height() // 4 if screen is not None else QWIDGETSIZE_MAX

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if isinstance(event, QKeyEvent) and event.type() == QEvent.Type.KeyPress:
            if watched is self.copy_button and _opens_menu(event):
                self.copy_button.showMenu()
                return True
            if watched is self.table and event.key() in ROW_MOVES:
                self._select_current_token()
        if watched is self.examples.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_examples()  # narrower, the commands wrap to more lines
        elif watched is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_token_columns()
        elif watched is self.table.viewport() and event.type() == QEvent.Type.FontChange:
            self._fit_token_table()  # wider texts (a larger font chosen while it runs)
            self._fit_token_columns()
        return super().eventFilter(watched, event)

    def set_on_screen(self, shown: bool) -> None:
        """Whether its dock is shown, not behind another tab (QDockWidget.visibilityChanged)."""
        self._on_screen = shown
        # Alt+O is the button's mnemonic, and a dock behind another tab counts as visible to
        # Qt: the key replaced the clipboard with commands from a panel out of sight. Its text
        # keeps the `&` only while the panel is on screen (empty: Qt's own, without it).
        self.copy_action.setIconText(self.copy_action.text() if shown else "")
        self._fit_examples()

    def copy_commands(self, with_token: bool = False) -> str:
        """Copies the commands; with the token only when asked. Says what was copied (nothing
        while the server is not running: no commands)."""
        if not self.controller.running:
            return ""
        url = self._address
        made = self._secret if with_token else None
        secret = made[1] if made else None
        # a read token in the upload answers 403: that command keeps $UPLOAD_TOKEN
        uploads = made is not None and scope_allows(made[2], "upload")
        text = curl_examples(
            url, self.example_image, self.example_video, secret, secret if uploads else None
        )
        QGuiApplication.clipboard().setText(text)
        count = len([line for line in text.splitlines() if line.startswith("curl")])
        if made is not None:
            note = self.tr(
                "Copied %Ln command(s) with the token “%1” in them. Anyone who sees them can "
                "use it.",
                "",
                count,
            ).replace("%1", made[0])
            if not uploads:
                note += " " + self.tr(
                    "“%1” cannot upload: the upload command reads a token of scope upload "
                    "from $UPLOAD_TOKEN."
                ).replace("%1", made[0])
        else:
            note = self.tr(
                "Copied %Ln command(s) without a token: set TOKEN=… and UPLOAD_TOKEN=… first.",
                "",
                count,
            )
        self.copied.setText(note)
        self.copied.show()
        return note

    def _scope_texts(self, scope: str) -> tuple[str, str]:
        """A token scope's short name and what it allows."""
        return {
            "read": (self.tr("read"), self.tr("read: list, view and download")),
            "upload": (self.tr("upload"), self.tr("upload: read and upload")),
            "admin": (self.tr("admin"), self.tr("admin: everything")),
        }.get(scope, (scope, scope))

    # The dock is never made shorter than the panel's wrapped texts need at its width: the
    # minimum Qt works out for a layout ignores that a word-wrapped label grows taller as it
    # gets narrower, and at 1024 × 768 the dock cut the note under Start/Stop at both edges.
    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt's name
        # the least height, not the preferred one (the token table's: far taller)
        layout = self.layout()
        return layout.totalMinimumHeightForWidth(width) if layout is not None else -1

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        hint = super().minimumSizeHint()
        need = self.heightForWidth(max(self.width(), hint.width()))
        return QSize(hint.width(), max(hint.height(), need))

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            # Narrower, the texts wrap to more lines: the boxes' layouts kept the heights of
            # their labels at the old width (the note stayed two lines high, cut, after the
            # window went from 1560 to 1024 px), and the dock asks the panel's minimum again
            for box in self.findChildren(QGroupBox):
                if (layout := box.layout()) is not None:
                    layout.invalidate()
            self.updateGeometry()

    # ---- actions ------------------------------------------------------------------------------
    def _toggle(self) -> None:
        if self.controller.running:
            self.controller.stop()
        else:
            self.start()

    def start(self) -> None:
        """Starts the server at the host and port shown (Start, or Copy link's offer)."""
        self.controller.start(self.host.text().strip() or "127.0.0.1", self.port.value())

    def _create(self) -> None:
        name, ok = ask_text(self, self.tr("New API token"), self.tr("Name (who or what uses it):"))
        if ok and name.strip():
            self.controller.create_token(name.strip(), str(self.scope.currentData()))

    def _selected_token(self) -> QTableWidgetItem | None:
        """The name cell of the selected token (not merely the focused row), if any."""
        rows = {index.row() for index in self.table.selectionModel().selectedRows()}
        return self.table.item(rows.pop(), 0) if len(rows) == 1 else None

    def _select_current_token(self) -> None:
        """Selects the row that has the keyboard's focus frame, before an arrow key moves on from
        it: where the key moves nowhere (the only row, the first row and Up) that row stays
        selected; where it moves, the table selects the row it reaches."""
        current = self.table.currentIndex()
        selection = self.table.selectionModel()
        if current.isValid() and not selection.isRowSelected(current.row(), current.parent()):
            flags = QItemSelectionModel.SelectionFlag
            selection.select(current, flags.ClearAndSelect | flags.Rows)

    def _update_revoke(self) -> None:
        # A button that does nothing when pressed is off: no token chosen, or one already revoked
        item = self._selected_token()
        self.revoke_button.setEnabled(item is not None and bool(item.data(ACTIVE_ROLE)))

    def _revoke(self) -> None:
        item = self._selected_token()
        if item is None or not item.data(ACTIVE_ROLE):
            return
        token_id = int(item.data(Qt.ItemDataRole.UserRole))
        if confirm_irreversible(
            self,
            self.tr("Revoke token"),
            self.tr("Revoke the token “%1”? Programs using it stop working at once.").replace(
                "%1", item.text()
            ),
            [],
            self.tr("Revoke"),
        ):
            self.controller.revoke_token(token_id)

    # ---- updates ------------------------------------------------------------------------------
    def _on_state(self, running: bool, url: str) -> None:
        self.toggle.setText(self.tr("Stop") if running else self.tr("Start"))
        self.host.setEnabled(not running)
        self.port.setEnabled(not running)
        self._address = self._shared_address(url) if running else ""
        if not running:
            # what the next Start uses: a host and port saved in Settings while the server
            # ran (main_window._on_settings_saved sets them on the controller), else the ones
            # it ran with; the fields showed the port that had been running, and Start used it
            self.host.setText(self.controller.host)
            self.port.setValue(self.controller.port)
        if running:
            url = self._address
            self.port.setValue(self.controller.actual_port or self.port.value())
            # The address on a line of its own, as wide as the label: the line breaker would
            # otherwise cut it after "http://" (it ignores <nobr> and white-space: nowrap)
            link = f'<br><a href="{html.escape(url)}/health">{html.escape(url)}</a>'
            self._show_state(self.tr("Running at %1").replace("%1", link), link=True)
            self.state.setMinimumWidth(self.state.fontMetrics().horizontalAdvance(url) + 4)
            self.state.setToolTip("")
        elif self.controller.last_error is not None:
            self.state.setMinimumWidth(0)
            self._on_error(self.controller.last_error)
        else:
            self.state.setMinimumWidth(0)
            self._show_state(self.tr("Stopped"))
            self.state.setToolTip("")
        self._show_examples()

    def _show_state(self, text: str, link: bool = False) -> None:
        """The state's rich `text`; a Tab stop only with a `link` in it. Always one, "Stopped"
        took a Tab of its own and showed no focus (it has nothing to focus). Without a link an
        error can still be selected with the mouse and copied."""
        flag = Qt.TextInteractionFlag
        # (the flags set the focus policy: StrongFocus with keyboard links, else ClickFocus)
        self.state.setTextInteractionFlags(
            flag.TextBrowserInteraction if link else flag.TextSelectableByMouse
        )
        self.state.setText(text)

    def _shared_address(self, url: str) -> str:
        """The running server's address as other devices reach it, for the address shown and
        the commands (which may be run elsewhere): on every address (0.0.0.0, "serves your
        network") this machine's on the network, which opens here too; `url`, the loopback
        one the app itself uses, opened nowhere else (core.links.shareable_origin)."""
        port = self.controller.actual_port
        if port is None:
            return url
        return shareable_origin((self.controller.host, port), "") or url

    def _on_busy(self, busy: bool) -> None:
        if busy:
            self._toggle_work.disable()
        else:
            self._toggle_work.enable()
        if busy and not self.controller.running:
            self._show_state(self.tr("Starting…"))

    def _on_error(self, message: ErrorMessage) -> None:
        self._show_state(html.escape(message.text))
        self.state.setToolTip(tip_text(message.full()))

    def _on_tokens(self, tokens: list[TokenInfo]) -> None:
        # Filled again in place whenever any process changes a token: tokens come in id order
        # and are never deleted, so a row keeps its token, its selection and the scroll
        self.table.setRowCount(len(tokens))
        for row, token in enumerate(tokens):
            name = QTableWidgetItem(f"{self._token_title(token)} ({token.prefix}…)")
            name.setData(Qt.ItemDataRole.UserRole, token.id)
            name.setData(ACTIVE_ROLE, token.active)
            # "revoked" alone, the date in the tooltip: the column fits its contents, and
            # "revoked 12/2/26, 10:41 AM" took the width of the name beside it, which was cut
            state = QTableWidgetItem(self.tr("active") if token.active else self.tr("revoked"))
            if not token.active:
                state.setToolTip(
                    self.tr("revoked %1").replace("%1", datetime_text(token.revoked_at))
                )
            name.setToolTip(tip_text(name.text()))  # whole, where a narrow panel cuts it
            scope_name, scope_text = self._scope_texts(token.scope)
            scope = QTableWidgetItem(scope_name)
            scope.setToolTip(tip_text(scope_text))  # a scope unknown here is shown as stored
            # the day alone, the time in the tooltip: with it the column took the name's room
            created = QTableWidgetItem(date_text(token.created_at.astimezone().date().isoformat()))
            created.setToolTip(tip_text(datetime_text(token.created_at)))
            for column, item in enumerate(
                (
                    name,
                    scope,
                    created,
                    state,
                )
            ):
                if not item.toolTip():  # whole where elided
                    item.setToolTip(tip_text(item.text()))
                self.table.setItem(row, column, item)
        self._fit_token_table()
        self._fit_token_columns()
        self._update_revoke()  # the selected token may have been revoked meanwhile

    def _fit_token_columns(self) -> None:
        """Scope, the day a token was created and its state are shown whole, at any font size
        or scale; the name takes what they leave, cut short (whole in its tooltip): it gives way
        first. Held at its header's width, it left the date cut ("5/12/2…") at 800 × 600 in
        Spanish and with fonts at 150 %; held at ten characters, it cut Spanish's
        "administración" to "administr…" at 1024 × 768. The table asks for room for the name's
        header beside them (`_fit_token_table`), which the panel gives where it can."""
        table, header = self.table, self.table.horizontalHeader()
        room = table.viewport().width()
        widths = _capped([self._token_column_need(column) for column in (1, 2, 3)], room)
        for column, width in zip((1, 2, 3), widths, strict=True):
            header.resizeSection(column, width)
        header.resizeSection(0, max(room - sum(widths), 0))

    def _token_column_need(self, column: int) -> int:
        """A column's width for its header and its widest cell, and a little room: at 150 %
        fonts a cell's text rectangle may round a pixel short of its text."""
        header = self.table.horizontalHeader()
        contents = max(
            self.table.sizeHintForColumn(column), header.sectionSizeFromContents(column).width()
        )
        return contents + TOKEN_COLUMN_EDGE

    def _fit_token_table(self) -> None:
        """The table's least width: the name's header beside the whole scope, date and state."""
        table = self.table
        header = table.horizontalHeader()
        need = header.sectionSizeFromContents(0).width()
        need += sum(self._token_column_need(column) for column in (1, 2, 3))
        scroll_bar = table.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, table)
        need += 2 * table.frameWidth() + scroll_bar
        if table.minimumWidth() != need:
            table.setMinimumWidth(need)

    def _token_title(self, token: TokenInfo) -> str:
        """A token's name; the app's preview tokens, named for machines, in the user's words."""
        owner = process_token_owner(token.name, PREVIEW_TOKEN_PURPOSE)
        if owner is None and token.name != LEGACY_PREVIEW_TOKEN_NAME:
            return token.name
        if owner == self.controller.origin:
            return self.tr("MediaDesk app previews (this session)")
        if owner is not None and token.active:  # another desktop's, live or not yet revoked
            host_pid = owner.rpartition(":")[0]
            return self.tr("MediaDesk app previews (another session, %1)").replace("%1", host_pid)
        return self.tr("MediaDesk app previews (earlier session)")

    def _on_token_created(self, token: TokenInfo, secret: str) -> None:
        QGuiApplication.clipboard().setText(secret)
        self._secret = (token.name, secret, token.scope)  # in memory only, for "Copy with…"
        self.token_action.setEnabled(True)
        # (an "&" in the name is shown, not taken for the item's key)
        name = token.name.replace("&", "&&")
        self.token_action.setText(self.tr("Copy with the &token “%1”").replace("%1", name))
        box = QMessageBox(self)
        box.setWindowTitle(self.tr("Token created"))
        box.setIcon(QMessageBox.Icon.Information)
        box.setText(
            self.tr(
                "The token “%1” was created and copied to the clipboard. It is shown only once:"
            ).replace("%1", token.name)
        )
        box.setInformativeText(secret)
        plain_text(box)  # the name is the creator's
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.open()
