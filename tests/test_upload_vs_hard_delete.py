"""An upload of a file's bytes while that file is deleted for good: the upload keeps its bytes.

A direct upload (POST /files/upload/direct, the desktop's and CLI's import through
`Ingestor.ingest`) first looks for a file of the same bytes for the same athlete (the
duplicate rule, core/ingest.py `_same_bytes`) and answers that file. When a hard delete of
that file lands between the look and the answer, the file it found is gone: README says the
upload then ends with a new file keeping the bytes (201). Before, it answered
404 "File X not found" and threw the uploaded bytes away.

No timing luck: the hard delete runs from a hook on `Ingestor._repair_if_broken`, the step
between the look and the answer, before it (the repair sees no row naming the object) or
after it (the object was checked whole, then goes). Real HTTP over loopback on local storage
and moto's S3 server, and the library's own ingest as the desktop calls it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest

from core.errors import NotFound
from core.ingest import Ingestor
from core.library import Library
from core.records import FileRecord, FileStatus
from server.entry import EmbeddedServer
from tests.conftest import make_settings
from tests.server_fixtures import bearer, http_call, make_tokens, multipart_body

pytestmark = pytest.mark.timeout(120)
WHEN = ["before_the_repair_check", "after_the_repair_check"]


@pytest.fixture(params=["local", "s3"])
def server(request: pytest.FixtureRequest) -> Iterator[EmbeddedServer]:
    yield request.getfixturevalue("live" if request.param == "local" else "s3_live")


def delete_between_look_and_answer(
    monkeypatch: pytest.MonkeyPatch, lib: Library, when: str
) -> list[int]:
    """Hard-deletes the duplicate an ingest found, once, at `when`; the ids deleted."""
    original = Ingestor._repair_if_broken
    deleted: list[int] = []

    def hooked(self: Ingestor, same: Any, *args: Any, **kwargs: Any) -> None:
        def delete() -> None:
            if not deleted:
                deleted.append(same.file_id)
                lib.delete(same.file_id, hard=True)

        if when == WHEN[0]:
            delete()
        original(self, same, *args, **kwargs)
        if when == WHEN[1]:
            delete()

    monkeypatch.setattr(Ingestor, "_repair_if_broken", hooked)
    return deleted


def check_kept(lib: Library, file_id: int, gone: int, data: bytes) -> None:
    """The new file is ready, its object holds the uploaded bytes, the deleted file is gone."""
    record = lib.get_file(file_id)
    assert record.status == FileStatus.READY and not record.duplicate
    assert lib.open_object(record.storage_key, record).read_all() == data
    with pytest.raises(NotFound):
        lib.get_file(gone)


@pytest.mark.parametrize("when", WHEN)
def test_a_direct_upload_racing_a_hard_delete_of_its_duplicate_is_a_new_file(
    server: EmbeddedServer, media_dir: Any, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    lib = server.library
    tokens = make_tokens(lib)
    data = media_dir.jpeg.read_bytes()

    def direct() -> Any:
        body, ctype = multipart_body(
            {"file_type": "image", "athlete_id": "7"}, {"file": ("p.jpg", data, "image/jpeg")}
        )
        headers = {"Content-Type": ctype, **bearer(tokens.upload)}
        return http_call(f"{server.url}/files/upload/direct", "POST", body, headers)

    first = direct()
    assert first.status == 201, first.body
    x = first.json()["id"]
    deleted = delete_between_look_and_answer(monkeypatch, lib, when)

    reply = direct()

    assert deleted == [x]
    assert reply.status == 201, reply.body
    body = reply.json()
    assert body["id"] != x and not body["duplicate"] and body["status"] == "ready"
    check_kept(lib, body["id"], x, data)
    # and served: the download's link gives the uploaded bytes
    h = bearer(tokens.read)
    assert http_call(f"{server.url}/files/{x}", headers=h).status == 404
    down = http_call(f"{server.url}/files/{body['id']}/download", headers=h)
    assert down.status == 302, down.body
    fetched = http_call(urljoin(server.url + "/", down.headers["Location"]))
    assert fetched.status == 200 and fetched.body == data


@pytest.mark.parametrize("when", WHEN)
def test_an_import_racing_a_hard_delete_of_its_duplicate_is_a_new_file(
    any_library: Library, media_dir: Any, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    lib = any_library

    def ingest() -> FileRecord:
        return lib.uploads.ingest(media_dir.jpeg, "image", athlete_id=7)

    x = ingest().id
    deleted = delete_between_look_and_answer(monkeypatch, lib, when)

    record = ingest()

    assert deleted == [x]
    assert record.id != x and not record.duplicate
    check_kept(lib, record.id, x, data=media_dir.jpeg.read_bytes())


def test_a_file_recorded_and_deleted_by_another_process_meanwhile_leaves_the_upload_its_own(
    tmp_path: Path, media_dir: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The later window: nothing of these bytes at the first look, so the upload stores them;
    another process (a library with locks of its own on the same catalog) records the same
    bytes before the upload's row, which the transaction then finds a duplicate of, and
    deletes that file for good before the upload answers it. The upload's stored copy is
    recorded after all (before: 404 and the copy deleted)."""
    data_dir = tmp_path / "team"
    data_dir.mkdir()
    ours, theirs = (Library.open(make_settings(data_dir)) for _ in range(2))
    try:
        original = Ingestor._insert_ready
        other: list[int] = []

        def hooked(self: Ingestor, new: Any, *args: Any, **kwargs: Any) -> Any:
            if self is not ours.uploads or other:
                return original(self, new, *args, **kwargs)
            other.append(theirs.uploads.ingest(media_dir.jpeg, "image", athlete_id=7).id)
            placed = original(self, new, *args, **kwargs)
            theirs.delete(other[0], hard=True)
            return placed

        monkeypatch.setattr(Ingestor, "_insert_ready", hooked)
        record = ours.uploads.ingest(media_dir.jpeg, "image", athlete_id=7)

        assert len(other) == 1 and record.id != other[0] and not record.duplicate
        check_kept(ours, record.id, other[0], media_dir.jpeg.read_bytes())
        assert ours.deferred.pending_keys() == set()  # its copy's noted deletion went too
    finally:
        for lib in (ours, theirs):
            lib.close()
