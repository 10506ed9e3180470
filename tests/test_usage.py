"""GET /usage against what was uploaded, the periodic store listing and its drift, the gauges."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.library import Library
from server.entry import EmbeddedServer
from tests.conftest import make_settings
from tests.pg_server import pg_library, postgres_url  # noqa: F401
from tests.server_fixtures import bearer, http_call, make_tokens, multipart_body, server_config

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def scanning(data_dir: Path) -> Iterator[EmbeddedServer]:
    """A server whose store listing runs every second."""
    lib = Library.open(make_settings(data_dir, usage_scan_interval=1, storage_warn_bytes=1000))
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    yield server
    server.stop()
    lib.close()


def direct(server: EmbeddedServer, token: str, path: Path, kind: str, **fields: str) -> Any:
    body, ctype = multipart_body(
        {"file_type": kind, **fields}, {"file": (path.name, path.read_bytes(), "application/x")}
    )
    resp = http_call(
        f"{server.url}/files/upload/direct", "POST", body, {"Content-Type": ctype, **bearer(token)}
    )
    assert resp.status == 201, resp.body
    return resp.json()


def test_usage_counts_what_was_uploaded(scanning: EmbeddedServer, media_dir: Any) -> None:
    lib = scanning.library
    tokens = make_tokens(lib)
    direct(scanning, tokens.upload, media_dir.jpeg, "image", athlete_id="3")
    direct(scanning, tokens.upload, media_dir.png, "image")
    direct(scanning, tokens.upload, media_dir.mp4, "video", athlete_id="3")
    gif = direct(scanning, tokens.upload, media_dir.gif, "image", athlete_id="5")
    lib.trash(gif["id"])
    body, ctype = multipart_body({"original_filename": "later.mp4", "file_type": "video"})
    pending = http_call(
        f"{scanning.url}/files/upload/presigned",
        "POST",
        body,
        {"Content-Type": ctype, **bearer(tokens.upload)},
    )
    assert pending.status == 201
    assert http_call(f"{scanning.url}/usage").status == 401
    sizes = {k: media_dir.__dict__[k].stat().st_size for k in ("jpeg", "png", "mp4", "gif")}
    deadline = time.monotonic() + 30
    while True:  # until a listing made after the uploads
        usage = http_call(f"{scanning.url}/usage", headers=bearer(tokens.read)).json()
        if usage["store"]["objects"] is not None and usage["store"]["objects"] >= 7:
            break
        assert time.monotonic() < deadline, usage
        time.sleep(0.3)
    assert usage["total"] == {"files": 3, "bytes": sizes["jpeg"] + sizes["png"] + sizes["mp4"]}
    assert usage["by_file_type"]["image"] == {"files": 2, "bytes": sizes["jpeg"] + sizes["png"]}
    assert usage["by_file_type"]["video"] == {"files": 1, "bytes": sizes["mp4"]}
    by_athlete = {a["athlete_id"]: a for a in usage["by_athlete"]}
    assert by_athlete[3]["files"] == 2 and by_athlete[3]["bytes"] == sizes["jpeg"] + sizes["mp4"]
    assert by_athlete[3]["name"] == "Athlete 3"
    assert by_athlete[None]["files"] == 1 and 5 not in by_athlete  # the GIF is in the trash
    assert usage["by_status"]["trashed"] == {"files": 1, "bytes": sizes["gif"]}
    assert usage["by_status"]["pending"]["files"] == 1
    assert usage["by_status"]["ready"]["files"] == 3
    # the store: four originals and their thumbnails, nothing else
    originals = sum(sizes.values())
    assert usage["store"]["bytes"] == originals + usage["derivatives"]["bytes"]
    assert usage["derivatives"]["files"] >= 4
    assert usage["store"]["drift_bytes"] == 0
    assert usage["warn_bytes"] == 1000 and lib.usage.over_warning(usage)
    # an object behind the catalog's back shows as drift at the next listing
    stray = lib.paths.objects_dir / "general" / "stray.bin"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_bytes(b"x" * 12345)
    scanned = usage["store"]["scanned_at"]
    while True:
        usage = http_call(f"{scanning.url}/usage", headers=bearer(tokens.read)).json()
        if usage["store"]["scanned_at"] != scanned and usage["store"]["drift_bytes"]:
            break
        assert time.monotonic() < deadline + 30
        time.sleep(0.3)
    assert usage["store"]["drift_bytes"] == 12345
    # gauges and the daily history
    metrics = http_call(f"{scanning.url}/metrics", headers=bearer(tokens.read)).body.decode()
    assert f'mediadesk_storage_bytes{{file_type="video"}} {sizes["mp4"]}' in metrics
    assert "mediadesk_store_drift_bytes 12345" in metrics
    with_history = http_call(
        f"{scanning.url}/usage?history_days=7", headers=bearer(tokens.read)
    ).json()
    assert len(with_history["history"]) == 1
    assert with_history["history"][0]["files"] == 3
    assert with_history["history"][0]["store_bytes"] == usage["store"]["bytes"]
    assert (
        http_call(f"{scanning.url}/usage?history_days=x", headers=bearer(tokens.read)).status == 400
    )


def test_scan_on_s3_counts_the_bucket(s3_library: Library, media_dir: Any) -> None:
    s3_library.uploads.ingest(media_dir.jpeg, "image")
    scan = s3_library.usage.scan()
    listed = list(s3_library.list_objects())
    assert scan.objects == len(listed) >= 2 and scan.bytes == sum(o.size for o in listed)
    report = s3_library.usage.report()
    assert report["store"]["drift_bytes"] == 0
    assert report["total"]["bytes"] == media_dir.jpeg.stat().st_size


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_kept_counts_match_the_rows_after_every_kind_of_change(
    engine: str, request: pytest.FixtureRequest, media_dir: Any
) -> None:
    """/usage sums the counts the triggers keep (migrations 0012, 0014): after uploads, a
    duplicate, edits, a trash, a restore and a hard delete they equal a GROUP BY over the rows."""
    from sqlalchemy import func, select, update

    from core.db.models import FileCount, MediaFile
    from tests.internals import db_of

    lib: Library = request.getfixturevalue("library" if engine == "sqlite" else "pg_library")
    ana = lib.create_athlete("Ana")
    photo = lib.uploads.ingest(media_dir.jpeg, "image", athlete_id=ana.id)
    clip = lib.uploads.ingest(media_dir.mp4, "video")
    png = lib.uploads.ingest(media_dir.png, "image", is_public=True)
    lib.uploads.ingest(media_dir.jpeg, "image", athlete_id=ana.id)  # a duplicate: an alias
    lib.uploads.ingest(media_dir.jpeg, "image")  # the same bytes, no athlete: shared object
    lib.update_file(photo.id, {"athlete_id": None, "is_public": True})
    lib.trash(clip.id)
    lib.trash(png.id)
    lib.restore(png.id)
    lib.delete(photo.id, hard=True)
    with db_of(lib).write() as s:  # a size learnt later (a confirmed upload sets it)
        s.execute(update(MediaFile).where(MediaFile.id == png.id).values(size=MediaFile.size + 7))

    m = MediaFile
    dims = (
        func.coalesce(m.athlete_id, 0),
        m.file_type,
        func.coalesce(m.content_type, ""),
        m.is_public,
        m.status,
        m.deleted_at.is_not(None),
        m.alias_of.is_not(None),
    )
    with db_of(lib).read() as s:
        rows = {
            tuple(r[:-2]): (r[-2], r[-1])
            for r in s.execute(
                select(*dims, func.count(), func.coalesce(func.sum(m.size), 0)).group_by(*dims)
            )
        }
        c = FileCount
        kept = {
            (r[0], r[1], r[2], r[3], r[4], r[5], r[6]): (r[7], r[8])
            for r in s.execute(
                select(
                    c.athlete_id,
                    c.file_type,
                    c.content_type,
                    c.is_public,
                    c.status,
                    c.trashed,
                    c.alias,
                    c.n,
                    c.bytes,
                ).where(c.n != 0)
            )
        }
    assert kept == rows and rows
    report = lib.usage.report()
    live = {k: v for k, v in rows.items() if k[4] == "ready" and not k[5] and not k[6]}
    assert report["total"] == {
        "files": sum(n for n, _ in live.values()),
        "bytes": sum(b for _, b in live.values()),
    }
    assert report["by_status"]["trashed"]["files"] == 1
    assert {a["athlete_id"] for a in report["by_athlete"]} == {k[0] or None for k in live}
