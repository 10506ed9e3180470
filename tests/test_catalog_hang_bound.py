"""A request's wait on a hung PostgreSQL is bounded by its catalog deadline as a whole.

README (When the catalog is out): "requests that need it answer 500 storage_unavailable
(reason catalog_unreachable) within 15 s". A request whose pooled connection's ping met the
hang waited the deadline for that ping, then libpq's connect_timeout for the new connection
the pool opened in its place: about 20.5 s.
"""

from __future__ import annotations

import signal
import time

import pytest
from sqlalchemy import text

from core.db.engine import CATALOG_DEADLINE, Database, catalog_deadline
from core.errors import StorageUnavailable
from tests.pg_server import Cluster, pg_cluster  # noqa: F401


def test_a_ping_that_meets_a_hang_and_the_new_connection_share_the_deadline(
    pg_cluster: Cluster,  # noqa: F811
) -> None:
    db = Database(pg_cluster.url)  # libpq's connect_timeout: CONNECT_TIMEOUT
    try:
        with db.read() as session:
            session.execute(text("SELECT 1"))  # a pooled connection, as a server's
        pg_cluster.signal(signal.SIGSTOP)  # accepts connections, answers nothing
        started = time.monotonic()
        with (
            pytest.raises(StorageUnavailable) as failed,
            catalog_deadline(CATALOG_DEADLINE),
            db.read() as session,
        ):
            session.execute(text("SELECT 1"))
        took = time.monotonic() - started
        assert failed.value.reason == "catalog_unreachable"
        assert took <= CATALOG_DEADLINE, took
    finally:
        pg_cluster.signal(signal.SIGCONT)
        db.dispose()
