"""Load an image off the GUI thread: local files or http(s) bytes, EXIF orientation applied."""

from __future__ import annotations

import logging

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, Signal
from PySide6.QtGui import QImage, QImageReader
from PySide6.QtNetwork import QNetworkAccessManager, QNetworkReply, QNetworkRequest

from core.logsetup import redact_secrets
from desktop_app.errors import download_failure
from desktop_app.preview.sources import is_remote, local_path, to_url
from desktop_app.workers import TaskRunner

logger = logging.getLogger(__name__)

MAX_DOWNLOAD_BYTES = 512 * 1024 * 1024
Failure = QNetworkReply.NetworkError
# no answer at all: said as a server out of reach, not as a file that failed
UNREACHABLE = frozenset(
    {
        Failure.ConnectionRefusedError,
        Failure.HostNotFoundError,
        Failure.TimeoutError,
        Failure.TemporaryNetworkFailureError,
        Failure.NetworkSessionFailedError,
        Failure.ProxyConnectionRefusedError,
        Failure.ProxyNotFoundError,
        Failure.ProxyTimeoutError,
    }
)


def read_image(source: str | None = None, data: bytes | None = None) -> tuple[QImage, str]:
    """Decode a file or bytes with EXIF orientation applied: (image, error text or "")."""
    if data is not None:
        buffer = QBuffer()
        buffer.setData(QByteArray(data))
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        reader = QImageReader(buffer)
    else:
        reader = QImageReader(local_path(source or ""))
    reader.setAutoTransform(True)
    image = reader.read()
    return image, "" if not image.isNull() else reader.errorString()


class ImageLoader(QObject):
    """Fetches (QNetworkAccessManager) and decodes (thread pool) one image at a time."""

    loaded = Signal(QImage)
    failed = Signal(str)
    progress = Signal(int, int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._generation = 0
        self._network: QNetworkAccessManager | None = None
        self._reply: QNetworkReply | None = None
        # the technical text of the last failure, for a tooltip (the `failed` text is the
        # sentence the user reads); "" while loading and after a success
        self.failure_detail = ""
        # Qt's global pool: closing the preview does not wait for a decode still running, and
        # the decode of an image the user already moved past (dropped as stale) does not hold
        # up the next one.
        self._decoder = TaskRunner(max_threads=None, parent=self)

    def load(self, source: str) -> None:
        """Start loading `source`; emits `loaded` or `failed` later, never synchronously."""
        self.cancel()
        self.failure_detail = ""
        if is_remote(source):
            self._fetch(source)
        else:
            self._decode(source, None)

    def cancel(self) -> None:
        self._generation += 1
        if self._reply is not None:
            reply, self._reply = self._reply, None
            reply.abort()
            reply.deleteLater()

    def _fetch(self, source: str) -> None:
        if self._network is None:
            self._network = QNetworkAccessManager(self)
        request = QNetworkRequest(to_url(source))
        request.setAttribute(
            QNetworkRequest.Attribute.RedirectPolicyAttribute,
            QNetworkRequest.RedirectPolicy.NoLessSafeRedirectPolicy,
        )
        reply = self._network.get(request)
        self._reply = reply
        reply.downloadProgress.connect(self._on_progress)
        reply.finished.connect(lambda r=reply: self._on_fetched(r))

    def _on_progress(self, received: int, total: int) -> None:
        self.progress.emit(received, total)
        if received > MAX_DOWNLOAD_BYTES and self._reply is not None:
            self.cancel()
            self.failed.emit(self.tr("The image is too large to preview."))

    def _on_fetched(self, reply: QNetworkReply) -> None:
        if reply is not self._reply:
            return
        self._reply = None
        reply.deleteLater()
        if reply.error() != QNetworkReply.NetworkError.NoError:
            # Qt's text quotes the URL, and a private file's URL carries the session's read
            # token: shown, anyone could copy it. Hidden as the log hides it.
            status = reply.attribute(QNetworkRequest.Attribute.HttpStatusCodeAttribute)
            qt_text = redact_secrets(reply.errorString())
            logger.info("image download failed: %s", qt_text)
            message = download_failure(int(status or 0), reply.error() in UNREACHABLE, qt_text)
            self.failure_detail = message.technical()
            self.failed.emit(message.text)
            return
        self._decode(None, bytes(reply.readAll().data()))

    def _decode(self, source: str | None, data: bytes | None) -> None:
        generation = self._generation
        self._decoder.submit(
            read_image,
            source,
            data,
            on_result=lambda decoded: self._on_decoded(generation, *decoded),
            on_error=lambda exc: self._on_crashed(generation, exc),
        )

    def _on_crashed(self, generation: int, exc: BaseException) -> None:
        # read_image reports a bad file as its error text; an exception is a decoder bug
        logger.error("image decode failed", exc_info=exc)
        self._on_decoded(generation, QImage(), str(exc))

    def _on_decoded(self, generation: int, image: QImage, error: str) -> None:
        if generation != self._generation:
            return
        if image.isNull():
            logger.info("image decode failed: %s", error)
            self.failed.emit(self.tr("The image could not be opened: {error}").format(error=error))
        else:
            self.loaded.emit(image)
