"""Load an image off the GUI thread: local files or http(s) bytes, upright, in sRGB."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from typing import IO

from PIL import ExifTags, Image
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, QSize, Qt, Signal
from PySide6.QtGui import QColorSpace, QImage, QImageReader, QTransform
from PySide6.QtNetwork import QNetworkAccessManager, QNetworkReply, QNetworkRequest

from core.logsetup import redact_secrets
from core.metadata import MAX_PIXELS, header_exif, too_many_pixels
from core.thumbnails import to_srgb
from desktop_app.errors import download_failure, technical_text
from desktop_app.preview.sources import is_remote, local_path, to_url
from desktop_app.workers import TaskRunner

logger = logging.getLogger(__name__)

MAX_DOWNLOAD_BYTES = 512 * 1024 * 1024
# the most of an error answer read for its JSON error (ours are a few hundred bytes)
ERROR_BODY_BYTES = 64 * 1024
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


# Qt refuses to allocate an image over 256 MB. A PNG or WebP is decoded whole before being made
# smaller (only JPEG decodes at a reduced scale): 100 MP (README's limit, core's MAX_PIXELS) at
# 4 bytes a pixel must fit. Larger images are refused before decoding (decode_image).
QImageReader.setAllocationLimit(max(QImageReader.allocationLimit(), 512))
_SRGB = QColorSpace(QColorSpace.NamedColorSpace.SRgb)


@dataclass(frozen=True)
class Decoded:
    """A decoded image (null on failure), upright and in sRGB; `size`: the photo's own size,
    upright (the image's when it was not decoded smaller); `error`: Qt's text, or ""."""

    image: QImage
    size: QSize
    error: str = ""
    too_large: bool = False


def read_image(source: str | None = None, data: bytes | None = None) -> tuple[QImage, str]:
    """Decode a file or bytes upright, in sRGB, at full size: (image, error text or "")."""
    decoded = decode_image(source, data)
    return decoded.image, decoded.error


def decode_image(
    source: str | None = None, data: bytes | None = None, fit: QSize | None = None
) -> Decoded:
    """Decode a file or bytes upright (EXIF orientation, as core reads it), converted to sRGB
    from an embedded colour profile; made smaller to fit `fit` (upright), if given."""
    if data is not None:
        buffer = QBuffer()
        buffer.setData(QByteArray(data))
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        reader = QImageReader(buffer)
    else:
        reader = QImageReader(local_path(source or ""))
    # Qt turns JPEGs only (its PNG and WebP readers ignore the tag): core's reading of the tag
    # is applied to every format, the one the thumbnails, ?w= variants and Dimensions follow.
    reader.setAutoTransform(False)
    stored = reader.size()
    pixels = stored.width() * stored.height()
    if pixels > MAX_PIXELS:
        error = too_many_pixels(stored.width(), stored.height()).message
        return Decoded(QImage(), QSize(), error, too_large=True)
    orientation = _orientation(local_path(source or "") if data is None else io.BytesIO(data))
    if fit is not None and stored.isValid():
        # the size is set before the turn, in the stored pixels' terms
        box = fit.transposed() if orientation in _QUARTER_TURNS else fit
        if stored.width() > box.width() or stored.height() > box.height():
            smaller = stored.scaled(box, Qt.AspectRatioMode.KeepAspectRatio)
            reader.setScaledSize(smaller.expandedTo(QSize(1, 1)))  # a thin panorama's 0 rows
    image = reader.read()
    if image.isNull():
        return Decoded(image, QSize(), reader.errorString())
    image = _to_srgb(_upright(image, orientation))
    if not stored.isValid():  # a reader that cannot tell before decoding: never made smaller
        return Decoded(image, image.size())
    return Decoded(image, stored.transposed() if orientation in _QUARTER_TURNS else stored)


_QUARTER_TURNS = (5, 6, 7, 8)


def _orientation(source: str | IO[bytes]) -> int:
    """The EXIF (or XMP) orientation as the server reads it (core.metadata.header_exif: from
    the header, never decoding the pixels); 1 when Pillow cannot read the file's header."""
    try:
        with Image.open(source) as im:
            value = header_exif(im).get(ExifTags.Base.Orientation)
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, Image.DecompressionBombError):
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _upright(image: QImage, orientation: int) -> QImage:
    """`image` turned and mirrored as EXIF `orientation` says (QTransform turns clockwise)."""
    turn, flip = _TURNS.get(orientation, (0, None))
    if turn:
        image = image.transformed(QTransform().rotate(turn))
    return image if flip is None else image.flipped(flip)


# EXIF orientation -> (clockwise degrees, then the flip): 5 and 7 are a transpose and a
# transverse, a quarter turn and a mirror
_TURNS = {
    2: (0, Qt.Orientation.Horizontal),
    3: (180, None),
    4: (0, Qt.Orientation.Vertical),
    5: (90, Qt.Orientation.Horizontal),
    6: (90, None),
    7: (90, Qt.Orientation.Vertical),
    8: (270, None),
}


def _to_srgb(image: QImage) -> QImage:
    """`image` converted from its embedded colour profile to sRGB, as the thumbnails are (an
    Adobe RGB, ProPhoto or Display P3 photo's numbers shown as sRGB look dull); a CMYK JPEG's
    profile too. No profile, or one Qt cannot apply: as it was."""
    space = image.colorSpace()
    if not space.isValid() or space == _SRGB:
        return image
    if image.format() == QImage.Format.Format_CMYK8888:
        by_core = _cmyk_to_srgb(image, bytes(space.iccProfile().data()))
        if by_core is not None:
            return by_core
    if space.colorModel() == QColorSpace.ColorModel.Rgb:
        converted = image.convertedToColorSpace(_SRGB)
    else:  # a CMYK or grey profile: its sRGB result needs an RGB format
        rgb = QImage.Format.Format_ARGB32 if image.hasAlphaChannel() else QImage.Format.Format_RGB32
        converted = image.convertedToColorSpace(_SRGB, rgb)
    if converted.isNull():
        logger.info("ignoring a colour profile Qt cannot apply: %s", space.description())
        return image
    return converted


def _cmyk_to_srgb(image: QImage, icc: bytes) -> QImage | None:
    """A CMYK photo converted by core's conversion, the thumbnails' (Little CMS): Qt's own
    misreads a version-4 CMYK profile (a print shop's usual one) and the preview came out
    much darker than the thumbnail (paper white as grey 188). None when the profile does not
    apply there (Qt's conversion is tried then)."""
    size = (image.width(), image.height())
    cmyk = Image.frombuffer(
        "CMYK", size, bytes(image.constBits()), "raw", "CMYK", image.bytesPerLine(), 1
    )
    rgb = to_srgb(cmyk, icc)
    if rgb.mode != "RGB":
        return None
    pixels = rgb.tobytes()  # alive until the copy below owns its own
    out = QImage(pixels, size[0], size[1], 3 * size[0], QImage.Format.Format_RGB888)
    out = out.convertToFormat(QImage.Format.Format_RGB32)
    out.setColorSpace(_SRGB)
    return out


class ImageLoader(QObject):
    """Fetches (QNetworkAccessManager) and decodes (thread pool) one image at a time."""

    loaded = Signal(QImage)
    failed = Signal(str)
    progress = Signal(int, int)
    # the loaded photo again, at full size, after sharpen(); a failure keeps the smaller one
    sharpened = Signal(QImage)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._generation = 0
        self._network: QNetworkAccessManager | None = None
        self._reply: QNetworkReply | None = None
        # the technical text of the last failure, for a tooltip (the `failed` text is the
        # sentence the user reads); "" while loading and after a success
        self.failure_detail = ""
        # the last loaded photo's own size, upright: the image `loaded` gives is smaller when
        # load() was given a size to fit
        self.full_size = QSize()
        # what the last load decoded (a path, or the bytes a URL gave), for sharpen()
        self._decoded_from: tuple[str | None, bytes | None] | None = None
        # Qt's global pool: closing the preview does not wait for a decode still running, and
        # the decode of an image the user already moved past (dropped as stale) does not hold
        # up the next one.
        self._decoder = TaskRunner(max_threads=None, parent=self)
        self._fit: QSize | None = None

    def load(self, source: str, fit: QSize | None = None) -> None:
        """Start loading `source`, made smaller to fit `fit` if given (a screen's size: a 100 MP
        photo decoded whole takes 400 MB, and as much again as a pixmap); emits `loaded` or
        `failed` later, never synchronously."""
        self.cancel()
        self.failure_detail = ""
        self._fit = fit
        if is_remote(source):
            self._fetch(source)
        else:
            self._decode(source, None)

    def sharpen(self) -> None:
        """Decode the loaded photo again at full size (zoomed in past the smaller copy's own
        pixels); emits `sharpened`. Nothing when it was not made smaller."""
        if self._decoded_from is None:
            return
        source, data = self._decoded_from
        self._decoded_from = None  # once
        generation = self._generation
        self._decoder.submit(
            decode_image,
            source,
            data,
            on_result=lambda decoded: self._on_sharpened(generation, decoded),
            on_error=lambda exc: logger.error("image decode failed", exc_info=exc),
        )

    def _on_sharpened(self, generation: int, decoded: Decoded) -> None:
        if generation != self._generation:
            return
        if decoded.image.isNull():  # memory, most likely: the smaller copy stays
            logger.info("full-size image decode failed: %s", decoded.error)
        else:
            self.sharpened.emit(decoded.image)

    def cancel(self) -> None:
        self._generation += 1
        self._decoded_from = None
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
            # our server's JSON error says why (a stored copy missing is not a deleted file)
            body = bytes(reply.read(ERROR_BODY_BYTES).data())
            message = download_failure(
                int(status or 0), reply.error() in UNREACHABLE, qt_text, body
            )
            self.failure_detail = message.technical()
            self.failed.emit(message.text)
            return
        self._decode(None, bytes(reply.readAll().data()))

    def _decode(self, source: str | None, data: bytes | None) -> None:
        generation = self._generation
        self._decoder.submit(
            decode_image,
            source,
            data,
            self._fit,
            on_result=lambda decoded: self._on_decoded(generation, decoded, source, data),
            on_error=lambda exc: self._on_crashed(generation, exc),
        )

    def _on_crashed(self, generation: int, exc: BaseException) -> None:
        # decode_image reports a bad file as its error text; an exception is a decoder bug
        logger.error("image decode failed", exc_info=exc)
        self._on_decoded(generation, Decoded(QImage(), QSize(), str(exc)), None, None)

    def _on_decoded(
        self, generation: int, decoded: Decoded, source: str | None, data: bytes | None
    ) -> None:
        if generation != self._generation:
            return
        if decoded.image.isNull():
            logger.info("image decode failed: %s", decoded.error)
            # Qt's text (already in the interface language) or core's, on demand in a tooltip
            self.failure_detail = technical_text(decoded.error, not decoded.too_large)
            if decoded.too_large:
                self.failed.emit(self.tr("The image is too large to preview."))
            else:
                self.failed.emit(self.tr("The image could not be opened."))
        else:
            self.full_size = decoded.size
            if decoded.size != decoded.image.size():
                self._decoded_from = (source, data)
            self.loaded.emit(decoded.image)
