"""The library service on both backends: ingest, duplicates, presigned uploads, edits, trash."""

from __future__ import annotations

import http.client
import io
import shutil
import threading
import urllib.parse
from pathlib import Path

import pytest
from PIL import Image

from core import keys
from core.errors import (
    Conflict,
    CorruptFile,
    EmptyFile,
    InvalidInput,
    NotFound,
    SizeMismatch,
    TooLarge,
    TypeMismatch,
    UnsupportedType,
    UploadNotReceived,
)
from core.library import Library
from core.maintenance import purge_trash, reconcile
from core.records import FileQuery
from tests.conftest import make_settings
from tests.internals import db_of, presigner_of, storage_of


def http_put(url: str, body: bytes, headers: dict[str, str]) -> int:
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("PUT", f"{parts.path}?{parts.query}", body=body, headers=headers)
    status = conn.getresponse().status
    conn.close()
    return status


def put_object(lib: Library, key: str, data: bytes, content_type: str) -> None:
    """What a client's PUT to the upload URL leaves in the store."""
    storage_of(lib).put_bytes(key, data, content_type)


def assert_nothing_left(lib: Library) -> None:
    report = reconcile(lib)
    assert report.clean, report.as_dict()
    assert not list(lib.paths.tmp_dir.glob("*")), "temp files left behind"


def test_ingest_image_stores_catalogues_and_thumbnails(any_library: Library, media_dir) -> None:
    stages: list[str] = []
    rec = any_library.uploads.ingest(
        media_dir.jpeg,
        "image",
        athlete_id=7,
        is_public=True,
        description="Final",
        progress=lambda s, d, t: stages.append(s),
    )
    assert rec.status == "ready" and not rec.duplicate
    assert rec.storage_key.startswith("athletes/7/") and rec.storage_key.endswith(".jpg")
    assert rec.content_type == "image/jpeg" and (rec.width, rec.height) == (640, 480)
    assert rec.size == media_dir.jpeg.stat().st_size and len(rec.sha256 or "") == 64
    assert rec.athlete_name == "Athlete 7"
    assert {"reading", "validating", "uploading"} <= set(stages)
    assert storage_of(any_library).exists(keys.thumbnail_key(rec.storage_key))
    assert any_library.thumbnail_bytes(rec.id)[:4] == b"RIFF"
    body = b"".join(any_library.open_range(rec, 0, None))
    assert body == media_dir.jpeg.read_bytes()


def test_ingest_video_extracts_metadata(any_library: Library, media_dir) -> None:
    rec = any_library.uploads.ingest(media_dir.mp4, "video", original_filename="sprint.mp4")
    assert rec.storage_key.startswith("general/") and rec.storage_key.endswith(".mp4")
    assert rec.duration == pytest.approx(2.0, abs=0.2)
    assert (rec.width, rec.height) == (320, 240)
    assert (rec.video_codec or "").lower() in ("h264", "avc", "avc1")
    assert rec.has_thumbnail


def test_extension_comes_from_content_not_name(library: Library, media_dir, tmp_path) -> None:
    disguised = tmp_path / "photo.gif"
    shutil.copy(media_dir.png, disguised)
    rec = library.uploads.ingest(disguised, "image")
    assert rec.storage_key.endswith(".png") and rec.content_type == "image/png"
    # the name keeps what was typed and ends in the content's extension (opens as a PNG)
    assert rec.original_filename == "photo.gif.png"


def test_duplicate_returns_existing(any_library: Library, media_dir) -> None:
    first = any_library.uploads.ingest(media_dir.png, "image")
    again = any_library.uploads.ingest(
        io.BytesIO(media_dir.png.read_bytes()), "image", original_filename="copy.png"
    )
    assert again.duplicate and again.id == first.id
    assert any_library.list_files().total == 1
    assert_nothing_left(any_library)


@pytest.mark.parametrize(
    ("name", "kind", "error"),
    [
        ("fake_exe_jpg", "image", UnsupportedType),
        ("truncated_jpeg", "image", CorruptFile),
        ("png_bomb", "image", CorruptFile),
        ("mp4", "image", TypeMismatch),
        ("jpeg", "video", TypeMismatch),
        ("wav", "video", UnsupportedType),
    ],
)
def test_bad_inputs_leave_nothing(any_library: Library, media_dir, name, kind, error) -> None:
    with pytest.raises(error):
        any_library.uploads.ingest(getattr(media_dir, name), kind)
    assert any_library.list_files(status=None).total == 0
    assert_nothing_left(any_library)


def test_empty_and_one_byte_over(data_dir: Path, media_dir) -> None:
    size = media_dir.png.stat().st_size
    lib = Library.open(make_settings(data_dir, max_file_size=size - 1))
    with pytest.raises(TooLarge):
        lib.uploads.ingest(media_dir.png, "image")
    with pytest.raises(TooLarge):  # streams stop at the limit too
        lib.uploads.ingest(io.BytesIO(media_dir.png.read_bytes()), "image")
    with pytest.raises(EmptyFile, match="empty"):
        lib.uploads.ingest(io.BytesIO(b""), "image")
    assert_nothing_left(lib)
    lib.close()


def test_presigned_flow_on_both_backends(any_library: Library, media_dir) -> None:
    data = media_dir.webm.read_bytes()
    up = any_library.uploads.create_presigned_upload(
        "../../clip\r\n.webm", "video", is_public=False, athlete_id=3, size=len(data)
    )
    assert up.file.status == "pending" and up.file.original_filename == "clip .webm"
    assert up.file_key.startswith("athletes/3/") and up.file_key.endswith(".webm")
    # no URL signs a type the client did not name (a browser's spelling may differ)
    bucket = storage_of(any_library).name == "s3"
    assert up.request.method == "PUT"
    assert up.request.headers.get("Content-Type") is None
    if bucket:
        assert http_put(up.request.url, data, up.request.headers) == 200
    else:  # the local backend's signed URL is honoured by the embedded server
        put_object(any_library, up.file_key, data, "video/webm")
    ready = any_library.uploads.confirm_upload(up.file.id)
    assert ready.status == "ready" and ready.duration == pytest.approx(2.0, abs=0.2)
    assert any_library.uploads.confirm_upload(up.file.id) == ready  # idempotent
    assert_nothing_left(any_library)


def test_presigned_urls_carry_no_checksum_parameters(s3_library: Library) -> None:
    up = s3_library.uploads.create_presigned_upload("a.jpg", "image", size=10)
    assert "x-amz-checksum" not in up.request.url.lower()
    assert "x-amz-sdk-checksum-algorithm" not in up.request.url.lower()


def test_confirm_before_upload_then_invalid_object(any_library: Library, media_dir) -> None:
    up = any_library.uploads.create_presigned_upload("a.jpg", "image")
    with pytest.raises(UploadNotReceived):
        any_library.uploads.confirm_upload(up.file.id)
    assert any_library.get_file(up.file.id).status == "pending"
    put_object(any_library, up.file_key, media_dir.fake_exe_jpg.read_bytes(), "image/jpeg")
    with pytest.raises(UnsupportedType):
        any_library.uploads.confirm_upload(up.file.id)
    failed = any_library.get_file(up.file.id)
    assert failed.status == "failed" and "unsupported_type" in (failed.failure_reason or "")
    assert not storage_of(any_library).exists(up.file_key)
    with pytest.raises(Conflict):
        any_library.uploads.confirm_upload(up.file.id)


def test_confirm_checks_declared_size(library: Library, media_dir) -> None:
    data = media_dir.jpeg.read_bytes()
    up = library.uploads.create_presigned_upload("a.jpg", "image", size=len(data) + 1)
    put_object(library, up.file_key, data, "image/jpeg")
    with pytest.raises(SizeMismatch):
        library.uploads.confirm_upload(up.file.id)
    assert not storage_of(library).exists(up.file_key)


def test_presign_refuses_bad_declarations(library: Library) -> None:
    with pytest.raises(UnsupportedType):  # an extension of no accepted type
        library.uploads.create_presigned_upload("notes.txt", "image")
    with pytest.raises(InvalidInput):  # nothing to tell the type from
        library.uploads.create_presigned_upload("notes", "image")
    with pytest.raises(TypeMismatch):
        library.uploads.create_presigned_upload("a.mp4", "image")
    with pytest.raises(TooLarge):
        library.uploads.create_presigned_upload(
            "a.jpg", "image", size=library.settings.max_file_size + 1
        )
    assert (
        library.uploads.create_presigned_upload(
            "a", "video", content_type="video/avi"
        ).file.content_type
        == "video/x-msvideo"
    )


def test_concurrent_confirms_end_in_one_ready_record(library: Library, media_dir) -> None:
    up = library.uploads.create_presigned_upload("a.png", "image")
    put_object(library, up.file_key, media_dir.png.read_bytes(), "image/png")
    results, errors = [], []

    def confirm() -> None:
        try:
            results.append(library.uploads.confirm_upload(up.file.id))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=confirm) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(results) == 4 and len({r.version for r in results}) == 1
    assert {r.status for r in results} == {"ready"}
    assert library.list_files().total == 1
    assert len(library.uploads._confirm_locks) == 0  # no lock kept per file forever


def test_update_moves_object_to_new_athlete(any_library: Library, media_dir) -> None:
    rec = any_library.uploads.ingest(media_dir.gif, "image")
    moved = any_library.update_file(
        rec.id,
        {
            "athlete_id": 5,
            "description": "warm-up",
            "original_filename": "a/b\nc.gif",
            "is_public": True,
        },
        expected_version=rec.version,
    )
    assert moved.storage_key == keys.rekey_for_athlete(rec.storage_key, 5)
    assert moved.original_filename == "b c.gif" and moved.is_public
    assert storage_of(any_library).exists(moved.storage_key)
    assert storage_of(any_library).exists(keys.thumbnail_key(moved.storage_key))
    # the old key stays for readers that resolved it until its grace period has passed
    assert storage_of(any_library).exists(rec.storage_key)
    assert any_library.deferred.run() == []
    from datetime import UTC, datetime, timedelta

    later = datetime.now(UTC) + timedelta(seconds=any_library.deferred.grace + 1)
    assert any_library.deferred.run(later) == [rec.storage_key]
    assert not storage_of(any_library).exists(rec.storage_key)
    assert not storage_of(any_library).exists(keys.thumbnail_key(rec.storage_key))
    with pytest.raises(Conflict):
        any_library.update_file(rec.id, {"description": "x"}, expected_version=rec.version)
    with pytest.raises(InvalidInput):
        any_library.update_file(rec.id, {"storage_key": "x"})
    assert_nothing_left(any_library)


def test_trash_restore_and_hard_delete(any_library: Library, media_dir) -> None:
    rec = any_library.uploads.ingest(media_dir.jpeg, "image")
    any_library.trash(rec.id)
    assert any_library.list_files().total == 0
    assert any_library.list_files(trashed=True).total == 1
    with pytest.raises(NotFound):
        any_library.get_ready(rec.id)
    any_library.restore(rec.id)
    assert any_library.list_files().total == 1
    any_library.delete(rec.id, hard=True)
    with pytest.raises(NotFound):
        any_library.get_file(rec.id)
    assert not storage_of(any_library).exists(rec.storage_key)
    assert not storage_of(any_library).exists(keys.thumbnail_key(rec.storage_key))


def test_a_hard_delete_stopped_after_the_object_went_is_finished_by_the_next(
    any_library: Library, media_dir
) -> None:
    """The object goes first, the row last: a hard delete stopped right after the object (a
    kill -9, a derivative that could not be deleted) leaves a row that reconcile reports and
    that still leads to the derivatives; the next one (here the trash purge) finishes, a
    missing object being no error on either backend."""
    rec = any_library.uploads.ingest(media_dir.jpeg, "image")
    variant, _ = any_library.variant(rec, 64)
    store = storage_of(any_library)
    any_library.trash(rec.id)
    store.delete(rec.storage_key)  # where the first step leaves it
    found = reconcile(any_library)
    assert (found.rows_without_objects, found.objects_without_rows) == ([rec.id], [])

    assert purge_trash(any_library, retention_days=0) == [rec.id]
    with pytest.raises(NotFound):
        any_library.get_file(rec.id)
    for key in (rec.storage_key, keys.thumbnail_key(rec.storage_key), variant):
        assert not store.exists(key), key
    assert reconcile(any_library).clean


def test_listing_filters_search_sort_and_paging(library: Library, media_dir) -> None:
    a = library.uploads.ingest(media_dir.jpeg, "image", athlete_id=1, description="Salto final")
    library.uploads.ingest(media_dir.png, "image", athlete_id=2, is_public=True)
    library.uploads.ingest(media_dir.mp4, "video", athlete_id=1)
    assert library.list_files(athlete_id=1).total == 2
    assert library.list_files(file_type="video").total == 1
    assert library.list_files(is_public=True).total == 1
    assert [r.id for r in library.list_files(q="salto").items] == [a.id]
    assert library.list_files(q="100%").total == 0  # wildcards are literal
    page = library.list_files(FileQuery(sort="size", limit=2, offset=1))
    assert page.total == 3 and len(page.items) == 2
    sizes = [r.size for r in library.list_files(sort="size").items]
    assert sizes == sorted(sizes)
    with pytest.raises(InvalidInput):
        library.list_files(sort="drop table")
    counts = library.counts()
    assert counts["all"] == 3 and counts["video"] == 1 and counts["public"] == 1
    assert {a.name: a.file_count for a in library.athletes()} == {"Athlete 1": 2, "Athlete 2": 1}


def test_download_urls(s3_library: Library, media_dir, data_dir) -> None:
    rec = s3_library.uploads.ingest(media_dir.jpeg, "image", original_filename="Año nuevo.jpg")
    signed = s3_library.presigned_get(rec.id, expires_in=60)
    assert "X-Amz-Signature" in signed.url and "response-content-disposition" in signed.url
    with pytest.raises(InvalidInput):
        s3_library.presigned_get(rec.id, expires_in=0)
    public = Library(
        s3_library.settings.replace(r2_public_domain="https://cdn.example"),
        db_of(s3_library),
        storage_of(s3_library),
        presigner_of(s3_library),
    )
    pub = public.update_file(rec.id, {"is_public": True})
    assert public.download_url(pub.id) == f"https://cdn.example/{pub.storage_key}"


def test_change_events_are_published(library: Library, media_dir) -> None:
    seen: list[tuple[str, int | None]] = []
    unsubscribe = library.events.subscribe(lambda e: seen.append((e.kind, e.file_id)))
    rec = library.uploads.ingest(media_dir.png, "image")
    library.update_file(rec.id, {"description": "x"})
    library.trash(rec.id)
    library.restore(rec.id)
    library.delete_permanently(rec.id)
    unsubscribe()
    assert [k for k, _ in seen] == ["created", "updated", "trashed", "restored", "deleted"]
    assert {i for _, i in seen} == {rec.id}


def test_image_variant_is_cached(
    library: Library, media_dir, monkeypatch: pytest.MonkeyPatch
) -> None:
    import core.library

    made: list[int] = []
    real = core.library.make_variant

    def counting(source, width):  # type: ignore[no-untyped-def]
        made.append(width)
        return real(source, width)

    monkeypatch.setattr(core.library, "make_variant", counting)
    rec = library.uploads.ingest(media_dir.jpeg, "image")
    key, stat = library.variant(rec, 100)  # served from the ladder's rung 160
    assert key == keys.variant_key(rec.storage_key, 160) and storage_of(library).exists(key)
    stored = b"".join(storage_of(library).open_range(key, 0, None))
    assert stat.size == len(stored)
    with Image.open(io.BytesIO(stored)) as im:
        assert im.format == "WEBP" and im.size == (160, 120)
    again, stat2 = library.variant(rec, 150)
    assert key == again and stat.etag == stat2.etag
    assert made == [160]  # the second request is served from the store, not encoded again
    wide, _ = library.variant(rec, 4000)  # never enlarged: the original width is the variant
    assert wide == keys.variant_key(rec.storage_key, 640) and made == [160, 640]
    with pytest.raises(InvalidInput):
        library.variant(rec, 0)
