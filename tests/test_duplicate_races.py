"""Uploads of the same bytes that finish at the same moment: one file, whatever the flow.

A presigned upload's confirm, a tus upload's final PATCH and a direct upload decide "duplicate,
shared object or new file" by one rule (core/ingest.py, `Ingestor._same_bytes`), held per
SHA-256 for the whole decision in the process and asked again in the transaction that records
it, which holds across the processes that share a catalog (team mode: a PostgreSQL advisory lock
keyed by the hash, SQLite's write lock). Real HTTP over loopback, requests fired together from
threads, on local storage and on moto's S3 server; two libraries with locks of their own stand
for two server processes.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, select, text

from core.db.models import MediaFile
from core.library import Library
from server.entry import EmbeddedServer
from tests.conftest import make_settings
from tests.internals import db_of
from tests.pg_server import postgres_url  # noqa: F401
from tests.resumable_client import OCTETS, TUS, create, head, patch
from tests.server_fixtures import Reply, bearer, http_call, make_tokens, multipart_body

pytestmark = pytest.mark.timeout(180)
T = TypeVar("T")
R = TypeVar("R")
N = 8  # requests fired together: enough to overlap on two cores, few enough to stay quick


def at_once(call: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """`call` on every item from a thread of its own, all released together."""
    start = threading.Barrier(len(items))

    def run(item: T) -> R:
        start.wait()
        return call(item)

    with ThreadPoolExecutor(len(items)) as pool:
        return list(pool.map(run, items))


def rows_of(lib: Library, data: bytes) -> Counter[str]:
    """Status -> rows of the files with these bytes, and "alias" -> every alias row."""
    sha = hashlib.sha256(data).hexdigest()
    with db_of(lib).read() as s:
        counts = Counter(
            {
                status: int(n)
                for status, n in s.execute(
                    select(MediaFile.status, func.count())
                    .where(MediaFile.sha256 == sha)
                    .group_by(MediaFile.status)
                )
            }
        )
        counts["alias"] = int(
            s.scalar(select(func.count()).where(MediaFile.status == "alias")) or 0
        )
    return counts


def originals(lib: Library) -> list[str]:
    """Keys of the stored originals (thumbnails and video derivatives aside)."""
    return sorted(o.key for o in lib.list_objects() if not o.key.startswith("_derived/"))


def presign(url: str, token: str, name: str, **fields: str) -> dict[str, Any]:
    body, ctype = multipart_body({"original_filename": name, "file_type": "image", **fields})
    reply = http_call(
        f"{url}/files/upload/presigned", "POST", body, {"Content-Type": ctype, **bearer(token)}
    )
    assert reply.status == 201, reply.body
    return dict(reply.json())


def put(upload: dict[str, Any], data: bytes) -> None:
    reply = http_call(upload["upload_url"], "PUT", data, {"Content-Type": "image/jpeg"})
    assert reply.status == 200, reply.body


def confirm(url: str, token: str, file_id: int) -> Reply:
    return http_call(f"{url}/files/{file_id}/confirm-upload", "POST", b"", bearer(token))


def direct(
    url: str, token: str, data: bytes, name: str = "p.jpg", mime: str = "image/jpeg"
) -> Reply:
    body, ctype = multipart_body({"file_type": "image"}, {"file": (name, data, mime)})
    return http_call(
        f"{url}/files/upload/direct", "POST", body, {"Content-Type": ctype, **bearer(token)}
    )


def check_confirms(replies: list[Reply], handed_out: list[int]) -> int:
    """Every confirm 200 under its own id; one file, the others its aliases. The file's id."""
    assert [r.status for r in replies] == [200] * len(replies), [r.body for r in replies]
    bodies = [r.json() for r in replies]
    assert [b["id"] for b in bodies] == handed_out
    firsts = [b["id"] for b in bodies if not b["duplicate"]]
    assert len(firsts) == 1, Counter(b["duplicate"] for b in bodies)
    assert {b["duplicate_of"] for b in bodies if b["duplicate"]} == {firsts[0]}
    return firsts[0]


@pytest.fixture(params=["local", "s3"])
def server(request: pytest.FixtureRequest) -> Iterator[EmbeddedServer]:
    yield request.getfixturevalue("live" if request.param == "local" else "s3_live")


# ---- one process -----------------------------------------------------------------------------
def test_confirms_of_the_same_bytes_at_once_make_one_file(
    server: EmbeddedServer, media_dir: Any
) -> None:
    lib, url, data = server.library, server.url, media_dir.jpeg.read_bytes()
    token = make_tokens(lib).upload
    uploads = [presign(url, token, f"c{i}.jpg") for i in range(N)]
    for upload in uploads:
        put(upload, data)
    handed_out = [u["file_id"] for u in uploads]
    first = check_confirms(at_once(lambda i: confirm(url, token, i), handed_out), handed_out)
    assert rows_of(lib, data) == Counter({"ready": 1, "alias": N - 1})
    assert originals(lib) == [lib.get_file(first).storage_key]
    # every handed-out id names the one file
    for file_id in handed_out:
        got = http_call(f"{url}/stream/{file_id}/image", headers=bearer(token))
        assert got.status == 200 and got.body == data


def test_confirms_for_two_athletes_at_once_share_one_object(
    server: EmbeddedServer, media_dir: Any
) -> None:
    """The same bytes for another athlete: a file of its own, on the object already stored."""
    lib, url, data = server.library, server.url, media_dir.png.read_bytes()
    token = make_tokens(lib).upload
    uploads = [
        presign(url, token, f"s{i}.png", content_type="image/png", athlete_id=str(1 + i % 2))
        for i in range(N)
    ]
    for upload in uploads:
        reply = http_call(upload["upload_url"], "PUT", data, {"Content-Type": "image/png"})
        assert reply.status == 200, reply.body
    replies = at_once(lambda u: confirm(url, token, u["file_id"]), uploads)
    assert {r.status for r in replies} == {200}
    bodies = [r.json() for r in replies]
    assert sorted(b["athlete_id"] for b in bodies if not b["duplicate"]) == [1, 2]
    assert rows_of(lib, data) == Counter({"ready": 2, "alias": N - 2})
    assert len(originals(lib)) == 1


def test_tus_uploads_of_the_same_bytes_finishing_at_once_make_one_file(
    server: EmbeddedServer, media_dir: Any
) -> None:
    """Like a direct upload: the first is the file, the others answer its id as duplicates
    (no alias of their own: a tus client was never handed a file id)."""
    lib, url, data = server.library, server.url, media_dir.jpeg.read_bytes()
    token = make_tokens(lib).upload
    locations = [
        url
        + create(url, token, len(data), filename=f"t{i}.jpg", filetype="image/jpeg").headers[
            "Location"
        ]
        for i in range(N)
    ]
    replies = at_once(lambda loc: patch(loc, token, 0, data), locations)
    assert [r.status for r in replies] == [204] * N, [r.body for r in replies]
    ids = {r.headers["MediaDesk-File-Id"] for r in replies}
    assert len(ids) == 1, ids
    assert sorted(r.headers.get("MediaDesk-Duplicate", "false") for r in replies) == ["false"] + [
        "true"
    ] * (N - 1)
    file_id = int(ids.pop())
    assert rows_of(lib, data) == Counter({"ready": 1})
    assert originals(lib) == [lib.get_file(file_id).storage_key]
    assert {head(loc, token).headers["MediaDesk-File-Id"] for loc in locations} == {str(file_id)}


def test_a_duplicate_tus_upload_answers_the_existing_file_on_both_backends(
    server: EmbeddedServer, media_dir: Any
) -> None:
    """README: a finished tus upload is catalogued exactly like a direct upload; a duplicate
    answers the existing file's id, on S3 as on local storage."""
    lib, url, data = server.library, server.url, media_dir.jpeg.read_bytes()
    token = make_tokens(lib).upload
    first = direct(url, token, data)
    assert first.status == 201, first.body
    file_id = str(first.json()["id"])
    for _ in range(2):
        headers = {**bearer(token), **TUS, **OCTETS, "Upload-Length": str(len(data))}
        reply = http_call(f"{url}/files/upload/tus", "POST", body=data, headers=headers)
        assert reply.status == 201, reply.body
        assert reply.headers["MediaDesk-File-Id"] == file_id
        assert reply.headers["MediaDesk-Duplicate"] == "true"
        again = head(url + reply.headers["Location"], token)
        assert again.headers["MediaDesk-File-Id"] == file_id
    assert rows_of(lib, data) == Counter({"ready": 1})
    assert len(originals(lib)) == 1


# ---- two processes on one catalog (team mode) ------------------------------------------------
@pytest.fixture(params=["postgres", "sqlite"])
def pair(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[EmbeddedServer, EmbeddedServer]]:
    """Two libraries, each with its own locks as two server processes have, on one catalog
    (an emptied PostgreSQL database, or SQLite) and one data folder, each behind a server."""
    from tests.server_fixtures import server_config

    data = tmp_path / "team"
    data.mkdir()
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    libs = [
        Library.open(make_settings(data, **({"database_url": url} if url else {})))
        for _ in range(2)
    ]
    if url:
        with db_of(libs[0]).write() as s:
            s.execute(text("TRUNCATE media_files, athletes RESTART IDENTITY CASCADE"))
    servers = [EmbeddedServer(lib, config=server_config(lib)) for lib in libs]
    for srv in servers:
        srv.start()
    try:
        yield servers[0], servers[1]
    finally:
        for srv in servers:
            srv.stop()
        for lib in libs:
            lib.close()


def test_two_processes_confirm_the_same_bytes_at_once(
    pair: tuple[EmbeddedServer, EmbeddedServer], media_dir: Any
) -> None:
    """Half the confirms through each server: their in-process locks never meet; the decision
    taken again in the transaction that records it, under the catalog's lock, holds."""
    a, b = pair
    token = make_tokens(a.library).upload
    data = media_dir.jpeg.read_bytes()
    uploads = [presign(a.url, token, f"p{i}.jpg") for i in range(N)]
    for upload in uploads:
        put(upload, data)
    handed_out = [u["file_id"] for u in uploads]
    replies = at_once(lambda i: confirm((a, b)[i % 2].url, token, handed_out[i]), list(range(N)))
    first = check_confirms(replies, handed_out)
    assert rows_of(a.library, data) == Counter({"ready": 1, "alias": N - 1})
    assert originals(a.library) == [a.library.get_file(first).storage_key]


def test_two_processes_upload_the_same_bytes_at_once(
    pair: tuple[EmbeddedServer, EmbeddedServer], media_dir: Any
) -> None:
    """Direct uploads, half through each server: one file, the others answer it (200)."""
    a, b = pair
    token = make_tokens(a.library).upload
    data = media_dir.png.read_bytes()
    replies = at_once(
        lambda i: direct((a, b)[i % 2].url, token, data, "p.png", "image/png"), list(range(N))
    )
    assert sorted(r.status for r in replies) == [200] * (N - 1) + [201], [r.body for r in replies]
    assert len({r.json()["id"] for r in replies}) == 1
    assert rows_of(a.library, data) == Counter({"ready": 1})
    assert len(originals(a.library)) == 1
    # the copies that gave way are gone, and so is the deletion each noted before storing
    assert a.library.deferred.pending_keys() == set()
