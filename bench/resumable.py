"""Benchmark: a big file through tus on local storage, against a direct upload and `cp`.

One run, one machine, loopback, `mediadesk serve` in a subprocess:

- the `cp` command copying the file into the data folder's file system (the tool people would
  use instead), and the same copy with an fsync at the end (`dd conv=fsync`), since the server
  fsyncs too;
- the floor under any upload server on this box: the same bytes over loopback TCP into a file
  with SHA-256 beside, no HTTP and no catalogue (a few lines of Python);
  and its two parts alone: loopback TCP with the bytes dropped, SHA-256 on one core (every
  upload is hashed: duplicates are found by it);
- the direct upload (`curl -F file=@…` to POST /files/upload/direct);
- tus (one PATCH per 64 MiB chunk: headers by `http.client`, the body by sendfile(), so the
  client takes little of the CPU the server needs), until catalogued, with the server's CPU
  seconds per GiB for each;
- each figure the best of --rounds (3), the references and the uploads taking turns going
  first each round (AB, BA...);
- the server's RSS growth (VmHWM at the end minus VmRSS before the uploads);
- tus again, with the server SIGKILLed when half the bytes are acknowledged: bytes the client
  had sent that the server lost (sent again after the restart), then the resumed upload.

The file is a valid MP4 (two seconds of H.264) followed by a top-level `free` box that pads it
to the size asked for, so validation, hashing and cataloguing run as for a real recording.
Run `.venv/bin/python bench/resumable.py [--size-mib 1024] [--rounds 3]` (at least 128 MiB:
two chunks). Needs `curl` (`bash scripts/syslibs.sh curl`), `cp` and `dd`.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import queue
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import dev_packages, exit_on_sigterm, run_main, taking_turns  # noqa: E402
from core.library import Library  # noqa: E402
from core.settings import load_settings  # noqa: E402

with dev_packages():
    from tests.resumable_client import (  # noqa: E402
        MiB,
        ServeProcess,
        call,
        free_port,
        head,
        padded_mp4,
        tus_send,
    )
    from tests.server_fixtures import bearer  # noqa: E402

CHUNK = 64 * MiB
GiB = 1024 * MiB
# the commands it runs, with the Debian package that has each: curl for the direct upload,
# cp and dd for the references
TOOLS = {"curl": "curl", "cp": "coreutils", "dd": "coreutils"}


def missing_tools() -> str | None:
    """One line naming the commands this benchmark runs that are not on PATH and how to install
    them, or None: without curl it went through minutes of setup (the file written, the
    server started, the references timed) to end in a FileNotFoundError traceback."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if not missing:
        return None
    packages = " ".join(dict.fromkeys(TOOLS[tool] for tool in missing))
    verb = "is" if len(missing) == 1 else "are"
    return f"{' and '.join(missing)} {verb} not installed: bash scripts/syslibs.sh {packages}"


def memory(server: ServeProcess, field: str) -> int:
    """A /proc/<pid>/status figure of the server in bytes (VmRSS, VmHWM)."""
    assert server.proc is not None
    for line in Path(f"/proc/{server.proc.pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(field)


def cpu_seconds(server: ServeProcess) -> float:
    """The server's user + system CPU time so far."""
    assert server.proc is not None
    fields = Path(f"/proc/{server.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settled(base: str, token: str, file_id: int, timeout: float = 300) -> None:
    """Waits until the file's processing jobs (the video worker's renditions) are over, so
    that they do not run on the same cores as the next upload measured."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reply = call(f"{base}/jobs?file_id={file_id}", headers=bearer(token))
        jobs = json.loads(reply.body)["items"]
        if all(job["state"] not in ("queued", "running") for job in jobs):
            return
        time.sleep(0.1)
    raise RuntimeError(f"the jobs of file {file_id} did not end in {timeout} s")


def hard_delete(base: str, token: str, file_id: int) -> None:
    settled(base, token, file_id)
    reply = call(
        f"{base}/files/{file_id}?hard_delete=true", "DELETE", headers=bearer(token), timeout=600
    )
    assert reply.status in (200, 204), reply.status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3, help="rounds taking turns; the best")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.size_mib * MiB < 2 * CHUNK:
        # the SIGKILL at half the bytes comes between two PATCHes: with one chunk it came after
        # the whole file, and "0 bytes sent again" looked like a resume that was never tried
        raise SystemExit(
            f"--size-mib must be at least {2 * CHUNK // MiB} (two {CHUNK // MiB} MiB tus chunks), "
            "or the kill at 50 % lands after the whole file"
        )
    if (missing := missing_tools()) is not None:
        raise SystemExit(missing)
    exit_on_sigterm()  # stops `mediadesk serve` and removes the GiB-sized temporary folder
    size = args.size_mib * MiB
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp_name:
        tmp = Path(tmp_name)
        source = padded_mp4(tmp / "match.mp4", size)
        os.sync()  # no write-back of the source competes with the measurements
        data_dir = tmp / "data"
        settings = load_settings(
            environ={}, config_file=data_dir / "settings.toml", data_dir=str(data_dir)
        )
        lib = Library.open(settings)
        upload = lib.tokens.create("bench", "admin")[1]
        lib.close()
        server = ServeProcess(data_dir, free_port(), max_size=size + 64 * MiB)
        server.start()
        base = server.url
        results: dict[str, object] = {
            "size_bytes": size,
            "load_average": [round(x, 2) for x in os.getloadavg()],
        }
        try:
            copy = tmp / "copy.mp4"
            # cp leaves the bytes in the page cache; the server fsyncs what it acknowledges
            dd = ["dd", f"if={source}", f"of={copy}", "bs=1M", "conv=fsync", "status=none"]

            def references() -> tuple[float, float, tuple[float, float]]:
                """One round of the references: the `cp` command (page cache warm for every
                contender: the source was just written), `dd conv=fsync`, the floor."""
                copy.unlink(missing_ok=True)
                cp = _timed(subprocess.run, ["cp", str(source), str(copy)], check=True)
                copy.unlink()
                fsynced = _timed(subprocess.run, dd, check=True)
                copy.unlink()
                floor = _bare_socket(source, copy)
                copy.unlink()
                return cp, fsynced, floor

            def uploads() -> tuple[float, float, float]:
                """One round of MediaDesk: the direct upload, then tus until catalogued (and
                the server's CPU seconds for tus)."""
                started = time.perf_counter()
                out = subprocess.run(
                    [
                        "curl",
                        "-s",
                        "-H",
                        f"Authorization: Bearer {upload}",
                        "-F",
                        f"file=@{source};type=video/mp4",
                        "-F",
                        "file_type=video",
                        f"{base}/files/upload/direct",
                    ],
                    capture_output=True,
                    check=True,
                )
                direct = time.perf_counter() - started
                hard_delete(base, upload, json.loads(out.stdout)["id"])
                cpu_before = cpu_seconds(server)
                started = time.perf_counter()
                _, tus_id, _ = tus_send(base, upload, source, CHUNK)
                tus = time.perf_counter() - started
                cpu = cpu_seconds(server) - cpu_before
                hard_delete(base, upload, tus_id)
                return direct, tus, cpu

            loopback_seconds = min(_bare_socket(source, None)[0] for _ in range(3))
            sha256_mib_s = _sha256_rate(source)
            call(f"{base}/health")
            rss_before = memory(server, "VmRSS")
            # the best of --rounds of each, the references and MediaDesk taking turns going
            # first (AB, BA...): one copy on a shared box can be several times slower, and
            # the side always run first met another load than the other
            ref_runs, our_runs = taking_turns(references, uploads, args.rounds)
            cp_runs = [cp for cp, _, _ in ref_runs]
            cp_seconds = min(cp_runs)
            cp_fsync_seconds = min(fsynced for _, fsynced, _ in ref_runs)
            floor_runs = [floor for _, _, floor in ref_runs]
            direct_seconds = min(direct for direct, _, _ in our_runs)
            tus_runs = [tus for _, tus, _ in our_runs]
            cpu_runs = [cpu for _, _, cpu in our_runs]
            tus_seconds = min(tus_runs)
            rss_peak = memory(server, "VmHWM")

            # SIGKILL when half the file is acknowledged, then resume
            location, _, body = tus_send(base, upload, source, CHUNK, stop_before=size // 2)
            assert body is not None
            worker = threading.Thread(
                target=_swallow, args=(body.patch, location, upload), daemon=True
            )
            worker.start()
            while int(head(location, upload).headers["Upload-Offset"]) < size // 2:
                time.sleep(0.01)
            server.kill()
            worker.join(30)
            sent_at_kill = body.sent  # what left the client, in socket buffers included
            server.start()
            kept = int(head(location, upload).headers["Upload-Offset"])
            started = time.perf_counter()
            _, resumed_id, _ = tus_send(base, upload, source, CHUNK, location=location)
            resume_seconds = time.perf_counter() - started
            assert resumed_id > 0
        finally:
            server.stop()

        def rate(seconds: float) -> float:
            return size / MiB / seconds

        results.update(
            rounds=args.rounds,
            cp_mib_s=round(rate(cp_seconds), 1),
            cp_runs_mib_s=[round(rate(t), 1) for t in cp_runs],
            direct_mib_s=round(rate(direct_seconds), 1),
            bare_socket_mib_s=round(rate(min(t for t, _ in floor_runs)), 1),
            bare_socket_cpu_s_per_gib=[round(c * GiB / size, 2) for _, c in floor_runs],
            loopback_tcp_only_mib_s=round(rate(loopback_seconds), 1),
            sha256_one_core_mib_s=round(sha256_mib_s, 1),
            tus_mib_s=round(rate(tus_seconds), 1),
            tus_runs_mib_s=[round(rate(t), 1) for t in tus_runs],
            server_cpu_s_per_gib=[round(c * GiB / size, 2) for c in cpu_runs],
            cp_fsync_mib_s=round(rate(cp_fsync_seconds), 1),
            tus_vs_cp=round(cp_seconds / tus_seconds, 2),
            tus_vs_cp_fsync=round(cp_fsync_seconds / tus_seconds, 2),
            direct_vs_cp=round(cp_seconds / direct_seconds, 2),
            tus_vs_direct=round(direct_seconds / tus_seconds, 2),
            tus_vs_bare_socket=round(min(t for t, _ in floor_runs) / tus_seconds, 2),
            server_rss_growth_mib=round((rss_peak - rss_before) / MiB, 1),
            killed_at_offset=kept,
            client_had_sent=sent_at_kill,
            bytes_sent_again=sent_at_kill - kept,
            bytes_sent_again_mib=round((sent_at_kill - kept) / MiB, 1),
            resume_seconds=round(resume_seconds, 2),
            load_average_after=[round(x, 2) for x in os.getloadavg()],
        )
        print(json.dumps(results, indent=2))


# The client of _bare_socket: the file through sendfile(), as tus_send sends PATCH bodies.
_SENDER = """
import os, socket, sys
conn = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
with open(sys.argv[2], "rb") as f:
    size, at = os.fstat(f.fileno()).st_size, 0
    while at < size:
        at += os.sendfile(conn.fileno(), f.fileno(), at, size - at)
conn.recv(1)
"""


def _bare_socket(source: Path, target: Path | None) -> tuple[float, float]:
    """The floor under any upload server on this box: the bytes over loopback TCP from another
    process, recv_into() a few reused buffers, written to a file, SHA-256 in a thread beside
    it; no HTTP, no checkpoints, no catalogue. Without a target, the bytes are only received
    (loopback TCP's own limit here). Returns (seconds, receiver CPU seconds)."""
    size = source.stat().st_size
    listener = socket.create_server(("127.0.0.1", 0))
    sha = hashlib.sha256()
    jobs: queue.Queue[memoryview | None] = queue.Queue(2)

    def hash_all() -> None:
        while (view := jobs.get()) is not None:
            sha.update(view)

    process_before = time.process_time()  # this process: the receiver and its hasher
    started = time.perf_counter()
    port = str(listener.getsockname()[1])
    sender = subprocess.Popen([sys.executable, "-c", _SENDER, port, str(source)])
    conn, _ = listener.accept()
    hasher = threading.Thread(target=hash_all)
    hasher.start()
    ring = [memoryview(bytearray(2 * MiB)) for _ in range(4)]
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600) if target else -1
    got = turn = 0
    while got < size:
        buf = ring[turn % len(ring)]
        turn += 1
        want, filled = min(len(buf), size - got), 0
        while filled < want:
            n = conn.recv_into(buf[filled:want])
            if not n:
                raise RuntimeError("the sender stopped early")
            filled += n
        if fd >= 0:
            os.write(fd, buf[:filled])
            jobs.put(buf[:filled])
        got += filled
    jobs.put(None)
    hasher.join()
    if fd >= 0:
        os.fsync(fd)
        os.close(fd)
    seconds = time.perf_counter() - started
    conn.send(b"x")
    sender.wait()
    conn.close()
    listener.close()
    return seconds, time.process_time() - process_before


def _sha256_rate(source: Path) -> float:
    """SHA-256 on one core, MiB/s, at its best: 512 MiB hashed from a 2 MiB buffer kept in the
    CPU's cache, as the server hashes each body buffer right after receiving it (the best of
    three). Every upload path hashes every byte (duplicates are found by it), one stream on
    one core, so no upload here can be catalogued faster than this."""
    with open(source, "rb") as f:
        chunk = memoryview(f.read(2 * MiB))

    def hash_512_mib() -> None:
        sha = hashlib.sha256()
        for _ in range(256):
            sha.update(chunk)

    return 512 / min(_timed(hash_512_mib) for _ in range(3))


def _timed(fn: Callable[..., object], *args: object, **kwargs: object) -> float:
    started = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - started


def _swallow(fn: Callable[..., object], *args: object) -> None:
    with contextlib.suppress(OSError):  # the server was killed under this request
        fn(*args)


if __name__ == "__main__":
    run_main(main)
