"""Desktop: local files whose name is not UTF-8 (an old USB stick's or share's b"Pe\\xf1a.jpg").

Python hands such a name over with each byte UTF-8 cannot read as a lone surrogate
("Pe\\udcf1a.jpg"). A dropped folder holding one broke the upload queue: every save failed
('utf-8' codec can't encode character '\\udcf1'), leaving an empty .upload-queue.json.tmp and the
old queue (the folder still to read at every start), and closing the app raised in closeEvent
("Something unexpected went wrong"). Such a file dragged alone failed as "…/Jos\\ufffd.jpg does
not exist": Qt read the drop's %E9 as UTF-8. Its name is read as the Latin-1 (cp1252) it was
written in, as the CLI reads it (core.filenames.readable_name). Real files with such names on
disk, the real window.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote_from_bytes

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import Qt, QUrl  # noqa: E402

from core.library import Library  # noqa: E402
from desktop_app.controllers.upload_controller import UploadController  # noqa: E402
from desktop_app.errors import error_record  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from desktop_app.models.upload_queue_model import UploadState  # noqa: E402
from desktop_app.upload_persistence import (  # noqa: E402
    WALK,
    QueueJournal,
    SavedRow,
    checkpoint,
    journal_file,
    load_queue,
    new_key,
    queue_file,
)
from desktop_app.views.main_window import MainWindow  # noqa: E402
from tests.media_fixtures import MediaSet  # noqa: E402
from tests.qt_helpers import shown_window, wait_for  # noqa: E402
from tests.test_desktop_drop_sources import finished_rows, send_drop, uri_list  # noqa: E402


@pytest.fixture
def english(qapp: Any) -> Iterator[None]:
    install_translations("en")
    yield
    install_translations("en")


def on_disk(folder: Path, name: bytes, content: bytes) -> Path:
    """A file named with these bytes, as os.walk hands it over (surrogate escapes)."""
    target = os.path.join(os.fsencode(folder), name)
    try:
        with open(target, "wb") as fh:
            fh.write(content)
    except OSError as exc:  # a file system that keeps names in Unicode (APFS, NTFS)
        pytest.skip(f"this file system refuses a name that is not UTF-8: {exc}")
    return Path(os.fsdecode(target))


def test_the_saved_queue_keeps_a_name_that_is_not_utf8(tmp_path: Path) -> None:
    folder = tmp_path / "old stick"
    folder.mkdir()
    notes = on_disk(folder, b"Pe\xf1a notes.jpg", b"not an image\n")
    assert "\udcf1" in notes.name
    with pytest.raises(OSError) as failure:  # the system's own, naming the file by its bytes
        (folder / os.fsdecode(b"Jos\xe9.jpg")).read_bytes()
    missing = failure.value
    saved = queue_file(tmp_path / "data")
    rows = [
        SavedRow(str(notes), 13, state="failed", key=new_key(), reason=f"{notes} is no image"),
        SavedRow(
            str(folder / "gone"), 0, state="failed", key=new_key(), error=error_record(missing)
        ),
        SavedRow(str(folder), 0, 3, WALK, key=new_key(), queued_at=1.5),
    ]
    checkpoint(saved, QueueJournal(journal_file(saved)), rows, 0)
    back = load_queue(saved)
    assert back == rows  # every character as it was, the failure's record too
    assert os.fsencode(back[0].path) == os.fsencode(folder) + b"/Pe\xf1a notes.jpg"
    assert Path(back[0].path).is_file()  # the row names the file it named
    json.loads(saved.read_bytes().decode("utf-8"))  # the file stays UTF-8 JSON
    assert sorted(p.name for p in saved.parent.iterdir()) == ["upload-queue.json"]

    # a queue an earlier version wrote (UTF-8, names as they read) reads as ever
    old = {"version": 2, "rows": [{"path": str(folder / "José.jpg"), "size": 5, "key": "k1"}]}
    saved.write_text(json.dumps(old, ensure_ascii=False), encoding="utf-8")
    assert [row.path for row in load_queue(saved)] == [str(folder / "José.jpg")]


def test_a_save_that_fails_leaves_no_temporary_file(tmp_path: Path) -> None:
    saved = queue_file(tmp_path / "data")
    (saved / "in the way").mkdir(parents=True)  # a folder where the queue goes: rename fails
    with pytest.raises(OSError) as failed:
        checkpoint(saved, QueueJournal(journal_file(saved)), [SavedRow("/a.jpg", 1)], 0)
    assert failed.value.errno in (errno.EISDIR, errno.ENOTEMPTY, errno.EEXIST, errno.EACCES)
    assert sorted(p.name for p in saved.parent.iterdir()) == ["upload-queue.json"]


def test_a_dropped_folder_with_such_names_uploads_is_saved_and_the_app_closes(
    qtbot: Any, library: Library, media_dir: MediaSet, tmp_path: Path, english: None
) -> None:
    folder = tmp_path / "old stick"
    folder.mkdir()
    photo = on_disk(folder, b"Pe\xf1a.jpg", media_dir.jpeg.read_bytes())
    notes = on_disk(folder, b"Pe\xf1a notes.jpg", b"not an image\n")
    saved = queue_file(library.paths.data_dir)
    window = MainWindow(library)
    qtbot.addWidget(window)
    window.show()
    wait_for(qtbot, lambda: not window.uploads.busy)
    enter, drop = send_drop(window, uri_list(QUrl.fromLocalFile(str(folder)).toString()))
    assert enter.isAccepted() and drop.isAccepted()
    model = window.uploads.model
    wait_for(
        qtbot,
        lambda: (
            not window.uploads.busy
            and {(i.path, i.state) for i in model.items()}
            == {(photo, UploadState.DONE), (notes, UploadState.FAILED)}
        ),
    )
    assert [r.original_filename for r in library.list_files().items] == ["Peña.jpg"]
    assert sorted(i.name for i in model.items()) == ["Peña notes.jpg", "Peña.jpg"]
    # saved while the app runs: the failed row, the folder read (no longer to read again)
    wait_for(
        qtbot, lambda: [(r.path, r.state) for r in load_queue(saved)] == [(str(notes), "failed")]
    )

    window.close()  # closeEvent raised UnicodeEncodeError (pytest-qt fails the test on it)
    assert not window.isVisible()
    assert [(r.path, r.state) for r in load_queue(saved)] == [(str(notes), "failed")]
    assert sorted(p.name for p in saved.parent.iterdir() if "queue" in p.name) == [
        "upload-queue.json"
    ]

    again = UploadController(library)  # the next start
    try:
        wait_for(qtbot, lambda: not again.busy and again.model.rowCount() == 1)
        (row,) = again.model.items()
        assert row.state == UploadState.FAILED and row.path == notes and row.path.is_file()
    finally:
        again.shutdown()


def test_a_file_dragged_alone_uploads_under_its_name_read_as_latin1(
    qtbot: Any, library: Library, media_dir: MediaSet, tmp_path: Path, english: None
) -> None:
    folder = tmp_path / "Fútbol"  # a folder named in UTF-8 holding a name in Latin-1
    folder.mkdir()
    photo = on_disk(folder, b"Jos\xe9 latin1.jpg", media_dir.jpeg.read_bytes())
    # as a GTK file manager writes it (g_filename_to_uri): the name's bytes %-escaped
    url = "file://" + quote_from_bytes(os.fsencode(photo))
    assert url.endswith("/F%C3%BAtbol/Jos%E9%20latin1.jpg")
    gone = url.replace("latin1", "gone")  # dragged, then deleted before it was read
    with shown_window(qtbot, library) as window:
        enter, drop = send_drop(window, uri_list(url, gone))
        assert enter.isAccepted() and drop.isAccepted()
        assert finished_rows(qtbot, window, 2) == {
            "José latin1.jpg": UploadState.DONE,
            "José gone.jpg": UploadState.FAILED,
        }
        model = window.uploads.model
        sent, failed = model.items()
        assert sent.path == photo and sent.size == photo.stat().st_size
        tip = model.index(0, model.NAME).data(Qt.ItemDataRole.ToolTipRole)
        assert tip.startswith(f"{folder}/José latin1.jpg\n"), tip
        assert failed.reason == f"{folder}/José gone.jpg does not exist.", failed.reason
    assert [r.original_filename for r in library.list_files().items] == ["José latin1.jpg"]
