"""How the main window shares its width: the thumbnail grid before the side panes.

At 1024 px (a small laptop, a projector) the sidebar and the details panel kept the widths they
start with at 1360 px, and the grid showed one column beside an empty details panel. As in
digiKam or Lightroom, the side panes give way first: down to their minimums (never clipping
their translated labels) until the grid has room for `GRID_COLUMNS` columns.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QCoreApplication, QDataStream, QEvent, QSize, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QResizeEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QSplitter,
    QStyle,
    QVBoxLayout,
    QWidget,
)

GRID_COLUMNS = 3  # the side panes give up width until the grid has this many columns
# the sidebar's narrowest at any font; wider where its labels need it (SidebarView.minimumSizeHint)
SIDEBAR_MIN_WIDTH = 180


def grid_width(grid: QListView, columns: int) -> int:
    """The width the grid's widget needs to lay out this many columns (scroll bar included)."""
    cell = grid.gridSize().width()
    scroll_bar = grid.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, grid)
    return columns * cell + grid.spacing() + 2 * grid.frameWidth() + scroll_bar


def least_width(widget: QWidget) -> int:
    """The narrowest a pane may be: its explicit minimum or, when wider, what its content needs."""
    return max(widget.minimumWidth(), widget.minimumSizeHint().width())


class MainSplitter(QSplitter):
    """Sidebar | browser | details; on every resize of the window the grid is served first.

    The side panes keep the widths they were given (at the start, from the saved state, or by
    dragging a handle) wherever the grid has its columns beside them, give way where it has
    not, and come back as the window widens again.
    """

    def __init__(self, sidebar: QWidget, browser: QWidget, details: QWidget, grid: QListView):
        super().__init__()
        self.setObjectName("main-splitter")
        for pane in (sidebar, browser, details):
            self.addWidget(pane)
        self.grid = grid
        self.setStretchFactor(1, 1)  # a wider window widens the grid alone
        self.setChildrenCollapsible(False)
        self._preferred: list[int] | None = None  # the side panes' widths when there is room
        self.splitterMoved.connect(self._remember)

    def _remember(self, *_: object) -> None:
        # a hidden pane shows as 0 wide: it keeps the width it had, to come back with it
        now, kept = self.sizes(), self._preferred or self._kept_widths()
        self._preferred = [kept[p] if self._hidden(p) else now[p] for p in range(3)]

    def _hidden(self, pane: int) -> bool:
        widget = self.widget(pane)
        return widget is None or widget.isHidden()

    def _kept_widths(self) -> list[int]:
        """The widths the splitter keeps for its panes, hidden ones too (sizes() gives those
        0): read from its saved state, the one place Qt exposes them."""
        stream = QDataStream(self.saveState())
        stream.setVersion(QDataStream.Version.Qt_5_0)  # QSplitter::saveState's
        stream.readInt32()  # the splitter's magic number
        stream.readInt32()  # its version
        return [stream.readInt32() for _ in range(stream.readInt32())]

    def show_pane(self, pane: int, shown: bool) -> None:
        """Shows or hides a side pane; hidden, its width goes to the grid (more columns), shown
        again it comes back as wide as before, narrower where the grid needs the room."""
        widget = self.widget(pane)
        if widget is None or widget.isHidden() != shown:
            return
        if not self.isVisible():  # restoring the layout: the first resize fits the grid
            widget.setVisible(shown)
            return
        if self._preferred is None:
            self._remember()
        widget.setVisible(shown)
        # the splitter lays its panes out again on a posted request: now, to fit the grid to it
        QCoreApplication.sendPostedEvents(self, QEvent.Type.LayoutRequest)
        self.fit_grid()

    def restoreState(self, state: QByteArray | bytes | bytearray | memoryview) -> bool:  # noqa: N802
        restored = super().restoreState(state)
        self._preferred = None  # the restored widths, read at the next layout
        return restored

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self.fit_grid()

    def fit_grid(self) -> None:
        if self._preferred is None:
            self._remember()
        assert self._preferred is not None
        now = self.sizes()
        hidden = [self._hidden(pane) for pane in range(3)]
        # a hidden pane is given its kept width, which the splitter leaves out of the layout
        # until it is shown again (0 would bring it back at its narrowest)
        sizes = list(self._preferred)
        sizes[1] = sum(now) - sum(sizes[pane] for pane in (0, 2) if not hidden[pane])
        short = grid_width(self.grid, GRID_COLUMNS) - sizes[1]
        for pane in (2, 0):  # the details first: the sidebar is how one gets around
            widget = self.widget(pane)
            if short <= 0 or widget is None or hidden[pane]:
                continue
            give = max(0, min(short, sizes[pane] - least_width(widget)))
            sizes[pane] -= give
            sizes[1] += give
            short -= give
        if any(sizes[pane] != now[pane] for pane in range(3) if not hidden[pane]):
            self.setSizes(sizes)


SEARCH_MIN_WIDTH = 200  # a search box narrower than this showed "Buscar en nombr…" at 1024 px


class CountLabel(QLabel):
    """A count beside the search box whose width only grows (`make_room`): its text took its
    width from the search box, which moved 8 px at each digit the count gained or lost (from
    view to view, a file trashed, "9 files" to "10 files"), and took "Orden:" away or brought
    it back with it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._room = 0

    def make_room(self, text: str) -> None:
        """At least as wide as `text` from now on."""
        margins = self.contentsMargins()
        room = (
            self.fontMetrics().horizontalAdvance(text)
            + margins.left()
            + margins.right()
            + 2 * self.margin()
        )
        if room > self._room:
            self._room = room
            self.updateGeometry()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        hint = super().sizeHint()
        return QSize(max(hint.width(), self._room), hint.height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        hint = super().minimumSizeHint()
        return QSize(max(hint.width(), self._room), hint.height())


class ToolbarRow(QWidget):
    """The browser's row above the grid: the search box, then labels that step aside for it.

    The search box keeps `SEARCH_MIN_WIDTH`; when the row is narrower than everything at its
    natural width (the search box as wide as its placeholder), the `yielding` widgets hide in
    their order (each has a stand-in elsewhere: the sort box's tooltip, the counts in the
    sidebar and the status bar), and come back when there is room. Narrower still, the other
    widgets go to a second row below the search box (there the labels come back if they fit):
    at 1024 px in Spanish the sort order, or the trash's "Vaciar la papelera…", left the box
    200 px of its 359 ("Buscar en nombres de archivo…"); and the trailing widgets (the trash's
    button) to a third when the second has no room for them.

    The row's minimum is what its narrowest arrangement needs, each row of it whole, the labels
    left out, so they never widen the window: asking for the search box and the sort order side
    by side, it made an 800 px window 886 px wide with the details panel (Spanish).
    """

    def __init__(self, widgets: list[QWidget], yielding: list[QWidget]) -> None:
        """`widgets` in their order in the row, the search box first."""
        super().__init__()
        self.search = widgets[0]
        self.widgets = widgets
        self.yielding = yielding
        self.rows = 1  # the rows the widgets are laid out on: after the search box, or below it
        self._trailing: list[QWidget] = []  # add_widget's: at the end of the last row
        self.search.setMinimumWidth(SEARCH_MIN_WIDTH)
        rows = QVBoxLayout(self)
        rows.setContentsMargins(0, 0, 0, 4)
        row = self.row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.search, 1)
        for widget in widgets[1:]:
            row.addWidget(widget)
        rows.addLayout(row)
        self.second = QHBoxLayout()
        self.third = QHBoxLayout()
        for below in (self.second, self.third):
            below.setContentsMargins(0, 0, 0, 0)
            rows.addLayout(below)

    @property
    def wrapped(self) -> bool:
        """Whether the widgets after the search box are on a row below it."""
        return self.rows > 1

    def add_widget(self, widget: QWidget) -> None:
        """A widget at the row's end that never steps aside (shown in some views only)."""
        self.widgets.append(widget)
        self._trailing.append(widget)
        layout = {1: self.row, 2: self.second}.get(self.rows, self.third)
        if len(self._trailing) == 1 and self.rows > 1:
            layout.addStretch(1)  # at the row's end, as on one row
        layout.addWidget(widget)
        # Tab in reading order: right after the row's last stop. Made after the grid and the
        # docks, Qt put it at the window's end (the trash's button after the docks' tab bar).
        stops = [w for w in self.widgets[:-1] if w.focusPolicy() & Qt.FocusPolicy.TabFocus]
        if stops:
            QWidget.setTabOrder(stops[-1], widget)

    def _need(self, widgets: list[QWidget]) -> int:
        margins = self.row.contentsMargins()
        spacing = self.row.spacing()
        if spacing < 0:  # the style's, where the layout has none of its own
            metric = QStyle.PixelMetric.PM_LayoutHorizontalSpacing
            spacing = max(0, self.style().pixelMetric(metric))
        widths = [SEARCH_MIN_WIDTH if w is self.search else w.sizeHint().width() for w in widgets]
        return sum(widths) + spacing * (len(widths) - 1) + margins.left() + margins.right()

    def _search_wants(self) -> int:
        """The search box's width for its whole placeholder ("…(Ctrl+F)"): at 950 px it lost a
        letter of it for every digit the file count gained ("…(Ct" at 301 files)."""
        search = self.search
        if not isinstance(search, QLineEdit) or not search.placeholderText():
            return SEARCH_MIN_WIDTH
        text = search.fontMetrics().horizontalAdvance(search.placeholderText())
        # the frame and the text's margins (as the box's own size hint counts them), and the
        # clear button, which takes its room beside the text once something is typed
        frame = search.sizeHint().width() - search.fontMetrics().horizontalAdvance("x" * 17)
        clear = search.style().pixelMetric(QStyle.PixelMetric.PM_SmallIconSize, None, search)
        return max(SEARCH_MIN_WIDTH, text + max(frame, 0) + clear + 8)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self.fit()

    def event(self, event: QEvent) -> bool:
        handled = super().event(event)
        if event.type() == QEvent.Type.LayoutRequest:  # a label's text changed (the count)
            self.fit()
        return handled

    def _present(self, widgets: list[QWidget]) -> list[QWidget]:
        # a widget hidden by its view (not by this row) takes no room
        return [w for w in widgets if w in self.yielding or not w.isHidden()]

    def _fitting(self, widgets: list[QWidget], more: int = 0) -> list[QWidget]:
        """`widgets` without the labels that must step aside for them to fit the row's width
        (`more`: the room wanted beside them), the first label first."""
        shown = self._present(widgets)
        for widget in self.yielding:
            if self._need(shown) + more <= self.width():
                break
            if widget in shown:
                shown.remove(widget)
        return shown

    def fit(self) -> None:
        # the labels step aside for the search box's whole placeholder, not only its minimum
        more = self._search_wants() - SEARCH_MIN_WIDTH
        # The labels are those a view without the trailing widgets shows at this width, in
        # every view: the trash's button took "Orden:" away on one row, or brought it back on
        # the second, so it came and went (the search box's width with it) as the user went
        # from view to view. The trailing widgets make the row wrap instead.
        _rows, kept = self._arrangement([w for w in self.widgets if w not in self._trailing], more)
        widgets = [w for w in self.widgets if w not in self.yielding or w in kept]
        rows, shown = self._arrangement(widgets, more, keep=True)
        self._arrange(rows)
        for widget in self.yielding:
            widget.setVisible(widget in shown)

    def _arrangement(
        self, widgets: list[QWidget], more: int, keep: bool = False
    ) -> tuple[int, list[QWidget]]:
        """The rows `widgets` take at this width and those of them shown; `keep`: the labels
        stay on one row or the row wraps (they do not step aside for a trailing widget)."""
        shown = self._present(widgets) if keep else self._fitting(widgets, more)
        if self._need(shown) + more <= self.width():
            return 1, shown
        # the search box alone on its row; on the second, the labels that fit there
        shown = self._fitting(widgets[1:])
        if self._need(shown) > self.width() and self._present(
            [w for w in widgets if w in self._trailing]
        ):
            # the trailing widgets on a row of their own
            return 3, self._fitting([w for w in widgets[1:] if w not in self._trailing])
        return 2, shown

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        """The narrowest the row can be: each row of its narrowest arrangement whole. (Not
        setMinimumWidth: set while the row was being laid out, the browser kept the grid
        where a second row had come.)"""
        after = [w for w in self.widgets[1:] if w not in self.yielding and w not in self._trailing]
        rows = [[self.search], self._present(after), self._present(self._trailing)]
        least = max(self._need(row) for row in rows if row)
        return QSize(least, super().minimumSizeHint().height())

    def _arrange(self, rows: int) -> None:
        if rows == self.rows:
            return  # (moving the widgets asks for a layout, which fits again)
        self.rows = rows
        for layout in (self.row, self.second, self.third):
            for widget in self.widgets[1:]:
                layout.removeWidget(widget)
        for below in (self.second, self.third):
            while below.count():  # the stretch before the trailing widgets
                below.takeAt(0)
        for widget in self.widgets[1:]:
            trailing = widget in self._trailing
            target = (
                self.row if rows == 1 else self.third if rows == 3 and trailing else self.second
            )
            if rows > 1 and self._trailing and widget is self._trailing[0]:
                target.addStretch(1)  # the trash's button at the row's end, as on one row
            target.addWidget(widget)
        # The row's height changed: the browser lays the grid out again below it. Once the
        # layout pass under way is over: told while the browser laid the row out (a window
        # narrowed, F8), the browser kept the grid where one row had ended, over the sort order.
        QTimer.singleShot(0, self, self.updateGeometry)


def show_on_screen(window: QWidget) -> None:
    """Shows the window maximised where its size (1360×860 the first time) exceeds the screen:
    on a 1024×768 projector it opened past the screen's edges, the details panel out of sight."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    area = screen.availableGeometry() if screen is not None else None
    if area is not None and (window.width() > area.width() or window.height() > area.height()):
        # about the size it takes once maximised (the window manager sizes it after it is
        # shown): the first start lays the window out for that size (fit_first_start)
        title = window.style().pixelMetric(QStyle.PixelMetric.PM_TitleBarHeight, None, window)
        window.resize(
            min(window.width(), area.width()), min(window.height(), area.height() - title)
        )
        window.showMaximized()
    else:
        window.show()
