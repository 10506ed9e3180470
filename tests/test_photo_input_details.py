"""What MediaDesk tells of a club photographer's odder photos (found by an outside tester):

- an EXIF Orientation outside 1-8 (0 and 9 from buggy apps, 65535, the text "6") turns nothing
  anywhere, yet `extra.exif_orientation` reported it, which the API documents as 1-8;
- a JPEG 2000 file was refused with `details.found_mime: image/jpeg` (puremagic's table), so the
  refusal named as found a type the server accepts;
- a 16-bit grey PNG's own grey colour profile was passed over in its thumbnail and `?w=`
  variants (the desktop's preview applied it): the two showed different greys.

Real files, the real upload checks, real HTTP over loopback.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest
from PIL import Image, ImageCms, ImageDraw

from core.library import Library
from core.thumbnails import make_thumbnail, make_variant
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


def _grey_icc() -> bytes:
    """An ICC v2 grey display profile with a linear tone curve (gamma 1.0): a grey value means
    much lighter in sRGB (76 is 148), so a profile passed over shows."""

    def tag(kind: bytes, body: bytes) -> bytes:
        return kind + bytes(4) + body

    white = tag(b"XYZ ", struct.pack(">3i", *(round(v * 65536) for v in (0.9642, 1.0, 0.8249))))
    curve = tag(b"curv", struct.pack(">IH", 1, 256) + bytes(2))  # gamma 256/256
    name = b"Linear grey test profile\0"
    desc = tag(b"desc", struct.pack(">I", len(name)) + name + bytes(4 + 4 + 3 + 67))
    tags = [(b"desc", desc), (b"wtpt", white), (b"kTRC", curve)]
    offset = 128 + 4 + 12 * len(tags)
    table, bodies = b"", b""
    for sig, body in tags:
        table += sig + struct.pack(">II", offset + len(bodies), len(body))
        bodies += body + bytes(-len(body) % 4)
    header = struct.pack(">I4sI4s4s", offset + len(bodies), b"", 0x02100000, b"mntr", b"GRAY")
    header += b"XYZ " + bytes(12) + b"acsp" + bytes(24)
    header += struct.pack(">I3i", 0, *(round(v * 65536) for v in (0.9642, 1.0, 0.8249)))
    header += bytes(128 - len(header))
    return header + struct.pack(">I", len(tags)) + table + bodies


def test_a_16_bit_grey_png_s_colour_profile_is_applied(tmp_path: Path) -> None:
    """A 16-bit grey PNG with its grey profile comes out as the same picture in 8 bits does
    (and as the desktop's preview shows it): the profile was passed over, 76 stayed 76."""
    icc = _grey_icc()
    want = ImageCms.profileToProfile(
        Image.new("L", (1, 1), 76),
        ImageCms.ImageCmsProfile(io.BytesIO(icc)),
        ImageCms.createProfile("sRGB"),
        outputMode="RGB",
    )
    assert want is not None
    wanted = want.getpixel((0, 0))
    assert wanted == (148, 148, 148)
    deep = tmp_path / "deep.png"
    Image.new("I;16", (400, 300), 76 * 257).save(deep, icc_profile=icc)
    eight = tmp_path / "eight.png"
    Image.new("L", (400, 300), 76).save(eight, icc_profile=icc)
    for path in (deep, eight):
        info = validate_file(path, "image", 10**8)
        for made in (make_thumbnail(path, info), make_variant(path, 160)):
            with Image.open(io.BytesIO(made)) as im:
                got = im.convert("RGB").getpixel((im.width // 2, im.height // 2))
            assert isinstance(got, tuple)
            assert max(abs(a - b) for a, b in zip(got, wanted, strict=True)) <= 2, (path, got)
