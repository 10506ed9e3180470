"""The main window's actions, shortcuts and menus."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow


@dataclass
class Actions:
    import_files: QAction
    import_folder: QAction
    export: QAction
    settings: QAction
    quit: QAction
    rename: QAction
    trash: QAction
    restore: QAction
    delete: QAction
    undo_trash: QAction
    find: QAction
    preview: QAction
    refresh: QAction
    copy_link: QAction
    new_athlete: QAction
    rename_athlete: QAction
    about: QAction


def _action(window: QMainWindow, text: str, shortcut: QKeySequence | str | None = None) -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    window.addAction(action)
    return action


def build_actions(window: QMainWindow) -> Actions:
    std = QKeySequence.StandardKey
    actions = Actions(
        import_files=_action(
            window, QCoreApplication.translate("MainWindow", "&Import files…"), "Ctrl+I"
        ),
        import_folder=_action(
            window, QCoreApplication.translate("MainWindow", "Import &folder…"), "Ctrl+Shift+I"
        ),
        export=_action(window, QCoreApplication.translate("MainWindow", "&Export…"), "Ctrl+E"),
        settings=_action(window, QCoreApplication.translate("MainWindow", "&Settings…"), "Ctrl+,"),
        quit=_action(
            window, QCoreApplication.translate("MainWindow", "&Quit"), QKeySequence(std.Quit)
        ),
        rename=_action(window, QCoreApplication.translate("MainWindow", "&Rename"), "F2"),
        trash=_action(window, QCoreApplication.translate("MainWindow", "Move to &trash"), "Delete"),
        restore=_action(window, QCoreApplication.translate("MainWindow", "Re&store"), "Ctrl+R"),
        delete=_action(
            window, QCoreApplication.translate("MainWindow", "&Delete permanently"), "Shift+Delete"
        ),
        undo_trash=_action(
            window,
            QCoreApplication.translate("MainWindow", "&Undo move to trash"),
            QKeySequence(std.Undo),
        ),
        find=_action(window, QCoreApplication.translate("MainWindow", "&Find"), "Ctrl+F"),
        preview=_action(window, QCoreApplication.translate("MainWindow", "&Preview"), "Space"),
        refresh=_action(window, QCoreApplication.translate("MainWindow", "Re&fresh"), "F5"),
        copy_link=_action(
            window, QCoreApplication.translate("MainWindow", "Copy &link"), "Ctrl+Shift+C"
        ),
        new_athlete=_action(
            window, QCoreApplication.translate("MainWindow", "&New athlete…"), "Ctrl+N"
        ),
        rename_athlete=_action(
            window, QCoreApplication.translate("MainWindow", "&Rename athlete…")
        ),
        about=_action(window, QCoreApplication.translate("MainWindow", "&About MediaDesk")),
    )
    actions.undo_trash.setEnabled(False)  # until something is moved to the trash
    actions.quit.setMenuRole(QAction.MenuRole.QuitRole)
    actions.settings.setMenuRole(QAction.MenuRole.PreferencesRole)
    return actions


def build_menus(window: QMainWindow, a: Actions) -> None:
    bar = window.menuBar()
    file_menu = bar.addMenu(QCoreApplication.translate("MainWindow", "&File"))
    for action in (a.import_files, a.import_folder, a.export, None, a.settings, None, a.quit):
        file_menu.addSeparator() if action is None else file_menu.addAction(action)
    edit = bar.addMenu(QCoreApplication.translate("MainWindow", "&Edit"))
    edit.addAction(a.undo_trash)
    edit.addSeparator()
    for action in (a.rename, a.copy_link, None, a.trash, a.restore, a.delete, None, a.find):
        edit.addSeparator() if action is None else edit.addAction(action)
    view = bar.addMenu(QCoreApplication.translate("MainWindow", "&View"))
    view.addAction(a.preview)
    view.addAction(a.refresh)
    window.view_menu = view  # type: ignore[attr-defined]  # docks add their toggles here
    athletes = bar.addMenu(QCoreApplication.translate("MainWindow", "&Athletes"))
    athletes.addAction(a.new_athlete)
    athletes.addAction(a.rename_athlete)
    help_menu = bar.addMenu(QCoreApplication.translate("MainWindow", "&Help"))
    help_menu.addAction(a.about)
