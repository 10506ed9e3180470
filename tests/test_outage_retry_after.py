"""Every answer of a store or catalog outage that passes by itself says when to ask again.

Before: GET /health answered 503 degraded with the store's or the catalog's reason but no
Retry-After, while every request's storage_unavailable of the same store outage carried one
(8b9be91); and a catalog out of reach gave Retry-After only to the requests refused without
asking it: the one that met a hang first, every one whose connection PostgreSQL refused, and
every answer of a SQLite catalog that cannot be written had none. Now /health's 503 carries
the value the requests' answers carry (core.outage Outage.retry_after: the quiet window left,
else ASK_AGAIN) and declares it in the served OpenAPI document; a fault someone must mend (a
set-up fault) still carries none, on /health as on every request.

/health said ASK_AGAIN while the store's own quiet window was open (a throttling store's
Retry-After): Library.health dropped its check's retry_after; it now hands it on.

Real HTTP over loopback: moto's bucket behind tests.faults' ErringStore, the session's
PostgreSQL behind a CuttableProxy (refusing, then hanging), a SQLite catalog made immutable.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.library import Library
from core.outage import ASK_AGAIN, LONGEST_HANG_WINDOW
from core.settings import Settings
from core.storage import s3
from core.tokens import TOKEN_PREFIX
from server import state as server_state
from server.entry import EmbeddedServer
from tests.faults import (
    CuttableProxy,
    ErringStore,
    immutable,
    served_catalog_behind_proxy,
    wait_for,
)
from tests.internals import db_of
from tests.pg_server import postgres_url  # noqa: F401
from tests.server_fixtures import Reply, bearer, http_call, make_tokens, server_config
from tests.test_openapi_declared_headers import EVERY_ANSWER

pytestmark = pytest.mark.timeout(90)


def _retry_after(reply: Reply) -> int | None:
    said = reply.headers.get("Retry-After")
    return None if said is None else int(said)


def _unavailable(reply: Reply, reason: str) -> int | None:
    """The Retry-After of a 500 storage_unavailable with `reason` (None: none)."""
    assert reply.status == 500, reply.body
    error = reply.json()["error"]
    assert (error["code"], error.get("reason")) == ("storage_unavailable", reason), error
    return _retry_after(reply)


def _degraded(url: str, token: str | None = None) -> Reply:
    """GET /health, 503 degraded, every header it sends declared for that answer in the served
    OpenAPI document."""
    health = http_call(f"{url}/health", headers=bearer(token) if token else {})
    assert health.status == 503 and health.json()["status"] == "degraded", health.body
    spec = http_call(f"{url}/openapi.json").json()
    answer = spec["paths"]["/health"]["get"]["responses"]["503"]
    declared = {name.lower() for name in answer.get("headers", {})}
    sent = {name.lower() for name in health.headers} - EVERY_ANSWER
    assert sent <= declared, sent - declared
    assert answer["headers"]["Retry-After"]["schema"] == {"type": "integer"}
    return health


@pytest.fixture
def erring(s3_settings: Settings, media_dir: Any) -> Iterator[tuple[ErringStore, str, str, int]]:
    """A live server whose bucket (moto) sits behind an ErringStore: (the proxy, the server's
    URL, a read token, an image stored there)."""
    proxy = ErringStore(s3_settings.r2_endpoint_url)
    lib = Library.open(s3_settings.replace(r2_endpoint_url=proxy.url, usage_scan_interval=0))
    image = lib.uploads.ingest(media_dir.jpeg, "image").id
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        yield proxy, server.url, make_tokens(lib).read, image
    finally:
        server.stop()
        lib.close()
        proxy.close()


@pytest.mark.parametrize(
    ("status", "code", "reason", "wait"),
    [
        (500, "InternalError", "storage_server_error", ASK_AGAIN),  # passes by itself
        (403, "AccessDenied", "no_permission", None),  # a set-up fault: waiting mends nothing
    ],
)
def test_health_says_retry_after_as_the_requests_of_the_same_store_outage(
    erring: tuple[ErringStore, str, str, int],
    status: int,
    code: str,
    reason: str,
    wait: int | None,
) -> None:
    proxy, url, read, image = erring
    proxy.fail(status, code)
    health = _degraded(url)  # without a token: what a load balancer reads
    assert health.json()["storage"].get("reason") == reason, health.body
    raw = http_call(f"{url}/stream/{image}/raw", headers=bearer(read))
    assert raw.status == 500 and raw.json()["error"]["code"] == "storage_unavailable", raw.body
    assert _retry_after(raw) == wait
    assert _retry_after(health) == wait


def test_health_says_the_window_a_throttling_store_asked_for_as_the_requests_do(
    erring: tuple[ErringStore, str, str, int],
) -> None:
    """A store answering 503 SlowDown with Retry-After: 12 is not asked for 12 s, and every
    request's answer meanwhile says the seconds left. /health said 2 (ASK_AGAIN) all along:
    Library.health dropped its check's retry_after."""
    proxy, url, read, image = erring
    proxy.fail(503, "SlowDown", {"Retry-After": "12"})
    first = _degraded(url)  # its check meets the store's answer
    assert first.json()["storage"].get("reason") == "storage_throttled", first.body
    assert "retry_after" not in first.json()["storage"]  # the header says it
    raw = http_call(f"{url}/stream/{image}/raw", headers=bearer(read))  # refused unasked
    told = _unavailable(raw, "storage_throttled")
    assert told is not None and ASK_AGAIN < told <= 12, raw.headers
    again = _degraded(url)  # its check refused unasked, in the window
    # the same window, read a moment apart (whole seconds, rounded up)
    for health in (first, again):
        said = _retry_after(health)
        assert said is not None and abs(said - told) <= 1, (health.headers, told)


def test_health_says_retry_after_while_the_store_refuses_connections(
    s3_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(s3, "REQUESTS", s3.Timeouts(connect=2, read=2, attempts=2))
    proxy = CuttableProxy.in_front_of(s3_settings.r2_endpoint_url)
    lib = Library.open(s3_settings.replace(r2_endpoint_url=proxy.url, usage_scan_interval=0))
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        proxy.cut()
        health = _degraded(server.url)
        assert health.json()["storage"].get("reason") == "endpoint_unreachable", health.body
        assert _retry_after(health) == ASK_AGAIN
    finally:
        server.stop()
        lib.close()
        proxy.close()


def test_every_answer_of_a_postgresql_catalog_out_of_reach_says_when_to_ask_again(
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Refused (the catalog's port closed): every request asks it, and each answer said no
    Retry-After. Hung (the port takes connections, nothing answers): the request that meets
    the silence first says the window it opened, those refused after it the window left."""
    monkeypatch.setattr(server_state, "CATALOG_DEADLINE", 3.0)  # a request's wait, shortened
    with served_catalog_behind_proxy(postgres_url, tmp_path) as served:
        admin = make_tokens(served.lib).admin
        url = served.server.url

        def listing(token: str) -> Reply:
            return http_call(f"{url}/files/", headers=bearer(token), timeout=30)

        assert listing(admin).status == 200  # the token verified: trusted while the catalog is out
        served.cut()
        for n in range(2):  # each asks the catalog again, and is refused
            assert _unavailable(listing(admin), "catalog_unreachable") == ASK_AGAIN, n
        # a token never verified: its verification is what meets the outage
        unverified = listing(TOKEN_PREFIX + "never-verified")
        assert _unavailable(unverified, "catalog_unreachable") == ASK_AGAIN
        health = _degraded(url, admin)
        assert not health.json()["database"]["ok"], health.body
        assert _retry_after(health) == ASK_AGAIN
        served.restore()
        wait_for(lambda: listing(admin).status == 200, what="the catalog back")
        served.stall()
        first = listing(TOKEN_PREFIX + "never-verified-either")
        assert 1 <= (_unavailable(first, "catalog_unreachable") or 0) <= LONGEST_HANG_WINDOW
        health = _degraded(url, admin)
        after = _unavailable(listing(admin), "catalog_unreachable")
        # the same window, read a moment apart (whole seconds, rounded up)
        assert after is not None and 1 <= after <= LONGEST_HANG_WINDOW
        assert abs((_retry_after(health) or 0) - after) <= 1, (health.headers, after)


def test_every_answer_of_a_sqlite_catalog_that_cannot_be_written_says_when_to_ask_again(
    library: Library,
) -> None:
    tokens = make_tokens(library)
    database = Path(db_of(library).engine.url.database or "")
    server = EmbeddedServer(library, config=server_config(library))
    server.start()
    try:
        url = server.url
        athlete = http_call(
            f"{url}/athletes",
            "POST",
            json.dumps({"name": "Ana"}).encode(),
            {**bearer(tokens.admin), "Content-Type": "application/json"},
        )
        assert athlete.status == 201, athlete.body
        catalog = [p for p in (database, Path(f"{database}-wal")) if p.exists()]
        with immutable(*catalog):
            rename = http_call(
                f"{url}/athletes/{athlete.json()['id']}",
                "PATCH",
                json.dumps({"name": "Eva"}).encode(),
                {**bearer(tokens.admin), "Content-Type": "application/json"},
            )
            assert _unavailable(rename, "catalog_read_only") == ASK_AGAIN
            health = _degraded(url)
            assert _retry_after(health) == ASK_AGAIN
    finally:
        server.stop()
