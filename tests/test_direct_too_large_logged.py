"""A direct upload refused as larger than MAX_FILE_SIZE logs the seed's "File validation
error" line, as every other validation error of every flow does (it logged none). Refused as
its file's bytes pass the limit, it is logged and counted under the file_type its form
declared before the file part (it was "unknown"); refused at once by its Content-Length, the
form is unread (tests/test_server_limits.py: at once), so its type and name are unknown."""

from __future__ import annotations

import json
import logging
import subprocess
from pathlib import Path

import pytest

from tests.server_fixtures import bearer, http_call, multipart_body
from tests.upload_limits import (
    VALIDATION,
    Served,
    big_jpeg,
    chunked,
    counter,
    limited,
    pieces,
    seed_records,
)

__all__ = ["limited"]


@pytest.mark.parametrize("sent", ["content-length", "chunked", "expect-continue"])
def test_too_large_direct_upload_is_logged_and_counted_by_its_type(
    limited: Served, sent: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    body, ctype = multipart_body(
        {"file_type": "image"}, {"file": ("big.jpg", big_jpeg(tmp_path), "image/jpeg")}
    )
    kind, name = ("image", "(big.jpg)") if sent == "chunked" else ("unknown", "MAX_FILE_SIZE)")
    labels = {"code": "too_large", "file_type": kind}
    rejected = {"flow": "direct", "outcome": "rejected", "file_type": kind}
    before = counter(limited, "mediadesk_validation_errors_total", **labels)
    uploads_before = counter(limited, "mediadesk_uploads_total", **rejected)
    headers = {**bearer(limited.tokens.upload), "Content-Type": ctype}
    url = f"{limited.url}/files/upload/direct"
    if sent == "expect-continue":  # curl's way: refused before the 100, the route never ran
        form = tmp_path / "form.bin"
        form.write_bytes(body)
        done = subprocess.run(
            ["curl", "-s", "-w", "\n%{http_code}", "-H", "Expect: 100-continue"]
            + [arg for k, v in headers.items() for arg in ("-H", f"{k}: {v}")]
            + ["--data-binary", f"@{form}", url],
            capture_output=True,
            text=True,
            timeout=60,
        )
        answer, status = done.stdout.rsplit("\n", 1)
        assert status == "413", done
        assert json.loads(answer)["error"]["code"] == "too_large"
    else:
        if sent == "chunked":  # refused as the file's bytes pass the limit
            reply = chunked(url, "POST", pieces(body), headers)
        else:  # refused by its Content-Length, unread
            reply = http_call(url, "POST", body, headers)
        assert reply.status == 413, reply.body
        assert reply.json()["error"]["code"] == "too_large"
    told = seed_records(caplog, VALIDATION)  # this test's one upload
    assert [r.getMessage().endswith(name) for r in told] == [True]
    assert (told[0].__dict__["code"], told[0].__dict__["file_type"]) == ("too_large", kind)
    assert counter(limited, "mediadesk_validation_errors_total", **labels) - before == 1
    assert counter(limited, "mediadesk_uploads_total", **rejected) - uploads_before == 1
