"""A row paused while it waits for a worker and resumed before that first attempt reaches one:
the first attempt, stopped at its start, must not say anything of the row, which goes on with
the second. Its "stopped" made the row Cancelled (or Paused) while the second sent it."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from core.errors import NotFound, UploadGone  # noqa: E402
from core.ingest import Ingestor  # noqa: E402
from core.library import Library  # noqa: E402
from core.resumable import ResumableUploads  # noqa: E402
from desktop_app.controllers.upload_controller import UploadController  # noqa: E402
from desktop_app.models.upload_queue_model import UploadState  # noqa: E402
from tests.conftest import make_settings  # noqa: E402
from tests.media import make_jpeg  # noqa: E402
from tests.qt_helpers import wait_for  # noqa: E402
from tests.resumable_client import padded_mp4  # noqa: E402

MiB = 1024 * 1024


def test_a_row_paused_and_resumed_before_its_worker_began_goes_on(
    qtbot: Any, library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started, release = threading.Event(), threading.Event()
    original = Ingestor.ingest

    def ingest(self: Ingestor, *args: Any, **kwargs: Any) -> Any:
        if not started.is_set():  # the first file holds the only worker
            started.set()
            release.wait(10)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Ingestor, "ingest", ingest)
    first = make_jpeg(tmp_path / "first.jpg", (32, 24), color=(200, 0, 0))
    second = make_jpeg(tmp_path / "second.jpg", (32, 24), color=(0, 200, 0))
    controller = UploadController(library, max_parallel=1, persist=False)
    model = controller.model
    try:
        controller.add_paths([first, second])
        wait_for(qtbot, lambda: len(model.items()) == 2 and started.is_set())
        row = model.items()[1].id
        seen: list[UploadState] = []
        model.stateChanged.connect(
            lambda item_id, _state: (
                seen.append(model.item(item_id).state) if item_id == row else None
            )
        )
        controller.pause(row)
        assert model.item(row).state == UploadState.PAUSED
        controller.resume(row)  # the first attempt still waits for the worker
        assert model.item(row).state == UploadState.QUEUED
        seen.clear()
        release.set()
        wait_for(qtbot, lambda: not controller.busy)
        assert model.item(row).state == UploadState.DONE
        assert UploadState.CANCELLED not in seen and UploadState.PAUSED not in seen, seen
    finally:
        release.set()
        controller.shutdown()


def test_an_upload_in_parts_a_superseded_attempt_made_is_dropped(
    qtbot: Any, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A big row's attempt that began before the window heard of it (the row still read Queued)
    is paused and resumed: the second attempt sends the file in an upload of its own, and the
    first one's upload, which no longer spoke for the row, was left with its bytes here (and
    its multipart upload in the bucket) until the day-old sweep."""
    made: list[str] = []
    held, release = threading.Event(), threading.Event()
    original = ResumableUploads.create

    def create(self: ResumableUploads, *args: Any, **kwargs: Any) -> Any:
        state = original(self, *args, **kwargs)
        made.append(state.id)
        if len(made) == 1:  # the first attempt, made before its row read anything but Queued
            held.set()
            release.wait(10)
        return state

    monkeypatch.setattr(ResumableUploads, "create", create)
    lib = Library.open(make_settings(data_dir, resumable_threshold=MiB))
    recording = padded_mp4(tmp_path / "match.mp4", 2 * MiB)
    controller = UploadController(lib, persist=False)
    model = controller.model
    states: list[UploadState] = []

    def paused_and_resumed(busy: bool) -> None:
        # The worker has begun and made its upload, its news still on the way to the window
        # (a busy window, a pause clicked as the row started): the row still reads Queued
        if busy and held.wait(10) and not states:
            (item,) = model.items()
            states.append(item.state)
            controller.pause(item.id)
            controller.resume(item.id)
            release.set()

    controller._uploads.busyChanged.connect(paused_and_resumed)
    try:
        controller.add_paths([recording])
        wait_for(qtbot, lambda: not controller.busy, timeout=20000)
        assert states == [UploadState.QUEUED]
        (item,) = model.items()
        assert item.state == UploadState.DONE
        first, second = made
        assert lib.resumable.get(second).state == "done"
        wait_for(qtbot, lambda: not controller._cleanup.busy)
        with pytest.raises((NotFound, UploadGone)):
            lib.resumable.get(first)
    finally:
        release.set()
        controller.shutdown()
        lib.close()
