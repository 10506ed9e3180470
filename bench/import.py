"""Benchmark: a bulk import of photos into a local library, against `cp` + plain Pillow thumbnails.

One run, one machine, side by side, the two taking turns going first (--rounds, medians):

- the reference, what a digiKam-style import does: `cp -r` of the folder into the collection,
  then a 320 px WebP thumbnail of each copy with plain Pillow (`thumbnail()` + WebP), on as
  many threads as MediaDesk's import uses;
- MediaDesk: the desktop's bulk import path, file by file on the desktop's worker count
  (desktop_app/controllers/upload_controller.py: `sniff_file`, then `Library.uploads.ingest`,
  which hashes, validates, stores with fsync, makes the thumbnail and catalogues the file);
- the SQLite pages MediaDesk writes a photo: a second, shorter import with another connection
  holding a read transaction, so the WAL is never checkpointed nor restarted and only grows;
  its growth in frames (a page and a 24-byte header each) divided by the photos.

The photos are JPEGs of a realistic size (4000 × 3000, a few MB: a smooth random texture,
each file made different by a comment segment), made by the script with Pillow.
`--slow-disk` (both again on a disk where each operation waits) says why it is skipped: no
latency tool here holds a SQLite catalog (SLOW_DISK_SKIPPED).

Run `nice .venv/bin/python bench/import.py [--count 300] [--workers 2] [--rounds 3] [--json]`.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import exit_on_sigterm, run_main, taking_turns  # noqa: E402
from core.library import Library  # noqa: E402
from core.mediatypes import sniff_file  # noqa: E402
from core.settings import load_settings  # noqa: E402

THUMBNAIL = 320
BASES = 8  # distinct encoded pictures; the files differ from one another by a comment
WAL_FRAME_HEADER = 24


def _texture(size: tuple[int, int], seed: int) -> Image.Image:
    """A smooth random picture: noise at 1/8 of the size, scaled up (a JPEG of a few MB at
    12 MP, where a flat test picture would be a few hundred KB)."""
    small = (max(size[0] // 8, 1), max(size[1] // 8, 1))
    bands = [Image.effect_noise(small, 40 + 10 * ((seed + i) % 4)) for i in range(3)]
    base = Image.merge("RGB", bands)
    gradient = Image.linear_gradient("L").resize(small).convert("RGB")
    return Image.blend(base, gradient, 0.3).resize(size, Image.Resampling.BICUBIC)


def _with_comment(jpeg: bytes, text: str) -> bytes:
    """The JPEG with a COM segment after its first segment (the EXIF stays first)."""
    first = 4 + int.from_bytes(jpeg[4:6], "big")  # SOI, then marker + length + body
    body = text.encode()
    segment = b"\xff\xfe" + (len(body) + 2).to_bytes(2, "big") + body
    return jpeg[:first] + segment + jpeg[first:]


def make_photos(folder: Path, count: int, size: tuple[int, int]) -> list[Path]:
    folder.mkdir(parents=True)
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "MediaDesk", "Bench 1"  # Make, Model
    encoded = []
    for seed in range(min(BASES, count)):
        out = io.BytesIO()
        _texture(size, seed).save(out, "JPEG", quality=90, exif=exif)
        encoded.append(out.getvalue())
    paths = []
    for i in range(count):
        path = folder / f"IMG_{i:04d}.jpg"
        path.write_bytes(_with_comment(encoded[i % len(encoded)], f"bench photo {i}"))
        paths.append(path)
    return paths


def plain_pillow(path: Path, target: Path) -> None:
    """What a developer would write by hand: open, thumbnail, save WebP."""
    with Image.open(path) as im:
        im.thumbnail((THUMBNAIL, THUMBNAIL))
        im.convert("RGB").save(target, "WEBP", quality=80)


def each(workers: int, fn: Callable[[Path], None], paths: list[Path]) -> None:
    """fn on every path, on `workers` threads. Stopped (SIGTERM, Ctrl-C), the paths not begun
    are dropped: a pool's `with` would wait for every queued photo before the cleanup ran."""
    pool = ThreadPoolExecutor(workers)
    try:
        list(pool.map(fn, paths))
    finally:
        pool.shutdown(cancel_futures=True)


def reference(photos: list[Path], collection: Path, workers: int) -> float:
    """Seconds of `cp -r` of the folder plus a thumbnail of each copy."""
    started = time.perf_counter()
    subprocess.run(["cp", "-r", str(photos[0].parent), str(collection)], check=True)
    thumbs = collection / ".thumbnails"
    thumbs.mkdir()
    copies = sorted(p for p in collection.iterdir() if p.suffix == ".jpg")
    each(workers, lambda p: plain_pillow(p, thumbs / f"{p.stem}.webp"), copies)
    return time.perf_counter() - started


def _library(data_dir: Path) -> Library:
    settings = load_settings(
        environ={}, config_file=data_dir / "settings.toml", data_dir=str(data_dir)
    )
    return Library.open(settings)


def _ingest(lib: Library, path: Path) -> None:
    media = sniff_file(path)
    lib.uploads.ingest(path, media.kind, original_filename=path.name)


def mediadesk(photos: list[Path], data_dir: Path, workers: int) -> float:
    """Seconds of the desktop's import of every photo (the library opened beforehand)."""
    lib = _library(data_dir)
    try:
        started = time.perf_counter()
        each(workers, lambda p: _ingest(lib, p), photos)
        seconds = time.perf_counter() - started
        imported = lib.counts()["image"]
        if imported != len(photos):  # a duplicate or a refusal would make the rate a lie
            raise SystemExit(f"{imported} of {len(photos)} photos were imported")
        return seconds
    finally:
        lib.close()


def pages_per_photo(photos: list[Path], data_dir: Path, workers: int) -> dict[str, float]:
    """WAL frames the import of `photos` appends, per photo, with the WAL held from resetting."""
    lib = _library(data_dir)
    catalog = Path(lib.settings.effective_database_url.split("///", 1)[1])
    wal = catalog.with_name(catalog.name + "-wal")
    reader = sqlite3.connect(catalog, isolation_level=None)
    try:
        page_size = int(reader.execute("PRAGMA page_size").fetchone()[0])
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM media_files").fetchone()  # holds the snapshot
        before = wal.stat().st_size if wal.exists() else 0
        each(workers, lambda p: _ingest(lib, p), photos)
        grown = wal.stat().st_size - before
        reader.execute("COMMIT")
    finally:
        reader.close()
        lib.close()
    frames = grown / (page_size + WAL_FRAME_HEADER)
    return {"page_size": page_size, "frames_per_photo": round(frames / len(photos), 1)}


# ---- --slow-disk -------------------------------------------------------------------------

SLOW_DISK_SKIPPED = (
    "--slow-disk skipped: no latency tool that holds a catalog here. The catalog refuses a FUSE "
    "folder whose daemon opens new files write-only (core/db/disk.py), and a read-write FUSE "
    "pass-through with a delay (fusepy) hung the import on this machine until the mount was "
    "aborted; dm-delay needs the kernel's device mapper, absent in this container"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--width", type=int, default=4000)
    parser.add_argument("--height", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=2, help="the desktop's max_parallel")
    parser.add_argument("--rounds", type=int, default=3, help="rounds taking turns; medians")
    parser.add_argument("--wal-count", type=int, default=50, help="photos of the WAL pass")
    parser.add_argument("--slow-disk", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    exit_on_sigterm()  # removes the GB-sized folder of photos and both libraries
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp_name:
        tmp = Path(tmp_name)
        started = time.perf_counter()
        photos = make_photos(tmp / "card", args.count, (args.width, args.height))
        made = time.perf_counter() - started
        megabytes = sum(p.stat().st_size for p in photos) / 1e6
        os.sync()  # no write-back of the photos competes with the measurements
        results: dict[str, object] = {
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "photos": args.count,
            "size": f"{args.width}x{args.height}",
            "mb_per_photo": round(megabytes / args.count, 2),
            "workers": args.workers,
            "cpus": os.cpu_count(),
            "load_average_before": [round(x, 2) for x in os.getloadavg()],
            "made_in_s": round(made, 1),
        }

        def ref_round() -> float:
            seconds = reference(photos, tmp / "collection", args.workers)
            shutil.rmtree(tmp / "collection")
            os.sync()  # no write-back of this side's files during the other side's turn
            return seconds

        def our_round() -> float:
            seconds = mediadesk(photos, tmp / "data", args.workers)
            shutil.rmtree(tmp / "data")
            os.sync()
            return seconds

        # taking turns (AB, BA...): run in one block each, the side that met the heavier load
        # of a shared machine looked slower
        refs, ours_runs = taking_turns(ref_round, our_round, args.rounds)
        ref, ours = statistics.median(refs), statistics.median(ours_runs)
        results["rounds"] = args.rounds
        results["reference_runs_photos_per_s"] = [round(args.count / t, 2) for t in refs]
        results["mediadesk_runs_photos_per_s"] = [round(args.count / t, 2) for t in ours_runs]
        results["reference_photos_per_s"] = round(args.count / ref, 2)
        results["mediadesk_photos_per_s"] = round(args.count / ours, 2)
        results["ratio"] = round(ref / ours, 2)  # MediaDesk's rate / the reference's
        results.update(pages_per_photo(photos[: args.wal_count], tmp / "wal", args.workers))
        results["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
        if args.slow_disk:
            print(SLOW_DISK_SKIPPED, file=sys.stderr)
            results["slow_disk"] = "skipped"
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(
        f"{args.count} JPEGs {results['size']} ({results['mb_per_photo']} MB each), "
        f"{args.workers} workers, {results['cpus']} CPUs, load average "
        f"{results['load_average_before']} -> {results['load_average_after']}"
    )
    print(
        f"  {args.rounds} rounds taking turns (AB, BA...); medians, each round's rate in brackets"
    )
    print(
        f"  cp -r + Pillow 320 px WebP : {results['reference_photos_per_s']:7.2f} photos/s  "
        f"{results['reference_runs_photos_per_s']}"
    )
    print(
        f"  MediaDesk import           : {results['mediadesk_photos_per_s']:7.2f} photos/s  "
        f"{results['mediadesk_runs_photos_per_s']}"
    )
    print(f"  ratio                      : {results['ratio']:7.2f}x the reference's rate")
    print(
        f"  SQLite WAL frames a photo  : {results['frames_per_photo']:7.1f} "
        f"({results['page_size']}-byte pages, {args.wal_count} photos)"
    )


if __name__ == "__main__":
    run_main(main)
