"""Tables the user reads but never edits: tokens, jobs, storage figures, a save conflict."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableWidget,
    QWidget,
)

from desktop_app.views.colors import set_focus_frame


class MiddleElideDelegate(QStyledItemDelegate):
    """File names keep their start and their extension when shortened."""

    def initStyleOption(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        super().initStyleOption(option, index)
        option.textElideMode = Qt.TextElideMode.ElideMiddle


def tab_leaves(view: QAbstractItemView) -> None:
    """Tab and Shift+Tab go on to the next widget; the arrows move within. Tables default to
    Tab moving cell by cell, which trapped the keyboard in the upload queue (five Tabs a row)."""
    view.setTabKeyNavigation(False)


def select_row_alone(view: QAbstractItemView, index: QModelIndex) -> None:
    """Makes `index`'s row the current and only selected one, whatever keys are held:
    selectRow() reads the held modifiers, and a Shift still down (Shift+F10, a Shift+click, a
    refresh during Shift+Tab) made it a range from the view's last anchor."""
    flags = QItemSelectionModel.SelectionFlag
    view.selectionModel().setCurrentIndex(index, flags.ClearAndSelect | flags.Rows)


def read_only_table(parent: QWidget, headers: list[str], stretch: int | None = 0) -> QTableWidget:
    """No row numbers, no editing, whole rows selected; column `stretch` takes the spare width
    (None: every column shares it). Framed while it has the focus (set_focus_frame): Fusion
    drew it alike focused or not, and Tab reached the Server panel's tokens showing nothing."""
    table = QTableWidget(0, len(headers), parent)
    set_focus_frame(table)
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().hide()
    tab_leaves(table)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    if stretch is None:
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    else:
        table.horizontalHeader().setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return table
