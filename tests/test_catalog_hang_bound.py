"""A request's wait on a hung PostgreSQL is bounded by its catalog deadline as a whole.

README (When the catalog is out): "requests that need it answer 500 storage_unavailable
(reason catalog_unreachable) within 15 s". A request whose pooled connection's ping met the
hang waited the deadline for that ping, then libpq's connect_timeout for the new connection
the pool opened in its place: about 20.5 s.

The test runs the same arithmetic on shorter times (libpq's least connect_timeout of 2 s, which
the engine reads at each call, and a deadline with the same second of slack over what the
ping's cut and the new connection take): a 5 s deadline, ~4 s of a wait; before the fix it
would wait 5 s for the ping, then 2 s for the new connection. libpq's connect_timeout is per
address: a host that resolves to IPv4 and IPv6 (or a URL of two hosts, as here) waits it
twice, which the ping's cut leaves room for too (a 7 s deadline, ~6 s of a wait; 7 + 4 s
before). The ping's cut is never shorter than PING_FLOOR (2 s), which the two-address case
reaches.
"""

from __future__ import annotations

import signal
import time

import pytest
from sqlalchemy import text

from core.db import engine
from core.db.engine import Database, catalog_deadline
from core.errors import StorageUnavailable
from tests.pg_server import Cluster, pg_cluster  # noqa: F401


# the deadline: PING_FLOOR + 2 s for each address + 1 s (the watchdog's ticks and slack)
@pytest.mark.parametrize(("addresses", "deadline"), [(1, 5.0), (2, 7.0)])
def test_a_ping_that_meets_a_hang_and_the_new_connection_share_the_deadline(
    pg_cluster: Cluster,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    addresses: int,
    deadline: float,
) -> None:
    monkeypatch.setattr(engine, "CONNECT_TIMEOUT", 2)
    url = pg_cluster.url
    if addresses == 2:  # the same server twice: both addresses hang alike
        host = f"host=127.0.0.1:{pg_cluster.port}"
        url = f"postgresql+psycopg://mediadesk@/postgres?{host}&{host}"
    db = Database(url)  # libpq's connect_timeout: CONNECT_TIMEOUT
    try:
        with db.read() as session:
            session.execute(text("SELECT 1"))  # a pooled connection, as a server's
        pg_cluster.signal(signal.SIGSTOP)  # accepts connections, answers nothing
        started = time.monotonic()
        with (
            pytest.raises(StorageUnavailable) as failed,
            catalog_deadline(deadline),
            db.read() as session,
        ):
            session.execute(text("SELECT 1"))
        took = time.monotonic() - started
        assert failed.value.reason == "catalog_unreachable"
        assert took <= deadline, took
    finally:
        pg_cluster.signal(signal.SIGCONT)
        db.dispose()
