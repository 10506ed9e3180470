"""The one public entry point: EmbeddedServer (a background thread) and the CLI's main()."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import ipaddress
import logging
import os
import socket
import threading
from typing import TYPE_CHECKING

from core.library import Library
from core.links import WILDCARDS, link_origin, shareable_origin
from core.settings import checked_host
from core.stdio import reopen_closed_std_streams
from server.config import ServerConfig

if TYPE_CHECKING:
    from aiohttp import web

logger = logging.getLogger(__name__)

# A stop's grace for requests that write (an upload's body still coming, an edit): aiohttp
# waits this long for them, then ends the read of the body (ServerStopping: 503, the bytes in
# kept), and waits as long again. Answers to reads (streams, downloads, HLS segments,
# thumbnails) do not wait for it: the stop cuts them at once, a client resumes with a Range
# (server/live_streams.py ReadStreams: a phone streaming a video held Quit ~10 s), and idle
# keep-alive connections are closed at once by aiohttp's pre_shutdown.
SHUTDOWN_TIMEOUT = 5.0


def url_for(host: str, port: int) -> str:
    """The server's own address for this machine's clients (the app, tests)."""
    return link_origin("", (host, port), "", None)


# What a start that cannot listen raises: the port in use, an address this machine does not
# have, a host name that does not resolve (socket.gaierror), or one the resolver's idna codec
# refuses (UnicodeError; the settings refuse the ones known to be)
LISTEN_ERRORS = (OSError, UnicodeError)


def cannot_listen(exc: BaseException) -> str:
    """Why a start could not listen, in one line for `serve`'s error and the desktop's log.
    asyncio's strerror repeats the address; a gaierror's errno (-2) is "Unknown error -2" to
    os.strerror, while its own strerror says "Name or service not known"."""
    if isinstance(exc, socket.gaierror):
        return exc.strerror or str(exc)
    if isinstance(exc, OSError) and exc.errno:
        return os.strerror(exc.errno)
    return str(exc) or type(exc).__name__


def plain_http_warning(bound: list[tuple[str, int]], public: str) -> str:
    """The warning for a server that other machines reach over plain HTTP (`bound`: the
    addresses it listens on, `public`: MEDIADESK_PUBLIC_URL), or "" when it listens on
    loopback alone or names an https:// address (TLS in front, as README's "Behind nginx").
    Bound to 0.0.0.0 nothing said so, while the banner printed the admin token in a
    network link: tokens, signed links and files would cross the network unencrypted."""
    if public.lower().startswith("https://"):
        return ""
    exposed = [f"{host or '*'} port {port}" for host, port in bound if not _loopback(host)]
    if not exposed:
        return ""
    return (
        f"MediaDesk API listens on {', '.join(exposed)} over plain HTTP: any machine that "
        "reaches this one can connect, and API tokens, signed links and files "
        "cross the network unencrypted. Put TLS in front (nginx: `mediadesk nginx-config`, "
        'see the README\'s "Behind nginx") with the server on 127.0.0.1 and '
        "MEDIADESK_PUBLIC_URL=https://..., or listen on 127.0.0.1 alone"
    )


def _loopback(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1
    return bool((mapped or address).is_loopback)


def first_start_token(library: Library) -> str | None:
    """An admin token created when the catalog has none (shown once), else None."""
    return library.tokens.ensure_initial_token()


class EmbeddedServer:
    """Runs the API in a thread with its own event loop; `start()` returns once bound."""

    def __init__(
        self,
        library: Library,
        host: str | None = None,
        port: int | None = None,
        *,
        config: ServerConfig | None = None,
    ) -> None:
        self.library = library
        if host is not None:  # the Server panel's field, a caller's own: the settings' rule
            host = checked_host(host, setting=False)  # (its message names no setting)
        base = config or ServerConfig.from_settings(library.settings)
        changes = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
        self.config = dataclasses.replace(base, **changes)  # type: ignore[arg-type]
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        # a stop asked before the server thread made its loop and stopping event (a Ctrl+C
        # while start() waits): _serve sees it, or the stop was lost and joined for 30 s
        self._stop_asked = False
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._port: int | None = None
        self.app: web.Application | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive() and self._port is not None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("The server is not running")
        return self._port

    @property
    def url(self) -> str:
        return url_for(self.config.host, self.port)

    @property
    def shared_url(self) -> str:
        """The address to give other devices (`serve`'s banner and admin link):
        MEDIADESK_PUBLIC_URL when set, else, bound to every address, this machine's address on
        the network, where `url` (this machine's own clients) is loopback and opens nowhere
        else (core.links.shareable_origin)."""
        bound = (self.config.host, self.port)
        return shareable_origin(bound, self.library.settings.public_origin)

    def listening(self) -> str:
        """Where the server listens, for its log: bound to every address, the address on the
        network and the loopback one, the only ones a reader could otherwise not tell."""
        host, port = self.config.host, self.port
        public = self.library.settings.public_origin
        if host not in WILDCARDS:
            where = self.url
        else:
            network = shareable_origin((host, port), "")
            found = f"{network} from the network, " if network != self.url else ""
            where = f"all addresses ({host or '0.0.0.0 and ::'}) at port {port}: {found}"
            where += f"{self.url} on this machine"
        return f"{where}; links name {public}" if public else where

    def start(self, timeout: float = 30.0) -> str:
        """Starts the server thread; returns the URL once the port is bound (errors raise)."""
        if self.running:
            return self.url
        self._ready.clear()
        self._error = None
        self._stop_asked = False
        self._thread = threading.Thread(target=self._run, name="mediadesk-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("The HTTP server did not start in time")
        if self._error is not None:
            self._thread.join(timeout)
            self._thread = None
            raise self._error
        return self.url

    def stop(self, timeout: float = 30.0) -> bool:
        """Stops accepting, ends open streams, runs the app's cleanup and joins the thread;
        False when the thread is still running after `timeout` (a request's blocking work in
        the executor, which the loop's close waits for)."""
        self._stop_asked = True  # before the loop is read: _serve reads it after setting it
        thread, loop, stopping = self._thread, self._loop, self._stopping
        if thread is None:
            return True
        if loop is not None and stopping is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stopping.set)
        thread.join(timeout)
        stopped = not thread.is_alive()
        if not stopped:
            logger.error("The HTTP server thread did not stop within %s s", timeout)
        self._thread = None
        self._port = None
        return stopped

    def __enter__(self) -> EmbeddedServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            with asyncio.Runner() as runner:  # cancels leftover tasks before closing the loop
                runner.run(self._serve())
        except BaseException as exc:  # reported to start(), or logged after start
            if not self._ready.is_set():
                self._error = exc
            else:
                logger.exception("The HTTP server stopped with an error")
        finally:
            self._loop = None
            self._ready.set()

    async def _serve(self) -> None:
        # aiohttp and the routes are imported by the process that serves, not by every
        # `mediadesk token|maintenance|doctor…` run that comes through main(): a third of a
        # second of each start
        from aiohttp import web

        from server.app import create_app
        from server.protocol import ApiRunner
        from server.resources import ResourceErrorLog, raise_open_file_limit

        self._loop = asyncio.get_running_loop()
        self._loop.set_exception_handler(ResourceErrorLog())
        self._stopping = asyncio.Event()
        if self._stop_asked:  # stop() came before the loop and the event were here
            self._stopping.set()
        files = raise_open_file_limit()
        if files is not None:
            logger.info("Open file limit: %d (each connection takes one)", files)
        self.app = create_app(self.library, config=self.config)
        runner = ApiRunner(
            self.app,
            head_timeout=self.config.header_timeout,
            shutdown_timeout=SHUTDOWN_TIMEOUT,
            handle_signals=False,
        )
        await runner.setup()
        listened = False
        try:
            site = web.TCPSite(runner, self.config.host, self.config.port)
            await site.start()
            listened = True
            self._port = int(runner.addresses[0][1])
            self._point_signed_urls_here()
            logger.info("MediaDesk API listening on %s", self.listening())
            # the bound sockets, not the setting: a host name may resolve to loopback alone
            bound = [(str(a[0]), int(a[1])) for a in runner.addresses]
            warning = plain_http_warning(bound, self.library.settings.public_origin)
            if warning:
                logger.warning("%s", warning)
            self._ready.set()
            await self._stopping.wait()
        finally:
            await runner.cleanup()
            # a start that could not listen is said by its caller (serve's one line, the
            # desktop's warning): "stopped" was the only line logged for a port in use
            if listened:
                logger.info("MediaDesk API stopped")

    def _point_signed_urls_here(self) -> None:
        """Local signed URLs must name this server's real address (port 0 picks one)."""
        self.library.serve_signed_urls_at(self.config.host, self.port)


def main(argv: list[str]) -> int:
    """`serve`, `token create|list|revoke` and `maintenance` (see server.cli)."""
    reopen_closed_std_streams()
    from server.cli import run

    return run(argv)
