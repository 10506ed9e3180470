"""Every expires_at the API answers is written one way (core.records.expiry_iso): UTC, whole
seconds, +00:00, on both storage backends. Local presigned-url answers gave whole seconds
(the signature's own expiry), while presign, renew, S3 links, watch links and tus gave
microseconds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from core.library import Library
from server.entry import EmbeddedServer
from tests import media
from tests.resumable_client import MiB, create, presign
from tests.server_fixtures import bearer, http_call, make_tokens, server_config, upload_file


@pytest.fixture
def served(any_library: Library) -> Iterator[EmbeddedServer]:
    server = EmbeddedServer(any_library, config=server_config(any_library))
    server.start()
    yield server
    server.stop()


def whole_seconds_utc(value: object) -> bool:
    if not isinstance(value, str) or not value.endswith("+00:00") or "." in value:
        return False
    return datetime.fromisoformat(value).utcoffset() == timedelta(0)


def test_every_expires_at_is_utc_whole_seconds(served: EmbeddedServer, tmp_path: Path) -> None:
    tokens = make_tokens(served.library)
    up, read = bearer(tokens.upload), bearer(tokens.read)
    answers: dict[str, object] = {}

    single = presign(served.url, tokens.upload, 1000)
    assert single.status == 201, single.body
    answers["presign"] = single.json()["expires_at"]
    fid = single.json()["file_id"]
    renewed = http_call(f"{served.url}/files/{fid}/upload/renew", "POST", headers=up)
    assert renewed.status == 200, renewed.body
    answers["renew"] = renewed.json()["expires_at"]

    picture = upload_file(
        served, tokens.upload, media.make_jpeg(tmp_path / "p.jpg"), is_public="false"
    )
    signed = http_call(f"{served.url}/files/{picture['id']}/presigned-url", headers=read)
    assert signed.status == 200, signed.body
    answers["presigned-url"] = signed.json()["expires_at"]

    video = media.make_mp4(tmp_path / "v.mp4", seconds=1)
    clip = upload_file(served, tokens.upload, video, kind="video", is_public="false")
    watch = http_call(f"{served.url}/files/{clip['id']}/presigned-url?kind=watch", headers=read)
    assert watch.status == 200, watch.body
    answers["watch"] = watch.json()["expires_at"]

    tus = create(served.url, tokens.upload, 1000, filename="t.png")
    assert tus.status == 201, tus.body
    answers["tus"] = tus.json()["expires_at"]

    if served.library.storage_name != "local":  # uploads in parts: R2/S3 only
        parts = presign(served.url, tokens.upload, 11 * MiB, multipart=True)
        assert parts.status == 201, parts.body
        answers["presign parts"] = parts.json()["expires_at"]
        pid = parts.json()["file_id"]
        again = http_call(f"{served.url}/files/{pid}/upload/renew", "POST", headers=up)
        assert again.status == 200, again.body
        answers["renew parts"] = again.json()["expires_at"]

    assert {w: v for w, v in answers.items() if not whole_seconds_utc(v)} == {}
