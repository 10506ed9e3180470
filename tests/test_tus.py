"""tus 1.0.0 uploads: tuspy against a SIGKILLed server, the protocol's errors, S3 parts."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import http.client
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from core.db.models import ResumableUpload
from core.library import Library
from core.maintenance import run_maintenance
from core.mediatypes import SNIFF_BYTES
from server.entry import EmbeddedServer
from tests import media
from tests.conftest import make_settings
from tests.faults import CuttableProxy, small_tmpfs
from tests.internals import db_of
from tests.pg_server import postgres_url  # noqa: F401
from tests.resumable_client import (
    OCTETS,
    TUS,
    MiB,
    ServeProcess,
    call,
    create,
    free_port,
    head,
    meta,
    noise_png,
    padded_mp4,
    patch,
    raw_patch,
    tus_send,
)
from tests.s3_nosuchupload import NoSuchUploadProxy
from tests.s3_server import s3_client
from tests.served import serve
from tests.server_fixtures import bearer, http_call, make_tokens, server_config


@pytest.fixture
def big_library(data_dir: Path) -> Iterator[Library]:
    lib = Library.open(make_settings(data_dir, max_file_size=300 * MiB))
    yield lib
    lib.close()


@pytest.fixture
def big_live(big_library: Library) -> Iterator[EmbeddedServer]:
    config = dataclasses.replace(server_config(big_library), cors_origins=("http://site.test",))
    with EmbeddedServer(big_library, config=config) as server:
        yield server


# ---- a real client against a server that is killed -----------------------------------------
def test_tuspy_resumes_from_the_server_offset_after_sigkill(tmp_path: Path) -> None:
    from tusclient import client as tus_client
    from tusclient.storage.filestorage import FileStorage

    data_dir = tmp_path / "data"
    lib = Library.open(make_settings(data_dir))
    token = lib.tokens.create("tuspy", "upload")[1]
    lib.close()
    source = noise_png(tmp_path / "match.png")
    size = source.stat().st_size
    assert size > 10 * MiB  # ten chunks or more
    server = ServeProcess(data_dir, free_port(), 300 * MiB)
    server.start()
    try:
        urls = FileStorage(str(tmp_path / "tus-urls.json"))
        client = tus_client.TusClient(f"{server.url}/files/upload/tus", headers=bearer(token))
        uploader = client.uploader(
            str(source),
            chunk_size=MiB,
            metadata={"filename": "match.png", "filetype": "image/png"},
            store_url=True,
            url_storage=urls,
        )
        while uploader.offset < size // 2:
            uploader.upload_chunk()
        sent = uploader.offset
        server.kill()
        server.start()
        # A new client (as after a crash of the client too) finds the upload by fingerprint
        client = tus_client.TusClient(f"{server.url}/files/upload/tus", headers=bearer(token))
        resumed = client.uploader(
            str(source),
            chunk_size=MiB,
            metadata={"filename": "match.png", "filetype": "image/png"},
            store_url=True,
            url_storage=urls,
        )
        assert resumed.url == uploader.url
        assert resumed.offset == sent  # every acknowledged PATCH survived the SIGKILL
        first = resumed.offset
        resumed.upload()
        assert first > 0 and resumed.offset == size
        answer = head(f"{resumed.url}", token)
        assert answer.status == 200 and answer.headers["Upload-Offset"] == str(size)
        file_id = int(answer.headers["MediaDesk-File-Id"])
        listing = http_call(f"{server.url}/files/{file_id}", headers=bearer(token)).json()
        assert listing["status"] == "ready" and listing["original_filename"] == "match.png"
        assert listing["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
        assert listing["size"] == size
    finally:
        server.stop()
    assert list((data_dir / "uploads").iterdir()) == []  # nothing left behind


# ---- the protocol -----------------------------------------------------------------------------
def test_options_and_cors_preflight_announce_tus(big_live: EmbeddedServer) -> None:
    reply = http_call(f"{big_live.url}/files/upload/tus", "OPTIONS")
    assert reply.status == 204
    assert reply.headers["Tus-Version"] == "1.0.0"
    assert reply.headers["Tus-Max-Size"] == str(300 * MiB)
    assert set(reply.headers["Tus-Extension"].split(",")) == {
        "creation",
        "creation-with-upload",
        "termination",
        "expiration",
        "checksum",
    }
    assert {"sha1", "sha256"} <= set(reply.headers["Tus-Checksum-Algorithm"].split(","))
    asked = "authorization, tus-resumable, upload-length, upload-metadata, upload-offset, "
    asked += "content-type, upload-checksum"
    preflight = http_call(
        f"{big_live.url}/files/upload/tus/abc",
        "OPTIONS",
        headers={
            "Origin": "http://site.test",
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": asked,
        },
    )
    assert preflight.status == 204
    allowed = {h.strip() for h in preflight.headers["Access-Control-Allow-Headers"].split(",")}
    assert {h.strip() for h in asked.split(",")} <= allowed
    assert "PATCH" in preflight.headers["Access-Control-Allow-Methods"]
    reply = http_call(
        f"{big_live.url}/files/upload/tus", "OPTIONS", headers={"Origin": "http://site.test"}
    )
    exposed = {h.strip() for h in reply.headers["Access-Control-Expose-Headers"].split(",")}
    assert {
        "Location",
        "Upload-Offset",
        "Upload-Length",
        "Upload-Expires",
        "Upload-Metadata",
        "Tus-Resumable",
        "Tus-Version",
        "Tus-Max-Size",
        "Tus-Extension",
        "MediaDesk-File-Id",
    } <= exposed


def test_creation_with_upload_catalogues_with_metadata(
    big_live: EmbeddedServer, big_library: Library, tmp_path: Path
) -> None:
    token = make_tokens(big_library).upload
    data = noise_png(tmp_path / "a.png", 300).read_bytes()
    headers = {
        **bearer(token),
        **TUS,
        **OCTETS,
        "Upload-Length": str(len(data)),
        "Upload-Metadata": meta(
            filename="Salida 1.png", athlete_id="7", is_public="true", description="Córner"
        ),
        "Upload-Checksum": "sha256 " + base64.b64encode(hashlib.sha256(data).digest()).decode(),
    }
    reply = http_call(f"{big_live.url}/files/upload/tus", "POST", body=data, headers=headers)
    assert reply.status == 201, reply.body
    file_id = int(reply.headers["MediaDesk-File-Id"])
    assert reply.json()["file_id"] == file_id and reply.headers["Upload-Offset"] == str(len(data))
    record = big_library.get_file(file_id)
    assert (record.file_type, record.athlete_id, record.is_public) == ("image", 7, True)
    assert (record.original_filename, record.description) == ("Salida 1.png", "Córner")
    location = big_live.url + reply.headers["Location"]
    again = head(location, token)
    assert again.status == 200 and again.headers["MediaDesk-File-Id"] == str(file_id)
    # The same bytes again: the existing file, flagged as a duplicate
    dup = http_call(f"{big_live.url}/files/upload/tus", "POST", body=data, headers=headers)
    assert dup.status == 201 and dup.headers["MediaDesk-File-Id"] == str(file_id)
    assert dup.headers["MediaDesk-Duplicate"] == "true"


def test_head_answers_the_metadata_keys_mediadesk_does_not_read(
    big_live: EmbeddedServer, big_library: Library
) -> None:
    # tus 1.0: HEAD's Upload-Metadata is the value the client gave at creation. Uppy adds
    # relativePath, name and type; a client reading them back after a restart got only ours.
    token = make_tokens(big_library).upload
    sent = meta(filename="m.mp4", relativePath="Partido/m.mp4", name="m.mp4") + ",flag"
    created = http_call(
        f"{big_live.url}/files/upload/tus",
        "POST",
        headers={**bearer(token), **TUS, "Upload-Length": "100", "Upload-Metadata": sent},
    )
    assert created.status == 201, created.body
    # a key of the server's own (its leading underscore) is not taken from a client
    sneaky = meta(filename="m.mp4", _source="desktop")
    other = http_call(
        f"{big_live.url}/files/upload/tus",
        "POST",
        headers={**bearer(token), **TUS, "Upload-Length": "100", "Upload-Metadata": sneaky},
    )
    assert other.status == 201, other.body
    answered = head(big_live.url + created.headers["Location"], token).headers["Upload-Metadata"]
    assert answered.split(",") == sent.split(",")
    again = head(big_live.url + other.headers["Location"], token).headers["Upload-Metadata"]
    assert again == meta(filename="m.mp4")


def test_metadata_numbers_and_flags_follow_the_forms_rules(
    big_live: EmbeddedServer, big_library: Library, tmp_path: Path
) -> None:
    """athlete_id was read with int(), which takes other scripts' digits, "_", a sign and
    spaces: "١٢" filed the upload under athlete 12 where the direct upload's form answers 400.
    is_public refused "on"/"off", which forms take."""
    token = make_tokens(big_library).upload
    for odd in ("١٢", "1_2", "+12", " 7", "7 ", "１２", "0", "-3"):
        reply = create(big_live.url, token, 100, filename="a.png", athlete_id=odd)
        assert reply.status == 400, (odd, reply.body)
        assert reply.json()["error"]["code"] == "invalid_input"
        assert "athlete_id" in reply.json()["error"]["message"]
    for word, public in (("on", True), ("OFF", False), (" Yes ", True), ("", False)):
        data = noise_png(tmp_path / f"{word.strip() or 'empty'}.png", 200).read_bytes()
        headers = {
            **bearer(token),
            **TUS,
            **OCTETS,
            "Upload-Length": str(len(data)),
            "Upload-Metadata": meta(filename="p.png", athlete_id="12", is_public=word),
        }
        reply = http_call(f"{big_live.url}/files/upload/tus", "POST", body=data, headers=headers)
        assert reply.status == 201, (word, reply.body)
        record = big_library.get_file(int(reply.headers["MediaDesk-File-Id"]))
        assert (record.athlete_id, record.is_public) == (12, public), word
    assert create(big_live.url, token, 100, is_public="maybe").status == 400


def test_protocol_errors_get_their_status(
    big_live: EmbeddedServer, big_library: Library, tmp_path: Path
) -> None:
    tokens = make_tokens(big_library)
    token = tokens.upload
    base = big_live.url
    data = noise_png(tmp_path / "b.png", 400).read_bytes()
    # no / wrong Tus-Resumable -> 412 with Tus-Version
    no_version = http_call(
        f"{base}/files/upload/tus", "POST", headers={**bearer(token), "Upload-Length": "10"}
    )
    assert no_version.status == 412 and no_version.headers["Tus-Version"] == "1.0.0"
    assert no_version.json()["error"]["code"] == "tus_version"
    # auth: none -> 401, read scope -> 403
    assert create(base, "", len(data)).status == 401
    assert create(base, tokens.read, len(data)).status == 403
    # bigger than MAX_FILE_SIZE -> 413; missing length -> 400; zero -> 400
    assert create(base, token, 300 * MiB + 1).json()["error"]["code"] == "too_large"
    assert create(base, token, 300 * MiB + 1).status == 413
    missing = http_call(f"{base}/files/upload/tus", "POST", headers={**bearer(token), **TUS})
    assert missing.status == 400
    assert create(base, token, 0).status == 400
    bad_meta = http_call(
        f"{base}/files/upload/tus",
        "POST",
        headers={**bearer(token), **TUS, "Upload-Length": "5", "Upload-Metadata": "filename @@"},
    )
    assert bad_meta.status == 400
    assert create(base, token, 5, file_type="audio").status == 400
    created = create(base, token, len(data), filename="b.png")
    assert created.status == 201 and "Upload-Expires" in created.headers
    url = base + created.headers["Location"]
    # wrong content type -> 415, wrong offset -> 409 (with the real offset)
    wrong_type = http_call(
        url,
        "PATCH",
        body=data[:10],
        headers={**bearer(token), **TUS, "Upload-Offset": "0", "Content-Type": "image/png"},
    )
    assert wrong_type.status == 415
    assert patch(url, token, 0, data[:1000]).status == 204
    wrong = patch(url, token, 0, data[:1000])
    assert wrong.status == 409 and wrong.json()["error"]["details"]["offset"] == 1000
    assert wrong.headers["Tus-Resumable"] == "1.0.0"
    # past Upload-Length -> 413; a bad checksum -> 460 and nothing kept; unknown algorithm -> 400
    assert patch(url, token, 1000, data[1000:] + b"extra").status == 413
    assert head(url, token).headers["Upload-Offset"] == "1000"
    digest = base64.b64encode(hashlib.sha1(b"other").digest()).decode()
    bad_sum = patch(url, token, 1000, data[1000:2000], **{"Upload-Checksum": f"sha1 {digest}"})
    assert bad_sum.status == 460 and bad_sum.json()["error"]["code"] == "checksum_mismatch"
    assert head(url, token).headers["Upload-Offset"] == "1000"
    crc = patch(url, token, 1000, data[1000:2000], **{"Upload-Checksum": "crc32 AAAAAA=="})
    assert crc.status == 400
    good = base64.b64encode(hashlib.sha1(data[1000:2000]).digest()).decode()
    ok = patch(url, token, 1000, data[1000:2000], **{"Upload-Checksum": f"sha1 {good}"})
    assert ok.status == 204 and ok.headers["Upload-Offset"] == "2000"
    # another upload token cannot see this upload
    other = big_library.tokens.create("other", "upload")[1]
    assert head(url, other).status == 404
    # unknown -> 404; expired -> 410; terminated -> 404
    assert head(f"{base}/files/upload/tus/{'0' * 32}", token).status == 404
    upload_id = url.rsplit("/", 1)[1]
    with db_of(big_library).write() as s:
        row = s.get(ResumableUpload, upload_id)
        assert row is not None
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    gone = head(url, token)
    assert gone.status == 410
    assert patch(url, token, 2000, data[2000:]).status == 410
    second = base + create(base, token, len(data)).headers["Location"]
    deleted = http_call(second, "DELETE", headers={**bearer(token), **TUS})
    assert deleted.status == 204
    assert head(second, token).status == 404
    # maintenance removes the expired upload's bytes and row
    report = run_maintenance(big_library)
    assert upload_id in report.expired_uploads
    assert list((big_library.paths.data_dir / "uploads").iterdir()) == []


def test_empty_patches_answer_and_leave_the_server_serving(tmp_path: Path) -> None:
    """PATCHes with no body (Content-Length: 0, as a client resuming at its offset sends):
    aiohttp hands every empty body the same reader, which after its first read reports the end
    of an HTTP chunk forever; the reading loop took that as "more may follow" and spun on the
    event loop, so the second empty body in the process hung every request of the server.
    A server process of its own: a hung one is killed, not left to the test run."""
    with serve(tmp_path / "data", {}) as served:
        created = create(served.url, served.token, 100)
        assert created.status == 201, created.body
        url = served.url + created.headers["Location"]
        for _ in range(3):
            empty = call(
                url,
                "PATCH",
                b"",
                {**bearer(served.token), **TUS, **OCTETS, "Upload-Offset": "0"},
                timeout=15,
            )
            assert empty.status == 204 and empty.headers["Upload-Offset"] == "0"
        assert http_call(f"{served.url}/health", timeout=15).status == 200


def test_numbers_int_cannot_read_are_sizes_still(
    big_live: EmbeddedServer, big_library: Library
) -> None:
    """Upload-Length and Upload-Offset of more digits than int() reads (4300) answered 500
    internal_error (found fuzzing the API), then a 400 "not a whole number": they are numbers
    past every limit, so the answers of any too-large length (413) or wrong offset (409)."""
    token = make_tokens(big_library).upload
    base = f"{big_live.url}/files/upload/tus"
    url = big_live.url + create(big_live.url, token, 100).headers["Location"]
    huge = "1" * 5000
    for expected, reply in (
        (
            (413, "too_large"),
            call(base, "POST", None, {**bearer(token), **TUS, "Upload-Length": huge}),
        ),
        (
            (409, "offset_mismatch"),
            call(url, "PATCH", b"", {**bearer(token), **TUS, **OCTETS, "Upload-Offset": huge}),
        ),
    ):
        assert (reply.status, reply.json()["error"]["code"]) == expected, reply.body
    # not digits at all: still the 400 of a malformed number
    reply = call(base, "POST", None, {**bearer(token), **TUS, "Upload-Length": "1e9"})
    assert reply.status == 400 and "Upload-Length" in reply.json()["error"]["message"]


def test_a_creation_whose_body_is_refused_leaves_no_upload(
    big_live: EmbeddedServer, big_library: Library
) -> None:
    """creation-with-upload whose body is refused (longer than Upload-Length, by its
    Content-Length or as it streams in chunks; a checksum mismatch): the error, and no upload
    left behind, since the client got no Location to resume or DELETE it with."""
    token = make_tokens(big_library).upload
    base = {**bearer(token), **TUS, **OCTETS}
    digest = base64.b64encode(hashlib.sha1(b"other").digest()).decode()
    for body, headers, status in (
        (b"x" * 200, {"Upload-Length": "100"}, 413),
        (iter([b"x" * 600, b"x" * 600]), {"Upload-Length": "1000"}, 413),  # chunked
        (b"x" * 200, {"Upload-Length": "1000", "Upload-Checksum": f"sha1 {digest}"}, 460),
    ):
        reply = call(f"{big_live.url}/files/upload/tus", "POST", body, {**base, **headers})
        assert reply.status == status, reply.body
        assert "Location" not in reply.headers
        with db_of(big_library).read() as s:
            assert s.query(ResumableUpload).count() == 0
        folder = big_library.paths.data_dir / "uploads"
        assert not folder.exists() or list(folder.iterdir()) == []


def test_a_file_that_fails_validation_is_refused_and_removed(
    big_live: EmbeddedServer, big_library: Library
) -> None:
    token = make_tokens(big_library).upload
    fake = b"\x7fELF" + os.urandom(64 * 1024)
    created = create(big_live.url, token, len(fake), filename="clip.mp4", filetype="video/mp4")
    url = big_live.url + created.headers["Location"]
    assert patch(url, token, 0, fake[:3000]).status == 204  # too few bytes to tell yet
    last = patch(url, token, 3000, fake[3000:30000])
    # refused once its first bytes are in, not after the last one (a browser's tus client
    # sent a whole 150 MB file of text before it was told)
    assert last.status == 400 and last.json()["error"]["code"] == "unsupported_type"
    assert head(url, token).status == 410
    assert patch(url, token, 30000, fake[30000:]).status == 410
    assert list((big_library.paths.data_dir / "uploads").iterdir()) == []
    assert big_library.list_files(status="any").total == 0


def test_a_file_not_of_its_declared_kind_is_refused_at_its_first_bytes(
    big_live: EmbeddedServer, big_library: Library, tmp_path: Path
) -> None:
    token = make_tokens(big_library).upload
    photo = media.make_jpeg(tmp_path / "p.jpg", size=(1600, 1200)).read_bytes()
    assert len(photo) > 2 * SNIFF_BYTES
    created = create(big_live.url, token, len(photo), filename="p.jpg", file_type="video")
    url = big_live.url + created.headers["Location"]
    first = patch(url, token, 0, photo[: 2 * SNIFF_BYTES])
    assert first.status == 400 and first.json()["error"]["code"] == "type_mismatch", first.body
    assert head(url, token).status == 410


def test_a_heic_sent_without_a_kind_is_told_the_image_types(
    big_live: EmbeddedServer, big_library: Library
) -> None:
    """An iPhone photo over tus with no filetype: its refusal named the video types as well;
    the bytes say it is an image, so it names the image types (README: the file's kind)."""
    token = make_tokens(big_library).upload
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(4000)
    created = create(big_live.url, token, len(heic), filename="IMG_0001.HEIC")
    last = patch(big_live.url + created.headers["Location"], token, 0, heic)
    assert last.status == 400, last.body
    error = last.json()["error"]
    assert error["code"] == "unsupported_type" and error["details"]["found_mime"] == "image/heif"
    assert error["details"]["allowed"] == list(big_library.settings.allowed_image_types)
    assert error["message"].endswith("accepted: " + ", ".join(error["details"]["allowed"]))


def test_two_patches_at_once_one_wins(
    big_live: EmbeddedServer, big_library: Library, tmp_path: Path
) -> None:
    token = make_tokens(big_library).upload
    data = noise_png(tmp_path / "c.png", 500).read_bytes()
    url = big_live.url + create(big_live.url, token, len(data)).headers["Location"]
    path = url.split(str(big_live.port), 1)[1]
    # The first PATCH sends its headers and half its body, then waits
    slow = socket.create_connection(("127.0.0.1", big_live.port), timeout=30)
    request = (
        f"PATCH {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
        f"Tus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\n"
        f"Upload-Offset: 0\r\nContent-Length: {len(data)}\r\n\r\n"
    ).encode()
    slow.sendall(request + data[: len(data) // 2])
    time.sleep(0.5)  # the server has read the headers and holds the upload
    second = patch(url, token, 0, data)
    assert second.status in (409, 423), second.body
    slow.sendall(data[len(data) // 2 :])
    answer = slow.recv(65536).decode("latin-1")
    slow.close()
    assert answer.startswith("HTTP/1.1 204"), answer
    state = head(url, token)
    record = big_library.get_file(int(state.headers["MediaDesk-File-Id"]))
    assert record.sha256 == hashlib.sha256(data).hexdigest()


def _head_meanwhile(url: str, token: str, data: bytes, monkeypatch: pytest.MonkeyPatch) -> Any:
    """HEAD while the upload's completion is held: one whose wait runs out answers 423 (tus-js-
    client retries it later), never the full offset without a file id, which would tell the
    client it is done; another that waits is started, and is given back to be joined once the
    caller lets the completion go on."""
    import server.routes.tus as tus_routes

    monkeypatch.setattr(tus_routes, "HEAD_WAIT", 0.2)
    early = head(url, token)
    assert early.status == 423, (early.status, early.body)
    assert early.headers["Tus-Resumable"] == "1.0.0"
    assert "MediaDesk-File-Id" not in early.headers  # not catalogued yet
    monkeypatch.setattr(tus_routes, "HEAD_WAIT", 60.0)
    replies: dict[str, Any] = {}
    waiting = threading.Thread(target=lambda: replies.setdefault("head", head(url, token)))
    waiting.start()
    time.sleep(0.3)  # let it reach the server: its answer must be the file's either way
    assert "head" not in replies  # it waits for the completion
    return waiting, replies


def test_head_while_the_last_patch_is_being_catalogued_waits_for_its_file_id(
    big_live: EmbeddedServer, big_library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The client's connection dropped right after it sent the final PATCH; its HEAD got 423
    Locked (no Upload-Offset) while the server validated, hashed, stored and catalogued the
    file, and tuspy's resume raised TusCommunicationError. HEAD now waits for the completion
    and answers its MediaDesk-File-Id (past its wait, 423). The completion is
    held at the hash's lock it takes once the file is validated."""
    from tests.faults import wait_for
    from tests.internals import lock_users, sha_locks_of

    token = make_tokens(big_library).upload
    data = noise_png(tmp_path / "last.png", 300).read_bytes()
    url = big_live.url + create(big_live.url, token, len(data)).headers["Location"]
    sha_locks, sha = sha_locks_of(big_library), hashlib.sha256(data).hexdigest()
    replies: dict[str, Any] = {}
    with sha_locks.hold(sha):
        last = threading.Thread(
            target=lambda: replies.setdefault("patch", patch(url, token, 0, data))
        )
        last.start()
        wait_for(lambda: lock_users(sha_locks, sha) == 2, what="the completion at the hash's lock")
        waiting, heads = _head_meanwhile(url, token, data, monkeypatch)
    last.join(30)
    waiting.join(30)
    assert replies["patch"].status == 204, replies["patch"].body
    file_id = replies["patch"].headers["MediaDesk-File-Id"]
    assert heads["head"].status == 200 and heads["head"].headers["MediaDesk-File-Id"] == file_id
    after = head(url, token)
    assert after.status == 200 and after.headers["MediaDesk-File-Id"] == file_id
    assert big_library.get_file(int(file_id)).sha256 == sha


def test_head_while_another_server_catalogues_the_upload_waits_for_its_file_id(
    big_live: EmbeddedServer, big_library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same with the completion running on another server of the team (another library on
    the catalog): the upload's lease in the catalog, not this process's hold, says it is
    finishing; HEAD reads the recorded offset and waits as for one of its own."""
    from tests.faults import wait_for
    from tests.internals import lock_users, sha_locks_of

    other = Library.open(big_library.settings)
    try:
        token = make_tokens(big_library).upload
        data = noise_png(tmp_path / "team.png", 300).read_bytes()
        url = big_live.url + create(big_live.url, token, len(data)).headers["Location"]
        upload_id = url.rsplit("/", 1)[1]
        sha_locks, sha = sha_locks_of(other), hashlib.sha256(data).hexdigest()
        done: dict[str, Any] = {}

        def finish_elsewhere() -> None:
            writer = other.resumable.writer(upload_id, 0)
            writer.write(data)
            done["state"] = writer.close()

        with sha_locks.hold(sha):
            finishing = threading.Thread(target=finish_elsewhere)
            finishing.start()
            wait_for(lambda: lock_users(sha_locks, sha) == 2, what="the other's completion")
            waiting, heads = _head_meanwhile(url, token, data, monkeypatch)
        finishing.join(30)
        waiting.join(30)
        file_id = str(done["state"].file_id)
        assert heads["head"].status == 200 and heads["head"].headers["MediaDesk-File-Id"] == file_id
        assert head(url, token).headers["MediaDesk-File-Id"] == file_id
    finally:
        other.close()


def test_long_streamed_patches_catalogue_the_exact_bytes(
    big_live: EmbeddedServer, big_library: Library, tmp_path: Path
) -> None:
    """PATCHes of many MiB (several checkpoints each, not aligned to them) keep every byte."""
    token = make_tokens(big_library).upload
    source = padded_mp4(tmp_path / "match.mp4", 40 * MiB + 12345)
    _, file_id, _ = tus_send(big_live.url, token, source, chunk=17 * MiB + 1)
    record = big_library.get_file(file_id)
    assert (record.status, record.file_type, record.size) == ("ready", "video", 40 * MiB + 12345)
    assert record.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    assert list((big_library.paths.data_dir / "uploads").iterdir()) == []


def test_chunked_patch_after_a_long_one_on_the_same_connection(
    big_live: EmbeddedServer, big_library: Library, tmp_path: Path
) -> None:
    """The body is read in big pieces without losing the HTTP framing: a chunked PATCH (with
    chunks of every size, down to 1 byte) follows a long one on the same kept-alive connection."""
    token = make_tokens(big_library).upload
    data = noise_png(tmp_path / "c.png", 1500).read_bytes()
    assert len(data) > 6 * MiB
    url = big_live.url + create(big_live.url, token, len(data)).headers["Location"]
    path = url.split(str(big_live.port), 1)[1]
    half = len(data) // 2
    headers = {**bearer(token), **TUS, **OCTETS}
    conn = http.client.HTTPConnection("127.0.0.1", big_live.port, timeout=60)
    try:
        conn.request("PATCH", path, body=data[:half], headers={**headers, "Upload-Offset": "0"})
        first = conn.getresponse()
        first.read()
        assert (first.status, first.getheader("Upload-Offset")) == (204, str(half))
        sizes = [1, 7, 65536, 3 * MiB, 1, 123457]
        pieces, at = [], half
        for n in sizes:
            pieces.append(data[at : at + n])
            at += n
        pieces.append(data[at:])
        conn.request(
            "PATCH",
            path,
            body=iter(pieces),
            headers={**headers, "Upload-Offset": str(half)},
            encode_chunked=True,
        )
        second = conn.getresponse()
        second.read()
        assert (second.status, second.getheader("Upload-Offset")) == (204, str(len(data)))
    finally:
        conn.close()
    record = big_library.get_file(int(head(url, token).headers["MediaDesk-File-Id"]))
    assert record.sha256 == hashlib.sha256(data).hexdigest()


# ---- big bodies read past aiohttp (server/rawbody.py) ----------------------------------------
def _read_until_closed(conn: socket.socket, within: float) -> bytes:
    """Everything the server sends until it closes the connection (fails past `within` s)."""
    conn.settimeout(within)
    answer = b""
    while chunk := conn.recv(65536):
        answer += chunk
    return answer


def _read_head(conn: socket.socket, within: float) -> str:
    """An answer's status line and headers (a 204 has no body)."""
    conn.settimeout(within)
    answer = b""
    while b"\r\n\r\n" not in answer:
        chunk = conn.recv(65536)
        assert chunk, answer
        answer += chunk
    return answer.decode("latin-1")


def _offset(url: str, token: str) -> int:
    return int(head(url, token).headers["Upload-Offset"])


def test_a_big_patch_takes_its_body_exactly_and_closes_the_connection(
    big_live: EmbeddedServer, big_library: Library, tmp_path: Path
) -> None:
    """A body past rawbody.TAKE_MIN is read from the socket, not a byte past its end: a request
    sent right behind it is not taken as upload bytes, the answer says Connection: close and
    the connection closes at once (no lingering wait for a body aiohttp never saw)."""
    from tests.test_logs import metric

    tokens = make_tokens(big_library)
    data = padded_mp4(tmp_path / "m.mp4", 12 * MiB + 777).read_bytes()
    made = create(big_live.url, tokens.upload, len(data), file_type="video")
    url = big_live.url + made.headers["Location"]
    path = url.split(str(big_live.port), 1)[1]
    first = 7 * MiB + 3
    conn = raw_patch(url, tokens.upload, 0, first)
    behind = f"HEAD {path} HTTP/1.1\r\nHost: x\r\nTus-Resumable: 1.0.0\r\n\r\n".encode()
    conn.sendall(data[:first] + behind)
    started = time.monotonic()
    answer = _read_until_closed(conn, within=10).decode("latin-1")
    conn.close()
    assert time.monotonic() - started < 5  # closed after the answer, not after aiohttp's 10 s
    assert answer.startswith("HTTP/1.1 204"), answer
    assert "\r\nConnection: close\r\n" in answer, answer
    assert f"\r\nUpload-Offset: {first}\r\n" in answer, answer
    assert answer.count("HTTP/1.1") == 1  # the request behind it was not answered, nor eaten
    assert _offset(url, tokens.upload) == first
    done = patch(url, tokens.upload, first, data[first:])
    assert done.status == 204, done.body
    record = big_library.get_file(int(done.headers["MediaDesk-File-Id"]))
    assert record.sha256 == hashlib.sha256(data).hexdigest()
    text = http_call(f"{big_live.url}/metrics", headers=bearer(tokens.read)).body.decode()
    received = metric(
        text, "mediadesk_bandwidth_bytes_total", direction="in", flow="tus", file_type="video"
    )
    assert received == len(data)


def test_a_big_body_cut_short_keeps_every_byte_that_arrived(
    big_live: EmbeddedServer, big_library: Library, tmp_path: Path
) -> None:
    token = make_tokens(big_library).upload
    data = padded_mp4(tmp_path / "m.mp4", 20 * MiB).read_bytes()
    url = big_live.url + create(big_live.url, token, len(data)).headers["Location"]
    conn = raw_patch(url, token, 0, len(data))
    sent = 9 * MiB + 12345  # past a checkpoint, not on one
    conn.sendall(data[:sent])
    time.sleep(0.3)
    conn.close()
    deadline = time.monotonic() + 10
    while _offset(url, token) != sent:
        assert time.monotonic() < deadline, _offset(url, token)
        time.sleep(0.05)
    # the offset is recorded a moment before the cut request lets the upload go: a PATCH in
    # between is 423 upload_locked, which a tus client retries (failed under load twice: the
    # loop waited for the 409 this answer was before it became 423)
    done = patch(url, token, sent, data[sent:])
    while done.status == 423 and b"upload_locked" in done.body:
        assert time.monotonic() < deadline, done.body
        time.sleep(0.05)
        done = patch(url, token, sent, data[sent:])
    assert done.status == 204, done.body
    record = big_library.get_file(int(done.headers["MediaDesk-File-Id"]))
    assert record.sha256 == hashlib.sha256(data).hexdigest()


def test_a_client_quiet_mid_body_is_let_go_and_its_bytes_kept(
    big_live: EmbeddedServer, big_library: Library, tmp_path: Path, monkeypatch: Any
) -> None:
    import server.rawbody

    monkeypatch.setattr(server.rawbody, "IDLE_TIMEOUT", 1.0)
    token = make_tokens(big_library).upload
    data = padded_mp4(tmp_path / "m.mp4", 10 * MiB).read_bytes()
    url = big_live.url + create(big_live.url, token, len(data)).headers["Location"]
    conn = raw_patch(url, token, 0, len(data))
    conn.sendall(data[: 6 * MiB])
    started = time.monotonic()
    answer = _read_until_closed(conn, within=10).decode("latin-1")
    conn.close()
    assert time.monotonic() - started < 8
    assert answer.startswith("HTTP/1.1 408"), answer
    assert '"code": "request_timeout"' in answer and "Connection: close" in answer, answer
    assert "Tus-Resumable: 1.0.0" in answer, answer
    assert _offset(url, token) == 6 * MiB
    # the upload is free again: the rest completes it
    done = patch(url, token, 6 * MiB, data[6 * MiB :])
    assert done.status == 204, done.body


def test_slow_big_bodies_hold_no_worker_of_the_pool_and_past_the_limit_go_through_aiohttp(
    big_library: Library, tmp_path: Path
) -> None:
    """Phones on bad Wi-Fi: more stalled big PATCHes than the pool has workers, and more than
    body_threads, while other requests (a new upload, HEAD, the file list) answer at once;
    then every client sends the rest and every upload is catalogued with its exact bytes."""
    config = dataclasses.replace(server_config(big_library), executor_workers=3, body_threads=2)
    token = make_tokens(big_library).upload
    data = [padded_mp4(tmp_path / f"m{i}.mp4", 6 * MiB + i).read_bytes() for i in range(5)]
    with EmbeddedServer(big_library, config=config) as server:
        stalled = []
        for body in data:
            url = server.url + create(server.url, token, len(body)).headers["Location"]
            conn = raw_patch(url, token, 0, len(body))
            conn.sendall(body[:MiB])
            stalled.append((url, conn, body))
        time.sleep(0.5)  # two bodies are in their threads, three in aiohttp's hands
        other = create(server.url, token, 10)  # needs the pool: answered, not queued
        assert other.status == 201, other.body
        assert _offset(stalled[0][0], token) in (0, MiB)
        listed = http_call(f"{server.url}/files/", headers=bearer(token), timeout=10)
        assert listed.status == 200
        for _url, conn, body in stalled:
            conn.sendall(body[MiB:])
            answer = _read_head(conn, within=30)  # aiohttp's answers keep the connection
            conn.close()
            assert answer.startswith("HTTP/1.1 204"), answer
            file_id = int(answer.split("MediaDesk-File-Id: ")[1].split("\r\n")[0])
            assert big_library.get_file(file_id).sha256 == hashlib.sha256(body).hexdigest()


def test_a_client_gone_mid_body_is_logged_as_such_not_as_a_server_error(
    big_live: EmbeddedServer, big_library: Library, tmp_path: Path, caplog: Any
) -> None:
    """A client that closes mid-body is an info line and a 499 in /metrics (nginx's status),
    not aiohttp's 'Error handling request' with a traceback; its bytes are kept."""

    tokens = make_tokens(big_library)
    data = padded_mp4(tmp_path / "m.mp4", 10 * MiB).read_bytes()
    url = big_live.url + create(big_live.url, tokens.upload, len(data)).headers["Location"]
    caplog.set_level(logging.INFO)
    conn = raw_patch(url, tokens.upload, 0, len(data))
    conn.sendall(data[: 5 * MiB])
    time.sleep(0.3)
    conn.close()
    deadline = time.monotonic() + 10
    while _offset(url, tokens.upload) != 5 * MiB:
        assert time.monotonic() < deadline
        time.sleep(0.05)

    def counted() -> bool:
        # HEAD answers the recorded offset before the PATCH's handler has ended, and the
        # request is counted (499) when it ends: seen once on a loaded machine
        text = http_call(f"{big_live.url}/metrics", headers=bearer(tokens.read)).body.decode()
        return any(
            line.startswith("mediadesk_http_requests_total{") and 'status="499"' in line
            for line in text.splitlines()
        )

    while not counted():
        assert time.monotonic() < deadline, "no 499 in /metrics"
        time.sleep(0.05)
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert any("Client went away" in r.getMessage() for r in caplog.records)


def test_a_full_disk_mid_body_answers_507_keeps_what_was_written_and_resumes(
    big_library: Library, data_dir: Path, tmp_path: Path
) -> None:
    """The data folder fills up while a big body is read from the socket: the write fails,
    the read stops, the client gets the 507 (its bytes still coming are drained, not reset),
    the bytes written are recorded, and the upload resumes there once there is room again.
    A real 8 MiB tmpfs under the uploads folder (root only)."""
    folder = data_dir / "uploads"
    with small_tmpfs(folder, "8m"):
        token = make_tokens(big_library).upload
        data = padded_mp4(tmp_path / "m.mp4", 12 * MiB + 99).read_bytes()
        with EmbeddedServer(big_library, config=server_config(big_library)) as server:
            url = server.url + create(server.url, token, len(data)).headers["Location"]
            conn = raw_patch(url, token, 0, len(data))
            sender = threading.Thread(target=_send_quietly, args=(conn, data))
            sender.start()
            answer = _read_until_closed(conn, within=20).decode("latin-1")
            sender.join(20)
            conn.close()
            assert answer.startswith("HTTP/1.1 507"), answer
            assert '"code": "insufficient_storage"' in answer, answer
            assert "Tus-Resumable: 1.0.0" in answer, answer
            kept = _offset(url, token)
            on_disk = (folder / f"{url.rsplit('/', 1)[1]}.part").stat().st_size
            assert 0 < kept <= on_disk <= 8 * MiB
            subprocess.run(["mount", "-o", "remount,size=64m", str(folder)], check=True)
            done = patch(url, token, kept, data[kept:])
            assert done.status == 204, done.body
            record = big_library.get_file(int(done.headers["MediaDesk-File-Id"]))
            assert record.sha256 == hashlib.sha256(data).hexdigest()


def _send_quietly(conn: socket.socket, data: bytes) -> None:
    with contextlib.suppress(OSError):  # the server may close once it has answered
        conn.sendall(data)


def test_stopping_the_server_mid_body_ends_the_read_and_keeps_the_bytes(
    big_library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from server import entry, state

    # a shutdown grace of 1 s, not 5, for the body the stop cuts: the stop waited it out whole
    # (the client never sends the rest). A pool thread holding the shutdown costs the grace and
    # the join of the long calls (state.LONG_JOIN, 5 s) at least: the bound stays below that sum
    monkeypatch.setattr(entry, "SHUTDOWN_TIMEOUT", 1.0)
    held = entry.SHUTDOWN_TIMEOUT + state.LONG_JOIN
    token = make_tokens(big_library).upload
    data = padded_mp4(tmp_path / "m.mp4", 10 * MiB).read_bytes()
    config = server_config(big_library)
    with EmbeddedServer(big_library, config=config) as server:
        url = server.url + create(server.url, token, len(data)).headers["Location"]
        conn = raw_patch(url, token, 0, len(data))
        conn.sendall(data[: 5 * MiB])
        time.sleep(0.5)  # the body is being read by a pool thread
        started = time.monotonic()
    # the pool thread did not hold the shutdown
    assert time.monotonic() - started < held - 0.5
    conn.close()
    with EmbeddedServer(big_library, config=config) as server:
        again = url.replace(url.split("/files/")[0], server.url)
        assert _offset(again, token) == 5 * MiB
        done = patch(again, token, 5 * MiB, data[5 * MiB :])
        assert done.status == 204, done.body


@pytest.fixture
def pg_big_library(postgres_url: str, tmp_path: Path) -> Iterator[Library]:  # noqa: F811
    data = tmp_path / "pg"
    data.mkdir()
    lib = Library.open(make_settings(data, database_url=postgres_url, max_file_size=300 * MiB))
    yield lib
    lib.close()


def test_tus_on_a_postgresql_catalog_leases_resumes_and_catalogues(
    pg_big_library: Library, tmp_path: Path
) -> None:
    """The lease and progress statements (Core SQL, FOR UPDATE) on PostgreSQL: a big PATCH cut
    short keeps its bytes, a second writer is refused while the first holds the upload, the
    rest completes it."""
    lib = pg_big_library
    token = make_tokens(lib).upload
    data = padded_mp4(tmp_path / "m.mp4", 12 * MiB + 5).read_bytes()
    with EmbeddedServer(lib, config=server_config(lib)) as server:
        url = server.url + create(server.url, token, len(data)).headers["Location"]
        conn = raw_patch(url, token, 0, len(data))
        conn.sendall(data[: 9 * MiB])
        time.sleep(0.5)
        assert patch(url, token, 0, data[:10]).status in (409, 423)  # the upload is held
        conn.close()
        deadline = time.monotonic() + 10
        while _offset(url, token) != 9 * MiB:
            assert time.monotonic() < deadline, _offset(url, token)
            time.sleep(0.05)
        # the cut request records its bytes, then lets go of the upload: in between, a
        # client is told 423 "retry shortly", and does
        done = patch(url, token, 9 * MiB, data[9 * MiB :])
        while done.status == 423 and time.monotonic() < deadline:
            time.sleep(0.05)
            done = patch(url, token, 9 * MiB, data[9 * MiB :])
        assert done.status == 204, done.body
    record = lib.get_file(int(done.headers["MediaDesk-File-Id"]))
    assert record.sha256 == hashlib.sha256(data).hexdigest()


# ---- S3: parts of equal size, nothing left behind --------------------------------------------
@pytest.fixture
def s3_big(data_dir: Path, s3_bucket: Any) -> Iterator[tuple[Library, Any]]:
    lib = _s3_library(data_dir, s3_bucket, s3_bucket.endpoint_url)
    client = s3_client(s3_bucket)
    yield lib, client
    lib.close()


def _s3_library(data_dir: Path, s3_bucket: Any, endpoint_url: str) -> Library:
    """A library on the test bucket, reached through `endpoint_url` (moto's, or a proxy's)."""
    settings = make_settings(
        data_dir,
        r2_endpoint_url=endpoint_url,
        r2_bucket_name=s3_bucket.bucket,
        r2_access_key_id=s3_bucket.access_key_id,
        r2_secret_access_key=s3_bucket.secret_access_key,
        r2_region="us-east-1",
        max_file_size=300 * MiB,
        upload_part_size=5 * MiB,
        multipart_threshold=5 * MiB,
        multipart_chunk_size=5 * MiB,
    )
    return Library.open(settings)


def _stored_whole(base: str, lib: Library, done: Any, token: str, data: bytes) -> None:
    """The answer that finished an upload names a file holding exactly `data`."""
    record = lib.get_file(int(done.headers["MediaDesk-File-Id"]))
    assert record.sha256 == hashlib.sha256(data).hexdigest()
    streamed = http_call(f"{base}/stream/{record.id}/raw", headers=bearer(token))
    assert streamed.status == 200 and streamed.body == data


def test_s3_outage_mid_upload_answers_a_clean_error_keeps_the_parts_and_resumes(
    data_dir: Path, s3_bucket: Any, tmp_path: Path
) -> None:
    """The store's endpoint dies between two PATCHes: the PATCH that needs it answers the
    storage error as every route does (no endpoint in the message, a reason, Tus-Resumable),
    HEAD keeps answering from the catalog, and once the store is back the upload resumes from
    the parts it holds and is catalogued with the right bytes; nothing is left in the bucket.
    A refused token on a tus route carries Tus-Resumable too."""
    proxy = CuttableProxy.in_front_of(s3_bucket.endpoint_url)
    lib = _s3_library(data_dir, s3_bucket, proxy.url)
    try:
        token = make_tokens(lib).upload
        data = padded_mp4(tmp_path / "m.mp4", 23 * MiB + 7).read_bytes()
        with EmbeddedServer(lib, config=server_config(lib)) as server:
            url = server.url + create(server.url, token, len(data)).headers["Location"]
            assert patch(url, token, 0, data[: 7 * MiB]).status == 204
            proxy.cut()
            down = patch(url, token, 7 * MiB, data[7 * MiB : 14 * MiB])
            assert down.status == 500, down.body
            error = json.loads(down.body)["error"]
            assert (error["code"], error["reason"]) == (
                "storage_unavailable",
                "endpoint_unreachable",
            )
            assert str(proxy.port) not in error["message"] and "127.0.0.1" not in error["message"]
            assert down.headers["Tus-Resumable"] == "1.0.0"
            held = _offset(url, token)  # whole parts the store has, from the catalog
            assert held % (5 * MiB) == 0 and 5 * MiB <= held <= 14 * MiB
            refused = head(url, "not-a-token")
            assert refused.status == 401 and refused.headers["Tus-Resumable"] == "1.0.0"
            proxy.restore()
            done = resume_as_a_client(url, token, held, data)
            assert done.status == 204, done.body
            _stored_whole(server.url, lib, done, token, data)
        s3 = s3_client(s3_bucket)
        assert s3.list_multipart_uploads(Bucket=s3_bucket.bucket).get("Uploads", []) == []
    finally:
        lib.close()
        proxy.close()


def resume_as_a_client(url: str, token: str, held: int, data: bytes) -> Any:
    """PATCHes the rest from `held` as tus clients do after an error: a store the server found
    out of reach a moment ago (a connect that timed out under load counts) is not asked again
    for up to 5 s, so the first try may be answered 500 with Retry-After at once, before its
    body is read (the client sees the connection reset while sending); the client waits,
    asks HEAD for the offset and sends again. Nothing it sent may be lost meanwhile."""
    for _ in range(4):
        try:
            reply = patch(url, token, held, data[held:])
        except ConnectionError:
            reply = None
        if reply is not None and reply.status != 500:
            return reply
        time.sleep(float(reply.headers.get("Retry-After", 5)) if reply is not None else 5)
        again = _offset(url, token)
        assert again >= held  # parts the store holds are never given up
        held = again
    raise AssertionError("the upload did not resume once the store was back")


def test_s3_outage_on_the_last_patch_keeps_the_upload_for_a_retry(
    data_dir: Path, s3_bucket: Any, tmp_path: Path
) -> None:
    """The store's endpoint dies just as the last PATCH arrives (its short last part and the
    completion still to send): the PATCH answers the storage error, and nothing sent is lost —
    the upload is not failed, its buffer stays, and once the store is back the client's HEAD
    (what tus clients ask after an error) finishes it: catalogued with the right bytes, no
    multipart upload left behind."""
    proxy = CuttableProxy.in_front_of(s3_bucket.endpoint_url)
    lib = _s3_library(data_dir, s3_bucket, proxy.url)
    try:
        token = make_tokens(lib).upload
        data = padded_mp4(tmp_path / "m.mp4", 13 * MiB + 7).read_bytes()
        with EmbeddedServer(lib, config=server_config(lib)) as server:
            url = server.url + create(server.url, token, len(data)).headers["Location"]
            upload_id = url.rsplit("/", 1)[1]
            assert patch(url, token, 0, data[: 10 * MiB]).status == 204
            proxy.cut()
            down = patch(url, token, 10 * MiB, data[10 * MiB :])
            assert down.status == 500, down.body
            assert json.loads(down.body)["error"]["code"] == "storage_unavailable"
            assert (lib.paths.data_dir / "uploads" / f"{upload_id}.buffer").exists()
            still_down = head(url, token)
            assert still_down.status == 500, still_down.body  # asked again: not gone, not done
            proxy.restore()
            done = head(url, token)
            assert done.status == 200, done.body
            assert int(done.headers["Upload-Offset"]) == len(data)
            _stored_whole(server.url, lib, done, token, data)
        s3 = s3_client(s3_bucket)
        assert s3.list_multipart_uploads(Bucket=s3_bucket.bucket).get("Uploads", []) == []
    finally:
        lib.close()
        proxy.close()


def test_s3_tus_whose_parts_were_aborted_outside_mediadesk_ends_with_410(
    data_dir: Path, s3_bucket: Any, tmp_path: Path
) -> None:
    """The multipart upload behind a tus upload is aborted behind the server's back (a bucket
    lifecycle rule, an admin, another tool), once mid-upload and once before the last PATCH:
    the PATCH that needs it answers 410 upload_gone (reason parts_gone, Tus-Resumable), not a
    500 storage_unavailable to every retry until the upload expires; the part buffer is gone,
    HEAD and PATCH keep answering 410, nothing is left in the bucket, and a new upload of the
    same file goes through. The store answers S3's 404 NoSuchUpload (tests/s3_nosuchupload.py:
    moto's own 500 put right)."""
    target = urlsplit(s3_bucket.endpoint_url)
    proxy = NoSuchUploadProxy(target.hostname or "127.0.0.1", target.port or 80)
    lib = _s3_library(data_dir, s3_bucket, proxy.url)
    s3 = s3_client(s3_bucket)
    bucket = s3_bucket.bucket

    def abort_behind_the_back() -> None:
        (pending,) = s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
        s3.abort_multipart_upload(Bucket=bucket, Key=pending["Key"], UploadId=pending["UploadId"])

    def assert_gone(reply: Any, upload_id: str) -> None:
        assert reply.status == 410, reply.body
        error = json.loads(reply.body)["error"]
        assert (error["code"], error["reason"]) == ("upload_gone", "parts_gone")
        assert "bucket" in error["message"] and "127.0.0.1" not in error["message"]
        assert reply.headers["Tus-Resumable"] == "1.0.0"
        assert not (lib.paths.data_dir / "uploads" / f"{upload_id}.buffer").exists()

    try:
        token = make_tokens(lib).upload
        data = padded_mp4(tmp_path / "m.mp4", 13 * MiB + 7).read_bytes()
        with EmbeddedServer(lib, config=server_config(lib)) as server:
            # mid-upload: the next full part has nowhere to go
            url = server.url + create(server.url, token, len(data)).headers["Location"]
            upload_id = url.rsplit("/", 1)[1]
            assert patch(url, token, 0, data[: 7 * MiB]).status == 204
            abort_behind_the_back()
            assert_gone(patch(url, token, 7 * MiB, data[7 * MiB : 12 * MiB]), upload_id)
            assert head(url, token).status == 410
            assert_gone(patch(url, token, 7 * MiB, data[7 * MiB : 12 * MiB]), upload_id)
            # the last PATCH: its short last part, then the completion
            url = server.url + create(server.url, token, len(data)).headers["Location"]
            upload_id = url.rsplit("/", 1)[1]
            assert patch(url, token, 0, data[: 10 * MiB]).status == 204
            abort_behind_the_back()
            assert_gone(patch(url, token, 10 * MiB, data[10 * MiB :]), upload_id)
            assert head(url, token).status == 410
            assert proxy.corrected >= 2  # the store really answered NoSuchUpload
            # the client starts a new upload, which goes through
            url = server.url + create(server.url, token, len(data)).headers["Location"]
            done = patch(url, token, 0, data)
            assert done.status == 204, done.body
            record = lib.get_file(int(done.headers["MediaDesk-File-Id"]))
            assert record.sha256 == hashlib.sha256(data).hexdigest()
        assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]]
        assert [k for k in keys if "_derived" not in k] == [record.storage_key]
        run_maintenance(lib, now=datetime.now(UTC) + timedelta(days=2))
        with db_of(lib).read() as session:
            assert session.query(ResumableUpload).count() == 0
    finally:
        lib.close()
        proxy.close()


def test_s3_tus_of_no_media_is_refused_at_its_first_bytes_and_leaves_nothing(
    s3_big: tuple[Library, Any], s3_bucket: Any
) -> None:
    """As on local storage (test_a_file_that_fails_validation_is_refused_and_removed): on R2/S3
    the head is read from the upload's buffer while no part has been sent."""
    lib, s3 = s3_big
    token = make_tokens(lib).upload
    text = b"not a photo at all\n" * (8 * MiB // 19)
    with EmbeddedServer(lib, config=server_config(lib)) as server:
        created = create(server.url, token, len(text), filename="match.mp4", filetype="video/mp4")
        url = server.url + created.headers["Location"]
        refused = patch(url, token, 0, text[: 2 * SNIFF_BYTES])
        assert refused.status == 400 and refused.json()["error"]["code"] == "unsupported_type"
        assert head(url, token).status == 410
    assert list((lib.paths.data_dir / "uploads").iterdir()) == []
    assert s3.list_multipart_uploads(Bucket=s3_bucket.bucket).get("Uploads", []) == []
    assert s3.list_objects_v2(Bucket=s3_bucket.bucket).get("KeyCount", 0) == 0


def test_s3_tus_sends_equal_parts_and_cleans_up(
    s3_big: tuple[Library, Any], s3_bucket: Any, tmp_path: Path
) -> None:
    lib, s3 = s3_big
    token = make_tokens(lib).upload
    data = noise_png(tmp_path / "d.png", 2000).read_bytes()  # ~12 MB: 2 full parts + a last one
    buffer_sizes: list[int] = []
    with EmbeddedServer(lib, config=server_config(lib)) as server:
        url = (
            server.url + create(server.url, token, len(data), filename="d.png").headers["Location"]
        )
        upload_id = url.rsplit("/", 1)[1]
        offset = 0
        for step in (3 * MiB, 4 * MiB, 4 * MiB):  # chunks that do not line up with the parts
            reply = patch(url, token, offset, data[offset : offset + step])
            assert reply.status == 204, reply.body
            offset += step
            buffer_sizes.append(
                (lib.paths.data_dir / "uploads" / f"{upload_id}.buffer").stat().st_size
            )
        pending = s3.list_multipart_uploads(Bucket=s3_bucket.bucket).get("Uploads", [])
        assert len(pending) == 1
        parts = s3.list_parts(
            Bucket=s3_bucket.bucket, Key=pending[0]["Key"], UploadId=pending[0]["UploadId"]
        )["Parts"]
        assert [p["Size"] for p in parts] == [5 * MiB, 5 * MiB]
        assert max(buffer_sizes) < 5 * MiB  # never more than one part on disk
        last = patch(url, token, offset, data[offset:])
        assert last.status == 204, last.body
        record = lib.get_file(int(last.headers["MediaDesk-File-Id"]))
        assert record.status == "ready" and record.sha256 == hashlib.sha256(data).hexdigest()
        head_obj = s3.head_object(Bucket=s3_bucket.bucket, Key=record.storage_key)
        assert head_obj["ContentLength"] == len(data) and head_obj["ETag"].endswith('-3"')
        # terminate one upload and let another expire: no multipart upload is left
        terminated = server.url + create(server.url, token, len(data)).headers["Location"]
        assert patch(terminated, token, 0, data[: 6 * MiB]).status == 204
        assert http_call(terminated, "DELETE", headers={**bearer(token), **TUS}).status == 204
        expiring = server.url + create(server.url, token, len(data)).headers["Location"]
        assert patch(expiring, token, 0, data[: 6 * MiB]).status == 204
        report = run_maintenance(lib, now=datetime.now(UTC) + timedelta(days=2))
        assert expiring.rsplit("/", 1)[1] in report.expired_uploads
    assert s3.list_multipart_uploads(Bucket=s3_bucket.bucket).get("Uploads", []) == []
    assert list((lib.paths.data_dir / "uploads").iterdir()) == []
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=s3_bucket.bucket).get("Contents", [])]
    assert record.storage_key in keys and len([k for k in keys if "_derived" not in k]) == 1


def test_s3_untyped_tus_upload_is_named_from_its_content(
    s3_big: tuple[Library, Any], s3_bucket: Any, tmp_path: Path
) -> None:
    """No filetype, no extension: the first part's content names the object, nothing moves."""
    lib, s3 = s3_big
    token = make_tokens(lib).upload
    data = noise_png(tmp_path / "f.png", 1500).read_bytes()  # ~6.8 MB: a part and a bit
    small = noise_png(tmp_path / "g.png", 300).read_bytes()  # less than one part
    with EmbeddedServer(lib, config=server_config(lib)) as server:
        url = server.url + create(server.url, token, len(data)).headers["Location"]
        assert s3.list_multipart_uploads(Bucket=s3_bucket.bucket).get("Uploads", []) == []
        assert patch(url, token, 0, data[: 6 * MiB]).status == 204
        pending = s3.list_multipart_uploads(Bucket=s3_bucket.bucket)["Uploads"]
        assert len(pending) == 1 and pending[0]["Key"].endswith(".png")
        last = patch(url, token, 6 * MiB, data[6 * MiB :])
        assert last.status == 204, last.body
        record = lib.get_file(int(last.headers["MediaDesk-File-Id"]))
        assert record.storage_key == pending[0]["Key"]  # where the parts went: not moved
        assert record.content_type == "image/png" and record.file_type == "image"
        whole = (
            server.url + create(server.url, token, len(small), filename="clip").headers["Location"]
        )
        done = patch(whole, token, 0, small)
        assert done.status == 204, done.body
        one = lib.get_file(int(done.headers["MediaDesk-File-Id"]))
        assert one.storage_key.endswith(".png") and one.sha256 == hashlib.sha256(small).hexdigest()
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=s3_bucket.bucket)["Contents"]]
    assert not [k for k in keys if k.endswith(".bin")]
    assert s3.list_multipart_uploads(Bucket=s3_bucket.bucket).get("Uploads", []) == []


def test_s3_tus_resumes_after_a_restart_mid_part(
    s3_big: tuple[Library, Any], s3_bucket: Any, tmp_path: Path
) -> None:
    """Bytes in the buffer whose commit never happened are cut; the offset is the truth."""
    lib, _ = s3_big
    token = make_tokens(lib).upload
    data = noise_png(tmp_path / "e.png", 1500).read_bytes()
    with EmbeddedServer(lib, config=server_config(lib)) as server:
        url = (
            server.url + create(server.url, token, len(data), filename="e.png").headers["Location"]
        )
        assert patch(url, token, 0, data[: 6 * MiB]).status == 204
    upload_id = url.rsplit("/", 1)[1]
    buffer = lib.paths.data_dir / "uploads" / f"{upload_id}.buffer"
    with buffer.open("ab") as fh:  # a crash after a write, before its commit
        fh.write(b"garbage never acknowledged")
    again = Library.open(lib.settings)
    try:
        with EmbeddedServer(again, config=server_config(again)) as server:
            url = server.url + "/files" + url.split("/files", 1)[1]
            assert head(url, token).headers["Upload-Offset"] == str(6 * MiB)
            last = patch(url, token, 6 * MiB, data[6 * MiB :])
            assert last.status == 204, last.body
            record = again.get_file(int(last.headers["MediaDesk-File-Id"]))
            assert record.sha256 == hashlib.sha256(data).hexdigest()
    finally:
        again.close()


def test_one_writer_across_processes_and_a_crashed_one_is_taken_over(
    big_library: Library, tmp_path: Path
) -> None:
    """Two libraries on one catalog stand for two server processes."""
    import socket as sockets

    from core.errors import UploadLocked

    other = Library.open(big_library.settings)
    try:
        state = big_library.resumable.create(1000, {"filename": "a.png"})
        writer = big_library.resumable.writer(state.id, 0)
        writer.write(b"x" * 10)
        with pytest.raises(UploadLocked):
            other.resumable.writer(state.id, 10)
        writer.abort()
        second = other.resumable.writer(state.id, 10)  # released: the other one may write
        second.abort()
        # A lease left by a process of this machine that is gone (SIGKILL) does not block
        with db_of(big_library).write() as s:
            row = s.get(ResumableUpload, state.id)
            assert row is not None
            row.lease_owner = f"{sockets.gethostname()}:{2**22 + 12345}:dead"
            row.lease_until = datetime.now(UTC) + timedelta(minutes=5)
        other.resumable.writer(state.id, 10).abort()
        # ...nor one killed and not reaped yet by its parent (a zombie: signal 0 reaches it)
        killed = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        try:
            killed.kill()
            deadline = time.monotonic() + 10
            while Path(f"/proc/{killed.pid}/stat").read_bytes().rsplit(b")", 1)[1][1:2] != b"Z":
                assert time.monotonic() < deadline
                time.sleep(0.01)
            with db_of(big_library).write() as s:
                row = s.get(ResumableUpload, state.id)
                assert row is not None
                row.lease_owner = f"{sockets.gethostname()}:{killed.pid}:killed"
                row.lease_until = datetime.now(UTC) + timedelta(minutes=5)
            other.resumable.writer(state.id, 10).abort()
        finally:
            killed.wait()
        # ...but a live one elsewhere does, until its lease runs out
        with db_of(big_library).write() as s:
            row = s.get(ResumableUpload, state.id)
            assert row is not None
            row.lease_owner = "another-host:1:x"
            row.lease_until = datetime.now(UTC) + timedelta(minutes=5)
        with pytest.raises(UploadLocked):
            other.resumable.writer(state.id, 10)
        with db_of(big_library).write() as s:
            row = s.get(ResumableUpload, state.id)
            assert row is not None
            row.lease_until = datetime.now(UTC) - timedelta(seconds=1)
        other.resumable.writer(state.id, 10).abort()
    finally:
        other.close()
