"""Benchmark: MediaDesk's image thumbnail path against plain Pillow on the same JPEGs.

The two take turns, --rounds rounds of --count files each, the order swapped every round (run
once each, MediaDesk always first, three runs gave 0.54x, 0.79x and 1.03x). Prints the median
milliseconds per thumbnail of each and the ratio of the medians (MediaDesk / Pillow); run with
`.venv/bin/python bench/thumbnails.py [--megapixels 24] [--count 5] [--rounds 5]`.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from statistics import median

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import alternating, exit_on_sigterm, run_main  # noqa: E402
from core.thumbnails import make_thumbnail  # noqa: E402
from tests.media import make_jpeg  # noqa: E402


def plain_pillow(path: Path, size: int = 320) -> bytes:
    """What a developer would write by hand: open, thumbnail, save WebP."""
    with Image.open(path) as im:
        im.thumbnail((size, size))
        out = io.BytesIO()
        im.convert("RGB").save(out, "WEBP", quality=80)
        return out.getvalue()


def per_file(fn: Callable[[Path], object], paths: list[Path]) -> Callable[[], None]:
    """One round: fn on every path."""

    def round_() -> None:
        for path in paths:
            fn(path)

    return round_


def rounded(values: list[float]) -> str:
    return ", ".join(f"{v:.1f}" for v in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--megapixels", type=float, default=24)
    parser.add_argument("--count", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds of each")
    args = parser.parse_args()
    if args.count < 1 or args.rounds < 1:
        parser.error("--count and --rounds must be at least 1")
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
        ours_s, ref_s = alternating(
            per_file(lambda p: make_thumbnail(p, "image/jpeg"), paths),
            per_file(plain_pillow, paths),
            args.rounds,
        )
    ours = [s / args.count * 1000 for s in ours_s]
    ref = [s / args.count * 1000 for s in ref_s]
    print(
        f"{width}x{height} JPEG -> 320 px WebP thumbnail, {args.count} files, "
        f"{args.rounds} rounds taking turns"
    )
    print(f"  plain Pillow : {median(ref):8.1f} ms/file (median; rounds {rounded(ref)})")
    print(
        f"  MediaDesk    : {median(ours):8.1f} ms/file (median; rounds {rounded(ours)}; "
        "EXIF orientation applied)"
    )
    print(f"  ratio        : {median(ours) / median(ref):8.2f}x the time of plain Pillow (medians)")


if __name__ == "__main__":
    run_main(main)
