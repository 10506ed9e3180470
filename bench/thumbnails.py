"""Benchmark: MediaDesk's image thumbnail path against plain Pillow on the same JPEGs.

Prints milliseconds per thumbnail and the ratio (MediaDesk / Pillow); run with
`.venv/bin/python bench/thumbnails.py [--megapixels 24] [--count 5]`.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import exit_on_sigterm  # noqa: E402
from core.thumbnails import make_thumbnail  # noqa: E402
from tests.media import make_jpeg  # noqa: E402


def plain_pillow(path: Path, size: int = 320) -> bytes:
    """What a developer would write by hand: open, thumbnail, save WebP."""
    with Image.open(path) as im:
        im.thumbnail((size, size))
        out = io.BytesIO()
        im.convert("RGB").save(out, "WEBP", quality=80)
        return out.getvalue()


def timed(fn, paths: list[Path]) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    for path in paths:
        fn(path)
    return (time.perf_counter() - start) / len(paths) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--megapixels", type=float, default=24)
    parser.add_argument("--count", type=int, default=5)
    args = parser.parse_args()
    exit_on_sigterm()
    width = int((args.megapixels * 1e6 * 3 / 2) ** 0.5)
    height = int(width * 2 / 3)
    with tempfile.TemporaryDirectory() as tmp:
        paths = [
            make_jpeg(Path(tmp) / f"p{i}.jpg", size=(width, height), exif_orientation=6)
            for i in range(args.count)
        ]
        plain_pillow(paths[0])
        make_thumbnail(paths[0], "image/jpeg")  # warm both up
        ours = timed(lambda p: make_thumbnail(p, "image/jpeg"), paths)
        ref = timed(plain_pillow, paths)
    print(f"{width}x{height} JPEG -> 320 px WebP thumbnail, {args.count} files")
    print(f"  plain Pillow : {ref:8.1f} ms/file")
    print(f"  MediaDesk    : {ours:8.1f} ms/file (EXIF orientation applied)")
    print(f"  ratio        : {ours / ref:8.2f}x the time of plain Pillow")


if __name__ == "__main__":
    main()
