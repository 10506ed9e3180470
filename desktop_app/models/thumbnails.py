"""Loads thumbnails off the GUI thread, newest request first, into a bounded QPixmapCache."""

from __future__ import annotations

import logging
from collections import OrderedDict
from functools import partial

from PySide6.QtCore import QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QImage, QPixmap, QPixmapCache

from core.library import Library
from core.records import FileRecord
from desktop_app.errors import retry_in
from desktop_app.workers import TaskRunner

logger = logging.getLogger(__name__)

THUMB_SIZE = QSize(192, 144)
CACHE_KB = 96 * 1024
MAX_PENDING = 256


def screen_pixel_ratio() -> float:
    """The highest device pixel ratio of the screens (GUI thread): a thumbnail loaded for it is
    sharp on any of them."""
    app = QGuiApplication.instance()
    return app.devicePixelRatio() if isinstance(app, QGuiApplication) else 1.0


def cache_key(record: FileRecord, device_pixel_ratio: float = 1.0) -> str:
    # the content tag: a thumbnail made again by a new rendering is a new key; the ratio: one
    # loaded for another screen scale has another size
    tag = record.content_tag or ""
    return f"mediadesk-thumb:{record.id}:{tag}@{device_pixel_ratio:g}"


def load_thumbnail(
    library: Library, file_id: int, device_pixel_ratio: float | None = None
) -> QImage | None:
    """The file's thumbnail for a THUMB_SIZE box on a screen of `device_pixel_ratio` (None:
    the application's, read here: then only on the GUI thread), or None when it does not
    decode (worker thread). Loaded at THUMB_SIZE device pixels, it was painted upscaled,
    blurry, at 150 % and 200 %: now at the box's size in the screen's pixels, at most the
    stored thumbnail's own, with the image's device pixel ratio saying its size on screen."""
    if device_pixel_ratio is None:
        device_pixel_ratio = screen_pixel_ratio()
    image = QImage.fromData(library.thumbnail_bytes(file_id))
    if image.isNull():
        return None
    shown = image.size().scaled(THUMB_SIZE, Qt.AspectRatioMode.KeepAspectRatio)
    # pixels of the source a point of the box (a small source is still brought up to the box)
    source = image.width() / max(shown.width(), 1)
    ratio = max(1.0, min(device_pixel_ratio, source))
    image = image.scaled(
        THUMB_SIZE * ratio,
        Qt.AspectRatioMode.KeepAspectRatio,
        Qt.TransformationMode.SmoothTransformation,
    )
    image.setDevicePixelRatio(ratio)
    return image


class ThumbnailLoader(QObject):
    """`pixmap(record)` answers from the cache or queues a load; `loaded(id)` says it is ready."""

    loaded = Signal(int)

    def __init__(
        self, library: Library, max_threads: int = 2, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.library = library
        if QPixmapCache.cacheLimit() < CACHE_KB:
            QPixmapCache.setCacheLimit(CACHE_KB)
        self._runner = TaskRunner(max_threads, self)
        self._pending: OrderedDict[int, FileRecord] = OrderedDict()
        self._running: set[int] = set()
        self._failed: set[str] = set()
        # keys whose load met a failure that says when to ask again: not asked until then
        self._waiting: set[str] = set()
        self._keys: dict[int, set[str]] = {}  # file id → its cache keys (forget)

    def pixmap(self, record: FileRecord) -> QPixmap | None:
        """The cached thumbnail, or None while it loads (or when there is none)."""
        key = cache_key(record, screen_pixel_ratio())
        found = QPixmap()
        if QPixmapCache.find(key, found) and not found.isNull():
            return found
        if record.has_thumbnail and key not in self._failed and key not in self._waiting:
            self._request(record)
        return None

    def _request(self, record: FileRecord) -> None:
        if record.id in self._running:
            return
        self._pending[record.id] = record
        self._pending.move_to_end(record.id)  # the latest request (visible now) goes first
        while len(self._pending) > MAX_PENDING:
            self._pending.popitem(last=False)  # scrolled past long ago
        self._pump()

    def _pump(self) -> None:
        # The loader keeps its own queue (newest first, bounded) and hands the runner no more
        # than it runs at once, so a request made now overtakes the ones scrolled past.
        while self._pending and len(self._running) < self._runner.max_threads:
            file_id, record = self._pending.popitem(last=True)
            self._running.add(file_id)
            ratio = screen_pixel_ratio()
            key = cache_key(record, ratio)
            self._runner.submit(
                load_thumbnail,
                self.library,
                file_id,
                ratio,
                on_result=partial(self._on_done, file_id, key),
                on_error=partial(self._on_failed, file_id, key),
            )

    def _on_failed(self, file_id: int, key: str, exc: BaseException) -> None:
        wait = retry_in(exc)
        if wait is not None:
            # A store throttling or failing inside, or out of reach, says when to ask again:
            # the tile kept its placeholder for the whole session, though the store served again
            # seconds later. Its view draws it again once the wait is over, and asks then.
            logger.info("Thumbnail of file %s asked again in %d s: %s", file_id, wait, exc)
            self._running.discard(file_id)
            self._waiting.add(key)
            QTimer.singleShot(wait * 1000, self, partial(self._wait_over, file_id, key))
            self._pump()
            return
        # A missing thumbnail only shows a placeholder
        logger.info("No thumbnail for file %s: %s", file_id, exc)
        self._on_done(file_id, key, None)

    def _wait_over(self, file_id: int, key: str) -> None:
        self._waiting.discard(key)
        self.loaded.emit(file_id)  # the views draw the tile again: one on screen asks for it

    def _on_done(self, file_id: int, key: str, image: QImage | None) -> None:
        self._running.discard(file_id)
        if image is None:
            self._failed.add(key)
        else:
            QPixmapCache.insert(key, QPixmap.fromImage(image))
            self._keys.setdefault(file_id, set()).add(key)
            self.loaded.emit(file_id)
        self._pump()

    def forget(self, file_id: int) -> None:
        """Drops the file's cached thumbnail and asks the views to draw it again (loaded):
        made again from the same bytes by today's rendering (Process again), its content tag,
        and so its key, may be the old one, and the old picture stayed on its tile."""
        for key in self._keys.pop(file_id, set()):
            QPixmapCache.remove(key)
        prefix = f"mediadesk-thumb:{file_id}:"  # none made then may be one now
        self._failed = {key for key in self._failed if not key.startswith(prefix)}
        self.loaded.emit(file_id)

    @property
    def idle(self) -> bool:
        return not self._pending and not self._running

    def shutdown(self, wait_ms: int = 3000) -> None:
        self._pending.clear()
        self._runner.shutdown(wait_ms)
