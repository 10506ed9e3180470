"""A name that ends in its type's extension and then a dot, or dots and spaces (what Windows
users and some phones produce: "IMG_1.jpg.", "trail.jpg. "), keeps that extension. The dot was
taken off after the check for the type's extension had failed, so "IMG_1.jpg." was saved as
"IMG_1.jpg.jpg", by direct, tus and presigned uploads and by a rename alike ("name." rightly
became "name.jpg"). core.filenames.with_type_extension, over real HTTP."""

from __future__ import annotations

import json

import pytest

from core.filenames import with_type_extension
from server.entry import EmbeddedServer
from tests.name_helpers import by_presign, by_tus, direct, every_way_in, pictures, served
from tests.server_fixtures import Tokens, bearer, http_call, presign_grant
from tests.test_form_filenames import Pictures

__all__ = ["pictures", "served"]

pytestmark = pytest.mark.timeout(120)

# (the name a JPEG is given, the name stored)
NAMES = [
    ("IMG_1.jpg.", "IMG_1.jpg"),
    ("trail.jpg. ", "trail.jpg"),
    ("a.jpg  .", "a.jpg"),
    ("b.JPEG..", "b.JPEG"),
    ("name.", "name.jpg"),  # no extension before the dot: the type's, as before
    ("clip.mp4.", "clip.mp4.jpg"),  # another type's: the type's own is added, as before
]


@pytest.mark.parametrize(("name", "stored"), NAMES)
def test_the_rule(name: str, stored: str) -> None:
    assert with_type_extension(name, "image/jpeg") == stored


@pytest.mark.parametrize(("name", "stored"), NAMES[:3] + NAMES[4:5])
def test_every_way_in_and_a_rename(
    served: tuple[EmbeddedServer, Tokens], pictures: Pictures, name: str, stored: str
) -> None:
    server, tokens = served
    answers = every_way_in(served, pictures, name)
    names = {way: answer["original_filename"] for way, answer in answers.items()}
    assert names == dict.fromkeys(names, stored)
    renamed = http_call(
        f"{server.url}/files/{answers['direct']['id']}",
        "PATCH",
        json.dumps({"original_filename": "final" + name[name.index(".") :]}).encode(),
        {**bearer(tokens.admin), "Content-Type": "application/json"},
    )
    assert renamed.status == 200, renamed.body
    assert renamed.json()["original_filename"] == "final" + stored[stored.index(".") :]


@pytest.mark.parametrize("name", ["IMG_1.jpg.", "IMG_1.JPG. ", "IMG_1.jpg ."])
def test_a_presign_naming_no_type_reads_it_past_the_trailing_dots(
    served: tuple[EmbeddedServer, Tokens], pictures: Pictures, name: str
) -> None:
    """Was 400 invalid_input ("Send content_type … could not be told from the file name"):
    the presign read the type from the extension after the trailing dot, where a direct or tus
    upload of the same name took the JPEG. Its pending file is named as the file will be."""
    server, tokens = served
    data = pictures.next().read_bytes()
    grant = presign_grant(
        server.url, tokens.upload, original_filename=name, file_type="image", size=len(data)
    )
    pending = http_call(f"{server.url}/files/{grant['file_id']}", headers=bearer(tokens.upload))
    assert pending.json()["original_filename"] == name.rstrip(". "), pending.body
    put = http_call(grant["upload_url"], "PUT", data, {"Content-Type": "image/jpeg"})
    assert put.status in (200, 201, 204), put.body
    done = http_call(
        f"{server.url}/files/{grant['file_id']}/confirm-upload",
        "POST",
        b"",
        bearer(tokens.upload),
    )
    assert done.status in (200, 201), done.body
    assert done.json()["original_filename"] == name.rstrip(". ")


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        ("Half\ttime.jpg", "Half time.jpg"),
        ("Final\r\nwhistle.jpg", "Final whistle.jpg"),
        ("Goal\u2028replay.jpg", "Goal replay.jpg"),
        ("Two  spaces.jpg", "Two  spaces.jpg"),  # kept: a name on disk may have them
    ],
)
def test_tabs_and_line_breaks_in_a_name_are_a_space(
    served: tuple[EmbeddedServer, Tokens], pictures: Pictures, name: str, stored: str
) -> None:
    """Were deleted, gluing the words ("Final\\r\\nwhistle.jpg" stored as "Finalwhistle.jpg"),
    where an athlete's name makes each run of them one space (README): by every way in and by
    a rename alike (core.filenames.clean_filename)."""
    server, tokens = served
    # a browser's form escapes CR and LF in the part's name (WHATWG); the server reads them back
    escaped = name.replace("\r", "%0D").replace("\n", "%0A")
    answers = {
        "direct": direct(server.url, tokens.upload, escaped, pictures.next().read_bytes()),
        "tus": by_tus(server.url, tokens.upload, name, pictures.next().read_bytes()),
        "presign": by_presign(server.url, tokens.upload, name, pictures.next().read_bytes()),
    }
    assert {way: a["original_filename"] for way, a in answers.items()} == dict.fromkeys(
        answers, stored
    )
    renamed = http_call(
        f"{server.url}/files/{answers['direct']['id']}",
        "PATCH",
        json.dumps({"original_filename": "New " + name}).encode(),
        {**bearer(tokens.admin), "Content-Type": "application/json"},
    )
    assert renamed.status == 200, renamed.body
    assert renamed.json()["original_filename"] == "New " + stored
