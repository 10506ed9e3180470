"""Storage keys follow the seed's layout and refuse traversal."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from core import keys
from core.errors import InvalidInput
from core.filenames import clean_filename, type_extension, with_type_extension

WHEN = datetime(2026, 3, 9, tzinfo=UTC)


def test_seed_layout() -> None:
    assert re.fullmatch(r"athletes/7/2026/03/[0-9a-f]{32}\.jpg", keys.media_key(7, "jpg", WHEN))
    assert re.fullmatch(r"general/2026/03/[0-9a-f]{32}\.mp4", keys.media_key(None, ".MP4", WHEN))


def test_rekey_keeps_date_and_name() -> None:
    key = keys.media_key(None, "png", WHEN, unique="abc")
    moved = keys.rekey_for_athlete(key, 12)
    assert moved == "athletes/12/2026/03/abc.png"
    assert keys.rekey_for_athlete(moved, None) == key


def test_derivatives_have_their_own_prefix() -> None:
    key = "athletes/1/2026/03/abc.jpg"
    assert keys.thumbnail_key(key) == "_derived/thumbnails/athletes/1/2026/03/abc.webp"
    assert keys.variant_key(key, 640).startswith(keys.VARIANT_PREFIX)


@pytest.mark.parametrize(
    "bad", ["../etc/passwd", "a/../../b", "/abs", "a\\b", "a/./b", "a b", "", "a\x00b", "a/\r\nb"]
)
def test_traversal_and_odd_keys_refused(bad: str) -> None:
    with pytest.raises(InvalidInput):
        keys.normalise_key(bad)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\photo.jpg", "photo.jpg"),
        ("evil\r\nSet-Cookie: a=b.jpg", "evilSet-Cookie: a=b.jpg"),
        ("..", "unnamed"),
        ("", "unnamed"),
        (".hidden.png", "hidden.png"),
    ],
)
def test_clean_filename(raw: str, clean: str) -> None:
    assert clean_filename(raw) == clean


def test_long_names_keep_their_extension() -> None:
    name = clean_filename("x" * 400 + ".jpeg")
    assert len(name) == 255 and name.endswith(".jpeg")


@pytest.mark.parametrize(
    ("new", "content_type", "previous", "saved"),
    [
        ("final", "video/mp4", "clip.mp4", "final.mp4"),
        ("final.v2", "video/mp4", "clip.mp4", "final.v2.mp4"),
        ("clip.MP4", "video/mp4", "clip.mp4", "clip.MP4"),
        ("clip.jpeg", "image/jpeg", "clip.jpg", "clip.jpeg"),
        ("final", "video/mp4", "clip.M4V", "final.M4V"),  # the previous one, as written
        ("final", "video/mp4", "clip", "final.mp4"),  # none before: the type's own
        ("final.jpg", "video/mp4", "clip.mp4", "final.jpg.mp4"),  # another type's is no help
        ("final.", "image/png", "a.png", "final.png"),
        ("final", "image/jpg", "a.jpg", "final.jpg"),  # an alias of the type
        ("final", "application/pdf", "a.pdf", "final"),  # not a type we know: left alone
    ],
)
def test_a_renamed_file_keeps_an_extension_of_its_type(
    new: str, content_type: str, previous: str, saved: str
) -> None:
    assert with_type_extension(new, content_type, previous) == saved
    assert type_extension(saved, content_type) or saved == new


def test_an_appended_extension_stays_within_the_longest_name() -> None:
    name = with_type_extension("x" * 255, "video/webm", "a.webm")
    assert len(name) == 255 and name.endswith("x.webm")


def test_public_object_urls_are_quoted_in_one_place() -> None:
    """Library.public_url and S3Storage.public_url both build the address with this."""
    url = keys.public_object_url("https://cdn.example/", "athletes/7/2026/03/a b#1.jpg")
    assert url == "https://cdn.example/athletes/7/2026/03/a%20b%231.jpg"
    assert keys.public_object_url("https://cdn.example", "general/x.mp4") == (
        "https://cdn.example/general/x.mp4"
    )
