"""A tus upload still being written to does not expire: every PATCH that stores bytes gives it
MEDIADESK_TUS_EXPIRY again (tusd's sliding expiry), told in its Upload-Expires. Before, the
expiry was fixed at the creation: a multi-GB upload from a phone on bad Wi-Fi, still receiving
at hour 23, answered 410 at hour 24 and maintenance removed it. An idle one still expires."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from core.db.models import ResumableUpload
from core.library import Library
from core.maintenance import run_maintenance
from server.entry import EmbeddedServer
from tests.conftest import make_settings
from tests.internals import db_of
from tests.resumable_client import MiB, create, head, noise_png, patch
from tests.s3_server import S3Target
from tests.server_fixtures import bearer, http_call, make_tokens, server_config
from tests.test_tus_unanswered import _store

EXPIRY = 60  # MEDIADESK_TUS_EXPIRY's least value: the test's "24 h"
# What is left of an upload's expiry when the test starts writing to it ("hour 23"); a loaded
# CI machine once took 6 s over the first PATCH to moto, past a 4 s LEFT
LEFT = timedelta(seconds=8)


@pytest.fixture(params=["local", "s3"])
def bucket(request: pytest.FixtureRequest) -> S3Target | None:
    if request.param == "local":
        return None
    return request.getfixturevalue("s3_bucket")  # type: ignore[no-any-return]


@pytest.fixture
def library(data_dir: Path, bucket: S3Target | None) -> Iterator[Library]:
    settings = make_settings(data_dir, max_file_size=300 * MiB, tus_expiry=EXPIRY, **_store(bucket))
    lib = Library.open(settings)
    yield lib
    lib.close()


def _expires(headers: dict[str, str]) -> datetime:
    return parsedate_to_datetime(headers["Upload-Expires"])


def _nearly_run_out(lib: Library, upload_id: str) -> datetime:
    """The upload's expiry brought to LEFT from now, as if it had lived almost all of it."""
    end = datetime.now(UTC) + LEFT
    with db_of(lib).write() as s:
        row = s.get(ResumableUpload, upload_id)
        assert row is not None
        row.expires_at = end
    return end


def test_an_upload_written_to_lives_past_its_first_expiry_and_an_idle_one_does_not(
    tmp_path: Path, library: Library
) -> None:
    data = noise_png(tmp_path / "long.png", side=1400).read_bytes()
    first = 5 * MiB  # one whole part on R2/S3: its record is the part's, not the close's
    assert len(data) > first
    token = make_tokens(library).upload
    with EmbeddedServer(library, config=server_config(library)) as server:
        base = server.url
        busy = base + create(base, token, len(data), filename="long.png").headers["Location"]
        idle = base + create(base, token, len(data), filename="idle.png").headers["Location"]
        ends = {url: _nearly_run_out(library, url.rsplit("/", 1)[1]) for url in (busy, idle)}
        before = _expires(head(busy, token).headers)
        assert abs((before - ends[busy]).total_seconds()) < 1.5

        written = patch(busy, token, 0, data[:first])
        assert written.status == 204, written.body
        moved = _expires(written.headers)
        # a full expiry from this PATCH, not what was left of the creation's
        assert moved > before + timedelta(seconds=EXPIRY - 10), (before, moved)
        assert _expires(head(busy, token).headers) == moved
        # only the upload written to: the idle one keeps its old expiry, or has reached it
        # already when the PATCH took longer than LEFT
        idle_now = head(idle, token)
        assert idle_now.status == 410 or _expires(idle_now.headers) < moved, idle_now.status

        time.sleep(max(0.0, (max(ends.values()) - datetime.now(UTC)).total_seconds()) + 1)
        assert head(idle, token).status == 410  # idle past its expiry: gone, as before
        report = run_maintenance(library)
        assert idle.rsplit("/", 1)[1] in report.expired_uploads
        assert busy.rsplit("/", 1)[1] not in report.expired_uploads
        assert head(idle, token).status == 404

        # the upload written to lives on past its first expiry, and completes
        resumed = head(busy, token)
        assert resumed.status == 200 and resumed.headers["Upload-Offset"] == str(first)
        done = patch(busy, token, first, data[first:])
        assert done.status == 204, done.body
        file_id = int(done.headers["MediaDesk-File-Id"])
        got = http_call(f"{base}/files/{file_id}", headers=bearer(token)).json()
        assert got["status"] == "ready" and got["size"] == len(data)


def test_a_patch_cut_short_keeps_its_bytes_and_moves_the_expiry(
    tmp_path: Path, library: Library
) -> None:
    """The bad Wi-Fi case: a PATCH whose connection drops keeps what arrived, and those bytes
    keep the upload alive as a whole PATCH's would."""
    data = noise_png(tmp_path / "cut.png", side=1400).read_bytes()
    token = make_tokens(library).upload
    with EmbeddedServer(library, config=server_config(library)) as server:
        url = server.url + create(server.url, token, len(data)).headers["Location"]
        before = _nearly_run_out(library, url.rsplit("/", 1)[1])
        path = urlsplit(url).path
        with socket.create_connection(("127.0.0.1", urlsplit(url).port or 80), timeout=30) as c:
            c.sendall(
                (
                    f"PATCH {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
                    "Tus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\n"
                    f"Upload-Offset: 0\r\nContent-Length: {len(data)}\r\n\r\n"
                ).encode()
            )
            c.sendall(data[:MiB])
        deadline = time.monotonic() + 30
        while (answer := head(url, token)).headers.get("Upload-Offset") == "0":
            assert time.monotonic() < deadline, "the cut PATCH's bytes were not kept"
            time.sleep(0.1)
        assert answer.status == 200 and 0 < int(answer.headers["Upload-Offset"]) <= MiB
        assert _expires(answer.headers) > before + timedelta(seconds=EXPIRY - 10)
