"""A presigned upload whose PUT is over MAX_FILE_SIZE, from the client's view on both backends:
a bucket takes the PUT and its confirm refuses the object (413 too_large, the file failed);
this server's signed PUT refuses the body itself, and its confirm answered 400
upload_not_received, the file left pending, no "File validation error" logged or counted."""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

import pytest

from core.db import engine
from core.library import Library
from server.entry import EmbeddedServer
from tests.catalog_lock_helpers import held
from tests.conftest import make_settings
from tests.server_fixtures import http_call, make_tokens, server_config
from tests.upload_limits import (
    LIMIT,
    VALIDATION,
    Served,
    chunked,
    confirm,
    counter,
    file_status,
    limited,
    noise_jpeg,
    pieces,
    presign,
    seed_records,
)

__all__ = ["limited"]


@pytest.mark.parametrize("sent", ["content-length", "chunked"])
def test_confirm_after_an_oversized_put_answers_too_large(
    limited: Served, sent: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    data = noise_jpeg(tmp_path / "big.jpg", 260)  # over LIMIT, not past the form overhead
    grant = presign(limited, original_filename="big.jpg", file_type="image")
    before = counter(limited, "mediadesk_validation_errors_total", code="too_large")
    headers = {"Content-Type": "image/jpeg"}
    if sent == "chunked":
        put = chunked(grant["upload_url"], "PUT", pieces(data), headers)
    else:
        put = http_call(grant["upload_url"], "PUT", data, headers)
    # the bucket keeps it (its confirm judges it); this server refuses it as it comes
    assert put.status == (200 if limited.backend == "s3" else 413), put.body

    done = confirm(limited, grant["file_id"])
    assert done.status == 413, done.body
    assert done.json()["error"]["code"] == "too_large"
    assert file_status(limited, grant["file_id"]) == "failed"
    again = confirm(limited, grant["file_id"])  # a repeat answers the failure, as before
    assert (again.status, again.json()["error"]["reason"]) == (409, "too_large")
    told = [
        r for r in seed_records(caplog, VALIDATION) if r.__dict__.get("file_id") == grant["file_id"]
    ]
    assert len(told) == 1
    assert told[0].__dict__["code"] == "too_large"
    after = counter(limited, "mediadesk_validation_errors_total", code="too_large")
    assert after - before == 1


def test_a_smaller_put_after_the_refusal_is_confirmed(limited: Served, tmp_path: Path) -> None:
    """The refusal is no verdict on the upload: the bytes sent again within the limit are
    what the confirm checks."""
    grant = presign(limited, original_filename="pic.jpg", file_type="image")
    headers = {"Content-Type": "image/jpeg"}
    http_call(grant["upload_url"], "PUT", noise_jpeg(tmp_path / "big.jpg", 260), headers)
    small = noise_jpeg(tmp_path / "small.jpg", 60)
    assert http_call(grant["upload_url"], "PUT", small, headers).status == 200
    done = confirm(limited, grant["file_id"])
    assert done.status == 200, done.body
    assert done.json()["status"] == "ready"


def test_a_put_far_past_the_limit_sent_as_curl_does_is_noted_too(
    limited: Served, tmp_path: Path
) -> None:
    """curl sends a file over 1 MB with Expect: 100-continue; one far past the limit (beyond
    any direct upload's form too) was refused before the signed PUT's own checks ran, so the
    refusal was not noted and the confirm answered 400 upload_not_received."""
    if limited.backend == "s3":
        pytest.skip("the bucket takes any PUT; its confirm judges the object")
    path = tmp_path / "far.jpg"
    path.write_bytes(noise_jpeg(tmp_path / "n.jpg", 260) + b"\0" * 2_000_000)
    grant = presign(limited, original_filename="far.jpg", file_type="image")
    put = subprocess.run(
        [
            "curl",
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-T",
            str(path),
            "-H",
            "Content-Type: image/jpeg",
            grant["upload_url"],
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert put.stdout == "413", put
    done = confirm(limited, grant["file_id"])
    assert done.status == 413, done.body
    assert done.json()["error"]["code"] == "too_large"
    assert file_status(limited, grant["file_id"]) == "failed"


def test_an_oversized_put_is_413_while_the_catalog_takes_no_note(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The refusal is noted on the pending file for its confirm; with the catalog held by
    another program (a backup tool) that note failed and its 500 catalog_busy, with
    Retry-After, replaced the 413: the client was told to send the same body again."""
    monkeypatch.setattr(engine, "BUSY_TIMEOUT_MS", 300)
    lib = Library.open(make_settings(data_dir, max_file_size=LIMIT))
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        served = Served("local", server, make_tokens(lib))
        grant = presign(served, original_filename="big.jpg", file_type="image")
        data = noise_jpeg(tmp_path / "big.jpg", 260)
        with held(data_dir / "mediadesk.sqlite3", "writers-out"):
            put = http_call(grant["upload_url"], "PUT", data, {"Content-Type": "image/jpeg"})
        assert put.status == 413, put.body
        assert put.json()["error"]["code"] == "too_large"
    finally:
        server.stop()
        lib.close()
