"""A photo's thumbnail made again (maintenance, `mediadesk reprocess --photos`, the Library's
reprocess) while a storage move copies the photo: the remake wrote it beside the original on
the old storage after the move had copied the old thumbnail, and before the move switched
the file; the row was marked of today's rendering (a new content tag) while the new storage
kept the old thumbnail, served under that tag for good once the old copies went."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from core import keys, storage_migration
from core.library import Library
from core.storage.factory import build_r2
from tests import media
from tests.conftest import make_s3_settings, make_settings
from tests.s3_server import S3Target

pytestmark = pytest.mark.timeout(60)


def test_a_thumbnail_remade_during_the_move_of_its_photo_is_the_one_moved(
    data_dir: Path, s3_bucket: S3Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib = Library.open(make_settings(data_dir, storage_backend="local"))
    try:
        record = lib.uploads.ingest(media.make_jpeg(tmp_path / "a.jpg"), "image")
        # the thumbnail of an older rendering: what the remake replaces
        local_thumb = data_dir / "objects" / keys.thumbnail_key(record.storage_key)
        old = media.make_webp(tmp_path / "old.webp", size=(20, 10)).read_bytes()
        local_thumb.write_bytes(old)
        real_copy = storage_migration._copy_video  # noqa: SLF001
        remakes: list[threading.Thread] = []

        def remade_meanwhile(*args: Any) -> list[str]:
            # called after the move copied the thumbnail, before its switch
            runner = threading.Thread(target=lib.thumbnail_remaker.remake, args=(record.id,))
            runner.start()
            remakes.append(runner)
            for _ in range(400):  # its thumbnail written on the local folder, still the file's
                if local_thumb.read_bytes() != old or not runner.is_alive():
                    break
                threading.Event().wait(0.02)
            assert local_thumb.read_bytes() != old
            return real_copy(*args)

        monkeypatch.setattr(storage_migration, "_copy_video", remade_meanwhile)
        bucket = build_r2(make_s3_settings(data_dir, s3_bucket))
        report = lib.backends.migrate("r2", bucket)
        assert report.complete, report
        for runner in remakes:
            runner.join(30)
        assert remakes and not remakes[0].is_alive()
        moved = b"".join(bucket.open_range(keys.thumbnail_key(record.storage_key), 0, None))
        assert moved != old  # the remade thumbnail is where its photo is now
        assert moved.startswith(b"RIFF")
    finally:
        lib.close()
