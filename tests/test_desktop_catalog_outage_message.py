"""The desktop's sentence for a catalog (database) out of reach (reason catalog_unreachable).

A PostgreSQL catalog stopped or restarting was said as "The storage cannot be reached. Check the
connection and the storage settings." in the error box and in the upload queue's paused rows:
the bucket was fine, the user was sent to the storage settings, and nothing said the paused
uploads go on by themselves once the database is back (core: CATALOG_OUT_REASONS, outages that
pass). The sentence follows catalog_read_only's (tests/test_desktop_catalog_read_only.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from PIL import Image

pytest.importorskip("pytestqt")

from core.errors import StorageNotAsked, catalog_down, catalog_refused, passing_outage  # noqa: E402
from core.library import Library  # noqa: E402
from desktop_app.controllers import upload_controller  # noqa: E402
from desktop_app.controllers.upload_controller import UploadController  # noqa: E402
from desktop_app.errors import describe_error, error_from_record, error_record  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from desktop_app.models.upload_queue_model import UploadState  # noqa: E402
from tests.qt_helpers import wait_for  # noqa: E402


@pytest.fixture
def languages(qapp) -> Iterator[None]:  # type: ignore[no-untyped-def]
    yield
    install_translations("en")


@pytest.mark.parametrize(
    ("language", "names", "goes_on", "check"),
    [
        ("en", ("catalog", "database"), "by themselves", "database server"),
        ("es", ("catálogo", "base de datos"), "solas", "servidor de la base de datos"),
    ],
)
def test_a_catalog_outage_is_said_as_one_that_passes(
    languages: None,
    language: str,
    names: tuple[str, str],
    goes_on: str,
    check: str,
) -> None:
    install_translations(language)
    refused = StorageNotAsked(
        "The catalog (database) cannot be reached right now; try again later",
        retry_after=5,
        reason="catalog_unreachable",
    )
    kept = error_from_record(error_record(catalog_down()))  # a paused row after a restart
    assert kept is not None
    storage = describe_error(StorageNotAsked("bucket silent", retry_after=5)).text
    for exc in (catalog_down(), refused, kept):
        assert passing_outage(exc)  # the upload queue pauses the row and tries again
        message = describe_error(exc)
        text = message.text
        assert text != storage, text  # not the storage's sentence
        assert all(name in text for name in names), text
        assert goes_on in text, text  # uploads go on by themselves
        assert check in text, text  # what to check: not the storage settings
        assert message.detail  # core's words stay as the technical detail


def test_the_spanish_sentence_reads_naturally(languages: None) -> None:
    """ "o la red hasta él no funciona" read as a word-for-word rendering of "the network to it
    is down"."""
    install_translations("es")
    text = describe_error(catalog_down()).text
    assert "hasta él" not in text, text
    assert "detenido o reiniciándose, o no hay conexión de red con él." in text, text


def test_a_dropped_connection_met_as_it_is_says_the_same(languages: None) -> None:
    """psycopg's own error, should one reach the window unwrapped, is the same outage, not
    "Something unexpected went wrong" with a traceback in the log."""
    install_translations("en")
    dropped = psycopg.OperationalError("server closed the connection unexpectedly")
    assert passing_outage(dropped)
    message = describe_error(dropped)
    assert message.text == describe_error(catalog_down()).text
    assert "server closed the connection" in message.detail


def test_a_row_paused_by_the_outage_says_it_and_goes_on_by_itself(
    qtbot: Any, library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, languages: None
) -> None:
    """The upload queue's row: paused with the catalog's sentence, finished once it is back."""
    install_translations("en")
    monkeypatch.setattr(upload_controller, "RETRY_FIRST", 200)
    photo = tmp_path / "during-the-outage.jpg"
    Image.new("RGB", (64, 48), (200, 20, 30)).save(photo)
    real = library.uploads.ingest
    down = [True]

    def ingest(*args: Any, **kwargs: Any) -> Any:
        if down[0]:
            raise catalog_down()
        return real(*args, **kwargs)

    monkeypatch.setattr(library.uploads, "ingest", ingest)
    controller = UploadController(library, max_parallel=1, persist=False)
    try:
        controller.add_paths([photo])
        wait_for(
            qtbot,
            lambda: [i.state for i in controller.model.items()] == [UploadState.PAUSED],
        )
        (row,) = controller.model.items()
        assert row.reason == describe_error(catalog_down()).text, row.reason
        assert "database" in row.reason and "by themselves" in row.reason
        down[0] = False
        wait_for(qtbot, lambda: [i.state for i in controller.model.items()] == [UploadState.DONE])
    finally:
        controller.shutdown()


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", ("sign-in", "DATABASE_URL", "Waiting does not help")),
        ("es", ("DATABASE_URL", "contraseña", "Esperar no sirve")),
    ],
)
def test_a_refused_sign_in_is_said_as_a_set_up_fault(
    languages: None, language: str, words: tuple[str, ...]
) -> None:
    """PostgreSQL refusing the password, role or database (catalog_refused): not the generic
    "something unexpected", nor the outage's "goes on by itself"."""
    install_translations(language)
    refused = describe_error(catalog_refused("password authentication failed for user x")).text
    generic = describe_error(StorageNotAsked("bucket silent", retry_after=5)).text
    outage = describe_error(catalog_down()).text
    assert refused not in (generic, outage)
    assert all(word in refused for word in words), refused
    assert "password authentication failed" not in refused  # PostgreSQL's words: the log's
