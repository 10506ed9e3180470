"""The one warning box for errors: translated text, the technical detail behind "Show Details…";
and the one box asking for a short text (a new athlete's or a token's name)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics, QGuiApplication, QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QSizePolicy,
    QSpacerItem,
    QWidget,
)

from desktop_app.errors import ErrorMessage


def plain_text(box: QMessageBox) -> QMessageBox:
    """Shows the box's text and informative text as plain text: they carry file names, which
    anyone with an upload token sets, and Qt's default (AutoText) rendered a name such as
    `<font color=#fff size=1>a.jpg` as markup, hiding "This cannot be undone." Call it after
    setInformativeText (Qt makes that label on first use)."""
    box.setTextFormat(Qt.TextFormat.PlainText)
    for label in box.findChildren(QLabel):
        label.setTextFormat(Qt.TextFormat.PlainText)
    return box


def open_warning(parent: QWidget, title: str, message: ErrorMessage) -> QMessageBox:
    """Shows a non-blocking warning box that deletes itself when closed."""
    box = QMessageBox(
        QMessageBox.Icon.Warning, title, message.display(), QMessageBox.StandardButton.Ok, parent
    )
    if message.detail and not message.detail_matters:
        # labelled as every other technical detail ("Technical detail: …"): bare, core's
        # English words read as part of a Spanish box
        box.setDetailedText(message.technical())
    plain_text(box)
    fit_title(box, title)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


def fit_title(box: QMessageBox, title: str) -> None:
    """Widens `box` to show `title` whole: a message box is as wide as its text, and a short
    sentence under "Changes not saved" made the title bar read "No se guardaron l… bios".
    (QMessageBox fixes its size from its layout's minimum width: a spacer row widens it.)"""
    screen = box.screen().availableGeometry().width() if box.screen() else 1024
    width = min(title_width(title, box.font()), int(screen * 0.8))
    layout = box.layout()
    if isinstance(layout, QGridLayout):
        spacer = QSpacerItem(width, 0, QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed)
        layout.addItem(spacer, layout.rowCount(), 0, 1, layout.columnCount())


# Room the window manager takes beside a title: the icon and the three buttons of the title bar
TITLE_BAR_EXTRA = 150


def title_width(title: str, font: QFont) -> int:
    """The width a dialog needs for the window manager to show `title` whole, with the
    application's name Qt adds to it ("New athlete — MediaDesk"), in a bold title font."""
    name = QGuiApplication.applicationDisplayName()
    shown = f"{title} \u2014 {name}" if name and name != title else title
    bold = QFont(font)
    bold.setBold(True)
    bold.setPointSizeF(bold.pointSizeF() * 1.1)  # title fonts are often a little larger
    return QFontMetrics(bold).horizontalAdvance(shown) + TITLE_BAR_EXTRA


class NameDialog(QInputDialog):
    """Asks for a name (an athlete's, an API token's): OK with an empty one closed the box and
    nothing was made, not a word why. OK (and Enter) wait for a name; spaces are none."""

    def __init__(self, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.textValueChanged.connect(self._follow)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        self._follow(self.textValue())  # (QInputDialog enables OK as it is shown)

    def _follow(self, value: str) -> None:
        buttons = self.findChild(QDialogButtonBox)
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok) if buttons is not None else None
        if ok is not None:
            ok.setEnabled(bool(value.strip()))


def text_dialog(parent: QWidget | None, title: str, label: str, text: str = "") -> QInputDialog:
    """The box of `ask_text`, wide enough for its title (QInputDialog.getText's is not:
    the title bar read "New at…aDesk")."""
    dialog = NameDialog(parent)
    dialog.setInputMode(QInputDialog.InputMode.TextInput)
    dialog.setWindowTitle(title)
    dialog.setLabelText(label)
    dialog.setTextValue(text)
    screen = dialog.screen().availableGeometry().width() if dialog.screen() else 1024
    width = min(title_width(title, dialog.font()), int(screen * 0.8))
    # The dialog's own layout sets its minimum size from its children: widen the text field
    margins = dialog.contentsMargins().left() + dialog.contentsMargins().right() + 24
    for field in dialog.findChildren(QLineEdit):
        field.setMinimumWidth(width - margins)
    return dialog


def ask_text(parent: QWidget | None, title: str, label: str, text: str = "") -> tuple[str, bool]:
    """Asks for one line of text (modal), like QInputDialog.getText: (text, accepted)."""
    dialog = text_dialog(parent, title, label, text)
    try:
        accepted = dialog.exec() == QDialog.DialogCode.Accepted
        return dialog.textValue(), accepted
    finally:
        dialog.deleteLater()
