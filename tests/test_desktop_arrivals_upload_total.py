"""The upload queue's total bar follows a bulk import's bytes a few times a second, not at
every progress report: the bar repaints at once whenever its value moves, with the window's
other dirty parts (the grid's tiles), and a thousand files' reports cost the window's thread
more than their rows (tests/test_desktop_soak.py). Counted, not timed: the bar's moves (each
a repaint) and what it ends up saying; a change of the counts still shows at once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pytestqt")

from core.library import Library  # noqa: E402
from desktop_app.controllers.upload_controller import UploadController  # noqa: E402
from desktop_app.models.upload_queue_model import NewRow, UploadState  # noqa: E402
from desktop_app.views.upload_dock import UploadDock  # noqa: E402
from tests.qt_helpers import wait_for  # noqa: E402

SIZE = 1000
REPORTS = 200


@pytest.fixture
def controller(library: Library) -> Iterator[UploadController]:
    controller = UploadController(library, max_parallel=1, persist=False)
    yield controller
    controller.shutdown()


def test_progress_reports_move_the_total_bar_a_few_times(
    qtbot: Any, controller: UploadController
) -> None:
    dock = UploadDock(controller)
    qtbot.addWidget(dock)
    dock.show()
    qtbot.waitExposed(dock)
    model = dock.model
    (item,) = model.add_many([NewRow(Path("/tmp/bulk.jpg"), SIZE * REPORTS)])
    model.set_state(item.id, UploadState.UPLOADING)  # a change of the counts: shown at once
    assert "Running: 1" in dock.total_label.text(), dock.total_label.text()
    # each move of the bar's value is a repaint at once (QProgressBar.setValue)
    moves: list[int] = []
    dock.total_bar.valueChanged.connect(moves.append)
    for n in range(1, REPORTS + 1):  # as a worker's reports, each its own delivery
        model.set_progress(item.id, "uploading", n * SIZE - 1, SIZE * REPORTS)
    # the first report shows at once; those within the next moments at the end of it
    assert len(moves) <= 2, f"the bar moved {len(moves)} times for {REPORTS} reports"
    wait_for(qtbot, lambda: dock.total_bar.value() == 999)
    assert dock.total_bar.text() == "Total 99 %"
    model.set_state(item.id, UploadState.DONE, file_id=1)  # ended: at once, whatever the time
    assert dock.total_bar.value() == 1000 and dock.total_bar.text() == "Total 100 %"
    assert "Done: 1" in dock.total_label.text(), dock.total_label.text()
