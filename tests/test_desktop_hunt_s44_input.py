"""Found by an outside tester walking the desktop app in Spanish (session 44): the image
preview's key names and the mouse wheel over the Settings window; real widgets, no mocks."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import QPoint, QPointF  # noqa: E402
from PySide6.QtGui import QKeySequence  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QSpinBox, QWidget  # noqa: E402

from core.settings import Settings  # noqa: E402
from desktop_app.controllers.settings_controller import SettingsController  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from desktop_app.preview.image_viewer import ImageViewer  # noqa: E402
from desktop_app.views.settings_dialog import SettingsDialog  # noqa: E402
from tests.qt_helpers import wait_for  # noqa: E402

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

NATIVE = QKeySequence.SequenceFormat.NativeText


@pytest.fixture(params=["es", "en"])
def language(request: pytest.FixtureRequest, qapp: Any) -> Iterator[str]:
    install_translations(request.param)
    yield request.param
    install_translations("en")


# -- 4. the image preview's tooltips write keys as the menus do ------------------------------------
def test_the_image_tools_name_their_keys_as_the_menus_write_them(qtbot: Any, language: str) -> None:
    viewer = ImageViewer()
    qtbot.addWidget(viewer)
    zoom_in = viewer.actions_by_name["zoom-in"]
    keys = QKeySequence("Ctrl+=").toString(NATIVE)
    assert zoom_in.toolTip() == f"{zoom_in.text()} ({keys})", zoom_in.toolTip()
    if language == "es":
        assert zoom_in.toolTip().endswith("(Control+=)"), zoom_in.toolTip()
        fit = viewer.actions_by_name["zoom-fit-best"].toolTip()
        assert fit.endswith("(Control+9)"), fit


# -- 5. the wheel over the Settings window scrolls it ----------------------------------------------
def _wheel(dialog: QWidget, field: QWidget) -> None:
    """One notch down, as a mouse under the pointer sends it (through the window)."""
    where = field.mapTo(dialog, field.rect().center())
    assert dialog.childAt(where) in (field, *field.findChildren(QWidget)), dialog.childAt(where)
    window = dialog.windowHandle()
    assert window is not None
    QTest.wheelEvent(window, QPointF(where), QPoint(0, -120))
    QApplication.processEvents()


def _value(field: QWidget) -> int:
    return field.value() if isinstance(field, QSpinBox) else field.currentIndex()  # type: ignore[attr-defined]


def test_the_wheel_over_a_number_box_scrolls_the_settings_page(
    qtbot: Any, settings: Settings
) -> None:
    """Rolling the wheel to scroll the page changed the box under the pointer (100 MiB became
    97 MiB), unseen; a box takes the wheel once clicked or tabbed into."""
    dialog = SettingsDialog(SettingsController(settings))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.resize(dialog.width(), 320)  # shorter than its page: the page scrolls
    bar = dialog.form_scroll.verticalScrollBar()
    wait_for(qtbot, lambda: bar.maximum() > 0)
    dialog.activateWindow()
    dialog.buttons.setFocus()
    for field in (dialog.max_size, dialog.language):
        dialog.form_scroll.ensureWidgetVisible(field)
        before, value = bar.value(), _value(field)
        if bar.value() == bar.maximum():
            bar.setValue(bar.maximum() - 40)  # room to scroll down
            before = bar.value()
        _wheel(dialog, field)
        assert _value(field) == value, (field, value)
        assert bar.value() > before, (before, bar.value())
        assert not field.hasFocus()  # nor did the wheel give it the keyboard

    # clicked or tabbed into, the box takes the wheel as before
    dialog.form_scroll.ensureWidgetVisible(dialog.max_size)
    dialog.max_size.setFocus()
    wait_for(qtbot, dialog.max_size.hasFocus)
    value, before = dialog.max_size.value(), bar.value()
    _wheel(dialog, dialog.max_size)
    assert dialog.max_size.value() == value - 1
    assert bar.value() == before
