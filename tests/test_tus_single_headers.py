"""A tus header the server reads one value of, sent twice, is a 400 invalid_input: two
Upload-Length headers (10 and 20) created a 10-byte upload, while "10, 20" in one header was
a 400. A single Tus-Resumable of another version stays a 412."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from multidict import CIMultiDict

from tests.server_fixtures import Tokens

pytestmark = pytest.mark.timeout(60)

BASE = "/files/upload/tus"


def _headers(token: str, *pairs: tuple[str, str]) -> CIMultiDict[str]:
    headers: CIMultiDict[str] = CIMultiDict(
        [("Authorization", f"Bearer {token}"), ("Tus-Resumable", "1.0.0")]
    )
    for name, value in pairs:
        headers.add(name, value)
    return headers


async def test_repeated_tus_headers_are_refused(api: Any, tokens: Tokens) -> None:
    def create(*pairs: tuple[str, str]) -> Any:
        return api.post(BASE, headers=_headers(tokens.upload, *pairs))

    twice = await create(("Upload-Length", "10"), ("Upload-Length", "20"))
    assert twice.status == 400, await twice.text()
    assert "Upload-Length" in (await twice.json())["error"]["message"]
    assert (await create(("Upload-Length", "10, 20"))).status == 400
    meta = ("Upload-Metadata", "filename YS5qcGc=")
    assert (await create(("Upload-Length", "10"), meta, meta)).status == 400
    resumable = await api.post(
        BASE,
        headers=_headers(tokens.upload, ("Tus-Resumable", "1.0.0"), ("Upload-Length", "10")),
    )
    assert resumable.status == 400, await resumable.text()
    once = await create(("Upload-Length", "10"))
    assert once.status == 201, await once.text()
    location = urlsplit(once.headers["Location"]).path
    octets = ("Content-Type", "application/offset+octet-stream")
    for pairs in (
        (("Upload-Offset", "0"), ("Upload-Offset", "0"), octets),
        (
            ("Upload-Offset", "0"),
            ("Upload-Checksum", "sha1 x"),
            ("Upload-Checksum", "sha1 y"),
            octets,
        ),
    ):
        resp = await api.patch(location, headers=_headers(tokens.upload, *pairs), data=b"x")
        assert resp.status == 400, await resp.text()
    head = await api.head(location, headers=_headers(tokens.upload))
    assert head.headers["Upload-Offset"] == "0"  # nothing of the refused PATCHes was kept
    other = await api.post(
        BASE,
        headers={
            "Authorization": f"Bearer {tokens.upload}",
            "Tus-Resumable": "0.2.2",
            "Upload-Length": "10",
        },
    )
    assert other.status == 412
