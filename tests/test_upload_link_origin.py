"""Over real HTTP: a server bound to every address (0.0.0.0, ::) hands a presigned upload's URL
and its renewal at the origin the request reached (core.links.link_origin), as it does its
download and watch links: a phone on the LAN that asked http://192.168.1.5:8765 was handed
http://127.0.0.1:8765/signed/..., which on the phone is the phone, and every upload failed.
A bucket's URLs stay the bucket's."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from core import links
from core.library import Library
from server.entry import EmbeddedServer
from tests import media
from tests.conftest import make_settings
from tests.server_fixtures import bearer, http_call, make_tokens, server_config

FORGED = "attacker.example"


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return media.make_jpeg(tmp_path_factory.mktemp("upload-origin") / "a.jpg").read_bytes()


@contextmanager
def _served(library: Library, host: str) -> Iterator[tuple[EmbeddedServer, str]]:
    """`library`'s server bound to `host`, and an upload token."""
    server = EmbeddedServer(library, host=host, config=server_config(library))
    server.start()
    try:
        yield server, make_tokens(library).upload
    finally:
        server.stop()


@contextmanager
def _local(root: Path) -> Iterator[Library]:
    root.mkdir()
    lib = Library.open(make_settings(root))
    try:
        yield lib
    finally:
        lib.close()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _presign(base: str, token: str, size: int, host: str | None = None) -> dict[str, object]:
    ask = {"original_filename": "a.jpg", "file_type": "image", "content_type": "image/jpeg"}
    headers = {**bearer(token), "Content-Type": "application/json"}
    if host is not None:
        headers["Host"] = host
    body = json.dumps({**ask, "size": size}).encode()
    reply = http_call(f"{base}/files/upload/presigned", "POST", body, headers)
    assert reply.status == 201, reply.body
    return reply.json()  # type: ignore[no-any-return]


def _renew(base: str, token: str, fid: object, host: str | None = None) -> dict[str, object]:
    headers = bearer(token) if host is None else {**bearer(token), "Host": host}
    reply = http_call(f"{base}/files/{fid}/upload/renew", "POST", b"", headers)
    assert reply.status == 200, reply.body
    return reply.json()  # type: ignore[no-any-return]


def _put_and_confirm(base: str, token: str, grant: dict[str, object], data: bytes) -> None:
    """The upload completes through the URL handed out (the link opens where it names)."""
    put = http_call(str(grant["upload_url"]), "PUT", data, {"Content-Type": "image/jpeg"})
    assert put.status in (200, 201, 204), put.body
    done = http_call(f"{base}/files/{grant['file_id']}/confirm-upload", "POST", b"", bearer(token))
    assert done.status in (200, 201), done.body


def test_an_upload_url_names_the_address_a_request_reached(tmp_path: Path, photo: bytes) -> None:
    with _local(tmp_path / "any") as lib, _served(lib, "0.0.0.0") as (server, token):
        port = server.port
        # 127.0.0.2 stands for this machine's address on the network; a Host that does not
        # name this machine with the server's port never becomes the link
        for address in ("127.0.0.1", "127.0.0.2"):
            base = f"http://{address}:{port}"
            for host in (f"{FORGED}:{port}", f"10.255.255.254:{port}", f"{address}:{port + 1}"):
                grant = _presign(base, token, len(photo), host)
                assert _origin(str(grant["upload_url"])) == base, host
                assert _origin(str(_renew(base, token, grant["file_id"], host)["upload_url"])) == (
                    base
                ), host
            grant = _presign(base, token, len(photo), FORGED)
            renewed = {**grant, "upload_url": _renew(base, token, grant["file_id"])["upload_url"]}
            _put_and_confirm(base, token, renewed, photo)
        # a Host naming this machine with the server's port is what the client typed
        base = f"http://127.0.0.1:{port}"
        for named in ("localhost", "127.0.0.2"):
            grant = _presign(base, token, len(photo), f"{named}:{port}")
            assert _origin(str(grant["upload_url"])) == f"http://{named}:{port}"
            renewed = _renew(base, token, grant["file_id"], f"{named}:{port}")
            assert _origin(str(renewed["upload_url"])) == f"http://{named}:{port}"


def test_a_phone_on_the_network_uploads_through_the_url_it_is_handed(
    tmp_path: Path, photo: bytes
) -> None:
    """Asked at this machine's own address on the network, as a phone on the LAN asks."""
    lan = links.network_address(socket.AF_INET)
    if not lan:
        pytest.skip("this machine has no IPv4 address on a network")
    with _local(tmp_path / "lan") as lib, _served(lib, "0.0.0.0") as (server, token):
        base = f"http://{lan}:{server.port}"
        grant = _presign(base, token, len(photo))
        assert _origin(str(grant["upload_url"])) == base
        assert _origin(str(_renew(base, token, grant["file_id"])["upload_url"])) == base
        _put_and_confirm(base, token, grant, photo)


def test_an_ipv6_wildcard_hands_the_ipv6_address_reached(tmp_path: Path, photo: bytes) -> None:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    with _local(tmp_path / "v6") as lib, _served(lib, "::") as (server, token):
        base = f"http://[::1]:{server.port}"
        grant = _presign(base, token, len(photo), FORGED)
        assert _origin(str(grant["upload_url"])) == base
        assert _origin(str(_renew(base, token, grant["file_id"], FORGED)["upload_url"])) == base
        _put_and_confirm(base, token, grant, photo)


def test_the_public_url_and_a_bucket_keep_their_own_origin(
    tmp_path: Path, s3_library: Library, photo: bytes
) -> None:
    root = tmp_path / "public"
    root.mkdir()
    lib = Library.open(make_settings(root, public_base_url="https://m.example"))
    try:
        with _served(lib, "0.0.0.0") as (server, token):
            base = f"http://127.0.0.2:{server.port}"
            grant = _presign(base, token, len(photo), f"127.0.0.2:{server.port}")
            assert _origin(str(grant["upload_url"])) == "https://m.example"
            renewed = _renew(base, token, grant["file_id"], f"127.0.0.2:{server.port}")
            assert _origin(str(renewed["upload_url"])) == "https://m.example"
    finally:
        lib.close()
    bucket = _origin(s3_library.settings.r2_endpoint_url)
    with _served(s3_library, "0.0.0.0") as (server, token):
        base = f"http://127.0.0.2:{server.port}"
        grant = _presign(base, token, len(photo), FORGED)
        assert _origin(str(grant["upload_url"])) == bucket
        assert _origin(str(_renew(base, token, grant["file_id"])["upload_url"])) == bucket
        _put_and_confirm(base, token, grant, photo)


def test_a_host_in_a_family_the_server_does_not_serve_is_not_believed(
    tmp_path: Path, photo: bytes
) -> None:
    """Bound to 0.0.0.0 (IPv4 alone), `Host: [::1]:PORT` named this machine and was handed an
    upload URL at http://[::1]:PORT, where nothing listens; bound to "::" (IPv6 alone),
    `localhost` may resolve to 127.0.0.1 alone. The link names the address the request
    reached instead."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    with _local(tmp_path / "v4") as lib, _served(lib, "0.0.0.0") as (server, token):
        base = f"http://127.0.0.1:{server.port}"
        for host in (f"[::1]:{server.port}", f"[::ffff:127.0.0.1]:{server.port}"):
            grant = _presign(base, token, len(photo), host)
            assert _origin(str(grant["upload_url"])) == base, host
            renewed = _renew(base, token, grant["file_id"], host)
            assert _origin(str(renewed["upload_url"])) == base, host
        _put_and_confirm(base, token, grant, photo)
    with _local(tmp_path / "v6") as lib, _served(lib, "::") as (server, token):
        base = f"http://[::1]:{server.port}"
        for host in (f"localhost:{server.port}", f"127.0.0.1:{server.port}"):
            grant = _presign(base, token, len(photo), host)
            assert _origin(str(grant["upload_url"])) == base, host
            renewed = _renew(base, token, grant["file_id"], host)
            assert _origin(str(renewed["upload_url"])) == base, host
        _put_and_confirm(base, token, grant, photo)
