"""/upload-demo's error paths in a real Chromium against a real server: each JSON error body
the server answers is said as that answer (the page's words for its code, else the server's
message), and only an upload that got no answer says the connection was lost."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.library import Library
from server.config import ServerConfig
from server.entry import EmbeddedServer
from tests.browser import Tab, chromium_path
from tests.faults import put_stalled, wait_bodies_held
from tests.pg_server import _free_port
from tests.resumable_client import noise_png
from tests.server_fixtures import make_tokens, server_config
from tests.test_demo_phone import Phone, _open, _wait_status, local, statuses
from tests.test_faults_http import _presign
from tests.test_schema_guard import NEWER, _jpeg, _stamp
from tests.test_team import until
from tests.test_team_nginx import CONF, NGINX, _answers

__all__ = ["local"]  # a fixture used here

pytestmark = [
    pytest.mark.skipif(chromium_path() is None, reason="Chromium not installed"),
    pytest.mark.timeout(150),
]

SHOWN = "!document.getElementById('retry').hidden"
TOLD = "/:/.test(document.getElementById('status').value)"  # a refusal says "Refused: …"


def _modules(phone: Phone) -> list[str]:
    return [u for _, u in phone.requests if "/static/mediadesk.js" in u]


async def _asked(phone: Phone, count: int) -> None:
    deadline = time.monotonic() + 20
    while len(_modules(phone)) < count:
        assert time.monotonic() < deadline, phone.requests
        await phone.evaluate("1")  # the events sent so far arrive before this reply
        await asyncio.sleep(0.05)


def _presigns(phone: Phone) -> list[str]:
    return [u for m, u in phone.requests if m == "POST" and u.endswith("/files/upload/presigned")]


@pytest.mark.parametrize(
    ("languages", "said"),
    [
        (
            "en-GB,en;q=0.9",
            "Not stored: A newer MediaDesk upgraded this server's catalog: it stores nothing "
            "until it is restarted with that version. Tell its administrator. (catalog_upgraded)",
        ),
        (
            "es-ES,es;q=0.9",
            "No se guardó: Una versión más nueva de MediaDesk actualizó el catálogo de este "
            "servidor: no guarda nada hasta que lo reinicien con esa versión. Avisa a su "
            "administrador. (catalog_upgraded)",
        ),
    ],
)
async def test_a_catalog_upgraded_under_the_server_is_said_at_once_not_a_lost_connection(
    local: EmbeddedServer, library: Library, tmp_path: Path, languages: str, said: str
) -> None:
    """A newer MediaDesk upgraded the catalog while this server ran: every write is answered
    503 catalog_upgraded until it is restarted. mediadesk.js sent the presign five times more
    (15 s of silence) and the page then said "The connection was lost… check": the server's
    answer is said at once, with Retry for after the restart."""
    picture = noise_png(tmp_path / "late.png", 100)
    token = make_tokens(library).upload
    _stamp(library.settings, NEWER)
    library._db.schema.look(every=0.0)
    async with Phone(chromium_path() or "") as phone:
        await phone.start(languages)
        await _open(phone, local.url, token)
        started = time.monotonic()
        await phone.choose(picture)
        assert await phone.wait_for(SHOWN, 30), await phone.page()
        waited = time.monotonic() - started
        state = await phone.page()
        assert state["status"] == said, state
        assert len(_presigns(phone)) == 1, phone.requests  # not sent again: a retry never helps
        assert waited < 8, waited
    assert statuses(library) == {}, statuses(library)


async def test_the_served_modules_lasting_codes_are_cores(local: EmbeddedServer) -> None:
    """The codes mediadesk.js never sends again are core.errors.LASTING_CODES, as the Python
    client's: a code added to one and not the other fails here."""
    from core.errors import LASTING_CODES

    async with Tab(chromium_path() or "") as browser:
        await browser.goto(f"{local.url}/upload-demo")
        codes = await browser.evaluate(
            "import('/static/mediadesk.js').then(m => "
            "[m.LASTING_CODES, Object.isFrozen(m.LASTING_CODES)])"
        )
    assert codes == [sorted(LASTING_CODES), True]


async def test_refusals_before_and_after_the_page_read_the_limits_say_the_servers_answer(
    local: EmbeddedServer, library: Library, tmp_path: Path
) -> None:
    """401 without a token, 403 for a read-only token, and a 413 too_large and a 400
    unsupported_type from the server itself (its limits changed after the page read /config,
    so the page's own check let the file through): each is the server's code in the page's
    words, never a lost connection, and the upload is dropped (no Retry)."""
    first = noise_png(tmp_path / "first.png", 60)
    bigger = noise_png(tmp_path / "bigger.png", 200)
    other = noise_png(tmp_path / "other.png", 80)
    tokens = make_tokens(library)

    async def refused(phone: Phone, path: Path, said: str) -> None:
        await phone.choose(path)
        status = await _wait_status(phone, ("Refused", "The connection", "Not stored"), 20)
        assert status == said, await phone.page()
        assert not (await phone.page())["retry"]

    async with Phone(chromium_path() or "") as phone:
        await phone.start("en-GB,en;q=0.9")
        await _open(phone, local.url, "")
        await refused(phone, first, "Refused: No API token was given. (unauthorized)")
        await _open(phone, local.url, tokens.read)
        await refused(
            phone,
            first,
            "Refused: This token may not upload files: it needs the upload scope. "
            "(insufficient_scope)",
        )
        await _open(phone, local.url, tokens.upload)
        await phone.choose(first)
        await _wait_status(phone, ("Stored as #",), 20)
        # the page holds the /config it read; the server's limits change under it
        limit = first.stat().st_size + 1
        library.apply_settings(max_file_size=limit)
        await refused(
            phone,
            bigger,
            "Refused: The file is larger than this server accepts "
            f"(at most {round(limit / 1000, 1):g} kB). (too_large)",
        )
        library.apply_settings(allowed_image_types=("image/jpeg",))
        await refused(
            phone,
            other,
            "Refused: This is not a photo or video this server accepts. (unsupported_type)",
        )
    assert statuses(library) == {"ready": 1}, statuses(library)


async def test_a_server_still_busy_after_the_retries_says_so_and_retry_goes_on(
    library: Library, tmp_path: Path
) -> None:
    """Every upload slot taken (MEDIADESK_UPLOAD_BODIES) for longer than mediadesk.js's five
    retries: the PUT's last answer, 503 server_busy, was said as a lost connection ("Press
    Retry to go on") though the server had answered. It is said as busy, with Retry, which
    goes on with the same pending upload once the slot is free."""
    picture = noise_png(tmp_path / "busy.png", 100)
    limited = dataclasses.replace(library.settings, upload_bodies=1)
    config = ServerConfig.from_settings(
        limited, host="127.0.0.1", port=0, maintenance_interval=0, upload_rate_limit=0
    )
    token = make_tokens(library).upload
    held = _jpeg()
    with EmbeddedServer(library, config=config) as live:
        grant = _presign(live.url, token, "held.jpg", "image", "image/jpeg")
        stalled = put_stalled(grant["upload_url"], held)  # holds the one upload slot
        try:
            wait_bodies_held(1)
            async with Phone(chromium_path() or "") as phone:
                await phone.start("en-GB,en;q=0.9", quick_waits=True)
                await _open(phone, live.url, token)
                await phone.choose(picture)
                assert await phone.wait_for(SHOWN, 60), await phone.page()
                assert (await phone.page())["status"] == (
                    "The server is receiving too many uploads. Wait a moment and press Retry. "
                    "(server_busy)"
                )
                stalled.sendall(held[100:])
                assert stalled.recv(65536).startswith(b"HTTP/1.1 200")
                await phone.evaluate("document.getElementById('retry').click()")
                await _wait_status(phone, ("Stored as #",), 30)
                assert len(_presigns(phone)) == 1, phone.requests
        finally:
            stalled.close()


class Paused(Phone):
    """A Phone that holds each request for the page's module (Fetch domain) until the test lets
    it go: the server can be stopped between the page and its module, as a restart does."""

    def __init__(self, executable: str) -> None:
        super().__init__(executable)
        self.paused: list[str] = []

    def on_event(self, message: dict[str, Any]) -> None:
        super().on_event(message)
        if message.get("method") == "Fetch.requestPaused":
            self.paused.append(message["params"]["requestId"])

    async def hold_module(self) -> None:
        await self.send("Fetch.enable", patterns=[{"urlPattern": "*/static/mediadesk.js*"}])

    async def held(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while not self.paused:
            assert time.monotonic() < deadline, "the page never asked for its module"
            await self.evaluate("1")  # the events sent so far arrive before this reply
            await asyncio.sleep(0.05)
        return self.paused.pop(0)


LOST = {
    "en-GB,en;q=0.9": "The connection was lost. Press Retry to go on from where it stopped.",
    "es-ES,es;q=0.9": "Se perdió la conexión. Pulsa Reintentar para seguir donde se quedó.",
}


@contextlib.contextmanager
def _front(kind: str, library: Library, port: int, tmp_path: Path) -> Iterator[str]:
    """The address the page is opened at, for a server to listen on `port`: the server's own,
    or a plain nginx site in front of it, whose own 502 page answers while the server is down
    (MEDIADESK_PUBLIC_URL names nginx, as behind any proxy, so the signed PUT goes there)."""
    if kind == "direct":
        yield f"http://127.0.0.1:{port}"
        return
    if NGINX is None:
        pytest.skip("nginx is not installed (apt-get install nginx-light)")
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    front = _free_port()
    location = (
        f"location / {{ proxy_pass http://127.0.0.1:{port}; "
        "proxy_set_header Host $http_host; client_max_body_size 0; }"
    )
    (prefix / "nginx.conf").write_text(
        CONF.format(
            user="user root root;" if os.geteuid() == 0 else "",
            prefix=prefix,
            port=front,
            http_part="",
            locations=location,
        )
    )
    url = f"http://127.0.0.1:{front}"
    library.apply_settings(public_base_url=url)
    proc = subprocess.Popen(
        [NGINX, "-c", str(prefix / "nginx.conf"), "-p", str(prefix), "-e", "stderr"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.parametrize(
    ("front", "languages"), [("direct", "en-GB,en;q=0.9"), ("nginx", "es-ES,es;q=0.9")]
)
async def test_a_module_that_failed_to_load_is_a_lost_connection_and_retry_loads_it(
    library: Library, tmp_path: Path, front: str, languages: str
) -> None:
    """The server stopped (a restart) after it sent the page and before the page's module
    came: a refused connection, or behind nginx its own 502 page. Choosing a file said
    "Refused: Failed to fetch dynamically imported module … (undefined)", and the rejected
    import was kept, so Retry and choosing the file again said the same once the server was
    back. It is a lost connection, with Retry, which imports the module again and stores the
    file."""
    picture = noise_png(tmp_path / "restart.png", 100)
    token = make_tokens(library).upload
    config = dataclasses.replace(server_config(library), port=_free_port())
    live = EmbeddedServer(library, config=config)
    again = EmbeddedServer(library, config=config)
    said = LOST[languages]
    try:
        with _front(front, library, config.port, tmp_path) as url:
            live.start()
            until(lambda: _answers(url), 15, 0.05)
            async with Paused(chromium_path() or "") as phone:
                await phone.start(languages)
                await phone.hold_module()
                await _open(phone, url, token)
                request = await phone.held(20)
                await asyncio.to_thread(live.stop)
                await phone.send("Fetch.continueRequest", requestId=request)  # no server now
                await phone.send("Fetch.disable")
                await phone.choose(picture)
                assert await phone.wait_for(f"{SHOWN} || {TOLD}", 20), await phone.page()
                state = await phone.page()
                assert state["status"] == said and state["retry"], state
                if front == "nginx":  # its own 502: the server refused it the module
                    log = (tmp_path / "nginx" / "error.log").read_text()
                    assert "Connection refused" in log and "/static/mediadesk.js" in log, log
                # chosen again while the server is still down: the module is asked for anew
                asked = len(_modules(phone))
                await phone.choose(picture)
                await _asked(phone, asked + 1)
                assert await phone.wait_for(SHOWN, 20), await phone.page()
                assert (await phone.page())["status"] == said
                again.start()
                await phone.evaluate("document.getElementById('retry').click()")
                await _wait_status(phone, ("Stored as #", "Guardado como n.º "), 30)
                # each at its own address: a browser may keep a failed one and fail it unasked
                modules = _modules(phone)
                assert len(set(modules)) == len(modules) == asked + 2, phone.requests
    finally:
        live.stop()
        again.stop()
    assert statuses(library) == {"ready": 1}, statuses(library)
