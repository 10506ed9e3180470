"""Settings' Test connection result never breaks a folder's path across lines.

The local folder's result ("✔ Connection works: local folder /home/…/objects") was wrapped by
Qt after any '/' of the path, a piece of it at the end of one line and the rest on the next,
as URLs were until a35f880. A path goes whole to the next line now, elided in its middle when
longer than a line (the tooltip has it all), as URLs do.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtGui import QTextLayout, QTextOption  # noqa: E402

from tests.test_desktop_settings import dialog  # noqa: E402, F401

PATHS = re.compile(r"(?:[A-Za-z]:\\|/)\S+")


def _paths_cut(label: Any) -> list[str]:
    """The paths of a word-wrapped label that a line break falls inside (as Qt lays it out)."""
    text = label.text().replace("\n", "\u2028")
    layout = QTextLayout(text, label.font())
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WordWrap)
    layout.setTextOption(option)
    layout.beginLayout()
    starts = []
    while (line := layout.createLine()).isValid():
        line.setLineWidth(label.contentsRect().width())
        starts.append(line.textStart())
    layout.endLayout()
    return [m.group() for m in PATHS.finditer(text) if any(m.start() < s < m.end() for s in starts)]


def test_the_test_result_never_breaks_a_path(qtbot: Any, dialog: Any) -> None:  # noqa: F811
    dialog.show()
    qtbot.waitExposed(dialog)
    label = dialog.test_result
    for n in range(1, 40, 2):
        path = f"/home/{'u' * n}/.local/share/MediaDesk/objects"
        text = f"Connection works: local folder {path}"
        dialog._on_test(True, text)
        assert not _paths_cut(label), label.text()
        assert label.toolTip() == text
        if label.fontMetrics().horizontalAdvance(path) <= label.contentsRect().width():
            assert path in label.text()
        else:  # longer than a line: elided in its middle, on a line of its own
            assert f"\n{path[:6]}" in label.text() and label.text().endswith("/objects")
            assert "…" in label.text()
    windows = "C:\\Users\\" + "ana" * 40 + "\\AppData\\Local\\MediaDesk\\objects"
    dialog._on_test(False, f"Not enough space on local folder {windows}: free some")
    assert not _paths_cut(label), label.text()
    assert "…" in label.text() and "C:\\Users" in label.text()
    assert label.text().endswith("\\objects: free some")  # elided in its middle
    assert windows in label.toolTip()
