"""Behind nginx, audit entries and per-address rate limits name the client, not the proxy, and
a client cannot name itself: X-Forwarded-For is read only from a peer in
MEDIADESK_TRUSTED_PROXIES, from the right, up to the first hop that is not a trusted proxy
(what nginx's $proxy_add_x_forwarded_for appended; anything left of it is the client's own
text). Real HTTP over loopback, where the peer is 127.0.0.1 as nginx on the same box is."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.errors import SettingsError
from core.library import Library
from server.entry import EmbeddedServer
from tests.conftest import make_settings
from tests.media import make_jpeg
from tests.server_fixtures import bearer, http_call, make_tokens, server_config


@pytest.fixture
def site(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[str, int, str, str]]:
    """(server URL, a private file's id, read token, admin token) for the trusted proxies
    given by the test's parameter."""
    data = tmp_path / "data"
    data.mkdir()
    lib = Library.open(make_settings(data, trusted_proxies=request.param))
    tokens = make_tokens(lib)
    record = lib.uploads.ingest(make_jpeg(tmp_path / "p.jpg", size=(64, 48)), "image")
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        yield server.url, record.id, tokens.read, tokens.admin
    finally:
        server.stop()
        lib.close()


def _seen_as(site: tuple[str, int, str, str], forwarded: str | None) -> str:
    """The address the audit entry of one private read records."""
    url, file_id, read, admin = site
    headers = bearer(read)
    if forwarded is not None:
        headers["X-Forwarded-For"] = forwarded
    assert http_call(f"{url}/stream/{file_id}/image", headers=headers).status == 200
    entries = http_call(f"{url}/audit?file_id={file_id}", headers=bearer(admin)).json()["items"]
    return str(entries[0]["remote"])  # newest first


@pytest.mark.parametrize("site", [("127.0.0.1", "10.0.0.0/8")], indirect=True)
def test_behind_a_trusted_proxy_the_client_is_the_nearest_untrusted_hop(
    site: tuple[str, int, str, str],
) -> None:
    assert _seen_as(site, "203.0.113.7") == "203.0.113.7"
    # a client that sends its own header: nginx appends the address it saw, and that one counts
    assert _seen_as(site, "6.6.6.6, 203.0.113.7") == "203.0.113.7"
    # a chain of trusted proxies (a load balancer, then nginx) is skipped
    assert _seen_as(site, "198.51.100.4, 10.1.2.3, 127.0.0.1") == "198.51.100.4"
    assert _seen_as(site, "garbage, 10.1.2.3") == "garbage"  # not an address: not trusted
    assert _seen_as(site, None) == "127.0.0.1"  # no header: the peer itself


@pytest.mark.parametrize("site", [()], indirect=True)
def test_without_trusted_proxies_the_header_is_ignored(site: tuple[str, int, str, str]) -> None:
    assert _seen_as(site, "203.0.113.7") == "127.0.0.1"


@pytest.mark.parametrize("site", [("192.0.2.0/24",)], indirect=True)
def test_a_peer_that_is_not_a_trusted_proxy_cannot_name_another_client(
    site: tuple[str, int, str, str],
) -> None:
    assert _seen_as(site, "203.0.113.7") == "127.0.0.1"


def test_a_trusted_proxy_must_be_an_address_or_network(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="MEDIADESK_TRUSTED_PROXIES"):
        make_settings(tmp_path, trusted_proxies=("nginx.local",))
    with pytest.raises(SettingsError, match="MEDIADESK_HEADER_TIMEOUT"):
        make_settings(tmp_path, header_timeout=-1)
