"""Desktop: the upload queue's files are owner-only whatever the umask.

`upload-queue.json` and `upload-queue.journal` name the user's local files and the resumable
uploads holding their bytes. Under a umask of 0000 they were written 0666: with the data folder
opened to nginx's group (core/fsmodes.py), that group could read them, and rewrite the queue to
pick the local files the app uploads at its next start.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from core.ingest import Ingestor  # noqa: E402
from core.library import Library  # noqa: E402
from desktop_app.controllers.upload_controller import UploadController  # noqa: E402
from desktop_app.models.upload_queue_model import UploadState  # noqa: E402
from desktop_app.upload_persistence import QueueJournal, journal_file, queue_file  # noqa: E402
from tests.media_fixtures import MediaSet  # noqa: E402
from tests.modes import mode, umask  # noqa: E402
from tests.qt_helpers import wait_for  # noqa: E402


@pytest.fixture
def open_umask() -> Iterator[None]:
    with umask(0):
        yield


@pytest.fixture
def held_ingest(monkeypatch: pytest.MonkeyPatch) -> tuple[threading.Event, threading.Event]:
    """(stored, release): the real ingest runs, then waits for `release`, so the row is still
    in the queue when it is saved."""
    stored, release = threading.Event(), threading.Event()
    original = Ingestor.ingest

    def ingest(self: Ingestor, *args: Any, **kwargs: Any) -> Any:
        record = original(self, *args, **kwargs)
        stored.set()
        release.wait(10)
        return record

    monkeypatch.setattr(Ingestor, "ingest", ingest)
    return stored, release


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
@pytest.mark.usefixtures("open_umask")
def test_the_upload_queue_and_its_journal_are_owner_only_under_an_open_umask(
    qtbot: Any,
    library: Library,
    media_dir: MediaSet,
    tmp_path: Path,
    held_ingest: tuple[threading.Event, threading.Event],
) -> None:
    stored, release = held_ingest
    saved = queue_file(library.paths.data_dir)
    photo = tmp_path / "Athlete Name - jump.jpg"
    shutil.copy(media_dir.jpeg, photo)
    controller = UploadController(library)
    wait_for(qtbot, lambda: not controller.busy)
    controller._save_timer.setInterval(60_000)  # only the saves this test asks for
    try:
        controller.add_paths([photo])
        wait_for(qtbot, stored.is_set)
        controller._save()  # the row, still running, is saved as queued
        wait_for(qtbot, saved.exists)
        assert mode(saved) == 0o600
        release.set()
        wait_for(qtbot, lambda: all(i.state == UploadState.DONE for i in controller.model.items()))
        # the row finished after the save: the journal says so until the next save
        wait_for(qtbot, journal_file(saved).exists, timeout=3000)
        assert mode(journal_file(saved)) == 0o600
    finally:
        release.set()
        controller.shutdown()
    assert mode(saved) == 0o600  # the save at close replaced it


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
@pytest.mark.usefixtures("open_umask")
def test_the_journal_appended_between_saves_is_owner_only(tmp_path: Path) -> None:
    """A row that finishes between two saves is appended to the journal (flush), which an
    older version may have left 0644: both come out 0600."""
    new = QueueJournal(journal_file(tmp_path / "new" / "upload-queue.json"))
    new.record("a", state="done", file_id=1)
    new.flush()
    assert mode(new.path) == 0o600
    old = QueueJournal(journal_file(tmp_path / "upload-queue.json"))
    old.path.write_text('{"seq": 1, "key": "b", "upload_id": "u-b"}\n')
    old.path.chmod(0o644)
    old.record("b", state="done", file_id=2)
    old.flush()
    assert mode(old.path) == 0o600
    assert len(old.path.read_text().splitlines()) == 2
