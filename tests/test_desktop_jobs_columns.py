"""The Jobs panel's columns: in Spanish at 1366 px the File (Archivo) column kept Qt's default
~100 px, so names wrapped onto two lines, while Reason (Motivo) had ~700 px empty. The File
column now fits its names up to a share of the width; Reason stretches over the rest."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import QItemSelectionModel, Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication  # noqa: E402

from core.jobs import JobRecord  # noqa: E402
from core.library import Library  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from desktop_app.views.jobs_dock import FILE_COLUMN_SHARE, JobsDock  # noqa: E402
from tests.qt_helpers import wait_for  # noqa: E402

NAME = "vídeo Ana Pérez 20.mp4"


def job(job_id: int, file_id: int, kind: str, state: str = "done") -> JobRecord:
    return JobRecord(
        id=job_id,
        kind=kind,
        file_id=file_id,
        state=state,
        progress=1.0,
        attempts=1,
        max_attempts=3,
        error=None,
        result={},
        lease_owner=None,
        lease_expires_at=None,
        cancel_requested=False,
        created_at=datetime(2026, 12, 5, tzinfo=UTC),
        started_at=None,
        finished_at=None,
    )


@pytest.fixture
def dock(qtbot: Any, library: Library) -> Iterator[JobsDock]:
    install_translations("es")
    widget = JobsDock(library)
    qtbot.addWidget(widget)
    widget.resize(1366, 300)
    widget.show()
    wait_for(qtbot, lambda: widget.table.viewport().width() > 1200)
    yield widget
    widget.shutdown()
    install_translations("en")


def test_file_names_fit_on_one_line_and_reason_takes_the_rest(dock: JobsDock) -> None:
    jobs = [job(n, 1 + n % 2, kind) for n, kind in enumerate(["thumbnails", "hls", "web"], 1)]
    dock._fill(jobs, {1: NAME, 2: "vídeo Ana Pérez 0.mp4"})
    table = dock.table
    text = table.fontMetrics().horizontalAdvance(NAME)
    assert table.columnWidth(1) > text  # the whole name, on one line
    assert not table.wordWrap()
    assert dock.tr("Reason") == "Motivo"
    others = sum(table.columnWidth(c) for c in range(6))
    assert table.columnWidth(6) >= table.viewport().width() - others - 2  # the rest is Reason's
    assert table.columnWidth(1) < table.columnWidth(6)
    header = table.horizontalHeader()
    for col in (0, 2, 3, 5):  # the short columns fit their texts and headers, no wider
        assert table.columnWidth(col) >= header.sectionSizeFromContents(col).width()


def test_a_very_long_name_takes_at_most_its_share(dock: JobsDock) -> None:
    long_name = "final autonómica " * 20 + ".mp4"
    dock._fill([job(1, 1, "web")], {1: long_name})
    table = dock.table
    assert table.columnWidth(1) <= int(table.viewport().width() * FILE_COLUMN_SHARE)
    assert table.columnWidth(6) > 300  # Reason still has room


def test_a_width_set_by_hand_stays_through_refreshes(dock: JobsDock) -> None:
    """The fit runs at every refresh: a File column the user dragged wider went back to its
    fitted width at the next one."""
    jobs = [job(1, 1, "web"), job(2, 2, "hls")]
    dock._fill(jobs, {1: NAME, 2: "vídeo Ana Pérez 0.mp4"})
    table = dock.table
    fitted = table.columnWidth(1)
    table.horizontalHeader().resizeSection(1, fitted + 120)  # as a drag of the divider does
    dock._fill(jobs, {1: NAME, 2: "vídeo Ana Pérez 0.mp4"})
    assert table.columnWidth(1) == fitted + 120
    header = table.horizontalHeader()
    assert table.columnWidth(2) >= header.sectionSizeFromContents(2).width()  # others still fit


def test_a_refresh_while_shift_is_held_keeps_the_selected_job_alone(
    qtbot: Any, dock: JobsDock
) -> None:
    """A refresh re-selects the job that was selected: with selectRow(), which reads the held
    modifiers, a Shift down at that moment (a Shift+click, Shift+F10, Shift+Tab) made it a range
    from the table's last anchor, and the dock then had no single job selected (its buttons
    went grey)."""
    jobs = [job(n, n, "web", "running") for n in range(1, 5)]
    dock._fill(jobs, {n: f"clip {n}.mp4" for n in range(1, 5)})
    table = dock.table
    table.selectRow(0)  # the anchor
    flags = QItemSelectionModel.SelectionFlag
    table.selectionModel().select(table.model().index(2, 0), flags.ClearAndSelect | flags.Rows)
    assert dock.selected() is not None and dock.selected().id == 3  # type: ignore[union-attr]
    qtbot.keyPress(table, Qt.Key.Key_Shift, Qt.KeyboardModifier.ShiftModifier)
    try:
        assert QGuiApplication.keyboardModifiers() == Qt.KeyboardModifier.ShiftModifier
        dock._fill(jobs, {n: f"clip {n}.mp4" for n in range(1, 5)})  # what a refresh does
        rows = sorted(i.row() for i in table.selectionModel().selectedRows())
    finally:
        qtbot.keyRelease(table, Qt.Key.Key_Shift)
    assert rows == [2]
    assert dock.selected() is not None and dock.selected().id == 3  # type: ignore[union-attr]
