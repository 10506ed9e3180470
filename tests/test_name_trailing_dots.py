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
from tests.name_helpers import every_way_in, pictures, served
from tests.server_fixtures import Tokens, bearer, http_call
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
