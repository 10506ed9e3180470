"""The server panel: start/stop, host and port, API tokens and example curl commands."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.tokens import TokenInfo
from desktop_app.controllers.server_controller import ServerController
from desktop_app.errors import ErrorMessage
from desktop_app.formatting import DASH, datetime_text


def curl_examples(url: str) -> str:
    """Copyable commands for the HTTP API (the token is read from $TOKEN)."""
    base = url or "http://127.0.0.1:8765"
    return "\n".join(
        [
            f"curl {base}/health",
            f'curl -H "Authorization: Bearer $TOKEN" "{base}/files?limit=10"',
            f'curl -H "Authorization: Bearer $TOKEN" -F file_type=image -F file=@photo.jpg '
            f"{base}/files/upload/direct",
            f'curl -H "Authorization: Bearer $TOKEN" -o clip.mp4 {base}/stream/1/video',
        ]
    )


class ServerPanel(QWidget):
    """Layout and wiring over a ServerController."""

    def __init__(self, controller: ServerController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        layout = QHBoxLayout(self)  # side by side: the panel lives in a short bottom dock
        layout.setContentsMargins(6, 6, 6, 6)
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
        self.host = QLineEdit(self.controller.host, box)
        self.host.setAcceptDrops(False)
        self.host.setMinimumWidth(120)
        self.port = QSpinBox(box)
        self.port.setRange(0, 65535)
        self.port.setSpecialValueText(self.tr("any free port"))
        self.port.setValue(self.controller.port)
        form.addRow(self.tr("Host"), self.host)
        form.addRow(self.tr("Port"), self.port)
        self.toggle = QPushButton(box)
        self.toggle.clicked.connect(self._toggle)
        self.state = QLabel(box)
        self.state.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.state.setOpenExternalLinks(True)
        self.state.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.toggle)
        row.addWidget(self.state, 1)
        form.addRow(row)
        note = QLabel(
            self.tr(
                "127.0.0.1 serves this computer only; 0.0.0.0 serves your "
                "network. Clients need a token."
            ),
            box,
        )
        note.setWordWrap(True)
        note.setStyleSheet("color: palette(placeholder-text);")
        form.addRow(note)
        return box

    def _build_tokens_box(self) -> QGroupBox:
        box = QGroupBox(self.tr("API tokens"), self)
        column = QVBoxLayout(box)
        self.table = QTableWidget(0, 4, box)
        self.table.setHorizontalHeaderLabels(
            [self.tr("Name"), self.tr("Scope"), self.tr("Created"), self.tr("State")]
        )
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column_index in (1, 2, 3):
            self.table.horizontalHeader().setSectionResizeMode(
                column_index, QHeaderView.ResizeMode.ResizeToContents
            )
        column.addWidget(self.table, 1)
        row = QHBoxLayout()
        self.scope = QComboBox(box)
        for scope in self.controller.scopes():
            self.scope.addItem(self._scope_text(scope), scope)
        self.create_button = QPushButton(self.tr("Create token…"), box)
        self.revoke_button = QPushButton(self.tr("Revoke"), box)
        row.addWidget(QLabel(self.tr("Scope"), box))
        row.addWidget(self.scope)
        row.addWidget(self.create_button)
        row.addStretch(1)
        row.addWidget(self.revoke_button)
        column.addLayout(row)
        self.create_button.clicked.connect(self._create)
        self.revoke_button.clicked.connect(self._revoke)
        return box

    def _build_examples_box(self) -> QGroupBox:
        box = QGroupBox(self.tr("Examples"), self)
        column = QVBoxLayout(box)
        self.examples = QPlainTextEdit(box)
        self.examples.setReadOnly(True)
        self.examples.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.examples.setStyleSheet("font-family: monospace;")
        copy = QPushButton(self.tr("Copy commands"), box)
        copy.clicked.connect(
            lambda: QGuiApplication.clipboard().setText(self.examples.toPlainText())
        )
        column.addWidget(self.examples, 1)
        column.addWidget(copy, 0, Qt.AlignmentFlag.AlignRight)
        return box

    def _scope_name(self, scope: str) -> str:
        return {
            "read": self.tr("read"),
            "upload": self.tr("upload"),
            "admin": self.tr("admin"),
        }.get(scope, scope)

    def _scope_text(self, scope: str) -> str:
        return {
            "read": self.tr("read: list, view and download"),
            "upload": self.tr("upload: read and upload"),
            "admin": self.tr("admin: everything"),
        }.get(scope, scope)

    # ---- actions ------------------------------------------------------------------------------
    def _toggle(self) -> None:
        if self.controller.running:
            self.controller.stop()
        else:
            self.controller.start(self.host.text().strip() or "127.0.0.1", self.port.value())

    def _create(self) -> None:
        name, ok = QInputDialog.getText(
            self, self.tr("New API token"), self.tr("Name (who or what uses it):")
        )
        if ok and name.strip():
            self.controller.create_token(name.strip(), str(self.scope.currentData()))

    def _revoke(self) -> None:
        row = self.table.currentRow()
        item = self.table.item(row, 0) if row >= 0 else None
        if item is None:
            return
        token_id = int(item.data(Qt.ItemDataRole.UserRole))
        answer = QMessageBox.question(
            self,
            self.tr("Revoke token"),
            self.tr("Revoke the token “%1”? Programs using it stop working at once.").replace(
                "%1", item.text()
            ),
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.controller.revoke_token(token_id)

    # ---- updates ------------------------------------------------------------------------------
    def _on_state(self, running: bool, url: str) -> None:
        self.toggle.setText(self.tr("Stop") if running else self.tr("Start"))
        self.host.setEnabled(not running)
        self.port.setEnabled(not running)
        if running:
            self.port.setValue(self.controller.actual_port or self.port.value())
            link = f'<a href="{html.escape(url)}/health">{html.escape(url)}</a>'
            self.state.setText(self.tr("Running at %1").replace("%1", link))
            self.state.setToolTip("")
        elif self.controller.last_error is not None:
            self._on_error(self.controller.last_error)
        else:
            self.state.setText(self.tr("Stopped"))
            self.state.setToolTip("")
        self.examples.setPlainText(curl_examples(url or self._planned_url()))

    def _planned_url(self) -> str:
        host = self.host.text().strip() or "127.0.0.1"
        host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        return f"http://{host}:{self.port.value()}"

    def _on_busy(self, busy: bool) -> None:
        self.toggle.setEnabled(not busy)
        if busy and not self.controller.running:
            self.state.setText(self.tr("Starting…"))

    def _on_error(self, message: ErrorMessage) -> None:
        self.state.setText(html.escape(message.text))
        self.state.setToolTip(message.full())

    def _on_tokens(self, tokens: list[TokenInfo]) -> None:
        self.table.setRowCount(len(tokens))
        for row, token in enumerate(tokens):
            name = QTableWidgetItem(f"{token.name} ({token.prefix}…)")
            name.setData(Qt.ItemDataRole.UserRole, token.id)
            state = (
                self.tr("active")
                if token.active
                else self.tr("revoked %1").replace("%1", datetime_text(token.revoked_at))
            )
            scope = QTableWidgetItem(self._scope_name(token.scope))
            scope.setToolTip(self._scope_text(token.scope))
            for column, item in enumerate(
                (
                    name,
                    scope,
                    QTableWidgetItem(datetime_text(token.created_at) or DASH),
                    QTableWidgetItem(state),
                )
            ):
                self.table.setItem(row, column, item)

    def _on_token_created(self, token: TokenInfo, secret: str) -> None:
        QGuiApplication.clipboard().setText(secret)
        box = QMessageBox(self)
        box.setWindowTitle(self.tr("Token created"))
        box.setIcon(QMessageBox.Icon.Information)
        box.setText(
            self.tr(
                "The token “%1” was created and copied to the clipboard. It is shown only once:"
            ).replace("%1", token.name)
        )
        box.setInformativeText(secret)
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.open()
