"""A file that shares another's stored object answers the generation of the thumbnail it shows.

The same bytes for another athlete (or is_public) are a file of its own whose key names the
object, and thumbnail, already stored (README "Duplicates keep their id"). Its row was given
`thumbnail_generation: null` ("made before generations were counted") while it showed the
other file's thumbnail of today's rendering: the upload's answer said null, and the next
`mediadesk maintenance` decoded the photo again and changed the file's content tag (`?v=`),
so browsers fetched a thumbnail that had not changed. Real HTTP over loopback, a direct upload
and a presigned one, then maintenance.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from core.db.models import MediaFile
from core.library import Library
from core.maintenance import run_maintenance
from core.thumbnails import THUMBNAIL_GENERATION
from server.entry import EmbeddedServer
from tests.internals import db_of
from tests.media import make_jpeg
from tests.server_fixtures import (
    Tokens,
    bearer,
    direct_upload,
    http_call,
    multipart_body,
    presigned_upload,
)

pytestmark = pytest.mark.timeout(120)
ONLY = frozenset({"remake_thumbnails"})


@pytest.fixture
def served(live: EmbeddedServer, tokens: Tokens) -> tuple[EmbeddedServer, Tokens]:
    return live, tokens


def direct(url: str, token: str, data: bytes, athlete_id: int) -> dict[str, Any]:
    body, ctype = multipart_body(
        {"file_type": "image", "athlete_id": str(athlete_id)},
        {"file": ("run.jpg", data, "image/jpeg")},
    )
    return direct_upload(url, token, body, ctype)


def by_presign(url: str, token: str, data: bytes, athlete_id: int) -> dict[str, Any]:
    ask = {
        "original_filename": "run.jpg",
        "file_type": "image",
        "content_type": "image/jpeg",
        "athlete_id": athlete_id,
    }
    return presigned_upload(url, token, data, ask)


def thumbnail_link(url: str, token: str, file_id: int) -> str:
    reply = http_call(f"{url}/files/{file_id}", headers=bearer(token))
    assert reply.status == 200, reply.body
    return reply.json()["urls"]["thumbnail"]  # type: ignore[no-any-return]


def test_a_shared_file_answers_the_generation_of_the_thumbnail_it_shows(
    served: tuple[EmbeddedServer, Tokens], tmp_path: Path
) -> None:
    server, tokens = served
    lib = server.library
    data = make_jpeg(tmp_path / "run.jpg", size=(96, 64), color=(30, 140, 200)).read_bytes()
    first = direct(server.url, tokens.upload, data, athlete_id=1)
    shared = {
        "direct": direct(server.url, tokens.upload, data, athlete_id=2),
        "presign": by_presign(server.url, tokens.upload, data, athlete_id=3),
    }
    assert first["thumbnail_generation"] == THUMBNAIL_GENERATION
    for way, answer in shared.items():
        assert answer["file_key"] == first["file_key"], way  # the object is shared
        assert answer["has_thumbnail"] and not answer.get("duplicate"), way
        assert answer["thumbnail_generation"] == THUMBNAIL_GENERATION, way
    links = {a["id"]: thumbnail_link(server.url, tokens.read, a["id"]) for a in shared.values()}

    report = run_maintenance(lib, only=ONLY)

    assert report.remade_thumbnails == [] and not report.errors  # nothing to make again
    for file_id, link in links.items():
        assert lib.get_file(file_id).thumbnail_generation == THUMBNAIL_GENERATION
        assert thumbnail_link(server.url, tokens.read, file_id) == link  # the same ?v=


def test_a_file_sharing_an_old_thumbnail_says_so_and_is_made_again_with_it(
    library: Library, tmp_path: Path
) -> None:
    """The thumbnail shown is of an older rendering (a library from before generations were
    counted): the new file says so too, and one remake brings both to today's."""
    photo = make_jpeg(tmp_path / "old.jpg", size=(96, 64), color=(200, 90, 30))
    first = library.uploads.ingest(photo, "image", athlete_id=1)
    with db_of(library).write() as s:
        s.execute(
            update(MediaFile).where(MediaFile.id == first.id).values(thumbnail_generation=None)
        )
    second = library.uploads.ingest(photo, "image", athlete_id=2)
    assert second.storage_key == first.storage_key
    assert second.thumbnail_generation is None

    report = run_maintenance(library, only=ONLY)

    assert report.remade_thumbnails == [first.id]  # once, for both
    for file_id in (first.id, second.id):
        assert library.get_file(file_id).thumbnail_generation == THUMBNAIL_GENERATION
