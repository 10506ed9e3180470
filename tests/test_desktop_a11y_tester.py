"""Accessibility defects an outside tester found with a high-contrast theme, a screen reader
and the keyboard alone (README, *The desktop app*).

The storage warning bar kept its pale yellow background but took the palette's text colour:
white on #fff4ce (1.04:1) on a dark theme. Tab over the docks tabbed behind Uploads gave each
of their controls the focus in turn, every one a focus change a screen reader announced. An
upload's failure and a batch's end were said to no one. In Spanish with a large font the
sidebar cut "Todos los archivos". Tabbed to, the upload queue's current row was its first, out
of sight, with no frame. The search box's clear button and the Sort, Scope and Jobs filter boxes
had no names of their own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import QItemSelectionModel, Qt  # noqa: E402
from PySide6.QtGui import QColor, QPalette  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QMainWindow, QWidget  # noqa: E402

from core.library import Library  # noqa: E402
from desktop_app.controllers.upload_controller import UploadController  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from desktop_app.models.upload_queue_model import UploadState  # noqa: E402
from desktop_app.views.main_window import MainWindow  # noqa: E402
from desktop_app.views.storage_banner import StorageProblemBar  # noqa: E402
from desktop_app.views.upload_dock import UploadDock  # noqa: E402
from tests.conftest import make_settings  # noqa: E402
from tests.qt_helpers import contrast, dark_colours, light_colours, themed, wait_for  # noqa: E402

Role = QPalette.ColorRole


@pytest.fixture(params=["en", "es"])
def language(request: pytest.FixtureRequest, qapp: Any) -> Iterator[str]:
    install_translations(request.param)
    yield request.param
    install_translations("en")


def _high_contrast_black() -> dict[QPalette.ColorRole, QColor]:
    """A system high-contrast black theme's (the tester's launch.py)."""
    black, white = QColor("#000000"), QColor("#ffffff")
    colours = {role: black for role in (Role.Window, Role.Base, Role.Button)}
    return colours | {role: white for role in (Role.WindowText, Role.Text, Role.ButtonText)}


THEMES = {"light": light_colours, "dark": dark_colours, "high-contrast black": _high_contrast_black}


def _bar_contrast(bar: StorageProblemBar) -> tuple[float, str, str]:
    """The bar's text colour against its drawn background."""
    QApplication.processEvents()
    background = QColor(bar.grab().toImage().pixel(2, 2))
    text = bar.label.palette().color(Role.WindowText)
    return contrast(text, background), background.name(), text.name()


def test_the_storage_bar_reads_on_light_dark_and_high_contrast_themes(
    qtbot: Any, tmp_path: Path
) -> None:
    # R2 chosen with only its bucket named: what the window opens with this bar for
    settings = replace(make_settings(tmp_path), storage_backend="r2", r2_bucket_name="b")
    with themed("Fusion") as use:
        for name, colours in THEMES.items():
            use(colours())  # the theme the window opens in
            window = QMainWindow()
            qtbot.addWidget(window)
            bar = StorageProblemBar(settings, window)
            window.addToolBar(bar)
            window.resize(900, 200)
            window.show()
            qtbot.waitExposed(window)
            ratio, background, text = _bar_contrast(bar)
            assert ratio >= 4.5, (name, background, text, ratio)
        # and a live switch back to a light theme, the bar shown
        use(light_colours())
        light = light_colours()[Role.Window]
        wait_for(qtbot, lambda: window.palette().color(Role.Window) == light)
        ratio, background, text = _bar_contrast(bar)
        assert ratio >= 4.5 and background == "#fff4ce", ("light again", background, text, ratio)


# ---- Tab over the docks behind another dock's tab -------------------------------------------
def _next_shown_stop(window: QWidget, start: QWidget, behind: Sequence[QWidget]) -> QWidget:
    """The first widget after `start` in the focus chain that Tab may stop at and that is on
    screen: shown, enabled, taking Tab focus itself, in none of the docks `behind` a tab."""
    widget = start.nextInFocusChain()
    while widget is not start:
        assert widget is not None  # the chain is a ring
        if (
            widget.window() is window
            and widget.isVisible()
            and widget.isEnabled()
            and widget.focusPolicy() & Qt.FocusPolicy.TabFocus == Qt.FocusPolicy.TabFocus
            and widget.focusProxy() is None
            and not any(dock.isAncestorOf(widget) for dock in behind)
        ):
            return widget
        widget = widget.nextInFocusChain()
    raise AssertionError("no stop")


@contextlib.contextmanager
def window_with_docks(qtbot: Any, library: Library) -> Iterator[MainWindow]:
    """The main window at 1366×768, active, its four docks shown (tabbed, Uploads in front)."""
    window = MainWindow(library, page_size=50)
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    try:
        wait_for(qtbot, lambda: not window.controller.grid.loading)
        for dock in (window.upload_dock, window.server_dock, window.storage_view, window.jobs_dock):
            dock.show()
        window.upload_dock.raise_()  # Uploads in front, as at the first start
        window.activateWindow()
        wait_for(qtbot, lambda: QApplication.activeWindow() is window)
        yield window
    finally:
        window.shutdown()


def test_one_tab_passes_the_docks_behind_a_tab_without_focusing_them(
    qtbot: Any, library: Library, announcements: Said
) -> None:
    with window_with_docks(qtbot, library) as window:
        behind = [window.server_dock, window.storage_view, window.jobs_dock]
        wait_for(qtbot, lambda: all(d.visibleRegion().isEmpty() for d in behind))
        # the upload dock's last enabled button in an empty queue: the docks come next
        start = window.upload_dock.folder_button
        start.setFocus(Qt.FocusReason.TabFocusReason)
        wait_for(qtbot, start.hasFocus)
        expected = _next_shown_stop(window, start, behind)
        focused: list[QWidget] = []
        app = QApplication.instance()
        assert isinstance(app, QApplication)

        def note(_old: QWidget | None, new: QWidget | None) -> None:
            if new is not None:
                focused.append(new)

        app.focusChanged.connect(note)
        announcements.state_changes = 0
        try:
            QTest.keyClick(start, Qt.Key.Key_Tab)
            assert QApplication.focusWidget() is expected, (QApplication.focusWidget(), expected)
            QTest.keyClick(expected, Qt.Key.Key_Backtab)
            assert QApplication.focusWidget() is start
        finally:
            app.focusChanged.disconnect(note)
        hidden = [w for w in focused if any(dock.isAncestorOf(w) for dock in behind)]
        assert not hidden, [f"{type(w).__name__} {w.objectName()}" for w in hidden]
        assert focused == [expected, start], focused
        # nothing else told to a screen reader (disabling the docks behind for Qt's own move
        # told it ~300 state changes a key press)
        assert announcements.state_changes == 0
        assert all(dock.widget().isEnabled() for dock in behind)


def test_tab_leaves_a_dock_put_behind_a_tab_while_it_had_the_focus(
    qtbot: Any, library: Library
) -> None:
    """The Server panel's Host field had the focus when Uploads came in front (a click on its
    tab, or files queued): Tab went on through the hidden panel's Port, Start…, unseen."""
    with window_with_docks(qtbot, library) as window:
        for key in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab):
            window.server_dock.raise_()
            wait_for(qtbot, lambda: not window.server_dock.visibleRegion().isEmpty())
            host = window.server_panel.host
            host.setFocus(Qt.FocusReason.TabFocusReason)
            wait_for(qtbot, host.hasFocus)
            window.upload_dock.raise_()
            wait_for(qtbot, lambda: window.server_dock.visibleRegion().isEmpty())
            QTest.keyClick(host, key)
            landed = QApplication.focusWidget()
            assert landed is not None and not window.server_dock.isAncestorOf(landed), landed
            assert not landed.visibleRegion().isEmpty(), landed


# ---- announcements ------------------------------------------------------------------------------
class Said(list[tuple[str, str]]):
    """The announcements, and how many state changes a screen reader was told meanwhile."""

    state_changes = 0


@pytest.fixture
def announcements(qapp: Any) -> Iterator[Said]:
    """What Qt hands a screen reader as announcements, (text, "polite" or "assertive"), caught
    by Qt's own update handler (QAccessible::installUpdateHandler, which PySide6 leaves out:
    called through ctypes) in place of the platform's bridge, with accessibility active."""
    import ctypes

    import PySide6
    import shiboken6
    from PySide6.QtGui import QAccessible, QAccessibleAnnouncementEvent, QAccessibleEvent

    gui = ctypes.CDLL(str(Path(PySide6.__file__).parent / "Qt" / "lib" / "libQt6Gui.so.6"))
    install = gui["_ZN11QAccessible20installUpdateHandlerEPFvP16QAccessibleEventE"]
    install.restype, install.argtypes = ctypes.c_void_p, [ctypes.c_void_p]
    said = Said()

    def handler(pointer: int) -> None:
        event = shiboken6.wrapInstance(pointer, QAccessibleEvent)
        assert isinstance(event, QAccessibleEvent)
        if event.type() == QAccessible.Event.StateChanged:
            said.state_changes += 1
        if event.type() == QAccessible.Event.Announcement:
            announcement = shiboken6.wrapInstance(pointer, QAccessibleAnnouncementEvent)
            assert isinstance(announcement, QAccessibleAnnouncementEvent)
            polite = announcement.politeness() == QAccessible.AnnouncementPoliteness.Polite
            said.append((announcement.message(), "polite" if polite else "assertive"))

    callback = ctypes.CFUNCTYPE(None, ctypes.c_void_p)(handler)
    was_active = QAccessible.isActive()
    before = install(ctypes.cast(callback, ctypes.c_void_p))
    QAccessible.setActive(True)
    try:
        yield said
    finally:
        QAccessible.setActive(was_active)
        install(before)


def _photos(folder: Path, count: int) -> list[Path]:
    from PIL import Image

    folder.mkdir()
    paths = []
    for n in range(count):
        path = folder / f"photo_{n}.jpg"
        Image.new("RGB", (32, 24), (10 * n, 90, 200)).save(path, "JPEG")
        paths.append(path)
    return paths


def test_a_batchs_end_and_a_failure_are_announced_once(
    qtbot: Any,
    library: Library,
    tmp_path: Path,
    announcements: list[tuple[str, str]],
    language: str,
) -> None:
    controller = UploadController(library, max_parallel=2, persist=False)
    dock = UploadDock(controller)
    qtbot.addWidget(dock)
    dock.show()
    try:
        photos = _photos(tmp_path / "drop", 12)
        text = tmp_path / "drop" / "notes.jpg"
        text.write_text("just text\n")  # no image: refused for its content
        controller.add_paths([tmp_path / "drop"])
        wait_for(qtbot, lambda: dock.model.count(UploadState.DONE) == len(photos))
        wait_for(qtbot, lambda: any(p == "polite" for _, p in announcements))
        wait_for(qtbot, lambda: len(announcements) >= 2)
        failures = [t for t, p in announcements if p == "assertive"]
        said = {"en": "notes.jpg was not uploaded: ", "es": "notes.jpg no se ha subido: "}
        assert len(failures) == 1 and failures[0].startswith(said[language]), announcements
        failed = [i for i in dock.model.items() if i.state == UploadState.FAILED]
        assert len(failed) == 1 and failed[0].reason in failures[0], failures  # why, too
        # twelve files, one sentence: never one announcement a file
        done = {"en": "12 files uploaded", "es": "12 archivos subidos"}[language]
        assert [t for t, p in announcements if p == "polite"] == [done]
        assert len(announcements) == 2, announcements
    finally:
        controller.shutdown()


# ---- the sidebar in Spanish with a large font ---------------------------------------------
@pytest.fixture
def spanish_large_font(qapp: Any) -> Iterator[None]:
    """Spanish, and the font half as large again (as QT_FONT_DPI=144 makes it)."""
    from PySide6.QtGui import QFont

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    kept = QFont(app.font())
    large = QFont(kept)
    large.setPointSizeF(kept.pointSizeF() * 1.5)
    install_translations("es")
    app.setFont(large)
    try:
        yield
    finally:
        app.setFont(kept)
        install_translations("en")


@pytest.mark.usefixtures("spanish_large_font")
def test_the_sidebars_labels_show_whole_in_spanish_with_a_large_font(
    qtbot: Any, library: Library
) -> None:
    from PySide6.QtGui import QFont, QFontMetrics

    window = MainWindow(library, page_size=50)
    qtbot.addWidget(window)
    window.resize(1024, 700)  # narrow: the sidebar gives way to the grid, down to its least
    window.show()
    try:
        wait_for(qtbot, lambda: not window.controller.grid.loading)
        sidebar, model = window.sidebar, window.controller.sidebar
        wait_for(qtbot, lambda: model.hint_index().isValid())
        entries = [model.index(group, 0) for group in range(model.rowCount())]
        for heading in list(entries):
            entries += [model.index(row, 0, heading) for row in range(model.rowCount(heading))]
        assert "Todos los archivos" in [index.data() for index in entries]

        def cut() -> list[str]:
            short = []
            for index in entries:
                font = index.data(Qt.ItemDataRole.FontRole)
                font = QFont(font).resolve(sidebar.font()) if font else sidebar.font()
                need = QFontMetrics(font).horizontalAdvance(index.data()) + 8
                if sidebar.visualRect(index).width() < need:
                    short.append(f"{index.data()}: {sidebar.visualRect(index).width()} of {need}")
            return short

        wait_for(qtbot, lambda: not cut())
    finally:
        window.shutdown()


# ---- the upload queue tabbed to -----------------------------------------------------------------
def test_tab_into_the_queue_lands_on_a_row_in_sight_with_a_frame(
    qtbot: Any, library: Library
) -> None:
    controller = UploadController(library, max_parallel=1, persist=False)
    dock = UploadDock(controller)
    qtbot.addWidget(dock)
    dock.resize(700, 260)  # a few rows in sight of forty
    dock.show()
    try:
        model, table = dock.model, dock.table
        rows = [model.add(Path(f"/tmp/queued_{n:02}.jpg"), 10) for n in range(40)]
        with model.batch():
            for item in rows:
                model.set_state(item.id, UploadState.CANCELLED)
        # the first row current, as Qt leaves it, then scrolled away (as by a failure below)
        first = table.model().index(0, 0)
        table.selectionModel().setCurrentIndex(first, QItemSelectionModel.SelectionFlag.NoUpdate)
        table.scrollToBottom()
        wait_for(
            qtbot,
            lambda: not table.visualRect(table.currentIndex()).intersects(table.viewport().rect()),
        )
        dock.activateWindow()
        wait_for(qtbot, lambda: QApplication.activeWindow() is dock)
        dock.filter_box.setFocus(Qt.FocusReason.TabFocusReason)
        wait_for(qtbot, dock.filter_box.hasFocus)
        QTest.keyClick(dock.filter_box, Qt.Key.Key_Tab)
        assert QApplication.focusWidget() is table
        current = table.currentIndex()
        assert current.isValid() and table.viewport().rect().contains(table.visualRect(current))
        assert not table.selectionModel().hasSelection()  # what the buttons act on is kept
        # the frame: the row's top edge drawn in the text's colour, most of its width
        row = table.current_row_rect()
        image = table.viewport().grab().toImage()
        ink = table.palette().color(QPalette.ColorRole.Text)
        edge = [QColor(image.pixel(x, row.top())) for x in range(row.left(), row.right())]
        assert sum(c == ink for c in edge) > 0.9 * len(edge), (ink.name(), edge[::40])
    finally:
        controller.shutdown()


# ---- names ---------------------------------------------------------------------------------
def _labelled_by(widget: QWidget) -> list[str]:
    """The texts of the labels a screen reader on Linux reads beside `widget`'s value (AT-SPI's
    labelled-by relation: Qt's Label relation, from a label's buddy)."""
    from PySide6.QtGui import QAccessible

    iface = QAccessible.queryAccessibleInterface(widget)
    assert iface is not None
    return [
        other.text(QAccessible.Text.Name)
        for other, _relation in iface.relations(QAccessible.RelationFlag.Label)
    ]


NAMES = {  # English: Spanish
    "Clear the search": "Borrar la búsqueda",
    "Sort": "Orden",
    "Sort:": "Orden:",
    "Scope": "Alcance",
    "Jobs shown": "Trabajos mostrados",
    "Show:": "Mostrar:",
    "Uploads shown": "Subidas mostradas",
}


def test_the_clear_button_and_the_boxes_have_names_of_their_own(
    qtbot: Any, library: Library, language: str
) -> None:
    def said(english: str) -> str:
        return NAMES[english] if language == "es" else english

    from PySide6.QtGui import QAccessible
    from PySide6.QtWidgets import QToolButton

    window = MainWindow(library, page_size=50)
    qtbot.addWidget(window)
    window.show()
    try:
        wait_for(qtbot, lambda: not window.controller.grid.loading)
        search = window.browser.search
        search.setText("x")  # the clear button shows with a search in the box
        clear = [b for b in search.findChildren(QToolButton) if b.isVisibleTo(search)]
        assert len(clear) == 1
        iface = QAccessible.queryAccessibleInterface(clear[0])
        assert iface is not None
        assert iface.text(QAccessible.Text.Name) == said("Clear the search")
        boxes = {
            "Sort": (window.browser.sort, "Sort:"),
            "Scope": (window.server_panel.scope, "Scope"),
            "Jobs shown": (window.jobs_dock.filter, "Show:"),
            "Uploads shown": (window.upload_dock.filter_box, None),
        }
        for name, (box, label) in boxes.items():
            assert box.accessibleName() == said(name), (name, box.accessibleName())
            if label is not None:
                assert said(label) in _labelled_by(box), (name, _labelled_by(box))
    finally:
        window.shutdown()
