"""A catalog upgraded under a running process is a lasting state, not a bug: background loops
(the store's usage scan, the leader, the feed) say so in one plain line now and then instead
of a traceback at every turn, which would rotate the log history away until a restart."""

from __future__ import annotations

import logging

import pytest

from core.errors import CatalogUpgraded, StorageUnavailable
from core.logsetup import OutageReports, outage_cause


def test_a_catalog_upgraded_under_the_process_is_an_outage_in_plain_words() -> None:
    cause = outage_cause(CatalogUpgraded("The catalog was upgraded to revision 0099"))
    assert cause is not None
    assert "newer MediaDesk" in cause and "restart" in cause


def test_a_loop_failing_on_it_logs_one_line_without_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log = logging.getLogger("mediadesk.test.upgraded")
    reports = OutageReports(interval=3600)
    with caplog.at_level(logging.WARNING, logger=log.name):
        for _ in range(3):
            assert reports.log(log, CatalogUpgraded("upgraded"), "Store scan failed")
    lines = [r for r in caplog.records if r.name == log.name]
    assert len(lines) == 1
    assert lines[0].levelno == logging.WARNING and lines[0].exc_info is None
    assert "newer MediaDesk" in lines[0].getMessage()


def test_a_store_throttling_or_failing_is_said_as_such() -> None:
    """A worker's WARNING line said "the store cannot be reached" while the store answered
    503 SlowDown or 500 InternalError: an admin looked for a network fault."""
    throttled = outage_cause(StorageUnavailable("slow down", reason="storage_throttled"))
    failing = outage_cause(StorageUnavailable("500", reason="storage_server_error"))
    unreachable = outage_cause(StorageUnavailable("x", reason="endpoint_unreachable"))
    assert throttled is not None and "throttling" in throttled
    assert failing is not None and "failing" in failing
    assert unreachable == "the store cannot be reached"
