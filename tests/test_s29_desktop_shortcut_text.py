"""The empty view's hints name a command as the menus do, with the menus' own shortcut text.

In Spanish the hints said "Archivo ▸ Importar… (Ctrl+I)" while the File menu, in Qt's words,
says "Importar archivos…" and "Control+I": the key was hard-coded in the sentence. The menu,
the command and its keys now come from the action the menu shows.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtGui import QKeySequence  # noqa: E402

from core.library import Library  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from desktop_app.models.sidebar_model import SidebarFilter  # noqa: E402
from tests.qt_helpers import shown_window, wait_for  # noqa: E402

NATIVE = QKeySequence.SequenceFormat.NativeText


@pytest.fixture(params=["es", "en"])
def language(request: pytest.FixtureRequest, qapp: Any) -> Iterator[str]:
    install_translations(request.param)
    yield request.param
    install_translations("en")


def test_the_empty_hints_name_the_command_as_the_menus_do(
    qtbot: Any, library: Library, language: str
) -> None:
    with shown_window(qtbot, library) as window:
        browser, commands = window.browser, window.commands
        keys = commands.import_files.shortcut().toString(NATIVE)
        if language == "es":
            assert keys == "Control+I"  # Qt's Spanish: what the menu shows
        menu = window.menuBar().actions()[0].text().replace("&", "")
        named = f"{menu} ▸ {commands.import_files.text().replace('&', '')} ({keys})"
        for section in ("all", "image", "video"):
            window.controller.set_filter(SidebarFilter(section))
            wait_for(qtbot, lambda: browser.stack.currentWidget() is browser.empty)
            assert named in browser.empty.text().replace("\u00a0", " "), browser.empty.text()

        refresh = commands.refresh.text().replace("&", "")
        said = browser.unlisted_text(RuntimeError("a fault")).replace("\u00a0", " ")
        assert f"{refresh} ({commands.refresh.shortcut().toString(NATIVE)})" in said, said


def test_the_save_tooltip_names_the_keys_as_the_menus_write_them(
    qtbot: Any, library: Library, language: str
) -> None:
    """The details panel's Save said "Ctrl+S" in Spanish too, beside menus saying "Control+…"."""
    with shown_window(qtbot, library) as window:
        tip = window.details.save_button.toolTip()
        keys = QKeySequence("Ctrl+S").toString(NATIVE)
        assert tip.endswith(f", {keys})"), tip
        if language == "es":
            assert "Control+S" in tip and tip.startswith("Guardar los cambios"), tip
