"""Files whose names fill most of a file system's 255 bytes (80 accented Spanish letters, or
CJK at three bytes a character) on the local folder.

The catalog keeps the name as given; no name the storage writes on disk may pass 255 bytes.
The local storage wrote every copy under `.{name}.own-{token}.{uuid}.part` first, 60 bytes
more than the name: the desktop's Export, whose save dialog proposes the name cut to 240 bytes
(and the folder export's 200, core.filenames.disk_name), failed with "File name too long"
(ENAMETOOLONG) before a byte was written. Uploads (direct, tus, presigned), thumbnails and a
storage migration never put the name on disk (keys are random), which this keeps proven."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from core import partials
from core.filenames import disk_name, fit_bytes, numbered_name
from core.library import Library
from core.storage.local import LocalStorage, is_temp_name
from core.storage.s3 import S3Storage
from server.entry import EmbeddedServer
from tests.media import make_jpeg
from tests.name_helpers import by_presign, by_tus, direct
from tests.s3_server import S3Target
from tests.server_fixtures import Tokens

pytestmark = pytest.mark.timeout(120)

NAME_MAX = 255
SPANISH = ("ÁéÍóÚñÑü" * 13)[:100] + ".jpg"  # 100 accented letters, 204 bytes
CJK = "运动员训练视频比赛记录" * 8 + ".jpg"  # 88 characters, 268 bytes
SPANISH_255 = fit_bytes("ñ" * 200 + ".jpg", NAME_MAX)
NAMES = [SPANISH, CJK, SPANISH_255]
IDS = ["spanish-100", "cjk-88", "spanish-255-bytes"]


def test_the_names_are_long() -> None:
    assert len(SPANISH.encode()) == 204
    assert len(CJK.encode()) > NAME_MAX
    assert len(SPANISH_255.encode()) == NAME_MAX - 1  # two-byte letters: 254 is the most


@pytest.mark.parametrize("name", NAMES, ids=IDS)
def test_a_temporary_name_stays_within_255_bytes(tmp_path: Path, name: str) -> None:
    store = LocalStorage(tmp_path / "objects", tmp_path / "tmp")
    temp = store._temp_name(name)  # noqa: SLF001 - the rule under test
    assert len(temp.encode()) <= NAME_MAX
    assert is_temp_name(temp)
    assert partials.owner_of(temp) == partials.tag().removeprefix("own-")


@pytest.mark.parametrize("name", NAMES, ids=IDS)
def test_every_way_in_keeps_a_long_name(
    live: EmbeddedServer, tokens: Tokens, library: Library, tmp_path: Path, name: str
) -> None:
    answers = {
        way: send(
            live.url,
            tokens.upload,
            name,
            make_jpeg(tmp_path / f"{way}.jpg", size=(40 + n, 30)).read_bytes(),
        )
        for n, (way, send) in enumerate(
            (("direct", direct), ("tus", by_tus), ("presign", by_presign))
        )
    }
    for way, answer in answers.items():
        assert answer["original_filename"] == name, way
        record = library.get_file(answer["id"])
        assert record.original_filename == name
        assert library.thumbnail_bytes(record.id)[:4] == b"RIFF"


@pytest.mark.parametrize("name", NAMES, ids=IDS)
@pytest.mark.parametrize("lib_name", ["library", "s3_library"])
def test_a_long_named_file_exports_under_the_names_the_desktop_gives(
    request: pytest.FixtureRequest, tmp_path: Path, lib_name: str, name: str
) -> None:
    """The single Export's proposal (fit_bytes 240, desktop_app/views/main_window.py), the
    folder export's names (disk_name, numbered_name), and a name of the full 255 bytes."""
    lib: Library = request.getfixturevalue(lib_name)
    source = make_jpeg(tmp_path / "source.jpg", size=(64, 48))
    record = lib.uploads.ingest(source, "image", original_filename=name)
    assert record.original_filename == name
    out = tmp_path / "out"
    out.mkdir()
    expected = hashlib.sha256(source.read_bytes()).hexdigest()
    for target in {
        fit_bytes(name, 240),
        disk_name(name),
        numbered_name(disk_name(name), 12345),
        fit_bytes(name, NAME_MAX),
    }:
        assert len(target.encode()) <= NAME_MAX
        written = lib.export(record.id, out / target)
        assert hashlib.sha256(written.read_bytes()).hexdigest() == expected
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == []


@pytest.mark.parametrize("name", [SPANISH, CJK], ids=IDS[:2])
def test_a_long_named_file_moves_to_the_bucket_and_back(
    library: Library, s3_bucket: S3Target, tmp_path: Path, name: str
) -> None:
    record = library.uploads.ingest(
        make_jpeg(tmp_path / "m.jpg", size=(64, 48)), "image", original_filename=name
    )
    bucket = S3Storage(
        bucket=s3_bucket.bucket,
        endpoint_url=s3_bucket.endpoint_url,
        access_key_id=s3_bucket.access_key_id,
        secret_access_key=s3_bucket.secret_access_key,
        region=s3_bucket.region,
    )
    there = library.backends.migrate("r2", bucket)
    assert (there.moved, there.failed) == (1, [])
    back = library.backends.migrate("local")
    assert (back.moved, back.failed) == (1, [])
    assert library.get_file(record.id).original_filename == name
    assert library.read_object(record.storage_key) == (tmp_path / "m.jpg").read_bytes()


@pytest.mark.parametrize("lib_name", ["library", "s3_library"])
def test_an_export_to_a_name_over_255_bytes_is_cut_to_fit(
    request: pytest.FixtureRequest, tmp_path: Path, lib_name: str
) -> None:
    """A destination named in full (the CJK name's 268 bytes, as a script or a dialog that
    does not cut it gives it): written under the name cut to 255 bytes, extension kept, and
    the path written is the one returned (the desktop says "Exported to" it)."""
    lib: Library = request.getfixturevalue(lib_name)
    source = make_jpeg(tmp_path / "source.jpg", size=(64, 48))
    record = lib.uploads.ingest(source, "image", original_filename=CJK)
    assert lib.get_file(record.id).original_filename == CJK
    written = lib.export(record.id, tmp_path / CJK)
    assert written.parent == tmp_path
    assert written.name == fit_bytes(CJK, NAME_MAX)
    assert written.name.endswith(".jpg") and len(written.name.encode()) <= NAME_MAX
    assert written.read_bytes() == source.read_bytes()
