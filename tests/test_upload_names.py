"""A new file's name ends in an extension of the type its bytes are, by every way in.

A JPEG uploaded directly as `clip.mp4` was catalogued as image/jpeg under that very name: its
downloads said `clip.mp4` with Content-Type image/jpeg, and a double-click opened it in a video
player that could not play it. A rename (`PATCH`) already kept an extension of the file's
type (core.filenames.with_type_extension); uploads now follow the same rule with the type the
bytes are: `clip.mp4` -> `clip.mp4.jpg`, `photo` -> `photo.jpg`, `IMG_1.JPEG` as typed. Direct
uploads, tus and presigned uploads over real HTTP, and the Library facade's own ingest.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core.library import Library
from server.entry import EmbeddedServer
from tests.name_helpers import direct, download, every_way_in, pictures, served
from tests.server_fixtures import Tokens, presigned_upload
from tests.test_form_filenames import Pictures

__all__ = ["pictures", "served"]

pytestmark = pytest.mark.timeout(120)

# (the name the sender gave a JPEG, the name stored)
NAMES = [
    ("clip.mp4", "clip.mp4.jpg"),  # another type's extension: the type's own is added
    ("photo", "photo.jpg"),  # none
    ("IMG_1.JPEG", "IMG_1.JPEG"),  # one of the type's, in any case: as typed
    ("final.v2", "final.v2.jpg"),
]
IDS = ["other-type", "none", "own-upper", "not-an-extension"]


@pytest.mark.parametrize(("name", "stored"), NAMES, ids=IDS)
def test_every_way_in_names_a_jpeg_by_its_type(
    served: tuple[EmbeddedServer, Tokens], pictures: Pictures, name: str, stored: str
) -> None:
    answers = every_way_in(served, pictures, name)
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
    record = direct(server.url, tokens.upload, "clip.mp4", pictures.next().read_bytes())
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
    ask = {"original_filename": "shot.png", "file_type": "image", "content_type": "image/png"}
    record = presigned_upload(server.url, tokens.upload, pictures.next().read_bytes(), ask)
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
    path.write_bytes(pictures.next().read_bytes())
    from_path = library.uploads.ingest(path, "image")  # the path's own name
    assert from_path.original_filename == stored
    other = tmp_path / "other.bin"
    other.write_bytes(pictures.next().read_bytes())
    with other.open("rb") as stream:
        from_stream = library.uploads.ingest(stream, "image", original_filename=name)
    assert from_stream.original_filename == stored
