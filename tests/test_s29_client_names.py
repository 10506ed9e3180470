"""`mediadesk download` names a file as the desktop's Export does (core.filenames.disk_name):
Windows device names (CON.jpg opens the console there), bidi overrides (U+202E shows
"evil\u202egpj.exe.jpg" as another name) and DEL were kept as they were. disk_name itself
missed the superscript COM/LPT ports and the console's CONIN$/CONOUT$."""

from __future__ import annotations

import pytest

from core.filenames import disk_name
from server.client.api import safe_name


@pytest.mark.parametrize(
    "name",
    ["CON.jpg", "aux.jpg", "NUL", "com1.mp4", "Lpt9.tar.gz", "prn .jpg"]
    + ["COM\u00b9.jpg", "com\u00b2.mp4", "LPT\u00b3", "CONIN$", "conout$.txt", "CONIN$.jpg"],
)
def test_device_names_are_not_written_as_they_are(name: str) -> None:
    for made in (safe_name(name, 7), disk_name(name)):
        assert made == "_" + name.strip(), made


@pytest.mark.parametrize(
    ("name", "made"),
    [
        ("evil\u202egpj.exe.jpg", "evilgpj.exe.jpg"),
        ("x\x7f.jpg", "x.jpg"),
        ("a:b?.jpg", "a_b_.jpg"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\photo.jpg", "photo.jpg"),
        ("console.jpg", "console.jpg"),  # a device name only as the whole stem
        ("COM10.jpg", "COM10.jpg"),
        ("COM\u2074.jpg", "COM\u2074.jpg"),  # Windows keeps only ¹²³ as ports
    ],
)
def test_download_names_are_the_exports(name: str, made: str) -> None:
    assert safe_name(name, 7) == made == disk_name(name)


@pytest.mark.parametrize("name", ["", "...", " . ", "\u202e", "//", "\x00", "a/.."])
def test_a_name_with_nothing_left_is_the_files_number(name: str) -> None:
    assert safe_name(name, 7) == "file-7"


def test_a_long_name_leaves_room_for_a_number() -> None:
    made = safe_name("é" * 300 + ".jpg", 7)
    assert made.endswith(".jpg") and len((made + " (12)").encode()) <= 255
