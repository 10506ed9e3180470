"""Benchmark: paging a 100,000-file catalog through the library against raw sqlite3.

The desktop grid asks for one page at a time (limit 100); this measures that query, with its
total count, at the start, middle and end of the catalog, against the same two statements
(COUNT and SELECT ... LIMIT/OFFSET) in plain sqlite3 returning tuples.
Run `.venv/bin/python bench/catalog.py [--files 100000]`.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.library import Library  # noqa: E402
from core.records import FileQuery  # noqa: E402
from core.settings import load_settings  # noqa: E402

RAW_COUNT = "SELECT count(*) FROM media_files WHERE deleted_at IS NULL AND status = 'ready'"
RAW = (
    "SELECT * FROM media_files WHERE deleted_at IS NULL AND status = 'ready' "
    "ORDER BY created_at DESC, id DESC LIMIT 100 OFFSET ?"
)


def fill(db_file: Path, count: int) -> None:
    start = datetime(2020, 1, 1, tzinfo=UTC)
    rows = [
        (
            f"general/2020/01/{i:032x}.jpg",
            f"photo-{i}.jpg",
            "image/jpeg",
            "image",
            1000 + i,
            f"{i:064x}",
            "{}",
            0,
            "",
            "ready",
            0,
            (start + timedelta(seconds=i)).isoformat(" "),
            (start + timedelta(seconds=i)).isoformat(" "),
            1,
        )
        for i in range(count)
    ]
    with sqlite3.connect(db_file) as conn:
        conn.executemany(
            "INSERT INTO media_files (storage_key, original_filename, content_type, file_type, "
            "size, sha256, extra, is_public, description, status, has_thumbnail, created_at, "
            "updated_at, version) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )


def best(fn, rounds: int = 5) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(environ={}, config_file=Path(tmp) / "none.toml", data_dir=tmp)
        lib = Library.open(settings)
        fill(settings.paths.database_file, args.files)
        raw = sqlite3.connect(settings.paths.database_file)
        print(f"{args.files} files; one page of 100, newest first")
        for label, offset in (
            ("first page", 0),
            ("middle", args.files // 2),
            ("last page", args.files - 100),
        ):
            ours = best(lambda o=offset: lib.list_files(FileQuery(limit=100, offset=o)))
            ref = best(
                lambda o=offset: (
                    raw.execute(RAW_COUNT).fetchone(),
                    raw.execute(RAW, (o,)).fetchall(),
                )
            )
            print(
                f"  {label:10}  MediaDesk {ours:7.2f} ms   raw sqlite3 {ref:7.2f} ms   "
                f"ratio {ours / ref:5.2f}x"
            )
        raw.close()
        lib.close()


if __name__ == "__main__":
    main()
