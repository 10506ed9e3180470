"""/static/mediadesk.js and /upload-demo in headless Chromium, from another origin (CORS).

The demo page is served by a second web server (another port, like a team's web site) and
imports the module from MediaDesk; uploads go cross-origin with a token, with XHR progress.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import functools
import http.server
import json
import os
import shutil
import socket
import subprocess
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.filenames import clean_filename
from core.library import Library
from core.records import MAX_DESCRIPTION
from server.client import Client
from server.entry import EmbeddedServer
from tests.browser import Browser, Tab, chromium_path
from tests.s3_server import s3_client
from tests.server_fixtures import bearer, http_call, make_tokens, server_config
from tests.test_client_upload_fields import BROWSER_NAMES
from tests.test_form_filenames import Pictures
from tests.video_helpers import ffmpeg_clip

pytestmark = [
    pytest.mark.skipif(chromium_path() is None, reason="Chromium not installed"),
    pytest.mark.timeout(120),
]


@dataclasses.dataclass(frozen=True)
class Site:
    url: str
    folder: Path


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    """Another origin serving static files from a folder."""
    folder = tmp_path / "site"
    folder.mkdir()
    handler = functools.partial(_Quiet, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield Site(f"http://127.0.0.1:{httpd.server_address[1]}", folder)
    httpd.shutdown()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server(library: Library, site: Site) -> Iterator[EmbeddedServer]:
    config = dataclasses.replace(server_config(library), cors_origins=(site.url,))
    live = EmbeddedServer(library, config=config)
    live.start()
    yield live
    live.stop()


def test_module_and_demo_page_are_served(server: EmbeddedServer, site: Site) -> None:
    module = http_call(f"{server.url}/static/mediadesk.js", headers={"Origin": site.url})
    assert module.status == 200
    assert module.headers["Content-Type"].startswith("text/javascript")
    assert module.headers["Access-Control-Allow-Origin"] == site.url  # module scripts need it
    assert b"export async function uploadFile" in module.body
    page = http_call(f"{server.url}/upload-demo")
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
    assert b"/static/mediadesk.js" in page.body


UPLOAD = """
async (b64, name, type, token, fileType, extra) => {
  const { uploadFile } = await import(SERVER + "/static/mediadesk.js");
  const file = new File([Uint8Array.from(atob(b64), c => c.charCodeAt(0))], name, {type});
  const events = [];
  const spied = () => ({events, requests: window.__requests, calls: window.__calls});
  try {
    const stored = await uploadFile(file, {
      token, fileType: fileType || undefined, isPublic: true,
      onProgress: (sent, total) => events.push([sent, total]), ...extra,
    });
    return {stored, ...spied()};
  } catch (err) {
    return {error: {code: err.code, status: err.status, message: err.message,
                    reason: err.reason, details: err.details}, ...spied()};
  }
}
"""

# Every request the page makes, by URL (fetch and XMLHttpRequest); __calls also has each
# one's method and text body. window.__olderServer = true makes the presign lose its
# description on the way, as a server from before that field ignores it.
SPY = """
(() => {
  window.__requests = [];
  window.__calls = [];
  window.__olderServer = false;
  if (window.__spying) return true;
  window.__spying = true;
  const fetch0 = window.fetch;
  window.fetch = (url, init) => {
    window.__requests.push(String(url));
    if (window.__olderServer && String(url).endsWith("/files/upload/presigned")) {
      const form = JSON.parse(init.body);
      delete form.description;
      init = {...init, body: JSON.stringify(form)};
    }
    const body = init && typeof init.body === "string" ? init.body : null;
    window.__calls.push([(init && init.method) || "GET", String(url), body]);
    return fetch0(url, init);
  };
  const open0 = XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.open = function (method, url, ...rest) {
    window.__requests.push(String(url));
    window.__calls.push([method, String(url), null]);
    return open0.call(this, method, url, ...rest);
  };
  return true;
})()
"""


async def _upload(
    browser: Browser,
    server: str,
    path: Path | bytes,
    name: str,
    mime: str,
    token: str,
    kind: str = "",
    *,
    older_server: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    data = path if isinstance(path, bytes) else Path(path).read_bytes()
    args = ", ".join(
        json.dumps(v) for v in (base64.b64encode(data).decode(), name, mime, token, kind, extra)
    )
    await browser.evaluate(SPY)
    if older_server:
        await browser.evaluate("window.__olderServer = true")
    return await browser.evaluate(
        f"(() => {{ const SERVER = {json.dumps(server)}; return ({UPLOAD})({args}); }})()"
    )


async def test_demo_page_from_another_origin_uploads_with_progress(
    server: EmbeddedServer, site: Site, library: Library, media_dir: Any
) -> None:
    # The demo page, byte for byte as MediaDesk serves it, on the other origin
    with urllib.request.urlopen(f"{server.url}/upload-demo", timeout=10) as reply:
        (site.folder / "upload-demo.html").write_bytes(reply.read())
    token = make_tokens(library).upload
    async with Tab(chromium_path() or "") as browser:
        await browser.goto(f"{site.url}/upload-demo.html?server={server.url}")

        # 1. The page itself: a token, a file chosen in its <input type=file>
        await browser.evaluate(f"document.getElementById('token').value = {json.dumps(token)}")
        root = (await browser.send("DOM.getDocument"))["root"]["nodeId"]
        node = (await browser.send("DOM.querySelector", nodeId=root, selector="#file"))["nodeId"]
        await browser.send("DOM.setFileInputFiles", nodeId=node, files=[str(media_dir.png)])
        status = await browser.evaluate(
            """new Promise((ok) => { const t = setInterval(() => {
                 const s = document.getElementById('status').value;
                 if (s && s !== 'Uploading…') { clearInterval(t); ok(s); } }, 50); })"""
        )
        assert status.startswith("Stored as #"), status
        assert await browser.evaluate("document.getElementById('bar').value") == 1
        # its link: the private file's signed link, shown once asked, opening without a token
        link = await browser.evaluate(
            """new Promise((ok) => { const t = setInterval(() => {
                 const a = document.getElementById('link');
                 if (!a.hidden) { clearInterval(t); ok(a.href); } }, 50); })"""
        )
        assert "sig=" in link and token not in link, link
        assert http_call(link).body == media_dir.png.read_bytes()
        assert await browser.evaluate("document.getElementById('status').value") == status

        # 2. The module from script: a real JPEG and a real MP4, progress observed
        for path, mime, kind in (
            (media_dir.jpeg, "image/jpeg", "image"),
            (media_dir.mp4, "video/mp4", "video"),
        ):
            result = await _upload(browser, server.url, path, path.name, mime, token)
            assert "error" not in result, result
            stored = result["stored"]
            assert stored["status"] == "ready" and stored["file_type"] == kind
            assert stored["size"] == path.stat().st_size and stored["is_public"] is True
            size = path.stat().st_size
            assert result["events"] and result["events"][-1] == [size, size]
            assert all(0 <= sent <= total == size for sent, total in result["events"])
            presign = [u for u in result["requests"] if u.endswith("/files/upload/presigned")]
            assert len(presign) == 1
            assert any("/signed/" in u for u in result["requests"])  # the PUT went to the URL

        # 3. A text file renamed .jpg: refused before any request for an upload URL
        before = library.counts()
        result = await _upload(
            browser, server.url, b"just some notes\n" * 10, "holiday.jpg", "image/jpeg", token
        )
        assert result["error"]["code"] == "unsupported_type"
        assert result["error"]["status"] is None
        assert not any("/files/upload" in u for u in result["requests"]), result["requests"]
        # a video sent as an image: refused the same way
        mismatch = await _upload(
            browser, server.url, media_dir.mp4, "clip.mp4", "video/mp4", token, "image"
        )
        assert mismatch["error"]["code"] == "type_mismatch"
        assert library.counts() == before

        # 4. The server's own error codes come through
        denied = await _upload(browser, server.url, media_dir.gif, "a.gif", "image/gif", "nope")
        assert denied["error"]["status"] == 401 and denied["error"]["code"] == "invalid_token"


async def test_stream_and_watch_urls(server: EmbeddedServer) -> None:
    async with Tab(chromium_path() or "") as browser:
        await browser.goto(f"{server.url}/upload-demo")
        urls = await browser.evaluate(
            "import('/static/mediadesk.js').then(m => [m.streamUrl(7), "
            "m.streamUrl(8, {kind: 'image', token: 't k'}), m.watchUrl(9)])"
        )
    assert urls == [
        f"{server.url}/stream/7/video",
        f"{server.url}/stream/8/image?access_token=t%20k",
        f"{server.url}/watch/9",
    ]


async def test_stream_url_of_a_file_record_carries_its_content_tag(
    server: EmbeddedServer, library: Library, media_dir: Any
) -> None:
    """Given the file as the server answered it (File or StreamInfo), streamUrl adds the
    content tag where the server's own links carry it — an image's stream and any raw URL,
    not a video's stream — so the bytes it names are cached for good; given an id, it builds
    the same URLs as before."""
    photo = library.uploads.ingest(media_dir.jpeg, "image", is_public=True)
    clip = library.uploads.ingest(media_dir.mp4, "video", is_public=True)
    token = make_tokens(library).read
    records = {
        name: http_call(f"{server.url}{path}", headers=bearer(token)).json()
        for name, path in (
            ("photo", f"/files/{photo.id}"),
            ("clip", f"/files/{clip.id}"),
            ("photo_info", f"/stream/{photo.id}/info"),
        )
    }
    calls = {
        "photo": "m.streamUrl(r.photo)",
        "photo_raw": "m.streamUrl(r.photo, {kind: 'raw'})",
        "photo_token": "m.streamUrl(r.photo, {token: 't k'})",
        "photo_info": "m.streamUrl(r.photo_info)",
        "clip": "m.streamUrl(r.clip)",
        "clip_raw": "m.streamUrl(r.clip, {kind: 'raw'})",
        "clip_watch": "m.watchUrl(r.clip)",
        "by_id": "m.streamUrl(r.photo.id, {kind: 'image'})",
    }
    async with Tab(chromium_path() or "") as browser:
        await browser.goto(f"{server.url}/upload-demo")
        urls = await browser.evaluate(
            f"import('/static/mediadesk.js').then(m => {{ const r = {json.dumps(records)}; "
            f"return {{{', '.join(f'{k}: {v}' for k, v in calls.items())}}}; }})"
        )
    tag, clip_tag = photo.content_tag, clip.content_tag
    assert tag and clip_tag
    assert urls == {
        "photo": f"{server.url}/stream/{photo.id}/image?v={tag}",
        "photo_raw": f"{server.url}/stream/{photo.id}/raw?v={tag}",
        "photo_token": f"{server.url}/stream/{photo.id}/image?v={tag}&access_token=t%20k",
        "photo_info": f"{server.url}/stream/{photo.id}/image?v={tag}",
        "clip": f"{server.url}/stream/{clip.id}/video",
        "clip_raw": f"{server.url}/stream/{clip.id}/raw?v={clip_tag}",
        "clip_watch": f"{server.url}/watch/{clip.id}",
        "by_id": f"{server.url}/stream/{photo.id}/image",
    }
    # what the tag is for: the answer may be kept for good
    cached = http_call(urls["photo"]).headers["Cache-Control"]
    assert "immutable" in cached, cached


async def test_playback_url_is_the_pinned_link_a_player_can_open(
    server: EmbeddedServer, library: Library, media_dir: Any
) -> None:
    """playbackUrl is /stream/{id}/info's stream_url, pinned (rendition= and v=), with the file
    grant a <video> needs for a private file, never the token; streamUrl stays the bare URL."""
    clip = library.uploads.ingest(media_dir.mov, "video")
    token = make_tokens(library).read
    async with Tab(chromium_path() or "") as browser:
        await browser.goto(f"{server.url}/upload-demo")
        urls = await browser.evaluate(
            f"import('/static/mediadesk.js').then(async m => [await m.playbackUrl({clip.id}, "
            f"{{token: {json.dumps(token)}}}), m.streamUrl({clip.id})])"
        )
    url, bare = urls
    assert bare == f"{server.url}/stream/{clip.id}/video"
    assert url.startswith(f"{bare}?rendition=") and "&v=" in url and "sig=" in url
    assert token not in url and "access_token" not in url
    part = http_call(url, headers={"Range": "bytes=100-199"})  # as a player: no token
    assert part.status == 206, part.status
    if part.headers["X-MediaDesk-Rendition"] == "original":
        assert part.body == media_dir.mov.read_bytes()[100:200]


async def test_share_url_never_puts_the_token_in_a_link(
    server: EmbeddedServer, library: Library, media_dir: Any
) -> None:
    """shareUrl: a public file's link needs no token; a private file's is a signed link asked
    with the token (the watch page for a video, the download otherwise) that opens without
    one; no link carries the token."""
    public_photo = library.uploads.ingest(media_dir.jpeg, "image", is_public=True)
    public_clip = library.uploads.ingest(media_dir.mp4, "video", is_public=True)
    private_photo = library.uploads.ingest(media_dir.png, "image")
    private_clip = library.uploads.ingest(media_dir.webm, "video")
    token = make_tokens(library).read
    records = {
        name: http_call(f"{server.url}/files/{record.id}", headers=bearer(token)).json()
        for name, record in (
            ("public_photo", public_photo),
            ("public_clip", public_clip),
            ("private_photo", private_photo),
            ("private_clip", private_clip),
        )
    }
    async with Tab(chromium_path() or "") as browser:
        await browser.goto(f"{server.url}/upload-demo")
        links = await browser.evaluate(
            f"import('/static/mediadesk.js').then(async m => {{ const r = {json.dumps(records)}; "
            f"const out = {{}}; for (const k of Object.keys(r)) "
            f"out[k] = await m.shareUrl(r[k], {{token: {json.dumps(token)}, expiresIn: 600}}); "
            f"return out; }})"
        )
    assert links["public_photo"] == (
        f"{server.url}/stream/{public_photo.id}/image?v={public_photo.content_tag}"
    )
    assert links["public_clip"] == f"{server.url}/watch/{public_clip.id}"
    assert "/watch/" in links["private_clip"] and "sig=" in links["private_clip"]
    assert "sig=" in links["private_photo"]
    for name, link in links.items():
        assert token not in link and "access_token" not in link, name
        opened = http_call(link)  # as whoever the link was handed to: no token
        assert opened.status == 200, (name, opened.status)
    assert http_call(links["private_photo"]).body == media_dir.png.read_bytes()


async def test_the_served_modules_reason_codes_are_cores(server: EmbeddedServer) -> None:
    """The reason codes the module exports are core.jobs' (the Job schema's enum): a code
    added to one and not the other fails here."""
    from core.jobs import FAILURE_REASONS, SKIP_REASONS

    async with Tab(chromium_path() or "") as browser:
        await browser.goto(f"{server.url}/upload-demo")
        lists = await browser.evaluate(
            "import('/static/mediadesk.js').then(m => "
            "[m.SKIP_REASONS, m.FAILURE_REASONS, Object.isFrozen(m.FAILURE_REASONS)])"
        )
    assert lists == [list(SKIP_REASONS), list(FAILURE_REASONS), True]


DESCRIPTION = "Warm-up, lap 2 — ñandú 写真\nsecond line"


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest) -> Iterator[tuple[EmbeddedServer, Library]]:
    """The server on local storage, or on moto's S3 with a bucket that lets the server's own
    pages PUT to it (CORS)."""
    library: Library = request.getfixturevalue(
        "library" if request.param == "local" else "s3_library"
    )
    live = EmbeddedServer(library, config=server_config(library))
    live.start()
    if request.param == "s3":
        s3_client(request.getfixturevalue("s3_bucket")).put_bucket_cors(
            Bucket=request.getfixturevalue("s3_bucket").bucket,
            CORSConfiguration={
                "CORSRules": [
                    {
                        "AllowedOrigins": [live.url],
                        "AllowedMethods": ["PUT", "GET"],
                        "AllowedHeaders": ["content-type"],
                        "MaxAgeSeconds": 600,
                    }
                ]
            },
        )
    yield live, library
    live.stop()


def _methods(result: dict[str, Any]) -> list[str]:
    return [method for method, _, _ in result["calls"]]


async def test_the_description_goes_in_the_presign(
    backend: tuple[EmbeddedServer, Library], tmp_path: Path
) -> None:
    """One request: the description is a field of the presign, refused (with the server's
    code) before any byte is sent; no PATCH after the confirm, except for a server that
    ignored the field."""
    live, library = backend
    tokens = make_tokens(library)
    pictures = Pictures(tmp_path)
    async with Tab(chromium_path() or "") as browser:
        await browser.goto(f"{live.url}/upload-demo")
        photo = pictures.next()
        up = functools.partial(_upload, browser, live.url, mime="image/jpeg", token=tokens.upload)
        result = await up(photo, "lap.jpg", description=DESCRIPTION)
        assert "error" not in result, result
        assert result["stored"]["description"] == DESCRIPTION
        [presign] = [c for c in result["calls"] if c[1].endswith("/files/upload/presigned")]
        assert json.loads(presign[2])["description"] == DESCRIPTION
        assert "PATCH" not in _methods(result)
        stored = http_call(
            f"{live.url}/files/{result['stored']['id']}", headers=bearer(tokens.read)
        )
        assert stored.json()["description"] == DESCRIPTION

        # the same bytes again: a duplicate keeps its own description (as a direct upload's)
        again = await up(photo, "lap again.jpg", description="Something else")
        assert again["stored"]["duplicate"] is True
        assert again["stored"]["description"] == DESCRIPTION and "PATCH" not in _methods(again)

        # refused by the server: its code and reason, and nothing was uploaded
        before = library.counts()
        refused = await up(pictures.next(), "long.jpg", description="x" * (MAX_DESCRIPTION + 1))
        error = refused["error"]
        assert (error["status"], error["code"], error["reason"]) == (
            400,
            "invalid_input",
            "description_too_long",
        )
        assert _methods(refused) == ["POST"], refused["calls"]  # the presign only (/config cached)
        assert library.counts() == before

        # a server from before the field: the description follows the confirm, as before
        older = await up(pictures.next(), "old.jpg", description=DESCRIPTION, older_server=True)
        assert "description" not in json.loads(older["calls"][0][2])
        assert _methods(older)[-2:] == ["POST", "PATCH"]
        assert older["stored"]["description"] == DESCRIPTION


# A file chosen in a page, sent in a form by the browser itself (its FormData encoding)
BROWSER_FORM = """
async (b64, name, token) => {
  const file = new File([Uint8Array.from(atob(b64), c => c.charCodeAt(0))], name,
                        {type: "image/jpeg"});
  const form = new FormData();
  form.append("file_type", "image");
  form.append("file", file);
  const reply = await fetch("/files/upload/direct",
    {method: "POST", body: form, headers: {Authorization: "Bearer " + token}});
  return [reply.status, await reply.json()];
}
"""


async def test_names_are_stored_as_a_browsers_own_form_upload_stores_them(
    server: EmbeddedServer, library: Library, tmp_path: Path
) -> None:
    """uploadFile sends the name as JSON text; Chromium's FormData, the Python client's direct
    upload and uploadFile all store the same name for names with quotes, backslashes, CR/LF,
    tabs, % and other scripts."""
    token = make_tokens(library).upload
    pictures = Pictures(tmp_path)
    async with Tab(chromium_path() or "") as browser:
        await browser.goto(f"{server.url}/upload-demo")
        with Client(server.url, token) as client:
            for name in BROWSER_NAMES:
                data = pictures.next().read_bytes()
                args = ", ".join(
                    json.dumps(v) for v in (base64.b64encode(data).decode(), name, token)
                )
                status, form = await browser.evaluate(f"({BROWSER_FORM})({args})")
                assert status == 201, form
                module = await _upload(
                    browser, server.url, pictures.next(), name, "image/jpeg", token
                )
                python = client.upload(pictures.next(), original_filename=name)
                assert python.flow == "direct"
                names = {
                    "form": form["original_filename"],
                    "module": module["stored"]["original_filename"],
                    "python": python.file["original_filename"],
                }
                assert names == dict.fromkeys(names, clean_filename(name)), repr(name)


def test_js_sniffing_agrees_with_core(media_dir: Any, tmp_path: Path) -> None:
    """The module's magic numbers say what core.mediatypes says, for every sample."""
    from core.errors import MediaDeskError
    from core.mediatypes import sniff_bytes

    node = shutil.which("node")
    if node is None:
        pytest.skip("node not installed")
    samples = {
        name: Path(getattr(media_dir, name)).read_bytes()[:8192]
        for name in ("jpeg", "png", "webp", "gif", "mp4", "webm", "avi", "mov", "wmv")
        + ("wav", "mkv", "fake_exe_jpg")
    }
    samples["heic"] = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 40
    samples["text"] = b"just some notes, renamed .jpg\n" * 4
    # MPEG-TS of 188-byte packets and a camcorder's 192-byte ones (AVCHD .mts/.m2ts)
    for name, m2ts in (("ts", "0"), ("m2ts", "1")):
        clip = ffmpeg_clip(
            tmp_path / f"clip.{name}",
            *("-f", "lavfi", "-i", "testsrc=size=64x48:rate=5:duration=1"),
            *("-c:v", "libx264", "-f", "mpegts", "-mpegts_m2ts_mode", m2ts),
        )
        samples[name] = clip.read_bytes()[:8192]
    expected: dict[str, str | None] = {}
    for name, head in samples.items():
        try:
            expected[name] = sniff_bytes(head).mime
        except MediaDeskError:
            expected[name] = None
    module = (Path(__file__).parent.parent / "server" / "static" / "mediadesk.js").as_uri()
    heads = {n: list(h[:1024]) for n, h in samples.items()}
    script = (
        f"import {{ sniff }} from {json.dumps(module)};\n"
        f"const heads = {json.dumps(heads)};\n"
        "const out = {};\n"
        "for (const [n, h] of Object.entries(heads)) {\n"
        "  out[n] = sniff(Uint8Array.from(h))?.mime ?? null;\n"
        "}\n"
        "console.log(JSON.stringify(out));\n"
    )
    run = subprocess.run(
        [node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == expected
    assert expected["jpeg"] == "image/jpeg" and expected["text"] is None
    assert expected["ts"] == expected["m2ts"] == "video/mp2t"


# The status of every XMLHttpRequest the page completes, in order.
XHR_STATUSES = """
(() => {
  window.__statuses = [];
  const send0 = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function (...args) {
    this.addEventListener("loadend", () => window.__statuses.push(this.status));
    return send0.apply(this, args);
  };
  return true;
})()
"""


async def test_an_upload_past_the_busy_limit_is_sent_again_after_retry_after(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past MEDIADESK_UPLOAD_BODIES a signed PUT is answered 503 server_busy with Retry-After,
    which says to send it again then; the module did not, so a page's upload failed whenever
    that many others were arriving. Now it waits and sends it again."""
    from server.config import ServerConfig
    from server.routes import signed
    from tests.faults import put_stalled, wait_bodies_held
    from tests.test_faults_http import _presign

    # Retry-After 1 s, not 2: the same 503 and the same PUT sent again then, 1 s sooner
    monkeypatch.setattr(signed, "BUSY_RETRY", 1)
    limited = dataclasses.replace(library.settings, upload_bodies=1)
    config = ServerConfig.from_settings(
        limited, host="127.0.0.1", port=0, maintenance_interval=0, upload_rate_limit=0
    )
    token = make_tokens(library).upload
    pictures = Pictures(tmp_path)
    held = pictures.next().read_bytes()
    with EmbeddedServer(library, config=config) as live:
        grant = _presign(live.url, token, "held.jpg", "image", "image/jpeg")
        stalled = put_stalled(grant["upload_url"], held)  # holds the one upload slot
        wait_bodies_held(1)
        photo = base64.b64encode(pictures.next().read_bytes()).decode()
        async with Tab(chromium_path() or "") as browser:
            await browser.goto(f"{live.url}/upload-demo")
            await browser.evaluate(XHR_STATUSES)
            await browser.evaluate(
                f"""(async () => {{
                  const {{ uploadFile }} = await import("/static/mediadesk.js");
                  const bytes = Uint8Array.from(atob({json.dumps(photo)}), c => c.charCodeAt(0));
                  const file = new File([bytes], "busy.jpg", {{type: "image/jpeg"}});
                  window.__done = uploadFile(file, {{token: {json.dumps(token)}}}).then(
                    (stored) => ({{stored}}),
                    (err) => ({{error: {{code: err.code, status: err.status}}}}));
                  return true;
                }})()"""
            )
            assert await browser.wait_for("window.__statuses.includes(503)", 30)
            stalled.sendall(held[100:])
            assert stalled.recv(65536).startswith(b"HTTP/1.1 200"), "the stalled PUT completes"
            stalled.close()
            result = await browser.evaluate("window.__done")
        assert "error" not in result, result
        assert result["stored"]["status"] == "ready"
        assert result["stored"]["original_filename"] == "busy.jpg"


async def test_a_proxys_own_json_error_rejects_with_its_status(server: EmbeddedServer) -> None:
    """`{"error": "..."}` from a proxy in front is not MediaDesk's error body: the rejection
    was a MediaDeskError with neither code nor message."""
    async with Tab(chromium_path() or "") as browser:
        await browser.goto(f"{server.url}/upload-demo")
        error = await browser.evaluate(
            """(async () => {
              const { getConfig } = await import("/static/mediadesk.js");
              // the page's fetch answered as a proxy refusing the request itself would
              window.fetch = async () => new Response(
                JSON.stringify({error: "request entity too large"}), {status: 413});
              try { await getConfig(); return null; }
              catch (err) { return {code: err.code, message: err.message, status: err.status}; }
            })()"""
        )
    assert error == {"code": "http_413", "message": "HTTP 413", "status": 413}


async def test_a_gateway_error_while_the_server_restarts_is_sent_again(
    server: EmbeddedServer,
) -> None:
    """Behind nginx a restarting server is a 502 (504 when it hangs), without Retry-After: the
    module rejected at once where the Python client retries; now it sends the request again."""
    async with Tab(chromium_path() or "") as browser:
        await browser.goto(f"{server.url}/upload-demo")
        result = await browser.evaluate(
            """(async () => {
              const { getConfig } = await import("/static/mediadesk.js");
              const real = window.fetch;
              let calls = 0;
              window.fetch = async (...args) => {
                calls += 1;
                if (calls === 1) return new Response("<html>Bad Gateway</html>", {status: 502});
                if (calls === 2) return new Response("", {status: 504});
                return real(...args);
              };
              const config = await getConfig();
              return {calls, limit: config.max_file_size > 0};
            })()"""
        )
    assert result == {"calls": 3, "limit": True}


NAMELESS = """
async (b64, token) => {
  const { uploadFile } = await import(SERVER + "/static/mediadesk.js");
  const blob = new Blob([Uint8Array.from(atob(b64), c => c.charCodeAt(0))]);
  return (await uploadFile(blob, { token })).original_filename;
}
"""


async def test_a_nameless_blob_is_named_by_the_server(
    server: EmbeddedServer, library: Library, media_dir: Any
) -> None:
    """A Blob has no name (clipboard, canvas, MediaRecorder): the module sends the server's own
    fallback, which the server completes with the bytes' extension (unnamed.mov), not the MIME
    subtype the server would add to (upload.quicktime.mov, upload.x-msvideo.avi)."""
    token = make_tokens(library).upload
    async with Tab(chromium_path() or "") as browser:
        await browser.goto(f"{server.url}/upload-demo")
        for path, stored in ((media_dir.mov, "unnamed.mov"), (media_dir.avi, "unnamed.avi")):
            args = ", ".join(
                json.dumps(v) for v in (base64.b64encode(path.read_bytes()).decode(), token)
            )
            name = await browser.evaluate(
                f"(() => {{ const SERVER = {json.dumps(server.url)}; "
                f"return ({NAMELESS})({args}); }})()"
            )
            assert name == stored


async def test_an_upload_cut_by_a_restart_longer_than_retry_after_is_retried_until_back(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A signed PUT cut by a stop is answered 503 server_stopping, Retry-After 5 s. A server
    that takes longer to come back refuses the PUT sent then: the module rejected with
    network_error at once, where the Python client keeps retrying a refused connection
    (backoff, five retries). Now the module does too, and the upload ends stored."""
    from PIL import Image

    from server import entry, errors

    # Retry-After 1 s, not 5: the same sequence (503, refused, back), 4 s sooner; and a
    # shutdown grace of 1 s, not 5, for the body the stop cuts: 4 s sooner again
    monkeypatch.setattr(errors, "STOPPING_RETRY", 1)
    monkeypatch.setattr(entry, "SHUTDOWN_TIMEOUT", 1.0)

    noise = tmp_path / "noise.png"  # 3 MB that do not compress: a body that takes a while
    Image.frombytes("RGB", (1000, 1000), os.urandom(3_000_000)).save(noise, compress_level=0)
    photo = base64.b64encode(noise.read_bytes()).decode()
    token = make_tokens(library).upload
    config = server_config(library)
    live = EmbeddedServer(library, config=config)
    live.start()
    port = live.port
    again: EmbeddedServer | None = None
    try:
        async with Tab(chromium_path() or "") as browser:
            await browser.goto(f"{live.url}/upload-demo")
            await browser.evaluate(XHR_STATUSES)
            # a slow link, so the stop comes while the body is still arriving
            await browser.send("Network.enable")
            await browser.send(
                "Network.emulateNetworkConditions",
                offline=False,
                latency=0,
                downloadThroughput=-1,
                uploadThroughput=1 << 20,
            )
            await browser.evaluate(
                f"""(async () => {{
                  const {{ uploadFile }} = await import("/static/mediadesk.js");
                  const bytes = Uint8Array.from(atob({json.dumps(photo)}), c => c.charCodeAt(0));
                  const file = new File([bytes], "restart.png", {{type: "image/png"}});
                  window.__sent = 0;
                  window.__done = uploadFile(file, {{
                    token: {json.dumps(token)}, onProgress: (sent) => {{ window.__sent = sent; }},
                  }}).then((stored) => ({{stored}}),
                           (err) => ({{error: {{code: err.code, status: err.status}}}}));
                  return true;
                }})()"""
            )
            assert await browser.wait_for("window.__sent > 300000", 30)
            await asyncio.to_thread(live.stop)
            # the 503 server_stopping, then the PUT sent again after Retry-After is refused
            # (status 0): the server comes back only after that
            refused = "window.__statuses.lastIndexOf(0) > window.__statuses.indexOf(503)"
            assert await browser.wait_for(f"window.__statuses.includes(503) && {refused}", 60), (
                await browser.evaluate("window.__statuses")
            )
            # the body was cut: the slow link has done its part, and the PUT sent again once the
            # server is back need not crawl its 3 MB at 1 MiB/s (3 s) for a point made already
            await browser.send(
                "Network.emulateNetworkConditions",
                offline=False,
                latency=0,
                downloadThroughput=-1,
                uploadThroughput=-1,
            )
            again = EmbeddedServer(library, config=dataclasses.replace(config, port=port))
            again.start()
            result = await browser.evaluate("window.__done")
    finally:
        live.stop()
        if again is not None:
            again.stop()
    assert "error" not in result, result
    assert result["stored"]["status"] == "ready"
    assert result["stored"]["size"] == noise.stat().st_size


async def test_a_server_that_never_answered_is_not_retried(server: EmbeddedServer) -> None:
    """The retries of a network error are for a server that went away; one that never answered
    this page (a wrong baseUrl, a server not started) is said at once, as the Python client
    says it, not after five retries."""
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        nowhere = f"http://127.0.0.1:{unused.getsockname()[1]}"  # bound, never listening
        async with Tab(chromium_path() or "") as browser:
            await browser.goto(f"{server.url}/upload-demo")
            await browser.evaluate(SPY)
            error = await browser.evaluate(
                f"""(async () => {{
                  const {{ getConfig }} = await import("/static/mediadesk.js");
                  try {{ await getConfig({{baseUrl: {json.dumps(nowhere)}}}); return null; }}
                  catch (err) {{ return err.code; }}
                }})()"""
            )
            requests = await browser.evaluate("window.__requests")
    assert error == "network_error"
    assert requests == [f"{nowhere}/config"]
