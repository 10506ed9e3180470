"""The upload queue's columns at 800 × 600, in English and Spanish: an outside tester's failed
row showed its reason ("Falló: La imagen está dañada o cortada: no se puede leer entera.") in 63
px (es) or 126 px (en) of the State column, while the empty Speed and "Tiempo restante" columns
kept 90 and 123 px. Speed and ETA are as wide as their title and values; the name and the
progress give way (down to their least) for the state, which holds the reason, and a narrowed
bar says its share whole; wide again, the columns come back to the widths they had, and those
are the ones kept for the next start."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import Qt  # noqa: E402

from core.library import Library  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from desktop_app.models.upload_queue_model import UploadQueueModel, UploadState  # noqa: E402
from desktop_app.views.main_window import MainWindow  # noqa: E402
from tests.qt_helpers import wait_for  # noqa: E402

M = UploadQueueModel


@pytest.fixture(params=["en", "es"])
def language(request: pytest.FixtureRequest, qapp: Any) -> Iterator[str]:
    install_translations(request.param)
    yield request.param
    install_translations("en")


def _state_shown(table: Any) -> int:
    """How much of the State column the table's viewport shows."""
    x = table.columnViewportPosition(M.STATE)
    right = min(table.viewport().width(), x + table.columnWidth(M.STATE))
    return max(0, right - max(0, x))


def test_a_failure_reason_gets_the_room_at_800_px(
    qtbot: Any, library: Library, tmp_path: Path, language: str
) -> None:
    broken = tmp_path / "corrupta_rota.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 64)  # a JPEG cut short
    state = tmp_path / "window-state.ini"
    win = MainWindow(library, page_size=50, state_file=state)
    qtbot.addWidget(win)
    win.resize(800, 600)
    win.show()
    qtbot.waitExposed(win)
    dock = win.upload_dock
    dock.show()
    dock.raise_()
    win.add_uploads([broken])
    model = win.uploads.model
    wait_for(qtbot, lambda: model.count(UploadState.FAILED) == 1)
    table = dock.table
    header = table.horizontalHeader()
    qtbot.wait(50)
    reason = str(table.model().index(0, M.STATE).data(Qt.ItemDataRole.DisplayRole))
    need = table.fontMetrics().horizontalAdvance(reason)
    wait_for(qtbot, lambda: win.width() == 800)
    room = table.viewport().width()
    assert room < 800
    # the reason has at least a third of the table (or all it needs)
    assert _state_shown(table) >= min(need, room // 3), (_state_shown(table), need, room)
    # every column inside the table, each title whole
    right = header.sectionViewportPosition(M.STATE) + header.sectionSize(M.STATE)
    assert right <= room + 1
    for column in range(M.STATE):
        title = str(table.model().headerData(column, Qt.Orientation.Horizontal))
        assert header.sectionSize(column) > header.fontMetrics().horizontalAdvance(title), title
    # the name and the progress gave way, kept at a readable width
    assert header.sectionSize(M.NAME) >= 120 and header.sectionSize(M.PROGRESS) >= 100
    # a narrowed bar shows the stage's share whole (its stage is in the State column)
    from desktop_app.views.upload_dock import progress_label

    bar = header.sectionSize(M.PROGRESS) - 6 - 8  # the delegate's margins, the bar's frame
    metrics = table.fontMetrics()
    label = progress_label(f"{model.stage_text('validating')} 45 %", 45, metrics, bar)
    assert metrics.horizontalAdvance(label) <= bar and label.endswith("45 %"), label
    # wide again: the columns they had
    win.resize(1600, 600)
    wait_for(qtbot, lambda: header.sectionSize(M.NAME) == 240)
    assert header.sectionSize(M.PROGRESS) == 190
    # a narrow window does not make the next start narrow
    win.resize(800, 600)
    wait_for(qtbot, lambda: header.sectionSize(M.NAME) < 240)
    win.save_window_state()
    model.remove(model.items()[0].id)  # (a failed row left would be read back)
    win.shutdown()
    again = MainWindow(library, page_size=50, state_file=state)
    qtbot.addWidget(again)
    again.resize(1600, 700)
    again.show()
    qtbot.waitExposed(again)
    header = again.upload_dock.table.horizontalHeader()
    wait_for(qtbot, lambda: header.sectionSize(M.NAME) == 240)
    again.shutdown()


def test_a_failure_reason_reads_on_two_lines_and_whole_in_its_tooltip(
    qtbot: Any, library: Library, tmp_path: Path, language: str
) -> None:
    """The screenshots' failed row read "Failed: This file is not an image or a video of a type
    MediaDesk accepts. This library accepts JPEG, PNG, WebP, …", cut at the right: a failed row
    is two lines tall, its reason wrapped onto both, and the whole of it is in its tooltip."""
    from PySide6.QtWidgets import QStyleOptionViewItem

    from tests.media import make_jpeg

    notes = tmp_path / "notes.txt"
    notes.write_text("Not a photo or a video\n")
    photo = make_jpeg(tmp_path / "heat.jpg", (32, 24))
    win = MainWindow(library, page_size=50, state_file=tmp_path / "window-state.ini")
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    try:
        win.add_uploads([photo, notes])
        model = win.uploads.model
        wait_for(
            qtbot,
            lambda: model.rowCount() == 2 and all(i.state.finished for i in model.items()),
        )
        dock, table = win.upload_dock, win.upload_dock.table
        rows = {table.model().index(r, M.NAME).data(): r for r in range(table.model().rowCount())}
        line = table.fontMetrics().lineSpacing()
        for mode in ("all", "failed", "all"):  # the rows as the filter shows them again
            dock.set_filter(mode)
            qtbot.wait(20)
            failed = table.model().index(0 if mode == "failed" else rows["notes.txt"], M.STATE)
            reason = str(failed.data(Qt.ItemDataRole.DisplayRole))
            assert reason.startswith({"en": "Failed: ", "es": "Falló: "}[language])
            assert table.rowHeight(failed.row()) >= 2 * line + 8  # two lines, and air
            option = QStyleOptionViewItem()
            table.itemDelegateForColumn(M.STATE).initStyleOption(option, failed)
            assert option.features & QStyleOptionViewItem.ViewItemFeature.WrapText
            tip = str(failed.data(Qt.ItemDataRole.ToolTipRole))
            assert reason in tip and str(notes) in tip  # the whole reason, and which file
        one = table.verticalHeader().defaultSectionSize()
        assert table.rowHeight(rows["heat.jpg"]) == one  # the other rows as they were
    finally:
        win.shutdown()
