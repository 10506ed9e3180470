"""A real browser (headless Chromium) runs the seed's JavaScript client and plays a video."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import http.server
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.library import Library
from server.entry import EmbeddedServer
from server.state import HUB
from tests.browser import Browser, Tab, chromium_path
from tests.internals import storage_of
from tests.server_fixtures import make_tokens, server_config

pytestmark = pytest.mark.skipif(
    chromium_path() is None, reason="Chromium not installed (apt-get install chromium)"
)

# The seed's example, verbatim apart from the Authorization header and the returned values.
SEED_FLOW = """
async (bytes, name, type, fileType, token) => {
  const file = new File([Uint8Array.from(atob(bytes), c => c.charCodeAt(0))], name, {type});
  const auth = {'Authorization': 'Bearer ' + token};

  // 1. Solicitar URL presignada
  const formData = new FormData();
  formData.append('original_filename', file.name);
  formData.append('file_type', fileType);
  formData.append('is_public', 'true');

  const response = await fetch(BASE + '/files/upload/presigned', {
      method: 'POST',
      body: formData,
      headers: auth
  });

  const uploadData = await response.json();

  // 2. Subir archivo directamente a R2
  const put = await fetch(uploadData.upload_url, {
      method: 'PUT',
      body: file,
      headers: {
          'Content-Type': file.type
      }
  });

  // 3. Confirmar subida
  const confirm = await fetch(`${BASE}/files/${uploadData.file_id}/confirm-upload`, {
      method: 'POST',
      headers: auth
  });
  return {presign: response.status, put: put.status, confirm: confirm.status,
          file_id: uploadData.file_id, file: await confirm.json()};
}
"""

PLAY = """
async (src) => {
  const video = document.createElement('video');
  video.muted = true;
  document.body.appendChild(video);
  const once = (name) => new Promise((ok, bad) => {
    video.addEventListener(name, ok, {once: true});
    video.addEventListener('error', () => bad(new Error('video error ' +
      (video.error && video.error.message))), {once: true});
  });
  video.src = src;
  await once('loadeddata');
  const duration = video.duration;
  video.currentTime = duration * 0.75;
  await once('seeked');
  return {duration, currentTime: video.currentTime, readyState: video.readyState,
          width: video.videoWidth, height: video.videoHeight};
}
"""


class _BlankPage(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        body = b"<!doctype html><html><body>another origin</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def other_origin() -> Iterator[str]:
    """A page on another origin (another port), like a team web site."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _BlankPage)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture
def cors_live(library: Library, other_origin: str) -> Iterator[EmbeddedServer]:
    config = dataclasses.replace(server_config(library), cors_origins=(other_origin,))
    server = EmbeddedServer(library, config=config)
    server.start()
    yield server
    server.stop()


async def run_seed_flow(
    browser: Browser, base: str, path: Path, mime: str, kind: str, token: str
) -> dict:
    data = base64.b64encode(path.read_bytes()).decode()
    args = ", ".join(json.dumps(v) for v in (data, path.name, mime, kind, token))
    # a block of its own: the page can run the flow more than once
    return await browser.evaluate(
        f"(() => {{ const BASE = {json.dumps(base)}; return ({SEED_FLOW})({args}); }})()"
    )


async def test_seed_flow_and_playback_same_origin(library: Library, media_dir) -> None:
    server = EmbeddedServer(library, config=server_config(library))
    server.start()
    try:
        token = make_tokens(library).upload
        async with Tab(chromium_path() or "") as browser:
            await browser.goto(f"{server.url}/docs")
            result = await run_seed_flow(browser, "", media_dir.mp4, "video/mp4", "video", token)
            assert (result["presign"], result["put"], result["confirm"]) == (201, 200, 200)
            file = result["file"]
            assert file["status"] == "ready" and file["is_public"] is True
            # The seed's HTML5 video example: a public file, no token, Range requests.
            played = await browser.evaluate(f"({PLAY})('/stream/{file['id']}/video')")
        assert played["duration"] == pytest.approx(2.0, abs=0.2)
        assert played["currentTime"] == pytest.approx(1.5, abs=0.2)
        assert played["readyState"] >= 2 and (played["width"], played["height"]) == (320, 240)
        assert library.get_file(file["id"]).duration == pytest.approx(2.0, abs=0.2)
    finally:
        server.stop()


async def test_every_operation_on_the_docs_page_shows_its_method(library: Library) -> None:
    """HEAD and OPTIONS (tus) had no colour: their white method label was invisible."""
    server = EmbeddedServer(library, config=server_config(library))
    server.start()
    try:
        async with Tab(chromium_path() or "") as browser:
            await browser.goto(f"{server.url}/docs")
            assert await browser.wait_for(
                "document.querySelectorAll('summary .m.options').length > 0", 20
            )
            unseen = await browser.evaluate(
                "[...document.querySelectorAll('summary .m')]"
                ".filter(e => getComputedStyle(e).backgroundColor === 'rgba(0, 0, 0, 0)')"
                ".map(e => e.textContent)"
            )
            methods = await browser.evaluate(
                "[...new Set([...document.querySelectorAll('summary .m')]"
                ".map(e => e.textContent))].sort()"
            )
        assert {"HEAD", "OPTIONS", "GET", "POST"} <= set(methods), methods
        assert unseen == [], unseen
    finally:
        server.stop()


TRY_EVENTS = """
(() => {
  const op = [...document.querySelectorAll("details")]
    .find((d) => d.querySelector(".path").textContent === "/events");
  op.open = true;
  op.querySelector(".try").click();
  return true;
})()
"""
EVENTS_OUT = """[...document.querySelectorAll("details")]
  .find((d) => d.querySelector(".path").textContent === "/events").querySelector(".out")
  .textContent"""


async def test_try_it_on_the_event_stream_shows_its_start_and_closes_it(
    library: Library,
) -> None:
    """GET /events never ends: "Try it" waited for the whole answer (fetch().text()), showed
    "…" for ever and left each click's connection open. It shows the stream's first lines,
    then closes the connection."""
    server = EmbeddedServer(library, config=server_config(library))
    server.start()
    assert server.app is not None
    hub = server.app[HUB]
    try:
        token = make_tokens(library).read
        async with Tab(chromium_path() or "") as browser:
            await browser.goto(f"{server.url}/docs#token={token}")
            assert await browser.wait_for("document.querySelector('details .path')", 20)
            for _ in range(2):  # each click closes its own connection
                await browser.evaluate(TRY_EVENTS)
                assert await browser.wait_for(f"{EVENTS_OUT} !== '…'", 6)
                shown = await browser.evaluate(EVENTS_OUT)
                assert shown.startswith("200 OK") and ": connected" in shown, shown
                deadline = time.monotonic() + 5
                while hub.client_count and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)
                assert hub.client_count == 0
    finally:
        server.stop()


async def test_seed_flow_twice_keeps_the_handed_out_id(library: Library, media_dir) -> None:
    """The same file through the seed's client again: the client's uploadData.file_id keeps
    answering (an alias of the first file), and the page plays the video through it."""
    server = EmbeddedServer(library, config=server_config(library))
    server.start()
    try:
        token = make_tokens(library).upload
        async with Tab(chromium_path() or "") as browser:
            await browser.goto(f"{server.url}/docs")
            first = await run_seed_flow(browser, "", media_dir.mp4, "video/mp4", "video", token)
            again = await run_seed_flow(browser, "", media_dir.mp4, "video/mp4", "video", token)
            assert (again["presign"], again["put"], again["confirm"]) == (201, 200, 200)
            alias = again["file_id"]
            assert alias != first["file_id"]
            assert again["file"]["id"] == again["file"]["file_id"] == alias
            assert again["file"]["duplicate"] is True
            assert again["file"]["duplicate_of"] == first["file"]["id"]
            played = await browser.evaluate(f"({PLAY})('/stream/{alias}/video')")
        assert played["duration"] == pytest.approx(2.0, abs=0.2)
        assert library.list_files().total == 1
    finally:
        server.stop()


async def test_seed_flow_from_another_origin_uses_cors(
    library: Library, media_dir, cors_live: EmbeddedServer, other_origin: str
) -> None:
    token = make_tokens(library).upload
    async with Tab(chromium_path() or "") as browser:
        await browser.goto(f"{other_origin}/")
        result = await run_seed_flow(
            browser, cors_live.url, media_dir.jpeg, "image/jpeg", "image", token
        )
        assert (result["presign"], result["put"], result["confirm"]) == (201, 200, 200)
        assert result["file"]["width"] == 640
    # A origin that is not configured is refused by the browser.
    config = dataclasses.replace(server_config(library), cors_origins=("http://example.test",))
    with EmbeddedServer(library, config=config) as strict:
        async with Tab(chromium_path() or "") as browser:
            await browser.goto(f"{other_origin}/")
            blocked = await browser.evaluate(
                f"fetch('{strict.url}/files/', {{headers: {{Authorization: 'Bearer {token}'}}}})"
                ".then(r => 'allowed ' + r.status, () => 'blocked')"
            )
    assert blocked == "blocked"


async def test_seed_flow_to_an_s3_bucket_from_a_web_page(
    s3_library: Library, s3_bucket, media_dir, other_origin: str
) -> None:
    """With R2/S3 the browser PUTs straight to the bucket, whose CORS rules allow the site."""
    import boto3

    boto3.client(
        "s3",
        endpoint_url=s3_bucket.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).put_bucket_cors(
        Bucket=s3_bucket.bucket,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": [other_origin],
                    "AllowedMethods": ["PUT", "GET"],
                    "AllowedHeaders": ["content-type"],
                    "MaxAgeSeconds": 600,
                }
            ]
        },
    )
    token = make_tokens(s3_library).upload
    config = dataclasses.replace(server_config(s3_library), cors_origins=(other_origin,))
    with EmbeddedServer(s3_library, config=config) as server:
        async with Tab(chromium_path() or "") as browser:
            await browser.goto(f"{other_origin}/")
            result = await run_seed_flow(
                browser, server.url, media_dir.webm, "video/webm", "video", token
            )
    assert (result["presign"], result["put"], result["confirm"]) == (201, 200, 200)
    assert result["file"]["status"] == "ready" and result["file"]["video_codec"] == "vp9"
    assert storage_of(s3_library).exists(result["file"]["storage_key"])
