"""MEDIADESK_LOG_FORMAT=json from a real `mediadesk serve`, the seed's three log events for every
flow, and the seed's metrics (counted once per file, bandwidth both ways, validation errors).
A log file on a slow disk never holds up the thread that logs."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from core.logsetup import LogFile
from server.entry import EmbeddedServer
from tests.served import serve
from tests.server_fixtures import bearer, http_call, make_tokens, multipart_body

pytestmark = pytest.mark.timeout(120)
ROOT = Path(__file__).resolve().parents[1]


def _presigned(
    url: str, token: str, path: Path, kind: str, mime: str, name: str = ""
) -> tuple[Any, Any]:
    body, ctype = multipart_body({"original_filename": name or path.name, "file_type": kind})
    resp = http_call(
        f"{url}/files/upload/presigned", "POST", body, {"Content-Type": ctype, **bearer(token)}
    )
    assert resp.status == 201, resp.body
    upload = resp.json()
    assert (
        http_call(upload["upload_url"], "PUT", path.read_bytes(), {"Content-Type": mime}).status
        == 200
    )
    done = http_call(f"{url}/files/{upload['file_id']}/confirm-upload", "POST", b"", bearer(token))
    return upload, done


def _direct(url: str, token: str, path: Path, kind: str) -> Any:
    body, ctype = multipart_body(
        {"file_type": kind}, {"file": (path.name, path.read_bytes(), "application/octet-stream")}
    )
    return http_call(
        f"{url}/files/upload/direct", "POST", body, {"Content-Type": ctype, **bearer(token)}
    )


def test_json_logs_from_a_served_process(tmp_path: Path, media_dir: Any) -> None:
    with serve(tmp_path, {}) as served:  # MEDIADESK_LOG_FORMAT=json
        url, token, err_lines = served.url, served.token, served.stderr
        upload, done = _presigned(url, token, media_dir.jpeg, "image", "image/jpeg")
        assert done.status == 200
        bad = _direct(url, token, media_dir.fake_exe_jpg, "image")
        assert bad.status == 400
        good = _direct(url, token, media_dir.png, "image")
        assert good.status == 201
        rejected_upload, rejected = _presigned(
            url, token, media_dir.webm, "image", "image/png", name="x.png"
        )
        assert rejected.status == 400
    records = [json.loads(line) for line in err_lines if line.strip()]  # every line is JSON
    assert records and all(
        {"time", "level", "logger", "message", "request_id"} <= set(r) for r in records
    )
    assert token not in "".join(err_lines)

    def find(prefix: str, **fields: Any) -> dict[str, Any]:
        for r in records:
            if r["message"].startswith(prefix) and all(r.get(k) == v for k, v in fields.items()):
                return r
        raise AssertionError(f"no {prefix!r} {fields} in {[r['message'] for r in records]}")

    key = upload["file_key"]
    presigned = find("Generated presigned upload URL for key: " + key, file_id=upload["file_id"])
    assert presigned["key"] == key and presigned["request_id"]
    stored = done.json()["storage_key"]  # a key of its own, not the one the URL writes
    find("Successfully uploaded file: photo.jpg as " + stored, outcome="created", key=stored)
    find("File validation error", outcome="rejected", code="unsupported_type")  # direct
    direct_key = good.json()["file_key"]
    find(f"Successfully uploaded file: image.png as {direct_key}", file_id=good.json()["id"])
    find(
        "File validation error",
        file_id=rejected_upload["file_id"],
        code="type_mismatch",
        key=rejected_upload["file_key"],
    )
    # the log file has the same JSON lines
    log_lines = (tmp_path / "logs" / "server.log").read_text().splitlines()
    assert [json.loads(line)["message"] for line in log_lines if line.strip()]


def metric(text: str, name: str, **labels: str) -> float:
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith(f"{name}{{{want}}} "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_seed_metrics(live: EmbeddedServer, media_dir: Any) -> None:
    tokens = make_tokens(live.library)
    url = live.url
    upload, done = _presigned(url, tokens.upload, media_dir.jpeg, "image", "image/jpeg")
    assert done.status == 200
    again = http_call(
        f"{url}/files/{upload['file_id']}/confirm-upload", "POST", b"", bearer(tokens.upload)
    )
    assert again.status == 200
    assert _direct(url, tokens.upload, media_dir.mp4, "video").status == 201
    assert _direct(url, tokens.upload, media_dir.truncated_jpeg, "image").status == 400
    video = live.library.list_files(file_type="video").items[0]
    streamed = http_call(f"{url}/stream/{video.id}/video", headers=bearer(tokens.read))
    assert streamed.status == 200
    text = http_call(f"{url}/metrics", headers=bearer(tokens.read)).body.decode()
    jpeg, mp4 = media_dir.jpeg.stat().st_size, media_dir.mp4.stat().st_size
    labels = {"flow": "presigned", "outcome": "created", "file_type": "image"}
    assert metric(text, "mediadesk_uploads_total", **labels) == 1  # the repeat is not counted
    assert (
        metric(text, "mediadesk_uploads_total", flow="direct", outcome="created", file_type="video")
        == 1
    )
    assert (
        metric(
            text, "mediadesk_uploads_total", flow="direct", outcome="rejected", file_type="image"
        )
        == 1
    )
    assert (
        metric(text, "mediadesk_validation_errors_total", code="corrupt_file", file_type="image")
        == 1
    )
    # a confirm refused by validation: once, under the presign's file type, however repeated
    bad, refused = _presigned(url, tokens.upload, media_dir.webm, "image", "image/png", "x.png")
    assert refused.status == 400
    again = http_call(
        f"{url}/files/{bad['file_id']}/confirm-upload", "POST", b"", bearer(tokens.upload)
    )
    assert again.status == 409
    text = http_call(f"{url}/metrics", headers=bearer(tokens.read)).body.decode()
    rejected = {"flow": "presigned", "outcome": "rejected", "file_type": "image"}
    assert metric(text, "mediadesk_uploads_total", **rejected) == 1
    assert (
        metric(text, "mediadesk_validation_errors_total", code="type_mismatch", file_type="image")
        == 1
    )
    bw = "mediadesk_bandwidth_bytes_total"
    webm = media_dir.webm.stat().st_size  # received by the refused upload's PUT all the same
    assert metric(text, bw, direction="in", flow="signed_put", file_type="image") == jpeg + webm
    assert metric(text, bw, direction="in", flow="direct", file_type="video") == mp4
    assert metric(text, bw, direction="out", flow="stream", file_type="video") == mp4
    # tus: the bytes received by the PATCH
    from tests.resumable_client import create, patch

    png = media_dir.png.read_bytes()
    made = create(url, tokens.upload, len(png), filename="t.png", file_type="image")
    assert made.status == 201
    location = made.headers["Location"]
    sent = patch(location if location.startswith("http") else url + location, tokens.upload, 0, png)
    assert sent.status == 204
    text = http_call(f"{url}/metrics", headers=bearer(tokens.read)).body.decode()
    assert metric(text, bw, direction="in", flow="tus", file_type="image") == len(png)
    link = http_call(f"{url}/files/{upload['file_id']}/download", headers=bearer(tokens.read))
    assert link.status == 302
    got = http_call(
        link.headers["Location"]
        if link.headers["Location"].startswith("http")
        else url + link.headers["Location"]
    )
    assert got.status == 200
    deadline = time.monotonic() + 5
    while True:
        text = http_call(f"{url}/metrics", headers=bearer(tokens.read)).body.decode()
        if metric(text, bw, direction="out", flow="download", file_type="image") == jpeg:
            break
        assert time.monotonic() < deadline, text
        time.sleep(0.1)


def test_bucket_uploads_count_at_confirm(s3_live: EmbeddedServer, media_dir: Any) -> None:
    tokens = make_tokens(s3_live.library)
    _, done = _presigned(s3_live.url, tokens.upload, media_dir.png, "image", "image/png")
    assert done.status == 200
    text = http_call(f"{s3_live.url}/metrics", headers=bearer(tokens.read)).body.decode()
    size = media_dir.png.stat().st_size
    assert (
        metric(
            text,
            "mediadesk_bandwidth_bytes_total",
            direction="in",
            flow="presigned_bucket",
            file_type="image",
        )
        == size
    )


def test_a_refused_presign_logs_the_validation_error(
    live: EmbeddedServer, caplog: pytest.LogCaptureFixture
) -> None:
    """README (Logs): 'File validation error: …' is logged for presign, confirm and direct.
    A presign refused for its type or size is the first of the three."""
    tokens = make_tokens(live.library)
    refusals = [
        ({"original_filename": "a.bmp", "file_type": "image"}, "unsupported_type"),
        ({"original_filename": "a.png", "file_type": "video"}, "type_mismatch"),
        (
            {"original_filename": "big.mp4", "file_type": "video", "size": str(1 << 40)},
            "too_large",
        ),
    ]
    with caplog.at_level(logging.INFO, logger="core.ingest"):
        for fields, code in refusals:
            body, ctype = multipart_body(fields)
            resp = http_call(
                f"{live.url}/files/upload/presigned",
                "POST",
                body,
                {"Content-Type": ctype, **bearer(tokens.upload)},
            )
            assert resp.status in (400, 413) and resp.json()["error"]["code"] == code
    logged = [
        (r.getMessage(), getattr(r, "code", None), getattr(r, "outcome", None))
        for r in caplog.records
        if r.getMessage().startswith("File validation error: ")
    ]
    assert [(code, outcome) for _, code, outcome in logged] == [
        (code, "rejected") for _, code in refusals
    ], logged
    assert all(r.levelno == logging.ERROR for r in caplog.records if "validation" in r.message)


def _stuck_fifo(path: Path) -> int:
    """A log file on a disk that stopped answering: a FIFO whose buffer is full, so the next
    write to it blocks until someone reads. Returns the reader's descriptor (non-blocking)."""
    os.mkfifo(path, 0o600)
    reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    stuffing = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    try:
        while True:  # fill the pipe: the log file's next write blocks
            os.write(stuffing, b"\n" * 4096)
    except BlockingIOError:
        pass
    finally:
        os.close(stuffing)
    return reader


def test_a_log_line_does_not_wait_for_the_log_files_disk(tmp_path: Path) -> None:
    """The desktop logs from its GUI thread ("Shown to the user: …", the embedded server's
    address) and the server from its event loop: a log file on a disk that takes seconds per
    write must not stop them. Here the file is a FIFO whose buffer is full, so writing to it
    blocks until someone reads; the caller still returns, and the line arrives once read."""
    path = tmp_path / "server.log"
    reader = _stuck_fifo(path)
    handler = LogFile(path)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log = logging.getLogger("test_logs.slow_disk")
    log.propagate = False
    log.addHandler(handler)

    def three_lines() -> None:
        for n in range(3):
            log.warning("line %d while the disk is stuck", n)

    caller = threading.Thread(target=three_lines)
    got = b""
    try:
        caller.start()
        caller.join(timeout=5)
        returned = not caller.is_alive()
        deadline = time.monotonic() + 30
        while b"line 2 while" not in got and time.monotonic() < deadline:
            try:  # the disk comes back: whoever reads gets every line
                got += os.read(reader, 65536)
            except BlockingIOError:
                time.sleep(0.05)
        caller.join(timeout=30)
    finally:
        log.removeHandler(handler)
        handler.close()
        os.close(reader)
    assert returned, "logging waited for the log file's disk"
    lines = [line for line in got.decode().splitlines() if line]
    assert lines == [f"line {n} while the disk is stuck" for n in range(3)], lines


def test_a_stuck_log_disk_does_not_hold_the_exit(tmp_path: Path) -> None:
    """At exit logging.shutdown flushes and closes every handler: with the log file's disk
    stuck (a network share that stopped answering), flush waited for the stuck writer's lock
    past its DRAIN_TIMEOUT, for ever, so the desktop or server never finished quitting."""
    path = tmp_path / "desktop.log"
    reader = _stuck_fifo(path)
    handler = LogFile(path)
    handler.DRAIN_TIMEOUT = 1.0
    handler.setFormatter(logging.Formatter("%(message)s"))
    log = logging.getLogger("test_logs.stuck_exit")
    log.propagate = False
    log.addHandler(handler)
    try:
        log.warning("stuck")
        stop = threading.Thread(target=lambda: (handler.flush(), handler.close()), daemon=True)
        stop.start()
        stop.join(timeout=15)
        assert not stop.is_alive(), "flush/close waited for the stuck disk"
    finally:
        log.removeHandler(handler)
        os.close(reader)  # the writer's write fails (EPIPE) and its thread ends


def test_a_burst_of_lines_reaches_the_log_file_whole(tmp_path: Path) -> None:
    """One line a file while a big folder is imported: 30,000 lines logged at once lost a
    third of them (the writer thread waits for the interpreter behind the logging thread)."""
    path = tmp_path / "desktop.log"
    handler = LogFile(path, max_bytes=100_000_000)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log = logging.getLogger("test_logs.burst")
    log.propagate = False
    log.setLevel(logging.INFO)
    log.addHandler(handler)
    try:
        for n in range(30_000):
            log.info("imported file %d", n)
    finally:
        log.removeHandler(handler)
        handler.close()
    lines = path.read_text().splitlines()
    assert len(lines) == 30_000 and lines[-1] == "imported file 29999", lines[-3:]
