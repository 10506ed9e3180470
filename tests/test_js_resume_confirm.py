"""resumeUpload on local storage (one signed PUT) in a real Chromium: the bytes that reached
the server are confirmed, not sent again; a PUT cut part-way is never taken as the file."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from pathlib import Path

import pytest

from core.library import Library
from server.entry import EmbeddedServer
from tests.browser import chromium_path
from tests.faults import put_stalled
from tests.resumable_client import noise_png
from tests.server_fixtures import make_tokens
from tests.test_demo_phone import Phone, _open, _wait_status, local, statuses
from tests.test_faults_http import _confirm, _presign

__all__ = ["local"]  # a fixture used here

pytestmark = [
    pytest.mark.skipif(chromium_path() is None, reason="Chromium not installed"),
    pytest.mark.timeout(120),
]


def _since(phone: Phone, start: int) -> list[tuple[str, str]]:
    return [(m, u.split("?")[0]) for m, u in phone.requests[start:] if m in ("PUT", "POST")]


async def test_retry_after_the_put_was_answered_confirms_without_sending_the_file_again(
    local: EmbeddedServer, library: Library, tmp_path: Path
) -> None:
    """The link dropped after the signed PUT was answered 200 and before confirm-upload: Retry
    renewed the URL and sent every byte again (157 MB for the tester) before confirming. Now it
    confirms first, and the server, holding the whole file, stores it."""
    picture = noise_png(tmp_path / "sent.png", 300)
    async with Phone(chromium_path() or "") as phone:
        await phone.start("en", quick_waits=True)
        await _open(phone, local.url, make_tokens(library).upload)
        await phone.send("Network.setBlockedURLs", urls=["*/confirm-upload*"])
        await phone.choose(picture)
        status = await _wait_status(phone, ("The connection was lost", "Refused"), 40)
        assert status.startswith("The connection was lost"), status
        assert [m for m, u in _since(phone, 0) if "/signed/" in u] == ["PUT"]
        await phone.send("Network.setBlockedURLs", urls=[])
        start = len(phone.requests)
        await phone.evaluate("document.getElementById('retry').click()")
        assert (await _wait_status(phone, ("Stored",), 30)).startswith("Stored as #")
        sent = _since(phone, start)
        assert [u for _, u in sent if "/signed/" in u or u.endswith("/renew")] == [], sent
        assert [u for _, u in sent if u.endswith("/confirm-upload")], sent
    assert statuses(library) == {"ready": 1}, statuses(library)


async def test_a_put_cut_part_way_is_not_confirmed_and_resume_sends_the_file(
    local: EmbeddedServer, library: Library, tmp_path: Path
) -> None:
    """A signed PUT cut part-way leaves nothing the confirm takes: it answers 400
    upload_not_received, and resumeUpload then renews the URL, sends the file and confirms it."""
    data = noise_png(tmp_path / "cut.png", 200).read_bytes()
    token = make_tokens(library).upload
    grant = _presign(local.url, token, "cut.png", "image", "image/png")
    conn = put_stalled(grant["upload_url"], data, sent=len(data) // 2)
    time.sleep(0.3)  # the server has read what was sent
    conn.close()
    deadline = time.monotonic() + 10
    while (reply := _confirm(local.url, token, grant["file_id"])).status != 400:
        assert time.monotonic() < deadline, (reply.status, reply.body)
        await asyncio.sleep(0.1)
    assert reply.json()["error"]["code"] == "upload_not_received", reply.body
    async with Phone(chromium_path() or "") as phone:
        await phone.start("en")
        await _open(phone, local.url, token)
        start = len(phone.requests)
        stored = await phone.evaluate(
            f"""(async () => {{
              const {{ resumeUpload }} = await import('/static/mediadesk.js');
              const bytes = Uint8Array.from(atob({json.dumps(base64.b64encode(data).decode())}),
                                            (c) => c.charCodeAt(0));
              const file = new File([bytes], 'cut.png', {{type: 'image/png'}});
              try {{
                return await resumeUpload(file, {grant["file_id"]},
                                          {{token: {json.dumps(token)}}});
              }} catch (err) {{ return {{error: err.code, message: err.message}}; }}
            }})()"""
        )
        assert stored.get("status") == "ready" and stored["size"] == len(data), stored
        sent = [
            u.rsplit("/", 1)[-1] if "/signed/" not in u else "PUT" for _, u in _since(phone, start)
        ]
        assert sent == ["confirm-upload", "renew", "PUT", "confirm-upload"], sent
    assert statuses(library) == {"ready": 1}, statuses(library)
