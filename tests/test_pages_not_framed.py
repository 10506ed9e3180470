"""The server's own HTML pages are not framed by other sites; the watch page is.

A security hunt: /docs and /upload-demo sent no X-Frame-Options and no frame-ancestors, and
rendered inside another origin's iframe (the upload page's token field, file chooser and
"public" box under a page of the framer's: clickjacking). The watch page is made to be
embedded (README: `frame-ancestors *`). Real HTTP over loopback.
"""

from __future__ import annotations

from typing import Any

import pytest

from server.entry import EmbeddedServer
from tests.server_fixtures import http_call, make_tokens, upload_file

pytestmark = pytest.mark.timeout(60)


def test_docs_and_the_upload_page_refuse_frames_the_watch_page_takes_them(
    live: EmbeddedServer, media_dir: Any
) -> None:
    for path in ("/docs", "/upload-demo"):
        page = http_call(live.url + path)
        assert page.status == 200, (path, page.body)
        policy = page.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy, (path, policy)
        assert page.headers["X-Frame-Options"] == "DENY", path
    tokens = make_tokens(live.library)
    video = upload_file(live, tokens.upload, media_dir.mp4, "video", is_public="true")
    watch = http_call(f"{live.url}/watch/{video['id']}")
    assert watch.status == 200, watch.body
    assert "frame-ancestors *" in watch.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in watch.headers
