"""A new file's name ends in an extension of the type its bytes are, by every way in.

A JPEG uploaded directly as `clip.mp4` was catalogued as image/jpeg under that very name: its
downloads said `clip.mp4` with Content-Type image/jpeg, and a double-click opened it in a video
player that could not play it. A rename (`PATCH`) already kept an extension of the file's
type (core.filenames.with_type_extension); uploads now follow the same rule with the type the
bytes are: `clip.mp4` -> `clip.mp4.jpg`, `photo` -> `photo.jpg`, `IMG_1.JPEG` as typed. Direct
uploads, tus and presigned uploads over real HTTP, and the Library facade's own ingest.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.library import Library
from server.entry import EmbeddedServer
from tests.media import make_jpeg
from tests.server_fixtures import Reply, Tokens, bearer, http_call, make_tokens, server_config

pytestmark = pytest.mark.timeout(120)

# (the name the sender gave a JPEG, the name stored)
NAMES = [
    ("clip.mp4", "clip.mp4.jpg"),  # another type's extension: the type's own is added
    ("photo", "photo.jpg"),  # none
    ("IMG_1.JPEG", "IMG_1.JPEG"),  # one of the type's, in any case: as typed
    ("final.v2", "final.v2.jpg"),
]
IDS = ["other-type", "none", "own-upper", "not-an-extension"]


@pytest.fixture
def served(library: Library) -> Iterator[tuple[EmbeddedServer, Tokens]]:
    server = EmbeddedServer(library, config=server_config(library))
    server.start()
    yield server, make_tokens(library)
    server.stop()


class Pictures:
    """Distinct JPEGs (the same bytes twice would be one file, named once)."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.count = folder, 0

    def next(self) -> bytes:
        self.count += 1
        shade = (self.count * 37 % 256, self.count * 91 % 256, 120)
        path = make_jpeg(self.folder / f"p{self.count}.jpg", size=(64, 48), color=shade)
        return path.read_bytes()


@pytest.fixture
def pictures(tmp_path: Path) -> Pictures:
    return Pictures(tmp_path)


def direct(url: str, token: str, name: str, data: bytes) -> dict[str, Any]:
    """A browser's form: the part says image/jpeg whatever the name says."""
    boundary = "----MediaDeskNamesBoundary7d1f"
    body = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file_type"\r\n\r\nimage\r\n'
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    body += data + f"\r\n--{boundary}--\r\n".encode()
    reply = http_call(
        f"{url}/files/upload/direct",
        "POST",
        body,
        {**bearer(token), "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert reply.status == 201, reply.body
    return reply.json()  # type: ignore[no-any-return]


def by_tus(url: str, token: str, name: str, data: bytes) -> dict[str, Any]:
    """tus with only the file name and the kind: the name's type is not the bytes'."""
    encoded = base64.b64encode(name.encode()).decode()
    kind = base64.b64encode(b"image").decode()
    headers = {
        **bearer(token),
        "Tus-Resumable": "1.0.0",
        "Upload-Length": str(len(data)),
        "Upload-Metadata": f"filename {encoded},file_type {kind}",
        "Content-Type": "application/offset+octet-stream",
    }
    reply = http_call(f"{url}/files/upload/tus", "POST", data, headers)
    assert reply.status == 201, reply.body
    file_id = reply.headers["MediaDesk-File-Id"]
    return http_call(f"{url}/files/{file_id}", headers=bearer(token)).json()  # type: ignore[no-any-return]


def by_presign(url: str, token: str, name: str, data: bytes) -> dict[str, Any]:
    """A presign that says the type (content_type), then the PUT and the confirm."""
    ask = {"original_filename": name, "file_type": "image", "content_type": "image/jpeg"}
    grant = http_call(
        f"{url}/files/upload/presigned",
        "POST",
        json.dumps({**ask, "size": len(data)}).encode(),
        {**bearer(token), "Content-Type": "application/json"},
    )
    assert grant.status == 201, grant.body
    signed = grant.json()
    put = http_call(signed["upload_url"], "PUT", data, {"Content-Type": "image/jpeg"})
    assert put.status in (200, 201, 204), put.body
    done = http_call(f"{url}/files/{signed['file_id']}/confirm-upload", "POST", b"", bearer(token))
    assert done.status in (200, 201), done.body
    return done.json()  # type: ignore[no-any-return]


def download(url: str, token: str, file_id: int) -> Reply:
    """GET /files/{id}/download and the signed link it redirects to."""
    first = http_call(f"{url}/files/{file_id}/download", headers=bearer(token))
    assert first.status in (302, 307), first.body
    target = first.headers["Location"]
    reply = http_call(target if target.startswith("http") else url + target)
    assert reply.status == 200, reply.body
    return reply


@pytest.mark.parametrize(("name", "stored"), NAMES, ids=IDS)
def test_every_way_in_names_a_jpeg_by_its_type(
    served: tuple[EmbeddedServer, Tokens], pictures: Pictures, name: str, stored: str
) -> None:
    server, tokens = served
    token = tokens.upload
    answers = {
        "direct": direct(server.url, token, name, pictures.next()),
        "tus": by_tus(server.url, token, name, pictures.next()),
        "presign": by_presign(server.url, token, name, pictures.next()),
    }
    names = {way: answer["original_filename"] for way, answer in answers.items()}
    assert names == dict.fromkeys(names, stored)
    for answer in answers.values():
        assert answer["content_type"] == "image/jpeg"
        # the stored object is named by the type too (its key never carried the name)
        assert answer["file_key"].endswith(".jpg"), answer["file_key"]


def test_a_download_says_the_name_saved(
    served: tuple[EmbeddedServer, Tokens], pictures: Pictures
) -> None:
    """The name a user saves the file under is one a double-click opens it by."""
    server, tokens = served
    record = direct(server.url, tokens.upload, "clip.mp4", pictures.next())
    got = download(server.url, tokens.read, record["id"])
    assert got.headers["Content-Type"] == "image/jpeg"
    disposition = got.headers["Content-Disposition"]
    assert "clip.mp4.jpg" in disposition, disposition


def test_a_presign_that_says_another_type_is_named_by_the_bytes(
    served: tuple[EmbeddedServer, Tokens], pictures: Pictures
) -> None:
    """The confirm goes by the type it finds (it already named the object so): a JPEG sent
    as `shot.png` with content_type image/png is saved as `shot.png.jpg`."""
    server, tokens = served
    data = pictures.next()
    ask = {"original_filename": "shot.png", "file_type": "image", "content_type": "image/png"}
    grant = http_call(
        f"{server.url}/files/upload/presigned",
        "POST",
        json.dumps(ask).encode(),
        {**bearer(tokens.upload), "Content-Type": "application/json"},
    )
    assert grant.status == 201, grant.body
    signed = grant.json()
    put = http_call(signed["upload_url"], "PUT", data, {"Content-Type": "image/png"})
    assert put.status in (200, 201, 204), put.body
    done = http_call(
        f"{server.url}/files/{signed['file_id']}/confirm-upload",
        "POST",
        b"",
        bearer(tokens.upload),
    )
    assert done.status in (200, 201), done.body
    record = done.json()
    assert record["content_type"] == "image/jpeg"
    assert record["original_filename"] == "shot.png.jpg"
    assert record["file_key"].endswith(".jpg")


@pytest.mark.parametrize(("name", "stored"), NAMES, ids=IDS)
def test_the_library_ingest_names_a_file_by_its_type(
    library: Library, pictures: Pictures, tmp_path: Path, name: str, stored: str
) -> None:
    """The desktop's imports (the Library facade), from a path and from a stream."""
    folder = tmp_path / "named"
    folder.mkdir()
    path = folder / name
    path.write_bytes(pictures.next())
    from_path = library.uploads.ingest(path, "image")  # the path's own name
    assert from_path.original_filename == stored
    other = tmp_path / "other.bin"
    other.write_bytes(pictures.next())
    with other.open("rb") as stream:
        from_stream = library.uploads.ingest(stream, "image", original_filename=name)
    assert from_stream.original_filename == stored
