"""Chooses the interface language and installs the MediaDesk and Qt translators."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from desktop_app.resources import TRANSLATIONS_DIR

logger = logging.getLogger(__name__)

LANGUAGES = {"en": "English", "es": "Español"}
SOURCE_LANGUAGE = "en"
# each installed translator with the catalogue bytes it reads: Qt and PySide6 keep no copy and
# no reference, so they must live as long as it is installed
_installed: list[tuple[QTranslator, bytes]] = []
# The language `mediadesk --language` gave this run ("": none). It beats the saved setting for
# this run only: the Settings window says why the window is in it, and that the choice made
# there applies when MediaDesk starts without the flag (a window in Spanish beside "System
# language" looked like a setting that did not work).
_command_line = ""


def set_command_line_language(language: str | None) -> None:
    global _command_line
    _command_line = language if language in LANGUAGES else ""


def command_line_language() -> str:
    """The language --language gave this run, "" without the flag."""
    return _command_line


def choose_language(setting: str | None = None, system: QLocale | None = None) -> str:
    """The setting when it names a language we ship, else the system locale's, else English."""
    if setting in LANGUAGES:
        return str(setting)
    name = (system or QLocale.system()).name()
    code = name.split("_", 1)[0].lower()
    return code if code in LANGUAGES else SOURCE_LANGUAGE


def locale_for(language: str, system: QLocale | None = None) -> QLocale:
    """The locale dates and numbers are shown in: the system's when it is in `language` (its
    country's order and formats), else the language's own. "en" alone is American English:
    in a British session (LANG=en_GB.UTF-8) a trash date "1/7/2027" read as 1 July."""
    system = system or QLocale.system()
    chosen = QLocale(language)
    return system if system.language() == chosen.language() else chosen


def install_translations(language: str, system: QLocale | None = None) -> str:
    """Replaces the installed translators with those of `language`; returns the language used.
    `system`: the system's locale (QLocale.system(), by default)."""
    app = QCoreApplication.instance()
    if app is None:
        raise RuntimeError("Create the QApplication before installing translations")
    for translator, _catalogue in _installed:
        QCoreApplication.removeTranslator(translator)
    _installed.clear()
    language = language if language in LANGUAGES else SOURCE_LANGUAGE
    QLocale.setDefault(locale_for(language, system))
    ours = QTranslator(app)  # English has one too: the plural forms of the source texts
    catalogue = _load_in_memory(ours, TRANSLATIONS_DIR / f"mediadesk_{language}.qm")
    if catalogue is not None:
        QCoreApplication.installTranslator(ours)
        _installed.append((ours, catalogue))
    else:
        logger.warning("No MediaDesk translation for %s in %s", language, TRANSLATIONS_DIR)
    if language == SOURCE_LANGUAGE:
        return language
    qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    qt = QTranslator(app)
    if qt.load(f"qtbase_{language}", qt_dir):
        QCoreApplication.installTranslator(qt)
        _installed.append((qt, b""))
    return language


def _load_in_memory(translator: QTranslator, path: Path) -> bytes | None:
    """Loads the catalogue from a copy in memory; returns that copy, None if it is not there.
    Loaded by its file name, Qt maps the file, and lrelease (`python -m desktop_app.i18n_update`)
    rewrites it in place: a window running meanwhile then showed the source forms of the plurals
    ("302 file(s) · 1 video(s)", "Delete 3 file(s) permanently?") until it was restarted."""
    try:
        catalogue = path.read_bytes()
    except OSError:
        return None
    return catalogue if translator.load(catalogue, str(path.parent)) else None
