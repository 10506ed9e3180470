"""The desktop's sentence for a catalog that cannot be written (reason catalog_read_only) names
what cannot be written, the folder or the catalog file, and says the library goes on by itself.

Since 84c9456 the reason also covers the catalog file and its -wal/-shm (chattr +i, rights on the
file), and core says "The catalog file … cannot be written"; the desktop still said "cannot write
in the folder … Make the folder writable", sending the user to a folder that is writable. And it
is an outage that passes (CATALOG_OUT_REASONS): once the place can be written, writes work again
without a restart and the upload queue, which pauses on it, goes on by itself."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from core.db import engine  # noqa: E402
from core.errors import passing_outage  # noqa: E402
from desktop_app.errors import describe_error  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402


@pytest.fixture
def languages(qapp) -> Iterator[None]:  # type: ignore[no-untyped-def]
    yield
    install_translations("en")


@pytest.mark.parametrize(
    ("language", "file_words", "folder_words", "goes_on"),
    [
        ("en", "catalog file", "folder", "by themselves"),
        ("es", "archivo de su catálogo", "carpeta", "solas"),
    ],
)
def test_the_sentence_names_the_file_or_the_folder_and_says_it_passes(
    tmp_path: Path,
    languages: None,
    language: str,
    file_words: str,
    folder_words: str,
    goes_on: str,
) -> None:
    install_translations(language)
    catalog = tmp_path / "mediadesk.sqlite3"
    catalog.write_bytes(b"")
    for place in (catalog, Path(f"{catalog}-wal")):
        place.touch()
        exc = engine.unwritable_catalog(place)
        assert passing_outage(exc)  # the upload queue pauses and tries again
        text = describe_error(exc).text
        assert str(place) in text, text
        assert file_words in text, text
        assert folder_words not in text.replace(str(tmp_path), ""), text  # not "the folder"
        assert goes_on in text, text
    exc = engine.unwritable_catalog(tmp_path)
    text = describe_error(exc).text
    assert str(tmp_path) in text and folder_words in text, text
    assert file_words not in text, text
    assert goes_on in text, text
