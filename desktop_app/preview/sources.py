"""Turn a preview source (local path, file:// URL or http(s) URL) into what Qt needs."""

from __future__ import annotations

from PySide6.QtCore import QUrl

REMOTE_SCHEMES = ("http", "https")


def is_remote(source: str) -> bool:
    """True for http(s) URLs."""
    return QUrl(source).scheme().lower() in REMOTE_SCHEMES


def to_url(source: str) -> QUrl:
    """A QUrl for QMediaPlayer / QNetworkAccessManager: URLs as given, paths as file URLs."""
    if is_remote(source) or source.lower().startswith("file:"):
        return QUrl(source)
    return QUrl.fromLocalFile(source)


def local_path(source: str) -> str:
    """The file system path of a local source (a plain path or a file:// URL)."""
    if source.lower().startswith("file:"):
        return QUrl(source).toLocalFile()
    return source
