"""A move's deferred deletion that comes due while the store or the catalog is out of reach
runs again on its own once they are back: it waited for the next move, maintenance run or
start (up to an hour, the old object left in the bucket), and a catalog outage ended its timer
thread with a traceback."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pytest

from core.library import Library
from core.settings import Settings
from tests.conftest import make_settings
from tests.faults import CuttableProxy
from tests.internals import storage_of
from tests.pg_server import postgres_url  # noqa: F401

pytestmark = pytest.mark.timeout(90)


def _until(check: Any, seconds: float = 20.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.05)
    return False


def _move_during_a_cut(
    lib: Library, proxy: CuttableProxy, media_dir: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A file moved while `proxy` (to the store or the catalog) is cut when its old key comes
    due: the old object stays through the failures and goes once the proxy is restored."""
    caplog.set_level(logging.INFO, "core.deferred")
    try:
        lib.deferred.grace, lib.deferred.retry = 0.2, 0.3
        record = lib.uploads.ingest(media_dir.png, "image")
        lib.update_file(record.id, {"athlete_id": 4})
        proxy.cut()
        assert _until(lambda: "Deferred deletions wait" in caplog.text)
        proxy.restore()
        assert storage_of(lib).exists(record.storage_key)  # still there after the failures
        assert _until(lambda: not storage_of(lib).exists(record.storage_key))
        assert _until(lambda: "Deferred deletions run again" in caplog.text)
        assert caplog.text.count("Deferred deletions wait") == 1  # once per outage
        assert "Traceback" not in caplog.text
    finally:
        lib.close()


def test_a_deletion_that_found_the_store_down_runs_again(
    s3_settings: Settings, media_dir: Any, caplog: pytest.LogCaptureFixture
) -> None:
    proxy = CuttableProxy.in_front_of(s3_settings.r2_endpoint_url)
    lib = Library.open(s3_settings.replace(r2_endpoint_url=proxy.url))
    _move_during_a_cut(lib, proxy, media_dir, caplog)


def test_a_deletion_that_found_the_catalog_down_runs_again(
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
    media_dir: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    host_port = postgres_url.rsplit("@", 1)[1].split("/", 1)[0]
    proxy = CuttableProxy.in_front_of(f"http://{host_port}")
    through = postgres_url.replace(host_port, f"127.0.0.1:{proxy.port}")
    lib = Library.open(make_settings(tmp_path, database_url=through))
    _move_during_a_cut(lib, proxy, media_dir, caplog)
