"""Benchmark: a big file through tus on local storage, against a direct upload and `cp`.

One run, one machine, loopback, `mediadesk serve` in a subprocess:

- `cp` of the file into the data folder's file system (the tool people would use instead), and
  the same copy with an fsync at the end (`dd conv=fsync`), since the server fsyncs too (the
  best of three runs of each);
- the direct upload (`curl -F file=@…` to POST /files/upload/direct);
- tus (one PATCH per 64 MiB chunk: headers by `http.client`, the body by sendfile(), so the
  client takes little of the CPU the server needs), until catalogued;
- the server's RSS growth (VmHWM at the end minus VmRSS before the uploads);
- tus again, with the server SIGKILLed when half the bytes are acknowledged: bytes the client
  had sent that the server lost (sent again after the restart), then the resumed upload.

The file is a valid MP4 (two seconds of H.264) followed by a top-level `free` box that pads it
to the size asked for, so validation, hashing and cataloguing run as for a real recording.
Run `.venv/bin/python bench/resumable.py [--size-mib 1024]`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.library import Library  # noqa: E402
from core.settings import load_settings  # noqa: E402
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


def memory(server: ServeProcess, field: str) -> int:
    """A /proc/<pid>/status figure of the server in bytes (VmRSS, VmHWM)."""
    assert server.proc is not None
    for line in Path(f"/proc/{server.proc.pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(field)


def hard_delete(base: str, token: str, file_id: int) -> None:
    reply = call(
        f"{base}/files/{file_id}?hard_delete=true", "DELETE", headers=bearer(token), timeout=600
    )
    assert reply.status in (200, 204), reply.status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mib", type=int, default=1024)
    args = parser.parse_args()
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
            # cp (page cache warm for every contender: the source was just written); the
            # best of three, since one copy on a shared box can be several times slower
            cp_seconds = min(_timed(shutil.copyfile, source, tmp / "copy.mp4") for _ in range(3))
            # cp leaves the bytes in the page cache; the server fsyncs what it acknowledges
            dd = ["dd", f"if={source}", f"of={tmp / 'copy.mp4'}", "bs=1M", "conv=fsync"]
            cp_fsync_seconds = min(
                _timed(subprocess.run, [*dd, "status=none"], check=True) for _ in range(3)
            )
            (tmp / "copy.mp4").unlink()
            call(f"{base}/health")
            rss_before = memory(server, "VmRSS")

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
            direct_seconds = time.perf_counter() - started
            direct_id = json.loads(out.stdout)["id"]
            hard_delete(base, upload, direct_id)

            started = time.perf_counter()
            _, tus_id, _ = tus_send(base, upload, source, CHUNK)
            tus_seconds = time.perf_counter() - started
            rss_peak = memory(server, "VmHWM")
            hard_delete(base, upload, tus_id)

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
            cp_mib_s=round(rate(cp_seconds), 1),
            direct_mib_s=round(rate(direct_seconds), 1),
            tus_mib_s=round(rate(tus_seconds), 1),
            cp_fsync_mib_s=round(rate(cp_fsync_seconds), 1),
            tus_vs_cp=round(cp_seconds / tus_seconds, 2),
            tus_vs_cp_fsync=round(cp_fsync_seconds / tus_seconds, 2),
            direct_vs_cp=round(cp_seconds / direct_seconds, 2),
            tus_vs_direct=round(direct_seconds / tus_seconds, 2),
            server_rss_growth_mib=round((rss_peak - rss_before) / MiB, 1),
            killed_at_offset=kept,
            client_had_sent=sent_at_kill,
            bytes_sent_again=sent_at_kill - kept,
            bytes_sent_again_mib=round((sent_at_kill - kept) / MiB, 1),
            resume_seconds=round(resume_seconds, 2),
            load_average_after=[round(x, 2) for x in os.getloadavg()],
        )
        print(json.dumps(results, indent=2))


def _timed(fn: Callable[..., object], *args: object, **kwargs: object) -> float:
    started = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - started


def _swallow(fn: Callable[..., object], *args: object) -> None:
    with contextlib.suppress(OSError):  # the server was killed under this request
        fn(*args)


if __name__ == "__main__":
    main()
