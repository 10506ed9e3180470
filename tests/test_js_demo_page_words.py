"""/upload-demo's sentences in a real Chromium against a real server: an origin the server does
not allow is said as such (not a lost connection), a duplicate names the file the library
lists, and too_large says the limit."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.library import Library
from server.entry import EmbeddedServer
from tests.browser import chromium_path
from tests.resumable_client import noise_png
from tests.server_fixtures import make_tokens
from tests.test_demo_phone import Phone, _open, _wait_status, local, statuses
from tests.test_js_module import Site, site

__all__ = ["local", "site"]  # fixtures used here

pytestmark = [
    pytest.mark.skipif(chromium_path() is None, reason="Chromium not installed"),
    pytest.mark.timeout(120),
]


@pytest.mark.parametrize(
    ("languages", "said"),
    [
        (
            "en-GB,en;q=0.9",
            "Refused: This server does not accept uploads from this page's address ({origin}): "
            "its administrator must add it to MEDIADESK_CORS_ORIGINS. (cors_forbidden)",
        ),
        (
            "es-ES,es;q=0.9",
            "Rechazado: Este servidor no admite subidas desde la dirección de esta página "
            "({origin}): su administrador debe añadirla a MEDIADESK_CORS_ORIGINS. "
            "(cors_forbidden)",
        ),
    ],
)
async def test_an_origin_the_server_does_not_allow_is_said_not_a_lost_connection(
    local: EmbeddedServer, library: Library, site: Site, tmp_path: Path, languages: str, said: str
) -> None:
    """The page on a site whose origin is not in MEDIADESK_CORS_ORIGINS: the module's import
    is refused by CORS, and the page said "The connection was lost. Press Retry", which never
    works. It says the server does not allow this page's origin, and offers no Retry."""
    with urllib.request.urlopen(f"{local.url}/upload-demo", timeout=10) as reply:
        (site.folder / "upload-demo.html").write_bytes(reply.read())
    picture = noise_png(tmp_path / "far.png", 60)
    async with Phone(chromium_path() or "") as phone:
        await phone.start(languages)
        await phone.goto(f"{site.url}/upload-demo.html?server={local.url}")
        await phone.evaluate(
            f"document.getElementById('token').value = '{make_tokens(library).upload}'"
        )
        await phone.choose(picture)
        status = await _wait_status(phone, ("Refused", "Rechazado", "The conn", "Se perd"), 30)
        assert status == said.format(origin=site.url), status
        assert not (await phone.page())["retry"]
    assert statuses(library) == {}, statuses(library)


async def test_a_duplicate_names_the_file_the_library_lists(
    local: EmbeddedServer, library: Library, tmp_path: Path
) -> None:
    """The same file again: "Already stored as #2" named the alias the confirm answered, an
    id the library's list does not show; it names the stored file (duplicate_of)."""
    picture = noise_png(tmp_path / "twice.png", 80)
    async with Phone(chromium_path() or "") as phone:
        await phone.start("en")
        await _open(phone, local.url, make_tokens(library).upload)
        await phone.choose(picture)
        first = await _wait_status(phone, ("Stored as #", "Refused"), 20)
        assert first.startswith("Stored as #"), first
        await phone.choose(picture)
        again = await _wait_status(phone, ("Already stored as #", "Refused"), 20)
        assert again == f"Already stored as #{first.removeprefix('Stored as #')}", again


@pytest.mark.parametrize(
    ("languages", "said"),
    [
        (
            "en-GB,en;q=0.9",
            "Refused: The file is larger than this server accepts (at most 50 kB). (too_large)",
        ),
        (
            "es-ES,es;q=0.9",
            "Rechazado: El archivo es más grande de lo que admite este servidor "
            "(como mucho 50 kB). (too_large)",
        ),
    ],
)
async def test_too_large_says_the_limit(
    local: EmbeddedServer, library: Library, tmp_path: Path, languages: str, said: str
) -> None:
    """A file past MAX_FILE_SIZE was said "larger than this server accepts" with no limit,
    though the error carries details.max_size: the limit is said, in the page's language."""
    library.apply_settings(max_file_size=50_000)
    picture = noise_png(tmp_path / "big.png", 200)
    async with Phone(chromium_path() or "") as phone:
        await phone.start(languages)
        await _open(phone, local.url, make_tokens(library).upload)
        await phone.choose(picture)
        assert await _wait_status(phone, ("Refused", "Rechazado"), 20) == said


class CutLink:
    """A TCP proxy in front of a server that cuts the connection sending `marker` `after`
    bytes past it (once), then refuses every connection for `down` seconds: a link that
    drops and comes back, as the PUT's automatic retries meet it."""

    def __init__(self, upstream_port: int, marker: bytes, after: int, down: float) -> None:
        self.upstream_port = upstream_port
        self.marker = marker
        self.after = after
        self.down = down
        self.cut_at: float | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        now = time.monotonic()
        if self.cut_at is not None and now < self.cut_at + self.down:
            client_w.transport.abort()
            return
        server_r, server_w = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        self._writers += [client_w, server_w]

        async def up() -> None:
            count = 0
            seen: int | None = None
            while data := await client_r.read(65536):
                if self.cut_at is not None and time.monotonic() < self.cut_at + self.down:
                    client_w.transport.abort()  # a connection kept open from before: down too
                    server_w.transport.abort()
                    return
                if seen is None and self.cut_at is None and (at := data.find(self.marker)) >= 0:
                    seen = count + at
                if seen is not None and count + len(data) >= seen + self.after:
                    self.cut_at = time.monotonic()
                    client_w.transport.abort()
                    server_w.transport.abort()
                    return
                count += len(data)
                server_w.write(data)
                await server_w.drain()

        async def down() -> None:
            while data := await server_r.read(65536):
                client_w.write(data)
                await client_w.drain()

        with contextlib.suppress(OSError):
            await asyncio.gather(up(), down())
        client_w.close()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[str]:
        listener = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        try:
            yield f"http://127.0.0.1:{listener.sockets[0].getsockname()[1]}"
        finally:
            for writer in self._writers:
                writer.transport.abort()
            listener.close()


async def test_the_time_left_after_an_automatic_resend_leaves_the_downtime_out(
    local: EmbeddedServer, library: Library, tmp_path: Path
) -> None:
    """The PUT cut part-way and the link down ~3.5 s: mediadesk.js sends it again by itself.
    The time left was the rate since the first send's start, downtime included, so it said
    about three times the real time; the clock starts again with each send."""
    picture = noise_png(tmp_path / "cut.png", 400)  # ~480 kB: ~5 s a send at 100 kB/s
    total = picture.stat().st_size
    link = CutLink(local.port, b"PUT /signed/", 150_000, 3.2)
    async with link.running() as url, Phone(chromium_path() or "") as phone:
        library.apply_settings(public_base_url=url)  # the signed PUT goes through it too
        await phone.start("en")
        await _open(phone, url, make_tokens(library).upload)
        await phone.network(rate=100_000)
        await phone.choose(picture)
        bar = "document.getElementById('bar').value"
        assert await phone.wait_for(f"{bar} > 0.2", 20), await phone.page()
        assert await phone.wait_for(f"{bar} < 0.1", 20), await phone.page()  # sent again
        assert link.cut_at is not None
        assert await phone.wait_for(f"{bar} > 0.45", 20), await phone.page()
        shown = (await phone.page())["progress"]
        left = re.fullmatch(r"\d+ % · about (\d+) s left", shown)
        assert left, shown
        # ~0.55 of the file left at 100 kB/s: ~3 s (the downtime counted, it said ~10 s)
        assert int(left.group(1)) <= 2 * 0.55 * total / 100_000, shown
        assert (await _wait_status(phone, ("Stored", "Refused", "The conn"), 30)).startswith(
            "Stored as #"
        )
