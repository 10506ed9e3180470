"""The photo preview against real photos made here: EXIF orientation in PNG/WebP/JPEG (on disk
and fetched over loopback HTTP), embedded colour profiles, an 81 MP photo (offscreen Qt)."""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from PIL import ExifTags, Image, ImageCms, ImageDraw, ImageOps
from PySide6.QtCore import QSize
from PySide6.QtGui import QColorSpace, QImage

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from core.thumbnails import make_thumbnail  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from desktop_app.preview.image_loader import read_image  # noqa: E402
from desktop_app.preview.image_viewer import ImageViewer  # noqa: E402

WAIT = 20_000  # ms
CMYK_ICC = Path("/usr/share/color/icc/ghostscript/default_cmyk.icc")
# Ghostscript's version-4 CMYK profile (Pillow builds only RGB and Lab ones)
CMYK_V4_ICC = Path("/usr/share/color/icc/ghostscript/ps_cmyk.icc")


def _upright() -> Image.Image:
    """A landscape picture whose corners differ, so every turn and mirror shows."""
    im = Image.new("RGB", (120, 80), (90, 150, 230))
    draw = ImageDraw.Draw(im)
    draw.rectangle([0, 0, 29, 19], fill=(230, 30, 30))  # top-left red
    draw.rectangle([90, 60, 119, 79], fill=(30, 200, 30))  # bottom-right green
    draw.rectangle([90, 0, 119, 19], fill=(250, 230, 20))  # top-right yellow
    return im


def _stored(orientation: int) -> Image.Image:
    """The pixels a camera stores for `_upright()` shown with `orientation`."""
    inverse = {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_90,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_270,
    }
    return _upright().transpose(inverse[orientation]) if orientation in inverse else _upright()


def _save_oriented(path: Path, orientation: int) -> Path:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    extra: dict[str, Any] = {"lossless": True} if path.suffix == ".webp" else {}
    if path.suffix == ".jpg":
        extra["quality"] = 95
    _stored(orientation).save(path, exif=exif, **extra)
    with Image.open(path) as im:  # what core (thumbnails, ?w=, Dimensions) shows
        assert ImageOps.exif_transpose(im).size == (120, 80)
    return path


class _Files(BaseHTTPRequestHandler):
    root = Path()

    def do_GET(self) -> None:  # noqa: N802
        data = (self.root / self.path.lstrip("/")).read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("photos")


@pytest.fixture(scope="module")
def http_base(photos: Path) -> Iterator[str]:
    _Files.root = photos
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _viewer(qtbot: Any, source: str) -> ImageViewer:
    viewer = ImageViewer()
    qtbot.addWidget(viewer)
    viewer.resize(500, 400)
    viewer.show()
    with qtbot.waitSignal(viewer.loaded, timeout=WAIT):
        viewer.load(source)
    return viewer


def _rgb(image: QImage, x: int, y: int) -> tuple[int, int, int]:
    c = image.pixelColor(x, y)
    return c.red(), c.green(), c.blue()


def _near(got: tuple[int, ...], want: tuple[int, ...], tolerance: int = 10) -> bool:
    return max(abs(a - b) for a, b in zip(got, want, strict=False)) <= tolerance


def _assert_upright(image: QImage) -> None:
    assert (image.width(), image.height()) == (120, 80)
    want = _upright()
    for x, y in [(5, 5), (114, 74), (114, 5), (5, 74), (60, 40)]:
        assert _near(_rgb(image, x, y), want.getpixel((x, y))), (x, y)


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("ext", ["png", "webp", "jpg"])
def test_an_oriented_photo_is_shown_upright(
    qtbot: Any, photos: Path, ext: str, orientation: int
) -> None:
    path = _save_oriented(photos / f"o{orientation}.{ext}", orientation)
    viewer = _viewer(qtbot, str(path))
    _assert_upright(viewer.image())  # JPEG too: turned once, not twice


@pytest.mark.parametrize("name", ["o6.png", "o8.webp", "o5.jpg", "o7.png"])
def test_an_oriented_photo_over_http_is_shown_upright(
    qtbot: Any, photos: Path, http_base: str, name: str
) -> None:
    stem, ext = name.split(".")
    _save_oriented(photos / name, int(stem[1:]))
    _assert_upright(_viewer(qtbot, f"{http_base}/{name}").image())


def _profiled_expectation(icc: bytes, mode: str, colour: tuple[int, ...]) -> tuple[int, ...]:
    source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    srgb = ImageCms.createProfile("sRGB")
    out = ImageCms.profileToProfile(Image.new(mode, (1, 1), colour), source, srgb, outputMode="RGB")
    assert out is not None
    return tuple(out.getpixel((0, 0)))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("space", "ext"),
    [
        (QColorSpace.NamedColorSpace.ProPhotoRgb, "jpg"),
        (QColorSpace.NamedColorSpace.AdobeRgb, "jpg"),
        (QColorSpace.NamedColorSpace.DisplayP3, "jpg"),
        (QColorSpace.NamedColorSpace.DisplayP3, "png"),
    ],
)
def test_a_wide_gamut_photo_is_shown_in_srgb(
    qtbot: Any, photos: Path, space: QColorSpace.NamedColorSpace, ext: str
) -> None:
    icc = bytes(QColorSpace(space).iccProfile().data())
    colour = (180, 120, 60)
    path = photos / f"profiled_{space.name}.{ext}"
    Image.new("RGB", (64, 64), colour).save(path, icc_profile=icc, quality=98)
    want = _profiled_expectation(icc, "RGB", colour)
    assert not _near(want, colour, 8)  # the profile matters for this colour
    assert _near(_rgb(_viewer(qtbot, str(path)).image(), 32, 32), want, 8)


@pytest.mark.skipif(not CMYK_ICC.exists(), reason="no CMYK ICC profile on this machine")
def test_a_cmyk_photo_is_shown_through_its_profile(qtbot: Any, photos: Path) -> None:
    icc = CMYK_ICC.read_bytes()
    colour = (10, 200, 30, 0)
    path = photos / "cmyk.jpg"
    Image.new("CMYK", (64, 64), colour).save(path, icc_profile=icc, quality=98)
    want = _profiled_expectation(icc, "CMYK", colour)
    assert _near(_rgb(_viewer(qtbot, str(path)).image(), 32, 32), want, 8)


@pytest.mark.skipif(not CMYK_V4_ICC.exists(), reason="no version-4 CMYK ICC profile here")
def test_a_cmyk_photo_with_a_version_4_profile_looks_like_its_thumbnail(
    qtbot: Any, photos: Path
) -> None:
    icc = CMYK_V4_ICC.read_bytes()
    assert icc[8] == 4 and icc[16:20] == b"CMYK"
    im = Image.new("CMYK", (96, 32), (0, 0, 0, 0))  # paper white, then red and black ink
    ImageDraw.Draw(im).rectangle([32, 0, 63, 31], fill=(0, 220, 220, 20))
    ImageDraw.Draw(im).rectangle([64, 0, 95, 31], fill=(100, 100, 100, 100))
    path = photos / "cmyk_v4.jpg"
    im.save(path, icc_profile=icc, quality=98)
    with Image.open(io.BytesIO(make_thumbnail(path, "image/jpeg"))) as thumb:
        thumbnail = thumb.convert("RGB")
    assert thumbnail.size == (96, 32)
    shown = _viewer(qtbot, str(path)).image()
    for x in (16, 48, 80):  # Qt's own conversion showed the white as (188, 188, 187)
        assert _near(_rgb(shown, x, 16), thumbnail.getpixel((x, 16)), 6), x  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def big_photo(photos: Path) -> Path:
    """A valid 81 MP photo (under the README's 100 MP), made and encoded in one go (~250 MB)."""
    path = photos / "estadio-panorama.jpg"
    im = Image.new("RGB", (9000, 9000), (10, 120, 200))
    ImageDraw.Draw(im).rectangle([0, 0, 899, 899], fill=(230, 30, 30))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    im.save(path, quality=30, exif=exif)
    del im
    return path


def test_an_81_megapixel_photo_is_previewed_at_its_own_scale(qtbot: Any, big_photo: Path) -> None:
    viewer = _viewer(qtbot, str(big_photo))
    image = viewer.image()
    screen = viewer.screen().size() * viewer.screen().devicePixelRatio()
    assert image.width() == image.height() == min(screen.width(), screen.height())  # for memory
    # orientation 6 turned after the reduced decode: the red corner ends top-right
    assert _near(_rgb(image, image.width() - 5, 5), (230, 30, 30), 20)
    assert viewer.message_text() == ""
    # the scene is the photo's own size (100 % is its pixels, not the decoded copy's)
    assert viewer._item.sceneBoundingRect().size().toSize() == QSize(9000, 9000)
    area = viewer._view.viewport().size()
    shown = viewer._view.mapFromScene(viewer._item.sceneBoundingRect()).boundingRect()
    assert shown.width() <= area.width() + 1 and shown.height() <= area.height() + 1


@pytest.mark.parametrize("over_http", [False, True])
def test_zooming_in_past_the_screen_sized_copy_decodes_the_photo_at_full_size(
    qtbot: Any, photos: Path, http_base: str, over_http: bool
) -> None:
    path = photos / "tall.jpg"
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    stored = Image.new("RGB", (3000, 2000), (10, 120, 200))
    ImageDraw.Draw(stored).rectangle([0, 0, 299, 199], fill=(230, 30, 30))
    stored.save(path, quality=90, exif=exif)
    viewer = _viewer(qtbot, f"{http_base}/tall.jpg" if over_http else str(path))
    small = viewer.image()
    assert small.height() < 3000 and abs(small.width() * 3 - small.height() * 2) <= 3
    with qtbot.waitSignal(viewer._loader.sharpened, timeout=WAIT):
        viewer.actual_size()
    image = viewer.image()
    assert (image.width(), image.height()) == (2000, 3000)
    assert _near(_rgb(image, 1995, 5), (230, 30, 30), 20)  # upright, as the small copy was
    assert viewer.scale_factor() == pytest.approx(1.0)
    assert viewer._item.sceneBoundingRect().size().toSize() == QSize(2000, 3000)


def test_a_photo_that_does_not_open_says_so_in_the_users_language(qtbot: Any, photos: Path) -> None:
    bad = photos / "damaged.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not a photo")
    viewer = ImageViewer()
    qtbot.addWidget(viewer)
    install_translations("es")
    try:
        with qtbot.waitSignal(viewer.failed, timeout=WAIT):
            viewer.load(str(bad))
        message = viewer.message_text()
        assert message == "No se pudo abrir la imagen."
        tip = viewer._message.toolTip()
        assert tip and tip != message  # Qt's own words, on demand only
    finally:
        install_translations("en")


def test_fetched_bytes_are_turned_and_converted_as_files_are(photos: Path) -> None:
    """read_image on the bytes a URL gave, off any widget: the same orientation and profile."""
    icc = bytes(QColorSpace(QColorSpace.NamedColorSpace.DisplayP3).iccProfile().data())
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 8
    buffer = io.BytesIO()
    _stored(8).save(buffer, "WEBP", lossless=True, exif=exif, icc_profile=icc)
    image, error = read_image(data=buffer.getvalue())
    assert error == ""
    assert (image.width(), image.height()) == (120, 80)
    for x, y in [(5, 5), (114, 74), (114, 5)]:
        want = _profiled_expectation(icc, "RGB", _upright().getpixel((x, y)))  # type: ignore[arg-type]
        assert _near(_rgb(image, x, y), want, 8), (x, y)
