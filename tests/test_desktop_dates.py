"""Desktop: dates show four-digit years in English and Spanish, in each locale's order."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import QDateTime, Qt  # noqa: E402

from core.library import Library  # noqa: E402
from desktop_app.formatting import date_text, datetime_text, four_digit_years  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from desktop_app.views.storage_view import StorageView  # noqa: E402
from tests.media_fixtures import MediaSet  # noqa: E402
from tests.qt_helpers import wait_for  # noqa: E402

# a day's month, day and year in each language's order (en "M/d/yy", es "d/M/yy" in Qt)
ORDER = {"en": "{m}/{d}/{y}", "es": "{d}/{m}/{y}"}


@pytest.fixture(params=["en", "es"])
def language(request: pytest.FixtureRequest, qapp: Any) -> Iterator[str]:
    install_translations(request.param)
    yield request.param
    install_translations("en")


def _day(language: str, year: int, month: int, day: int) -> str:
    return ORDER[language].format(m=month, d=day, y=year)


def test_dates_and_times_show_the_whole_year(language: str) -> None:
    """A sports archive spans decades: "12/26/03" (en) or "26/12/03" (es) was 1903, 2003 or
    a 26 March; the whole year is shown, the locale's order kept."""
    when = datetime(2003, 12, 26, 15, 4)  # local time, as the catalog's are shown
    shown = datetime_text(when)
    assert shown.startswith(_day(language, 2003, 12, 26) + " "), shown
    assert ("3:04" if language == "en" else "15:04") in shown
    assert date_text("1998-07-05") == _day(language, 1998, 7, 5)
    assert date_text("2026-12-03") == _day(language, 2026, 12, 3)


@pytest.mark.parametrize(
    ("pattern", "whole"),
    [
        ("M/d/yy", "M/d/yyyy"),
        ("dd.MM.yy HH:mm", "dd.MM.yyyy HH:mm"),
        ("yyyy/MM/dd", "yyyy/MM/dd"),  # already whole
        ("d 'de' MMMM 'y' yy", "d 'de' MMMM 'y' yyyy"),  # a quoted "y" is text
        ("d/M/yy 'o''clock'", "d/M/yyyy 'o''clock'"),
    ],
)
def test_a_short_format_gets_a_four_digit_year(pattern: str, whole: str) -> None:
    assert four_digit_years(pattern) == whole


def test_the_storage_view_shows_whole_years(
    qtbot: Any, library: Library, media_dir: MediaSet, language: str
) -> None:
    """The Storage dock's listing time and its history's days."""
    library.uploads.ingest(media_dir.jpeg, "image")
    view = StorageView(library)
    qtbot.addWidget(view)
    view.show()
    try:
        view.scan()
        wait_for(qtbot, lambda: view.history.rowCount() == 1 and view.scan_button.isEnabled())
        scanned = view.report["store"]["scanned_at"]
        local = QDateTime.fromString(scanned, Qt.DateFormat.ISODateWithMs).toLocalTime().date()
        listed = _day(language, local.year(), local.month(), local.day())
        assert listed + " " in view.summary.text()
        item = view.history.item(0, 0)
        assert item is not None
        day = QDateTime.fromString(view.report["history"][0]["day"], Qt.DateFormat.ISODate).date()
        assert item.text() == _day(language, day.year(), day.month(), day.day())
    finally:
        view.shutdown()
