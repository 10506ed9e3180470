"""The upload queue's summary counts every row: with three uploads paused it read "Running: 0 ·
Queued: 0 · Done: 0 · Failed: 23", as if nothing were left to do. Paused and cancelled rows are
counted when there are some, and the longer line does not widen the dock."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QLocale  # noqa: E402

from core.library import Library  # noqa: E402
from desktop_app.controllers.upload_controller import UploadController  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from desktop_app.models.upload_queue_model import NewRow, UploadState  # noqa: E402
from desktop_app.views.upload_dock import UploadDock  # noqa: E402


@pytest.fixture(params=["en", "es"])
def language(request: pytest.FixtureRequest, qapp) -> Iterator[str]:  # type: ignore[no-untyped-def]
    before = QLocale()
    install_translations(request.param)
    yield request.param
    install_translations("en")
    QLocale.setDefault(before)


@pytest.fixture
def controller(library: Library) -> Iterator[UploadController]:
    controller = UploadController(library, max_parallel=1, persist=False)
    yield controller
    controller.shutdown()


def _dock(qtbot, controller: UploadController) -> UploadDock:  # type: ignore[no-untyped-def]
    dock = UploadDock(controller)
    qtbot.addWidget(dock)
    return dock


def _fill(dock: UploadDock, states: dict[UploadState, int]) -> None:
    """The rows added in one insertion, as a dropped folder's chunk is, and their states set in
    one batch: the dock lays out once, not once per row (8,000 rows one by one: 2-4 s a test)."""
    model = dock.model
    wanted = [s for s, k in states.items() for _n in range(k)]
    added = model.add_many(NewRow(Path(f"/tmp/s{n}.mp4"), 10) for n in range(len(wanted)))
    with model.batch():
        for item, state in zip(added, wanted, strict=True):
            model.set_state(item.id, state)


def _summary(dock: UploadDock) -> str:
    # lines break only between two counts: read as one line
    return dock.total_label.text().replace(" ·\n", " · ")


WORDS = {
    "en": ("Paused: 3", "Cancelled: 2", "Failed: 23", "Paused", "Cancelled"),
    "es": ("En pausa: 3", "Canceladas: 2", "Fallidas: 23", "En pausa", "Canceladas"),
}


def test_paused_and_cancelled_rows_are_counted_when_there_are_some(
    qtbot,  # type: ignore[no-untyped-def]
    controller: UploadController,
    language: str,
) -> None:
    paused, cancelled, failed, paused_word, cancelled_word = WORDS[language]
    dock = _dock(qtbot, controller)
    _fill(dock, {UploadState.FAILED: 23})
    assert failed in _summary(dock)
    assert paused_word not in _summary(dock) and cancelled_word not in _summary(dock)
    _fill(dock, {UploadState.PAUSED: 3})
    assert paused in _summary(dock) and failed in _summary(dock), _summary(dock)
    _fill(dock, {UploadState.CANCELLED: 2})
    assert paused in _summary(dock) and cancelled in _summary(dock), _summary(dock)


def test_every_count_fits_at_1024_px_without_widening_the_dock(
    qtbot,  # type: ignore[no-untyped-def]
    controller: UploadController,
    language: str,
) -> None:
    dock = _dock(qtbot, controller)
    dock.show()
    narrowest = dock.widget().minimumSizeHint().width()  # the buttons' row, before any count
    _fill(dock, {state: 1000 for state in UploadState})
    dock.resize(1024, 300)
    qtbot.wait(10)
    dock.widget().layout().activate()
    assert dock.widget().minimumSizeHint().width() <= narrowest
    label = dock.total_label
    # every count on one line beside the filter and the total bar
    assert "\n" not in label.text() and label.height() >= label.heightForWidth(label.width())
    assert label.geometry().right() < dock.total_bar.geometry().left()
    # narrower, the counts go on two lines (never cut inside one) and the dock stays as narrow
    dock.resize(narrowest, 300)
    qtbot.wait(10)
    lines = label.text().split("\n")
    assert len(lines) >= 2
    counts = [c for line in lines for c in line.removesuffix(" ·").split(" · ")]
    assert all(re.fullmatch(r"[^\d:]+: [\d.,]+", c) for c in counts), lines
    assert label.height() >= label.heightForWidth(label.width())
    assert dock.width() == narrowest
