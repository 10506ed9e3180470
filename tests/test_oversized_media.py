"""Pictures too large to take are refused with their size, whatever the path and format.

A video whose frame is past what the highest level of H.264/HEVC/VP9/AV1 allows (35,651,584
samples, 8192 x 4352) or wider than 16,384 was accepted (an outside tester's 16000 x 16000 clip,
whose HLS job then failed three times); it is now corrupt_file, reason video_too_large, at
upload validation on every path, leaving nothing behind. An image Pillow itself refuses (above
twice the 100 MP limit, or above it under an "error" warnings filter) was told without its
width and height; every image_too_large now says them. Real clips made by PyAV, real HTTP over
loopback, the local folder and moto's S3 server."""

from __future__ import annotations

import base64
import io
import json
import struct
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import pytest
from PIL import Image

from core.errors import CorruptFile
from core.library import Library
from core.metadata import MAX_PIXELS, MAX_VIDEO_PIXELS, MAX_VIDEO_SIDE
from core.validation import validate_file
from server.entry import EmbeddedServer
from tests import media
from tests.internals import storage_of
from tests.server_fixtures import Reply, bearer, http_call, multipart_body, server_config

pytestmark = pytest.mark.timeout(120)

BIG = 10**9


def _clip(path: Path, width: int, height: int, codec: str = "libx264") -> Path:
    """A real one-frame clip of a flat picture (quick to encode at any size): H.264 in MP4 or
    VP9 in WebM."""
    container = "webm" if codec == "libvpx-vp9" else "mp4"
    with av.open(str(path), "w", format=container) as out:
        video = out.add_stream(codec, rate=25)
        assert isinstance(video, av.VideoStream)
        video.width, video.height = width, height
        video.pix_fmt = "yuv420p"
        video.options = {"preset": "ultrafast"} if codec == "libx264" else {"cpu-used": "8"}
        frame = av.VideoFrame(width, height, "yuv420p")
        for plane in frame.planes:
            plane.update(b"\x80" * plane.buffer_size)
        frame.pts = 0
        out.mux(video.encode(frame))
        out.mux(video.encode(None))
    return path


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("clips")
    return {
        "over_area": _clip(folder / "over.mp4", 8208, 4352),  # 16 columns past 8192 x 4352
        "at_area": _clip(folder / "at.mp4", 8192, 4352),
        "over_side": _clip(folder / "wide.webm", MAX_VIDEO_SIDE + 16, 64, "libvpx-vp9"),
        "at_side": _clip(folder / "at-side.webm", MAX_VIDEO_SIDE, 64, "libvpx-vp9"),
    }


def _assert_video_too_large(error: dict[str, Any], width: int, height: int) -> None:
    assert error["code"] == "corrupt_file", error
    assert error["reason"] == "video_too_large"
    assert error["details"] == {
        "width": width,
        "height": height,
        "max_pixels": MAX_VIDEO_PIXELS,
        "max_side": MAX_VIDEO_SIDE,
    }
    assert f"({width} × {height})" in error["message"]


@pytest.mark.parametrize(
    ("name", "size"), [("over_area", (8208, 4352)), ("over_side", (MAX_VIDEO_SIDE + 16, 64))]
)
def test_a_video_past_the_largest_picture_is_refused_with_its_size(
    clips: dict[str, Path], name: str, size: tuple[int, int]
) -> None:
    with pytest.raises(CorruptFile) as caught:
        validate_file(clips[name], "video", BIG)
    refusal = caught.value
    error = {
        "code": refusal.code,
        "reason": refusal.reason,
        "details": refusal.details,
        "message": refusal.message,
    }
    _assert_video_too_large(error, *size)


@pytest.mark.parametrize(("name", "size"), [("at_area", (8192, 4352)), ("at_side", (16384, 64))])
def test_a_video_at_the_limits_is_taken(
    clips: dict[str, Path], name: str, size: tuple[int, int]
) -> None:
    info = validate_file(clips[name], "video", BIG)
    assert (info.width, info.height) == size


@pytest.fixture(params=["local", "s3"])
def served(request: pytest.FixtureRequest, data_dir: Path) -> Iterator[tuple[Library, str, str]]:
    from tests.conftest import make_settings

    if request.param == "s3":
        lib = Library.open(request.getfixturevalue("s3_settings"))
    else:
        lib = Library.open(make_settings(data_dir, workers=0))
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    token = lib.tokens.create("uploader", "upload")[1]
    try:
        yield lib, server.url, token
    finally:
        server.stop()
        lib.close()


def _direct(url: str, token: str, data: bytes, kind: str, name: str) -> Reply:
    body, ctype = multipart_body(
        {"file_type": kind}, {"file": (name, data, "application/octet-stream")}
    )
    return http_call(
        f"{url}/files/upload/direct", "POST", body, {"Content-Type": ctype, **bearer(token)}
    )


def _presigned(url: str, token: str, data: bytes) -> Reply:
    ask = {"original_filename": "big.mp4", "file_type": "video", "content_type": "video/mp4"}
    grant = http_call(
        f"{url}/files/upload/presigned",
        "POST",
        json.dumps(ask).encode(),
        {**bearer(token), "Content-Type": "application/json"},
    )
    assert grant.status == 201, grant.body
    signed = grant.json()
    put = http_call(signed["upload_url"], "PUT", data, signed["headers"])
    assert put.status in (200, 201, 204), put.body
    return http_call(f"{url}/files/{signed['file_id']}/confirm-upload", "POST", b"", bearer(token))


def _tus(url: str, token: str, data: bytes) -> Reply:
    told = ",".join(
        f"{k} {base64.b64encode(v.encode()).decode()}"
        for k, v in {"filename": "big.mp4", "filetype": "video"}.items()
    )
    headers = {
        **bearer(token),
        "Tus-Resumable": "1.0.0",
        "Upload-Length": str(len(data)),
        "Upload-Metadata": told,
        "Content-Type": "application/offset+octet-stream",
    }
    return http_call(f"{url}/files/upload/tus", "POST", data, headers)


def _left_behind(lib: Library) -> list[str]:
    """Objects in the store (thumbnails included) and files in the folders uploads pass
    through: none once a refusal has been answered."""
    folders = [lib.paths.tmp_dir, lib.paths.data_dir / "uploads", lib.paths.objects_dir]
    files = [str(p) for folder in folders if folder.exists() for p in folder.rglob("*")]
    return [o.key for o in storage_of(lib).list_keys("")] + [
        f for f in files if not Path(f).is_dir()
    ]


@pytest.mark.parametrize("path", ["direct", "presigned", "tus"])
def test_every_upload_path_refuses_a_video_past_the_largest_picture(
    served: tuple[Library, str, str], clips: dict[str, Path], path: str
) -> None:
    lib, url, token = served
    data = clips["over_area"].read_bytes()
    if path == "direct":
        reply = _direct(url, token, data, "video", "big.mp4")
    elif path == "presigned":
        reply = _presigned(url, token, data)
    else:
        reply = _tus(url, token, data)
    assert reply.status == 400, reply.body
    _assert_video_too_large(reply.json()["error"], 8208, 4352)
    assert lib.list_files().total == 0
    assert _left_behind(lib) == []
    if path == "tus":
        gone = reply.headers.get("Location")
        assert gone is None or http_call(gone, "HEAD", None, bearer(token)).status in (404, 410)


# ---- images: the size of every image_too_large ------------------------------------------------
def _jpeg(width: int, height: int) -> bytes:
    """A small JPEG whose frame header says width x height, behind 200 KB of ICC profile
    segments (a camera's metadata before the frame header)."""
    out = io.BytesIO()
    Image.new("L", (16, 16)).save(out, "JPEG", icc_profile=b"\0" * 200_000)
    data = bytearray(out.getvalue())
    at = data.find(b"\xff\xc0")
    struct.pack_into(">HH", data, at + 5, height, width)
    return bytes(data)


def _webp(width: int, height: int, kind: str) -> bytes:
    """A 16 x 16 WebP whose header says width x height: lossy (VP8), lossless (VP8L) or
    extended (VP8X, here with EXIF)."""
    out = io.BytesIO()
    if kind == "VP8X":
        Image.new("RGB", (16, 16)).save(out, "WEBP", exif=b"Exif\0\0II*\0\x08\0\0\0\0\0")
    else:
        Image.new("RGB", (16, 16)).save(out, "WEBP", lossless=kind == "VP8L")
    data = bytearray(out.getvalue())
    assert data[12:16] == kind.ljust(4).encode()
    if kind == "VP8X":
        data[24:27], data[27:30] = (
            (width - 1).to_bytes(3, "little"),
            (height - 1).to_bytes(3, "little"),
        )
    elif kind == "VP8L":
        bits = int.from_bytes(data[21:25], "little") & ~((1 << 28) - 1)
        data[21:25] = (bits | (width - 1) | (height - 1) << 14).to_bytes(4, "little")
    else:
        struct.pack_into("<HH", data, 26, width, height)
    return bytes(data)


def _gif(screen: tuple[int, int], frame: tuple[int, int, int, int]) -> bytes:
    """A GIF by hand: its logical screen, a comment and a graphic control extension, then one
    1-pixel-of-data frame at (left, top) of (width, height)."""
    return (
        b"GIF89a"
        + struct.pack("<HHBBB", *screen, 0x80, 0, 0)
        + b"\0\0\0\xff\xff\xff"
        + b"!\xfe\x02hi\x00"
        + b"!\xf9\x04\x00\x00\x00\x00\x00"
        + b","
        + struct.pack("<HHHHB", *frame, 0)
        + b"\x02\x02\x4c\x01\x00;"
    )


@pytest.mark.parametrize(
    ("name", "make", "size"),
    [
        ("png", lambda p: media.make_png_bomb(p, 30000, 30000).read_bytes(), (30000, 30000)),
        ("jpeg", lambda p: _jpeg(16000, 15000), (16000, 15000)),
        ("webp-vp8", lambda p: _webp(16000, 15000, "VP8"), (16000, 15000)),
        ("webp-vp8l", lambda p: _webp(16000, 15000, "VP8L"), (16000, 15000)),
        ("webp-vp8x", lambda p: _webp(16000, 15000, "VP8X"), (16000, 15000)),
        ("gif-screen", lambda p: _gif((16000, 15000), (0, 0, 16, 16)), (16000, 15000)),
        # Pillow grows the image to a first frame reaching past the screen, and refuses that
        ("gif-frame", lambda p: _gif((16, 16), (5, 7, 16000, 15000)), (16005, 15007)),
    ],
)
def test_an_image_pillow_refuses_itself_is_told_with_its_size(
    tmp_path: Path, name: str, make: Any, size: tuple[int, int]
) -> None:
    path = tmp_path / f"bomb.{name}"
    path.write_bytes(make(path))
    with pytest.raises(CorruptFile) as caught:
        validate_file(path, "image", BIG)
    width, height = size
    assert caught.value.reason == "image_too_large"
    assert caught.value.details == {"width": width, "height": height, "max_pixels": MAX_PIXELS}
    assert caught.value.message == f"The image is larger than 100 megapixels ({width} × {height})"


def test_a_refusal_raised_as_a_warning_is_told_with_its_size(tmp_path: Path) -> None:
    """120 MP, under a filter that makes Pillow's DecompressionBombWarning an error (pytest's
    -W error, an embedding application's): Image.open raises it before the size is known."""
    bomb = media.make_png_bomb(tmp_path / "big.png", 12_000, 10_000)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with pytest.raises(CorruptFile) as caught:
            validate_file(bomb, "image", BIG)
    assert caught.value.details == {"width": 12_000, "height": 10_000, "max_pixels": MAX_PIXELS}


def test_the_testers_900_mp_png_is_answered_with_its_size(
    served: tuple[Library, str, str], tmp_path: Path
) -> None:
    """bombdetails.py: a 30000 x 30000 PNG over HTTP answered details {max_pixels} only."""
    lib, url, token = served
    bomb = media.make_png_bomb(tmp_path / "bomb.png", 30000, 30000).read_bytes()
    reply = _direct(url, token, bomb, "image", "bomb.png")
    assert reply.status == 400, reply.body
    error = reply.json()["error"]
    assert (error["code"], error["reason"]) == ("corrupt_file", "image_too_large")
    assert error["details"] == {"width": 30000, "height": 30000, "max_pixels": MAX_PIXELS}
    assert error["message"] == "The image is larger than 100 megapixels (30000 × 30000)"
    assert _left_behind(lib) == []


def test_the_api_document_names_both_reasons(served: tuple[Library, str, str]) -> None:
    _, url, _ = served
    spec = http_call(f"{url}/openapi.json").json()
    described = spec["components"]["schemas"]["Error"]["properties"]["error"]["properties"]
    codes = described["code"]["description"]
    assert "image_too_large" in codes and "video_too_large" in codes
    assert f"{MAX_VIDEO_PIXELS:,}" in codes
