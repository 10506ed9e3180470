"""Benchmark: paging, sorting and searching a large catalog, in-process and through HTTP.

`--mode library` (default) times one grid page (limit 100, with its total) through the library
at the start, middle and end of the catalog, against the same COUNT + SELECT … LIMIT/OFFSET in
plain sqlite3 returning tuples, in --rounds rounds taking turns (medians): first the page's
first call (a Library opened for each, so nothing it kept answers), then the same page called
again (answered from what the first call kept; the reference keeps nothing), printed apart.

`--mode http` starts the real server on a loopback port and reports the p50/p95 of
`GET /files/?…` over one keep-alive connection for every sort (first page and a page at the end
through `?cursor=`), searches (a rare and a common substring, an athlete's name, a one-letter
term that finds nothing), a filter, the Trash (a tenth as many files again, trashed) and the
old `?offset=` at the end. Each case has a reference of its own kind, run in plain sqlite3 on the
same file, the two taking turns each round: COUNT + SELECT … ORDER BY the sort LIMIT 50 OFFSET n
for pages, sorts, filters and the Trash (a cursor's page: the last page by OFFSET), and for a
search the query people write without an index, LIKE '%…%' over name, description and
athletes' names, with the same filters and sort.

Run `.venv/bin/python bench/catalog.py [--files 1000000] [--mode http]`. Filling a million
rows (FTS5 index included) takes a few minutes; `--keep DIR` fills DIR once and reuses it in
later runs, but only once its fill finished: a folder whose fill was stopped is refused.
"""

from __future__ import annotations

import argparse
import functools
import http.client
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import (  # noqa: E402
    alternating,
    dev_packages,
    exit_on_sigterm,
    run_main,
    taking_turns,
)
from core.catalog import _encode_cursor  # noqa: E402
from core.library import Library  # noqa: E402
from core.natsort import name_sort_key  # noqa: E402
from core.records import FileQuery  # noqa: E402
from core.settings import load_settings  # noqa: E402
from core.storage.local import fsync_dir  # noqa: E402
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
RARE, COMMON = "-12345.", "jump"  # a rare and a common search term (http mode)
TRASHED_SHARE = 10  # a tenth as many files again in the trash
# in a --keep folder, written once the last row of its fill is committed: a fill commits every
# 50,000 rows, the Trash's last, so a stopped fill left a catalog that looked complete to a
# count of the listing and a later run measured an empty Trash (0 results in 0.9 ms)
FILLED = "bench-catalog-filled.json"


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
    # the rows on disk before the marker that says they are all there (synchronous=OFF above)
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA wal_checkpoint(FULL)")
    conn.close()


def counts(db_file: Path) -> tuple[int, int, int]:
    """Listed files, trashed files and rows of any kind in the catalog."""
    conn = sqlite3.connect(db_file)
    try:
        live, trashed, rows = conn.execute(
            f"SELECT count(*) FILTER (WHERE {LIVE}), count(*) FILTER (WHERE deleted_at IS NOT "
            "NULL), count(*) FROM media_files"
        ).fetchone()
    finally:
        conn.close()
    return live, trashed, rows


def mark_filled(folder: Path, files: int, trashed: int) -> None:
    """FILLED, whole or not at all, after the fill: its presence says the fill finished."""
    marker = folder / FILLED
    tmp = marker.with_name(f".{FILLED}.tmp")
    with open(tmp, "w", encoding="utf-8") as out:
        json.dump({"files": files, "trashed": trashed}, out)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, marker)
    fsync_dir(folder)


def needs_fill(folder: Path, db_file: Path, files: int) -> bool:
    """True for a catalog without a row (fill it); False for one a fill of `files` completed
    (reuse it); anything else is refused in one line naming what is missing: a stopped fill,
    another size, a Trash emptied since. Refused, not filled again: DIR may be someone's
    library, and a fill from scratch would have to delete what is there."""
    live, trashed, rows = counts(db_file)
    if rows == 0:
        (folder / FILLED).unlink(missing_ok=True)  # a marker left from a catalog since removed
        return True
    want = files // TRASHED_SHARE
    try:
        filled = json.loads((folder / FILLED).read_text(encoding="utf-8"))
    except FileNotFoundError:
        filled = None
    if filled is not None and filled.get("files") != files:
        raise SystemExit(f"{folder} holds {filled.get('files')} files, not {files}")
    found = f"{live:,} of {files:,} files, {trashed:,} of {want:,} in the Trash"
    if filled is None:
        raise SystemExit(
            f"{folder} has no {FILLED}, which a fill writes once its last row is in: its fill "
            f"was stopped ({found}) or ran before 2026-12-07; delete it to fill it again, or "
            "name another folder"
        )
    if (live, trashed) != (files, want):
        raise SystemExit(
            f"{folder} no longer holds what its fill wrote ({found}): delete it to fill it "
            "again, or name another folder"
        )
    return False


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


def library_mode(folder: Path, files: int, db_file: Path, rounds: int) -> None:
    """A page's first call, then the same page called again, each against plain sqlite3 in
    rounds taking turns (medians). The headline is the first call: a Library opened for each
    measured call, so nothing a call before it kept (the count, the offset's anchors:
    core/catalog_memo.py) answers it, against a fresh sqlite3 connection; plain sqlite3 keeps
    nothing between calls, and a repeated page's 0.2x said nothing of the 2x a user waits for
    the first. The repeated call is printed apart, labelled as such."""
    print(
        f"{files:,} files; one page of 100 and its total, newest first; {rounds} rounds taking "
        "turns with the reference, medians"
    )
    positions = (
        ("first page", 0),
        ("middle", files // 2),
        ("last page", max(0, files - 100)),  # a catalog of fewer than 100 is one page
    )

    def reference(conn: sqlite3.Connection, offset: int) -> tuple[int, list[int]]:
        total = conn.execute(RAW_COUNT).fetchone()[0]
        return total, [row[0] for row in conn.execute(RAW, (offset,)).fetchall()]

    def first_ours(offset: int) -> float:
        lib = open_library(folder)  # nothing kept: the call is this Library's first
        try:
            started = time.perf_counter()
            page = lib.list_files(FileQuery(limit=100, offset=offset))
            seconds = time.perf_counter() - started
        finally:
            lib.close()
        if [item.id for item in page.items] != expected[offset][1] or (
            page.total != expected[offset][0]
        ):
            raise SystemExit(f"offset {offset}: MediaDesk's page is not the reference's")
        return seconds

    def first_ref(offset: int) -> float:
        conn = sqlite3.connect(db_file)
        try:
            # the schema read untimed, as Library.open reads it before the measured call
            conn.execute("SELECT 1 FROM media_files LIMIT 0").fetchall()
            started = time.perf_counter()
            reference(conn, offset)
            return time.perf_counter() - started
        finally:
            conn.close()

    raw = sqlite3.connect(db_file)
    expected = {offset: reference(raw, offset) for _label, offset in positions}
    print("  first call (a fresh Library each round; a fresh sqlite3 connection)")
    for label, offset in positions:
        ours, ref = taking_turns(
            functools.partial(first_ours, offset), functools.partial(first_ref, offset), rounds
        )
        _library_row(label, ours, ref)
    print("  repeated call of the same page (one Library and one connection, each called before)")
    print("    (MediaDesk answers from what its first call kept; plain sqlite3 keeps nothing)")
    lib = open_library(folder)
    try:
        for label, offset in positions:
            query = FileQuery(limit=100, offset=offset)
            lib.list_files(query)
            ours, ref = alternating(
                functools.partial(lib.list_files, query),
                functools.partial(reference, raw, offset),
                rounds,
            )
            _library_row(label, ours, ref)
    finally:
        lib.close()
        raw.close()


def _library_row(label: str, ours: list[float], ref: list[float]) -> None:
    mine, theirs = statistics.median(ours) * 1000, statistics.median(ref) * 1000
    print(
        f"    {label:10}  MediaDesk {mine:8.2f} ms   raw sqlite3 {theirs:8.2f} ms   "
        f"ratio {mine / theirs:5.2f}x"
    )


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

    cases: list[tuple[str, str, Ref | None]] = []
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
        order = ref_order(sort)
        cases.append(
            (f"first page sort={sort}", f"/files/?limit=50&sort={sort}", Ref(LIVE, order=order))
        )
        cursor = last_cursor(db_file, sort, 50)
        if cursor is not None:
            # without cursors, the end of the listing is the last page by OFFSET
            cases.append(
                (
                    f"end via cursor sort={sort}",
                    f"/files/?limit=50&sort={sort}&cursor={cursor}",
                    Ref(LIVE, order=order, offset=None),
                )
            )
    # "{n}" is the search's total in this catalog (1,111 and 5,175 in a million files)
    cases += [
        ("search rare (q=-12345.)", "/files/?limit=50&q=-12345.", like(RARE)),
        ("search {n} matches (q=-123)", "/files/?limit=50&q=-123", like("-123")),
        (
            "search {n} matches (q=p-jump)",
            "/files/?limit=50&q=p-jump&sort=size",
            like("p-jump", order=ref_order("size")),
        ),
        ("search common (q=jump)", "/files/?limit=50&q=jump", like(COMMON)),
        # in a million files the 11,111 matches are ids 12…, 120…129…, 120000…129999: the
        # newest is 870,000 rows down the date index (a walk that assumes matches spread
        # evenly pays for it)
        ("search clustered (q=-12)", "/files/?limit=50&q=-12", like("-12")),
        (
            "search athlete (q=athlete 042)",
            f"/files/?limit=50&q={quote('athlete 042')}",
            like("athlete 042"),
        ),
        # the search box's first keystroke: a letter no name or description holds (no index
        # serves a term under 3 characters: the walk and the count read every file)
        ("search short, none (q=x)", "/files/?limit=50&q=x", like("x")),
        (
            "search + sort=-size",
            "/files/?limit=50&q=podium&sort=-size",
            like("podium", order=ref_order("-size")),
        ),
        (
            "filter file_type=video",
            "/files/?limit=50&file_type=video",
            Ref(f"{LIVE} AND file_type = ?", ("video",)),
        ),
        ("filter athlete_id=42", "/files/?limit=50&athlete_id=42", Ref(f"{LIVE} AND {ATHLETE}")),
        (
            "athlete_id=42 sort=-captured_at",
            "/files/?limit=50&athlete_id=42&sort=-captured_at",
            Ref(f"{LIVE} AND {ATHLETE}", order=ref_order("-captured_at")),
        ),
        (
            "search + sort=-captured_at",
            "/files/?limit=50&q=podium&sort=-captured_at",
            like("podium", order=ref_order("-captured_at")),
        ),
        (
            "search within athlete_id=42 (q=dive)",
            "/files/?limit=50&athlete_id=42&q=dive",
            like("dive", where=f"{LIVE} AND {ATHLETE}"),
        ),
        # the Trash view: a tenth as many files (fill), its sort key's trash index (0028)
        ("trash", "/files/?limit=50&trashed=true", Ref(TRASH)),
        (
            "trash sort=original_filename",
            "/files/?limit=50&trashed=true&sort=original_filename",
            Ref(TRASH, order=ref_order("original_filename")),
        ),
        (
            "trash status=any sort=-size",
            "/files/?limit=50&trashed=true&status=any&sort=-size",
            Ref("deleted_at IS NOT NULL", order=ref_order("-size")),
        ),
        (
            "old offset in the middle",
            f"/files/?limit=50&offset={files // 2}",
            Ref(LIVE, offset=files // 2),
        ),
        (
            "old offset at the end",
            f"/files/?limit=50&offset={max(0, files - 50)}",
            Ref(LIVE, offset=max(0, files - 50)),
        ),
    ]
    # printed now: a stopped run (and tests/test_bench_cleanup.py) sees the server answered
    print(
        f"{files:,} files through HTTP (GET /files/, limit 50, keep-alive, {rounds} rounds "
        "taking turns with each case's reference)"
    )
    firsts = []
    for _label, path, _ref in cases:
        # every case's first request before any reference runs: the references' full scans
        # would warm the page cache for it
        started = time.perf_counter()
        first = get(path)  # warms the page cache, and the cached search total and probe
        firsts.append(((time.perf_counter() - started) * 1000, first["total"]))
    raw = sqlite3.connect(db_file)
    rows = []
    for (label, path, ref), (cold, total) in zip(cases, firsts, strict=True):
        label = label.format(n=f"{total:,}" if isinstance(total, int) else total)
        if ref is None:
            p50, p95 = spread(timed(functools.partial(get, path), rounds))
            ref_p50 = None
        else:
            run_ref = ref.runner(raw, total if isinstance(total, int) else 0)
            run_ref()  # the reference's first call too, untimed like MediaDesk's
            ours, theirs = alternating(functools.partial(get, path), run_ref, rounds)
            p50, p95 = spread(sorted(t * 1000 for t in ours))
            ref_p50 = statistics.median(theirs) * 1000
        rows.append((label, cold, p50, p95, ref_p50, total))
    raw.close()
    print(
        f"  {'case':40} {'first':>8} {'p50 ms':>8} {'p95 ms':>8} {'ref p50':>8} {'x ref':>7}  total"
    )
    for label, cold, p50, p95, ref_p50, total in rows:
        if ref_p50 is None:
            ref_text, ratio = f"{'–':>8}", f"{'–':>7}"
        else:
            ref_text, ratio = f"{ref_p50:8.2f}", f"{p50 / ref_p50:7.2f}"
        print(f"  {label:40} {cold:8.2f} {p50:8.2f} {p95:8.2f} {ref_text} {ratio}  {total}")
    print(
        "  ref p50: each case's own reference in plain sqlite3 (x ref: p50 / ref p50), "
        "COUNT + a page of 50:\n"
        "  reference: plain sqlite3 SELECT … ORDER BY the case's sort LIMIT 50 OFFSET n for "
        "pages, filters and the Trash (a cursor's page: the last by OFFSET)\n"
        "  reference: plain sqlite3 LIKE '%jump%' for q=jump (each search its term) over "
        "name, description and athletes' names, its filters and sort"
    )
    worst = max(rows, key=lambda row: row[2])
    against = f" ({worst[2] / worst[4]:.2f}x its reference)" if worst[4] else ""
    print(f"  worst p50 over the cases: {worst[2]:.2f} ms{against}")
    conn.close()


LIVE = "deleted_at IS NULL AND status = 'ready'"
TRASH = "deleted_at IS NOT NULL AND status = 'ready'"
ATHLETE = "athlete_id = 42"
NULLABLE_SORTS = frozenset({"duration", "captured_at"})  # MediaDesk lists their NULLs last


def ref_order(sort: str) -> str:
    """The ORDER BY of `sort` as MediaDesk orders it (names by their natural key, NULLs last,
    ties by id the same way), so the reference reads the same page."""
    key = sort.lstrip("-")
    way = "DESC" if sort.startswith("-") else "ASC"
    column = "name_sort" if key == "original_filename" else key
    nulls = " NULLS LAST" if key in NULLABLE_SORTS else ""
    return f"{column} {way}{nulls}, id {way}"


@dataclass(frozen=True)
class Ref:
    """A case's reference: what people write in plain sqlite3 for the same page, COUNT +
    SELECT * … ORDER BY … LIMIT 50 OFFSET n (`offset` None: the listing's last page)."""

    where: str
    params: tuple[object, ...] = ()
    order: str = "created_at DESC, id DESC"
    offset: int | None = 0

    def runner(self, conn: sqlite3.Connection, total: int) -> Callable[[], object]:
        offset = max(0, total - 50) if self.offset is None else self.offset
        count = f"SELECT count(*) FROM media_files WHERE {self.where}"
        page = (
            f"SELECT * FROM media_files WHERE {self.where} ORDER BY {self.order} LIMIT 50 OFFSET ?"
        )
        return lambda: (
            conn.execute(count, self.params).fetchone(),
            conn.execute(page, (*self.params, offset)).fetchall(),
        )


def like(term: str, where: str = LIVE, order: str = "created_at DESC, id DESC") -> Ref:
    """The search people write without an index: LIKE '%term%' over the name, the description
    and the athletes' names (MediaDesk's search finds a file by its athlete's name too)."""
    pattern = f"%{term}%"
    return Ref(
        f"{where} AND (original_filename LIKE ? OR description LIKE ? OR athlete_id IN "
        "(SELECT id FROM athletes WHERE name LIKE ?))",
        (pattern, pattern, pattern),
        order,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--mode", choices=("library", "http"), default="library")
    parser.add_argument("--rounds", type=int, default=31)
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="fill this data folder once and reuse it in later runs; a folder whose fill did "
        f"not finish (no {FILLED}, or fewer rows than it names) is refused: delete it to fill "
        "it again",
    )
    args = parser.parse_args()
    if args.files < 1:
        parser.error("--files must be at least 1")
    exit_on_sigterm()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        lib = open_library(folder)
        db_file = lib.settings.paths.database_file
        if needs_fill(folder, db_file, args.files):
            started = time.perf_counter()
            fill(db_file, args.files, trashed=args.files // TRASHED_SHARE)
            mark_filled(folder, args.files, args.files // TRASHED_SHARE)
            print(f"filled in {time.perf_counter() - started:.0f} s", file=sys.stderr)
            lib.close()
            lib = open_library(folder)
        try:
            if args.mode == "http":
                http_mode(lib, args.files, db_file, args.rounds)
            else:
                library_mode(folder, args.files, db_file, args.rounds)
        finally:
            lib.close()


if __name__ == "__main__":
    run_main(main)
