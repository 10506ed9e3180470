"""A photo whose EXIF block is damaged is taken as a photo without EXIF, on every path.

Its pixels are whole and every browser shows it, but (found by an outside tester's photos): a
JPEG, PNG or WebP whose EXIF block was a TIFF header cut short ("II*\\0\\x08\\0") made every
upload path (direct, presigned confirm, tus, the desktop's Add files) answer 500
internal_error: Pillow raised struct.error, re-reading the block in exif_transpose() after the
fit (a JPEG) or in getexif() (a PNG or WebP). A block that is not TIFF at all ("II") had a PNG
or WebP refused as "damaged or cut short", and a JPEG stored without a thumbnail whose `?w=`
variants answered 400 corrupt_file. Real files, the real upload checks and thumbnailer, and
real HTTP over loopback on both storage backends.
"""

from __future__ import annotations

import io
import os
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from core.library import Library
from core.thumbnails import make_thumbnail, make_variant
from core.validation import validate_file
from server.entry import EmbeddedServer
from tests.server_fixtures import (
    bearer,
    http_call,
    make_tokens,
    server_config,
    tus_upload,
    upload_file,
)

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

pytestmark = pytest.mark.timeout(120)

# EXIF blocks as they follow "Exif\0\0": a TIFF header cut after 6 bytes (each endianness),
# one cut inside its magic number, and bytes that are no TIFF
DAMAGED = {
    "cut_le": b"II*\x00\x08\x00",
    "cut_be": b"MM\x00*\x00\x00",
    "cut_magic": b"II",
    "not_tiff": b"JFIF, not an EXIF block at all..",
}


def _picture() -> Image.Image:
    """400 x 300: red top-left block, blue bottom-right, to tell which way up it came out."""
    im = Image.new("RGB", (400, 300), "white")
    draw = ImageDraw.Draw(im)
    draw.rectangle((0, 0, 199, 99), fill=(255, 0, 0))
    draw.rectangle((360, 260, 399, 299), fill=(0, 0, 255))
    return im


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _with_exif(path: Path, block: bytes) -> Path:
    """The picture saved as `path`'s format with `block` as its EXIF, written as cameras and
    editors write it: a JPEG's APP1 "Exif\\0\\0" segment, a PNG's eXIf chunk before the
    pixels, a WebP's EXIF chunk."""
    buf = io.BytesIO()
    if path.suffix == ".jpg":
        _picture().save(buf, "JPEG", quality=90)
        data = buf.getvalue()
        payload = b"Exif\x00\x00" + block
        app1 = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
        path.write_bytes(data[:2] + app1 + data[2:])
    elif path.suffix == ".png":
        _picture().save(buf, "PNG")
        data = buf.getvalue()
        at = data.index(b"IDAT") - 4
        path.write_bytes(data[:at] + _png_chunk(b"eXIf", block) + data[at:])
    else:
        _picture().save(path, "WEBP", quality=90, exif=b"Exif\x00\x00" + block)
    return path


def _upright(data: bytes, size: tuple[int, int]) -> None:
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "WEBP"
        assert im.size == size
        rgb = im.convert("RGB")
        red, blue = rgb.getpixel((2, 2)), rgb.getpixel((size[0] - 3, size[1] - 3))
    assert isinstance(red, tuple) and isinstance(blue, tuple)
    assert red[0] > 200 and red[1] < 60 and red[2] < 60, red
    assert blue[2] > 200 and blue[0] < 60 and blue[1] < 60, blue


@pytest.mark.parametrize("block", sorted(DAMAGED))
@pytest.mark.parametrize("ext", ["jpg", "png", "webp"])
def test_a_damaged_exif_block_is_read_as_none(tmp_path: Path, ext: str, block: str) -> None:
    path = _with_exif(tmp_path / f"photo.{ext}", DAMAGED[block])
    info = validate_file(path, "image", 10**8)
    assert (info.width, info.height, info.rotation) == (400, 300, 0)
    assert "exif_orientation" not in info.extra and "taken_at" not in info.extra
    _upright(make_thumbnail(path, info), (320, 240))
    _upright(make_variant(path, 160), (160, 120))
    _upright(make_variant(path.read_bytes(), 960), (400, 300))  # never enlarged


def test_a_turned_photo_is_still_upright(tmp_path: Path) -> None:
    """The orientation the thumbnailer now reads once, from header_exif, still turns it."""
    path = tmp_path / "turned.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # stored turned a quarter: shown after 90 degrees clockwise
    _picture().transpose(Image.Transpose.ROTATE_90).save(path, exif=exif)
    info = validate_file(path, "image", 10**8)
    assert (info.width, info.height, info.rotation) == (300, 400, 90)
    _upright(make_thumbnail(path, info), (320, 240))
    _upright(make_variant(path, 320), (320, 240))


@pytest.mark.parametrize("backend", ["library", "s3_library"])
def test_every_upload_path_takes_it(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> None:
    library: Library = request.getfixturevalue(backend)
    token = make_tokens(library).admin
    server = EmbeddedServer(library, config=server_config(library))
    server.start()
    try:
        ids = []
        for ext in ("jpg", "png", "webp"):
            direct = _with_exif(tmp_path / f"direct.{ext}", DAMAGED["cut_le"])
            ids.append(upload_file(server, token, direct)["id"])
            # another picture, not a duplicate of the one above
            told = _with_exif(tmp_path / f"tus.{ext}", DAMAGED["cut_magic"])
            sent = tus_upload(server.url, token, told.read_bytes(), {"filename": told.name})
            ids.append(sent["id"])
        for file_id in ids:
            record = http_call(f"{server.url}/files/{file_id}", headers=bearer(token)).json()
            assert record["status"] == "ready" and record["has_thumbnail"], record
            assert (record["width"], record["height"], record["rotation"]) == (400, 300, 0)
            thumb = http_call(f"{server.url}/files/{file_id}/thumbnail", headers=bearer(token))
            assert thumb.status == 200, thumb.body
            _upright(thumb.body, (320, 240))
            variant = http_call(f"{server.url}/stream/{file_id}/image?w=160", headers=bearer(token))
            assert variant.status == 200, variant.body
            _upright(variant.body, (160, 120))
    finally:
        server.stop()


@pytest.mark.parametrize("ext", ["png", "webp"])
def test_the_desktop_preview_shows_it(qtbot: Any, tmp_path: Path, ext: str) -> None:
    """The preview reads the orientation as core does: a cut block raised in its decode
    thread, and the preview never showed the photo."""
    from desktop_app.preview.image_viewer import ImageViewer

    path = _with_exif(tmp_path / f"photo.{ext}", DAMAGED["cut_le"])
    viewer = ImageViewer()
    qtbot.addWidget(viewer)
    viewer.resize(500, 400)
    viewer.show()
    with qtbot.waitSignal(viewer.loaded, timeout=20_000):
        viewer.load(str(path))
    image = viewer.image()
    assert (image.width(), image.height()) == (400, 300)
    red, blue = image.pixelColor(2, 2), image.pixelColor(397, 297)
    assert red.red() > 200 and red.green() < 60 and red.blue() < 60
    assert blue.blue() > 200 and blue.red() < 60 and blue.green() < 60
