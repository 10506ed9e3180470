"""Benchmark: how fast a catalog change made by one process reaches another (the change feed).

A writer process edits one file 1,000 times (`Library.update_file`, a few ms apart, the edit's
number and send time in the description); a listener process with its own Library on the same
catalog records when each `updated` event reaches its event bus, and in which order. Printed:
p50/p90/p99/max of the propagation latency, and how many edits were never heard, heard twice or
heard after a later one, on SQLite (two processes on one data folder, polling) and PostgreSQL
(a throwaway cluster, LISTEN/NOTIFY). Reference on PostgreSQL: a bare psycopg NOTIFY → LISTEN
round trip in the same run (what any LISTEN-based feed costs at least), the edits split over
--rounds rounds in which the two take turns going first. Goal: p99 ≤ 1 s, p50 ≤ 100 ms on PG.

    .venv/bin/python bench/feed.py [--changes 1000] [--gap-ms 5] [--only sqlite|postgresql]
                                   [--rounds 4]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import dev_packages, exit_on_sigterm, run_main, taking_turns  # noqa: E402

Heard = list[tuple[int, float]]  # (edit number, latency in seconds), in the order heard


def settings_for(data: Path, url: str | None) -> object:
    from core.settings import load_settings

    overrides: dict[str, object] = {"data_dir": str(data)}
    if url:
        overrides["database_url"] = url
    return load_settings(environ={}, config_file=data / "settings.toml", **overrides)


def listen(data: Path, url: str | None, count: int) -> int:
    """The listener process: prints 'ready', then one JSON list of [edit number, latency]."""
    from core.events import ChangeEvent
    from core.library import Library

    # Ctrl-C reaches the whole process group: the writer, which kills this process in its
    # finally, says it once
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    lib = Library.open(settings_for(data, url))  # type: ignore[arg-type]
    latencies: Heard = []
    distinct: set[int] = set()
    done = threading.Event()

    def heard(event: ChangeEvent) -> None:
        now = time.time()
        text = str(event.data.get("description", ""))
        if event.kind == "updated" and text.startswith("sent "):
            _, number, sent = text.split()
            latencies.append((int(number), now - float(sent)))
            distinct.add(int(number))
            if len(distinct) >= count:
                done.set()

    lib.events.subscribe(heard)
    deadline = time.monotonic() + 5
    while not lib.feed.connected and time.monotonic() < deadline:
        time.sleep(0.01)
    print("ready", flush=True)
    done.wait(120 + count * 0.05)
    print(json.dumps(latencies), flush=True)
    lib.close()
    return 0


def write(data: Path, url: str | None, count: int, gap: float) -> Heard:
    from core.library import Library

    lib = Library.open(settings_for(data, url))  # type: ignore[arg-type]
    try:
        image = data / "bench.jpg"
        _jpeg(image)
        record = lib.uploads.ingest(image, "image")
        proc = subprocess.Popen(
            [sys.executable, __file__, "--listen", str(data), "--count", str(count)]
            + (["--url", url] if url else []),
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready"
            for number in range(count):
                lib.update_file(record.id, {"description": f"sent {number} {time.time():.6f}"})
                time.sleep(gap)
            out = proc.stdout.readline()
            proc.wait(60)
            return [(int(n), float(t)) for n, t in json.loads(out)]
        finally:
            if proc.poll() is None:  # failed or interrupted (SIGTERM): no listener left behind
                proc.kill()
                proc.wait(10)
    finally:
        lib.close()


def _jpeg(path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (64, 48), "red").save(path, "JPEG")


def raw_notify(url: str, count: int, gap: float) -> Heard:
    """NOTIFY from one connection, LISTEN on another: the floor of any LISTEN-based feed."""
    import psycopg

    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    got: Heard = []
    stop = threading.Event()
    with (
        psycopg.connect(conninfo, autocommit=True) as listener,
        psycopg.connect(conninfo, autocommit=True) as sender,
    ):
        listener.execute("LISTEN bench")

        def receive() -> None:
            # short waits, each ending with a look at `stop`: closing the connection waits for
            # this thread, and one 30 s wait held a stopped bench (and its PostgreSQL) that long
            while not stop.is_set() and len(got) < count:
                try:
                    for note in listener.notifies(timeout=0.2):
                        number, sent = note.payload.split()
                        got.append((int(number), time.time() - float(sent)))
                        if len(got) >= count:
                            return
                except psycopg.OperationalError:
                    if stop.is_set():  # Ctrl-C stopped PostgreSQL too (same process group)
                        return
                    raise

        thread = threading.Thread(target=receive)
        thread.start()
        try:
            for number in range(count):
                sender.execute("SELECT pg_notify('bench', %s)", (f"{number} {time.time():.6f}",))
                time.sleep(gap)
            thread.join(30)  # the last notifications on their way; a lost one is counted
        finally:
            stop.set()  # SIGTERM, Ctrl-C: the thread ends within one short wait
            thread.join()
    return got


@contextlib.contextmanager
def postgres() -> Iterator[str | None]:
    """A throwaway cluster (tests/pg_server.py's recipe), yielding its URL; None, said in one
    line, where no PostgreSQL server is installed."""
    with dev_packages():
        import pytest

        from tests import pg_server

    if not pg_server.PG_BIN:
        print(
            "PostgreSQL (LISTEN/NOTIFY)   skipped: no PostgreSQL server here "
            "(/usr/lib/postgresql/*/bin); install it with `bash scripts/syslibs.sh postgresql` "
            "as root, or `sudo apt-get install postgresql`",
            flush=True,
        )
        yield None
        return
    # the recipe's own folder (mediadesk-pg-*) goes inside this one, which is removed whatever
    # happens: a failed initdb left it behind; readable by `postgres`, which runs the cluster
    # when we are root
    parent = Path(tempfile.mkdtemp(prefix="mediadesk-feed-pg-"))
    parent.chmod(0o755)
    gen = pg_server.postgres_url.__wrapped__()  # type: ignore[attr-defined]
    try:
        saved, tempfile.tempdir = tempfile.tempdir, str(parent)
        try:
            url = next(gen)
        except subprocess.CalledProcessError as exc:
            output = b"".join(x for x in (exc.stdout, exc.stderr) if x).decode(errors="replace")
            raise SystemExit(f"PostgreSQL's initdb failed ({exc.returncode}):\n{output}") from None
        except pytest.fail.Exception as exc:
            raise SystemExit(f"PostgreSQL: {exc}") from None
        finally:
            tempfile.tempdir = saved
        try:
            yield url
        finally:
            with contextlib.suppress(StopIteration):
                next(gen)
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def postgres_rounds(url: str, changes: int, gap: float, rounds: int) -> tuple[Heard, Heard]:
    """MediaDesk's feed and the bare NOTIFY, `changes` edits each split over `rounds` rounds
    taking turns going first (AB, BA...): run in one block each, the side that met a shared
    machine's heavier load looked slower. Each round's edit numbers follow the last round's,
    so the faults are counted over the whole run."""
    sizes = [changes // rounds + (1 if i < changes % rounds else 0) for i in range(rounds)]
    our_sizes, floor_sizes = iter(sizes), iter(sizes)
    # one data folder for every round, as the catalog is one: a new folder each round held
    # none of the objects the catalog's file had, and the ingest "repaired" it
    work = Path(tempfile.mkdtemp(prefix="mediadesk-feed-"))
    try:
        ours_runs, floor_runs = taking_turns(
            lambda: each_round(
                "PostgreSQL (LISTEN/NOTIFY)", write(work, url, next(our_sizes), gap)
            ),
            lambda: each_round("  reference: bare NOTIFY", raw_notify(url, next(floor_sizes), gap)),
            rounds,
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def joined(runs: list[Heard]) -> Heard:
        starts = [sum(sizes[:i]) for i in range(rounds)]
        return [(start + n, t) for start, run in zip(starts, runs, strict=True) for n, t in run]

    return joined(ours_runs), joined(floor_runs)


def each_round(name: str, heard: Heard) -> Heard:
    """`heard`, once its round's line is printed (the drift between rounds shows)."""
    p50 = f"p50 {percentiles(heard)[49]:7.1f} ms" if heard else "nothing arrived"
    print(f"{name} round: {len(heard)} heard, {p50}", flush=True)
    return heard


def order_faults(heard: Heard, count: int) -> tuple[int, int, int]:
    """Edits never heard, heard again, and heard after a later edit (each counted once)."""
    seen: set[int] = set()
    duplicated = late = 0
    highest = -1
    for number, _ in heard:
        if number in seen:
            duplicated += 1
            continue
        seen.add(number)
        if number < highest:
            late += 1
        highest = max(highest, number)
    return count - len(seen & set(range(count))), duplicated, late


def percentiles(heard: Heard) -> list[float]:
    """The 1st to 99th percentiles of the latencies, in milliseconds (one edit heard: its own
    latency 99 times)."""
    ms = sorted(latency * 1000 for _, latency in heard)
    return statistics.quantiles(ms, n=100) if len(ms) > 1 else [ms[0]] * 99


def ratio(ours: Heard, reference: Heard) -> str:
    """MediaDesk's p50 and p99 over the bare NOTIFY round trip's, in one line."""
    if not ours or not reference:
        return "  ratio: none (nothing arrived on one side)"
    mine, floor = percentiles(ours), percentiles(reference)
    return (
        f"  ratio to the bare NOTIFY: p50 {mine[49] / floor[49]:.2f}x, "
        f"p99 {mine[98] / floor[98]:.2f}x the time"
    )


def summary(name: str, heard: Heard, count: int) -> str:
    if not heard:
        return f"{name:<28} nothing arrived"
    ms = sorted(latency * 1000 for _, latency in heard)
    q = percentiles(heard)
    missing, duplicated, late = order_faults(heard, count)
    return (
        f"{name:<28} {count - missing:>5}/{count:<5} p50 {q[49]:7.1f} ms  p90 {q[89]:7.1f} ms  "
        f"p99 {q[98]:7.1f} ms  max {ms[-1]:7.1f} ms  missing {missing}, duplicated {duplicated}, "
        f"out of order {late}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--gap-ms", type=float, default=5.0)
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument(
        "--rounds", type=int, default=4, help="PostgreSQL: rounds taking turns with the reference"
    )
    parser.add_argument("--listen", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.listen:
        return listen(Path(args.listen), args.url, args.count)
    if not 1 <= args.rounds <= args.changes:
        parser.error("--rounds must be between 1 and --changes")
    exit_on_sigterm()
    gap = args.gap_ms / 1000
    print(f"{args.changes} edits, {args.gap_ms} ms apart, writer and listener processes:")
    if args.only in (None, "sqlite"):
        work = Path(tempfile.mkdtemp(prefix="mediadesk-feed-"))
        try:
            heard = write(work, None, args.changes, gap)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print(summary("SQLite (polling)", heard, args.changes), flush=True)
    if args.only in (None, "postgresql"):
        with postgres() as url:
            if url is not None:
                heard, floor = postgres_rounds(url, args.changes, gap, args.rounds)
                print(summary("PostgreSQL (LISTEN/NOTIFY)", heard, args.changes), flush=True)
                print(summary("  reference: bare NOTIFY", floor, args.changes), flush=True)
                print(ratio(heard, floor), flush=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONPATH", str(ROOT))
    run_main(main)
