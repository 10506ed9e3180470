"""S3Storage and S3Presigner against a moto S3 server over real HTTP."""

from __future__ import annotations

import http.client
import io
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import botocore.auth
import botocore.exceptions as bx
import pytest

from core.errors import InvalidInput, NotFound, StorageUnavailable
from core.settings import Settings
from core.storage.base import Presigner
from core.storage.disposition import content_disposition
from core.storage.factory import build_storage
from core.storage.s3 import S3Presigner, S3Storage, bucket_links, explain
from tests.s3_server import S3Target, s3_client

MiB = 1024 * 1024
KEY = "athletes/1/2025/03/clip.mp4"


def _storage(t: S3Target, **kw: Any) -> S3Storage:
    return S3Storage(
        t.bucket, t.endpoint_url, t.access_key_id, t.secret_access_key, region="auto", **kw
    )


def _http(method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None):
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.netloc, timeout=10)
    try:
        conn.request(method, f"{parts.path}?{parts.query}", body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def _no_checksum_params(url: str) -> None:
    names = [n.lower() for n, _ in parse_qsl(urlsplit(url).query, keep_blank_values=True)]
    assert not [n for n in names if n.startswith("x-amz-checksum") or "sdk-checksum" in n], names


def test_s3_specifics_no_local_path_content_type_kept(s3_bucket: S3Target) -> None:
    """The shared contract is in test_storage_contract.py; this is what only S3 does."""
    s = _storage(s3_bucket)
    assert s.local_path(KEY) is None
    put = s.put_bytes(KEY, os.urandom(1000), "video/mp4")
    assert put.content_type == "video/mp4" and s.stat(KEY).content_type == "video/mp4"


def test_multipart_upload_progress_and_no_checksums(s3_bucket: S3Target, tmp_path: Path) -> None:
    s = _storage(s3_bucket, multipart_threshold=5 * MiB, multipart_chunk_size=5 * MiB)
    sent: list[dict[str, str]] = []
    s.client.meta.events.register(
        "before-send.s3", lambda request, **_: sent.append(dict(request.headers))
    )
    data = os.urandom(11 * MiB)
    seen: list[int] = []
    stat = s.put_stream(KEY, io.BytesIO(data), "video/mp4", seen.append)
    assert stat.size == len(data) and sum(seen) == len(data)
    assert len(sent) >= 5  # create, three parts, complete (and a HEAD)
    assert stat.etag.endswith('-3"')  # three parts: 5 + 5 + 1 MiB
    assert stat.content_type == "video/mp4"
    for headers in sent:
        lowered = {k.lower(): v for k, v in headers.items()}
        assert not [k for k in lowered if k.startswith("x-amz-checksum")], lowered
        assert "x-amz-sdk-checksum-algorithm" not in lowered
        assert "aws-chunked" not in str(lowered.get("content-encoding", ""))
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    seen.clear()
    assert s.put_file("general/2025/03/f.bin", src, "video/mp4", seen.append).size == len(data)
    assert sum(seen) == len(data)
    out = tmp_path / "out.bin"
    s.download_to(KEY, out)
    assert out.read_bytes() == data


def test_copy_above_the_threshold_goes_in_equal_parts(s3_bucket: S3Target) -> None:
    """CopyObject stops at 5 GB: above copy_threshold, move/copy use UploadPartCopy."""
    s = _storage(s3_bucket, copy_threshold=6 * MiB, copy_part_size=5 * MiB)
    copies: list[tuple[bool, str | None]] = []  # (a part?, the range) of each copy request

    def seen(request: Any, **_: Any) -> None:
        headers = {k.lower(): v for k, v in request.headers.items()}
        if "x-amz-copy-source" in headers:
            copied = headers.get("x-amz-copy-source-range")
            copied = copied.decode() if isinstance(copied, bytes) else copied
            copies.append(("partNumber=" in request.url, copied))

    s.client.meta.events.register("before-send.s3", seen)
    data = os.urandom(12 * MiB + 7)
    s.put_bytes(KEY, data, "video/mp4")
    moved = s.move(KEY, "athletes/1/2025/03/clip.mov")
    end = len(data) - 1
    assert copies == [
        (True, f"bytes=0-{5 * MiB - 1}"),
        (True, f"bytes={5 * MiB}-{10 * MiB - 1}"),
        (True, f"bytes={10 * MiB}-{end}"),
    ]
    assert moved.size == len(data) and moved.etag.endswith('-3"')
    assert moved.content_type == "video/mp4"  # the source's metadata comes along
    assert b"".join(s.open_range(moved.key, 0, end)) == data
    assert not s.exists(KEY)
    bucket = s3_client(s3_bucket)
    assert bucket.list_multipart_uploads(Bucket=s3_bucket.bucket).get("Uploads", []) == []
    # at or below the threshold: one CopyObject
    small = s.put_bytes("general/a.jpg", data[: 6 * MiB], "image/jpeg")
    copies.clear()
    assert s.copy(small.key, "general/b.jpg").size == 6 * MiB
    assert copies == [(False, None)]


def test_delete_prefix_is_one_batch_with_content_md5(s3_bucket: S3Target) -> None:
    s = _storage(s3_bucket)
    for key in ("a/1/x.jpg", "a/1/y.jpg", "a/2/z.jpg", "b/w.jpg"):
        s.put_bytes(key, key.encode(), "image/jpeg")
    sent: list[dict[str, str]] = []
    s.client.meta.events.register(
        "before-send.s3.DeleteObjects", lambda request, **_: sent.append(dict(request.headers))
    )
    assert s.delete_prefix("a/") == 3
    assert len(sent) == 1 and "Content-MD5" in sent[0]  # R2 and S3 require it on DeleteObjects
    assert [o.key for o in s.list_keys()] == ["b/w.jpg"]


def test_presigned_put_and_get(s3_bucket: S3Target) -> None:
    s = _storage(s3_bucket)
    presigner = S3Presigner(s)
    assert isinstance(presigner, Presigner)
    data = os.urandom(4096)
    put = presigner.presign_put(KEY, "video/mp4", 600, content_length=len(data))
    assert put.method == "PUT"
    assert put.headers == {"Content-Type": "video/mp4", "Content-Length": "4096"}
    query = dict(parse_qsl(urlsplit(put.url).query))
    assert "content-type" in query["X-Amz-SignedHeaders"].split(";")
    _no_checksum_params(put.url)
    status, _, _ = _http("PUT", put.url, data, put.headers)
    assert status == 200
    assert s.stat(KEY).content_type == "video/mp4" and s.stat(KEY).size == len(data)

    get = presigner.presign_get(
        KEY, 600, download_name="Sprint día 1.mp4", content_type="video/mp4"
    )
    _no_checksum_params(get.url)
    status, headers, body = _http("GET", get.url)
    assert status == 200 and body == data
    lowered = {k.lower(): v for k, v in headers.items()}
    assert lowered["content-disposition"] == content_disposition("Sprint día 1.mp4")
    assert lowered["content-type"] == "video/mp4"
    status, _, body = _http("GET", get.url, headers={"Range": "bytes=0-9"})
    assert status == 206 and body == data[:10]


@pytest.mark.parametrize("expires_in", [0, 604801])
def test_presign_expiry_bounds(s3_bucket: S3Target, expires_in: int) -> None:
    presigner = S3Presigner(_storage(s3_bucket))
    with pytest.raises(InvalidInput):
        presigner.presign_get(KEY, expires_in)
    with pytest.raises(InvalidInput):
        presigner.presign_put(KEY, "video/mp4", expires_in)


def test_links_under_a_grant_never_outlive_it(
    s3_bucket: S3Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    """botocore dates a signature by its own clock, read after ours: with our reading in the
    last moment of a second and botocore's in the next, a URL once ended a second after the
    grant (a CI failure of test_presigned_segments_of_a_watch_page_end_with_its_link)."""
    second = int(time.time())
    until = second + 3600
    # ours read in the last moment of a second, botocore's in the next
    monkeypatch.setattr(time, "time", lambda: second + 0.9999)
    botocore_now = datetime.fromtimestamp(second + 1, UTC).replace(tzinfo=None)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda **_: botocore_now)
    links = bucket_links(_storage(s3_bucket), [KEY, KEY + "2"], False, 900, until)
    assert links is not None and links.signed
    for url in links.urls:
        query = dict(parse_qsl(urlsplit(url).query))
        signed = datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        ends = signed.timestamp() + int(query["X-Amz-Expires"])
        assert until - 2 <= ends <= until


def test_check(s3_bucket: S3Target, moto_server: str) -> None:
    _storage(s3_bucket).check()
    missing = S3Target(moto_server, "no-such-bucket-here")
    with pytest.raises(StorageUnavailable, match="no-such-bucket-here"):
        _storage(missing).check()
    with pytest.raises(StorageUnavailable, match="cannot reach"):
        _storage(S3Target("http://127.0.0.1:9", "x")).check()


def test_error_translation() -> None:
    def client_error(code: str, status: int) -> bx.ClientError:
        response: Any = {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
        return bx.ClientError(response, "HeadBucket")

    denied = explain(client_error("403", 403), "Checking", "b", "https://r2")
    assert isinstance(denied, StorageUnavailable) and "access key" in denied.message
    assert isinstance(explain(client_error("NoSuchKey", 404), "Reading", "b", "e"), NotFound)
    gone = explain(client_error("NoSuchBucket", 404), "Reading", "b", "e")
    assert isinstance(gone, StorageUnavailable) and "does not exist" in gone.message
    assert isinstance(
        explain(client_error("InternalError", 500), "x", "b", "e"), StorageUnavailable
    )


def test_abort_stale_multipart(s3_bucket: S3Target) -> None:
    s = _storage(s3_bucket)
    s.client.create_multipart_upload(Bucket=s.bucket, Key=KEY, ContentType="video/mp4")
    assert s.abort_stale_multipart(30 * 365 * 86400) == 0  # moto dates every upload 2010-11-10
    assert s.abort_stale_multipart(0) == 1
    assert s.client.list_multipart_uploads(Bucket=s.bucket).get("Uploads", []) == []


def test_public_url_and_factory(s3_bucket: S3Target) -> None:
    assert _storage(s3_bucket).public_url(KEY) is None
    settings = Settings(
        r2_bucket_name=s3_bucket.bucket,
        r2_endpoint_url=s3_bucket.endpoint_url,
        r2_access_key_id="testing",
        r2_secret_access_key="testing",
        r2_public_domain="https://media.example.com/",
    )
    storage, presigner = build_storage(settings)
    assert storage.name == "s3" and isinstance(storage.active, S3Storage)  # writes go to R2
    assert isinstance(presigner, S3Presigner)
    assert storage.public_url(KEY) == f"https://media.example.com/{KEY}"
    storage.check()


def test_client_per_thread(s3_bucket: S3Target) -> None:
    s = _storage(s3_bucket)
    barrier = threading.Barrier(2)

    def grab() -> tuple[object, object]:
        barrier.wait()
        return s.client, s.client

    with ThreadPoolExecutor(2) as pool:
        pairs = list(pool.map(lambda _: grab(), range(2)))
    assert all(a is b for a, b in pairs)
    assert pairs[0][0] is not pairs[1][0] and s.client not in (pairs[0][0], pairs[1][0])


@pytest.mark.parametrize(
    "name, expected",
    [
        ("a.jpg", "attachment; filename=\"a.jpg\"; filename*=UTF-8''a.jpg"),
        (
            'día "1"\\.jpg',
            "attachment; filename=\"dia _1__.jpg\"; filename*=UTF-8''d%C3%ADa%20%221%22%5C.jpg",
        ),
        ("a\r\nb.jpg", "attachment; filename=\"a__b.jpg\"; filename*=UTF-8''a__b.jpg"),
        ("", "attachment; filename=\"download\"; filename*=UTF-8''download"),
    ],
)
def test_content_disposition(name: str, expected: str) -> None:
    assert content_disposition(name) == expected
    with pytest.raises(InvalidInput):
        content_disposition(name, "evil")


def test_moto_bucket_is_reachable_with_plain_boto3(s3_bucket: S3Target) -> None:
    client = s3_client(s3_bucket)
    assert client.list_objects_v2(Bucket=s3_bucket.bucket)["KeyCount"] == 0
