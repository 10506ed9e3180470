"""The URLs /stream/{id}/info hands out for a private file open in a player that cannot send
an Authorization header (<video>, hls.js without xhrSetup, ffmpeg): each carries a file grant,
the one /info was opened by (so they live exactly as long) or, asked with a token, a fresh one
of PRESIGNED_URL_EXPIRY. Its stream_url, raw_url and thumbnail_url carried none: 401.

A real library and server over loopback, real media; nothing mocked."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest

from core.library import Library
from core.links import sign_grant
from server.client import Client
from server.entry import EmbeddedServer
from tests import media
from tests.browser import Tab, chromium_path
from tests.conftest import make_settings
from tests.server_fixtures import Tokens, bearer, http_call, make_tokens, server_config

EXPIRY = 900  # PRESIGNED_URL_EXPIRY


@dataclass
class Served:
    lib: Library
    server: EmbeddedServer
    tokens: Tokens
    video: int
    image: int
    public: int

    def info(self, file_id: int, query: str = "", **headers: str) -> dict[str, object]:
        reply = http_call(f"{self.server.url}/stream/{file_id}/info{query}", headers=headers)
        assert reply.status == 200, reply.body
        answer: dict[str, object] = reply.json()
        return answer


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("info-grants")
    data = root / "data"
    data.mkdir()
    lib = Library.open(make_settings(data, presigned_url_expiry=EXPIRY, workers=0))
    video = lib.uploads.ingest(media.make_mp4(root / "clip.mp4"), "video").id
    image = lib.uploads.ingest(media.make_jpeg(root / "photo.jpg"), "image").id
    shown = media.make_jpeg(root / "shown.jpg", color=(10, 200, 30))
    public = lib.uploads.ingest(shown, "image", is_public=True).id
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        yield Served(lib, server, make_tokens(lib), video, image, public)
    finally:
        server.stop()
        lib.close()


def _links(info: dict[str, object]) -> list[str]:
    """Every URL /info hands out for the file on this server (public_url is the CDN's)."""
    urls = [info.get(name) for name in ("stream_url", "raw_url", "thumbnail_url", "hls_url")]
    urls += [info.get("thumbnails_vtt_url"), info.get("watch_url")]
    urls += [r["url"] for r in info.get("renditions") or []]  # type: ignore[attr-defined]
    return [str(url) for url in urls if url]


def _exp(url: str) -> int | None:
    values = parse_qs(urlsplit(url).query).get("exp")
    return int(values[0]) if values else None


def _opens_without_headers(served: Served, url: str) -> None:
    reply = http_call(served.server.url + url, headers={"Range": "bytes=0-99"})
    assert reply.status in (200, 206), (url, reply.status, reply.body[:200])


@pytest.mark.parametrize("kind", ["video", "image"])
def test_asked_with_a_token_every_url_carries_a_fresh_grant(served: Served, kind: str) -> None:
    file_id = served.video if kind == "video" else served.image
    before = int(time.time())
    info = served.info(file_id, **bearer(served.tokens.read))
    links = _links(info)
    assert {"stream_url", "raw_url"} <= {k for k, v in info.items() if v in links}
    for url in links:
        exp = _exp(url)
        assert exp is not None and "sig=" in url, url
        assert before + EXPIRY <= exp <= int(time.time()) + EXPIRY, url
        assert served.tokens.read not in url
        if not url.startswith("/watch/"):
            _opens_without_headers(served, url)


@pytest.mark.parametrize("kind", ["video", "image"])
def test_asked_under_a_grant_every_url_carries_that_grant(served: Served, kind: str) -> None:
    file_id = served.video if kind == "video" else served.image
    grant = sign_grant(served.lib, served.lib.get_file(file_id), expires_in=120)
    info = served.info(file_id, f"?{grant}")
    held = parse_qs(grant)
    for url in _links(info):
        query = parse_qs(urlsplit(url).query)
        assert (query.get("exp"), query.get("sig")) == (held["exp"], held["sig"]), url
        if not url.startswith("/watch/"):
            _opens_without_headers(served, url)


def test_a_public_files_urls_stay_plain(served: Served) -> None:
    info = served.info(served.public)
    assert info["is_public"] is True
    for url in _links(info):
        assert "sig=" not in url and "exp=" not in url, url
        _opens_without_headers(served, url)


def test_the_clients_playback_url_is_infos_own_link(served: Served) -> None:
    """Client.playback_url takes stream_url as /info signs it: one grant (not a second one
    from watch_url), and a photo's grant rather than the token in the URL."""
    with Client(served.server.url, served.tokens.read) as client:
        clip = client.playback_url(served.video)
        photo = client.playback_url(served.image)
    for url in (clip, photo):
        query = parse_qs(urlsplit(url).query)
        assert len(query.get("sig", [])) == len(query.get("exp", [])) == 1, url
        assert "access_token" not in query, url
        assert http_call(url, headers={"Range": "bytes=0-99"}).status == 206, url


@pytest.mark.skipif(chromium_path() is None, reason="Chromium not installed")
async def test_the_modules_playback_url_is_infos_own_link(served: Served) -> None:
    """mediadesk.js playbackUrl, the same."""
    token = served.tokens.read
    async with Tab(chromium_path() or "") as browser:
        await browser.goto(f"{served.server.url}/upload-demo")
        urls = await browser.evaluate(
            "import('/static/mediadesk.js').then(m => Promise.all("
            f"[{served.video}, {served.image}].map("
            f"(id) => m.playbackUrl(id, {{token: {json.dumps(token)}}}))))"
        )
    for url in urls:
        query = parse_qs(urlsplit(url).query)
        assert len(query.get("sig", [])) == len(query.get("exp", [])) == 1, url
        assert "access_token" not in query and token not in url, url
        assert http_call(url, headers={"Range": "bytes=0-99"}).status == 206, url
