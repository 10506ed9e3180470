"""The first-party Python client against live servers, on local storage and on moto's S3."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from PIL import Image

from core import mediatypes
from core.library import Library
from core.settings import PRESIGN_THRESHOLD, load_settings
from server.client import Client, ClientError
from server.entry import EmbeddedServer
from tests.conftest import make_settings
from tests.faults import CuttableProxy
from tests.media import make_jpeg, make_mov, make_mp4
from tests.modes import mode, umask
from tests.s3_server import S3Target, delete_bucket
from tests.server_fixtures import make_tokens, server_config
from tests.test_catalog_remote_disk import fuse_mount
from tests.video_helpers import make_audio_only_mp4

pytestmark = pytest.mark.timeout(120)
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def big_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real 30 MB image (noise does not compress), above the 10 MB presign threshold."""
    path = tmp_path_factory.mktemp("big") / "big.png"
    side = 3200
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(
        path, "PNG", compress_level=0
    )
    assert path.stat().st_size > 30_000_000
    return path


@pytest.fixture(params=["live", "s3_live"])
def server(request: pytest.FixtureRequest) -> tuple[EmbeddedServer, Library]:
    live: EmbeddedServer = request.getfixturevalue(request.param)
    library = request.getfixturevalue("library" if request.param == "live" else "s3_library")
    return live, library


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def __call__(self, done: int, total: int) -> None:
        self.calls.append((done, total))


def test_config_says_what_the_server_accepts(live: EmbeddedServer) -> None:
    with Client(live.url) as client:
        config = client.config()
    assert config["presign_threshold"] == PRESIGN_THRESHOLD == 10 * 1024 * 1024
    assert config["max_file_size"] == 104857600
    assert "image/jpeg" in config["allowed_types"]["image"]
    assert "video/x-ms-wmv" in config["allowed_types"]["video"]
    assert config["extensions"]["image/jpeg"][0] == "jpg"
    assert config["resumable"]["tus"] is True and config["storage"] == "local"


def test_uploads_on_both_backends(
    server: tuple[EmbeddedServer, Library], big_png: Path, tmp_path: Path, media_dir: Any
) -> None:
    live, library = server
    token = make_tokens(library).upload
    small, big = Recorder(), Recorder()
    with Client(live.url, token) as client:
        photo = client.upload(media_dir.jpeg, progress=small)  # kind sniffed: image
        assert photo.flow == "direct" and not photo.duplicate
        assert photo.file["status"] == "ready" and photo.file["file_type"] == "image"
        size = media_dir.jpeg.stat().st_size
        assert small.calls[-1] == (size, size)

        result = client.upload(big_png, athlete_id=None, is_public=True, progress=big)
        assert result.flow in ("presigned", "parts")  # parts: the S3 server splits it
        assert result.file["size"] == big_png.stat().st_size
        assert result.file["is_public"] is True
        done = [d for d, _ in big.calls]
        assert len(done) > 2 and done == sorted(done)
        assert big.calls[-1] == (big_png.stat().st_size,) * 2

        again = client.upload(media_dir.jpeg)
        assert again.duplicate and again.id == photo.id

        fake = tmp_path / "notes.jpg"
        fake.write_text("not a photo at all\n" * 20)
        before = library.counts()
        with pytest.raises(ClientError) as refused:
            client.upload(fake)
        assert refused.value.local and refused.value.code == "unsupported_type"
        with pytest.raises(ClientError) as mismatch:
            client.upload(media_dir.mp4, file_type="image")
        assert mismatch.value.local and mismatch.value.code == "type_mismatch"
        assert library.counts() == before  # nothing was asked of the server

        # the catalog methods
        assert client.get(photo.id)["original_filename"] == "photo.jpg"
        edited = client.update(photo.id, description="Warm-up")
        assert edited["description"] == "Warm-up"
        listed = client.list(file_type="image", status="any")
        assert {photo.id, result.id} <= {f["id"] for f in listed["items"]}
        assert client.trash(photo.id)["deleted"] is True
        assert [f["id"] for f in client.list(trashed=True)["items"]] == [photo.id]
        assert client.restore(photo.id)["is_trashed"] is False
        saved = client.download(result.id, tmp_path / "out", progress=Recorder())
        assert saved.name == "big.png" and saved.read_bytes() == big_png.read_bytes()
        second = client.download(result.id, tmp_path / "out")
        assert second.name == "big (1).png"
        # the server's own link, with the content tag that lets it be cached for good
        tag = library.get_file(photo.id).content_tag
        assert tag
        tagged = f"{live.url}/stream/{photo.id}/image?v={tag}"
        assert client.stream_url(photo.id) == tagged
        assert client.stream_url(client.get(photo.id)) == tagged
        assert client.stream_url(photo.id, "raw") == f"{live.url}/stream/{photo.id}/raw"
        raw = client.stream_url(client.get(photo.id), "raw", with_token=True)
        assert raw == f"{live.url}/stream/{photo.id}/raw?v={tag}&access_token={token}"
        with pytest.raises(ClientError) as missing:
            client.get(999_999)
        assert missing.value.status == 404 and missing.value.code == "not_found"
        assert missing.value.request_id


def test_a_token_without_upload_scope_is_refused_by_the_server(
    live: EmbeddedServer, library: Library, media_dir: Any
) -> None:
    read = make_tokens(library).read
    with Client(live.url, read) as client, pytest.raises(ClientError) as refused:
        client.upload(media_dir.png)
    assert refused.value.status == 403 and refused.value.code == "insufficient_scope"


class FlakyParts(httpx.HTTPTransport):
    """Loopback HTTP where the first PUT of part 2 breaks, like Wi-Fi dropping."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []
        self.broken = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        query = request.url.params
        label = f"{request.method} {request.url.path}"
        if request.method == "PUT" and "partNumber" in query:
            label = f"PUT part {query['partNumber']}"
            if query["partNumber"] == "2" and not self.broken:
                self.broken = True
                self.seen.append(label + " (broken)")
                raise httpx.ConnectError("connection reset", request=request)
        self.seen.append(label)
        return super().handle_request(request)


def test_an_upload_in_parts_resumes_from_the_parts_the_bucket_has(
    s3_live: EmbeddedServer, s3_library: Library, big_png: Path
) -> None:
    transport = FlakyParts()
    token = make_tokens(s3_library).upload
    progress = Recorder()
    with Client(s3_live.url, token, retries=0, transport=transport) as client:
        result = client.upload(big_png, progress=progress)
    assert result.flow == "parts" and result.file["status"] == "ready"
    assert result.file["size"] == big_png.stat().st_size
    puts = [s for s in transport.seen if s.startswith("PUT part")]
    # part 1 is not sent again: the client asked which parts the bucket had and re-signed 2
    assert puts == ["PUT part 1", "PUT part 2 (broken)", "PUT part 2"]
    fid = result.id
    assert f"GET /files/{fid}/upload/parts" in transport.seen
    assert f"POST /files/{fid}/upload/renew" in transport.seen
    assert progress.calls[-1] == (big_png.stat().st_size,) * 2


class LostLastPartAnswer(FlakyParts):
    """The first PUT of part 2 (the last) reaches the bucket, which stores it; its answer is
    lost on the way back (a cut connection)."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        query = request.url.params
        if request.method == "PUT" and query.get("partNumber") == "2" and not self.broken:
            self.broken = True
            self.seen.append("PUT part 2 (stored, answer lost)")
            response = httpx.HTTPTransport.handle_request(self, request)
            response.read()
            response.close()
            raise httpx.ReadError("connection reset", request=request)
        return super().handle_request(request)


def test_parts_that_all_reached_the_bucket_are_confirmed_without_a_renewal(
    s3_live: EmbeddedServer, s3_library: Library, big_png: Path
) -> None:
    """Every part is in the bucket although the last one's answer was lost: the client lists
    them and confirms with their ETags. It asked the server to renew an empty list of parts
    first (which a server refusing empty lists answered 400, failing the upload)."""
    transport = LostLastPartAnswer()
    token = make_tokens(s3_library).upload
    with Client(s3_live.url, token, retries=0, transport=transport) as client:
        result = client.upload(big_png)
    assert result.flow == "parts" and result.file["status"] == "ready"
    assert result.file["size"] == big_png.stat().st_size
    fid = result.id
    assert f"GET /files/{fid}/upload/parts" in transport.seen
    assert f"POST /files/{fid}/upload/renew" not in transport.seen, transport.seen
    assert [s for s in transport.seen if s.startswith("PUT part")] == [
        "PUT part 1",
        "PUT part 2 (stored, answer lost)",
    ]


class LostAnswers(httpx.HTTPTransport):
    """Loopback HTTP behind a gateway that loses answers: each request in `lose` reaches the
    server, which acts on it, and the client gets 502 Bad Gateway instead of the answer, the
    first time only (nginx when the upstream's answer does not come back in time)."""

    def __init__(self, *lose: str) -> None:
        super().__init__()
        self.lose = set(lose)
        self.seen: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        label = f"{request.method} {request.url.path}"
        self.seen.append(label)
        response = super().handle_request(request)
        if label not in self.lose:
            return response
        self.lose.discard(label)
        response.read()
        response.close()
        return httpx.Response(502, text="Bad Gateway", request=request)


def test_edits_that_took_effect_are_not_sent_again_after_a_lost_answer(
    live: EmbeddedServer, library: Library, media_dir: Any
) -> None:
    """A trash, a restore or a versioned edit answered 502 may have been done: sending it again
    got 409 (already in the trash, not in the trash, stale version) for a change that worked.
    The client says the answer was lost (502) and sends it once; reads and upload steps, whose
    repeat answers the same, are still retried."""
    token = make_tokens(library).upload
    with Client(live.url, token) as setup:
        fid = setup.upload(media_dir.jpeg).id
    path = f"/files/{fid}"
    transport = LostAnswers(f"DELETE {path}", f"POST {path}/restore", f"PATCH {path}")
    with Client(live.url, token, backoff=0, transport=transport) as client:
        with pytest.raises(ClientError) as lost:
            client.trash(fid)
        assert lost.value.status == 502
        assert client.get(fid)["is_trashed"]  # it was done, once
        with pytest.raises(ClientError) as lost:
            client.restore(fid)
        assert lost.value.status == 502
        version = client.get(fid)["version"]
        with pytest.raises(ClientError) as lost:
            client.update(fid, version=version, description="Final")
        assert lost.value.status == 502
        done = client.get(fid)
        assert not done["is_trashed"] and done["description"] == "Final"
        assert transport.seen.count(f"DELETE {path}") == 1
        assert transport.seen.count(f"POST {path}/restore") == 1
        assert transport.seen.count(f"PATCH {path}") == 1
        transport.lose, transport.seen = {f"GET {path}", f"PATCH {path}"}, []
        assert client.get(fid)["id"] == fid  # a read is sent again
        assert client.update(fid, description="Again")["description"] == "Again"  # no version
        assert transport.seen == [f"GET {path}"] * 2 + [f"PATCH {path}"] * 2


def test_a_429_is_sent_again_only_after_the_whole_retry_after(
    library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An address blocked after failed authentications gets 429 with Retry-After for the whole
    block, a valid token too. The client waited at most MAX_BACKOFF (30 s; 1 s here, against a
    3 s block), so its retry came too soon and was refused again; it now waits what the server
    said, and retries once."""
    monkeypatch.setattr("server.client.api.MAX_BACKOFF", 1.0)
    config = dataclasses.replace(
        server_config(library), auth_failure_limit=1, auth_failure_window=3.0
    )
    token = make_tokens(library).read
    with EmbeddedServer(library, config=config) as server:
        with Client(server.url, "mdk_not-a-token", retries=0) as guesser:
            with pytest.raises(ClientError) as refused:
                guesser.list()
            assert refused.value.status == 401  # this failure blocks the address
        transport = LostAnswers()
        with Client(server.url, token, transport=transport) as client:
            assert client.list()["items"] == []
        assert transport.seen == ["GET /files"] * 2, "one 429, then the answer"


class GatewayTimeout(httpx.HTTPTransport):
    """A proxy in front that gives up on the server with an error body of its own, as JSON."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(504, json={"error": "upstream timed out"}, request=request)


def test_a_proxys_own_json_error_is_a_client_error(live: EmbeddedServer) -> None:
    """`{"error": "..."}` is not MediaDesk's error body; it escaped as an AttributeError."""
    client = Client(live.url, retries=0, transport=GatewayTimeout())
    with client, pytest.raises(ClientError) as failed:
        client.get(1)
    assert (failed.value.status, failed.value.code) == (504, "http_504")


class BucketHiccups(httpx.HTTPTransport):
    """Loopback HTTP where the first signed PUT and the first signed GET are answered 500
    InternalError without reaching the server, as R2/S3 answer a passing fault ("please
    retry")."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []
        self.failed: set[str] = set()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(f"{request.method} {request.url.path.split('/')[1]}")
        if request.url.path.startswith("/signed/") and request.method not in self.failed:
            self.failed.add(request.method)
            request.read()
            return httpx.Response(500, text="<Error><Code>InternalError</Code></Error>")
        return super().handle_request(request)


def test_a_500_on_a_signed_put_or_get_is_sent_again(
    live: EmbeddedServer, library: Library, media_dir: Any, tmp_path: Path
) -> None:
    """A PUT to a signed URL writes the whole object or nothing and a GET reads: both are
    sent again after a 500, which the bucket answers for a passing fault; the upload and the
    download failed on the first one."""
    token = make_tokens(library).upload
    transport = BucketHiccups()
    with Client(live.url, token, backoff=0, transport=transport) as client:
        result = client.upload(media_dir.jpeg, presigned=True)
        saved = client.download(result.id, to=tmp_path)
    assert result.flow == "presigned" and result.file["status"] == "ready"
    assert result.retries == 1 and transport.seen.count("PUT signed") == 2
    assert saved.read_bytes() == media_dir.jpeg.read_bytes()
    assert transport.seen.count("GET signed") == 2


def test_a_fault_of_the_set_up_is_not_sent_again_and_says_the_servers_words(
    s3_live: EmbeddedServer, s3_bucket: S3Target, media_dir: Any, tmp_path: Path
) -> None:
    """A deleted bucket answers 500 storage_unavailable (bucket_missing): the client sent the
    GET again five times (15 s of waits) for an answer that waits for an administrator, and a
    download said the bucket's "HTTP 404 Not Found", as if the file were gone."""
    stored = s3_live.library.uploads.ingest(media_dir.jpeg, "image")
    delete_bucket(s3_bucket)
    notes: list[str] = []
    token = make_tokens(s3_live.library).read
    with (
        Client(s3_live.url, token, backoff=0, on_retry=notes.append) as client,
        pytest.raises(ClientError) as failed,
    ):
        client.download(stored.id, tmp_path / "out")
    assert notes == []
    assert (failed.value.status, failed.value.code, failed.value.reason) == (
        500,
        "storage_unavailable",
        "bucket_missing",
    )
    assert failed.value.message.startswith("The storage bucket does not exist")
    assert list((tmp_path / "out").iterdir()) == []  # no file, no temporary file


def test_only_outages_are_said_to_pass_and_the_rest_are_set_up_faults() -> None:
    """The client's retries (SETUP_FAULT_REASONS) and the server's "try again later" follow
    one list in core: a reason in one and not the other would retry a fault that stays, or
    send users waiting for nothing."""
    from core.errors import SETUP_FAULT_REASONS, UNAVAILABLE_REASONS
    from server.errors import UNAVAILABLE_MESSAGES

    assert set(UNAVAILABLE_REASONS) > SETUP_FAULT_REASONS
    for reason in UNAVAILABLE_REASONS:
        passes = UNAVAILABLE_MESSAGES[reason].endswith("try again later")
        assert passes == (reason not in SETUP_FAULT_REASONS), reason


def test_a_connection_that_fails_is_not_a_local_refusal(media_dir: Any) -> None:
    """`.local` is for files refused before anything was sent; a connection that fails has no
    status either, and `mediadesk upload` counted it among the refused files, not the failed."""
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        nobody = f"http://127.0.0.1:{spare.getsockname()[1]}"  # bound, not listening
        with Client(nobody, retries=0) as client, pytest.raises(ClientError) as failed:
            client.upload(media_dir.jpeg)
    assert failed.value.code == "connection_failed" and failed.value.status is None
    assert not failed.value.local
    # `mediadesk upload` said "GET /config: Connection refused": not which server it tried
    # and then Python's own words: "[Errno 111] Connection refused"
    assert failed.value.message == (
        f"GET {nobody}/config: cannot reach the MediaDesk server at {nobody} (connection "
        "refused): is `mediadesk serve` or the desktop app's server running?"
    ), failed.value.message


def test_a_host_that_never_accepts_fails_after_one_bounded_connect_wait() -> None:
    """A host that drops packets cost six 10 s connect timeouts and 15.5 s of backoff in
    silence. Now one wait of `connect_timeout` (CONNECT_TIMEOUT by default), then one line."""
    with socket.socket() as deaf, socket.socket() as first:
        deaf.bind(("127.0.0.1", 0))
        deaf.listen(0)  # one connection fills the queue: the kernel then drops new SYNs
        first.connect(deaf.getsockname())
        url = f"http://127.0.0.1:{deaf.getsockname()[1]}"
        notes: list[str] = []
        started = time.monotonic()
        with (
            Client(url, connect_timeout=0.5, on_retry=notes.append) as client,
            pytest.raises(ClientError) as failed,
        ):
            client.config()
        took = time.monotonic() - started
    assert failed.value.code == "connection_failed"
    cause = "no connection within 0.5 s (the host does not answer)"
    assert failed.value.message == f"GET {url}/config: {cause}"
    assert notes == [] and took < 5, (notes, took)


def test_after_the_server_answered_a_refused_connection_is_retried_and_said(
    live: EmbeddedServer, library: Library
) -> None:
    """A server that answered once and then refuses is restarting: retried, and each retry is
    told (`mediadesk` writes it on stderr) instead of a silent pause of up to 30 s."""
    proxy = CuttableProxy.in_front_of(live.url)
    notes: list[str] = []

    def told(text: str) -> None:
        notes.append(text)
        proxy.restore()  # back before the next attempt

    try:
        with Client(proxy.url, make_tokens(library).read, backoff=0, on_retry=told) as client:
            client.config()
            proxy.cut()
            assert client.list()["total"] == 0
    finally:
        proxy.close()
    assert len(notes) == 1, notes
    assert notes[0].startswith(f"GET {proxy.url}/files failed (")
    assert notes[0].endswith("; retrying in 0.0 s (1 of 5)"), notes


def test_a_download_gets_the_umasks_mode_like_any_download(
    live: EmbeddedServer, library: Library, media_dir: Any, tmp_path: Path
) -> None:
    """Downloads were written through mkstemp and kept its 0600: every photo saved by
    `mediadesk download` was unreadable to the user's group, unlike curl's or a browser's."""
    token = make_tokens(library).read
    stored = library.uploads.ingest(media_dir.jpeg, "image")
    with umask(0o022), Client(live.url, token) as client:
        saved = client.download(stored.id, tmp_path / "out")
    assert saved.read_bytes() == media_dir.jpeg.read_bytes()
    assert mode(saved) == 0o644
    assert [p.name for p in saved.parent.iterdir()] == [saved.name]  # no .part left


def test_the_client_needs_neither_qt_nor_the_server_app() -> None:
    """Scripts import it without PySide6, aiohttp, the database or the server's modules."""
    code = (
        "import sys, server.client, server.client.cli\n"
        "heavy = ('PySide6', 'aiohttp', 'sqlalchemy', 'PIL', 'av', 'boto3', 'desktop_app')\n"
        "bad = [m for m in sys.modules if m.startswith(heavy)\n"
        "       or (m.startswith('server.') and not m.startswith('server.client'))]\n"
        "print(bad)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


def test_the_client_refuses_types_the_server_does_not_allow(data_dir: Path, media_dir: Any) -> None:
    """ALLOWED_IMAGE_TYPES narrows /config, and the client refuses locally what it leaves out."""
    from tests.conftest import make_settings
    from tests.server_fixtures import server_config

    library = Library.open(make_settings(data_dir, allowed_image_types=("image/jpeg",)))
    server = EmbeddedServer(library, config=server_config(library))
    server.start()
    try:
        token = make_tokens(library).upload
        with Client(server.url, token) as client:
            assert client.config()["allowed_types"]["image"] == ["image/jpeg"]
            assert list(client.config()["extensions"]) == [
                "image/jpeg",
                *client.config()["allowed_types"]["video"],
            ]
            before = library.counts()
            with pytest.raises(ClientError) as refused:
                client.upload(media_dir.png)
            assert refused.value.local and refused.value.code == "unsupported_type"
            assert library.counts() == before
            assert client.upload(media_dir.jpeg).file["status"] == "ready"
    finally:
        server.stop()
        library.close()


def test_the_command_lines_sizes_are_binary_as_everywhere_else() -> None:
    from server.client.cli import human

    assert [human(n) for n in (512, 1536, 10 * 1024 * 1024, 3 * 1024**3)] == [
        "512 B",
        "1.5 KiB",
        "10.0 MiB",
        "3.0 GiB",
    ]


@pytest.mark.parametrize("disk", ["local", "no_hard_links"])
def test_two_downloads_of_one_name_at_once_keep_both_files(
    disk: str, live: EmbeddedServer, library: Library, media_dir: Any, tmp_path: Path
) -> None:
    """Two different files named clip.jpg downloaded into one folder at the same time: both
    calls returned folder/clip.jpg and one file was lost. The name was picked before the
    transfer, free then, and the finished file was renamed over whatever took it meanwhile.
    Here the second download runs whole while the first is mid-transfer (from its progress
    callback), as a second thread may; on a file system without hard links too (a FUSE
    mount whose link() fails, as FAT's and some shares' do)."""
    # two JPEGs of other bytes: a name keeps an extension of its type (a PNG's is clip.jpg.png)
    other_jpeg = make_jpeg(tmp_path / "other.jpg", size=(64, 48), color=(10, 200, 30))
    first = library.uploads.ingest(media_dir.jpeg, "image", original_filename="clip.jpg")
    second = library.uploads.ingest(other_jpeg, "image", original_filename="clip.jpg")
    token = make_tokens(library).read
    with contextlib.ExitStack() as stack:
        folder = tmp_path / "out"
        if disk == "no_hard_links":
            folder = stack.enter_context(fuse_mount(tmp_path / "backing", tmp_path / "mnt"))
        client = stack.enter_context(Client(live.url, token))
        other = stack.enter_context(Client(live.url, token))
        meanwhile: list[Path] = []

        def progress(done: int, total: int) -> None:
            if not meanwhile:
                meanwhile.append(other.download(second.id, folder))

        saved = client.download(first.id, folder, progress=progress)
        assert meanwhile == [folder / "clip.jpg"]
        assert saved == folder / "clip (1).jpg"
        assert saved.read_bytes() == media_dir.jpeg.read_bytes()
        assert meanwhile[0].read_bytes() == other_jpeg.read_bytes()
        assert sorted(p.name for p in folder.iterdir()) == ["clip (1).jpg", "clip.jpg"]
        # a third is named after both, and overwrite= still replaces
        assert client.download(first.id, folder) == folder / "clip (2).jpg"
        assert client.download(first.id, folder, overwrite=True) == folder / "clip.jpg"
        assert (folder / "clip.jpg").read_bytes() == media_dir.jpeg.read_bytes()
        assert len(list(folder.iterdir())) == 3  # no .part, no empty claim left


def test_pages_end_with_the_last_full_page(
    live: EmbeddedServer, library: Library, media_dir: Any
) -> None:
    """With exactly `limit` files left the server still answers a next_cursor, which leads to
    an empty page: pages() yielded it, and a loop reading page["items"][0] failed."""
    for path in (media_dir.jpeg, media_dir.png, media_dir.gif, media_dir.webp):
        library.uploads.ingest(path, "image")
    with Client(live.url, make_tokens(library).read) as client:
        assert client.list(limit=2, offset=2)["next_cursor"]  # the server's side, unchanged
        assert [len(p["items"]) for p in client.pages(limit=2)] == [2, 2]
        assert [len(p["items"]) for p in client.pages(limit=3)] == [3, 1]
        assert [len(p["items"]) for p in client.pages(limit=2, trashed=True)] == [0]


def test_a_duplicate_names_the_stored_file_whatever_the_flow(
    tmp_path: Path, media_dir: Any
) -> None:
    """UploadResult.duplicate_of is the id of the file already stored. A duplicate through a
    presigned upload (or tus) is handed a new alias id, and `mediadesk upload` said "already
    stored as id <alias>": an id the user had never seen, one more on each attempt."""
    data = tmp_path / "data"
    data.mkdir()
    settings = load_settings(
        environ={
            "MEDIADESK_MULTIPART_THRESHOLD": str(5 << 20),
            "MEDIADESK_MULTIPART_CHUNK_SIZE": str(5 << 20),
        },
        config_file=data / "settings.toml",
        data_dir=str(data),
    )
    library = Library.open(settings)
    noise = tmp_path / "noise.png"
    side = 2000  # 12 MB of noise: presigned, and above the 5 MiB threshold: tus on local storage
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(
        noise, "PNG", compress_level=0
    )
    try:
        with (
            EmbeddedServer(library, config=server_config(library)) as live,
            Client(live.url, make_tokens(library).upload) as client,
        ):
            for path, presigned, flow in (
                (media_dir.jpeg, False, "direct"),
                (media_dir.mp4, True, "presigned"),
                (noise, None, "tus"),
            ):
                first = client.upload(path, presigned=presigned)
                assert (first.flow, first.duplicate, first.duplicate_of) == (flow, False, None)
                again = client.upload(path, presigned=presigned)
                assert (again.flow, again.duplicate) == (flow, True)
                assert again.duplicate_of == first.id, (flow, again.file)
                assert client.get(again.id)["id"] in (again.id, first.id)
    finally:
        library.close()


def test_playback_url_is_the_pinned_link_a_player_can_open(tmp_path: Path) -> None:
    """playback_url is /stream/{id}/info's pinned stream_url (rendition= and v=), with the file
    grant a header-less player needs for a private file; stream_url stays the bare URL."""
    data = tmp_path / "data"
    data.mkdir()
    lib = Library.open(make_settings(data, workers=0))  # nothing processed: the original plays
    tokens = make_tokens(lib)
    clip = make_mov(tmp_path / "phone.mov", seconds=1)
    original = clip.read_bytes()
    private = lib.uploads.ingest(clip, "video").id
    public = lib.uploads.ingest(make_mp4(tmp_path / "open.mp4"), "video", is_public=True).id
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        with Client(server.url, tokens.read) as client:
            url = client.playback_url(private)
            bare = client.stream_url(private)
            opened = client.playback_url(public)
        assert bare == f"{server.url}/stream/{private}/video"  # unchanged, for HEAD and curl
        split = urlsplit(url)
        assert f"{split.scheme}://{split.netloc}{split.path}" == bare
        query = parse_qs(split.query)
        assert query["rendition"] == ["original"]
        assert query["v"] == [lib.get_file(private).sha256[:16]]
        assert query.keys() >= {"exp", "sig"} and "access_token" not in query
        # a player sends no Authorization header: the link alone opens the pinned bytes
        part = httpx.get(url, headers={"Range": "bytes=100-4099"})
        assert part.status_code == 206, part.text
        assert part.headers["X-MediaDesk-Rendition"] == "original"
        assert part.content == original[100:4100]
        assert httpx.get(bare, headers={"Range": "bytes=0-99"}).status_code == 401
        assert "rendition=original" in opened and "sig=" not in opened
        assert httpx.get(opened, headers={"Range": "bytes=0-99"}).status_code == 206
    finally:
        server.stop()
        lib.close()


def test_a_local_refusal_names_the_types_this_server_accepts(
    live: EmbeddedServer, tmp_path: Path
) -> None:
    """`mediadesk upload notes.txt` was told "accepted: …, video/webm, video/mp2t": every type
    MediaDesk can validate, where this server (default ALLOWED_VIDEO_TYPES) refuses MPEG-TS and
    its own answer to the same file names only what it accepts."""
    notes = tmp_path / "notes.jpg"
    notes.write_text("not a photo at all\n" * 20)
    with Client(live.url) as client:
        allowed = client.config()["allowed_types"]
        assert "video/mp2t" not in allowed["video"]
        with pytest.raises(ClientError) as refused:
            client.check(notes)
        assert refused.value.local and refused.value.code == "unsupported_type"
        everything = [*allowed["image"], *allowed["video"]]
        assert refused.value.message.endswith("accepted: " + ", ".join(everything))
        assert refused.value.details["allowed"] == everything
        assert refused.value.reason == "unknown_content"
        with pytest.raises(ClientError) as as_image:
            client.check(notes, file_type="image")
        assert as_image.value.details["allowed"] == allowed["image"]


def test_a_presign_whose_answer_was_lost_leaves_one_pending_upload(
    live: EmbeddedServer, library: Library, media_dir: Any
) -> None:
    """The presign's answer lost after the server made the pending upload (a 502 from the
    gateway): the client sends it again with the same idempotency_key, and the server answers
    that upload, where a second one, never used, stayed pending until its presign expired."""
    transport = LostAnswers("POST /files/upload/presigned")
    token = make_tokens(library).upload
    with Client(live.url, token, backoff=0, transport=transport) as client:
        result = client.upload(media_dir.jpeg, presigned=True)
    assert transport.seen.count("POST /files/upload/presigned") == 2
    assert result.file["status"] == "ready"
    assert library.list_files(status="pending").total == 0


def test_a_sound_only_mp4_is_refused_before_it_is_sent(
    live: EmbeddedServer, library: Library, tmp_path: Path
) -> None:
    """An MP4 of sound alone whose brand is the generic one (ffmpeg's default, a voice
    recorder's export) sniffs as video/mp4: `mediadesk upload` sent it whole, the progress bar
    at 100 %, before the server refused it as sound only. Its tracks are read before sending,
    as the server reads them, and the refusal is the server's own."""
    sound = make_audio_only_mp4(tmp_path / "voice.mp4")
    assert mediatypes.sniff_file(sound).mime == "video/mp4"  # what the file is about
    transport = LostAnswers()  # loses nothing: it lists what was asked
    with Client(live.url, make_tokens(library).upload, transport=transport) as client:
        allowed = client.config()["allowed_types"]["video"]
        with pytest.raises(ClientError) as refused:
            client.upload(sound)
    assert refused.value.local and refused.value.code == "unsupported_type"
    assert "sound only" in refused.value.message
    assert refused.value.details["found_mime"] == "audio/mp4"
    assert refused.value.details["allowed"] == allowed
    assert transport.seen == ["GET /config"]
