"""Benchmark: a big file through tus on local storage, against a direct upload and `cp`.

One run, one machine, loopback, `mediadesk serve` in a subprocess:

- `cp` of the file into the data folder's file system (the tool people would use instead), and
  the same copy with an fsync at the end (`dd conv=fsync`), since the server fsyncs too;
- the direct upload (`curl -F file=@…` to POST /files/upload/direct);
- tus (one streamed PATCH per 64 MiB chunk, `http.client`), until catalogued;
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
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.library import Library  # noqa: E402
from core.settings import load_settings  # noqa: E402
from tests.media import make_mp4  # noqa: E402

MiB = 1024 * 1024
CHUNK = 64 * MiB


def padded_mp4(path: Path, size: int) -> Path:
    make_mp4(path, seconds=2)
    pad = size - path.stat().st_size - 16
    block = os.urandom(MiB)
    with open(path, "ab") as fh:
        fh.write((1).to_bytes(4, "big") + b"free" + (pad + 16).to_bytes(8, "big"))
        while pad > 0:
            fh.write(block[: min(pad, MiB)])
            pad -= MiB
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, data_dir: Path, port: int, max_size: int) -> None:
        self.data_dir, self.port, self.max_size = data_dir, port, max_size
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIADESK_")}
        env.update(MAX_FILE_SIZE=str(self.max_size), MEDIADESK_UPLOAD_RATE_LIMIT="0")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys; from server.entry import main; sys.exit(main(sys.argv[1:]))",
                "serve",
                "--port",
                str(self.port),
                "--data-dir",
                str(self.data_dir),
                "--log-level",
                "WARNING",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if request("GET", self.port, "/health")[0] < 500:
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def memory(self, field: str) -> int:
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
        raise RuntimeError(field)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def request(
    method: str, port: int, path: str, headers: dict[str, str] | None = None, body: object = None
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600, blocksize=MiB)
    try:
        conn.request(method, path, body=body, headers=headers or {})  # type: ignore[arg-type]
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


class Slice:
    """Reads [start, end) of a file and counts what was read (what the client has sent)."""

    def __init__(self, path: Path, start: int, end: int) -> None:
        self.fh = open(path, "rb")  # noqa: SIM115
        self.fh.seek(start)
        self.left = end - start
        self.sent = start

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        data = self.fh.read(n)
        self.left -= len(data)
        self.sent += len(data)
        return data


def tus_upload(
    port: int, token: str, path: Path, location: str | None = None, kill_at: int | None = None
) -> tuple[str, int, Slice | None]:
    """Creates (or resumes) and PATCHes in CHUNK pieces; returns (location, file id or -1)."""
    size = path.stat().st_size
    auth = {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}
    if location is None:
        status, headers, _ = request(
            "POST", port, "/files/upload/tus", {**auth, "Upload-Length": str(size)}
        )
        assert status == 201, status
        location = headers["Location"]
    status, headers, _ = request("HEAD", port, location, auth)
    offset = int(headers["Upload-Offset"])
    while offset < size:
        end = min(offset + CHUNK, size)
        body = Slice(path, offset, end)
        patch_headers = {
            **auth,
            "Content-Type": "application/offset+octet-stream",
            "Upload-Offset": str(offset),
            "Content-Length": str(end - offset),
        }
        if kill_at is not None and end > kill_at:
            return location, -1, body  # the caller streams this chunk and kills the server
        status, headers, answer = request("PATCH", port, location, patch_headers, body)
        assert status == 204, (status, answer)
        offset = int(headers["Upload-Offset"])
    return location, int(headers["MediaDesk-File-Id"]), None


def hard_delete(port: int, token: str, file_id: int) -> None:
    status, _, _ = request(
        "DELETE", port, f"/files/{file_id}?hard_delete=true", {"Authorization": f"Bearer {token}"}
    )
    assert status in (200, 204), status


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
        port = free_port()
        server = Server(data_dir, port, max_size=size + 64 * MiB)
        server.start()
        results: dict[str, object] = {"size_bytes": size}
        try:
            # cp (page cache warm for every contender: the source was just written)
            started = time.perf_counter()
            shutil.copyfile(source, tmp / "copy.mp4")
            cp_seconds = time.perf_counter() - started
            (tmp / "copy.mp4").unlink()
            # cp leaves the bytes in the page cache; the server fsyncs what it acknowledges
            started = time.perf_counter()
            subprocess.run(
                [
                    "dd",
                    f"if={source}",
                    f"of={tmp / 'copy.mp4'}",
                    "bs=1M",
                    "conv=fsync",
                    "status=none",
                ],
                check=True,
            )
            cp_fsync_seconds = time.perf_counter() - started
            (tmp / "copy.mp4").unlink()
            request("GET", port, "/health")
            rss_before = server.memory("VmRSS")

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
                    f"http://127.0.0.1:{port}/files/upload/direct",
                ],
                capture_output=True,
                check=True,
            )
            direct_seconds = time.perf_counter() - started
            direct_id = json.loads(out.stdout)["id"]
            hard_delete(port, upload, direct_id)

            started = time.perf_counter()
            _, tus_id, _ = tus_upload(port, upload, source)
            tus_seconds = time.perf_counter() - started
            rss_peak = server.memory("VmHWM")
            hard_delete(port, upload, tus_id)

            # SIGKILL when half the file is acknowledged, then resume
            location, _, body = tus_upload(port, upload, source, kill_at=size // 2)
            assert body is not None
            auth = {"Authorization": f"Bearer {upload}", "Tus-Resumable": "1.0.0"}
            patch_headers = {
                **auth,
                "Content-Type": "application/offset+octet-stream",
                "Upload-Offset": str(body.sent),
                "Content-Length": str(body.left),
            }
            worker = threading.Thread(
                target=lambda: _swallow(request, "PATCH", port, location, patch_headers, body),
                daemon=True,
            )
            worker.start()
            while True:
                _, headers, _ = request("HEAD", port, location, auth)
                if int(headers["Upload-Offset"]) >= size // 2:
                    break
                time.sleep(0.01)
            server.kill()
            worker.join(30)
            sent_at_kill = body.sent  # what left the client, in socket buffers included
            server.start()
            _, headers, _ = request("HEAD", port, location, auth)
            kept = int(headers["Upload-Offset"])
            started = time.perf_counter()
            _, resumed_id, _ = tus_upload(port, upload, source, location=location)
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
        )
        print(json.dumps(results, indent=2))


def _swallow(fn: object, *args: object) -> None:
    with contextlib.suppress(OSError):  # the server was killed under this request
        fn(*args)  # type: ignore[operator]


if __name__ == "__main__":
    main()
