"""A row core kept from the store waits only until core's window ends, its back-off not grown.

A row tried again inside the window a throttling store asked for (its Retry-After) is refused
by core without asking the store (StorageNotAsked). The controller took that for the store
refusing again and doubled the row's wait: a 3 s Retry-After became 3 + 6 s, whenever the
row's timer (a coarse QTimer, up to 5 % early) fired inside the window. Real S3 (moto) behind
tests.faults' ErringStore answering 503 SlowDown.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from core.errors import StorageNotAsked, StorageUnavailable  # noqa: E402
from core.library import Library  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.storage import s3  # noqa: E402
from core.storage.s3 import Timeouts  # noqa: E402
from desktop_app.controllers import upload_controller  # noqa: E402
from desktop_app.controllers.upload_controller import UploadController  # noqa: E402
from desktop_app.models.upload_queue_model import UploadState  # noqa: E402
from tests.faults import ErringStore  # noqa: E402
from tests.media_fixtures import MediaSet  # noqa: E402
from tests.qt_helpers import wait_for  # noqa: E402

pytestmark = pytest.mark.timeout(120)

SAID = 2  # s: the store's Retry-After; the row is resumed by hand well inside it
# s: a Retry-After that a test which never waits it out does not outlive, however busy the
# machine (at most core's longest window). Its tries must all be kept from the store by core's
# window: in a 2 s one, a test stalled 2 s (a loaded CI machine) had a try reach the store,
# whose own 503 is no StorageNotAsked, and the row's timer could try it before the test did
LONG_SAID = 15


@pytest.fixture
def erring(
    s3_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[ErringStore, Library]]:
    monkeypatch.setattr(s3, "REQUESTS", Timeouts(connect=3, read=4, attempts=2))
    monkeypatch.setattr(upload_controller, "RETRY_FIRST", 500)  # production: 15 s
    proxy = ErringStore(s3_settings.r2_endpoint_url)
    lib = Library.open(s3_settings.replace(r2_endpoint_url=proxy.url, usage_scan_interval=0))
    try:
        yield proxy, lib
    finally:
        lib.close()
        proxy.close()


def _paused_once(controller: UploadController, pauses: list[tuple[float, BaseException]]) -> None:
    """The first try's pause; else what the row shows (a whole-suite run once saw no pause in
    15 s, with nothing in the log to say why)."""
    rows = [(i.state, i.stage, i.fraction, i.detail) for i in controller.model.items()]
    assert len(pauses) == 1, (pauses, rows)


def test_a_row_core_did_not_send_waits_for_cores_window_not_a_doubled_back_off(
    qtbot: Any,
    erring: tuple[ErringStore, Library],
    media_dir: MediaSet,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    proxy, lib = erring
    photo = tmp_path / "sprint.jpg"
    shutil.copy(media_dir.jpeg, photo)
    caplog.set_level(logging.INFO, logger=upload_controller.__name__)
    controller = UploadController(lib, persist=False)

    def pauses() -> list[tuple[float, BaseException]]:
        return [
            (float(r.args[0]), r.args[1])  # type: ignore[index]
            for r in caplog.records
            if r.msg.startswith("Upload paused")
        ]

    try:
        proxy.fail(503, "SlowDown", {"Retry-After": str(SAID)})
        controller.add_paths([photo])
        wait_for(qtbot, lambda: _paused_once(controller, pauses()))
        (item,) = controller.model.items()
        ((first_wait, first),) = pauses()
        assert isinstance(first, StorageUnavailable) and not isinstance(first, StorageNotAsked)
        assert first_wait == SAID  # the store's own words (the row's back-off is 0.5 s)
        # tried again at once, inside the store's window: core answers for it, unasked
        controller.resume(item.id)
        wait_for(qtbot, lambda: len(pauses()) == 2)
        second_wait, second = pauses()[1]
        assert isinstance(second, StorageNotAsked), second
        # until core's window ends (what is left of the 2 s, rounded up): before, the row's
        # back-off doubled past the store's words, 4 s
        assert second_wait == second.retry_after <= SAID, (second_wait, second)
        proxy.restore()
        wait_for(qtbot, lambda: [i.state for i in controller.model.items()] == [UploadState.DONE])
        assert len(pauses()) == 2  # the window over, the store took it at the first ask
        assert lib.counts()["all"] == 1
    finally:
        proxy.restore()
        controller.shutdown()


def test_an_automatic_try_core_did_not_send_still_backs_off(
    qtbot: Any,
    erring: tuple[ErringStore, Library],
    media_dir: MediaSet,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The timer's own try, kept from the store by core's window (another row's probe, a
    long outage), doubles the row's wait as any failed try does: waiting only for the window,
    every row of a lasting outage asked the store at each window's end (3x the requests). A
    Resume by hand right after it keeps the row's wait as it is."""
    proxy, lib = erring
    photo = tmp_path / "sprint.jpg"
    shutil.copy(media_dir.jpeg, photo)
    caplog.set_level(logging.INFO, logger=upload_controller.__name__)
    controller = UploadController(lib, persist=False)

    def pauses() -> list[tuple[float, BaseException]]:
        return [
            (float(r.args[0]), r.args[1])  # type: ignore[index]
            for r in caplog.records
            if r.msg.startswith("Upload paused")
        ]

    try:
        proxy.fail(503, "SlowDown", {"Retry-After": str(LONG_SAID)})
        controller.add_paths([photo])
        wait_for(qtbot, lambda: _paused_once(controller, pauses()))
        (item,) = controller.model.items()
        assert pauses()[0][0] == LONG_SAID
        # what the row's timer calls (its live turn), here inside the window
        controller._auto_resume(item.id, controller._timers[item.id])
        wait_for(qtbot, lambda: len(pauses()) == 2)
        wait, exc = pauses()[1]
        assert isinstance(exc, StorageNotAsked), exc
        assert wait == 2 * LONG_SAID  # backed off
        controller.resume(item.id)  # by hand, still inside the window
        wait_for(qtbot, lambda: len(pauses()) == 3)
        wait, exc = pauses()[2]
        assert isinstance(exc, StorageNotAsked), exc
        assert wait == 2 * LONG_SAID  # kept: neither doubled nor cut to the window
    finally:
        proxy.restore()
        controller.shutdown()
