"""A big drop, and Retry / Cancel / Pause of many rows, keep the window responsive: rows go in
in chunks with the event loop between them, and a change of many rows is announced per run
of neighbouring rows, not per row (1,000 files froze the window for 2-3 s)."""

from __future__ import annotations

import math
import threading
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QTimer  # noqa: E402

from core.library import Library  # noqa: E402
from desktop_app.controllers import upload_controller  # noqa: E402
from desktop_app.models.upload_queue_model import UploadQueueModel, UploadState  # noqa: E402
from desktop_app.upload_persistence import load_queue, queue_file  # noqa: E402
from tests.qt_helpers import wait_for  # noqa: E402

FILES = 1000
CHUNK = getattr(upload_controller, "ENQUEUE_CHUNK", 200)


def _held(library, item, journal, report):  # type: ignore[no-untyped-def]
    """An upload that waits for its cancel: the test counts the queue's own signals only."""
    item.cancel.wait(30)
    raise upload_controller.Cancelled("stopped by the test")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = tmp_path / "game"
    folder.mkdir()
    for n in range(FILES):
        (folder / f"game_{n}.jpg").write_bytes(b"x")
    return folder


def test_a_dropped_folder_of_1000_files_goes_in_in_chunks_with_the_event_loop_between(
    qtbot, library: Library, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(upload_controller, "_upload", _held)
    saves: list[int] = []
    real_checkpoint = upload_controller.checkpoint

    def counted_checkpoint(path, journal, rows, upto):  # type: ignore[no-untyped-def]
        saves.append(len(rows))
        return real_checkpoint(path, journal, rows, upto)

    monkeypatch.setattr(upload_controller, "checkpoint", counted_checkpoint)
    controller = upload_controller.UploadController(library)
    model = controller.model
    try:
        wait_for(qtbot, lambda: not controller.busy)  # the empty saved queue was read
        ticks = [0]
        ticker = QTimer()
        ticker.setInterval(0)
        ticker.timeout.connect(lambda: ticks.__setitem__(0, ticks[0] + 1))
        ticker.start()
        inserts: list[tuple[int, int]] = []  # (rows in the insertion, ticks seen by then)
        totals: list[int] = []
        model.rowsInserted.connect(
            lambda _parent, first, last: inserts.append((last - first + 1, ticks[0]))
        )
        model.totalProgressChanged.connect(lambda per_mille, _running: totals.append(per_mille))
        controller.add_paths([folder])
        wait_for(qtbot, lambda: model.rowCount() == FILES)
        ticker.stop()
        chunks = math.ceil(FILES / CHUNK)
        assert sum(rows for rows, _ in inserts) == FILES
        assert 1 < len(inserts) <= chunks + 1  # a walk may report in more than one batch
        assert max(rows for rows, _ in inserts) <= CHUNK
        # the event loop ran (a 0 ms timer fired) between every two chunks
        seen = [tick for _, tick in inserts]
        assert all(later > earlier for earlier, later in zip(seen, seen[1:], strict=False))
        # one total per chunk, not per row (the two running rows add a few of their own)
        assert len(totals) <= 2 * len(inserts) + 10
        assert [item.path.name for item in model.items()][:3] == [
            "game_0.jpg",
            "game_1.jpg",
            "game_2.jpg",
        ]
        # the queue on disk holds every row, and was not saved once per row
        saved = queue_file(library.paths.data_dir)
        wait_for(qtbot, lambda: len([r for r in load_queue(saved) if r.state == "queued"]) == FILES)
        assert len(saves) <= 2 + chunks

        # Cancel all: one change announcement per run of neighbouring rows
        changed: list[tuple[int, int]] = []
        model.dataChanged.connect(
            lambda top, bottom, _roles=(): changed.append((top.row(), bottom.row()))
        )
        controller.cancel_all()
        assert model.count(UploadState.QUEUED) == 0
        assert 1 <= len(changed) <= 3, changed  # the running rows end on their own later
        wait_for(qtbot, lambda: not controller.busy)
        assert model.count(UploadState.CANCELLED) == FILES
    finally:
        controller.shutdown()


def test_retry_failed_and_pause_all_of_many_rows_announce_runs_not_rows(
    qtbot, library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(upload_controller, "_upload", _held)
    controller = upload_controller.UploadController(library, max_parallel=1)
    model: UploadQueueModel = controller.model
    try:
        wait_for(qtbot, lambda: not controller.busy)
        items = [model.add(Path(f"/tmp/r{n}.jpg"), 10) for n in range(FILES)]
        for n, item in enumerate(items):
            # one row in ten is done: the failed rows make runs, not one block
            state = UploadState.DONE if n % 10 == 5 else UploadState.FAILED
            model.set_state(item.id, state, "gone")
        changed: list[tuple[int, int]] = []
        totals: list[int] = []
        model.dataChanged.connect(
            lambda top, bottom, _roles=(): changed.append((top.row(), bottom.row()))
        )
        model.totalProgressChanged.connect(lambda per_mille, _running: totals.append(per_mille))
        assert controller.retry_failed() == 900
        assert model.count(UploadState.FAILED) == 0
        runs = FILES // 10 + 1
        assert len(changed) <= runs and len(totals) <= 2, (len(changed), len(totals))
        changed.clear()
        threading.Event().wait(0.05)
        controller.pause_all()
        assert model.count(UploadState.PAUSED) >= 899
        assert len(changed) <= runs + 1
        changed.clear()
        assert controller.resume_all() >= 899
        assert len(changed) <= runs + 1
    finally:
        controller.shutdown()


def test_the_uploads_summary_groups_its_counts_like_the_rest_of_the_window(
    qtbot, library: Library
) -> None:  # type: ignore[no-untyped-def]
    """It said "Done: 1004" beside a header saying "1,004 files" (the language's grouping)."""
    from PySide6.QtCore import QLocale

    from desktop_app.views.upload_dock import UploadDock

    before = QLocale()
    QLocale.setDefault(QLocale("en_US"))
    controller = upload_controller.UploadController(library, persist=False)
    try:
        dock = UploadDock(controller)
        qtbot.addWidget(dock)
        model = controller.model
        items = [model.add(Path(f"/tmp/d{n}.jpg"), 10) for n in range(1004)]
        with model.batch():
            for item in items:
                model.set_state(item.id, UploadState.DONE)
        assert "Done: 1,004" in dock.total_label.text(), dock.total_label.text()
    finally:
        controller.shutdown()
        QLocale.setDefault(before)
