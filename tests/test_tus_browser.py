"""Headless Chromium: tus-js-client resumes after a page reload; parts go straight to the bucket."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from core.db.models import ResumableUpload
from core.library import Library
from server.entry import EmbeddedServer
from tests.browser import Browser, Tab, chromium_path
from tests.conftest import make_settings
from tests.internals import db_of
from tests.resumable_client import noise_png
from tests.s3_server import s3_client
from tests.server_fixtures import make_tokens, server_config

pytestmark = pytest.mark.skipif(
    chromium_path() is None, reason="Chromium not installed (apt-get install chromium)"
)
MiB = 1024 * 1024
TUS_JS = Path(__file__).parent / "js" / "node_modules" / "tus-js-client" / "dist" / "tus.min.js"
PAGE = b"""<!doctype html><html><head><script src="/tus.min.js"></script></head>
<body>a team web site</body></html>"""

# Phase one stops after `stopAt` bytes (as if the tab were closed); phase two runs after a
# reload, finds the upload by its fingerprint in localStorage and resumes it.
TUS_UPLOAD = """
async (endpoint, token, stopAt) => {
  const blob = await (await fetch('/clip.png')).blob();
  const file = new File([blob], 'clip.png', {type: 'image/png', lastModified: 1700000000000});
  const seen = {patchOffsets: [], fileId: null, creations: 0};
  return await new Promise((resolve, reject) => {
    const upload = new tus.Upload(file, {
      endpoint,
      chunkSize: 1024 * 1024,
      retryDelays: [0, 300, 1000],
      headers: {Authorization: 'Bearer ' + token},
      metadata: {filename: file.name, filetype: file.type, description: 'from a browser'},
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: false,
      onBeforeRequest: (req) => {
        if (req.getMethod() === 'PATCH') seen.patchOffsets.push(+req.getHeader('Upload-Offset'));
        if (req.getMethod() === 'POST') seen.creations += 1;
      },
      onAfterResponse: (req, res) => {
        const id = res.getHeader('MediaDesk-File-Id');
        if (id) seen.fileId = +id;
      },
      onProgress: (sent) => {
        if (stopAt && sent >= stopAt && !seen.stopped) {
          seen.stopped = sent;
          upload.abort().then(() => resolve({...seen, url: upload.url}));
        }
      },
      onError: (err) => reject(new Error(String(err))),
      onSuccess: () => resolve({...seen, url: upload.url, done: true}),
    });
    upload.findPreviousUploads().then((previous) => {
      seen.previous = previous.length;
      if (previous.length) upload.resumeFromPreviousUpload(previous[0]);
      upload.start();
    });
  });
}
"""

PARTS_UPLOAD = """
async (base, token) => {
  const blob = await (await fetch('/clip.png')).blob();
  const auth = {Authorization: 'Bearer ' + token, 'Content-Type': 'application/json'};
  const presign = await fetch(base + '/files/upload/presigned', {
    method: 'POST', headers: auth,
    body: JSON.stringify({original_filename: 'clip.png', file_type: 'image',
                          size: blob.size, multipart: true}),
  });
  const plan = await presign.json();
  const parts = [];
  for (const part of plan.parts) {
    const start = (part.part_number - 1) * plan.part_size;
    const put = await fetch(part.url, {
      method: 'PUT', body: blob.slice(start, start + plan.part_size),
      headers: {'Content-Type': 'application/octet-stream'},
    });
    parts.push({part_number: part.part_number, etag: put.headers.get('ETag'), status: put.status});
  }
  const confirm = await fetch(`${base}/files/${plan.file_id}/confirm-upload`, {
    method: 'POST', headers: auth,
    body: JSON.stringify({parts: parts.map(({part_number, etag}) => ({part_number, etag}))}),
  });
  return {presign: presign.status, partSize: plan.part_size, parts,
          confirm: confirm.status, file: await confirm.json()};
}
"""


class _Site(http.server.BaseHTTPRequestHandler):
    """Another origin serving a page, tus-js-client and the file to upload."""

    def __init__(self, *args: Any, clip: Path, **kwargs: Any) -> None:
        self.clip = clip
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        bodies = {
            "/": (PAGE, "text/html"),
            "/tus.min.js": (TUS_JS.read_bytes(), "text/javascript"),
            "/clip.png": (self.clip.read_bytes(), "image/png"),
        }
        body, kind = bodies.get(self.path.split("?", 1)[0], (b"", "text/plain"))
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return noise_png(tmp_path / "clip.png", 1800)  # ~9.7 MB


@pytest.fixture
def site(clip: Path) -> Iterator[str]:
    handler = functools.partial(_Site, clip=clip)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


async def run(browser: Browser, script: str, *args: Any) -> Any:
    return await browser.evaluate(f"({script})({', '.join(json.dumps(a) for a in args)})")


async def test_tus_js_client_resumes_after_a_page_reload(
    data_dir: Path, site: str, clip: Path
) -> None:
    lib = Library.open(make_settings(data_dir, max_file_size=300 * MiB))
    try:
        token = make_tokens(lib).upload
        config = dataclasses.replace(server_config(lib), cors_origins=(site,))
        with EmbeddedServer(lib, config=config) as server:
            endpoint = f"{server.url}/files/upload/tus"
            async with Tab(chromium_path() or "") as browser:
                await browser.goto(f"{site}/")
                first = await run(browser, TUS_UPLOAD, endpoint, token, 4 * MiB)
                assert first["stopped"] >= 4 * MiB and first["creations"] == 1
                assert first["previous"] == 0 and not first.get("done")
                await browser.goto(f"{site}/?reloaded")
                second = await run(browser, TUS_UPLOAD, endpoint, token, 0)
            # The second page found the upload, asked the server's offset and went on from it
            assert second["previous"] == 1 and second["creations"] == 0
            assert second["url"] == first["url"] and second["done"]
            assert second["patchOffsets"][0] >= 3 * MiB
            record = lib.get_file(second["fileId"])
            assert record.status == "ready" and record.description == "from a browser"
            assert record.sha256 == hashlib.sha256(clip.read_bytes()).hexdigest()
            with db_of(lib).read() as s:
                assert s.scalar(select(func.count()).select_from(ResumableUpload)) == 1
    finally:
        lib.close()


async def test_a_page_uploads_parts_straight_to_the_bucket(
    data_dir: Path, s3_bucket: Any, site: str, clip: Path
) -> None:
    s3 = s3_client(s3_bucket)
    s3.put_bucket_cors(  # what the README asks of the bucket: PUT from the site, ETag exposed
        Bucket=s3_bucket.bucket,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": [site],
                    "AllowedMethods": ["PUT", "GET"],
                    "AllowedHeaders": ["content-type"],
                    "ExposeHeaders": ["ETag"],
                    "MaxAgeSeconds": 600,
                }
            ]
        },
    )
    settings = make_settings(
        data_dir,
        r2_endpoint_url=s3_bucket.endpoint_url,
        r2_bucket_name=s3_bucket.bucket,
        r2_access_key_id="testing",
        r2_secret_access_key="testing",
        r2_region="us-east-1",
        max_file_size=300 * MiB,
        upload_part_size=5 * MiB,
    )
    lib = Library.open(settings)
    try:
        token = make_tokens(lib).upload
        config = dataclasses.replace(server_config(lib), cors_origins=(site,))
        with EmbeddedServer(lib, config=config) as server:
            async with Tab(chromium_path() or "") as browser:
                await browser.goto(f"{site}/")
                result = await run(browser, PARTS_UPLOAD, server.url, token)
        assert result["presign"] == 201 and result["partSize"] == 5 * MiB
        assert [p["status"] for p in result["parts"]] == [200, 200]
        assert all(p["etag"] for p in result["parts"])  # readable: the bucket exposes ETag
        assert result["confirm"] == 200, result["file"]
        assert result["file"]["sha256"] == hashlib.sha256(clip.read_bytes()).hexdigest()
        assert s3.list_multipart_uploads(Bucket=s3_bucket.bucket).get("Uploads", []) == []
    finally:
        lib.close()
