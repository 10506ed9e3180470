"""Edges an outside security test found, over real HTTP on loopback with a real catalog:

- behind a proxy that adds an X-Forwarded-For line of its own instead of appending to the
  client's (HAProxy's `option forwardfor`), the lines are one list, in order, still read from
  the right (RFC 9110 5.3): the client's own first line names nobody;
- a configured CORS origin is compared as a browser serialises its Origin (lower-case scheme
  and host, no default port), whatever its spelling in MEDIADESK_CORS_ORIGINS;
- the answers the protocol edge writes before any middleware (431 header_too_large, 400 for
  a request that cannot be parsed) carry Vary: Origin, the allowed Origin and nosniff as every
  other answer does, on an HTTP/1.1 status line.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.errors import SettingsError
from core.library import Library
from core.settings import origin_key
from server.entry import EmbeddedServer
from tests.conftest import make_settings
from tests.media import make_jpeg
from tests.server_fixtures import http_call, make_tokens, server_config

ORIGIN = "https://club.example"


@pytest.fixture
def site(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[EmbeddedServer, str]]:
    """(the server, an admin token), trusting 127.0.0.1 as a proxy, with the CORS origins the
    test's parameter gives (in MEDIADESK_CORS_ORIGINS' spelling)."""
    data = tmp_path / "data"
    data.mkdir()
    lib = Library.open(
        make_settings(data, trusted_proxies=("127.0.0.1",), cors_origins=request.param)
    )
    admin = make_tokens(lib).admin
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        yield server, admin
    finally:
        server.stop()
        lib.close()


def _raw(server: EmbeddedServer, head: str) -> tuple[str, dict[str, str], bytes]:
    """(status line, headers by lower-case name, body) of one request sent as written."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head.encode("latin-1"))
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    top, _, body = data.partition(b"\r\n\r\n")
    status, *lines = top.decode("latin-1").split("\r\n")
    headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines)}
    return status, headers, body


def _get(server: EmbeddedServer, path: str, *lines: str) -> tuple[str, dict[str, str], bytes]:
    extra = "".join(f"{line}\r\n" for line in lines)
    return _raw(server, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{extra}\r\n")


@pytest.mark.parametrize("site", [()], indirect=True)
def test_a_forged_first_forwarded_line_does_not_escape_the_failed_login_block(
    site: tuple[EmbeddedServer, str], tmp_path: Path
) -> None:
    """One client (192.0.2.7, the line its proxy added) guessing tokens, with a first
    X-Forwarded-For line of its own, different each time: it was taken as the address, so the
    client was never blocked (20 failures: 429) and named itself in the audit."""
    server, admin = site
    statuses = []
    for n in range(21):
        status, _, _ = _get(
            server,
            "/files/",
            f"X-Forwarded-For: 10.66.0.{n}",
            "X-Forwarded-For: 192.0.2.7",
            f"Authorization: Bearer mdk_guess{n:040d}",
        )
        statuses.append(status.split()[1])
    assert statuses[-1] == "429", statuses
    # the audit names the address the proxy saw, not the client's text
    photo = make_jpeg(tmp_path / "p.jpg", size=(64, 48))
    file_id = server.library.uploads.ingest(photo, "image").id
    status, _, _ = _get(
        server,
        f"/stream/{file_id}/image",
        "X-Forwarded-For: 6.6.6.6",
        "X-Forwarded-For: 203.0.113.9",
        f"Authorization: Bearer {admin}",
    )
    assert status.split()[1] == "200", status
    entries = http_call(
        f"{server.url}/audit?file_id={file_id}", headers={"Authorization": f"Bearer {admin}"}
    ).json()["items"]
    assert entries[0]["remote"] == "203.0.113.9", entries


def test_an_origin_is_compared_as_a_browser_writes_it() -> None:
    assert origin_key("https://Club.Example") == "https://club.example"
    assert origin_key("HTTPS://club.example:443/") == "https://club.example"
    assert origin_key("http://club.example:80") == "http://club.example"
    assert origin_key("http://club.example:443") == "http://club.example:443"
    assert origin_key("https://club.example:8443") == "https://club.example:8443"
    assert origin_key("http://[::1]:80") == "http://[::1]"
    assert origin_key("http://[::1]:8080") == "http://[::1]:8080"
    for never in ("https://club.example/app", "club.example", "https://a@club.example", "null"):
        assert origin_key(never) is None, never


@pytest.mark.parametrize(
    ("configured", "sent"),
    [
        # browsers send an internationalised host in its ASCII (punycode) form
        ("https://Fútbol-Club.es", "https://xn--ftbol-club-ndb.es"),
        ("https://xn--ftbol-club-ndb.es", "https://xn--ftbol-club-ndb.es"),
        ("https://ÑANDÚ.example:443", "https://xn--and-6ma2c.example"),
        # and an IPv6 literal in its shortest form
        ("http://[0:0::1]:8080", "http://[::1]:8080"),
        ("http://[2001:DB8:0:0:0:0:0:1]", "http://[2001:db8::1]"),
    ],
)
def test_an_origin_host_is_compared_in_the_form_browsers_send(configured: str, sent: str) -> None:
    assert origin_key(configured) == sent
    assert origin_key(sent) == sent


@pytest.mark.parametrize(
    "never",
    [
        "https://club..example",  # an empty label: no IDNA form, no browser sends it
        "https://" + "a" * 64 + ".example",  # a label longer than 63
        "https://straße.example",  # IDNA 2003 says strasse, browsers xn--strae-oqa
        "http://[::1",
        "http://[club.example]",
        "http://[fe80::1%25eth0]:8080",
    ],
)
def test_an_origin_no_browser_can_send_is_refused(never: str, tmp_path: Path) -> None:
    assert origin_key(never) is None
    with pytest.raises(SettingsError, match="MEDIADESK_CORS_ORIGINS"):
        make_settings(tmp_path, cors_origins=(never,))  # at start-up, not at the first request


@pytest.mark.parametrize(
    "site", [("https://Club.Example", "https://media.example:443")], indirect=True
)
def test_configured_origins_in_any_spelling_match_the_browsers_origin(
    site: tuple[EmbeddedServer, str],
) -> None:
    server, _ = site
    for origin in ("https://club.example", "https://media.example"):
        status, headers, body = _raw(
            server,
            "OPTIONS /config HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
            f"Origin: {origin}\r\nAccess-Control-Request-Method: GET\r\n\r\n",
        )
        assert status.split()[1] == "204", (origin, status, body)
        assert headers["access-control-allow-origin"] == origin  # the browser's own spelling
    status, headers, _ = _get(server, "/health", "Origin: https://other.example")
    assert "access-control-allow-origin" not in headers


@pytest.mark.parametrize("site", [(ORIGIN,)], indirect=True)
def test_answers_the_protocol_edge_writes_carry_the_cors_headers(
    site: tuple[EmbeddedServer, str],
) -> None:
    """A page on an allowed origin could not read the 431's JSON error (no ACAO); a cache
    could keep it for every origin (no Vary: Origin)."""
    server, _ = site
    status, headers, body = _get(server, "/config", f"Origin: {ORIGIN}", "X-Big: " + "a" * 9000)
    assert status.startswith("HTTP/1.1 431"), status
    assert json.loads(body)["error"]["code"] == "header_too_large"
    assert headers["vary"] == "Origin"
    assert headers["access-control-allow-origin"] == ORIGIN
    assert "X-Request-ID" in headers["access-control-expose-headers"]
    assert headers["x-content-type-options"] == "nosniff"
    # another origin: no ACAO, still Vary
    _, headers, _ = _get(server, "/config", "Origin: https://evil.example", "X-Big: " + "a" * 9000)
    assert headers["vary"] == "Origin" and "access-control-allow-origin" not in headers
    # a head the parser itself refuses (a header over its own limit): no Origin to read, but
    # the answer still varies on it
    status, headers, body = _get(server, "/config", f"Origin: {ORIGIN}", "X-Big: " + "a" * 70000)
    assert status.startswith("HTTP/1.1 431"), status
    assert headers["vary"] == "Origin" and headers["x-content-type-options"] == "nosniff"
    # a request line that cannot be parsed
    status, headers, body = _raw(server, f"GET /con fig x HTTP/1.1\r\nOrigin: {ORIGIN}\r\n\r\n")
    assert status.startswith("HTTP/1.1 400"), status
    assert json.loads(body)["error"]["code"] == "bad_request"
    assert headers["vary"] == "Origin" and headers["x-content-type-options"] == "nosniff"
