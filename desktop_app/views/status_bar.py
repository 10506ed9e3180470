"""The status bar: storage in use, embedded server state and URL, library counts."""

from __future__ import annotations

import html
import re
import time
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget
from sqlalchemy.engine import make_url

from core.secrets import shown_database_url
from core.settings import Settings
from desktop_app.errors import ErrorMessage
from desktop_app.formatting import size_text, tip_text
from desktop_app.views.colors import set_status_style

# Room around a transient message: the status bar's margins and the message's own padding
MESSAGE_MARGIN = 24
# After a notice ends, the labels that stepped aside come back only this much later: during an
# import the notices follow each other, and labels coming back between two of them made the
# next one start crushed ("Subid") for a frame or more.
RETURN_DELAY = 1500  # ms
# Where a notice's first sentence ends: ". " (or "!", "?") before a capital, possibly after an
# opening "¿", "¡", quote or parenthesis; a line break. Not a ":": "Could not reach the store:"
# said nothing of why (its reason follows it). "1.5 GB" holds no space after its mark.
SENTENCE_END = re.compile(r"[.!?](?=\s+[¿¡“‘«\"'(]*(\w))|\n")


def first_sentence(text: str) -> str:
    """The first sentence of a notice, for a status bar too narrow for it all (the error box
    and the tooltip keep the whole text). A first line without a full stop (a list's heading
    before its ":") ends with "…", so that it never reads as a complete one."""
    text = text.strip()
    for found in SENTENCE_END.finditer(text):
        mark = found.group(0)
        if mark in ".!?":
            if found.group(1).isupper():
                return text[: found.end()]
            continue
        head = text[: found.start()].rstrip()
        if not head:
            continue
        return head if head.endswith((".", "!", "?", "…")) else f"{head.rstrip(':')}…"
    return text


class YieldingLabel(QLabel):
    """A label that steps aside (or is cut short) when the status bar has no room for it: it
    asks for no width of its own, so it never sets the window's least width. While there is
    room the layout gives it its whole text's width (its size hint); without, the status bar
    takes it away (`MainStatusBar._fit_labels`). Asking for its whole text, it kept an 800 px
    window 805 px wide until it stepped aside, and a window manager keeps a maximised window
    at the width it was forced to."""

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(0, super().minimumSizeHint().height())


class FittingLabel(YieldingLabel):
    """A plain-text label that can be narrowed: its text is elided on the right, never below
    its first word and a few letters ("Catalog: SQLite…"); the tooltip keeps the details."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._whole = ""
        self.setTextFormat(Qt.TextFormat.PlainText)

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        self._whole = text
        super().setText(text)

    def whole(self) -> None:
        super().setText(self._whole)

    def narrow_by(self, pixels: int) -> int:
        """Elides the text by up to `pixels`; returns how many it gave."""
        metrics = self.fontMetrics()
        width = metrics.horizontalAdvance(self._whole)
        first = self._whole.split(" ", 1)[0]
        least = metrics.horizontalAdvance(self._whole[: len(first) + 7] + "…")
        give = max(0, min(pixels, width - least))
        if give:
            elided = metrics.elidedText(self._whole, Qt.TextElideMode.ElideRight, width - give)
            super().setText(elided)
        return give


class CountsLabel(QLabel):
    """The library's counts: whole ("65 files · 55 images · 10 videos · 8.4 MiB") where there
    is room, else the files and their size ("65 files · 8.4 MiB"); never cut mid-count ("64
    archi" in 60 px). The whole text is the tooltip. Its least width is the short form's."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.whole = ""
        self.short = ""

    def set_texts(self, whole: str, short: str) -> None:
        self.whole, self.short = whole, short
        self.setToolTip(whole)
        self.setText(whole)

    def shorten(self, short: bool) -> None:
        text = self.short if short else self.whole
        if self.text() != text:
            self.setText(text)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        hint = super().minimumSizeHint()
        metrics = self.fontMetrics()
        # the label's own room (margins, frame) beside its text, and the short text
        frame = hint.width() - metrics.horizontalAdvance(self.text())
        return QSize(frame + metrics.horizontalAdvance(self.short), hint.height())


class MainStatusBar(QStatusBar):
    """Permanent labels; transient notices use showMessage.

    A notice is drawn left of the permanent labels, in whatever room they leave. When they
    leave too little (a narrow window, a long Spanish notice: "Subido …" read "Subid"), the
    catalog and the storage are cut short while the notice shows ("Catalog: SQLite…"), then
    the counts say only the files and their size; a notice still too long is shortened
    (`showMessage`). A passing notice never takes a label away: one long file name's
    "Uploaded …" hid the storage, the catalog, the live state and the counts, the state the
    user watches. Only the standing line of a catalog out of reach, the state itself, has the
    catalog, the storage and the counts step aside (never the live state, `set_standing`).
    """

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.storage = FittingLabel(self)
        self.server = QLabel(self)
        self.server.setOpenExternalLinks(True)
        self.counts = CountsLabel(self)
        self.catalog = FittingLabel(self)
        self.feed = YieldingLabel(self)
        self.storage_warning = QLabel(self)  # above MEDIADESK_STORAGE_WARN_BYTES
        set_status_style(self.storage_warning, "warning", " font-weight: bold;")
        self.storage_warning.hide()
        for label in self._permanent():
            label.setContentsMargins(6, 0, 6, 0)
            self.addPermanentWidget(label)
        # in this order, aside for the counts' sake in a narrow window (`_fit_width`)
        self.yielding = (self.catalog, self.storage, self.feed, self.counts)
        self._squeezed = False  # cut short for a notice (`_make_room`), until RETURN_DELAY after
        self._stepped_aside: list[QLabel] = []  # aside for the standing line (`_make_room`)
        self._narrowed: list[QLabel] = []  # aside for the counts' sake (`_fit_width`)
        self._fitting = False
        # a notice given to showMessage, what of it is shown, and when it ends (monotonic)
        self._whole = ""
        self._shown = ""
        self._due: float | None = None
        self._presenting = False
        self._standing = ""  # `set_standing`: back whenever a passing notice ends
        self._busy = ""  # `set_busy`
        self._return = QTimer(self)
        self._return.setSingleShot(True)
        self._return.setInterval(RETURN_DELAY)
        self._return.timeout.connect(self._labels_back)
        self.messageChanged.connect(self._fit_message)
        self.set_storage(settings)
        self.set_catalog(settings)
        self.set_feed(None)
        self.set_server(False, "")
        self.set_counts({})

    def set_storage(self, settings: Settings) -> None:
        if settings.uses_r2:
            text = self.tr("Storage: R2 bucket %1").replace("%1", settings.r2_bucket_name)
            tip = settings.r2_endpoint_url
        else:
            text = self.tr("Storage: local folder")
            tip = str(settings.paths.objects_dir)
        self.storage.setText(text)
        self.storage.setToolTip(tip_text(tip))
        self._fit_width()

    def set_catalog(self, settings: Settings) -> None:
        """Which catalog this window shares: a SQLite file or a PostgreSQL host."""
        url = make_url(settings.effective_database_url)
        if url.get_backend_name() == "sqlite":
            path = url.database or ""
            self.catalog.setText(self.tr("Catalog: SQLite %1").replace("%1", Path(path).name))
            self.catalog.setToolTip(tip_text(path))
        else:
            where = f"{url.host or 'localhost'}{f':{url.port}' if url.port else ''}"
            self.catalog.setText(
                self.tr("Catalog: PostgreSQL %1").replace("%1", f"{where}/{url.database or ''}")
            )
            # every secret part hidden (SQLAlchemy's hide_password showed ?password=…)
            self.catalog.setToolTip(tip_text(shown_database_url(settings.effective_database_url)))
        self._fit_width()

    def set_feed(self, connected: bool | None, detail: str = "", disk_gone: bool = False) -> None:
        """Whether changes made by other apps and servers on this catalog arrive live.
        `disk_gone`: the disk holding the library fails writes (desktop_app/team.py), which a
        feed reading cached pages does not notice."""
        if disk_gone:
            self.feed.setText(self.tr("○ Live: library disk out of reach"))
            tip = self.tr(
                "The disk holding the library cannot be written. Connect it again; this "
                "comes back by itself once it answers."
            )
        elif connected:
            self.feed.setText(self.tr("● Live"))
            tip = self.tr("Changes made elsewhere on this catalog appear at once.")
        elif connected is None:
            self.feed.setText(self.tr("○ Live: starting"))
            tip = ""
        else:
            self.feed.setText(self.tr("○ Live: disconnected"))
            tip = self.tr("Changes made elsewhere appear once the catalog is reachable again.")
        self.feed.setToolTip(tip_text(f"{tip}\n{detail}".strip()))
        self._fit_width()

    def set_server(self, running: bool, url: str, error: ErrorMessage | None = None) -> None:
        if running:
            link = f'<a href="{html.escape(url)}">{html.escape(url)}</a>'
            self.server.setText(self.tr("Server: %1").replace("%1", link))
        elif error is not None:
            self.server.setText(self.tr("Server: not running"))
        else:
            self.server.setText(self.tr("Server: stopped"))
        self.server.setToolTip(tip_text(error.full()) if error is not None and not running else "")
        self._fit_width()

    def set_storage_warning(self, used: int, limit: int) -> None:
        """Shown while the library uses more than the warning threshold (0: never)."""
        over = bool(limit) and used > limit
        if over:
            self.storage_warning.setText(
                self.tr("⚠ Storage: %1 used, above %2")
                .replace("%1", size_text(used))
                .replace("%2", size_text(limit))
            )
            self.storage_warning.setToolTip(
                self.tr("Set by MEDIADESK_STORAGE_WARN_BYTES; see View ▸ Storage.")
            )
        self.storage_warning.setVisible(over)

    def set_counts(self, counts: dict[str, int]) -> None:
        if not counts:
            # Not counted yet (the catalog's counts are on their way; an empty library's come
            # as zeros): "0 files · 0 bytes" stood for tens of seconds on a slow disk beside a
            # grid of 7,566 files
            self.counts.set_texts("", "")
            self._fit_width()
            return
        # Each count has its own plural form ("1 video", "2 videos"), in the user's language.
        files = self.tr("%Ln file(s)", "", counts.get("all", 0))
        size = size_text(counts.get("bytes", 0))
        whole = " · ".join(
            (
                files,
                self.tr("%Ln image(s)", "", counts.get("image", 0)),
                self.tr("%Ln video(s)", "", counts.get("video", 0)),
                size,
            )
        )
        self.counts.set_texts(whole, f"{files} · {size}")
        self._fit_width()

    # ---- room for transient messages ----------------------------------------------------------
    def message_room(self) -> int:
        """The width the permanent labels now leave to a message (from their preferred widths)."""
        layout = self.layout()
        spacing = max(layout.spacing(), 0) if layout is not None else 0
        used = sum(
            label.sizeHint().width() + spacing
            for label in self._permanent()
            if label.isVisibleTo(self)
        )
        return self.width() - used - MESSAGE_MARGIN - (16 if self.isSizeGripEnabled() else 0)

    def _permanent(self) -> tuple[QLabel, ...]:
        return (
            self.storage_warning,
            self.storage,
            self.catalog,
            self.feed,
            self.server,
            self.counts,
        )

    def set_standing(self, text: str) -> None:
        """A line that holds while a state lasts (the catalog out of reach, its retries going
        on): shown now, and again whenever a passing notice ends, until set to "". Given a
        timeout as any notice, it went after 6 s while the retries went on for minutes."""
        old, self._standing = self._standing, text
        if text:
            self.showMessage(text)
        elif old and self._whole == old:
            self.clearMessage()

    def set_busy(self, text: str) -> None:
        """A notice that holds while an action runs (a slow move to the trash), with no
        timeout: a 6 s one went while the action went on. A passing notice (the progress, the
        end of another action) shows over it, and it comes back after. "" at its end takes it
        away, unless another notice has replaced it."""
        old, self._busy = self._busy, text
        if text:
            self.showMessage(text)
        elif old and self._whole == old:
            self.clearMessage()

    def withdraw(self, text: str) -> None:
        """Takes notice `text` away if it still shows (one said since is left alone)."""
        if text and self._whole == text and self.currentMessage():
            self.clearMessage()

    def showMessage(self, text: str, timeout: int | None = 0) -> None:  # noqa: N802 - Qt's name
        """A notice beside the permanent labels. One too long for the room they leave, even with
        the least needed ones aside (an error box's paragraph), shows its first sentence, elided
        ("…") if it is still too long: QStatusBar draws a message whole from the left, and the
        labels cut it mid-word. The tooltip has the whole text."""
        if not text:  # a clearMessage: the labels aside come back after RETURN_DELAY
            super().showMessage(text, timeout or 0)
            return
        self._whole = text
        self._due = time.monotonic() + timeout / 1000 if timeout and timeout > 0 else None
        self._present(again=False)

    def _present(self, again: bool) -> None:
        """Shows `_whole` as far as it fits; `again` (a resize): only if what fits changed,
        for the time the notice has left."""
        if self._presenting:
            return
        self._presenting = True
        try:
            metrics = self.fontMetrics()
            sentence = first_sentence(self._whole)
            # a text with line breaks (a list of failures) is never drawn on one line
            whole = self._whole if "\n" not in self._whole.strip() else sentence
            for shown in dict.fromkeys((whole, sentence)):
                if self._make_room(metrics.horizontalAdvance(shown)):
                    break
            else:
                shown = metrics.elidedText(
                    sentence, Qt.TextElideMode.ElideRight, max(0, self._message_width())
                )
            if again and shown == self.currentMessage():
                return
            left = 0
            if self._due is not None:
                left = max(1, round((self._due - time.monotonic()) * 1000))
            self._shown = shown
            self.setToolTip(tip_text(self._whole) if self._whole else "")
            super().showMessage(shown, left)
        finally:
            self._presenting = False

    def _message_width(self) -> int:
        """The width a message has: the room left by the labels' preferred widths, or less
        where the layout gave them more (QStatusBar's message rectangle: 6 px from the left
        edge to 2 px before the first permanent label; mirrored right to left)."""
        room = self.message_room()
        shown = [label for label in self._permanent() if label.isVisibleTo(self)]
        if not self.isVisible() or not shown:
            return room
        if self.layoutDirection() == Qt.LayoutDirection.RightToLeft:
            drawn = self.width() - 12 - max(label.geometry().right() + 3 for label in shown)
        else:
            drawn = min(label.x() for label in shown) - 2 - 6
        return min(room, drawn)

    def _fit_message(self, message: str = "") -> None:
        if not message:
            self._whole = self._shown = ""
            self._due = None
            self.setToolTip("")
            if self._standing or self._busy:
                # the outage first; an action still running is back once a notice has passed
                self.showMessage(self._standing or self._busy)
                return
            if self._squeezed:
                self._return.start()  # not at once: another notice may follow
            return
        if self._whole and message == self._shown:
            return  # showMessage's own, already fitted
        # Qt's own message (a status tip): given room, never shortened
        self._whole = self._shown = ""
        self.setToolTip("")
        self._make_room(self.fontMetrics().horizontalAdvance(message))

    def _make_room(self, need: int) -> bool:
        """The catalog, then the storage, cut short (never below their kind) and then the counts
        said short, as far as a message `need` pixels wide needs; each whole again as far as it
        still fits. A passing notice takes no label away. The standing line (the catalog out of
        reach, `set_standing`) is the state itself: the catalog, the storage and the counts
        step aside for it while it does not fit, never the live state. Whether it fits."""
        self._return.stop()
        self._squeezed = True
        for label in self._stepped_aside:
            label.show()
        self._stepped_aside = []
        for short_counts in (False, True):
            # the counts said short free much: the catalog and the storage as whole as fits
            self.counts.shorten(short_counts)
            for fitting in (self.catalog, self.storage):
                fitting.whole()
            for fitting in (self.catalog, self.storage):
                short = need - self.message_room()
                if short <= 0:
                    break
                if fitting.isVisibleTo(self):
                    fitting.narrow_by(short)
            if self.message_room() >= need:
                break
        if self._standing and self._whole == self._standing:
            for label in (self.catalog, self.storage, self.counts):
                if self.message_room() >= need:
                    break
                if label.isVisibleTo(self):
                    label.hide()
                    self._stepped_aside.append(label)
        layout = self.layout()
        if layout is not None:
            layout.activate()  # the labels move now, before the notice is painted
        return self._message_width() >= need

    def _labels_back(self) -> None:
        if self.currentMessage():
            return
        self._squeezed = False
        for label in self._stepped_aside:
            label.show()
        self._stepped_aside = []
        self._fit_width()

    def _fit_width(self) -> None:
        """Without a notice, the counts are read whole: in a narrow window (1024 px, Spanish)
        they were cut mid-count ("1004 archivos · 1001 imágenes · 3") beside the catalog's
        name. The least needed labels step aside for them, as for a notice, and come back once
        there is room."""
        if self._fitting:
            return
        if self.currentMessage():
            if self._whole and self.currentMessage() == self._shown:
                # new counts during a notice: cut short again for it, as on a resize
                self._present(again=True)
            return
        # a label shown again may resize the bar at once: no second fit inside this one
        self._fitting = True
        try:
            self._fit_labels()
        finally:
            self._fitting = False

    def _fit_labels(self) -> None:
        for label in self._narrowed:
            label.show()
        self._narrowed = []
        self.counts.shorten(False)
        # The catalog and the storage are cut short before a label steps aside: at 950 px the
        # catalog went as soon as the counts grew ("301 files"), with room for most of it left.
        for label in self.yielding:
            self._elide()
            if label is self.counts or self.message_room() >= 0:
                break
            if label.isVisibleTo(self):
                label.hide()
                self._narrowed.append(label)
        # the others aside, the counts say the files and their size (all of it in the tooltip)
        self.counts.shorten(self.message_room() < 0)

    def _elide(self) -> None:
        """The catalog, then the storage, elided as far as the counts need (whole if they fit)."""
        for fitting in (self.catalog, self.storage):
            fitting.whole()
        for fitting in (self.catalog, self.storage):
            short = -self.message_room()
            if short <= 0:
                break
            if fitting.isVisibleTo(self):
                fitting.narrow_by(short)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._whole and self.currentMessage() == self._shown:
            self._present(again=True)  # shortened to the new room
        elif self.currentMessage():
            self._fit_message(self.currentMessage())
        else:
            self._fit_width()
