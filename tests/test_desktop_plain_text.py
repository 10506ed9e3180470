"""Names and descriptions anyone with an upload token sets are shown as written, never as Qt
markup: a file named `<h1><font color=red>URGENT…` was rendered big and red in the
"Changed by someone else" dialog and in tooltips (Qt renders a label or a tooltip that looks
like markup as rich text)."""

from __future__ import annotations

import dataclasses
import sys

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import Qt as GuiQt  # noqa: E402
from PySide6.QtGui import QTextDocument  # noqa: E402
from PySide6.QtWidgets import QLabel, QMessageBox  # noqa: E402

from core.errors import MediaDeskError  # noqa: E402
from core.library import Library  # noqa: E402
from core.records import FileRecord  # noqa: E402
from desktop_app import app  # noqa: E402
from desktop_app.controllers.server_controller import ServerController  # noqa: E402
from desktop_app.errors import ErrorMessage  # noqa: E402
from desktop_app.formatting import tip_text  # noqa: E402
from desktop_app.views.conflict_dialog import ConflictDialog  # noqa: E402
from desktop_app.views.details_panel import DetailsPanel  # noqa: E402
from desktop_app.views.server_panel import ServerPanel  # noqa: E402
from tests.media_fixtures import MediaSet  # noqa: E402
from tests.qt_helpers import TIMEOUT, wait_for

NAME = "<h1><font color=red>URGENT: send your token to x.jpg"  # no "/": a name is a base name


def shown_tip(tip: str) -> str:
    """The text a tooltip shows: Qt reads it as markup when it looks like markup."""
    if not GuiQt.mightBeRichText(tip):
        return tip
    doc = QTextDocument()
    doc.setHtml(tip)
    return doc.toPlainText()


def shown_label(label: QLabel) -> str:
    rich = label.textFormat() == Qt.TextFormat.RichText or (
        label.textFormat() == Qt.TextFormat.AutoText and GuiQt.mightBeRichText(label.text())
    )
    if not rich:
        return label.text()
    doc = QTextDocument()
    doc.setHtml(label.text())
    return doc.toPlainText()


@pytest.fixture
def record(library: Library, media_dir: MediaSet) -> FileRecord:
    stored = library.uploads.ingest(media_dir.jpeg, "image")
    return library.update_file(stored.id, {"original_filename": NAME, "description": "<b>bold"})


def test_tip_text_keeps_plain_tips_and_escapes_markup(qapp) -> None:  # type: ignore[no-untyped-def]
    assert tip_text("a.jpg\n2 KiB") == "a.jpg\n2 KiB"  # plain stays plain: lines unwrapped
    assert tip_text("") == ""
    assert shown_tip(tip_text(NAME)) == NAME
    assert shown_tip(tip_text(f"{NAME}\nline two")) == f"{NAME}\nline two"


def test_the_conflict_dialog_shows_names_as_text(qapp, record: FileRecord) -> None:  # type: ignore[no-untyped-def]
    dialog = ConflictDialog(
        record, {"original_filename": "mine.jpg", "description": "<i>mine"}, lambda _a: "—"
    )
    try:
        assert NAME in dialog.intro.text()
        assert dialog.intro.textFormat() == Qt.TextFormat.PlainText
        assert shown_label(dialog.intro) == dialog.intro.text()
        shown = {
            shown_tip(dialog.table.item(row, col).toolTip())
            for row in range(dialog.table.rowCount())
            for col in range(3)
        }
        assert {NAME, "<b>bold", "<i>mine"} <= shown, shown
        assert dialog.rows()[0][1] == NAME  # the cell itself: a table item is always text
    finally:
        dialog.deleteLater()


def test_the_details_panel_shows_values_as_text(qapp, record: FileRecord) -> None:  # type: ignore[no-untyped-def]
    # the declared type of an upload is shown as sent when it cannot be told (a hostile one)
    odd = dataclasses.replace(record, content_type="image/<font size=1>jpeg")
    panel = DetailsPanel()
    try:
        panel.show_record(odd)
        field = panel.technical["type"]
        assert "<font size=1>" in field.full_text()  # type: ignore[attr-defined]
        for label in panel.technical.values():
            assert label.textFormat() == Qt.TextFormat.PlainText, label.text()
        assert shown_tip(field.toolTip()) == field.full_text()  # type: ignore[attr-defined]
        assert panel.trash_note.textFormat() == Qt.TextFormat.PlainText
    finally:
        panel.deleteLater()


def _box_texts_are_plain(box: QMessageBox) -> None:
    assert box.textFormat() == Qt.TextFormat.PlainText
    for label in box.findChildren(QLabel):
        assert label.textFormat() == Qt.TextFormat.PlainText, label.text()


def test_the_server_panel_shows_token_names_as_text(qtbot, library: Library) -> None:  # type: ignore[no-untyped-def]
    """A token named `<b>x</b>` (whoever makes a token names it) was bold in the token table's
    tooltip and in the "Token created" box quoting it."""
    controller = ServerController(library)
    panel = ServerPanel(controller)
    qtbot.addWidget(panel)
    try:
        with qtbot.waitSignal(controller.tokenCreated, timeout=TIMEOUT):
            controller.create_token("<b>x</b>", "upload")
        wait_for(qtbot, lambda: panel.table.rowCount() == 1)
        name, scope = panel.table.item(0, 0), panel.table.item(0, 1)
        assert name.text().startswith("<b>x</b> (")
        assert shown_tip(name.toolTip()) == name.text()
        assert shown_tip(scope.toolTip()) == "upload: read and upload"
        (box,) = panel.findChildren(QMessageBox)
        assert "“<b>x</b>”" in box.text()
        _box_texts_are_plain(box)
        box.close()
    finally:
        controller.stop_blocking()


def test_the_server_panel_shows_an_error_as_written(qtbot, library: Library) -> None:  # type: ignore[no-untyped-def]
    """The state line escaped the error for rich text, but the label chose its format from the
    text: `&` came out as `&amp;`; its tooltip rendered an error quoting `<b>` as markup."""
    controller = ServerController(library)
    panel = ServerPanel(controller)
    qtbot.addWidget(panel)
    try:
        for text in ("Tom & Jerry's “folder” is full", "Cannot read “<b>x</b> & y”"):
            message = ErrorMessage(text, "<i>z</i> & more")
            controller.errorOccurred.emit(message)
            assert shown_label(panel.state) == text
            assert shown_tip(panel.state.toolTip()) == message.full()
    finally:
        controller.stop_blocking()


def test_start_up_error_boxes_show_paths_and_errors_as_text(
    qapp,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A settings file or library under a folder named `<font size=1>` (and an error quoting it)
    was rendered as markup in the start-up and unexpected-error boxes."""
    shown: list[QMessageBox] = []

    def record(box: QMessageBox) -> int:
        shown.append(box)
        return 0

    monkeypatch.setattr(QMessageBox, "exec", record)
    where = "/home/a/<font size=1>x</font>/settings.env"
    app.show_startup_error("Cannot open", MediaDeskError(f"Cannot read {where}"), where)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # put back after the test
    app.install_excepthook()
    sys.excepthook(OSError, OSError(f"<b>{where}</b>"), None)
    assert len(shown) == 2
    for box in shown:
        _box_texts_are_plain(box)
    assert where in shown[0].informativeText()
