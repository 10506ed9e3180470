"""A request's wait on a hung PostgreSQL is bounded by its catalog deadline as a whole.

README (When the catalog is out): "requests that need it answer 500 storage_unavailable
(reason catalog_unreachable) within 15 s". A request whose pooled connection's ping met the
hang waited the deadline for that ping, then libpq's connect_timeout for the new connection
the pool opened in its place: about 20.5 s.

The test runs the same arithmetic on shorter times (an 8 s deadline, libpq's least
connect_timeout of 2 s), which the engine reads at each call: ~7 s of a wait instead of ~14.
Before the fix it would wait 8 s for the ping, then 2 s for the new connection.
libpq's connect_timeout is per address: a host that resolves to IPv4 and IPv6 (or a URL of
two hosts, as here) waits it twice, which the ping's cut leaves room for too.
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


@pytest.mark.parametrize("addresses", [1, 2])
def test_a_ping_that_meets_a_hang_and_the_new_connection_share_the_deadline(
    pg_cluster: Cluster,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    addresses: int,
) -> None:
    monkeypatch.setattr(engine, "CONNECT_TIMEOUT", 2)
    deadline = 8.0
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
