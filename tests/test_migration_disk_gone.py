"""A move of the files to another storage that meets the disk holding the library pulled out
(catalog_disk_unreachable, an outage that passes) reports "run the move again", not the
storage refusing the move (a set-up fault to fix in the settings)."""

from __future__ import annotations

from typing import Any

import pytest

from core.errors import catalog_disk_down
from core.library import Library
from core.settings import Settings
from tests.internals import storage_of
from tests.media_fixtures import MediaSet


def test_a_pulled_disk_mid_move_is_to_run_again_not_refused(
    s3_settings: Settings, media_dir: MediaSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib = Library.open(s3_settings.replace(storage_backend="local"))
    try:
        record = lib.uploads.ingest(media_dir.jpeg, "image")
        target = storage_of(lib).backend("r2")  # type: ignore[attr-defined]

        def gone(*_args: Any, **_kwargs: Any) -> Any:
            raise catalog_disk_down("/media/usb/mediadesk")

        for name in ("put_file", "put_stream", "put_bytes"):
            monkeypatch.setattr(target, name, gone)
        report = lib.backends.migrate("r2")
        assert [(f.file_id, f.code) for f in report.failed] == [(record.id, "storage_unavailable")]
        error = report.failed[0].error
        assert error == (
            "The disk holding the library cannot be read or written (unplugged, or the network "
            "share is gone); connect it again and run the move again"
        ), error
    finally:
        lib.close()
