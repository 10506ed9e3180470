"""/upload-demo on a phone (Chromium at 390x844, touch, es-ES or en): laid out for the phone's
width, in the browser's language, a new upload starts from an empty bar with the last file's
link gone, the progress says a percentage and the time left, and a lost connection says so,
offers Retry and goes on with the same pending upload (only the parts the bucket lacks)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from core.db.models import MediaFile
from core.errors import Conflict, InsufficientStorage, StorageUnavailable
from core.library import Library
from server.entry import EmbeddedServer
from tests.browser import chromium_path
from tests.internals import db_of
from tests.resumable_client import noise_png
from tests.s3_server import s3_client
from tests.server_fixtures import make_tokens, server_config
from tests.test_js_etag_reads import ConsoleBrowser, _cors, s3_library

__all__ = ["s3_library"]  # a fixture used here

pytestmark = [
    pytest.mark.skipif(chromium_path() is None, reason="Chromium not installed"),
    pytest.mark.timeout(150),
]


class Phone(ConsoleBrowser):
    """A phone's Chromium: 390x844 CSS px, touch, the given languages; keeps each request's
    method and URL (Network events) besides the console."""

    def __init__(self, executable: str) -> None:
        super().__init__(executable)
        self.requests: list[tuple[str, str]] = []

    def on_event(self, message: dict[str, Any]) -> None:
        super().on_event(message)
        if message.get("method") == "Network.requestWillBeSent":
            request = message["params"]["request"]
            self.requests.append((request["method"], request["url"]))

    async def start(self, languages: str, quick_waits: bool = False) -> None:
        """`quick_waits`: the page's waits of 0.4 s and more (mediadesk.js's five retries,
        0.5 s doubling to 8 s: 15.5 s before it says the connection was lost) run 8 times
        faster, as fake timers would: the same retries and the same order of states, in 2 s."""
        await self.listen()
        await self.send("Network.enable")
        if quick_waits:
            await self.send("Page.enable")
            await self.send("Page.addScriptToEvaluateOnNewDocument", source=_QUICK_WAITS)
        await self.send(
            "Emulation.setDeviceMetricsOverride",
            width=390,
            height=844,
            deviceScaleFactor=3,
            mobile=True,
        )
        await self.send("Emulation.setTouchEmulationEnabled", enabled=True, maxTouchPoints=5)
        await self.send(
            "Emulation.setUserAgentOverride",
            userAgent="Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36",
            acceptLanguage=languages,
            platform="Android",
        )

    async def network(self, *, offline: bool = False, rate: int = -1) -> None:
        await self.send(
            "Network.emulateNetworkConditions",
            offline=offline,
            latency=0,
            downloadThroughput=rate,
            uploadThroughput=rate,
        )

    async def choose(self, path: Path) -> None:
        root = (await self.send("DOM.getDocument"))["root"]["nodeId"]
        node = (await self.send("DOM.querySelector", nodeId=root, selector="#file"))["nodeId"]
        await self.send("DOM.setFileInputFiles", nodeId=node, files=[str(path)])

    async def page(self) -> dict[str, Any]:
        state: dict[str, Any] = await self.evaluate(_STATE)
        return state


_QUICK_WAITS = """
(() => {
  const real = window.setTimeout;
  window.setTimeout = (fn, ms, ...args) => real(fn, ms >= 400 ? ms / 8 : ms, ...args);
})();
"""

_STATE = """
(() => {
  const $ = (id) => document.getElementById(id);
  const size = (id) => { const r = $(id).getBoundingClientRect(); return [r.width, r.height]; };
  return {width: innerWidth, scrollWidth: document.documentElement.scrollWidth,
          lang: document.documentElement.lang, placeholder: $('token').placeholder,
          label: $('public').closest('label').textContent.trim(),
          checkbox: size('public'),
          checkLabel: $('public').closest('label').getBoundingClientRect().height,
          token: size('token'), file: size('file'),
          bar: $('bar').value, progress: $('progress')?.value ?? null, status: $('status').value,
          link: !$('link').hidden, retry: $('retry') ? !$('retry').hidden : false,
          retryText: $('retry')?.textContent ?? null,
          icon: document.querySelector('link[rel=icon]')?.getAttribute('href') ?? null};
})()
"""


def statuses(library: Library) -> dict[str, int]:
    """How many files of each status the catalog has (pending ones are abandoned uploads)."""
    with db_of(library).read() as s:
        rows = s.execute(select(MediaFile.status, func.count()).group_by(MediaFile.status))
        return {str(status): n for status, n in rows}


@pytest.fixture
def local(library: Library) -> Iterator[EmbeddedServer]:
    server = EmbeddedServer(library, config=server_config(library))
    server.start()
    yield server
    server.stop()


async def _open(phone: Phone, url: str, token: str) -> None:
    await phone.goto(f"{url}/upload-demo")
    await phone.evaluate(f"document.getElementById('token').value = {json.dumps(token)}")


async def _wait_status(phone: Phone, prefixes: tuple[str, ...], timeout: float) -> str:
    condition = " || ".join(
        f"document.getElementById('status').value.startsWith({json.dumps(p)})" for p in prefixes
    )
    assert await phone.wait_for(condition, timeout), await phone.page()
    status: str = (await phone.page())["status"]
    return status


@pytest.mark.parametrize(
    ("languages", "lang", "label", "placeholder"),
    [
        ("es-ES,es;q=0.9", "es", "pública", "Token de la API (permiso upload)"),
        ("en-GB,en;q=0.9", "en", "public", "API token (upload scope)"),
        ("fr-FR,fr;q=0.9,es;q=0.8", "es", "pública", "Token de la API (permiso upload)"),
    ],
)
async def test_the_page_fits_a_phone_in_its_language(
    local: EmbeddedServer, languages: str, lang: str, label: str, placeholder: str
) -> None:
    async with Phone(chromium_path() or "") as phone:
        await phone.start(languages)
        await phone.goto(f"{local.url}/upload-demo")
        state = await phone.page()
        assert state["width"] == 390 and state["scrollWidth"] <= 390, state  # was 980
        assert state["lang"] == lang and state["label"] == label, state
        assert state["placeholder"] == placeholder, state
        # finger-sized: the token field and the checkbox's row 44 px high, the box 24 px
        assert state["token"][1] >= 44 and state["checkLabel"] >= 44, state
        assert min(state["checkbox"]) >= 24, state
        # no /favicon.ico asked (a 404 in the console on every visit)
        assert state["icon"] == "data:,"
        assert not [u for _, u in phone.requests if u.endswith("/favicon.ico")], phone.requests
        assert not [m for m in phone.console if "404" in m], phone.console


async def test_a_new_upload_starts_empty_and_says_percent_and_time_left(
    local: EmbeddedServer, library: Library, tmp_path: Path
) -> None:
    first = noise_png(tmp_path / "first.png", 100)
    second = noise_png(tmp_path / "second.png", 300)  # ~270 kB: 9 s at 30 kB/s
    async with Phone(chromium_path() or "") as phone:
        await phone.start("es-ES,es;q=0.9")
        await _open(phone, local.url, make_tokens(library).upload)
        await phone.choose(first)
        assert (await _wait_status(phone, ("Guardado",), 20)).startswith("Guardado como n.º ")
        assert await phone.wait_for("!document.getElementById('link').hidden", 10)
        await phone.network(rate=30_000)
        await phone.choose(second)
        await phone.wait_for("document.getElementById('status').value === 'Subiendo…'", 5)
        state = await phone.page()
        # the first file's 100 % and its Open link stayed while the second was sent
        assert state["bar"] < 1 and not state["link"], state
        shown = "document.getElementById('progress')?.value"
        assert await phone.wait_for(f"/^\\d+ % · quedan unos \\d+ (s|min)$/.test({shown})", 8), (
            await phone.page()
        )
        await phone.network()
        await _wait_status(phone, ("Guardado",), 30)
        assert (await phone.page())["bar"] == 1


async def test_a_lost_connection_says_so_and_the_same_upload_goes_on(
    local: EmbeddedServer, library: Library, tmp_path: Path
) -> None:
    """Local storage (a single PUT): the drop is said in Spanish with Retry; back online the
    page goes on with the same pending file, not a new one; the input takes the same file
    again."""
    # ~750 kB: 5 s at 150 kB/s, the drop made at a fifth of it (it waited 3 s for that at
    # 50 kB/s; the time left is not what is checked)
    picture = noise_png(tmp_path / "clip.png", 500)
    async with Phone(chromium_path() or "") as phone:
        await phone.start("es-ES,es;q=0.9", quick_waits=True)
        await _open(phone, local.url, make_tokens(library).upload)
        await phone.network(rate=150_000)
        await phone.choose(picture)
        assert await phone.wait_for("document.getElementById('bar').value > 0.2", 20)
        await phone.network(offline=True)
        # said at once, while mediadesk.js goes on trying
        await _wait_status(phone, ("Sin conexión",), 3)
        status = await _wait_status(phone, ("Se perdió",), 40)
        assert "Refused" not in status and "Failed to fetch" not in status
        state = await phone.page()
        assert state["retry"] and state["retryText"] == "Reintentar", state
        presigns = [u for m, u in phone.requests if u.endswith("/files/upload/presigned")]
        await phone.network()
        assert (await _wait_status(phone, ("Guardado",), 40)).startswith("Guardado como n.º ")
        # the pending file went on: no second presign, and no abandoned pending file
        after = [u for m, u in phone.requests if u.endswith("/files/upload/presigned")]
        assert after == presigns and len(after) == 1
        # Chromium's offline spares the PUT under way: it was answered, only the confirms
        # failed, and Retry confirmed it (a renew and a second PUT only for bytes not there)
        puts = [u for m, u in phone.requests if m == "PUT"]
        renews = [u for m, u in phone.requests if u.endswith("/upload/renew")]
        assert len(puts) == 1 + len(renews), phone.requests
        assert statuses(library) == {"ready": 1}, statuses(library)
        # the same file chosen again is a new upload (the input was emptied): here a duplicate
        await phone.choose(picture)
        status = await _wait_status(phone, ("Ya estaba",), 30)
        assert status.startswith("Ya estaba guardado como n.º "), status


async def test_after_a_reload_the_same_file_goes_on_with_its_pending_upload(
    local: EmbeddedServer, library: Library, tmp_path: Path
) -> None:
    """The bytes' URL unreachable (the phone online): the page gives up saying the connection
    was lost; the coach reloads it and picks the same file: the same pending file goes on."""
    picture = noise_png(tmp_path / "again.png", 300)
    token = make_tokens(library).upload
    async with Phone(chromium_path() or "") as phone:
        await phone.start("en", quick_waits=True)
        await _open(phone, local.url, token)
        await phone.send("Network.setBlockedURLs", urls=["*/signed/*"])
        await phone.choose(picture)
        status = await _wait_status(phone, ("The connection was lost", "Refused"), 40)
        assert status.startswith("The connection was lost. Press Retry"), status
        await phone.send("Network.setBlockedURLs", urls=[])
        await _open(phone, local.url, token)
        start = len(phone.requests)
        await phone.choose(picture)
        assert (await _wait_status(phone, ("Stored",), 30)).startswith("Stored as #")
        asked = [u.split("?")[0] for m, u in phone.requests[start:] if m == "POST"]
        assert not [u for u in asked if u.endswith("/presigned")], asked
        assert [u for u in asked if u.endswith("/upload/renew")], asked
    assert statuses(library) == {"ready": 1}, statuses(library)


async def test_retry_sends_only_the_parts_the_bucket_lacks(
    s3_library: Library, s3_bucket: Any, tmp_path: Path
) -> None:
    live = EmbeddedServer(s3_library, config=server_config(s3_library))
    live.start()
    try:
        _cors(s3_bucket, live.url, expose_etag=True)
        video = noise_png(tmp_path / "big.png", 2000)  # ~12 MB: three parts of 5 MiB
        size = video.stat().st_size
        async with Phone(chromium_path() or "") as phone:
            await phone.start("en-US,en;q=0.9", quick_waits=True)
            await _open(phone, live.url, make_tokens(s3_library).upload)
            await phone.network(rate=2_000_000)
            await phone.choose(video)
            # past the first part, not yet the last
            assert await phone.wait_for("document.getElementById('bar').value > 0.5", 30)
            await phone.network(offline=True)
            status = await _wait_status(phone, ("The connection was lost",), 40)
            assert "Retry" in status and (await phone.page())["retry"]
            client = s3_client(s3_bucket)
            [upload] = client.list_multipart_uploads(Bucket=s3_bucket.bucket)["Uploads"]
            held = client.list_parts(
                Bucket=s3_bucket.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
            ).get("Parts", [])
            assert held, "no part reached the bucket before the drop"
            await phone.network()
            start = len(phone.requests)
            await phone.evaluate("document.getElementById('retry').click()")
            assert await phone.wait_for(
                "parseFloat(document.getElementById('bar').value) >= "
                f"{sum(p['Size'] for p in held) / size - 0.01}",
                5,
            )
            await _wait_status(phone, ("Stored as #",), 60)
            sent = [(m, u) for m, u in phone.requests[start:] if m == "PUT"]
            numbers = sorted({int(u.split("partNumber=")[1].split("&")[0]) for _, u in sent})
            assert numbers == sorted({1, 2, 3} - {p["PartNumber"] for p in held}), phone.requests[
                start:
            ]
            assert not [u for _, u in phone.requests[start:] if u.endswith("/presigned")]
        assert statuses(s3_library) == {"ready": 1}, statuses(s3_library)
    finally:
        live.stop()


@pytest.mark.parametrize(
    ("languages", "fault", "said"),
    [
        (
            "en-GB,en;q=0.9",
            InsufficientStorage("There is not enough free storage space to save the file"),
            "Not stored: The server has no free space left to store the file. "
            "(insufficient_storage)",
        ),
        (
            "es-ES,es;q=0.9",
            InsufficientStorage("There is not enough free storage space to save the file"),
            "No se guardó: El servidor no tiene espacio libre para guardar el archivo. "
            "(insufficient_storage)",
        ),
        (
            "es-ES,es;q=0.9",
            StorageUnavailable("The storage cannot be reached right now; try again later"),
            "No se guardó: El servidor no puede acceder a su almacenamiento ahora. "
            "Inténtalo más tarde. (storage_unavailable)",
        ),
    ],
)
async def test_a_full_disk_or_a_storage_fault_is_said_and_retry_goes_on(
    local: EmbeddedServer,
    library: Library,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    languages: str,
    fault: Exception,
    said: str,
) -> None:
    """A 507 (the disk full) or a 500 storage_unavailable at confirm was taken for a dropped
    connection ("The connection was lost. Press Retry…"), and each Retry said the same: the
    page says the server's answer, in its language, and Retry goes on once it is fixed."""
    picture = noise_png(tmp_path / "full.png", 100)

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise fault

    monkeypatch.setattr(library.uploads, "confirm_upload_once", refuse)
    async with Phone(chromium_path() or "") as phone:
        await phone.start(languages)
        await _open(phone, local.url, make_tokens(library).upload)
        await phone.choose(picture)
        assert await phone.wait_for("!document.getElementById('retry').hidden", 30)
        state = await phone.page()
        assert state["status"] == said, state
        monkeypatch.undo()
        await phone.evaluate("document.getElementById('retry').click()")
        await _wait_status(phone, ("Stored as #", "Guardado como n.º "), 30)
    assert statuses(library) == {"ready": 1}, statuses(library)


@pytest.mark.parametrize(
    ("languages", "invalid", "conflict"),
    [
        (
            "es-ES,es;q=0.9",
            "Rechazado: El token no existe o fue revocado. (invalid_token)",
            "Rechazado: Taken by another upload (conflict)",
        ),
        (
            "en-GB,en;q=0.9",
            "Refused: The token is unknown or revoked. (invalid_token)",
            "Refused: Taken by another upload (conflict)",
        ),
    ],
)
async def test_a_refusal_is_said_in_the_page_language(
    local: EmbeddedServer,
    library: Library,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    languages: str,
    invalid: str,
    conflict: str,
) -> None:
    """The Spanish page said "Rechazado: The token is unknown or revoked (invalid_token)": the
    server's English message. The codes the upload answers are said in the page's words; the
    server's message stays for a code the page has no sentence of."""
    first = noise_png(tmp_path / "first.png", 100)
    second = noise_png(tmp_path / "second.png", 120)

    def conflicting(*_args: object, **_kwargs: object) -> None:
        raise Conflict("Taken by another upload")

    async with Phone(chromium_path() or "") as phone:
        await phone.start(languages)
        await _open(phone, local.url, "mdk_wrongtoken")
        await phone.choose(first)
        assert await _wait_status(phone, ("Rechazado", "Refused"), 20) == invalid
        assert not (await phone.page())["retry"]
        await _open(phone, local.url, make_tokens(library).upload)
        monkeypatch.setattr(library.uploads, "confirm_upload_once", conflicting)
        await phone.choose(second)
        assert await _wait_status(phone, ("Rechazado", "Refused"), 20) == conflict
