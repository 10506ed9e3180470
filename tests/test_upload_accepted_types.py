"""Refusals of unsupported types name what this server accepts (ALLOWED_IMAGE_TYPES and
ALLOWED_VIDEO_TYPES, not every type MediaDesk knows), at presign, confirm and direct upload;
a presign keeps its description. Real HTTP over loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from core.library import Library
from core.mediatypes import VIDEO_TYPES
from core.records import MAX_DESCRIPTION
from server.entry import EmbeddedServer
from tests.conftest import make_settings
from tests.server_fixtures import (
    Reply,
    bearer,
    http_call,
    make_tokens,
    multipart_body,
    server_config,
)
from tests.video_helpers import make_audio_only_mp4

pytestmark = pytest.mark.timeout(90)

ONLY = ["image/jpeg", "image/png"]  # the tester's ALLOWED_IMAGE_TYPES


@pytest.fixture
def strict(data_dir: Path) -> Iterator[tuple[EmbeddedServer, str]]:
    lib = Library.open(
        make_settings(data_dir, allowed_image_types=",".join(ONLY), max_file_size=50000, workers=0)
    )
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    yield server, make_tokens(lib).upload
    server.stop()
    lib.close()


@pytest.fixture
def bmp(tmp_path: Path) -> bytes:
    path = tmp_path / "x.bmp"
    Image.new("RGB", (16, 16), "blue").save(path, "BMP")
    return path.read_bytes()


def _presign(server: EmbeddedServer, token: str, **fields: str) -> Reply:
    body, ctype = multipart_body(fields)
    return http_call(
        f"{server.url}/files/upload/presigned",
        "POST",
        body,
        {"Content-Type": ctype, **bearer(token)},
    )


def _direct(server: EmbeddedServer, token: str, name: str, data: bytes, **fields: str) -> Reply:
    body, ctype = multipart_body(
        {"file_type": "image", **fields}, {"file": (name, data, "application/octet-stream")}
    )
    return http_call(
        f"{server.url}/files/upload/direct", "POST", body, {"Content-Type": ctype, **bearer(token)}
    )


def _error(reply: Reply, status: int, code: str) -> dict[str, Any]:
    assert reply.status == status, reply.body
    error: dict[str, Any] = reply.json()["error"]
    assert error["code"] == code, error
    return error


def _names_only_the_allowed(error: dict[str, Any]) -> None:
    assert error["message"].endswith("accepted: image/jpeg, image/png"), error["message"]
    assert error["details"]["allowed"] == ONLY
    assert "image/webp" not in json.dumps(error)


def test_direct_upload_and_confirm_name_the_accepted_types(
    strict: tuple[EmbeddedServer, str], bmp: bytes
) -> None:
    server, token = strict
    error = _error(_direct(server, token, "x.bmp", bmp), 400, "unsupported_type")
    _names_only_the_allowed(error)
    assert error["details"]["found"]  # what the bytes are

    upload = _presign(server, token, original_filename="x.png", file_type="image").json()
    put = http_call(upload["upload_url"], "PUT", bmp, upload["headers"])
    assert put.status == 200, put.body
    confirm = f"{server.url}/files/{upload['file_id']}/confirm-upload"
    _names_only_the_allowed(
        _error(http_call(confirm, "POST", b"", bearer(token)), 400, "unsupported_type")
    )
    failed = server.library.get_file(upload["file_id"])
    assert failed.status == "failed" and failed.failure_reason
    assert failed.failure_reason.endswith("accepted: image/jpeg, image/png")
    again = _error(http_call(confirm, "POST", b"", bearer(token)), 409, "conflict")
    assert again["message"].endswith("accepted: image/jpeg, image/png")


@pytest.mark.parametrize(
    ("fields", "detail"),
    [
        (
            {"original_filename": "a.txt", "content_type": "text/plain"},
            {"content_type": "text/plain"},
        ),
        (
            {"original_filename": "a.bmp", "content_type": "image/bmp"},
            {"content_type": "image/bmp"},
        ),
        ({"original_filename": "a.bmp"}, {"extension": "bmp"}),
    ],
)
def test_presign_refuses_unsupported_types_as_unsupported_type(
    strict: tuple[EmbeddedServer, str], fields: dict[str, str], detail: dict[str, str]
) -> None:
    server, token = strict
    error = _error(_presign(server, token, file_type="image", **fields), 400, "unsupported_type")
    _names_only_the_allowed(error)
    assert detail.items() <= error["details"].items()
    assert "setting" not in error["details"]  # no setting could let these in


def test_presign_names_the_setting_that_leaves_a_type_out(
    strict: tuple[EmbeddedServer, str],
) -> None:
    server, token = strict
    for fields in ({"content_type": "image/webp"}, {}):
        reply = _presign(server, token, original_filename="a.webp", file_type="image", **fields)
        error = _error(reply, 400, "unsupported_type")
        assert error["details"]["setting"] == "ALLOWED_IMAGE_TYPES"
        assert "ALLOWED_IMAGE_TYPES" in error["message"]
        assert error["details"]["allowed"] == ONLY
    # nothing to go by (no content_type, no extension) is still a plain invalid_input
    _error(_presign(server, token, original_filename="a", file_type="image"), 400, "invalid_input")
    ok = _presign(server, token, original_filename="a.jpg", file_type="image")
    assert ok.status == 201, ok.body


def test_presign_keeps_the_description(strict: tuple[EmbeddedServer, str], media_dir: Any) -> None:
    server, token = strict
    reply = _presign(
        server, token, original_filename="p.png", file_type="image", description="hello"
    )
    assert reply.status == 201, reply.body
    upload = reply.json()
    assert upload["file"]["description"] == "hello"
    put = http_call(upload["upload_url"], "PUT", media_dir.png.read_bytes(), upload["headers"])
    assert put.status == 200, put.body
    done = http_call(
        f"{server.url}/files/{upload['file_id']}/confirm-upload", "POST", b"", bearer(token)
    )
    assert done.status == 200, done.body
    assert done.json()["description"] == "hello"
    # JSON bodies too
    as_json = http_call(
        f"{server.url}/files/upload/presigned",
        "POST",
        json.dumps(
            {"original_filename": "q.jpg", "file_type": "image", "description": "desde JSON"}
        ).encode(),
        {"Content-Type": "application/json", **bearer(token)},
    )
    assert as_json.status == 201 and as_json.json()["file"]["description"] == "desde JSON"


def test_descriptions_are_limited_alike_at_presign_and_direct_upload(
    strict: tuple[EmbeddedServer, str], media_dir: Any
) -> None:
    server, token = strict
    long = "x" * (MAX_DESCRIPTION + 1)
    presign = _presign(
        server, token, original_filename="p.png", file_type="image", description=long
    )
    assert str(MAX_DESCRIPTION) in _error(presign, 400, "invalid_input")["message"]
    direct = _direct(server, token, "p.png", media_dir.png.read_bytes(), description=long)
    assert str(MAX_DESCRIPTION) in _error(direct, 400, "invalid_input")["message"]
    assert server.library.list_files().total == 0
    fine = _direct(
        server, token, "p.png", media_dir.png.read_bytes(), description="x" * MAX_DESCRIPTION
    )
    assert fine.status == 201, fine.body


def test_the_presign_form_schema_lists_description(strict: tuple[EmbeddedServer, str]) -> None:
    server, _ = strict
    spec = http_call(f"{server.url}/openapi.json").json()
    form = spec["components"]["schemas"]["PresignedUploadForm"]["properties"]
    assert form["description"] == {"type": "string", "maxLength": MAX_DESCRIPTION}


def test_a_tus_upload_of_no_declared_kind_names_this_servers_types(
    strict: tuple[EmbeddedServer, str], bmp: bytes
) -> None:
    """No file_type, filetype or name to go by: the bytes are sniffed, and the refusal names
    the types of their kind (a BMP is an image) this server accepts (webp and gif are left out
    here), not the video types too."""
    from tests.resumable_client import create, patch

    server, token = strict
    created = create(server.url, token, len(bmp))
    assert created.status == 201, created.body
    location = created.headers["Location"]
    url = location if location.startswith("http") else server.url + location
    refused = patch(url, token, 0, bmp)
    error = _error(refused, 400, "unsupported_type")
    accepted = error["message"].rsplit("accepted: ", 1)[1].split(", ")
    assert accepted == ONLY == error["details"]["allowed"]


def test_an_audio_only_mp4_is_refused_as_not_a_video(
    strict: tuple[EmbeddedServer, str], tmp_path: Path
) -> None:
    """A phone's voice memo (an MP4 with sound only) was refused as a damaged file (400
    corrupt_file "The file has no video track"); it is simply not a video: unsupported_type,
    like an M4A, naming this server's video types and what the file is."""
    server, token = strict
    memo = make_audio_only_mp4(tmp_path / "memo.mp4").read_bytes()
    error = _error(
        _direct(server, token, "memo.mp4", memo, file_type="video"), 400, "unsupported_type"
    )
    assert "MPEG-4 audio" in error["message"] and "no video track" in error["message"]
    assert error["details"]["allowed"] == [t.mime for t in VIDEO_TYPES if t.accepted_by_default]
    assert error["details"]["found_mime"] == "audio/mp4"
    assert error["details"]["found_extension"] == "m4a"
    assert server.library.list_files().total == 0
