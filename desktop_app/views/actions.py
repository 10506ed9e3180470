"""The main window's actions, shortcuts and menus."""

from __future__ import annotations

import re
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu


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
    empty_trash: QAction
    select_all: QAction
    find: QAction
    preview: QAction
    refresh: QAction
    details_panel: QAction
    copy_link: QAction
    reprocess: QAction
    new_athlete: QAction
    rename_athlete: QAction
    about: QAction


translate = QCoreApplication.translate  # this name: lupdate reads translate("Context", "text")

# Keys that editable widgets use themselves (Space ticks a check box and presses a button,
# Delete and Shift+Delete edit text): these act on the grid's files only while the grid has
# the focus. The main window adds them to the grid (its context menu); the menus show them.
GRID_ONLY = ("preview", "trash", "delete", "select_all")  # Ctrl+A selects text in a field


def _action(
    window: QMainWindow,
    text: str,
    shortcut: QKeySequence.StandardKey | str | None = None,
    grid_only: bool = False,
) -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(
            Qt.ShortcutContext.WidgetWithChildrenShortcut
            if grid_only
            else Qt.ShortcutContext.WindowShortcut
        )
    if not grid_only:  # an action of the window is active wherever the focus is in it
        window.addAction(action)
    return action


def build_actions(window: QMainWindow) -> Actions:
    std = QKeySequence.StandardKey
    # Translated here, not at import: the language's translator is installed by then.
    specs: dict[str, tuple[str, QKeySequence.StandardKey | str | None]] = {
        "import_files": (translate("MainWindow", "&Import files…"), "Ctrl+I"),
        "import_folder": (translate("MainWindow", "Import &folder…"), "Ctrl+Shift+I"),
        "export": (translate("MainWindow", "&Export…"), "Ctrl+E"),
        "settings": (translate("MainWindow", "&Settings…"), "Ctrl+,"),
        "quit": (translate("MainWindow", "&Quit"), std.Quit),
        "rename": (translate("MainWindow", "&Rename"), "F2"),
        "trash": (translate("MainWindow", "Move to &trash"), "Delete"),
        "restore": (translate("MainWindow", "Re&store"), "Ctrl+R"),
        "delete": (translate("MainWindow", "&Delete permanently"), "Shift+Delete"),
        "undo_trash": (translate("MainWindow", "&Undo move to trash"), std.Undo),
        "empty_trash": (translate("MainWindow", "&Empty trash…"), None),
        "select_all": (translate("MainWindow", "Select &all"), std.SelectAll),
        "find": (translate("MainWindow", "&Find"), "Ctrl+F"),
        "preview": (translate("MainWindow", "&Preview"), "Space"),
        "refresh": (translate("MainWindow", "Re&fresh"), "F5"),
        # F8 as Lightroom's right panel; F7 stays free for the sidebar
        "details_panel": (translate("MainWindow", "&Details panel"), "F8"),
        "copy_link": (translate("MainWindow", "Copy &link"), "Ctrl+Shift+C"),
        "reprocess": (translate("MainWindow", "Process a&gain"), None),
        "new_athlete": (translate("MainWindow", "&New athlete…"), "Ctrl+N"),
        "rename_athlete": (translate("MainWindow", "&Rename athlete…"), None),
        "about": (translate("MainWindow", "&About MediaDesk"), None),
    }
    actions = Actions(
        **{name: _action(window, *spec, name in GRID_ONLY) for name, spec in specs.items()}
    )
    actions.undo_trash.setEnabled(False)  # until something is moved to the trash
    actions.empty_trash.setEnabled(False)  # until the counts say the trash holds files
    # the trash view's button shows the icon text: Qt's own drops the "…" that says a
    # question follows; no "&" either, whose Alt key would be the Edit menu's
    actions.empty_trash.setIconText(actions.empty_trash.text().replace("&", ""))
    # Enter opens the file too, as in a file manager (the grid only: Enter in a field saves)
    actions.preview.setShortcuts(
        [QKeySequence("Space"), QKeySequence("Return"), QKeySequence("Enter")]
    )
    actions.details_panel.setCheckable(True)
    actions.details_panel.setChecked(True)
    actions.quit.setMenuRole(QAction.MenuRole.QuitRole)
    actions.settings.setMenuRole(QAction.MenuRole.PreferencesRole)
    return actions


def build_menus(window: QMainWindow, a: Actions) -> None:
    bar = window.menuBar()
    file_menu = bar.addMenu(translate("MainWindow", "&File"))
    for action in (a.import_files, a.import_folder, a.export, None, a.settings, None, a.quit):
        file_menu.addSeparator() if action is None else file_menu.addAction(action)
    edit = bar.addMenu(translate("MainWindow", "&Edit"))
    edit.addAction(a.undo_trash)
    edit.addSeparator()
    edit.addAction(a.select_all)
    edit.addSeparator()
    for action in (
        a.rename,
        a.copy_link,
        a.reprocess,
        None,
        a.trash,
        a.restore,
        a.delete,
        a.empty_trash,
    ):
        edit.addSeparator() if action is None else edit.addAction(action)
    edit.addSeparator()
    edit.addAction(a.find)
    view = bar.addMenu(translate("MainWindow", "&View"))
    view.addAction(a.preview)
    view.addAction(a.refresh)
    view.addSeparator()
    view.addAction(a.details_panel)
    window.view_menu = view  # type: ignore[attr-defined]  # docks add their toggles here
    athletes = bar.addMenu(translate("MainWindow", "&Athletes"))
    athletes.addAction(a.new_athlete)
    athletes.addAction(a.rename_athlete)
    help_menu = bar.addMenu(translate("MainWindow", "&Help"))
    help_menu.addAction(a.about)


def _shown(text: str) -> str:
    return re.sub(r"&(.)", r"\1", text)  # the menus' "&" marks the Alt key ("&&" is an "&")


def command_name(action: QAction) -> str:
    """A command as a sentence names it, in the menus' own words: "File ▸ Import files…
    (Ctrl+I)", its keys as Qt writes them there (in Spanish "Control+I": a hint that said
    "Ctrl+I" beside a menu that said "Control+I" read as another key). The menu stays with the
    command, the keys with its name, when the sentence wraps (no-break spaces)."""
    menus = [m for m in action.associatedObjects() if isinstance(m, QMenu)]
    name = _shown(action.text())
    if menus:
        name = f"{_shown(menus[0].title())}\u00a0▸\u00a0{name}"
    keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
    return f"{name}\u00a0({keys})" if keys else name
