"""Guessing tokens or signatures is slowed to 20 failures a minute per client address: the
failure that reaches the limit blocks the address for the window, and while blocked every
request of it that presents a credential gets 429 rate_limited with Retry-After, a valid one
too (an answer would tell a right guess). Other addresses, and the blocked one's requests
without credentials, are served as before. Real HTTP over loopback, behind a "trusted proxy"
(the test itself, 127.0.0.1) so that X-Forwarded-For names several clients, by the same rule
as every per-address limit; the limit's clock is one the test moves."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.library import Library
from server.entry import EmbeddedServer
from server.ratelimit import FailedAuthLimit, guesser
from server.state import FAILED_AUTH
from tests.conftest import make_settings
from tests.media import make_jpeg
from tests.server_fixtures import Reply, Tokens, bearer, http_call, make_tokens, server_config

pytestmark = pytest.mark.timeout(120)

GUESSER, OTHER = "203.0.113.7", "198.51.100.4"


@dataclass
class Site:
    url: str
    file_id: int
    tokens: Tokens
    now: list[float]  # the limit's clock

    def call(
        self, path: str, client: str, headers: dict[str, str] | None = None, url: str = ""
    ) -> Reply:
        return http_call(
            url or f"{self.url}{path}", headers={**(headers or {}), "X-Forwarded-For": client}
        )


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    data = tmp_path / "data"
    data.mkdir()
    lib = Library.open(make_settings(data, trusted_proxies=("127.0.0.1",)))
    tokens = make_tokens(lib)
    record = lib.uploads.ingest(make_jpeg(tmp_path / "p.jpg", size=(64, 48)), "image")
    assert not record.is_public
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    now = [1000.0]
    assert server.app is not None
    limit = server.app[FAILED_AUTH]
    assert (limit.limit, limit.window) == (20, 60.0)
    limit.clock = lambda: now[0]
    try:
        yield Site(server.url, record.id, tokens, now)
    finally:
        server.stop()
        lib.close()


def _blocked(reply: Reply) -> int:
    assert reply.status == 429, reply.body
    error = reply.json()["error"]
    assert error["code"] == "rate_limited" and "failed authentications" in error["message"]
    seconds = int(reply.headers["Retry-After"])
    assert error["details"]["retry_after"] == seconds
    return seconds


def test_twenty_failures_block_the_address_for_the_window(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    image = f"/stream/{site.file_id}/image"
    signed = site.call(
        f"/files/{site.file_id}/presigned-url", OTHER, bearer(site.tokens.read)
    ).json()["url"]
    assert site.call("", OTHER, url=signed).status == 200
    tampered = signed.replace("sig=", "sig=0")
    caplog.set_level(logging.WARNING, logger="server.auth")
    # bad bearer tokens, bad ?access_token= values and bad signatures count alike
    for _ in range(7):
        assert site.call(image, GUESSER, bearer("mdk_guess")).status == 401
        assert site.call(f"{image}?access_token=mdk_guess", GUESSER).status == 401
    for _ in range(5):
        assert site.call("", GUESSER, url=tampered).status == 403
    site.now[0] += 59  # the 20 failures stay within one window
    assert site.call("", GUESSER, url=tampered).status == 403  # the 20th: refused, then blocked

    assert _blocked(site.call(image, GUESSER, bearer("mdk_guess"))) == 60
    site.now[0] += 30
    assert _blocked(site.call(image, GUESSER, bearer(site.tokens.read))) == 30  # valid: refused
    assert _blocked(site.call("", GUESSER, url=signed)) == 30
    assert _blocked(site.call(f"{image}?access_token={site.tokens.read}", GUESSER)) == 30
    # without a credential the address is served as anyone is
    assert site.call("/health", GUESSER).status == 200
    assert site.call(image, GUESSER).status == 401
    # another address is not affected, nor is its own counting
    assert site.call(image, OTHER, bearer(site.tokens.read)).status == 200
    assert site.call("", OTHER, url=signed).status == 200
    assert site.call(image, OTHER, bearer("mdk_guess")).status == 401

    metrics = site.call("/metrics", OTHER, bearer(site.tokens.admin))
    assert "mediadesk_auth_blocks_total 1" in metrics.body.decode(), metrics.body
    blocks = [r for r in caplog.records if "failed authentications" in r.getMessage()]
    assert len(blocks) == 1 and GUESSER in blocks[0].getMessage()

    site.now[0] += 30  # the window has passed
    assert site.call(image, GUESSER, bearer(site.tokens.read)).status == 200
    assert site.call(image, GUESSER, bearer("mdk_guess")).status == 401  # counting again


def test_failures_spread_wider_than_the_window_never_block(site: Site) -> None:
    """19 failures a minute for three minutes block nothing; 20 within one minute do."""
    image = f"/stream/{site.file_id}/image"
    for _ in range(3):
        for _ in range(19):
            assert site.call(image, GUESSER, bearer("mdk_guess")).status == 401
        site.now[0] += 61
    assert site.call(image, GUESSER, bearer(site.tokens.read)).status == 200
    for _ in range(20):
        assert site.call(image, GUESSER, bearer("mdk_guess")).status == 401
    _blocked(site.call(image, GUESSER, bearer(site.tokens.read)))


def test_every_operation_documents_the_block(site: Site) -> None:
    spec = site.call("/openapi.json", OTHER).json()
    operations = [
        (path, method, operation)
        for path, ops in spec["paths"].items()
        for method, operation in ops.items()
        if method in ("get", "put", "post", "patch", "delete", "head")
    ]
    assert len(operations) > 30
    for path, method, operation in operations:
        blocked = operation["responses"].get("429")
        assert blocked is not None, (method, path)
        assert "failed authentications" in blocked["description"], (method, path)
        assert "Retry-After" in blocked["headers"], (method, path)
    direct = spec["paths"]["/files/upload/direct"]["post"]["responses"]["429"]["description"]
    assert "Too many uploads" in direct  # the upload limit's 429 stays documented


def test_the_tracked_addresses_are_bounded() -> None:
    """Many addresses failing once each, and many blocked: memory stays bounded and the newest
    block holds (the block that ends first is the one lifted early)."""
    from server import ratelimit

    now = [0.0]
    limit = FailedAuthLimit(2, 60.0, clock=lambda: now[0])
    for n in range(ratelimit.MAX_ADDRESSES + 50):
        assert not limit.failed(f"a{n}")
    assert len(limit._failures) == ratelimit.MAX_ADDRESSES
    for n in range(ratelimit.MAX_ADDRESSES + 50):
        limit.failed(f"b{n}")
        assert limit.failed(f"b{n}")
    assert len(limit._blocked) == ratelimit.MAX_ADDRESSES
    assert limit.retry_after(f"b{ratelimit.MAX_ADDRESSES + 49}") == 60.0
    assert limit.retry_after("b0") == 0.0


def test_an_ipv6_client_counts_by_its_64(site: Site) -> None:
    """A host usually holds a whole IPv6 /64: guesses from fresh addresses of it add up, and
    its block covers the /64; a neighbouring /64 is another client."""
    image = f"/stream/{site.file_id}/image"
    for n in range(20):
        assert site.call(image, f"2001:db8:1:2::{n + 1:x}", bearer("mdk_guess")).status == 401
    _blocked(site.call(image, "2001:db8:1:2:ffff::9", bearer(site.tokens.read)))
    assert site.call(image, "2001:db8:1:3::1", bearer(site.tokens.read)).status == 200
    assert site.call(image, GUESSER, bearer(site.tokens.read)).status == 200


def test_who_is_counted() -> None:
    assert guesser("2001:db8:1:2:aaaa:bbbb:cccc:dddd") == "2001:db8:1:2::/64"
    assert guesser("fe80::1%eth0") == "fe80::/64"
    assert guesser("::ffff:203.0.113.7") == "203.0.113.7"
    assert guesser("203.0.113.7") == "203.0.113.7"
    assert guesser("unknown") == "unknown"
