"""What MediaDesk tells of a club photographer's odder photos (found by an outside tester):

- an EXIF Orientation outside 1-8 (0 and 9 from buggy apps, 65535, the text "6") turns nothing
  anywhere, yet `extra.exif_orientation` reported it, which the API documents as 1-8;
- a JPEG 2000 file was refused with `details.found_mime: image/jpeg` (puremagic's table), so the
  refusal named as found a type the server accepts.

Real files, the real upload checks, real HTTP over loopback.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from core.library import Library
from core.thumbnails import make_thumbnail
from core.validation import validate_file
from server.entry import EmbeddedServer
from tests.server_fixtures import (
    bearer,
    http_call,
    make_tokens,
    multipart_body,
    server_config,
    upload_file,
)

pytestmark = pytest.mark.timeout(120)


def _picture() -> Image.Image:
    im = Image.new("RGB", (400, 300), "white")
    ImageDraw.Draw(im).rectangle((0, 0, 199, 99), fill=(255, 0, 0))  # red at the top left
    return im


def _oriented(path: Path, value: int | str) -> Path:
    """The picture with an EXIF Orientation of `value`: a SHORT, or ASCII for a string."""
    if isinstance(value, int):
        exif = Image.Exif()
        exif[0x0112] = value
        _picture().save(path, exif=exif)
        return path
    # Pillow writes an Orientation as a SHORT whatever it is given: the IFD by hand
    text = value.encode() + b"\x00"
    ifd = struct.pack("<HHHI", 1, 0x0112, 2, len(text)) + text.ljust(4, b"\x00")
    tiff = b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0)
    _picture().save(path, exif=b"Exif\x00\x00" + tiff)
    return path


@pytest.mark.parametrize("value", [0, 9, 65535, "6"])
@pytest.mark.parametrize("ext", ["jpg", "png", "webp"])
def test_an_orientation_outside_1_to_8_is_none(tmp_path: Path, ext: str, value: int | str) -> None:
    path = _oriented(tmp_path / f"photo.{ext}", value)
    info = validate_file(path, "image", 10**8)
    assert "exif_orientation" not in info.extra and "mirrored" not in info.extra, info.extra
    assert (info.width, info.height, info.rotation) == (400, 300, 0)
    with Image.open(io.BytesIO(make_thumbnail(path, info))) as thumb:  # as stored: not turned
        assert thumb.size == (320, 240)
        red = thumb.convert("RGB").getpixel((2, 2))
    assert isinstance(red, tuple) and red[0] > 200 and red[1] < 60, red


def test_a_real_orientation_is_still_reported(tmp_path: Path) -> None:
    info = validate_file(_oriented(tmp_path / "turned.jpg", 8), "image", 10**8)
    assert info.extra["exif_orientation"] == 8 and info.extra["mirrored"] is False
    assert (info.width, info.height, info.rotation) == (400, 300, 270)


def _jpeg_2000() -> bytes:
    """The start of a JPEG 2000 (JP2) file: its signature box and ftyp box, as every .jp2
    begins (ISO/IEC 15444-1 I.5), then a header box."""
    signature = struct.pack(">I", 12) + b"jP  " + b"\r\n\x87\n"
    ftyp = struct.pack(">I", 20) + b"ftypjp2 " + struct.pack(">I", 0) + b"jp2 "
    header = struct.pack(">I", 45) + b"jp2h" + struct.pack(">I", 22) + b"ihdr" + bytes(37)
    return signature + ftyp + header + bytes(200)


def test_over_http(library: Library, tmp_path: Path) -> None:
    token = make_tokens(library).admin
    server = EmbeddedServer(library, config=server_config(library))
    server.start()
    try:
        record = upload_file(server, token, _oriented(tmp_path / "nine.jpg", 9))
        assert record["rotation"] == 0 and "exif_orientation" not in record["extra"], record
        body, ctype = multipart_body(
            {"file_type": "image"}, {"file": ("scan.jpg", _jpeg_2000(), "image/jpeg")}
        )
        reply = http_call(
            f"{server.url}/files/upload/direct",
            "POST",
            body,
            {**bearer(token), "Content-Type": ctype},
        )
        assert reply.status == 400, reply.body
        error = reply.json()["error"]
        assert error["code"] == "unsupported_type"
        assert error["details"]["found_extension"] == "jp2"
        assert error["details"]["found_mime"] == "image/jp2"
        assert "image/jpeg" in error["details"]["allowed"]
    finally:
        server.stop()
