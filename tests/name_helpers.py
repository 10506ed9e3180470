"""A JPEG sent by every way in (direct, tus, presigned) over real HTTP, and its download: the
name tests' shared pieces (tests/test_upload_names.py and those after it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from server.entry import EmbeddedServer
from tests.server_fixtures import (
    Reply,
    Tokens,
    bearer,
    direct_upload,
    http_call,
    multipart_body,
    presigned_upload,
    tus_upload,
)
from tests.test_form_filenames import Pictures


@pytest.fixture
def served(live: EmbeddedServer, tokens: Tokens) -> tuple[EmbeddedServer, Tokens]:
    return live, tokens


@pytest.fixture
def pictures(tmp_path: Path) -> Pictures:
    return Pictures(tmp_path)


def direct(url: str, token: str, name: str, data: bytes) -> dict[str, Any]:
    """A browser's form: the part says image/jpeg whatever the name says."""
    body, ctype = multipart_body({"file_type": "image"}, {"file": (name, data, "image/jpeg")})
    return direct_upload(url, token, body, ctype)


def by_tus(url: str, token: str, name: str, data: bytes) -> dict[str, Any]:
    """tus with only the file name and the kind: the name's type is not the bytes'."""
    return tus_upload(url, token, data, {"filename": name, "file_type": "image"})


def by_presign(url: str, token: str, name: str, data: bytes) -> dict[str, Any]:
    """A presign that says the type (content_type), then the PUT and the confirm."""
    ask = {"original_filename": name, "file_type": "image", "content_type": "image/jpeg"}
    return presigned_upload(url, token, data, {**ask, "size": len(data)})


def every_way_in(
    served: tuple[EmbeddedServer, Tokens], pictures: Pictures, name: str
) -> dict[str, dict[str, Any]]:
    """A new JPEG named `name` by each way in: the answers by way."""
    server, tokens = served
    token = tokens.upload
    return {
        "direct": direct(server.url, token, name, pictures.next().read_bytes()),
        "tus": by_tus(server.url, token, name, pictures.next().read_bytes()),
        "presign": by_presign(server.url, token, name, pictures.next().read_bytes()),
    }


def download(url: str, token: str, file_id: int) -> Reply:
    """GET /files/{id}/download and the signed link it redirects to."""
    first = http_call(f"{url}/files/{file_id}/download", headers=bearer(token))
    assert first.status in (302, 307), first.body
    target = first.headers["Location"]
    reply = http_call(target if target.startswith("http") else url + target)
    assert reply.status == 200, reply.body
    return reply
