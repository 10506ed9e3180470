"""Benchmark: how fast a catalog change made by one process reaches another (the change feed).

A writer process edits one file 1,000 times (`Library.update_file`, a few ms apart, the send
time in the description); a listener process with its own Library on the same catalog records
when each `updated` event reaches its event bus. Printed: p50/p90/p99/max of the propagation
latency, on SQLite (two processes on one data folder, polling) and PostgreSQL (a throwaway
cluster, LISTEN/NOTIFY). Reference on PostgreSQL: a bare psycopg NOTIFY → LISTEN round trip in
the same run (what any LISTEN-based feed costs at least). Goal: p99 ≤ 1 s, p50 ≤ 100 ms on PG.

    .venv/bin/python bench/feed.py [--changes 1000] [--gap-ms 5] [--only sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
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


def settings_for(data: Path, url: str | None) -> object:
    from core.settings import load_settings

    overrides: dict[str, object] = {"data_dir": str(data)}
    if url:
        overrides["database_url"] = url
    return load_settings(environ={}, config_file=data / "settings.toml", **overrides)


def listen(data: Path, url: str | None, count: int) -> int:
    """The listener process: prints 'ready', then one JSON list of latencies (seconds)."""
    from core.events import ChangeEvent
    from core.library import Library

    lib = Library.open(settings_for(data, url))  # type: ignore[arg-type]
    latencies: list[float] = []
    done = threading.Event()

    def heard(event: ChangeEvent) -> None:
        now = time.time()
        text = str(event.data.get("description", ""))
        if event.kind == "updated" and text.startswith("sent "):
            latencies.append(now - float(text.split()[1]))
            if len(latencies) >= count:
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


def write(data: Path, url: str | None, count: int, gap: float) -> list[float]:
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
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        for _ in range(count):
            lib.update_file(record.id, {"description": f"sent {time.time():.6f}"})
            time.sleep(gap)
        out = proc.stdout.readline()
        proc.wait(60)
        return [float(x) for x in json.loads(out)]
    finally:
        lib.close()


def _jpeg(path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (64, 48), "red").save(path, "JPEG")


def raw_notify(url: str, count: int, gap: float) -> list[float]:
    """NOTIFY from one connection, LISTEN on another: the floor of any LISTEN-based feed."""
    import psycopg

    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    got: list[float] = []
    with (
        psycopg.connect(conninfo, autocommit=True) as listener,
        psycopg.connect(conninfo, autocommit=True) as sender,
    ):
        listener.execute("LISTEN bench")

        def receive() -> None:
            for note in listener.notifies(timeout=30):
                got.append(time.time() - float(note.payload))
                if len(got) >= count:
                    return

        thread = threading.Thread(target=receive)
        thread.start()
        for _ in range(count):
            sender.execute("SELECT pg_notify('bench', %s)", (f"{time.time():.6f}",))
            time.sleep(gap)
        thread.join(60)
    return got


@contextlib.contextmanager
def postgres() -> Iterator[str]:
    """A throwaway cluster (tests/pg_server.py's recipe), yielding its URL."""
    from tests import pg_server

    gen = pg_server.postgres_url.__wrapped__()  # type: ignore[attr-defined]
    url = next(gen)
    try:
        yield url
    finally:
        with contextlib.suppress(StopIteration):
            next(gen)


def summary(name: str, values: list[float], count: int) -> str:
    if not values:
        return f"{name:<28} nothing arrived"
    ms = sorted(v * 1000 for v in values)
    q = statistics.quantiles(ms, n=100)
    return (
        f"{name:<28} {len(ms):>5}/{count:<5} p50 {q[49]:7.1f} ms  p90 {q[89]:7.1f} ms  "
        f"p99 {q[98]:7.1f} ms  max {ms[-1]:7.1f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--gap-ms", type=float, default=5.0)
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--listen", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.listen:
        return listen(Path(args.listen), args.url, args.count)
    gap = args.gap_ms / 1000
    lines = [f"{args.changes} edits, {args.gap_ms} ms apart, writer and listener processes:"]
    if args.only in (None, "sqlite"):
        work = Path(tempfile.mkdtemp(prefix="mediadesk-feed-"))
        try:
            lines.append(
                summary("SQLite (polling)", write(work, None, args.changes, gap), args.changes)
            )
        finally:
            shutil.rmtree(work, ignore_errors=True)
        print(lines[-1], flush=True)
    if args.only in (None, "postgresql"):
        with postgres() as url:
            work = Path(tempfile.mkdtemp(prefix="mediadesk-feed-"))
            try:
                lines.append(
                    summary(
                        "PostgreSQL (LISTEN/NOTIFY)",
                        write(work, url, args.changes, gap),
                        args.changes,
                    )
                )
                print(lines[-1], flush=True)
                lines.append(
                    summary(
                        "  reference: bare NOTIFY", raw_notify(url, args.changes, gap), args.changes
                    )
                )
            finally:
                shutil.rmtree(work, ignore_errors=True)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONPATH", str(ROOT))
    sys.exit(main())
