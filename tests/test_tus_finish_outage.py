"""A store outage while a tus upload is being finished keeps the upload for the next try.

README (Resumable uploads): "on the last PATCH the whole upload is kept, and the client's next
HEAD or PATCH finishes it once the store is back". An upload smaller than one part starts its
multipart upload only on the last PATCH, and an image's thumbnail is stored while it is
catalogued: an outage at either point ended the upload (410 forever) before.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core import keys
from core.db.models import MediaFile, ResumableUpload
from core.settings import Settings
from tests.faults import ProxiedStore, served_behind_proxy
from tests.internals import db_of, storage_of
from tests.resumable_client import MiB, create, head, noise_png, patch
from tests.s3_server import S3Target
from tests.server_fixtures import bearer, http_call


@pytest.fixture
def store(
    s3_settings: Settings, s3_bucket: S3Target, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ProxiedStore]:
    with served_behind_proxy(
        ProxiedStore, s3_settings, s3_bucket, monkeypatch, window=1, longest_window=1
    ) as served:
        yield served


def _state(store: ProxiedStore, upload_id: str) -> str:
    with db_of(store.lib).read() as s:
        row = s.get(ResumableUpload, upload_id)
        assert row is not None
        return row.state


def _finish_after_the_outage(store: ProxiedStore, url: str, data: bytes) -> None:
    """HEAD (what tus clients ask after an error) finishes the upload once the store is back:
    a file holding exactly `data`."""
    token = store.tokens.upload
    done = None
    for _ in range(20):  # the store is not asked again within its outage window
        done = head(url, token)
        if done.status == 200:
            break
        assert done.status == 500, done.body
    assert done is not None and done.status == 200, done.body
    assert int(done.headers["Upload-Offset"]) == len(data)
    file_id = int(done.headers["MediaDesk-File-Id"])
    streamed = http_call(f"{store.server.url}/stream/{file_id}/raw", headers=bearer(token))
    assert streamed.status == 200 and streamed.body == data


def _cut_before_last_patch(store: ProxiedStore, data: bytes) -> tuple[str, str]:
    token = store.tokens.upload
    url = store.server.url + create(store.server.url, token, len(data)).headers["Location"]
    half = len(data) // 2
    assert patch(url, token, 0, data[:half]).status == 204
    store.proxy.cut()
    down = patch(url, token, half, data[half:])
    assert down.status == 500, down.body
    assert json.loads(down.body)["error"]["code"] == "storage_unavailable"
    return url, url.rsplit("/", 1)[1]


def test_an_outage_before_the_multipart_upload_starts_keeps_a_small_upload(
    store: ProxiedStore, tmp_path: Path
) -> None:
    """Smaller than one part: the last PATCH starts the multipart upload, the store is out of
    reach. The row stays receiving with its buffer; HEAD during the outage answers the
    outage again, and after it finishes the upload."""
    data = noise_png(tmp_path / "small.png", 300).read_bytes()
    assert len(data) < 5 * MiB
    url, upload_id = _cut_before_last_patch(store, data)
    assert _state(store, upload_id) == "receiving"
    buffer = store.lib.paths.data_dir / "uploads" / f"{upload_id}.buffer"
    assert buffer.exists() and buffer.stat().st_size == len(data)
    still_down = head(store.server.url + f"/files/upload/tus/{upload_id}", store.tokens.upload)
    assert still_down.status == 500, still_down.body
    store.proxy.restore()
    _finish_after_the_outage(store, url, data)


def test_an_outage_while_the_thumbnail_is_stored_keeps_the_upload(
    store: ProxiedStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bytes reach the bucket, the store dies as the image's thumbnail is stored: the
    upload is not failed, and the next HEAD catalogues it once the store is back."""
    data = noise_png(tmp_path / "small.png", 300).read_bytes()
    storage: Any = storage_of(store.lib)
    put_bytes = storage.put_bytes
    cut_once: list[bool] = []

    def cut_at_the_thumbnail(key: str, *args: Any, **kwargs: Any) -> Any:
        if key.startswith(keys.THUMBNAIL_PREFIX) and not cut_once:
            cut_once.append(True)
            store.proxy.cut()
        return put_bytes(key, *args, **kwargs)

    monkeypatch.setattr(storage, "put_bytes", cut_at_the_thumbnail)
    token = store.tokens.upload
    url = store.server.url + create(store.server.url, token, len(data)).headers["Location"]
    upload_id = url.rsplit("/", 1)[1]
    down = patch(url, token, 0, data)
    assert cut_once, "the thumbnail was never stored"
    assert down.status == 500, down.body
    assert json.loads(down.body)["error"]["code"] == "storage_unavailable"
    assert _state(store, upload_id) == "receiving"
    store.proxy.restore()
    _finish_after_the_outage(store, url, data)


class _Killed(Exception):
    """The process dying mid-confirm, as the catalog sees it: the row made pending is left."""


def test_a_finish_killed_after_its_pending_row_takes_that_row_again(
    store: ProxiedStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed while the bucket's object was being confirmed, the finish left its pending row;
    the next finish made another, so the upload's one file came with a second, pending one
    (same name and key, listed with ?status=pending for the hour until maintenance)."""
    data = noise_png(tmp_path / "small.png", 300).read_bytes()
    service: Any = type(store.lib.uploads)
    confirm = service.confirm_upload
    killed: list[int] = []

    def dies_once(self: Any, file_id: int, *args: Any, **kwargs: Any) -> Any:
        if not killed:
            killed.append(file_id)
            raise _Killed
        return confirm(self, file_id, *args, **kwargs)

    monkeypatch.setattr(service, "confirm_upload", dies_once)
    token = store.tokens.upload
    made = create(store.server.url, token, len(data), filename="killed.png")
    url = store.server.url + made.headers["Location"]
    assert patch(url, token, 0, data).status == 500
    assert killed
    _finish_after_the_outage(store, url, data)
    with db_of(store.lib).read() as s:
        rows = s.execute(
            select(MediaFile.id, MediaFile.status).where(
                MediaFile.original_filename == "killed.png"
            )
        ).all()
    assert [(file_id, "ready") for file_id in killed] == [(r.id, r.status) for r in rows], rows
