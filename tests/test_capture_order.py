"""sort=captured_at ("Date taken"): a match's photos from several cameras and phones, uploaded
days later and out of order, listed in the order they were shot.

Real JPEGs (EXIF written by Pillow) and MP4s, the real validation and ingest, real catalogs
(SQLite and the throwaway PostgreSQL), the real server over loopback HTTP, keyset cursors,
migration 0026 on a catalog of the version before, and the desktop's sort box in en and es.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from PIL import ExifTags, Image
from sqlalchemy import create_engine, inspect, update

from core.db.migrate import alembic_config, downgrade, upgrade
from core.db.models import MediaFile
from core.library import Library
from core.records import FileQuery
from core.settings import Settings
from core.validation import validate_file
from server.entry import EmbeddedServer
from tests import media
from tests.internals import db_of
from tests.pg_server import pg_library, postgres_url  # noqa: F401
from tests.server_fixtures import bearer, http_call, make_tokens, server_config
from tests.test_taken_at import _mp4

BIG = 1 << 30
TAGS = ExifTags.Base


@contextlib.contextmanager
def _in_zone(zone: str) -> Iterator[None]:
    """This process's local time zone set to POSIX `zone` (no tz database needed)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = zone
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()


@pytest.fixture(autouse=True)
def utc_machine() -> Iterator[None]:
    """A camera's wall time without an offset is read in the machine's zone: these tests'
    expected instants are written for a machine on UTC, wherever they run."""
    with _in_zone("UTC0"):
        yield


def _jpeg(
    path: Path,
    *,
    original: tuple[str, str | None, str | None] | None = None,
    digitized: tuple[str, str | None, str | None] | None = None,
    ifd0: tuple[str, str | None, str | None] | None = None,
    color: tuple[int, int, int] = (20, 90, 160),
) -> Path:
    """A JPEG whose EXIF holds these (date, offset, sub-seconds) in the tags a camera uses:
    DateTimeOriginal, DateTimeDigitized (EXIF IFD), DateTime (IFD0), each with its own
    OffsetTime* and SubSecTime* (EXIF IFD)."""
    exif = Image.Exif()
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    for given, (date_tag, offset_tag, subsec_tag) in (
        (original, (TAGS.DateTimeOriginal, TAGS.OffsetTimeOriginal, TAGS.SubsecTimeOriginal)),
        (digitized, (TAGS.DateTimeDigitized, TAGS.OffsetTimeDigitized, TAGS.SubsecTimeDigitized)),
        (ifd0, (TAGS.DateTime, TAGS.OffsetTime, TAGS.SubsecTime)),
    ):
        if given is None:
            continue
        date, offset, subsec = given
        (exif if date_tag == TAGS.DateTime else sub)[date_tag] = date
        if offset:
            sub[offset_tag] = offset
        if subsec:
            sub[subsec_tag] = subsec
    Image.new("RGB", (64, 48), color).save(path, "JPEG", exif=exif)
    return path


def test_a_photo_s_capture_date_falls_back_and_keeps_its_fraction_of_a_second(
    tmp_path: Path,
) -> None:
    """Only DateTimeOriginal was read, without its fraction: a 10-20 fps burst shared one
    second, and a photo dated only in DateTimeDigitized or IFD0's DateTime had none."""

    def taken(**tags: Any) -> str | None:
        path = _jpeg(tmp_path / f"{len(list(tmp_path.iterdir()))}.jpg", **tags)
        return validate_file(path, "image", BIG).extra.get("taken_at")

    assert taken(original=("2026:03:29 01:30:00", "-03:00", "12")) == (
        "2026-03-29T01:30:00.120-03:00"
    )
    assert taken(original=("2026:03:29 01:30:00", None, "123456")) == "2026-03-29T01:30:00.123456"
    assert taken(digitized=("2026:03:29 01:30:01", "+01:00", "5")) == (
        "2026-03-29T01:30:01.500+01:00"
    )
    assert taken(ifd0=("2026:03:29 01:30:02", "Z", None)) == "2026-03-29T01:30:02+00:00"
    # the shutter's date wins; an unset one (zeros) gives way to the next, with its own tags
    assert taken(
        original=("2026:03:29 01:30:00", "-03:00", None),
        digitized=("2026:03:30 09:00:00", "+02:00", None),
        ifd0=("2026:04:01 10:00:00", None, None),
    ) == ("2026-03-29T01:30:00-03:00")
    assert taken(
        original=("0000:00:00 00:00:00", "-03:00", "50"),
        digitized=("2026:03:30 09:00:00", "+02:00", "25"),
    ) == ("2026-03-30T09:00:00.250+02:00")
    # the old rules hold: a clock never set is no date, whichever tag has it
    assert taken(ifd0=("1970:01:01 00:00:00", None, "10")) is None
    assert taken() is None


@pytest.fixture(params=["sqlite", "postgresql"])
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EmbeddedServer]:
    lib: Library = request.getfixturevalue("library" if request.param == "sqlite" else "pg_library")
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    yield server
    server.stop()


def _shoot(lib: Library, tmp_path: Path) -> tuple[dict[str, int], list[str]]:
    """A match from two cameras with zones, a phone burst without one, a video and a photo
    with no date, uploaded in another order; and the shooting order."""
    athlete = lib.create_athlete("Alexia Putellas").id
    shots: dict[str, Any] = {
        # 04:30:00.500 UTC
        "camera A": _jpeg(tmp_path / "a.jpg", original=("2026:03:29 01:30:00", "-03:00", "5")),
        # 04:30:00 UTC: shot before A though its wall time is later
        "camera B": _jpeg(tmp_path / "b.jpg", original=("2026:03:29 05:30:00", "+01:00", None)),
        # the camera's wall time, as it is: 04:29:59.1, .2, .3
        "burst 3": _jpeg(tmp_path / "c3.jpg", original=("2026:03:29 04:29:59", None, "30")),
        "burst 1": _jpeg(tmp_path / "c1.jpg", original=("2026:03:29 04:29:59", None, "10")),
        "burst 2": _jpeg(tmp_path / "c2.jpg", original=("2026:03:29 04:29:59", None, "20")),
        "video": _mp4(tmp_path / "v.mp4", "2026-03-29T04:31:00.000000Z"),
        # no date: its upload time, after all of them (today)
        "no date": media.make_jpeg(tmp_path / "n.jpg", size=(64, 48), taken_at=None),
        "only IFD0": _jpeg(tmp_path / "i.jpg", ifd0=("2026:03:29 04:29:58", "+00:00", None)),
    }
    ids = {}
    for name, path in shots.items():
        kind = "video" if path.suffix == ".mp4" else "image"
        ids[name] = lib.uploads.ingest(
            path, kind, original_filename=f"match {name}{path.suffix}", athlete_id=athlete
        ).id
    order = ["only IFD0", "burst 1", "burst 2", "burst 3", "camera B", "camera A", "video"]
    return ids, [*order, "no date"]


def _pages(url: str, headers: dict[str, str], limit: int) -> list[dict[str, Any]]:
    """Every page of a listing through its cursors."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = http_call(url + (f"&cursor={cursor}" if cursor else ""), headers=headers).json()
        assert len(page["items"]) <= limit
        items += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            return items


def test_date_taken_lists_a_match_in_shooting_order_through_cursors(
    served: EmbeddedServer, tmp_path: Path
) -> None:
    lib = served.library
    ids, order = _shoot(lib, tmp_path)
    names = {v: k for k, v in ids.items()}
    h = bearer(make_tokens(lib).read)
    athlete = lib.get_file(ids["video"]).athlete_id
    for query in ("", f"&athlete_id={athlete}", "&q=match", "&file_type=image"):
        expected = [n for n in order if query != "&file_type=image" or n != "video"]
        for limit in (1, 3, 50):
            base = f"{served.url}/files/?limit={limit}{query}"
            oldest = _pages(f"{base}&sort=captured_at", h, limit)
            assert [names[f["id"]] for f in oldest] == expected, (query, limit)
            newest = _pages(f"{base}&sort=-captured_at", h, limit)
            assert [names[f["id"]] for f in newest] == expected[::-1], (query, limit)
    one = http_call(f"{served.url}/files/{ids['camera A']}", headers=h).json()
    assert one["extra"]["taken_at"] == "2026-03-29T01:30:00.500-03:00"
    assert datetime.fromisoformat(one["captured_at"]) == datetime(
        2026, 3, 29, 4, 30, 0, 500000, UTC
    )
    undated = http_call(f"{served.url}/files/{ids['no date']}", headers=h).json()
    assert undated["captured_at"] == undated["created_at"]
    # backwards from the end (the grid's End key); a cursor of another sort is refused
    last = lib.list_files(FileQuery(sort="captured_at", limit=3, backwards=True))
    assert [names[r.id] for r in last.items] == ["no date", "video", "camera A"]
    assert last.next_cursor is not None
    before = lib.list_files(
        FileQuery(sort="captured_at", limit=3, backwards=True, cursor=last.next_cursor)
    )
    assert [names[r.id] for r in before.items] == ["camera B", "burst 3", "burst 2"]
    wrong = http_call(f"{served.url}/files/?limit=2&sort=-captured_at", headers=h).json()
    refused = http_call(
        f"{served.url}/files/?limit=2&sort=-created_at&cursor={wrong['next_cursor']}", headers=h
    )
    assert refused.status == 400


def test_a_new_capture_date_moves_the_file_in_the_order(
    library: Library, live: EmbeddedServer, tmp_path: Path
) -> None:
    """A reprocess or a confirmed upload writes the file's metadata again through the ORM:
    its place in the "Date taken" order follows, as the name's does on a rename."""
    first = library.uploads.ingest(
        _jpeg(tmp_path / "a.jpg", original=("2026:03:29 10:00:00", "+00:00", None)), "image"
    ).id
    second = library.uploads.ingest(
        _jpeg(tmp_path / "b.jpg", original=("2026:03:29 11:00:00", "+00:00", None)), "image"
    ).id
    h = bearer(make_tokens(library).read)

    def listed() -> list[int]:
        page = http_call(f"{live.url}/files/?sort=captured_at", headers=h).json()
        return [f["id"] for f in page["items"]]

    assert listed() == [first, second]
    with db_of(library).write() as s:
        row = s.get(MediaFile, first)
        assert row is not None
        row.extra = {**row.extra, "taken_at": "2026-03-29T12:00:00+00:00"}
    assert listed() == [second, first]
    with db_of(library).write() as s:  # the date gone: its upload time, today
        row = s.get(MediaFile, second)
        assert row is not None
        row.extra = {k: v for k, v in row.extra.items() if k != "taken_at"}
    assert listed() == [first, second]
    assert library.get_file(second).captured_at == library.get_file(second).created_at


def _captured_revision(settings: Settings) -> str:
    """The revision before migration 0026's, found by its file (a migration added after it
    does not move it)."""
    script = ScriptDirectory.from_config(alembic_config(settings.effective_database_url))
    rev = next(r for r in script.walk_revisions() if r.path.endswith("_captured_at.py"))
    assert isinstance(rev.down_revision, str)
    return rev.down_revision


def test_the_migration_fills_the_capture_order_of_files_already_there(
    settings: Settings, tmp_path: Path
) -> None:
    """On a catalog of the version before: photos with and without an offset, one whose
    taken_at is EXIF's own form (catalogued before b3c3eac), one with a clock's zero, one with
    no date, and a video each get their key; the order and its indexes are there."""
    lib = Library.open(settings)
    made = {
        "offset": lib.uploads.ingest(
            _jpeg(tmp_path / "a.jpg", original=("2026:03:29 01:30:00", "-03:00", "25")), "image"
        ),
        "wall time": lib.uploads.ingest(
            _jpeg(tmp_path / "b.jpg", original=("2026:03:29 04:00:00", None, None)), "image"
        ),
        "exif form": lib.uploads.ingest(
            media.make_jpeg(tmp_path / "c.jpg", size=(64, 48)), "image"
        ),
        "clock zero": lib.uploads.ingest(
            media.make_jpeg(tmp_path / "d.jpg", size=(64, 48), color=(200, 10, 10)), "image"
        ),
        "no date": lib.uploads.ingest(
            media.make_jpeg(tmp_path / "e.jpg", size=(64, 48), taken_at=None, color=(9, 9, 9)),
            "image",
        ),
        "video": lib.uploads.ingest(_mp4(tmp_path / "v.mp4", "2026-03-29T04:10:00Z"), "video"),
    }
    ids = {k: r.id for k, r in made.items()}
    with db_of(lib).write() as s:  # what older versions stored: EXIF's form, an unset clock
        for name, stored in (("exif form", "2024:05:01 10:30:00"), ("clock zero", "0000:00:00")):
            s.execute(
                update(MediaFile)
                .where(MediaFile.id == ids[name])
                .values(extra={**made[name].extra, "taken_at": stored})
            )
    lib.close()
    before = _captured_revision(settings)
    engine = create_engine(settings.effective_database_url)
    try:
        downgrade(engine, before)
        assert "captured_at" not in {c["name"] for c in inspect(engine).get_columns("media_files")}
        upgrade(engine)
        indexes = {i["name"] for i in inspect(engine).get_indexes("media_files")}
        assert {"ix_media_files_by_captured_at", "ix_media_files_athlete_by_captured_at"} <= indexes
    finally:
        engine.dispose()
    lib = Library.open(settings)
    try:
        got = {k: lib.get_file(i) for k, i in ids.items()}
        utc = {k: r.captured_at for k, r in got.items()}
        assert utc["offset"] == datetime(2026, 3, 29, 4, 30, 0, 250000, UTC)
        assert utc["wall time"] == datetime(2026, 3, 29, 4, 0, tzinfo=UTC)
        assert utc["exif form"] == datetime(2024, 5, 1, 10, 30, tzinfo=UTC)
        assert utc["video"] == datetime(2026, 3, 29, 4, 10, tzinfo=UTC)
        for name in ("clock zero", "no date"):
            assert utc[name] == got[name].created_at, name
        listed = [r.id for r in lib.list_files(FileQuery(sort="captured_at")).items]
        order = ["exif form", "wall time", "video", "offset", "clock zero", "no date"]
        assert listed == [ids[n] for n in order]
    finally:
        lib.close()


def test_a_match_shot_on_a_camera_phones_and_video_sorts_as_shot(
    library: Library, tmp_path: Path
) -> None:
    """A match in Madrid (UTC+1 in January): the DSLR writes its wall time without an offset,
    the phone writes +01:00, the video its creation time in UTC. The DSLR's 10:30 was taken
    as 10:30 UTC, after the phone's 10:31+01:00 (09:31 UTC) and the video's 09:32 UTC; it is
    read in the machine's zone now, so the three sort as they were shot."""
    with _in_zone("CET-1CEST,M3.5.0,M10.5.0/3"):
        made = {
            "phone": library.uploads.ingest(
                _jpeg(tmp_path / "phone.jpg", original=("2026:01:18 10:31:00", "+01:00", None)),
                "image",
            ),
            "video": library.uploads.ingest(
                _mp4(tmp_path / "clip.mp4", "2026-01-18T09:32:00Z"), "video"
            ),
            "dslr": library.uploads.ingest(
                _jpeg(tmp_path / "dslr.jpg", original=("2026:01:18 10:30:00", None, None)),
                "image",
            ),
        }
        assert made["dslr"].captured_at == datetime(2026, 1, 18, 9, 30, tzinfo=UTC)
        listed = [r.id for r in library.list_files(FileQuery(sort="captured_at")).items]
        assert listed == [made[n].id for n in ("dslr", "phone", "video")]


def test_a_date_at_the_calendars_ends_is_no_date_and_never_an_error(
    library: Library, tmp_path: Path
) -> None:
    """Software writes .NET's DateTime.MinValue/MaxValue (0001-01-01, 9999-12-31); with an
    offset, converting them to UTC left the calendar (OverflowError): the upload was a 500,
    and a row holding one could not be edited or migrated. They are no date now."""
    far = library.uploads.ingest(
        _jpeg(tmp_path / "far.jpg", original=("9999:12:31 23:59:59", "-05:00", None)), "image"
    )
    assert "taken_at" not in far.extra and far.captured_at == far.created_at
    near = library.uploads.ingest(
        _jpeg(tmp_path / "near.jpg", original=("0001:01:01 00:00:00", "+05:00", None)), "image"
    )
    assert "taken_at" not in near.extra
    with db_of(library).write() as s:  # as an older version stored it
        s.execute(
            update(MediaFile)
            .where(MediaFile.id == near.id)
            .values(extra={**near.extra, "taken_at": "0001-01-01T00:00:00+05:00"})
        )
    edited = library.update_file(near.id, {"description": "kept"})
    assert edited.description == "kept" and edited.captured_at == edited.created_at
