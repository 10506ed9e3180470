"""The event stream's `file` of a file's change is the record GET /files/{id} answers (the same
presenter, server.presenters.file_json): it lacked `file_id` and `urls`, which the File schema
requires, though the README says it "is the file record". Every event a real stream sends,
live or replayed after a reconnect, a reset and the end of a revoked token's stream included,
matches the document's StreamEvent schema. Real HTTP over loopback, a real SQLite catalog."""

from __future__ import annotations

import http.client
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from core.feed import prune
from server.entry import EmbeddedServer
from tests.internals import db_of
from tests.server_fixtures import bearer, http_call, make_tokens, upload_file

pytestmark = pytest.mark.timeout(60)

S = dict[str, Any]
FILE_KINDS = ("created", "updated", "trashed", "restored", "deleted")


@dataclass(frozen=True)
class Event:
    id: int | None
    kind: str
    data: S


class Stream:
    """GET /events read line by line, its events parsed as EventSource does."""

    def __init__(self, server: EmbeddedServer, token: str, last_id: int | None = None) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        headers = bearer(token)
        if last_id is not None:
            headers["Last-Event-ID"] = str(last_id)
        self.conn.request("GET", "/events", headers=headers)
        self.reply = self.conn.getresponse()
        assert self.reply.status == 200
        self.events: list[Event] = []
        self.ended = False

    def until(self, done: Any, seconds: float = 10) -> list[Event]:
        """Reads until done(events) holds (or the stream ends); the events read so far."""
        deadline = time.monotonic() + seconds
        event_id, kind, data = None, None, None
        while not done(self.events) and not self.ended and time.monotonic() < deadline:
            line = self.reply.readline().decode()
            if not line:
                self.ended = True
            elif line.startswith("id: "):
                event_id = int(line[4:])
            elif line.startswith("event: "):
                kind = line[7:].strip()
            elif line.startswith("data: "):
                data = json.loads(line[6:])
            elif line == "\n":
                if kind is not None and data is not None:
                    self.events.append(Event(event_id, kind, data))
                event_id, kind, data = None, None, None
        assert done(self.events), [e.kind for e in self.events]
        return self.events

    def close(self) -> None:
        self.conn.close()


def _has(kind: str, file_id: int | None = None) -> Any:
    return lambda events: any(
        e.kind == kind and (file_id is None or e.data.get("file_id") == file_id) for e in events
    )


def _call(server: EmbeddedServer, method: str, path: str, token: str, body: S | None = None) -> S:
    headers = bearer(token)
    raw = None
    if body is not None:
        raw, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    reply = http_call(server.url + path, method, raw, headers)
    assert reply.status in (200, 201), (method, path, reply.status, reply.body)
    return reply.json()  # type: ignore[no-any-return]


def test_every_event_is_what_the_document_says(live: EmbeddedServer, media_dir: Any) -> None:
    tokens = make_tokens(live.library)
    spec = http_call(f"{live.url}/openapi.json").json()

    def validator(name: str) -> Draft202012Validator:
        schema = {"$ref": f"#/components/schemas/{name}", "components": spec["components"]}
        return Draft202012Validator(schema)

    any_event, file_event = validator("StreamEvent"), validator("ChangeEvent")
    stream = Stream(live, tokens.read)
    first = live.library.feed.last_id
    athlete = _call(live, "POST", "/athletes", tokens.upload, {"name": "Ana"})
    created = upload_file(live, tokens.upload, media_dir.jpeg, athlete_id=str(athlete["id"]))
    fid = created["id"]
    steps = [
        ("created", None),
        ("updated", ("PATCH", f"/files/{fid}", {"description": "before the final"})),
        ("trashed", ("DELETE", f"/files/{fid}", None)),
        ("restored", ("POST", f"/files/{fid}/restore", None)),
    ]
    for kind, action in steps:
        if action is not None:
            _call(live, action[0], action[1], tokens.upload, action[2])
        event = next(e for e in stream.until(_has(kind, fid)) if e.kind == kind)
        answered = _call(live, "GET", f"/files/{fid}", tokens.read)
        # the same record as GET /files/{id} answers after the change, field for field
        assert event.data["file"] == answered, kind
        assert [e.message for e in file_event.iter_errors(event.data)] == [], kind
    assert stream.events[-1].data["previous"]["deleted_at"] is not None  # restored from trash
    _call(live, "PATCH", f"/athletes/{athlete['id']}", tokens.upload, {"name": "Ana María"})
    _call(live, "DELETE", f"/files/{fid}?hard_delete=true", tokens.admin)
    stream.until(_has("deleted", fid))
    gone = next(e for e in stream.events if e.kind == "deleted")
    assert gone.data["file"]["file_id"] == fid and gone.data["file"]["urls"]["self"]
    live_events = list(stream.events)
    stream.close()
    assert {e.kind for e in live_events} >= {*FILE_KINDS, "athlete"}

    # a reconnect's replay (the change log, server/routes/events.py) sends the same JSON
    again = Stream(live, tokens.read, last_id=first)
    replayed = again.until(lambda events: len(events) >= len(live_events))
    again.close()
    assert [(e.id, e.kind, e.data) for e in replayed] == [
        (e.id, e.kind, e.data) for e in live_events
    ]

    # behind what the change log keeps: one reset
    prune(db_of(live.library), days=0, now=datetime.now(UTC) + timedelta(days=1))
    behind = Stream(live, tokens.read, last_id=first)
    reset = behind.until(_has("reset"))
    behind.close()

    # a revoked token's stream is told why, and ends
    info, revoked = live.library.tokens.create("sse-revoked", "read")
    ending = Stream(live, revoked)
    live.library.tokens.revoke(info.id)
    told = ending.until(_has("unauthorized"))
    ending.close()

    for event in [*live_events, *reset, *told]:
        assert event.kind == event.data["kind"]
        errors = [e.message for e in any_event.iter_errors(event.data)]
        assert errors == [], (event.kind, event.data, errors)


def test_an_id_the_catalog_never_gave_is_told_to_reset(
    live: EmbeddedServer, media_dir: Any
) -> None:
    """A lifecycle hunt put an older catalog back from a backup (README's restore) under a page
    whose EventSource had heard id 40; the restored catalog's newest was 23. Reconnecting with
    Last-Event-ID 40 it got no reset, only the next changes under ids 24, 25… it took for new
    ones: files it listed stayed listed though gone, and reused ids looked known."""
    tokens = make_tokens(live.library)
    upload_file(live, tokens.upload, media_dir.jpeg)
    newest = live.library.feed.newest_id()
    assert newest > 0
    restored = Stream(live, tokens.read, last_id=newest + 17)
    (reset,) = restored.until(_has("reset"))
    restored.close()
    assert reset.id == newest and reset.data["after"] == newest + 17, reset
    # the newest id itself is no reason to reload
    current = Stream(live, tokens.read, last_id=newest)
    upload_file(live, tokens.upload, media_dir.png)
    events = current.until(_has("created"))
    current.close()
    assert [e.kind for e in events if e.kind == "reset"] == [], events
