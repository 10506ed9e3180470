"""Starts and stops the embedded HTTP server and manages its API tokens, off the GUI thread."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

from core.errors import SettingsError
from core.events import ChangeEvent, EventKind
from core.library import Library
from core.tokens import SCOPES, TokenInfo
from desktop_app.errors import ErrorMessage, describe_error, listen_host_message
from desktop_app.live import LiveEvents
from desktop_app.workers import TaskRunner

if TYPE_CHECKING:
    from server.entry import EmbeddedServer

logger = logging.getLogger(__name__)


class ServerController(QObject):
    """`stateChanged(running, url)` after every start or stop; errors as ErrorMessages."""

    stateChanged = Signal(bool, str)
    busyChanged = Signal(bool)
    errorOccurred = Signal(object)  # ErrorMessage
    tokensChanged = Signal(list)  # list[TokenInfo]
    tokenCreated = Signal(object, str)  # TokenInfo, secret (shown once)

    def __init__(self, library: Library, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.tokens = library.tokens
        self.origin = library.feed.origin  # names this session's own tokens
        self.runner = TaskRunner(max_threads=1, parent=self)  # one at a time: start, stop...
        self.runner.busyChanged.connect(self.busyChanged)
        self.token_runner = TaskRunner(max_threads=1, parent=self)
        self._server: EmbeddedServer | None = None
        self.host = library.settings.server_host
        self.port = library.settings.server_port
        self.last_error: ErrorMessage | None = None  # why the last start failed
        # Tokens made or revoked by another process (`mediadesk token ...`, another window, a
        # team server) reach this process as feed events: without them the table kept showing
        # a revoked token as active, with a Revoke button, while the server refused it. A
        # burst of changes (a script making ten tokens) is read once.
        self._tokens_timer = QTimer(self)
        self._tokens_timer.setSingleShot(True)
        self._tokens_timer.setInterval(100)
        self._tokens_timer.timeout.connect(self.refresh_tokens)
        self.live = LiveEvents(library.events, self)
        self.live.changed.connect(self._on_event)

    # ---- state ----------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._server is not None and bool(self._server.running)

    @property
    def url(self) -> str:
        return str(self._server.url) if self.running and self._server is not None else ""

    @property
    def actual_port(self) -> int | None:
        """The bound port (differs from the requested one when 0 asked for any free port)."""
        return int(self._server.port) if self.running and self._server is not None else None

    def url_or_none(self) -> str | None:
        return self.url or None

    # ---- start / stop ---------------------------------------------------------------------------
    def start(self, host: str | None = None, port: int | None = None) -> None:
        if host is not None:
            self.host = host
        if port is not None:
            self.port = port
        if self.running:
            return
        self.runner.submit(
            self._start_blocking,
            self.host,
            self.port,
            on_result=self._started,
            on_error=self._failed,
        )

    def _start_blocking(self, host: str, port: int) -> EmbeddedServer:
        from server.entry import EmbeddedServer  # the only server import of the desktop app

        server = EmbeddedServer(self.library, host=host, port=port)
        server.start()
        return server

    def _started(self, server: EmbeddedServer) -> None:
        self._server = server
        self.last_error = None
        logger.info("Embedded server listening at %s", server.url)
        self.stateChanged.emit(True, str(server.url))

    def _failed(self, exc: BaseException) -> None:
        from server.entry import LISTEN_ERRORS, cannot_listen  # loaded by _start_blocking

        # Logged too: the window says only "Server: not running", and the reason was nowhere
        # but in the Server panel. A port in use, an address mistyped (127.1, a name no one
        # has) are expected: their reason, no traceback.
        where = f"{self.host}:{self.port}"
        if isinstance(exc, LISTEN_ERRORS):
            logger.warning("The embedded server cannot listen on %s: %s", where, cannot_listen(exc))
        elif isinstance(exc, SettingsError):
            logger.warning("The embedded server cannot listen on %s: %s", where, exc.message)
        else:
            logger.warning("The embedded server could not start on %s", where, exc_info=exc)
        cause = listen_host_message(exc, self.host) or describe_error(exc)
        self.last_error = ErrorMessage(
            self.tr("The server could not start. %1").replace("%1", cause.text),
            cause.detail,
            cause.detail_matters,
        )
        self.errorOccurred.emit(self.last_error)
        self.stateChanged.emit(self.running, self.url)

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self.runner.submit(
            server.stop,
            on_result=lambda _: self.stateChanged.emit(False, ""),
            on_error=self._stop_failed,
        )

    def _stop_failed(self, exc: BaseException) -> None:
        cause = describe_error(exc)
        self.errorOccurred.emit(
            ErrorMessage(
                self.tr("The server did not stop cleanly. %1").replace("%1", cause.text),
                cause.detail,
            )
        )
        self.stateChanged.emit(self.running, self.url)

    def stop_blocking(self) -> None:
        """At exit: stops the server in this thread."""
        server, self._server = self._server, None
        if server is not None:
            try:
                server.stop()
            except Exception:  # noqa: BLE001 - exiting anyway
                logger.exception("Stopping the embedded server failed")
        self.live.close()
        self._tokens_timer.stop()
        self.runner.shutdown()
        self.token_runner.shutdown()

    # ---- tokens ---------------------------------------------------------------------------------
    @staticmethod
    def scopes() -> tuple[str, ...]:
        return SCOPES

    def _on_event(self, event: ChangeEvent) -> None:
        if event.kind == EventKind.TOKEN and not self._tokens_timer.isActive():
            self._tokens_timer.start()

    def refresh_tokens(self) -> None:
        self._call(self.tokens.list, then=self.tokensChanged.emit)

    def create_token(self, name: str, scope: str) -> None:
        def done(result: tuple[TokenInfo, str]) -> None:
            self.tokenCreated.emit(result[0], result[1])
            self.refresh_tokens()

        self._call(self.tokens.create, name, scope, then=done)

    def revoke_token(self, token_id: int) -> None:
        self._call(self.tokens.revoke, token_id, then=lambda _: self.refresh_tokens())

    def _call(self, fn: Any, *args: Any, then: Any = None) -> None:
        self.token_runner.submit(
            fn,
            *args,
            on_result=then,
            on_error=lambda exc: self.errorOccurred.emit(describe_error(exc)),
        )
