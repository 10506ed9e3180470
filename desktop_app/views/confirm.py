"""The one question asked before anything that cannot be undone.

The safe button (Cancel) is the default and the Escape answer, so a stray Enter or a
reflexive Shift+Delete never destroys anything; the message names what is affected and says
that it cannot be undone.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication, QObject
from PySide6.QtWidgets import QGridLayout, QMessageBox, QSizePolicy, QSpacerItem, QWidget

from desktop_app.views.message_box import plain_text, title_width

NAMES_SHOWN = 5


class Confirm(QObject):
    """The translation context of these module-level texts.

    Its tr() is what makes pyside6-lupdate record "…and %Ln more" as a plural: it reads the
    n of QCoreApplication.translate() only when it is a literal number.
    """


def names_text(names: Sequence[str], shown: int = NAMES_SHOWN) -> str:
    """The first few names, one a line, then "…and N more"."""
    lines = [f"• {name}" for name in names[:shown]]
    more = len(names) - shown
    if more > 0:
        # Called on the class (the stubs only know the bound form): lupdate takes the
        # context from the receiver, an instance would record an empty one.
        lines.append(Confirm.tr("…and %Ln more", "", more))  # type: ignore[arg-type]
    return "\n".join(lines)


def irreversible_box(
    parent: QWidget | None, title: str, question: str, names: Sequence[str], confirm_label: str
) -> tuple[QMessageBox, object]:
    """The question box and its destructive button (exposed for tests and screenshots)."""
    box = QMessageBox(
        QMessageBox.Icon.Warning, title, question, QMessageBox.StandardButton.NoButton, parent
    )
    parts = [names_text(names)] if names else []
    parts.append(QCoreApplication.translate("Confirm", "This cannot be undone."))
    box.setInformativeText("\n\n".join(parts))
    plain_text(box)
    destroy = box.addButton(confirm_label, QMessageBox.ButtonRole.DestructiveRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(cancel)
    box.setEscapeButton(cancel)
    box.setObjectName("confirm-irreversible")
    _fit_title(box, title)
    return box, destroy


def _fit_title(box: QMessageBox, title: str) -> None:
    """Wide enough for the window manager to show the title whole: sized to its question,
    the box's title bar read "Eliminar definitiv…te — MediaDesk". A QMessageBox sizes itself
    from its layout (setMinimumWidth is not kept), so a strut goes across the layout."""
    layout = box.layout()
    screen = box.screen().availableGeometry().width() if box.screen() else 1024
    width = min(title_width(title, box.font()), int(screen * 0.8))
    if isinstance(layout, QGridLayout):
        strut = QSpacerItem(width, 0, QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Minimum)
        layout.addItem(strut, layout.rowCount(), 0, 1, layout.columnCount())


def confirm_irreversible(
    parent: QWidget | None, title: str, question: str, names: Sequence[str], confirm_label: str
) -> bool:
    """Asks (modal); True only when the destructive button was pressed."""
    box, destroy = irreversible_box(parent, title, question, names, confirm_label)
    box.exec()
    return box.clickedButton() is destroy
