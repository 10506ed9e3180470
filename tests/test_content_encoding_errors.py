"""A request body that is not encoded as its Content-Encoding says is the client's error: 400
`bad_request`, no traceback in the log.

Found by an outside security run: `Content-Encoding: gzip` on a body that is no gzip answered
500 `internal_error` and logged a ~40-line traceback at ERROR for each request (an easy way to
flood the log), on a JSON edit, a presign, a direct upload and a tus PATCH alike. Real HTTP over
loopback; a body that is gzip is read as the JSON it holds."""

from __future__ import annotations

import gzip
import json
import logging

import pytest

from server.entry import EmbeddedServer
from tests.media_fixtures import MediaSet
from tests.server_fixtures import Tokens, bearer, http_call, multipart_body, upload_file

pytestmark = pytest.mark.timeout(60)

NOT_GZIP = b'{"description": "not gzip at all, though the header says so"}'


def test_a_body_that_is_not_its_content_encoding_is_a_400(
    live: EmbeddedServer, tokens: Tokens, media_dir: MediaSet, caplog: pytest.LogCaptureFixture
) -> None:
    made = upload_file(live, tokens.upload, media_dir.jpeg)
    form, form_type = multipart_body({"file_type": "image"}, {"file": ("a.jpg", b"x" * 64, "")})
    asks = [
        ("PATCH", f"/files/{made['id']}", NOT_GZIP, "application/json"),
        ("POST", "/files/upload/presigned", NOT_GZIP, "application/json"),
        ("POST", "/files/upload/direct", form, form_type),
    ]
    caplog.set_level(logging.INFO)
    for method, path, body, ctype in asks:
        reply = http_call(
            f"{live.url}{path}",
            method,
            body,
            {**bearer(tokens.admin), "Content-Type": ctype, "Content-Encoding": "gzip"},
        )
        assert reply.status == 400, (path, reply.status, reply.body)
        error = json.loads(reply.body)["error"]
        assert error["code"] == "bad_request", error
        assert "Content-Encoding" in error["message"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    # a body that is what its header says is read as such
    edit = http_call(
        f"{live.url}/files/{made['id']}",
        "PATCH",
        gzip.compress(json.dumps({"description": "sent gzipped"}).encode()),
        {
            **bearer(tokens.admin),
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
        },
    )
    assert edit.status == 200, edit.body
    assert edit.json()["description"] == "sent gzipped"
