"""A local file whose name holds a backslash (`back\\slash.jpg`, a valid name on Linux and
macOS) was stored as `slash.jpg` by the desktop's import: core.filenames.clean_filename reads a
backslash as a folder separator, rightly for names a Windows browser sends. The import now
hands the name on with U+2216 (∖) in its place. Real files of that name, the real upload queue
and library, a plain ingest and a resumable one."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

pytest.importorskip("PySide6.QtCore")

from core.library import Library  # noqa: E402
from core.settings import Settings  # noqa: E402
from desktop_app.controllers.upload_controller import UploadController  # noqa: E402
from desktop_app.models.upload_queue_model import UploadState  # noqa: E402
from tests.qt_helpers import wait_for  # noqa: E402

STORED = "back\u2216slash.jpg"


def _photo(folder: Path, size: tuple[int, int]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "back\\slash.jpg"
    # noise: a JPEG of this size that does not compress to nothing
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(path, quality=95)
    assert path.name == "back\\slash.jpg" and path.parent == folder  # one file, not a folder
    return path


def _import(qtbot: Any, library: Library, photo: Path) -> list[str]:
    controller = UploadController(library, max_parallel=1, persist=False)
    try:
        controller.add_paths([photo])
        wait_for(qtbot, lambda: [i.state for i in controller.model.items()] == [UploadState.DONE])
        (row,) = controller.model.items()
        assert row.name == "back\\slash.jpg"  # the queue shows the local file as it is named
    finally:
        controller.shutdown()
    return [r.original_filename for r in library.list_files().items]


def test_a_backslash_in_a_local_name_is_kept_visible(
    qtbot: Any, library: Library, tmp_path: Path
) -> None:
    photo = _photo(tmp_path / "photos", (64, 48))
    assert photo.stat().st_size < library.settings.resumable_threshold
    assert _import(qtbot, library, photo) == [STORED]


def test_the_same_in_a_resumable_upload(qtbot: Any, settings: Settings, tmp_path: Path) -> None:
    library = Library.open(settings.replace(resumable_threshold=64 * 1024))
    try:
        photo = _photo(tmp_path / "photos", (256, 256))
        assert photo.stat().st_size > library.settings.resumable_threshold
        assert _import(qtbot, library, photo) == [STORED]
    finally:
        library.close()
