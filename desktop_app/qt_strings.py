"""Texts of Qt's own dialogs that Qt's shipped catalogues (qtbase_es.qm) lack.

Qt's file dialog asks for "&Look in:" and "Files of &type:" (with mnemonics), while its
Spanish catalogue only has them without. Listing them here puts them in our .ts files; our
translator is consulted after Qt's, so it only fills Qt's gaps.
"""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP

QT_GAPS = (
    QT_TRANSLATE_NOOP("QFileDialog", "&Look in:"),
    QT_TRANSLATE_NOOP("QFileDialog", "Files of &type:"),
)
