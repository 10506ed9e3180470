"""Accepted types, MIME aliases and content sniffing on real files."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from core.errors import EmptyFile, InvalidInput, TypeMismatch, UnsupportedType
from core.mediatypes import (
    BY_MIME,
    canonical_mime,
    check_kind,
    require_kind,
    sniff_bytes,
    sniff_file,
)
from tests import media
from tests.media_fixtures import MediaSet


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        ("video/avi", "video/x-msvideo"),
        ("video/msvideo", "video/x-msvideo"),
        ("video/mov", "video/quicktime"),
        ("video/wmv", "video/x-ms-wmv"),
        ("video/x-ms-asf", "video/x-ms-wmv"),
        ("video/x-m4v", "video/mp4"),
        ("image/jpg", "image/jpeg"),
        ("image/pjpeg", "image/jpeg"),
        ("IMAGE/JPEG; charset=binary", "image/jpeg"),
        (" video/webm ", "video/webm"),
        ("image/gif", "image/gif"),
        ("video/x-matroska", None),
        ("application/octet-stream", None),
        ("", None),
        (None, None),
    ],
)
def test_canonical_mime(declared: str | None, expected: str | None) -> None:
    assert canonical_mime(declared) == expected


def test_check_kind() -> None:
    assert check_kind(" Image ") == "image"
    assert check_kind("video") == "video"
    for bad in ("audio", "", "images"):
        with pytest.raises(InvalidInput):
            check_kind(bad)


@pytest.mark.parametrize(
    ("name", "mime"),
    [
        ("jpeg", "image/jpeg"),
        ("jpeg_rotated", "image/jpeg"),
        ("png", "image/png"),
        ("webp", "image/webp"),
        ("gif", "image/gif"),
        ("mp4", "video/mp4"),
        ("webm", "video/webm"),
        ("avi", "video/x-msvideo"),
        ("mov", "video/quicktime"),
        ("wmv", "video/x-ms-wmv"),
    ],
)
def test_sniff_real_files(media_dir: MediaSet, name: str, mime: str) -> None:
    media_type = sniff_file(getattr(media_dir, name))
    assert media_type is BY_MIME[mime]
    require_kind(media_type, media_type.kind)


def test_name_is_ignored(media_dir: MediaSet, tmp_path: Path) -> None:
    disguised = tmp_path / "clip.jpg"
    disguised.write_bytes(media_dir.png.read_bytes())
    assert sniff_file(disguised).mime == "image/png"


@pytest.mark.parametrize("name", ["fake_exe_jpg", "wav", "mkv"])
def test_rejected_files(media_dir: MediaSet, name: str) -> None:
    with pytest.raises(UnsupportedType):
        sniff_file(getattr(media_dir, name))


def test_windows_executable_rejected(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedType):
        sniff_file(media.make_fake_exe_jpg(tmp_path / "setup.jpg", kind="mz"))


def _ftyp(brand: bytes) -> bytes:
    return b"\x00\x00\x00\x18ftyp" + brand + bytes(4) + brand + b"\x00\x00\x00\x08free"


@pytest.mark.parametrize(
    ("brand", "mime"),
    [(b"isom", "video/mp4"), (b"mp42", "video/mp4"), (b"qt  ", "video/quicktime")],
)
def test_iso_bmff_brands(brand: bytes, mime: str) -> None:
    assert sniff_bytes(_ftyp(brand)).mime == mime


@pytest.mark.parametrize("brand", [b"heic", b"mif1", b"avif", b"M4A ", b"crx "])
def test_iso_bmff_non_video_brands(brand: bytes) -> None:
    """HEIC/AVIF photos and M4A audio share MP4's boxes but are not accepted videos."""
    with pytest.raises(UnsupportedType):
        sniff_bytes(_ftyp(brand))


@pytest.mark.parametrize(
    "head",
    [b"RIFF\x00\x01\x00\x00ACON" + bytes(40), b"%PDF-1.4\n" + bytes(50), b"\xff", bytes(300)],
)
def test_other_content_rejected(head: bytes) -> None:
    with pytest.raises(UnsupportedType):
        sniff_bytes(head)


def test_empty_and_mismatch() -> None:
    with pytest.raises(EmptyFile):
        sniff_bytes(b"")
    with pytest.raises(TypeMismatch):
        require_kind(BY_MIME["video/mp4"], "image")


@pytest.mark.parametrize(
    ("name", "mime"),
    [
        ("clip.WMV", "video/x-ms-wmv"),
        ("a.b.avi", "video/x-msvideo"),
        ("x.mov", "video/quicktime"),
        ("p.jpeg", "image/jpeg"),
        ("v.webm", "video/webm"),
        ("notes.txt", None),
        ("noext", None),
    ],
)
def test_guess_from_name_does_not_depend_on_the_system(name: str, mime: str | None) -> None:
    from core.mediatypes import guess_from_name

    assert guess_from_name(name) == mime


def _zip(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, b"<x/>")
    return buffer.getvalue()


def test_a_zip_renamed_jpg_is_refused_as_a_zip_archive(tmp_path: Path) -> None:
    """puremagic's first guess for any ZIP is an Office document: a ZIP of photos renamed
    .jpg was refused as "MS Office Open XML Format Document"."""
    renamed = tmp_path / "holiday.jpg"
    renamed.write_bytes(_zip("IMG_0001.jpg", "IMG_0002.jpg"))
    with pytest.raises(UnsupportedType) as refused:
        sniff_file(renamed)
    assert "(ZIP archive)" in refused.value.message
    assert "Office" not in refused.value.message
    details = refused.value.details
    assert (details["found"], details["found_extension"], details["found_mime"]) == (
        "ZIP archive",
        "zip",
        "application/zip",
    )


def test_a_word_document_renamed_jpg_is_still_named_one() -> None:
    with pytest.raises(UnsupportedType) as refused:
        sniff_bytes(_zip("[Content_Types].xml", "word/document.xml")[:8192])
    assert "MS Office Open XML" in refused.value.message
    assert refused.value.details["found_extension"] == "docx"
