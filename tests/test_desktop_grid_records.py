"""The grid reads the record a live event carries with core.feed.file_record, the one reader of
it (the server's /events uses it too), not a copy of its own.

The grid had its own (desktop_app/models/file_grid_model.py `_record_fields`: the record's
fields, its RECORD_TIMES parsed): a field the records gained, or a field core.feed came to read
otherwise, reached the API's events and not the tiles. Real SQLite catalog, a real photo
(EXIF date: `captured_at` set), the events the library's feed publishes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("PySide6.QtWidgets")

from core.events import ChangeEvent, EventKind  # noqa: E402
from core.feed import file_record  # noqa: E402
from core.library import Library  # noqa: E402
from core.records import FileQuery, FileRecord  # noqa: E402
from desktop_app.models.file_grid_model import FileGridListModel  # noqa: E402
from desktop_app.workers import TaskRunner  # noqa: E402
from tests.media_fixtures import MediaSet  # noqa: E402
from tests.qt_helpers import wait_for  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
FIELDS = [f.name for f in dataclasses.fields(FileRecord)]


@pytest.fixture
def runner(qapp: object) -> Iterator[TaskRunner]:
    runner = TaskRunner(max_threads=2)
    yield runner
    runner.shutdown()


def test_every_field_of_an_events_record_reaches_the_grid_as_the_feed_reads_it(
    qtbot: object, library: Library, runner: TaskRunner, media_dir: MediaSet
) -> None:
    photo = library.uploads.ingest(media_dir.jpeg, "image")
    events: list[ChangeEvent] = []
    library.events.subscribe(events.append)
    model = FileGridListModel(library, runner, page_size=10)
    model.set_query(FileQuery())
    wait_for(qtbot, lambda: model.rowCount() == 1)

    library.update_file(photo.id, {"original_filename": "renamed.jpg", "description": "x"})
    wait_for(qtbot, lambda: bool(events))
    (event,) = events
    assert event.kind == EventKind.UPDATED
    # what the test covers: every field a record has is in the event's JSON
    assert set(FIELDS) <= set(event.data), set(FIELDS) - set(event.data)
    model.apply_events(events)

    read = file_record(event)
    shown = model.record(photo.id)
    assert read is not None and shown is not None
    for name in FIELDS:
        assert getattr(shown, name) == getattr(read, name), name
    assert (shown.original_filename, shown.description) == ("renamed.jpg", "x")
    assert shown.captured_at is not None and shown.thumbnail_generation is not None


def test_no_desktop_module_reads_an_events_record_itself() -> None:
    """Reading the record out of an event's JSON is parsing its times (RECORD_TIMES) and
    keeping its FileRecord fields: core.feed.file_record does both, for every reader."""
    readers = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "desktop_app").rglob("*.py"))
        if "RECORD_TIMES" in path.read_text(encoding="utf-8")
    ]
    assert readers == [], readers
