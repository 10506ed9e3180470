"""A JPEG cut inside its scan data with other bytes after the cut is refused as damaged
(corrupt_file, image_damaged) on every path: validate_file, the desktop's and the CLI's
ingest, a direct upload over HTTP. libjpeg takes such data as a warning Pillow never reports,
and the photo entered the library with grey blocks whenever libjpeg met an EOI marker in the
appended bytes (6 of the 96 cuts below). Bytes after a whole JPEG's EOI (a phone's
appended data, an MPO's gain map) are still accepted.

The cuts are deterministic: Pillow's encoder and seeded random bytes."""

from __future__ import annotations

import io
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from core.errors import CorruptFile
from core.library import Library
from core.validation import validate_file
from core.validation_jpeg import JpegDamaged, jpeg_layout
from server.entry import EmbeddedServer
from tests.conftest import make_settings
from tests.server_fixtures import Tokens, bearer, http_call, multipart_body, upload_file

BIG = 50 * 1024 * 1024
SEEDS = range(12)
CUTS = (0.3, 0.5, 0.7, 0.9)


def _jpeg(seed: int, **options: object) -> bytes:
    """A 320 × 240 JPEG of seeded noise (every block holds data to damage)."""
    rng = random.Random(seed)
    picture = Image.frombytes("RGB", (320, 240), rng.randbytes(320 * 240 * 3))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=90, **options)
    return out.getvalue()


def _cut_and_padded(data: bytes, seed: int, keep: float) -> bytes:
    """`data` cut after `keep` of its bytes, random bytes (10 B to 5 KB) after the cut."""
    rng = random.Random(seed * 1000 + int(keep * 100))
    return data[: int(len(data) * keep)] + rng.randbytes(rng.randint(10, 5000))


@pytest.mark.parametrize("progressive", [False, True], ids=["baseline", "progressive"])
def test_a_jpeg_cut_in_its_scan_with_bytes_after_is_refused(
    tmp_path: Path, progressive: bool
) -> None:
    accepted = []
    for seed in SEEDS:
        data = _jpeg(seed, progressive=progressive)
        for keep in CUTS:
            path = tmp_path / f"cut-{seed}-{keep}.jpg"
            path.write_bytes(_cut_and_padded(data, seed, keep))
            try:
                validate_file(path, "image", BIG)
            except CorruptFile as refused:
                assert (refused.message, refused.reason) == (
                    "The image is damaged or cut short",
                    "image_damaged",
                )
            else:
                accepted.append((seed, keep))
    assert accepted == []  # before: 4 of the 48 baseline cuts, 2 of the progressive


def test_bytes_after_a_whole_jpegs_end_are_accepted(tmp_path: Path) -> None:
    """A phone's or camera's appended data after the EOI marker, markers and all."""
    data = _jpeg(1)
    rng = random.Random(1)
    trailers = {
        "random": rng.randbytes(5000),
        "markers": b"\xff\xd8\xff\xe1\x00\x10junk\xff\xd9" + rng.randbytes(300),
        "zeros": bytes(4096),
        "second picture": _jpeg(2),
    }
    for name, trailer in trailers.items():
        path = tmp_path / f"{name}.jpg"
        path.write_bytes(data + trailer)
        info = validate_file(path, "image", BIG)
        assert (info.mime, info.width, info.height) == ("image/jpeg", 320, 240), name
    mpo = tmp_path / "ultrahdr.jpg"  # a gain map after the photo, said in its MPF index
    Image.frombytes("RGB", (320, 240), rng.randbytes(320 * 240 * 3)).save(
        mpo, "MPO", save_all=True, append_images=[Image.new("RGB", (160, 120))]
    )
    assert validate_file(mpo, "image", BIG).extra["format"] == "MPO"


def test_a_jpeg_without_its_end_or_cut_between_scans_is_refused(tmp_path: Path) -> None:
    progressive = _jpeg(3, progressive=True)
    second_scan = progressive.find(b"\xff\xda", progressive.find(b"\xff\xda") + 2)
    for name, data in {
        "no EOI": _jpeg(3)[:-2],
        "cut between scans": progressive[:second_scan],
    }.items():
        with pytest.raises(JpegDamaged, match="truncated"):
            jpeg_layout(data)
        path = tmp_path / "cut.jpg"
        path.write_bytes(data)
        with pytest.raises(CorruptFile):
            validate_file(path, "image", BIG)
        assert name


@pytest.fixture
def lib(tmp_path: Path) -> Iterator[Library]:
    library = Library.open(make_settings(tmp_path / "data"))
    yield library
    library.close()


def _damaged(tmp_path: Path) -> Path:
    """A cut JPEG that libjpeg (Pillow) decoded without an error: seed 0, cut at 30 %."""
    path = tmp_path / "IMG_0001.jpg"
    path.write_bytes(_cut_and_padded(_jpeg(0), 0, 0.3))
    return path


def test_the_desktop_and_cli_ingest_refuses_it(tmp_path: Path, lib: Library) -> None:
    with pytest.raises(CorruptFile) as refused:
        lib.uploads.ingest(_damaged(tmp_path), "image")
    assert refused.value.reason == "image_damaged"
    assert lib.list_files().total == 0


def test_a_direct_upload_of_it_is_refused(
    tmp_path: Path, live: EmbeddedServer, tokens: Tokens
) -> None:
    damaged = _damaged(tmp_path)
    body, ctype = multipart_body(
        {"file_type": "image"}, {"file": (damaged.name, damaged.read_bytes(), "image/jpeg")}
    )
    reply = http_call(
        f"{live.url}/files/upload/direct",
        "POST",
        body,
        {**bearer(tokens.upload), "Content-Type": ctype},
    )
    assert reply.status == 400, reply.body
    error = reply.json()["error"]
    assert (error["code"], error["reason"]) == ("corrupt_file", "image_damaged")
    whole = tmp_path / "whole.jpg"
    whole.write_bytes(_jpeg(0) + b"\x00maker trailer\xff\xd9")
    assert upload_file(live, tokens.upload, whole)["status"] == "ready"
