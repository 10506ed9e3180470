"""A tus PATCH whose connection went half-open (no byte, no reset) does not hold its upload
until the body timeout: the client's next PATCH (or DELETE) ends it and goes on from HEAD's
offset, as tusd does; a writer still receiving bytes is never ended, and a refusal says when
to ask again (Retry-After)."""

from __future__ import annotations

import contextlib
import hashlib
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import core.resumable
from core.db.models import ResumableUpload
from core.library import Library
from server.entry import EmbeddedServer
from tests.conftest import make_settings
from tests.internals import db_of
from tests.resumable_client import (
    MiB,
    call,
    create,
    head,
    noise_png,
    padded_mp4,
    patch,
    raw_patch,
)
from tests.server_fixtures import Reply, bearer, make_tokens, server_config

# The quiet that makes a writer stalled, shortened for the tests (the server's is seconds).
QUIET = 0.3


@pytest.fixture
def lib(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Library]:
    monkeypatch.setattr(core.resumable, "STALLED", QUIET)
    library = Library.open(make_settings(data_dir, max_file_size=64 * MiB))
    yield library
    library.close()


@pytest.fixture
def live(lib: Library) -> Iterator[EmbeddedServer]:
    with EmbeddedServer(lib, config=server_config(lib)) as server:
        yield server


def _ended(conn: socket.socket) -> bool:
    """Whether the server ended the request on `conn` (closed or reset the connection)."""
    conn.settimeout(5)
    try:
        while conn.recv(65536):
            pass
    except ConnectionResetError:
        pass
    except TimeoutError:
        return False
    return True


def _until_not_locked(send: Iterator[Reply]) -> Reply:
    """The first answer that is not 423 or 409, as a client goes on after them (the stalled
    writer's quiet may not have reached QUIET yet, or HEAD was asked before its last bytes were
    recorded); gives up after a few seconds, far under the body timeout."""
    deadline = time.monotonic() + 5
    for reply in send:
        if reply.status not in (409, 423) or time.monotonic() > deadline:
            return reply
        time.sleep(0.05)
    raise AssertionError("no answer")


def _patches(url: str, token: str, data: bytes, offsets: list[int]) -> Iterator[Reply]:
    while True:
        offset = int(head(url, token).headers["Upload-Offset"])  # as a client does after a break
        offsets.append(offset)
        yield patch(url, token, offset, data[offset:])


def _stored(lib: Library, reply: Reply) -> bytes:
    record = lib.get_file(int(reply.headers["MediaDesk-File-Id"]))
    return lib.read_object(record.storage_key)


@pytest.mark.parametrize("size", [600 * 1024, 11 * MiB], ids=["through-aiohttp", "from-socket"])
def test_a_patch_after_a_half_open_one_ends_it_and_completes_the_upload(
    live: EmbeddedServer, lib: Library, tmp_path: Path, size: int
) -> None:
    """The first PATCH sends part of its body, then nothing (its connection went half-open);
    the client's next PATCH, from HEAD's offset, ends it and completes the file. A body under
    rawbody.TAKE_MIN is read through aiohttp, a bigger one from the socket by a thread; past a
    checkpoint (9 MiB sent) the bytes made durable stay."""
    token = make_tokens(lib).upload
    data = padded_mp4(tmp_path / "m.mp4", size).read_bytes()
    url = live.url + create(live.url, token, len(data)).headers["Location"]
    stalled = raw_patch(url, token, 0, len(data))
    sent = 9 * MiB if size > 9 * MiB else size // 2
    stalled.sendall(data[:sent])
    offsets: list[int] = []
    done = _until_not_locked(_patches(url, token, data, offsets))
    assert done.status == 204, (done.status, done.body)
    assert _ended(stalled)  # its request was ended, not left to the body timeout
    stalled.close()
    assert _stored(lib, done) == data
    if size > 9 * MiB:
        # the checkpoint (8 MiB) of the ended PATCH was kept: only the rest was sent again
        assert 8 * MiB <= offsets[-1] < sent, offsets
    else:
        assert offsets[-1] == 0  # nothing was recorded: HEAD's offset, the bytes past it cut


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_another_tokens_request_neither_ends_the_owners_patch_nor_learns_of_it(
    live: EmbeddedServer, lib: Library, tmp_path: Path, method: str
) -> None:
    """Token B, knowing the id of A's upload, sent a PATCH or DELETE while A's body was quiet:
    A's request was ended (its unrecorded bytes cut), and before the quiet was long enough B's
    423 said when A last sent a byte. B gets the 404 of an upload it cannot see; A goes on."""
    owner, other = make_tokens(lib).upload, make_tokens(lib).upload
    data = noise_png(tmp_path / "a.png", 500).read_bytes()
    url = live.url + create(live.url, owner, len(data)).headers["Location"]
    writing = raw_patch(url, owner, 0, len(data))
    writing.sendall(data[:1000])
    tus = {"Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream"}
    for _ in range(2):  # before and after the quiet makes it stalled
        reply = call(url, method, b"x", {**bearer(other), **tus, "Upload-Offset": "0"})
        assert reply.status == 404, (reply.status, reply.body)
        assert "Retry-After" not in reply.headers and "retry_after" not in reply.body.decode()
        time.sleep(QUIET * 2)
    writing.sendall(data[1000:])  # A's request was not ended: its body goes on and completes
    writing.settimeout(10)
    answer = writing.recv(65536).decode()
    writing.close()
    assert answer.startswith("HTTP/1.1 204"), answer
    file_id = int(answer.split("MediaDesk-File-Id: ")[1].split("\r\n")[0])
    assert lib.read_object(lib.get_file(file_id).storage_key) == data


def test_a_delete_after_a_half_open_patch_ends_it(
    live: EmbeddedServer, lib: Library, tmp_path: Path
) -> None:
    token = make_tokens(lib).upload
    data = noise_png(tmp_path / "a.png", 500).read_bytes()
    url = live.url + create(live.url, token, len(data)).headers["Location"]
    stalled = raw_patch(url, token, 0, len(data))
    stalled.sendall(data[:1000])

    def deletes() -> Iterator[Reply]:
        while True:
            yield call(url, "DELETE", headers={**bearer(token), "Tus-Resumable": "1.0.0"})

    gone = _until_not_locked(deletes())
    assert gone.status == 204, (gone.status, gone.body)
    assert _ended(stalled)
    stalled.close()
    assert head(url, token).status == 404


def test_a_writer_receiving_bytes_is_not_ended_and_the_refusal_says_when_to_retry(
    live: EmbeddedServer, lib: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two live PATCHes: the one trickling its body (a byte every 50 ms) keeps the upload,
    the other gets 423 with Retry-After, however long the first takes."""
    token = make_tokens(lib).upload
    data = noise_png(tmp_path / "b.png", 500).read_bytes()
    url = live.url + create(live.url, token, len(data)).headers["Location"]
    slow = raw_patch(url, token, 0, len(data))
    slow.sendall(data[:1000])
    monkeypatch.setattr(core.resumable, "STALLED", 0.6)  # a loaded machine's pauses are less
    refused = []
    for i in range(16):  # 0.8 s and more: past STALLED
        time.sleep(0.05)
        slow.sendall(data[1000 + i : 1001 + i])
        if i % 5 == 4:
            refused.append(patch(url, token, 0, data[:10]))
    assert [r.status for r in refused] == [423] * 3, [(r.status, r.body) for r in refused]
    assert all(int(r.headers["Retry-After"]) >= 1 for r in refused)
    assert refused[0].json()["error"]["code"] == "upload_locked"
    slow.sendall(data[1016:])
    answer = slow.recv(65536).decode("latin-1")
    slow.close()
    assert answer.startswith("HTTP/1.1 204"), answer
    record = lib.get_file(int(head(url, token).headers["MediaDesk-File-Id"]))
    assert record.sha256 == hashlib.sha256(data).hexdigest()


def test_a_lease_of_another_server_is_refused_with_when_it_runs_out(
    live: EmbeddedServer, lib: Library
) -> None:
    """Held by another process of the team (its lease in the catalog): 423, Retry-After the
    seconds left on that lease, at most LOCKED_RETRY_MAX; nothing here can end it."""
    token = make_tokens(lib).upload
    url = live.url + create(live.url, token, 100).headers["Location"]
    upload_id = url.rsplit("/", 1)[1]
    for left, said in ((12, 12), (3600, core.resumable.LOCKED_RETRY_MAX)):
        with db_of(lib).write() as s:
            row = s.get(ResumableUpload, upload_id)
            assert row is not None
            row.lease_owner = "another-host:1:x"
            row.lease_until = datetime.now(UTC) + timedelta(seconds=left)
        for refused in (
            patch(url, token, 0, b"x" * 10),
            call(url, "DELETE", headers={**bearer(token), "Tus-Resumable": "1.0.0"}),
        ):
            assert refused.status == 423, refused.body
            assert said - 2 <= int(refused.headers["Retry-After"]) <= said
            assert refused.headers["Tus-Resumable"] == "1.0.0"


# A write of the server's own (the disk, an R2 part upload) slower than QUIET: the first one
# of the test takes this long, the others none.
SLOW_WRITE = 1.0


@pytest.fixture
def slow_write(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The first TusWriter._append sleeps SLOW_WRITE; the list says, in order, when it began
    and ended and when a writer cut its file back."""
    events: list[str] = []
    append, cut_back = core.resumable.TusWriter._append, core.resumable.TusWriter._cut_back

    def slow_append(self: core.resumable.TusWriter, chunks: Sequence[bytes | memoryview]) -> None:
        if "write" in events:
            append(self, chunks)
            return
        events.append("write")
        time.sleep(SLOW_WRITE)
        append(self, chunks)
        events.append("written")

    def cut(self: core.resumable.TusWriter) -> None:
        events.append("cut")
        cut_back(self)

    monkeypatch.setattr(core.resumable.TusWriter, "_append", slow_append)
    monkeypatch.setattr(core.resumable.TusWriter, "_cut_back", cut)
    return events


def _until(events: list[str], event: str) -> None:
    deadline = time.monotonic() + 5
    while event not in events:
        assert time.monotonic() < deadline, events
        time.sleep(0.01)


@pytest.mark.parametrize("size", [600 * 1024, 5 * MiB], ids=["through-aiohttp", "from-socket"])
def test_a_writer_whose_own_write_is_slow_is_not_ended(
    live: EmbeddedServer, lib: Library, tmp_path: Path, slow_write: list[str], size: int
) -> None:
    """The client sent the whole body; the server's write of it takes longer than QUIET (a slow
    disk, a part upload to R2). That request is busy, not stalled: a second PATCH gets 423 with
    Retry-After, and the first completes the upload, byte for byte."""
    token = make_tokens(lib).upload
    data = padded_mp4(tmp_path / "m.mp4", size).read_bytes()
    url = live.url + create(live.url, token, len(data)).headers["Location"]
    first = raw_patch(url, token, 0, len(data))
    # from a thread: a body the server reads from the socket is read on after the slow write
    sending = threading.Thread(target=first.sendall, args=(data,))
    sending.start()
    _until(slow_write, "write")
    time.sleep(QUIET + 0.3)  # quiet past QUIET since its last byte arrived
    refused = patch(url, token, 0, data[:10])
    sending.join()
    assert refused.status == 423, (refused.status, refused.body, slow_write)
    assert int(refused.headers["Retry-After"]) >= 1
    first.settimeout(10)
    answer = first.recv(65536).decode("latin-1")
    first.close()
    assert answer.startswith("HTTP/1.1 204"), answer
    assert "cut" not in slow_write, slow_write
    record = lib.get_file(int(head(url, token).headers["MediaDesk-File-Id"]))
    assert lib.read_object(record.storage_key) == data


def test_an_ended_writer_waits_for_its_write_before_its_file_is_cut(
    live: EmbeddedServer,
    lib: Library,
    tmp_path: Path,
    slow_write: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A request ended while a pool thread still writes its bytes (ended just before that write
    began, or judged quiet by a rule that missed it: here busy() is made to count nothing) lets
    go of the upload only once that write is over: abort() cuts the file after it, and the next
    request writes alone. Before, the old thread's bytes landed after the cut, amid the new
    request's: the file was refused as damaged and the upload lost."""
    monkeypatch.setattr(core.resumable.TusWriter, "busy", lambda self: contextlib.nullcontext())
    token = make_tokens(lib).upload
    data = padded_mp4(tmp_path / "m.mp4", 600 * 1024).read_bytes()
    url = live.url + create(live.url, token, len(data)).headers["Location"]
    first = raw_patch(url, token, 0, len(data))
    first.sendall(data)
    _until(slow_write, "write")
    time.sleep(QUIET + 0.3)
    offsets: list[int] = []
    done = _until_not_locked(_patches(url, token, data, offsets))
    assert done.status == 204, (done.status, done.body, slow_write)
    assert slow_write[:3] == ["write", "written", "cut"], slow_write
    assert _ended(first)
    first.close()
    assert _stored(lib, done) == data
