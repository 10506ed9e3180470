"""A tus upload whose `Upload-Metadata` filename is the base64 of bytes that are not UTF-8 (an
old client sending the name as its file system holds it, b"Jos\\xe9.jpg") was refused 400
invalid_input "not base64 UTF-8", while a direct upload, the CLI and the desktop read such a
name as cp1252 (core.filenames.readable_name). Only the filename is read so: any other value
is still refused when it is not UTF-8. Real HTTP over loopback, a real JPEG."""

from __future__ import annotations

import base64
from pathlib import Path

from core.library import Library
from server.entry import EmbeddedServer
from tests.media import make_jpeg
from tests.resumable_client import OCTETS, TUS
from tests.server_fixtures import Reply, Tokens, bearer, http_call


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _create(live: EmbeddedServer, token: str, data: bytes, metadata: str) -> Reply:
    headers = {
        **bearer(token),
        **TUS,
        **OCTETS,
        "Upload-Length": str(len(data)),
        "Upload-Metadata": metadata,
    }
    return http_call(f"{live.url}/files/upload/tus", "POST", body=data, headers=headers)


def test_a_filename_not_utf8_is_read_as_cp1252(
    live: EmbeddedServer, library: Library, tokens: Tokens, tmp_path: Path
) -> None:
    data = make_jpeg(tmp_path / "a.jpg", size=(32, 24), color=(11, 22, 33)).read_bytes()
    name = _b64(b"Jos\xe9 \x80.jpg")  # Latin-1's é, cp1252's €
    reply = _create(live, tokens.upload, data, f"filename {name},filetype {_b64(b'image/jpeg')}")
    assert reply.status == 201, reply.body
    record = library.get_file(int(reply.headers["MediaDesk-File-Id"]))
    assert record.original_filename == "José €.jpg"


def test_other_values_not_utf8_are_still_refused(
    live: EmbeddedServer, library: Library, tokens: Tokens, tmp_path: Path
) -> None:
    data = make_jpeg(tmp_path / "b.jpg", size=(32, 24), color=(44, 55, 66)).read_bytes()
    latin = _b64(b"C\xf3rner")
    reply = _create(live, tokens.upload, data, f"filename {_b64(b'b.jpg')},description {latin}")
    assert reply.status == 400, reply.body
    error = reply.json()["error"]
    assert error["code"] == "invalid_input"
    assert error["message"] == "Upload-Metadata: the value of 'description' is not base64 UTF-8"
    assert library.list_files().items == []


def test_head_answers_a_filename_not_utf8_as_it_was_given(
    live: EmbeddedServer, library: Library, tokens: Tokens
) -> None:
    """tus 1.0: HEAD answers Upload-Metadata as the client gave it. The name not UTF-8 came
    back as the base64 of its cp1252 reading in UTF-8 (Sm9z6S5qcGc= as Sm9zw6kuanBn), so a
    client that compares it with its own, or decodes it as the bytes it sent, found another
    name. The name is still stored as read."""
    name = _b64(b"Jos\xe9.jpg")
    sent = f"filename {name},filetype {_b64(b'image/jpeg')}"
    headers = {**bearer(tokens.upload), **TUS, "Upload-Length": "100", "Upload-Metadata": sent}
    created = http_call(f"{live.url}/files/upload/tus", "POST", headers=headers)
    assert created.status == 201, created.body
    answered = http_call(
        live.url + created.headers["Location"], "HEAD", headers={**bearer(tokens.upload), **TUS}
    )
    assert answered.status == 200
    assert answered.headers["Upload-Metadata"] == sent
