"""Chooses the interface language and installs the MediaDesk and Qt translators."""

from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from desktop_app.resources import TRANSLATIONS_DIR

logger = logging.getLogger(__name__)

LANGUAGES = {"en": "English", "es": "Español"}
SOURCE_LANGUAGE = "en"
_installed: list[QTranslator] = []


def choose_language(setting: str | None = None, system: QLocale | None = None) -> str:
    """The setting when it names a language we ship, else the system locale's, else English."""
    if setting in LANGUAGES:
        return str(setting)
    name = (system or QLocale.system()).name()
    code = name.split("_", 1)[0].lower()
    return code if code in LANGUAGES else SOURCE_LANGUAGE


def install_translations(language: str) -> str:
    """Replaces the installed translators with those of `language`; returns the language used."""
    app = QCoreApplication.instance()
    if app is None:
        raise RuntimeError("Create the QApplication before installing translations")
    for translator in _installed:
        QCoreApplication.removeTranslator(translator)
    _installed.clear()
    language = language if language in LANGUAGES else SOURCE_LANGUAGE
    QLocale.setDefault(QLocale(language))
    ours = QTranslator(app)  # English has one too: the plural forms of the source texts
    if ours.load(f"mediadesk_{language}", str(TRANSLATIONS_DIR)):
        QCoreApplication.installTranslator(ours)
        _installed.append(ours)
    else:
        logger.warning("No MediaDesk translation for %s in %s", language, TRANSLATIONS_DIR)
    if language == SOURCE_LANGUAGE:
        return language
    qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    qt = QTranslator(app)
    if qt.load(f"qtbase_{language}", qt_dir):
        QCoreApplication.installTranslator(qt)
        _installed.append(qt)
    return language
