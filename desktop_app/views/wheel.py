"""Fields of a scrolling page that take the mouse wheel only once they have the keyboard focus."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QWidget


class _WheelNeedsFocus(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        wheel = event.type() == QEvent.Type.Wheel
        if wheel and isinstance(watched, QWidget) and not watched.hasFocus():
            event.ignore()  # left unaccepted, Qt hands the wheel to the parents: the page scrolls
            return True
        return False


def wheel_needs_focus(root: QWidget) -> None:
    """Number boxes and lists under `root` ignore the wheel until clicked or tabbed into: rolling
    the wheel to scroll the Settings window changed whichever box passed under the pointer
    (100 MiB became 97 MiB, unseen), and the wheel gave it the focus too (Qt's WheelFocus)."""
    guard = _WheelNeedsFocus(root)
    fields: list[QWidget] = [*root.findChildren(QAbstractSpinBox), *root.findChildren(QComboBox)]
    for field in fields:
        field.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        field.installEventFilter(guard)
