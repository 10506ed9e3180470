"""Desktop: a long error in the status bar reads as a sentence, never cut mid-word.

MainWindow.show_error copies the error box's text to the status bar. A paragraph (the catalog
out of reach) was drawn whole from the left and cut by the permanent labels mid-word and without
an ellipsis: "…not the storage se  Server: …" in English at 1280 px, "…la red hasta él no
funci" in Spanish at 1024 px. The bar shows its first sentence (or clause) elided to the room
the labels leave, again after a resize, and the whole text as its tooltip.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("pytestqt")

from core.errors import catalog_down  # noqa: E402
from core.library import Library  # noqa: E402
from desktop_app.errors import describe_error  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from desktop_app.views.main_window import MainWindow  # noqa: E402
from desktop_app.views.status_bar import MainStatusBar, first_sentence  # noqa: E402
from tests.qt_helpers import wait_for  # noqa: E402


@pytest.fixture(params=["en", "es"])
def language(request: pytest.FixtureRequest, qapp: Any) -> Iterator[str]:
    install_translations(request.param)
    yield request.param
    install_translations("en")


@pytest.fixture
def window(qtbot: Any, library: Library, language: str) -> Iterator[MainWindow]:
    win = MainWindow(library, page_size=50)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.shutdown()


def _drawn_width(bar: MainStatusBar) -> int:
    """Where QStatusBar draws a message: from 6 px to 2 px left of the first permanent label."""
    shown = [w for w in bar._permanent() if w.isVisible()]
    return (min(w.x() for w in shown) - 2 if shown else bar.width() - 12) - 6


def _reads_well(bar: MainStatusBar, whole: str) -> None:
    shown = bar.currentMessage()
    assert shown, "no message"
    assert shown != whole  # a paragraph never fits beside the server's address
    assert shown.endswith(("…", ".")), shown  # elided, or a whole sentence
    assert whole.startswith(shown.rstrip("…")), shown  # the beginning, never a later part
    width = bar.fontMetrics().horizontalAdvance(shown)
    assert width <= _drawn_width(bar), (shown, width, _drawn_width(bar))
    assert width <= bar.message_room(), (shown, width, bar.message_room())
    assert bar.toolTip() == whole
    assert bar.server.isVisible()  # the address always stays


@pytest.mark.parametrize("width", [1024, 1280])
def test_a_long_error_in_the_status_bar_is_a_sentence_that_fits(
    qtbot: Any, window: MainWindow, language: str, width: int
) -> None:
    window.resize(width, 760)
    wait_for(qtbot, lambda: window.width() <= width)
    bar = window.status
    bar.set_server(True, "http://127.0.0.1:18704")
    bar.set_counts({"all": 12, "image": 12, "video": 0, "bytes": 37_900})
    whole = describe_error(catalog_down()).text
    assert ("the database" if language == "en" else "base de datos") in whole
    window.show_error(describe_error(catalog_down()))
    qtbot.wait(50)
    _reads_well(bar, whole)
    # narrower, then wider again: shortened again to the new room, the same message
    window.resize(width - 200, 760)
    wait_for(qtbot, lambda: bar.fontMetrics().horizontalAdvance(bar.currentMessage()) > 0)
    qtbot.wait(50)
    _reads_well(bar, whole)
    window.resize(width, 760)
    qtbot.wait(50)
    _reads_well(bar, whole)
    bar.clearMessage()
    assert bar.toolTip() == ""
    bar.showMessage(whole, 10000)
    assert bar.toolTip() == whole
    bar.showMessage("")  # as clearMessage
    assert bar.currentMessage() == "" and bar.toolTip() == ""


def test_a_short_notice_still_shows_whole(qtbot: Any, window: MainWindow, language: str) -> None:
    """Two short sentences that fit are not cut to the first ("Settings saved." alone would
    hide that a restart is needed)."""
    window.resize(1280, 760)
    bar = window.status
    text = window.tr("Settings saved. Restart MediaDesk to apply the storage and language changes.")
    bar.showMessage(text, 10000)
    qtbot.wait(50)
    assert bar.currentMessage() == text
    assert bar.fontMetrics().horizontalAdvance(text) <= _drawn_width(bar)


def test_a_resized_notice_keeps_its_time(qtbot: Any, window: MainWindow, language: str) -> None:
    """Shortened again on resize, a notice still ends when it was due, not a full time later."""
    window.resize(1280, 760)
    bar = window.status
    bar.showMessage(describe_error(catalog_down()).text, 1200)
    qtbot.wait(700)
    window.resize(1024, 760)
    qtbot.wait(50)
    assert bar.currentMessage()
    wait_for(qtbot, lambda: not bar.currentMessage(), timeout=900)


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("One. Two.", "One."),
        ("The file is 1.5 GB. Free some room.", "The file is 1.5 GB."),
        ("El archivo ocupa 1,5 GB. Él no cabe.", "El archivo ocupa 1,5 GB."),
        ("No cabe. ¿Quiere liberar espacio?", "No cabe."),
        ("See v. 2 and e.g. this. Then more.", "See v. 2 and e.g. this."),
        (
            "3 of 5 files could not be exported to /tmp/x:\na.jpg: gone",
            "3 of 5 files could not be exported to /tmp/x…",
        ),
        (  # whole past its ":", which was cut before the reason it gives
            "Cannot reach its catalog (the database): it is down. Check.",
            "Cannot reach its catalog (the database): it is down.",
        ),
        (
            "Could not reach the store: the bucket did not answer. Try again later.",
            "Could not reach the store: the bucket did not answer.",
        ),
        ("Exported to C:\\Users\\ana at 10:30", "Exported to C:\\Users\\ana at 10:30"),
        (
            "Copied http://127.0.0.1:8765/x to the clipboard",
            "Copied http://127.0.0.1:8765/x to the clipboard",
        ),
        ("First line\nsecond line", "First line…"),
        ("Only one sentence.", "Only one sentence."),
    ],
)
def test_the_first_sentence(text: str, first: str) -> None:
    assert first_sentence(text) == first
