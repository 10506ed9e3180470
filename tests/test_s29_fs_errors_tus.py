"""A tus upload on a data folder whose uploads/ cannot be written (chattr +i: a read-only
disk, rights taken away; root only; real HTTP over loopback): the creation and the PATCH answer
500 storage_unavailable like every other write on the data folder, never 500 internal_error."""

from __future__ import annotations

from pathlib import Path

from core.library import Library
from server.entry import EmbeddedServer
from tests.faults import immutable
from tests.resumable_client import create, patch
from tests.server_fixtures import Tokens


def _uploads(library: Library) -> Path:
    folder = library.paths.data_dir / "uploads"
    folder.mkdir(exist_ok=True)
    return folder


def test_a_creation_in_an_unwritable_uploads_folder_is_storage_unavailable(
    library: Library, live: EmbeddedServer, tokens: Tokens
) -> None:
    with immutable(_uploads(library)):
        made = create(live.url, tokens.upload, 100, filename="a.jpg")
    assert made.status == 500, made
    error = made.json()["error"]
    assert error["code"] == "storage_unavailable", error
    assert str(library.paths.data_dir) not in error["message"], error


def test_a_patch_to_an_unwritable_upload_file_is_storage_unavailable(
    library: Library, live: EmbeddedServer, tokens: Tokens
) -> None:
    made = create(live.url, tokens.upload, 100, filename="a.jpg")
    assert made.status == 201, made
    location = made.headers["Location"]
    url = location if location.startswith("http") else live.url + location
    (part,) = _uploads(library).glob("*.part")
    with immutable(part):
        sent = patch(url, tokens.upload, 0, b"x" * 10)
    assert sent.status == 500, sent
    assert sent.json()["error"]["code"] == "storage_unavailable", sent.json()
