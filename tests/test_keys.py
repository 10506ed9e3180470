"""Storage keys follow the seed's layout and refuse traversal."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from core import keys
from core.errors import InvalidInput
from core.filenames import clean_filename, fit_bytes, type_extension, with_type_extension

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
        ("evil\r\nSet-Cookie: a=b.jpg", "evil Set-Cookie: a=b.jpg"),
        ("..", "unnamed"),
        ("", "unnamed"),
        (".hidden.png", "hidden.png"),
    ],
)
def test_clean_filename(raw: str, clean: str) -> None:
    assert clean_filename(raw) == clean


FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # one emoji, joined by ZWJ
SCOTLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
PERSIAN = "\u0646\u0627\u0645\u0647\u200c\u0647\u0627"  # "letters": its ZWNJ is spelling


@pytest.mark.parametrize(
    "name",
    [f"{FAMILY} familia.jpg", f"{PERSIAN}.jpg", f"{SCOTLAND} scotland.jpg", f"a{SCOTLAND}{FAMILY}"],
)
def test_joiners_and_flag_tags_that_join_something_stay(name: str) -> None:
    """They were dropped with every format character: a family became three people, the
    Persian word another spelling, the Scotland flag a black flag."""
    assert clean_filename(name) == name


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("\u200d", "unnamed"),
        ("\u200c\u2060\u200d.jpg", "jpg"),  # as ".jpg": a saved file is never hidden
        ("\u200dphoto.jpg", "photo.jpg"),
        ("photo\u200d.jpg", "photo\u200d.jpg"),  # between two characters: kept, harmless
        ("a \u200cb\u200d .jpg", "a b .jpg"),
        ("a\u200d\u200db", "ab"),
        ("dir/\u200d.hidden", "hidden"),
        ("a\U000e0067\U000e007f.jpg", "a.jpg"),  # tags only make a flag after the black flag
        ("\U0001f3f4\U000e0067\U000e0062.jpg", "\U0001f3f4.jpg"),  # no CANCEL TAG: no flag
        ("\U0001f3f4/\U000e0067\U000e007fx", "x"),
        ("a\u00adb\u200b\ufeff\u2060c\u200e\u200f\u061c\ufff9d.jpg", "abcd.jpg"),
    ],
)
def test_joiners_and_tags_that_join_nothing_go(raw: str, clean: str) -> None:
    assert clean_filename(raw) == clean


def test_a_cut_inside_an_emoji_sequence_leaves_no_joiner_at_the_end() -> None:
    assert clean_filename("x" + FAMILY * 90) == ("x" + FAMILY * 90)[:254]
    cut = fit_bytes("x" * 3 + FAMILY * 20 + ".jpg", 60)
    assert "\u200d." not in cut and len(cut.encode()) <= 60
    flags = clean_filename(SCOTLAND * 40)
    assert flags.endswith("\U000e007f") or flags.endswith("\U0001f3f4"), ascii(flags[-3:])
    assert not flags.endswith("\U0001f3f4\U000e0067")


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
