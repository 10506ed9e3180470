"""server/live_streams.py without processes: a record looked up before a trash never starts a
stream registered after it (the two-process behaviour is in tests/test_team_live.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp.test_utils import make_mocked_request

from core.errors import NotFound
from core.events import ChangeEvent, EventKind
from core.records import FileRecord
from core.tokens import TokenInfo
from server.live_streams import ActiveStreams
from server.state import LOOKED_UP, RESPONDING, TOKEN


def _record(public: bool) -> FileRecord:
    names = {f.name for f in dataclasses.fields(FileRecord)}
    values: dict[str, Any] = {n: None for n in names}
    now = datetime.now(UTC)
    values.update(
        id=7,
        storage_key="ab/cd.jpg",
        original_filename="cd.jpg",
        file_type="image",
        status="ready",
        is_public=public,
        created_at=now,
        updated_at=now,
        version=1,
    )
    return FileRecord(**values)


READER = TokenInfo(1, "reader", "mdk_1234", "read", datetime.now(UTC), None, None)


def _request(token: TokenInfo | None = None) -> Any:
    request = make_mocked_request("GET", "/stream/7/raw")
    request[TOKEN] = token
    request[LOOKED_UP] = time.monotonic()
    return request


async def test_a_record_looked_up_before_a_trash_does_not_start_streaming() -> None:
    streams = ActiveStreams()
    streams.attach(asyncio.get_running_loop())
    record = _record(public=False)
    stale = _request(token=READER)
    streams.on_event(ChangeEvent(EventKind.TRASHED, record.id))
    with pytest.raises(NotFound), streams.track(stale, record):
        pass
    fresh = _request(token=READER)  # looked up after the event: its own lookup decides
    with streams.track(fresh, record):
        assert streams.count(record.id) == 1
    assert streams.count() == 0


async def test_made_private_refuses_only_anonymous_streams() -> None:
    streams = ActiveStreams()
    streams.attach(asyncio.get_running_loop())
    record = _record(public=True)
    anonymous, holder = _request(), _request(token=READER)
    streams.on_event(ChangeEvent(EventKind.UPDATED, record.id, data={"is_public": False}))
    with pytest.raises(NotFound), streams.track(anonymous, record):
        pass
    with streams.track(holder, record):
        assert streams.count(record.id) == 1


async def test_a_cut_before_the_headers_answers_404_and_after_them_drops_the_connection() -> None:
    streams = ActiveStreams()
    streams.attach(asyncio.get_running_loop())
    record = _record(public=False)
    opening = asyncio.Event()

    async def handler(request: Any, started: bool) -> str:
        with streams.track(request, record):
            if started:
                request[RESPONDING] = True  # what on_prepare does when the headers are ready
            opening.set()
            await asyncio.sleep(30)  # opening the object / sending the body
        return "finished"

    for started, expected in ((False, NotFound), (True, asyncio.CancelledError)):
        opening.clear()
        task = asyncio.create_task(handler(_request(token=READER), started))
        await opening.wait()
        streams.on_event(ChangeEvent(EventKind.TRASHED, record.id))
        await asyncio.sleep(0)  # the loop runs the cut (call_soon_threadsafe)
        with pytest.raises(expected):
            await task
        assert streams.count() == 0
        # The 404 is an answer, not a cancellation: nothing left pending to cancel its sending.
        assert task.cancelling() == (1 if started else 0)
