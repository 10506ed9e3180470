"""Tab goes through what is shown, in reading order (README), with no stop that shows nothing.

A keyboard-only tester found two defects. In the Trash view the "Empty trash…" button sits in
the header row right after the sort box, but Tab reached it last, after the docks' tab bar: the
window makes it after everything else and Qt puts a new widget at the end of the chain. And
the Settings dialog's scroll area was a Tab stop of its own between the last field and Save,
where the focus showed on nothing (the details panel had already turned its own off).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QScrollArea, QWidget  # noqa: E402

from core.library import Library  # noqa: E402
from desktop_app.controllers.settings_controller import SettingsController  # noqa: E402
from desktop_app.views.settings_dialog import SettingsDialog  # noqa: E402
from tests.qt_helpers import shown_window, wait_for  # noqa: E402

TAB = Qt.FocusPolicy.TabFocus


def _tab_stops(window: QWidget, start: QWidget) -> list[QWidget]:
    """The window's focus chain from `start` once round, the widgets Tab stops at: shown,
    enabled, taking Tab focus themselves (not through a proxy)."""
    stops = [start]
    widget = start.nextInFocusChain()
    while widget is not start:
        assert widget is not None  # the chain is a ring
        if (
            widget.window() is window
            and widget.isVisible()
            and widget.isEnabled()
            and widget.focusPolicy() & TAB == TAB
            and widget.focusProxy() is None
        ):
            stops.append(widget)
        widget = widget.nextInFocusChain()
    return stops


def _tab(window: QWidget) -> QWidget:
    """Where a Tab key press from the focused widget takes the keyboard."""
    focused = QApplication.focusWidget()
    assert focused is not None
    QTest.keyClick(focused, Qt.Key.Key_Tab)
    focused = QApplication.focusWidget()
    assert focused is not None and focused.window() is window
    return focused


def _active(qtbot: Any, window: QWidget) -> None:
    window.activateWindow()
    wait_for(qtbot, window.isActiveWindow)


def test_the_trashs_empty_button_is_the_stop_after_the_sort_box(
    qtbot: Any, library: Library, tmp_path: Path
) -> None:
    from PIL import Image

    path = tmp_path / "trashed.jpg"
    Image.new("RGB", (32, 24), (10, 90, 200)).save(path, "JPEG")
    library.trash(library.uploads.ingest(path, "image").id)
    with shown_window(qtbot, library) as window:
        c, browser = window.controller, window.browser
        _active(qtbot, window)
        window.sidebar.setCurrentIndex(c.sidebar.index_of("trash"))
        button = browser.empty_trash
        assert button is not None
        # enabled once the counts say the trash holds a file: a disabled button is no stop
        wait_for(qtbot, lambda: button.isVisible() and button.isEnabled())
        browser.search.setFocus(Qt.FocusReason.TabFocusReason)
        wait_for(qtbot, browser.search.hasFocus)
        stops = _tab_stops(window, browser.search)
        assert stops[:4] == [browser.search, browser.sort, button, browser.grid], [
            type(w).__name__ for w in stops
        ]
        # the details panel's scroll area is none either (turned off before the dialog's)
        assert not [w for w in stops if isinstance(w, QScrollArea)]
        # the keys themselves: Tab from the sort box, then on to the files; Shift+Tab back
        browser.sort.setFocus(Qt.FocusReason.TabFocusReason)
        wait_for(qtbot, browser.sort.hasFocus)
        assert _tab(window) is button
        assert _tab(window) is browser.grid
        QTest.keyClick(browser.grid, Qt.Key.Key_Backtab)
        assert QApplication.focusWidget() is button


def test_settings_has_no_tab_stop_that_shows_nothing(qtbot: Any, library: Library) -> None:
    dialog = SettingsDialog(SettingsController(library.settings))
    qtbot.addWidget(dialog)
    dialog.show()
    _active(qtbot, dialog)
    wait_for(qtbot, lambda: QApplication.focusWidget() is not None)
    first = QApplication.focusWidget()
    assert first is not None
    stops = _tab_stops(dialog, first)
    # its focus frame round the whole form, which showed as nothing
    assert not [w for w in stops if isinstance(w, QScrollArea)], [type(w).__name__ for w in stops]
    save, cancel = dialog.buttons.buttons()[:2]
    assert stops[-3:] == [dialog.language, save, cancel] or stops[-3:] == [
        dialog.language,
        cancel,
        save,
    ], [type(w).__name__ for w in stops]
    dialog.language.setFocus(Qt.FocusReason.TabFocusReason)
    wait_for(qtbot, dialog.language.hasFocus)
    assert _tab(dialog) in (save, cancel)


def test_settings_shows_the_field_shift_tab_reaches(qtbot: Any, library: Library) -> None:
    """With the scroll area no Tab stop, Qt moved the focus at the dialog's level and nothing
    scrolled: Shift+Tab from Save left the language box out of sight (an arrow key then changed
    the language unseen), and Tab wrapping from Cancel the first field (regression hunter)."""
    dialog = SettingsDialog(SettingsController(library.settings))
    qtbot.addWidget(dialog)
    dialog.show()
    _active(qtbot, dialog)
    scroll = dialog.form_scroll
    scroll.setMinimumHeight(0)
    scroll.setMaximumHeight(120)  # a small screen: the form scrolls
    bar = scroll.verticalScrollBar()
    wait_for(qtbot, lambda: bar.maximum() > 0)
    bar.setValue(0)
    save = dialog.buttons.button(dialog.buttons.StandardButton.Save) or dialog.buttons.buttons()[0]
    save.setFocus(Qt.FocusReason.TabFocusReason)
    wait_for(qtbot, save.hasFocus)
    while QApplication.focusWidget() is not dialog.language:
        focused = QApplication.focusWidget()
        assert focused is not None and not dialog.form.isAncestorOf(focused)
        QTest.keyClick(focused, Qt.Key.Key_Backtab)
    viewport = scroll.viewport()
    place = dialog.language.geometry().translated(
        dialog.language.parentWidget().mapTo(
            viewport, dialog.language.parentWidget().rect().topLeft()
        )
    )
    assert viewport.rect().contains(place), (place, viewport.rect(), bar.value())
