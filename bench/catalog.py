"""Benchmark: paging, sorting and searching a large catalog, in-process and through HTTP.

`--mode library` (default) times one grid page (limit 100, with its total) through the library
at the start, middle and end of the catalog, against the same COUNT + SELECT … LIMIT/OFFSET in
plain sqlite3 returning tuples.

`--mode http` starts the real server on a loopback port and reports the p50/p95 of
`GET /files/?…` over one keep-alive connection for every sort (first page and a page at the end
through `?cursor=`), searches (a rare and a common substring, an athlete's name, a one-letter
term that finds nothing), a filter, the Trash (a tenth as many files again, trashed) and the
old `?offset=` at the end; the reference is the query people write without an index (plain
sqlite3 `LIKE '%…%'` over name and description, the same COUNT + LIMIT).

Run `.venv/bin/python bench/catalog.py [--files 1000000] [--mode http]`. Filling a million
rows (FTS5 index included) takes a few minutes; `--keep DIR` reuses a filled folder.
"""

from __future__ import annotations

import argparse
import functools
import http.client
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import dev_packages, exit_on_sigterm, run_main  # noqa: E402
from core.catalog import _encode_cursor  # noqa: E402
from core.library import Library  # noqa: E402
from core.natsort import name_sort_key  # noqa: E402
from core.records import FileQuery  # noqa: E402
from core.settings import load_settings  # noqa: E402
from core.text import folded  # noqa: E402

with dev_packages():
    from tests.resumable_client import ServeProcess, free_port  # noqa: E402

RAW_COUNT = "SELECT count(*) FROM media_files WHERE deleted_at IS NULL AND status = 'ready'"
RAW = (
    "SELECT * FROM media_files WHERE deleted_at IS NULL AND status = 'ready' "
    "ORDER BY created_at DESC, id DESC LIMIT 100 OFFSET ?"
)
WORDS = [
    "jump",
    "sprint",
    "relay",
    "final",
    "heat",
    "podium",
    "training",
    "warmup",
    "dunk",
    "goal",
    "save",
    "tackle",
    "serve",
    "volley",
    "smash",
    "dive",
    "start",
    "finish",
    "lap",
    "medal",
    "interview",
    "portrait",
    "team",
    "huddle",
]
ATHLETES = 200
RARE, COMMON = "-12345.", "jump"  # the terms of the LIKE references (http mode)
TRASHED_SHARE = 10  # a tenth as many files again in the trash


def stored_date(moment: datetime) -> str:
    """A date as the catalog stores it (SQLAlchemy's SQLite text, UTC): another spelling of the
    same moment ("…+00:00") sorts differently from what the server binds, and a cursor page
    would repeat the cursor's row."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def fill(db_file: Path, count: int, trashed: int = 0) -> None:
    """Rows as ingest writes them, in bulk (executemany in batches; triggers keep the FTS):
    `count` files, then `trashed` more in the trash (the listing's total stays `count`)."""
    rng = random.Random(7)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    conn = sqlite3.connect(db_file)
    conn.execute("PRAGMA synchronous=OFF")
    conn.executemany(
        "INSERT INTO athletes (id, name, search_name, created_at) VALUES (?, ?, ?, ?)",
        [
            (i, name, folded(name), stored_date(start))
            for i in range(1, ATHLETES + 1)
            for name in [f"Athlete {i:03d} {rng.choice(WORDS).title()}"]
        ],
    )
    batch = 50_000
    for first in range(0, count + trashed, batch):
        rows = []
        for i in range(first, min(count + trashed, first + batch)):
            video = i % 4 == 0
            when = stored_date(start + timedelta(seconds=i * 30))
            name = f"{rng.choice(WORDS)}-{rng.choice(WORDS)}-{i}.{'mp4' if video else 'jpg'}"
            row = (
                f"general/2020/01/{i:032x}.{'mp4' if video else 'jpg'}",
                name,
                name_sort_key(name),  # raw INSERTs skip the ORM event that fills it
                "video/mp4" if video else "image/jpeg",
                "video" if video else "image",
                rng.randint(10_000, 90_000_000),
                f"{i:064x}",
                rng.uniform(1, 600) if video else None,
                "{}",
                rng.choice((0, 0, 0, 1)),
                f"{rng.choice(WORDS)} {rng.choice(WORDS)}" if i % 5 == 0 else "",
                "ready",
                1,
                rng.randint(1, ATHLETES) if i % 3 else None,
                when,
                when,
                1,
            )
            # shot up to 5 days before the upload, in another order than the ids (no draw from
            # rng: the other columns stay as they were); raw INSERTs skip the ORM event
            taken = stored_date(start + timedelta(seconds=i * 30 - (i * 7919) % 432_000))
            # ...nor the folds a search compares (core.text.folded): the name's, the description's
            # the trash's files were trashed a day after their upload, newest last
            gone = stored_date(start + timedelta(seconds=i * 30 + 86_400)) if i >= count else None
            rows.append((*row, folded(name), folded(row[10]), taken, gone))
        conn.executemany(
            "INSERT INTO media_files (storage_key, original_filename, name_sort, content_type, "
            "file_type, size, sha256, duration, extra, is_public, description, status, "
            "has_thumbnail, athlete_id, created_at, updated_at, version, search_name, "
            "search_description, captured_at, deleted_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
        conn.commit()
        print(f"  filled {min(count + trashed, first + batch):,} rows", file=sys.stderr, flush=True)
    # no ANALYZE: MediaDesk never runs it, so the planner works without statistics here too
    conn.close()


def timed(fn: Callable[[], object], rounds: int) -> list[float]:
    """Milliseconds of each of `rounds` calls, fastest first: min() is the best run, spread()
    the p50 and p95."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)


def spread(times: list[float]) -> tuple[float, float]:
    """p50 and p95 of timed()'s milliseconds."""
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))]


def open_library(folder: Path) -> Library:
    # no hourly store listing (a pass over every row and object) during the measurements
    settings = load_settings(
        environ={"MEDIADESK_USAGE_SCAN_INTERVAL": "0"},
        config_file=folder / "none.toml",
        data_dir=str(folder),
    )
    return Library.open(settings)


def library_mode(lib: Library, files: int, db_file: Path) -> None:
    raw = sqlite3.connect(db_file)
    print(f"{files:,} files; one page of 100, newest first (best of 5)")
    for label, offset in (
        ("first page", 0),
        ("middle", files // 2),
        ("last page", max(0, files - 100)),  # a catalog of fewer than 100 is one page
    ):
        ours = min(timed(functools.partial(lib.list_files, FileQuery(limit=100, offset=offset)), 5))
        ref = min(
            timed(
                functools.partial(
                    lambda o: (
                        raw.execute(RAW_COUNT).fetchone(),
                        raw.execute(RAW, (o,)).fetchall(),
                    ),
                    offset,
                ),
                5,
            )
        )
        print(
            f"  {label:10}  MediaDesk {ours:8.2f} ms   raw sqlite3 {ref:8.2f} ms   "
            f"ratio {ours / ref:5.2f}x"
        )
    raw.close()


def last_cursor(db_file: Path, sort: str, limit: int) -> str | None:
    """The cursor a client holds one page before the end of the catalog in this sort; in a
    catalog of `limit` rows or fewer, the first row's (the rest is the last page); None when no
    row has a value to sort by."""
    key = sort.lstrip("-")
    desc = sort.startswith("-")
    if key == "original_filename":  # names sort by their natural key (core.natsort)
        key = "name_sort"
    raw = sqlite3.connect(db_file)
    order = "DESC" if not desc else "ASC"  # read backwards from the end
    query = (
        f"SELECT {key}, id FROM media_files WHERE deleted_at IS NULL AND status = 'ready' "
        f"AND {key} IS NOT NULL ORDER BY {key} {{}}, id {{}} LIMIT 1 OFFSET ?"
    )
    row = raw.execute(query.format(order, order), (limit,)).fetchone()
    if row is None:
        forward = "ASC" if order == "DESC" else "DESC"
        row = raw.execute(query.format(forward, forward), (0,)).fetchone()
    raw.close()
    if row is None:
        return None
    value = row[0]
    if key in ("created_at", "updated_at", "captured_at"):
        value = datetime.fromisoformat(value).replace(tzinfo=UTC)
    return _encode_cursor(sort, value, row[1])


def serve(folder: Path) -> ServeProcess:
    """`mediadesk serve` on the data folder, in its own process: a server thread in this one
    would share the interpreter lock with the client and count its time as the server's."""
    server = ServeProcess(
        folder,
        free_port(),
        max_size=100 * 1024 * 1024,
        env={
            "MEDIADESK_USAGE_SCAN_INTERVAL": "0",  # no store listing during the measurements
            "MEDIADESK_MAINTENANCE_INTERVAL": "0",
            "MEDIADESK_WORKERS": "0",
        },
    )
    server.start(timeout=120)  # a first start may migrate a big catalog
    return server


def http_mode(lib: Library, files: int, db_file: Path, rounds: int) -> None:
    token = lib.tokens.create("bench", "read")[1]
    server = serve(db_file.parent)
    try:
        _http_cases(server, token, files, db_file, rounds)
    finally:
        # whatever failed (a bad answer, SIGTERM), no `mediadesk serve` outlives the bench
        server.stop()


def _http_cases(server: ServeProcess, token: str, files: int, db_file: Path, rounds: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    headers = {"Authorization": f"Bearer {token}"}

    def get(path: str) -> dict[str, object]:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200:
            raise SystemExit(f"{path}: {resp.status} {body[:200]!r}")
        return json.loads(body)  # type: ignore[no-any-return]

    cases: list[tuple[str, str]] = []
    for sort in (
        "-created_at",
        "created_at",
        "original_filename",
        "-size",
        "duration",
        "-duration",
        "updated_at",
        "-captured_at",
        "captured_at",
    ):
        cases.append((f"first page sort={sort}", f"/files/?limit=50&sort={sort}"))
        cursor = last_cursor(db_file, sort, 50)
        if cursor is not None:
            cases.append(
                (f"end via cursor sort={sort}", f"/files/?limit=50&sort={sort}&cursor={cursor}")
            )
    # "{n}" is the search's total in this catalog (1,111 and 5,175 in a million files)
    cases += [
        ("search rare (q=-12345.)", "/files/?limit=50&q=-12345."),
        ("search {n} matches (q=-123)", "/files/?limit=50&q=-123"),
        ("search {n} matches (q=p-jump)", "/files/?limit=50&q=p-jump&sort=size"),
        ("search common (q=jump)", "/files/?limit=50&q=jump"),
        # in a million files the 11,111 matches are ids 12…, 120…129…, 120000…129999: the
        # newest is 870,000 rows down the date index (a walk that assumes matches spread
        # evenly pays for it)
        ("search clustered (q=-12)", "/files/?limit=50&q=-12"),
        ("search athlete (q=athlete 042)", f"/files/?limit=50&q={quote('athlete 042')}"),
        # the search box's first keystroke: a letter no name or description holds (no index
        # serves a term under 3 characters: the walk and the count read every file)
        ("search short, none (q=x)", "/files/?limit=50&q=x"),
        ("search + sort=-size", "/files/?limit=50&q=podium&sort=-size"),
        ("filter file_type=video", "/files/?limit=50&file_type=video"),
        ("filter athlete_id=42", "/files/?limit=50&athlete_id=42"),
        ("athlete_id=42 sort=-captured_at", "/files/?limit=50&athlete_id=42&sort=-captured_at"),
        ("search + sort=-captured_at", "/files/?limit=50&q=podium&sort=-captured_at"),
        ("search within athlete_id=42 (q=dive)", "/files/?limit=50&athlete_id=42&q=dive"),
        # the Trash view: a tenth as many files (fill), its sort key's trash index (0028)
        ("trash", "/files/?limit=50&trashed=true"),
        ("trash sort=original_filename", "/files/?limit=50&trashed=true&sort=original_filename"),
        ("trash status=any sort=-size", "/files/?limit=50&trashed=true&status=any&sort=-size"),
        ("old offset in the middle", f"/files/?limit=50&offset={files // 2}"),
        ("old offset at the end", f"/files/?limit=50&offset={max(0, files - 50)}"),
    ]
    # printed now: a stopped run (and tests/test_bench_cleanup.py) sees the server answered
    print(f"{files:,} files through HTTP (GET /files/, limit 50, keep-alive, {rounds} rounds)")
    rows = []
    for label, path in cases:
        started = time.perf_counter()
        first = get(path)  # warms the page cache, and the cached search total and probe
        cold = (time.perf_counter() - started) * 1000
        p50, p95 = spread(timed(functools.partial(get, path), rounds))
        total = first["total"]
        label = label.format(n=f"{total:,}" if isinstance(total, int) else total)
        rows.append((label, path, cold, p50, p95, total))
    # after the cases: the references' full scans would warm the page cache for their first
    # requests
    refs = like_references(db_file)
    print(
        f"  {'case':40} {'first':>8} {'p50 ms':>8} {'p95 ms':>8} {'x ref':>7}  total"
        "  (x ref: p50 / the plain sqlite3 reference's p50, below)"
    )
    for label, path, cold, p50, p95, total in rows:
        ref = refs[RARE] if RARE in path else refs[COMMON]
        print(f"  {label:40} {cold:8.2f} {p50:8.2f} {p95:8.2f} {p50 / ref:7.2f}  {total}")
    for term, ref in refs.items():
        which = "q=-12345." if term == RARE else "every other case"
        print(
            f"  reference: plain sqlite3 LIKE '%{term}%' count + page  {ref:8.2f} ms p50 "
            f"(x ref of {which})"
        )
    worst = max(rows, key=lambda row: row[3])
    ratio = worst[3] / (refs[RARE] if RARE in worst[1] else refs[COMMON])
    print(f"  worst p50 over the cases: {worst[3]:.2f} ms ({ratio:.2f}x its reference)")
    conn.close()


def like_references(db_file: Path) -> dict[str, float]:
    """The p50 in ms of what people write without an index, for a rare and a common term:
    plain sqlite3 LIKE '%term%' over name and description, COUNT + the first page."""
    raw = sqlite3.connect(db_file)
    like = (
        "SELECT count(*) FROM media_files WHERE deleted_at IS NULL AND status='ready' AND "
        "(original_filename LIKE ? OR description LIKE ?)"
    )
    page = (
        "SELECT * FROM media_files WHERE deleted_at IS NULL AND status='ready' AND "
        "(original_filename LIKE ? OR description LIKE ?) ORDER BY created_at DESC, id DESC "
        "LIMIT 50"
    )
    refs = {}
    for term in (RARE, COMMON):
        pattern = f"%{term}%"
        refs[term], _ = spread(
            timed(
                functools.partial(
                    lambda pat: (
                        raw.execute(like, (pat, pat)).fetchone(),
                        raw.execute(page, (pat, pat)).fetchall(),
                    ),
                    pattern,
                ),
                5,
            )
        )
    raw.close()
    return refs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--mode", choices=("library", "http"), default="library")
    parser.add_argument("--rounds", type=int, default=31)
    parser.add_argument("--keep", type=Path, help="reuse (or fill once) this data folder")
    args = parser.parse_args()
    if args.files < 1:
        parser.error("--files must be at least 1")
    exit_on_sigterm()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        lib = open_library(folder)
        db_file = lib.settings.paths.database_file
        present = lib.list_files(FileQuery(limit=1)).total
        if present != args.files:
            if present:
                raise SystemExit(f"{folder} holds {present} files, not {args.files}")
            started = time.perf_counter()
            fill(db_file, args.files, trashed=args.files // TRASHED_SHARE)
            print(f"filled in {time.perf_counter() - started:.0f} s", file=sys.stderr)
            lib.close()
            lib = open_library(folder)
        try:
            if args.mode == "http":
                http_mode(lib, args.files, db_file, args.rounds)
            else:
                library_mode(lib, args.files, db_file)
        finally:
            lib.close()


if __name__ == "__main__":
    run_main(main)
