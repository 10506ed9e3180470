"""Dates in the order of the user's country, not of the language's first one: an outside tester
in a British session (LANG=en_GB.UTF-8) read "12/7/2026 7:14 AM" for 12 July and a trash notice
"Deleted for good on 1/7/2027" as 1 July (it was 7 January). English was installed as "en",
which Qt takes for American English, and the system's country was dropped."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import QLocale  # noqa: E402

from desktop_app.formatting import date_text  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from tests.qt_helpers import ROOT  # noqa: E402

DAY = "2027-01-07"  # 7 January


@pytest.fixture
def restore(qapp) -> Iterator[None]:  # type: ignore[no-untyped-def]
    yield
    install_translations("en", QLocale("en_US"))  # as the other tests have it (LANG=C)


@pytest.mark.parametrize(
    ("language", "system", "shown"),
    [
        ("en", "en_GB", "07/01/2027"),  # the British order
        ("en", "en_US", "1/7/2027"),
        ("es", "es_MX", "07/01/2027"),
        ("es", "en_GB", "7/1/2027"),  # another language than the system's: the language's own
        ("en", "es_ES", "1/7/2027"),
    ],
)
def test_dates_follow_the_system_country_of_the_language(
    restore: None, language: str, system: str, shown: str
) -> None:
    install_translations(language, QLocale(system))
    assert date_text(DAY) == shown
    expected = system if system.startswith(language) else QLocale(language).name()
    assert QLocale().name() == expected


def test_a_british_session_shows_british_dates(tmp_path: Path) -> None:
    """The language chosen from the system locale, as the app starts without a setting."""
    code = (
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from desktop_app.i18n import choose_language, install_translations\n"
        "from desktop_app.formatting import date_text\n"
        f"print(install_translations(choose_language(None)), date_text({DAY!r}))\n"
    )
    env = {"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    env["LANG"] = "en_GB.UTF-8"  # (no LC_ALL: it would win)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, env=env
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["en", "07/01/2027"]
