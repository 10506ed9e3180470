"""The seed's log lines, alike in every flow: a direct upload's duplicate logs "Successfully
uploaded file: NAME as KEY (duplicate of file N)" as a confirm's does (it logged "Duplicate of
file N: NAME"), both with file_type; a confirm's "File validation error" names the file, as
presign and direct upload do (it named the storage key)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.server_fixtures import bearer, http_call, multipart_body
from tests.upload_limits import (
    VALIDATION,
    Served,
    confirm,
    limited,
    noise_jpeg,
    presign,
    seed_records,
)

__all__ = ["limited"]
UPLOADED = "Successfully uploaded file: "


def _direct(served: Served, name: str, data: bytes) -> int:
    body, ctype = multipart_body({"file_type": "image"}, {"file": (name, data, "image/jpeg")})
    headers = {**bearer(served.tokens.upload), "Content-Type": ctype}
    reply = http_call(f"{served.url}/files/upload/direct", "POST", body, headers)
    assert reply.status in (200, 201), reply.body
    return int(reply.json()["id"])


def test_duplicates_log_the_seed_line_with_file_type(
    limited: Served, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    data = noise_jpeg(tmp_path / "a.jpg", 60)
    first = _direct(limited, "one.jpg", data)
    caplog.clear()
    assert _direct(limited, "two.jpg", data) == first
    grant = presign(limited, original_filename="three.jpg", file_type="image")
    assert http_call(grant["upload_url"], "PUT", data, {"Content-Type": "image/jpeg"}).status == 200
    assert confirm(limited, grant["file_id"]).status == 200
    dups = [r for r in caplog.records if r.__dict__.get("outcome") == "duplicate"]
    assert [r.getMessage().startswith(UPLOADED) for r in dups] == [True, True]
    assert [f"duplicate of file {first})" in r.getMessage() for r in dups] == [True, True]
    assert [r.__dict__.get("file_type") for r in dups] == ["image", "image"]


def test_confirm_validation_error_names_the_file(
    limited: Served, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    grant = presign(limited, original_filename="wrong.jpg", file_type="image")
    put = http_call(
        grant["upload_url"], "PUT", b"not a picture" * 20, {"Content-Type": "image/jpeg"}
    )
    assert put.status == 200
    assert confirm(limited, grant["file_id"]).status == 400
    [told] = seed_records(caplog, VALIDATION)
    assert told.getMessage().endswith("(wrong.jpg)"), told.getMessage()
    assert (told.__dict__["file_id"], told.__dict__["file_type"]) == (grant["file_id"], "image")
