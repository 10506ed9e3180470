"""A tus upload that sends no `file_type` is an image or a video by its bytes, never by its name.

README: `file_type` is optional in a tus upload's metadata, "otherwise told from the content",
and a new file's name then takes an extension of its bytes' type. The kind was taken from the
`filetype` metadata or the file name's extension instead, and validation then refused the
bytes against it: an MP4 sent as `clip.JPG`, a JPEG sent as `clip.mp4` and an MP4 whose
`filetype` said image/jpeg were answered 400 type_mismatch ("... but file_type says image")
although no file_type was sent. An explicit `file_type` the bytes contradict is still refused.
A nameless upload was saved as `upload.mp4` (a blank name as `unnamed.mp4`); README's fallback,
as a direct upload's nameless part, is `unnamed.<ext>`. Real HTTP, local storage and moto's S3
(where the upload is finished from parts already in the bucket).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.library import Library
from server.entry import EmbeddedServer
from tests.conftest import make_settings, r2_settings
from tests.media import make_jpeg, make_mp4
from tests.resumable_client import OCTETS, TUS, MiB, call, create, meta, padded_mp4, patch
from tests.server_fixtures import Reply, Tokens, bearer, http_call, make_tokens, server_config

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(params=["local", "s3"])
def served(
    request: pytest.FixtureRequest, data_dir: Path
) -> Iterator[tuple[EmbeddedServer, Tokens, Library]]:
    extra: dict[str, Any] = {}
    if request.param == "s3":
        extra = {
            **r2_settings(request.getfixturevalue("s3_bucket")),
            "upload_part_size": 5 * MiB,
            "multipart_threshold": 5 * MiB,
            "multipart_chunk_size": 5 * MiB,
        }
    lib = Library.open(make_settings(data_dir, max_file_size=64 * MiB, **extra))
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    yield server, make_tokens(lib), lib
    server.stop()
    lib.close()


class Media:
    """Distinct files (the same bytes twice would be one file, named once)."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.count = folder, 0
        self._mp4 = make_mp4(folder / "base.mp4", seconds=1, size=(160, 120)).read_bytes()

    def mp4(self) -> bytes:
        # a top-level `free` box of other bytes: the same video, another file
        pad = os.urandom(16)
        return self._mp4 + (8 + len(pad)).to_bytes(4, "big") + b"free" + pad

    def jpeg(self) -> bytes:
        self.count += 1
        shade = (self.count * 37 % 256, self.count * 91 % 256, 120)
        path = make_jpeg(self.folder / f"p{self.count}.jpg", size=(64, 48), color=shade)
        return path.read_bytes()


@pytest.fixture
def media(tmp_path: Path) -> Media:
    return Media(tmp_path)


def send(url: str, token: str, data: bytes, **metadata: str) -> Reply:
    """tus creation-with-upload: the whole file in the creation POST."""
    headers = {**bearer(token), **TUS, **OCTETS, "Upload-Length": str(len(data))}
    if metadata:
        headers["Upload-Metadata"] = meta(**metadata)
    return call(f"{url}/files/upload/tus", "POST", data, headers)


def catalogued(url: str, token: str, reply: Reply) -> dict[str, Any]:
    assert reply.status in (201, 204), reply.body
    file_id = reply.headers["MediaDesk-File-Id"]
    return http_call(f"{url}/files/{file_id}", headers=bearer(token)).json()  # type: ignore[no-any-return]


# (the bytes, the metadata sent, the name saved, the kind, the stored type)
CASES = [
    ("mp4", {"filename": "clip.JPG"}, "clip.JPG.mp4", "video", "video/mp4"),
    ("jpeg", {"filename": "clip.mp4"}, "clip.mp4.jpg", "image", "image/jpeg"),
    ("mp4", {"filename": "clip.mp4", "filetype": "image/jpeg"}, "clip.mp4", "video", "video/mp4"),
    ("jpeg", {"filename": "shot", "filetype": "video/mp4"}, "shot.jpg", "image", "image/jpeg"),
]
IDS = ["mp4-named-jpg", "jpeg-named-mp4", "mp4-filetype-jpeg", "jpeg-filetype-mp4"]


@pytest.mark.parametrize(("what", "sent", "saved", "kind", "mime"), CASES, ids=IDS)
def test_without_file_type_the_kind_is_the_bytes(
    served: tuple[EmbeddedServer, Tokens, Library],
    media: Media,
    what: str,
    sent: dict[str, str],
    saved: str,
    kind: str,
    mime: str,
) -> None:
    server, tokens, _ = served
    data = media.mp4() if what == "mp4" else media.jpeg()
    record = catalogued(server.url, tokens.read, send(server.url, tokens.upload, data, **sent))
    assert record["original_filename"] == saved
    assert record["file_type"] == kind
    assert record["content_type"] == mime
    assert record["file_key"].endswith("." + saved.rsplit(".", 1)[1].lower())


def test_a_file_type_the_bytes_contradict_is_refused(
    served: tuple[EmbeddedServer, Tokens, Library], media: Media
) -> None:
    """The kind the client asked for is checked, whatever the name says."""
    server, tokens, _ = served
    for data, sent in (
        (media.mp4(), {"filename": "clip.mp4", "file_type": "image"}),
        (media.jpeg(), {"filename": "clip.jpg", "filetype": "image/jpeg", "file_type": "video"}),
    ):
        reply = send(server.url, tokens.upload, data, **sent)
        assert reply.status == 400, reply.body
        assert reply.json()["error"]["code"] == "type_mismatch"


@pytest.mark.parametrize("sent", [{}, {"filename": ""}, {"filename": "  "}, {"filename": "../"}])
def test_a_nameless_upload_is_unnamed_with_its_types_extension(
    served: tuple[EmbeddedServer, Tokens, Library], media: Media, sent: dict[str, str]
) -> None:
    """No `filename`, or none usable: `unnamed.<ext>`, as a direct upload's nameless part."""
    server, tokens, _ = served
    record = catalogued(
        server.url, tokens.read, send(server.url, tokens.upload, media.mp4(), **sent)
    )
    assert record["original_filename"] == "unnamed.mp4"


def test_a_video_in_parts_named_as_a_picture_is_a_video(
    served: tuple[EmbeddedServer, Tokens, Library], tmp_path: Path
) -> None:
    """Bigger than one part (5 MiB on S3): its first part is sent before the end, and the end
    tells the kind from the bytes the bucket holds."""
    server, tokens, lib = served
    data = padded_mp4(tmp_path / "big.mp4", 7 * MiB).read_bytes()
    made = create(server.url, tokens.upload, len(data), filename="match.jpeg")
    assert made.status == 201, made.body
    location = made.headers["Location"]
    url = location if location.startswith("http") else server.url + location
    first = patch(url, tokens.upload, 0, data[: 5 * MiB])
    assert first.status == 204, first.body
    done = patch(url, tokens.upload, 5 * MiB, data[5 * MiB :])
    record = catalogued(server.url, tokens.read, done)
    assert (record["original_filename"], record["file_type"]) == ("match.jpeg.mp4", "video")
    assert record["file_key"].endswith(".mp4")
    assert lib.get_file(record["id"]).size == len(data)
