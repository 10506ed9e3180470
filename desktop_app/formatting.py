"""Human-readable sizes, durations, speeds and dates in the current locale.

Sizes are binary (IEC: KiB, MiB, GiB) everywhere, as the settings and error messages state
limits in MiB: one unit system, no "MB" next to "MiB".
"""

from __future__ import annotations

import os
from datetime import datetime

from PySide6 import QtGui
from PySide6.QtCore import QCoreApplication, QDate, QDateTime, QLocale, Qt

from core.filenames import readable_name

DASH = "—"
# A progress bar's text: "29 %", as every percentage of the app (Qt's own is "29%")
PROGRESS_FORMAT = "%p %"


def percent_text(fraction: float | None) -> str:
    """A share of work done as every percentage of the app: "40 %". Floored, as Qt's bars
    are: a job at 99.6 % rounded read "100 %" while it still ran."""
    share = min(max(float(fraction or 0), 0.0), 1.0)
    return f"{int(round(100 * share, 6))} %"  # rounded first: 100 * 0.29 is 28.999…


def size_text(size: int | None) -> str:
    if size is None:
        return DASH
    return QLocale().formattedDataSize(int(size), 1, QLocale.DataSizeFormat.DataSizeIecFormat)


def clock_text(seconds: int) -> str:
    """Whole seconds as 1:05 or 1:02:03: the one layout of every length and position shown."""
    hours, rest = divmod(max(int(seconds), 0), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def duration_text(seconds: float | None) -> str:
    """A length (a video's, on its grid badge, in its details, as the player's total): 1:05 or
    1:02:03, to the nearest second; empty when unknown. Anything longer than nothing reads at
    least 0:01: a 0.3 s clip read "0:00", as if it were empty."""
    if seconds is None or seconds < 0:
        return ""
    total = round(seconds)
    if seconds > 0:
        total = max(total, 1)
    return clock_text(total)


def speed_text(bytes_per_second: float | None) -> str:
    if not bytes_per_second or bytes_per_second <= 0:
        return ""
    return QCoreApplication.translate("Formatting", "%1/s").replace(
        "%1", size_text(int(bytes_per_second))
    )


def eta_text(seconds: float | None) -> str:
    if seconds is None or seconds < 0:
        return ""
    if seconds < 1:
        return QCoreApplication.translate("Formatting", "< 1 s")
    return duration_text(seconds)


def number_text(value: float | int | None, decimals: int = 0) -> str:
    if value is None:
        return DASH
    if decimals:
        return QLocale().toString(float(value), "f", decimals)
    return QLocale().toString(int(value))


def four_digit_years(pattern: str) -> str:
    """`pattern` (a QLocale date format) with its year in four digits: a sports archive spans
    decades, and the short formats of English and Spanish ("M/d/yy", "d/M/yy") showed
    "03/12/26". The locale's order and separators stay; quoted text is left as it is."""
    out: list[str] = []
    quoted = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "'":
            quoted = not quoted  # '' (a quote itself) turns it off and on again
            out.append(char)
            i += 1
        elif char == "y" and not quoted:
            end = i
            while end < len(pattern) and pattern[end] == "y":
                end += 1
            out.append("yyyy")
            i = end
        else:
            out.append(char)
            i += 1
    return "".join(out)


def stamp_text(stamp: QDateTime) -> str:
    """A moment in the locale's short date and time, its year in four digits."""
    locale = QLocale()
    pattern = four_digit_years(locale.dateTimeFormat(QLocale.FormatType.ShortFormat))
    return locale.toString(stamp.toLocalTime(), pattern)


def datetime_text(value: datetime | None) -> str:
    if value is None:
        return DASH
    return stamp_text(QDateTime.fromSecsSinceEpoch(int(value.timestamp())))


def date_text(iso_day: str | None) -> str:
    """A calendar day ("2026-12-02") in the locale's short date format, the one datetime_text
    uses for its date: a table of days beside a scan time read two formats."""
    if not iso_day:
        return DASH
    day = QDate.fromString(iso_day, Qt.DateFormat.ISODate)
    if not day.isValid():
        return iso_day
    locale = QLocale()
    return locale.toString(day, four_digit_years(locale.dateFormat(QLocale.FormatType.ShortFormat)))


def tip_text(text: str) -> str:
    """`text` (a file name, description, athlete or token name, an error quoting one) as a
    tooltip that shows it as written. Qt renders a tooltip that looks like markup as rich
    text, and names keep `<` and `>`: anyone with an upload token could style or hide text
    in a staff member's tooltips (`<h1><font color=red>URGENT…`). Text that does not look like
    markup is returned as it is: a plain tooltip keeps its lines as they are."""
    if not QtGui.Qt.mightBeRichText(text):
        return text
    return QtGui.Qt.convertFromPlainText(text, Qt.WhiteSpaceMode.WhiteSpaceNormal)


def path_text(path: str | bytes | os.PathLike[str]) -> str:
    """A local file's path as the user reads it: each name whose bytes are not UTF-8 (an old
    USB stick's b"Jos\\xe9.jpg", held with surrogate escapes) read as core.filenames'
    readable_name reads it, "José.jpg". Qt showed those bytes as U+FFFD; one name at a time, as
    a folder named in UTF-8 may hold a file named in Latin-1."""
    text = os.fsdecode(path)
    return os.sep.join(readable_name(name) for name in text.split(os.sep))
