"""Over real HTTP: the watch link and the download link answering one request name the same
origin (core.links.link_origin), and a forged Host header never becomes it: MEDIADESK_PUBLIC_URL
when set, else the bound address, else (bound to every address) the address the request
reached, or the Host when it names this machine."""

from __future__ import annotations

import ipaddress
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
from tests.server_fixtures import bearer, http_call, make_tokens, server_config, upload_file

FORGED = "attacker.example"


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return media.make_mp4(tmp_path_factory.mktemp("link-origin") / "clip.mp4")


@contextmanager
def _served(root: Path, host: str, **settings: str) -> Iterator[tuple[EmbeddedServer, str]]:
    """A server bound to `host` on a new library, and an upload token."""
    root.mkdir()
    lib = Library.open(make_settings(root, **settings))
    server = EmbeddedServer(lib, host=host, config=server_config(lib))
    server.start()
    try:
        yield server, make_tokens(lib).upload
    finally:
        server.stop()
        lib.close()


def _origins(
    server: EmbeddedServer, token: str, fid: int, address: str, host: str
) -> dict[str, str]:
    """The origin of each kind of link, asked at `address` with `Host: host`."""
    found = {}
    for kind in ("watch", "download"):
        reply = http_call(
            f"http://{address}:{server.port}/files/{fid}/presigned-url?kind={kind}",
            headers={**bearer(token), "Host": host},
        )
        assert reply.status == 200, reply.body
        parts = urlsplit(reply.json()["url"])
        found[kind] = f"{parts.scheme}://{parts.netloc}"
    return found


def _both(origin: str) -> dict[str, str]:
    return {"watch": origin, "download": origin}


def test_a_forged_host_never_names_the_links(tmp_path: Path, clip: Path) -> None:
    for name, settings in (("bound", {}), ("public", {"public_base_url": "https://m.example/"})):
        with _served(tmp_path / name, "127.0.0.1", **settings) as (server, token):
            fid = upload_file(server, token, clip, kind="video")["id"]
            want = "https://m.example" if settings else f"http://127.0.0.1:{server.port}"
            for host in (f"{FORGED}:{server.port}", FORGED, f"127.0.0.1:{server.port}"):
                assert _origins(server, token, fid, "127.0.0.1", host) == _both(want), host


def test_a_server_on_every_address_names_the_address_a_request_reached(
    tmp_path: Path, clip: Path
) -> None:
    with _served(tmp_path / "any", "0.0.0.0") as (server, token):
        port = server.port
        fid = upload_file(server, token, clip, kind="video")["id"]
        # a LAN client: 127.0.0.2 stands for this machine's address on the network
        for address in ("127.0.0.1", "127.0.0.2"):
            for host in (f"{FORGED}:{port}", f"10.255.255.254:{port}", f"{address}:{port + 1}"):
                found = _origins(server, token, fid, address, host)
                assert found == _both(f"http://{address}:{port}"), host
        # a Host that names this machine with the server's port is what the client typed
        assert _origins(server, token, fid, "127.0.0.1", f"localhost:{port}") == _both(
            f"http://localhost:{port}"
        )
        assert _origins(server, token, fid, "127.0.0.1", f"127.0.0.2:{port}") == _both(
            f"http://127.0.0.2:{port}"
        )
        reply = http_call(
            f"http://127.0.0.2:{port}/files/{fid}/presigned-url",
            headers={**bearer(token), "Host": FORGED},
        )
        assert http_call(reply.json()["url"]).status == 200  # the link opens

    with _served(tmp_path / "any-public", "0.0.0.0", public_base_url="https://m.example") as (
        server,
        token,
    ):
        fid = upload_file(server, token, clip, kind="video")["id"]
        for address in ("127.0.0.1", "127.0.0.2"):
            for host in (FORGED, f"{address}:{server.port}"):
                found = _origins(server, token, fid, address, host)
                assert found == _both("https://m.example"), host


def test_a_host_the_bound_family_does_not_serve_is_foreign(tmp_path: Path, clip: Path) -> None:
    """0.0.0.0 listens on IPv4 alone: `Host: [::1]:PORT` named this machine, and the links
    named http://[::1]:PORT, where nothing answers. The address the request reached instead."""
    with _served(tmp_path / "v4", "0.0.0.0") as (server, token):
        port = server.port
        fid = upload_file(server, token, clip, kind="video")["id"]
        for host in ("[::1]", "[::ffff:127.0.0.2]"):
            found = _origins(server, token, fid, "127.0.0.2", f"{host}:{port}")
            assert found == _both(f"http://127.0.0.2:{port}"), host
        assert _origins(server, token, fid, "127.0.0.2", f"localhost:{port}") == _both(
            f"http://localhost:{port}"
        )


def test_a_broadcast_or_unspecified_host_is_foreign(tmp_path: Path, clip: Path) -> None:
    """A broadcast address binds like one of this machine's own (the limited one, and on Linux
    each interface's, 127.255.255.255 for loopback), and ::ffff:0.0.0.0 is not "unspecified"
    to ipaddress: each passed as this machine, and the links pointed at no machine."""
    with _served(tmp_path / "any", "0.0.0.0") as (server, token):
        port = server.port
        fid = upload_file(server, token, clip, kind="video")["id"]
        for host in (
            "255.255.255.255",
            "127.255.255.255",
            "0.0.0.0",
            "[::ffff:0.0.0.0]",
            "[::ffff:255.255.255.255]",
        ):
            found = _origins(server, token, fid, "127.0.0.2", f"{host}:{port}")
            assert found == _both(f"http://127.0.0.2:{port}"), host


def _assigned_here(host: str) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.bind((host, 0))
    except OSError:
        return False
    return True


@pytest.mark.parametrize(("wildcard", "family"), [("0.0.0.0", "AF_INET"), ("::", "AF_INET6")])
def test_a_link_for_other_devices_names_this_machine_on_the_network(
    tmp_path: Path, wildcard: str, family: str
) -> None:
    """Bound to every address, the server serves the network, yet its links named the loopback
    address (no request to take an address from): opened on another device they reach that
    device itself. The shareable origin is this machine's address on the network, and answers;
    the app's own use keeps the loopback, which for "::" (IPv6 alone) is ::1."""
    assert links.shareable_origin(None, "") == ""
    assert links.shareable_origin((wildcard, 8765), "https://m.example") == "https://m.example"
    assert links.shareable_origin(("192.0.2.9", 8765), "") == "http://192.0.2.9:8765"
    if not links.network_address(getattr(socket, family)):
        pytest.skip(f"this machine has no {family} address but loopback")
    loopback = "[::1]" if wildcard == "::" else "127.0.0.1"
    with _served(tmp_path / "lan", wildcard) as (server, _token):
        shared = links.shareable_origin((wildcard, server.port), "")
        host = urlsplit(shared).hostname or ""
        address = ipaddress.ip_address(host)
        assert not address.is_loopback and address.version == (6 if wildcard == "::" else 4)
        assert _assigned_here(host), shared
        assert http_call(f"{shared}/health").status == 200
        assert server.url == f"http://{loopback}:{server.port}"  # the app's own player
        assert http_call(f"{server.url}/health").status == 200


def test_offline_a_link_for_other_devices_falls_back_to_loopback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a probe that leaves from loopback stands for a machine with no network (there the
    # probe's connect() fails, ENETUNREACH): no address of its own for other devices
    monkeypatch.setattr(links, "ROUTE_PROBES", {socket.AF_INET: "0.0.0.0", socket.AF_INET6: "::"})
    assert links.network_address(socket.AF_INET) == ""
    with _served(tmp_path / "offline", "0.0.0.0") as (server, _token):
        shared = links.shareable_origin(("0.0.0.0", server.port), "")
        assert shared == f"http://127.0.0.1:{server.port}"
        assert http_call(f"{shared}/health").status == 200
