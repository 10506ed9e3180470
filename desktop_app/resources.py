"""Where the shipped assets live (icon, translations) and the application icon."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtGui import QIcon

_CHECKOUT_ASSETS = Path(__file__).resolve().parent.parent / "assets"
_INSTALLED_ASSETS = Path(sys.prefix) / "share" / "mediadesk"  # pyproject's data-files
ASSETS_DIR = _CHECKOUT_ASSETS if _CHECKOUT_ASSETS.is_dir() else _INSTALLED_ASSETS
TRANSLATIONS_DIR = ASSETS_DIR / "translations"
ICON_SVG = ASSETS_DIR / "mediadesk.svg"
ICON_PNG = ASSETS_DIR / "mediadesk.png"


def app_icon() -> QIcon:
    """The MediaDesk icon (SVG with a PNG fallback); an empty icon if the assets are missing."""
    icon = QIcon()
    for path in (ICON_SVG, ICON_PNG):
        if path.is_file():
            icon.addFile(str(path))
    return icon


def app_version() -> str:
    """MediaDesk's version (core.version), for About and the logs."""
    from core.version import version

    return version()
