"""Benchmark: MediaDesk video streaming vs nginx on the same file, over loopback, with wrk.

Not a test. `python bench/stream.py` (or `make bench`) creates a temporary data folder, makes a
real H.264 MP4 with PyAV and pads it to ~200 MB with an ISO-BMFF `free` box (a real, valid MP4
that ingest accepts, yet big enough for whole-file runs), ingests it as a public video, starts
`EmbeddedServer` on a loopback port with an admin token (sent on every request), and starts
nginx as a child process with its own config serving the very same stored file. Then, for each
server: random 64 KiB ranges, random 1 MiB ranges and whole-file downloads, each for
--seconds with --connections connections and --threads wrk threads, in --rounds rounds that
alternate which server goes first (a shared machine's load moves between two runs). Prints each
round, requests/s and MB/s over all rounds, and the median of the rounds' MediaDesk/nginx
ratios (each from two runs seconds apart).

nginx runs one worker (like our one event loop; --nginx-workers) with sendfile on, access_log
off and tcp_nopush off: with it on, 64 KiB ranges stall 40 ms each here (corked last segment +
delayed ACK), which would flatter MediaDesk 20x.

`--raw-module` serves the file with a minimal aiohttp app calling server.streaming.stream_object
directly (no auth, catalog lookups or middlewares): the streaming module alone.
`--private` ingests the video as private (every request is then audited in the catalog).
`--behind-nginx` puts nginx in front of MediaDesk with the site of server/nginx_conf.py (the one
`mediadesk nginx-config` prints): MediaDesk answers nginx's check subrequests, nginx sends the
bytes; measured against nginx alone on the same file.
Without wrk, a multi-process aiohttp client load loop is used (slower, and sharing the cores
with the servers: its figures are not comparable with wrk's; the final table names the load
generator); without nginx, only MediaDesk is measured. `make bench` installs both.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import multiprocessing
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import exit_on_sigterm, run_main  # noqa: E402

log = logging.getLogger("bench.stream")
MiB = 1024 * 1024

WRK_SCRIPT = r"""
local size, span = 0, 0
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end
function init(args)
  size, span = tonumber(args[1]), tonumber(args[2])
  math.randomseed(os.time() * 1000 + (seed or 0))
end
function request()
  if span > 0 then
    local start = math.random(0, size - span)
    wrk.headers["Range"] = "bytes=" .. start .. "-" .. (start + span - 1)
  end
  return wrk.format(nil)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH %d %d %d %d\n", summary.requests, summary.bytes,
    summary.duration, e.connect + e.read + e.write + e.status + e.timeout))
end
"""

NGINX_CONF = """
worker_processes {workers};
{user}
daemon off;
master_process on;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush off;  # on: 40 ms stalls (Nagle + delayed ACK) on 64 KiB ranges here
    keepalive_requests 1000000;
    default_type video/mp4;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    {upstream}
    server {{
        listen 127.0.0.1:{port};
        location = /video.mp4 {{ alias {file}; }}
        {front}
    }}
}}
"""
# --behind-nginx: nginx in front of MediaDesk as the README sets it up (server/nginx_conf.py:
# X-Accel-Redirect and the check cache), on loopback without TLS


@dataclass
class Result:
    requests: int
    bytes: int
    seconds: float
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def mbps(self) -> float:
        return self.bytes / self.seconds / 1e6


# --- the file --------------------------------------------------------------------------------


def make_video(path: Path, target_bytes: int) -> Path:
    """A 2 s H.264 MP4 (moov first), padded with a `free` box to about `target_bytes`."""
    import av  # only needed here

    with av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        video = out.add_stream("libx264", rate=24)
        assert isinstance(video, av.VideoStream)
        video.width, video.height, video.pix_fmt = 320, 240, "yuv420p"
        video.time_base = Fraction(1, 24)
        for i in range(48):
            frame = av.VideoFrame(320, 240, "yuv420p")
            for plane in frame.planes:
                plane.update(bytes([(i * 5) % 256]) * plane.buffer_size)
            frame.pts = i
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
    pad = max(target_bytes - path.stat().st_size, 8)
    block = random.Random(1).randbytes(MiB)
    with open(path, "ab") as f:
        f.write(pad.to_bytes(4, "big") + b"free")
        left = pad - 8
        while left > 0:
            f.write(block[: min(left, MiB)])
            left -= MiB
    return path


# --- servers ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port}")


@contextlib.contextmanager
def nginx_server(
    file: Path,
    workdir: Path,
    workers: int,
    upstream_port: int | None = None,
    objects: Path | None = None,
) -> Iterator[str | None]:
    binary = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if binary is None:
        log.warning(
            "nginx is not installed: MediaDesk is measured alone (install it with `make bench`, "
            "`bash scripts/syslibs.sh nginx-light` as root or `sudo apt-get install nginx-light`)"
        )
        yield None
        return
    prefix = workdir / "nginx"
    prefix.mkdir()
    port = free_port()
    user = ""
    if os.geteuid() == 0:  # workers would otherwise drop to `nobody` and miss the temp folder
        user = "user root root;"
    conf = prefix / "nginx.conf"
    upstream = front = ""
    if upstream_port is not None and objects is not None:
        from server.nginx_conf import NginxSite

        site = NginxSite(
            upstream=f"127.0.0.1:{upstream_port}",
            objects_dir=str(objects),
            cache_dir=str(prefix / "checks"),
        )
        upstream, front = site.http_part(), site.locations()
    conf.write_text(
        NGINX_CONF.format(
            workers=workers,
            user=user,
            prefix=prefix,
            port=port,
            file=file,
            upstream=upstream,
            front=front,
        )
    )
    proc = subprocess.Popen(
        [binary, "-c", str(conf), "-p", str(prefix), "-e", str(prefix / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}/video.mp4"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class RawModuleServer:
    """A bare aiohttp app calling stream_object on one file, in a thread with its own loop."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self.port = 0
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, daemon=True, name="raw-module")

    def __enter__(self) -> str:
        self._thread.start()
        if not self._ready.wait(30):
            raise TimeoutError("raw module server did not start")
        return f"http://127.0.0.1:{self.port}/video.mp4"

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        from aiohttp import web

        from core.storage.local import LocalStorage
        from server.state import THREADS, Threads, threads_ctx
        from server.streaming import REMOTE_CHUNK_SIZE, stream_object

        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        storage = LocalStorage(self.file.parent)
        stat = storage.stat(self.file.name)
        path = storage.local_path(self.file.name)
        modified = datetime.fromtimestamp(int(stat.last_modified.timestamp()), UTC)

        async def handler(request: web.Request) -> web.StreamResponse:
            return await stream_object(
                request,
                size=stat.size,
                etag=stat.etag,
                last_modified=modified,
                content_type="video/mp4",
                local_path=path,
                open_range=lambda s, e: storage.open_range(stat.key, s, e, REMOTE_CHUNK_SIZE),
                cache_control="private, max-age=60",
            )

        app = web.Application()
        app[THREADS] = Threads(16)  # the server's one pool, as server/app.py makes it
        app.cleanup_ctx.append(threads_ctx)
        app.router.add_get("/video.mp4", handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(runner.addresses[0][1])
        self._ready.set()
        await self._stop.wait()
        await runner.cleanup()


@contextlib.contextmanager
def mediadesk_server(video: Path, private: bool) -> Iterator[tuple[str, dict[str, str], Path]]:
    """Ingests `video` into the temporary data folder and serves it with EmbeddedServer."""
    from core.library import Library
    from core.settings import load_settings
    from server.entry import EmbeddedServer

    library = Library.open(load_settings())
    try:
        record = library.uploads.ingest(
            video, "video", original_filename="bench.mp4", is_public=not private
        )
        stored = library.local_path(record)
        if stored is None:
            raise SystemExit("the bench needs the local storage backend")
        _, secret = library.tokens.create("bench", "admin")
        server = EmbeddedServer(library, "127.0.0.1", 0)
        server.start()
        try:
            yield (
                f"{server.url}/stream/{record.id}/video",
                {"Authorization": f"Bearer {secret}"},
                stored,
            )
        finally:
            server.stop()
    finally:
        library.close()


# --- load ------------------------------------------------------------------------------------


def run_wrk(
    url: str, headers: dict[str, str], size: int, span: int, args: argparse.Namespace, script: Path
) -> Result:
    cmd = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{args.seconds}s",
        "--timeout",
        "30s",
        "-s",
        str(script),
    ]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    cmd += [url, "--", str(size), str(span)]
    out = subprocess.run(
        cmd, capture_output=True, text=True, timeout=args.seconds + 60, check=True
    ).stdout
    match = re.search(r"^BENCH (\d+) (\d+) (\d+) (\d+)$", out, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    requests, nbytes, micros, errors = map(int, match.groups())
    return Result(requests, nbytes, micros / 1e6, errors)


def _client_process(
    url: str, headers: dict[str, str], size: int, span: int, seconds: float, connections: int
) -> tuple[int, int, int]:
    import aiohttp

    async def main() -> tuple[int, int, int]:
        done = nbytes = errors = 0
        deadline = time.monotonic() + seconds
        connector = aiohttp.TCPConnector(limit=connections)
        async with aiohttp.ClientSession(connector=connector, auto_decompress=False) as session:

            async def worker() -> None:
                nonlocal done, nbytes, errors
                while time.monotonic() < deadline:
                    h = dict(headers)
                    if span:
                        start = random.randrange(0, size - span)
                        h["Range"] = f"bytes={start}-{start + span - 1}"
                    async with session.get(url, headers=h) as resp:
                        async for chunk in resp.content.iter_chunked(MiB):
                            nbytes += len(chunk)
                        if resp.status >= 400:
                            errors += 1
                    done += 1

            await asyncio.gather(*(worker() for _ in range(connections)))
        return done, nbytes, errors

    return asyncio.run(main())


def run_aiohttp_load(
    url: str, headers: dict[str, str], size: int, span: int, args: argparse.Namespace
) -> Result:
    """The fallback load generator: --threads processes sharing --connections."""
    per = max(args.connections // args.threads, 1)
    ctx = multiprocessing.get_context("spawn")
    started = time.monotonic()
    with ctx.Pool(args.threads) as pool:
        parts = pool.starmap(
            _client_process, [(url, headers, size, span, args.seconds, per)] * args.threads
        )
    elapsed = time.monotonic() - started - 0.5  # rough start-up allowance
    return Result(
        sum(p[0] for p in parts),
        sum(p[1] for p in parts),
        max(elapsed, args.seconds),
        sum(p[2] for p in parts),
    )


def check(url: str, headers: dict[str, str], size: int) -> None:
    """One ranged GET and one whole HEAD, so the load measures answers that are right."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    conn.request("GET", parts.path, headers={**headers, "Range": "bytes=100-199"})
    resp = conn.getresponse()
    body = resp.read()
    if resp.status != 206 or len(body) != 100:
        raise SystemExit(f"{url}: expected a 100-byte 206, got {resp.status} ({body[:200]!r})")
    conn.request("HEAD", parts.path, headers=headers)
    resp = conn.getresponse()
    resp.read()
    if resp.status != 200 or resp.headers["Content-Length"] != str(size):
        raise SystemExit(
            f"{url}: HEAD gave {resp.status}, Content-Length "
            f"{resp.headers['Content-Length']} (want {size})"
        )
    conn.close()


# --- main ------------------------------------------------------------------------------------

SCENARIOS = (("64 KiB ranges", 64 * 1024), ("1 MiB ranges", MiB), ("whole file", 0))


WRK_MISSING = (
    "wrk is not installed: the figures come from the (slower) Python aiohttp load loop, not "
    "comparable with wrk's (install wrk with `make bench`, `bash scripts/syslibs.sh wrk` as "
    "root or `sudo apt-get install wrk`)"
)


def load_generator(args: argparse.Namespace) -> str:
    """Which client made the figures, for the final table: a ratio measured with the aiohttp
    fallback (its client processes on the servers' cores) is not the README's wrk ratio."""
    if shutil.which("wrk") is not None:
        return f"wrk, {args.threads} threads, {args.connections} connections"
    return (
        f"Python aiohttp fallback ({args.threads} processes, {args.connections} connections; "
        "wrk is not installed: `make bench` or `sudo apt-get install wrk`)"
    )


def measure(
    targets: dict[str, tuple[str, dict[str, str]]],
    size: int,
    args: argparse.Namespace,
    workdir: Path,
) -> tuple[dict[tuple[str, str], Result], dict[str, float]]:
    """Results summed over the rounds, and each scenario's median ratio of the first target to
    the last (rounds alternate the order, so neither always runs right after the other)."""
    script = workdir / "ranges.lua"
    script.write_text(WRK_SCRIPT)
    use_wrk = shutil.which("wrk") is not None
    if not use_wrk:
        log.warning(WRK_MISSING)
    results: dict[tuple[str, str], Result] = {}
    ratios: dict[str, float] = {}
    names = list(targets)
    for scenario, span in SCENARIOS:
        rounds: list[dict[str, Result]] = []
        for round_ in range(args.rounds):
            runs: dict[str, Result] = {}
            order = names if round_ % 2 == 0 else names[::-1]
            for name in order:
                url, headers = targets[name]
                if use_wrk:
                    result = run_wrk(url, headers, size, span, args, script)
                else:
                    result = run_aiohttp_load(url, headers, size, span, args)
                runs[name] = result
                log.info(
                    "%-14s round %d %-15s %9.0f req/s %9.1f MB/s  (%d requests, %d errors)",
                    scenario,
                    round_ + 1,
                    name,
                    result.rps,
                    result.mbps,
                    result.requests,
                    result.errors,
                )
            rounds.append(runs)
        for name in names:
            parts = [r[name] for r in rounds]
            results[scenario, name] = Result(
                sum(p.requests for p in parts),
                sum(p.bytes for p in parts),
                sum(p.seconds for p in parts),
                sum(p.errors for p in parts),
            )
        if len(names) == 2:
            ratios[scenario] = statistics.median(
                r[names[0]].mbps / r[names[1]].mbps if r[names[1]].mbps else float("nan")
                for r in rounds
            )
    return results, ratios


def report(
    results: dict[tuple[str, str], Result],
    ratios: dict[str, float],
    names: list[str],
    generator: str,
) -> None:
    out = sys.stdout
    # each column as wide as its heading and two spaces ("mediadesk+nginx req/s" is 21)
    widths = {n: (max(18, len(n) + 8), max(16, len(n) + 7)) for n in names}
    out.write(
        f"\n{'scenario':<15}"
        + "".join(f"{n + ' req/s':>{widths[n][0]}}{n + ' MB/s':>{widths[n][1]}}" for n in names)
    )
    out.write(f"{'ratio':>8}\n" if len(names) == 2 else "\n")
    for scenario, _ in SCENARIOS:
        row = f"{scenario:<15}"
        for name in names:
            r = results[scenario, name]
            row += f"{r.rps:>{widths[name][0]}.0f}{r.mbps:>{widths[name][1]}.1f}"
        if len(names) == 2:
            row += f"{ratios[scenario]:>7.2f}x"
        out.write(row + "\n")
    errors = sum(r.errors for r in results.values())
    out.write(
        f"(errors: {errors}; ratio = median over the rounds of {names[0]} MB/s / "
        f"{names[-1]} MB/s; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())})\n"
        f"load generator: {generator}\n"
    )


def measurements_only(log_file: Path) -> None:
    """The terminal shows this script's lines and any warning; the INFO lines of the library
    and the server it runs in this process (~30 alembic "Running upgrade" lines, the upload,
    maintenance's report in the middle of a round) go to `log_file` only."""
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    to_file = logging.FileHandler(log_file, mode="w", encoding="utf-8")
    to_file.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    root.addHandler(to_file)
    terminal = logging.StreamHandler()
    terminal.setFormatter(logging.Formatter("%(message)s"))
    terminal.addFilter(lambda r: r.name.startswith("bench.") or r.levelno >= logging.WARNING)
    root.addHandler(terminal)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--raw-module",
        action="store_true",
        help="serve with a bare app around stream_object instead of MediaDesk",
    )
    parser.add_argument("--private", action="store_true", help="ingest the video as private")
    parser.add_argument(
        "--behind-nginx",
        action="store_true",
        help="MediaDesk behind nginx as `mediadesk nginx-config` sets it up (MediaDesk's check "
        "subrequest decides, nginx sends the bytes and keeps the answer for half a second "
        "at most) vs nginx alone",
    )
    parser.add_argument("--seconds", type=int, default=5, help="per round and server")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per scenario")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument(
        "--nginx-workers",
        type=int,
        default=1,
        help="nginx worker processes (default 1, like our one event loop)",
    )
    parser.add_argument(
        "--log",
        type=Path,
        default=Path(tempfile.gettempdir()) / "mediadesk-bench-stream.log",
        help="where the library's and server's own lines go (migrations, uploads, maintenance)",
    )
    args = parser.parse_args()
    measurements_only(args.log)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    exit_on_sigterm()  # the temporary folder (200 MB by default) goes, and nginx stops

    workdir = Path(tempfile.mkdtemp(prefix="mediadesk-bench-"))
    data = workdir / "data"
    data.mkdir()
    os.environ["MEDIADESK_DATA_DIR"] = str(data)
    os.environ["MEDIADESK_CONFIG_FILE"] = str(data / "settings.toml")
    os.environ["MAX_FILE_SIZE"] = str((args.size_mb + 64) * MiB)
    if args.behind_nginx:
        os.environ["MEDIADESK_ACCEL_REDIRECT"] = "/_protected/"
    try:
        started = time.monotonic()
        video = make_video(workdir / "bench.mp4", args.size_mb * MiB)
        log.info(
            "made %s (%.0f MB) in %.1f s",
            video.name,
            video.stat().st_size / 1e6,
            time.monotonic() - started,
        )
        with contextlib.ExitStack() as stack:
            if args.raw_module:
                name = "raw"
                served = video
                url = stack.enter_context(RawModuleServer(served))
                headers: dict[str, str] = {}
            else:
                name = "mediadesk"
                url, headers, served = stack.enter_context(mediadesk_server(video, args.private))
            size = served.stat().st_size
            targets = {name: (url, headers)}
            upstream = objects = None
            if args.behind_nginx:
                upstream, objects = urlsplit(url).port, data / "objects"
            nginx_url = stack.enter_context(
                nginx_server(served, workdir, args.nginx_workers, upstream, objects)
            )
            if args.behind_nginx:
                if nginx_url is None:
                    raise SystemExit("--behind-nginx needs nginx (apt-get install nginx-light)")
                front = nginx_url.rsplit("/", 1)[0] + urlsplit(url).path
                targets = {"mediadesk+nginx": (front, headers)}
            if nginx_url is not None:
                targets["nginx"] = (nginx_url, {})
            for target_url, target_headers in targets.values():
                check(target_url, target_headers, size)
            with open(served, "rb") as f:  # warm the page cache for both servers
                while f.read(8 * MiB):
                    pass
            log.info(
                "serving %d bytes: %s", size, ", ".join(f"{n} {u}" for n, (u, _) in targets.items())
            )
            results, ratios = measure(targets, size, args, workdir)
        report(results, ratios, list(targets), load_generator(args))
        log.info("the library's and server's lines: %s", args.log)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    run_main(main)
