"""Names a screen reader reads for controls whose label Qt does not find by itself."""

from __future__ import annotations

import re

from PySide6.QtGui import QAccessible, QAccessibleAnnouncementEvent
from PySide6.QtWidgets import QAbstractSpinBox, QLabel, QLineEdit, QWidget


def announce(widget: QWidget, text: str, *, assertive: bool = False) -> None:
    """Has a screen reader say `text` without moving the focus (AT-SPI's announcement, UIA's
    notification): assertive interrupts what it is reading, polite waits for it."""
    event = QAccessibleAnnouncementEvent(widget, text)
    politeness = QAccessible.AnnouncementPoliteness
    event.setPoliteness(politeness.Assertive if assertive else politeness.Polite)
    QAccessible.updateAccessibility(event)


def name_spin_boxes(root: QWidget) -> None:
    """A spin box's keyboard focus is on its inner line edit, and a form's label names the box
    (its buddy), not that edit: a screen reader said only "edit" on the Port field. The edit
    takes the box's own name or else its label's text."""
    labels = {id(label.buddy()): label.text() for label in root.findChildren(QLabel)}
    for box in root.findChildren(QAbstractSpinBox):
        name = box.accessibleName() or re.sub(r"&(.)", r"\1", labels.get(id(box), ""))
        edit = box.findChild(QLineEdit)
        if name and edit is not None and not edit.accessibleName():
            edit.setAccessibleName(name)
