"""A file edited, grown or cut while the desktop sends it in parts (ResumableUploads.send_file)
is never stored as a mix of its versions.

An outside tester overwrote 1 MiB already sent and 1 MiB not yet sent of a clip while it
uploaded: it was catalogued ready, on local storage and on R2 alike, with a SHA-256 of neither
version (the bytes sent before the edit and those read after it). send_file compared the
file's fingerprint only when it started, and a file that grew failed with the tus wording
"The chunk goes past Upload-Length". Now the upload the change spoilt is dropped and the file
sent again, once, as its new version; a file that keeps changing fails with Conflict
source_changed and nothing stored. Real files changed between parts, on local storage and on
S3 (moto), with the smallest part size the settings allow.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from core import ingest
from core.errors import SOURCE_CHANGED, Conflict, NotFound
from core.library import Library
from core.settings import MIN_PART_SIZE, Settings
from tests.conftest import make_settings
from tests.internals import storage_of
from tests.resumable_client import padded_mp4
from tests.s3_server import S3Target, s3_client

MiB = 1024 * 1024
SIZE = 12 * MiB  # parts of 5, 5 and 2 MiB on S3
EDIT_AT = 5 * MiB  # bytes sent when the file is changed: the first part is in the store


@pytest.fixture(params=["local", "s3"])
def lib(request: pytest.FixtureRequest, data_dir: Path) -> Iterator[Library]:
    if request.param == "s3":
        settings: Settings = request.getfixturevalue("s3_settings")
        settings = settings.replace(upload_part_size=MIN_PART_SIZE)
    else:
        settings = make_settings(data_dir)
    library = Library.open(settings)
    yield library
    library.close()


def clip(tmp_path: Path) -> Path:
    """A valid MP4 of SIZE bytes (padding past its first MiB), last written a while ago (an
    edit a moment after the file was made could fall in the same tick of the file system's
    clock, and its mtime not move)."""
    path = padded_mp4(tmp_path / "match.mp4", SIZE)
    before = time.time_ns() - 60 * 10**9
    os.utime(path, ns=(before, before))
    return path


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def overwrite(path: Path) -> None:
    """An edit in place: 256 KiB already sent (at 1 MiB) and 256 KiB not yet read (at 9 MiB),
    in the MP4's padding, so the new version is a valid clip too."""
    with open(path, "r+b") as fh:
        for offset in (1 * MiB, 9 * MiB):
            fh.seek(offset)
            fh.write(os.urandom(256 * 1024))


def grow(path: Path) -> None:
    """A recording or a copy still being written: 1 MiB more at its end (an MP4 box, so the
    new version is a valid clip too)."""
    with open(path, "ab") as fh:
        fh.write(MiB.to_bytes(4, "big") + b"free" + os.urandom(MiB - 8))


def changing(path: Path, change: Callable[[Path], None], times: int) -> Any:
    """send_file's progress callback: changes the file once EDIT_AT bytes are sent, in each of
    its first `times` tries (each try starts with a report of 0 bytes)."""
    left = {"tries": times, "armed": 0}

    def progress(stage: str, done: int, _total: int) -> None:
        if done == 0:
            left["armed"] = 1
        elif stage == "uploading" and done >= EDIT_AT and left["armed"] and left["tries"]:
            left["armed"], left["tries"] = 0, left["tries"] - 1
            change(path)

    return progress


def stored_bytes(lib: Library, key: str) -> bytes:
    return b"".join(storage_of(lib).open_range(key))


def nothing_left(lib: Library, upload_ids: list[str], s3_bucket: S3Target | None) -> None:
    """The dropped uploads are gone: their rows, their local bytes, their parts in the bucket."""
    for upload_id in upload_ids:
        with pytest.raises(NotFound):
            lib.resumable.get(upload_id)
    assert not [p for p in lib.resumable.folder.iterdir() if p.is_file()]
    if s3_bucket is not None:
        client = s3_client(s3_bucket)
        assert not client.list_multipart_uploads(Bucket=s3_bucket.bucket).get("Uploads")


def bucket_of(request: pytest.FixtureRequest, lib: Library) -> S3Target | None:
    if lib.settings.r2_bucket_name:
        target: S3Target = request.getfixturevalue("s3_bucket")
        return target
    return None


@pytest.mark.parametrize("change", [overwrite, grow], ids=["edited", "grew"])
def test_a_file_changed_while_it_uploads_is_sent_again_as_its_new_version(
    request: pytest.FixtureRequest, lib: Library, tmp_path: Path, change: Callable[[Path], None]
) -> None:
    source = clip(tmp_path)
    before = sha(source.read_bytes())
    created: list[str] = []
    record = lib.resumable.send_file(
        source, "video", progress=changing(source, change, times=1), on_created=created.append
    )
    after = source.read_bytes()
    assert sha(after) != before
    # Before: catalogued ready with a hash of neither version (edited), or refused with
    # "The chunk goes past Upload-Length (12582912 bytes)" (grew)
    assert record.sha256 == sha(after), "not the whole new version"
    assert record.status == "ready" and record.size == len(after)
    assert stored_bytes(lib, record.storage_key) == after
    assert lib.counts()["all"] == 1
    # the upload the change spoilt was dropped; the caller heard of the new one
    assert len(created) == 2
    nothing_left(lib, created[:1], bucket_of(request, lib))


@pytest.mark.parametrize(
    ("change", "how"), [(overwrite, "changed"), (grow, "grew")], ids=["edited", "grew"]
)
def test_a_file_that_keeps_changing_fails_and_nothing_is_stored(
    request: pytest.FixtureRequest,
    lib: Library,
    tmp_path: Path,
    change: Callable[[Path], None],
    how: str,
) -> None:
    source = clip(tmp_path)
    created: list[str] = []
    with pytest.raises(Conflict) as caught:
        lib.resumable.send_file(
            source, "video", progress=changing(source, change, times=2), on_created=created.append
        )
    assert caught.value.reason == SOURCE_CHANGED
    assert caught.value.details == {"path": str(source), "how": how}
    assert lib.counts()["all"] == 0
    assert len(created) == 2
    nothing_left(lib, created, bucket_of(request, lib))


def test_a_file_edited_while_its_local_copy_is_checked_is_catalogued_as_the_bytes_sent(
    s3_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On R2/S3 the whole file is checked (hashed, validated) from the local file rather than
    downloaded from the bucket: edited in the middle of that, its hash was of bytes the bucket
    does not hold. The object (the version sent) is checked instead."""
    lib = Library.open(s3_settings.replace(upload_part_size=MIN_PART_SIZE))
    try:
        source = clip(tmp_path)
        sent = source.read_bytes()
        real = ingest.hash_file
        edits: list[Path] = []

        def hashing_while_edited(
            path: Path, progress: Callable[[int], None] | None = None, *args: Any
        ) -> tuple[int, str]:
            if Path(path) != source:
                return real(path, progress, *args)
            read = [0]

            def on_bytes(n: int) -> None:
                read[0] += n
                if read[0] >= EDIT_AT and not edits:
                    edits.append(source)
                    overwrite(source)  # halfway through its hash
                if progress is not None:
                    progress(n)

            return real(path, on_bytes, *args)

        monkeypatch.setattr(ingest, "hash_file", hashing_while_edited)
        record = lib.resumable.send_file(source, "video")
        assert edits, "the local copy was not checked"
        assert sha(source.read_bytes()) != sha(sent)
        stored = stored_bytes(lib, record.storage_key)
        assert stored == sent
        assert record.sha256 == sha(sent)  # before: the edited file's hash, not the object's
    finally:
        lib.close()
