"""Decoding holds what the decode budget is charged, and no more than the budget at once.

An outside tester's 16000 x 6000 WebP (96 MP, under the 100 MP limit) raised the server's peak
memory from 117 MB to 1588 MB on upload, against README's 512 MiB of decoded pixels: Pillow's
WebP reader holds four copies of the picture (16 bytes a pixel) and the budget counted 3.
Every decode is now charged what it really holds (core.images: one home for the cost), still
WebPs are decoded by FFmpeg (1.5 bytes a pixel for a lossy one) and fitted a band at a time,
and the kinds that would still cost more than the whole budget are refused at upload with
their limit. Memory is measured in a child process (tests/decode_memory_child.py): the peak
resident memory (Linux's VmHWM, reset before each measure) above what it was before, beside
what the budget was charged. A measure, not a timing: each assertion is a bound.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from core.errors import CorruptFile
from core.images import MAX_ANIMATED_PIXELS, MAX_WEBP_ALPHA_PIXELS
from core.validation import validate_file

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.skipif(
        not os.access("/proc/self/clear_refs", os.W_OK), reason="measures Linux's VmHWM"
    ),
]

ROOT = Path(__file__).resolve().parent.parent


def _child(*args: str) -> object:
    done = subprocess.run(
        [sys.executable, "-m", "tests.decode_memory_child", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=100,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


def _photo(size: tuple[int, int]) -> Image.Image:
    """Smooth tones with a coarse grain: a photo's content, quick to make at any size."""
    tones = Image.linear_gradient("L").resize(size)
    grain = Image.effect_noise((size[0] // 16, size[1] // 16), 50).resize(size)
    return Image.merge("RGB", [tones, grain, tones.transpose(Image.Transpose.FLIP_LEFT_RIGHT)])


def test_a_big_webp_checked_thumbnailed_and_resized_at_once_stays_within_the_budget(
    tmp_path: Path,
) -> None:
    """The tester's case, smaller: a 6 MP lossy WebP (as small as shows it: Pillow's reader
    held 92 MiB of it where the budget counted 17) checked as an upload, its thumbnail and two
    ?w= variants made, all four at once, under a 40 MiB budget. Before: 188 MiB at the peak."""
    path = tmp_path / "big.webp"
    _photo((3000, 2000)).save(path, "WEBP", quality=50, method=0)  # method 0: written fast
    measured = _child("together", "40", str(path))
    assert isinstance(measured, dict)
    # the budget, and a fixed overhead: the interpreter's and the codecs' own, the bands
    assert measured["grew"] <= 40 + 12, measured


def _made(folder: Path, kind: str) -> Path:
    photo = _photo((2400, 1600))
    clear = photo.copy()
    clear.putalpha(Image.radial_gradient("L").resize(photo.size))
    turned = photo.transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    made: dict[str, tuple[Image.Image, dict[str, Any]]] = {
        "lossy.webp": (photo, {"quality": 50, "method": 0}),
        "lossless.webp": (photo, {"lossless": True, "quality": 0, "method": 0}),
        "transparent.webp": (clear, {"quality": 50, "method": 0}),
        "animated.webp": (photo, {"save_all": True, "append_images": [turned], "method": 0}),
        "rgba.png": (clear, {"compress_level": 1}),
        "palette.png": (photo.convert("P"), {"compress_level": 1}),
        "grey16.png": (photo.convert("L").convert("I").point(lambda v: v * 256), {}),
        "animated.gif": (photo.convert("P"), {"save_all": True, "append_images": [turned]}),
        "progressive.jpg": (photo, {"quality": 80, "progressive": True}),
    }
    image, options = made[kind]
    if kind == "grey16.png":
        image = image.convert("I;16")
    path = folder / kind
    image.save(path, **options)
    return path


@pytest.mark.parametrize(
    "kind",
    [
        "lossy.webp",  # Pillow: 16 bytes a pixel, charged 3
        "lossless.webp",
        "transparent.webp",
        "animated.webp",
        "rgba.png",  # a premultiplied copy of the whole photo for its resize
        "palette.png",  # an RGB copy of the whole photo
        "grey16.png",  # 32-bit and 8-bit copies of the whole photo
        "animated.gif",  # its last frame: RGB, the frame before it, ...; charged 1 a pixel
        "progressive.jpg",  # its coefficients, whole whatever the draft; charged 1/64
    ],
)
def test_each_decode_is_charged_what_it_holds(tmp_path: Path, kind: str) -> None:
    """An upload's check, the thumbnail and two ?w= variants (one resized straight, one
    reduced first) of a 3.8 MP image, one at a time: none holds more than it was charged."""
    steps = _child("each", str(_made(tmp_path, kind)))
    assert isinstance(steps, list) and len(steps) == 4
    for step in steps:
        # a page here and there: Python's own, the encoder's output
        assert step["grew"] <= step["charged"] * 1.05 + 3, steps


# ---- the kinds refused at upload: past the budget by themselves -------------------------------
def _gif(screen: tuple[int, int]) -> bytes:
    """An animated GIF by hand: a big logical screen (Pillow's image size), two 1-pixel
    frames."""
    frame = b"!\xf9\x04\x00\x0a\x00\x00\x00," + bytes(8) + b"\x00\x02\x02\x4c\x01\x00"
    return (
        b"GIF89a"
        + screen[0].to_bytes(2, "little")
        + screen[1].to_bytes(2, "little")
        + b"\x80\x00\x00\x00\x00\x00\xff\xff\xff"
        + b"!\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
        + frame
        + frame
        + b";"
    )


def _animated_webp(canvas: tuple[int, int]) -> bytes:
    """A 16 x 16 animation (two frames) on a canvas of `canvas`: frames smaller than their
    canvas are valid, and Pillow's image is the canvas."""
    out = io.BytesIO()
    frames = [Image.new("RGB", (16, 16), colour) for colour in ("red", "blue")]
    frames[0].save(out, "WEBP", save_all=True, append_images=frames[1:], duration=100)
    data = bytearray(out.getvalue())
    assert data[12:16] == b"VP8X"
    data[24:27] = (canvas[0] - 1).to_bytes(3, "little")
    data[27:30] = (canvas[1] - 1).to_bytes(3, "little")
    return bytes(data)


def _transparent_webp(size: tuple[int, int]) -> bytes:
    """A lossless WebP with transparency whose header says `size` (16 x 16 of data):
    refused before anything is decoded."""
    out = io.BytesIO()
    Image.new("RGBA", (16, 16), (0, 0, 0, 100)).save(out, "WEBP", lossless=True)
    data = bytearray(out.getvalue())
    assert data[12:16] == b"VP8L" and data[24] & 0x10  # 'alpha is used'
    bits = int.from_bytes(data[21:25], "little") & ~((1 << 28) - 1)
    data[21:25] = (bits | (size[0] - 1) | (size[1] - 1) << 14).to_bytes(4, "little")
    return bytes(data)


@pytest.mark.parametrize(
    ("name", "data", "size", "limit", "what"),
    [
        ("anim.gif", _gif((8200, 4100)), (8200, 4100), MAX_ANIMATED_PIXELS, "animated image"),
        (
            "anim.webp",
            _animated_webp((8200, 4100)),
            (8200, 4100),
            MAX_ANIMATED_PIXELS,
            "animated image",
        ),
        (
            "clear.webp",
            _transparent_webp((8200, 8200)),
            (8200, 8200),
            MAX_WEBP_ALPHA_PIXELS,
            "WebP image with transparency",
        ),
    ],
    ids=["animated-gif", "animated-webp", "transparent-webp"],
)
def test_an_image_past_the_budget_by_itself_is_refused_with_its_limit(
    tmp_path: Path, name: str, data: bytes, size: tuple[int, int], limit: int, what: str
) -> None:
    """An animation decodes at 16 bytes a canvas pixel (33,554,432 pixels fill the 512 MiB
    budget), a WebP with transparency at up to 8 (67,108,864): past that, image_too_large
    says its size and the limit of its kind, as a bomb past 100 MP does."""
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(CorruptFile) as caught:
        validate_file(path, "image", 10**9)
    width, height = size
    assert caught.value.reason == "image_too_large"
    assert caught.value.details == {"width": width, "height": height, "max_pixels": limit}
    megapixels = limit // 1_000_000
    assert caught.value.message == (
        f"The {what} is larger than {megapixels} megapixels ({width} × {height})"
    )


def test_the_limits_are_those_the_readme_names() -> None:
    assert (MAX_ANIMATED_PIXELS, MAX_WEBP_ALPHA_PIXELS) == (8192 * 4096, 8192 * 8192)
