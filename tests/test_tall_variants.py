"""A `?w=` variant of a very tall photo is served narrower, never refused as damaged.

A WebP is at most 16,383 pixels on a side. A phone's vertical panorama (3000 x 20000, 60 MP,
accepted) asked at w=2560 or 3840 would be 17,067 or 20,000 high: the encoder refused it and
the answer was 400 corrupt_file "The image is damaged or cut short" (found by an outside
tester); a 1-pixel-wide strip 20,000 high (served at its own width) failed at every w. Now such a
variant fits in 16,383 rows, narrower than asked, and X-MediaDesk-Width and Content-Location say
the width served, as README says. Real files, the real thumbnailer, real HTTP over loopback on
both storage backends.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from core.library import Library
from core.thumbnails import WEBP_MAX_SIDE, make_variant, variant_width
from server.entry import EmbeddedServer
from tests.server_fixtures import (
    Reply,
    bearer,
    http_call,
    make_tokens,
    server_config,
    upload_file,
)

pytestmark = pytest.mark.timeout(120)


def _tall(path: Path, size: tuple[int, int] = (300, 20000), orientation: int = 1) -> Path:
    """A picture `size` as shown, red at its top, blue at its bottom; stored turned a quarter
    (orientation 6) when asked."""
    im = Image.new("RGB", size, (40, 150, 60))
    draw = ImageDraw.Draw(im)
    draw.rectangle((0, 0, size[0], 499), fill=(255, 0, 0))
    draw.rectangle((0, size[1] - 500, size[0], size[1]), fill=(0, 0, 255))
    if orientation == 6:
        exif = Image.Exif()
        exif[0x0112] = 6
        im.transpose(Image.Transpose.ROTATE_90).save(path, exif=exif)
    else:
        im.save(path)
    return path


def _webp(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    assert im.format == "WEBP"
    im.load()
    return im


def _upright_tall(im: Image.Image) -> None:
    assert im.height <= WEBP_MAX_SIDE
    rgb = im.convert("RGB")
    top, bottom = rgb.getpixel((0, 5)), rgb.getpixel((0, im.height - 5))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert top[0] > 200 and top[2] < 60, top
    assert bottom[2] > 200 and bottom[0] < 60, bottom


@pytest.mark.parametrize("orientation", [1, 6])
def test_a_variant_taller_than_a_webp_can_be_is_made_narrower(
    tmp_path: Path, orientation: int
) -> None:
    path = _tall(tmp_path / "tall.png", orientation=orientation)
    served = variant_width(480, (300, 20000))  # its own width 300 is 20000 high: too tall
    assert served < 300
    im = _webp(make_variant(path, served))
    assert im.width == served
    _upright_tall(im)
    assert variant_width(160, (300, 20000)) == 160  # 10667 high: as asked


def _get(url: str, token: str) -> Reply:
    reply = http_call(url, headers=bearer(token))
    assert reply.status == 200, reply.body
    return reply


@pytest.mark.parametrize("backend", ["library", "s3_library"])
def test_over_http(request: pytest.FixtureRequest, tmp_path: Path, backend: str) -> None:
    library: Library = request.getfixturevalue(backend)
    token = make_tokens(library).admin
    server = EmbeddedServer(library, config=server_config(library))
    server.start()
    try:
        panorama = upload_file(server, token, _tall(tmp_path / "panorama.jpg"))["id"]
        strip = upload_file(server, token, _tall(tmp_path / "strip.png", (1, 20000)))["id"]
        for file_id, asked in ((panorama, 480), (panorama, 3840), (strip, 320)):
            reply = _get(f"{server.url}/stream/{file_id}/image?w={asked}", token)
            im = _webp(reply.body)
            _upright_tall(im)
            assert int(reply.headers["X-MediaDesk-Width"]) == im.width
            location = reply.headers["Content-Location"]
            assert location == f"/stream/{file_id}/image?w={im.width}"
            assert _get(f"{server.url}{location}", token).body == reply.body
    finally:
        server.stop()
