"""Desktop: the disk holding the library pulled out in the middle of an import (a USB disk, a
network share gone) pauses the queued rows, which go on by themselves once it is back; they
all went to Failed at once, each to be retried by hand.

The fault is SQLite's own exception (SQLITE_IOERR_READ) raised by the real engine, as in
tests/test_catalog_disk_gone.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from core.library import Library
from desktop_app.controllers import upload_controller
from desktop_app.controllers.upload_controller import UploadController
from desktop_app.i18n import install_translations
from desktop_app.models.upload_queue_model import UploadState
from tests.internals import db_of
from tests.qt_helpers import wait_for
from tests.test_catalog_disk_gone import DiskGone, english  # noqa: F401  (a fixture)

SAID = (
    "The disk holding the library (%1) cannot be read or written: it was unplugged, or the "
    "network share is gone. Connect it again; the upload goes on by itself."
)


def test_rows_wait_for_a_pulled_disk_and_finish_once_it_is_back(
    qtbot: Any,
    library: Library,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    english: None,  # noqa: F811
) -> None:
    monkeypatch.setattr(upload_controller, "RETRY_FIRST", 200)
    photos = []
    for i in range(6):
        path = tmp_path / f"p{i}.jpg"
        Image.new("RGB", (64, 48), (i * 40, 20, 30)).save(path)
        photos.append(path)
    disk = DiskGone(db_of(library), monkeypatch)
    library.list_files()  # a connection is open when the disk goes
    disk.go()
    controller = UploadController(library, max_parallel=2, persist=False)
    try:
        controller.add_paths(photos)
        wait_for(
            qtbot,
            lambda: (
                len(controller.model.items()) == 6
                and all(
                    i.state in (UploadState.PAUSED, UploadState.FAILED)
                    for i in controller.model.items()
                )
            ),
            timeout=20000,
        )
        rows = controller.model.items()
        assert [i.state for i in rows] == [UploadState.PAUSED] * 6, [
            (i.state, i.reason) for i in rows
        ]
        folder = str(Path(db_of(library).engine.url.database or "").parent)
        assert rows[0].reason == SAID.replace("%1", folder), rows[0].reason
        assert controller.model.state_text(rows[0]).startswith("Paused: ")
        install_translations("es")
        spanish = controller.tr(SAID)
        install_translations("en")
        assert spanish.startswith("No se puede leer") and "sigue sola" in spanish, spanish
        disk.come_back()
        wait_for(
            qtbot,
            lambda: all(i.state == UploadState.DONE for i in controller.model.items()),
            timeout=30000,
        )
        assert sorted(r.original_filename for r in library.list_files().items) == [
            p.name for p in photos
        ]
    finally:
        controller.shutdown()
