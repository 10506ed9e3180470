"""A photo refused as too large to decode or as damaged says so in user terms, with a stable
reason the desktop app words in its own language; Pillow's text (pixel limits, "0 bytes not
processed") only goes to the log."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PIL import Image  # noqa: E402

from core.errors import CorruptFile  # noqa: E402
from core.library import Library  # noqa: E402
from core.metadata import open_image  # noqa: E402
from desktop_app.errors import describe_error  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from tests import media  # noqa: E402
from tests.conftest import make_settings  # noqa: E402


def _refusal(lib: Library, path: Path) -> CorruptFile:
    with pytest.raises(CorruptFile) as caught:
        lib.uploads.ingest(path, "image")
    return caught.value


@pytest.fixture
def lib(tmp_path: Path) -> Iterator[Library]:
    library = Library.open(make_settings(tmp_path))
    yield library
    library.close()


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_refused_photos_say_why_in_user_terms(
    tmp_path: Path, lib: Library, caplog: pytest.LogCaptureFixture
) -> None:
    bomb = tmp_path / "bomb.png"
    Image.new("1", (12000, 10000), 0).save(bomb)
    cut = media.make_truncated_jpeg(tmp_path / "cut.jpg", keep=0.5)
    with caplog.at_level(logging.DEBUG, logger="core.metadata"):
        big, damaged = _refusal(lib, bomb), _refusal(lib, cut)
    assert big.message == "The image is larger than 100 megapixels (12000 × 10000)"
    assert big.reason == "image_too_large"
    assert big.details == {"width": 12000, "height": 10000, "max_pixels": 100_000_000}
    assert damaged.message == "The image is damaged or cut short"
    assert damaged.reason == "image_damaged"
    assert "truncated" in caplog.text  # Pillow's own words, for whoever reads the log


def test_a_huge_image_pillow_refuses_itself_is_said_alike(tmp_path: Path) -> None:
    """Above twice the limit Pillow refuses while opening, before the size is handed over:
    the size is read from the header, and told as for any other (it used to be left out)."""
    huge = tmp_path / "huge.png"
    Image.new("1", (20000, 15000), 0).save(huge)
    with pytest.raises(CorruptFile) as caught, open_image(huge, ["PNG"]):
        pass
    assert caught.value.message == "The image is larger than 100 megapixels (20000 × 15000)"
    assert caught.value.reason == "image_too_large"
    assert caught.value.details == {"width": 20000, "height": 15000, "max_pixels": 100_000_000}


def test_the_desktop_says_them_in_spanish(tmp_path: Path, qapp) -> None:  # type: ignore[no-untyped-def]
    big = CorruptFile(
        "The image is larger than 100 megapixels (12000 × 10000)",
        reason="image_too_large",
        details={"width": 12000, "height": 10000, "max_pixels": 100_000_000},
    )
    damaged = CorruptFile("The image is damaged or cut short", reason="image_damaged")
    install_translations("es")
    try:
        big_text, damaged_text = describe_error(big).text, describe_error(damaged).text
    finally:
        install_translations("en")
    assert big_text == "La imagen supera los 100 megapíxeles (12000 × 10000) y no se puede abrir."
    assert damaged_text == "La imagen está dañada o cortada: no se puede leer entera."
    english = describe_error(big)
    assert (
        english.text
        == "The image is larger than 100 megapixels (12000 × 10000) and cannot be opened."
    )
    assert not english.detail_matters  # the sentence already says it all


def test_the_desktop_says_a_video_too_large_as_such(qapp) -> None:  # type: ignore[no-untyped-def]
    """video_too_large (14c9544) was said as a damaged file by the desktop."""
    huge = CorruptFile(
        "The video is larger than 8192 × 4352 pixels (16000 × 16000)",
        reason="video_too_large",
        details={"width": 16000, "height": 16000, "max_pixels": 35_651_584, "max_side": 16384},
    )
    assert describe_error(huge).text == (
        "The video's picture (16000 × 16000) is larger than MediaDesk takes: at most "
        "8192 × 4352 pixels (8K), and 16384 on a side."
    )
    install_translations("es")
    try:
        spanish = describe_error(huge).text
    finally:
        install_translations("en")
    assert spanish == (
        "La imagen del vídeo (16000 × 16000) es mayor de lo que MediaDesk admite: como máximo "
        "8192 × 4352 píxeles (8K) y 16384 por lado."
    )


def test_the_desktop_says_an_animation_too_long_as_such(tmp_path: Path, qapp) -> None:  # type: ignore[no-untyped-def]
    """animation_too_long, as the library refuses it (core.images.refuse_over_budget): said
    with its frames and the most of its size, in English and Spanish, not as a damaged file."""
    lib = Library.open(make_settings(tmp_path / "data"))
    try:
        refused = _refusal(lib, media.make_sparse_gif(tmp_path / "long.gif", (1024, 1024), 1025))
    finally:
        lib.close()
    assert refused.reason == "animation_too_long"
    assert describe_error(refused).text == (
        "The animation has 1,025 frames of 1024 × 1024 pixels: more than MediaDesk checks (at "
        "most 1,024 frames of this size)."
    )
    install_translations("es")
    try:
        spanish = describe_error(refused).text
    finally:
        install_translations("en")
    assert spanish.startswith("La animación tiene 1025 fotogramas de 1024 × 1024 píxeles")
