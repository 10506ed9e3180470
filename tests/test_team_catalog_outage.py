"""Team mode with the PostgreSQL catalog out: a `mediadesk serve` on PostgreSQL and the moto
bucket, its cluster stopped under it and started again (tests/pg_server.py `pg_cluster`)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from core.db.engine import Database
from core.db.migrate import upgrade
from core.tokens import TokenStore
from tests.pg_server import Cluster, pg_cluster  # noqa: F401
from tests.server_fixtures import bearer, http_call
from tests.test_team import _base_env, ready, spawn_serve, until, upload

pytestmark = pytest.mark.timeout(60)


def test_requests_during_a_catalog_outage_are_storage_unavailable_and_recover(
    tmp_path: Path,
    pg_cluster: Cluster,  # noqa: F811
    s3_bucket: Any,
    media_dir: Any,
) -> None:
    db = Database(pg_cluster.url)
    upgrade(db.engine)
    _, admin = TokenStore(db).create("admin", "admin")
    db.dispose()
    env = _base_env(
        DATABASE_URL=pg_cluster.url,
        R2_ENDPOINT_URL=s3_bucket.endpoint_url,
        R2_BUCKET_NAME=s3_bucket.bucket,
        R2_ACCESS_KEY_ID=s3_bucket.access_key_id,
        R2_SECRET_ACCESS_KEY=s3_bucket.secret_access_key,
        R2_REGION="us-east-1",
    )
    (tmp_path / "a").mkdir()
    server = ready(spawn_serve(tmp_path / "a", env))
    try:
        first = upload(server.url, admin, media_dir.jpeg)
        pg_cluster.stop()
        started = time.monotonic()
        listing = http_call(f"{server.url}/files/", headers=bearer(admin), timeout=20)
        edit = http_call(
            f"{server.url}/files/{first['id']}",
            "PATCH",
            json.dumps({"description": "during"}).encode(),
            {**bearer(admin), "Content-Type": "application/json"},
            timeout=20,
        )
        assert time.monotonic() - started < 15
        for reply in (listing, edit):
            assert reply.status == 500, reply.body
            error = reply.json()["error"]
            assert (error["code"], error.get("reason")) == (
                "storage_unavailable",
                "catalog_unreachable",
            ), error
        time.sleep(3)  # the background loops (feed, leader, video workers) meet the outage
        pg_cluster.start()

        def healthy() -> bool:
            reply = http_call(f"{server.url}/health", headers=bearer(admin))
            return reply.status == 200 and reply.json()["feed"]["connected"]

        until(healthy, 20, step=0.2)  # no restart of the server
        again = http_call(f"{server.url}/files/", headers=bearer(admin))
        assert again.status == 200 and again.json()["total"] == 1
    finally:
        server.stop()
    log = "".join(server.log)
    assert "Unexpected error" not in log, log
    # one line per loop and interval, not a traceback at every retry of every loop
    assert log.count("Traceback") <= 2, log
