"""A catalog another program holds locked (reason catalog_busy, 2dc2cc3) is said as that in the
desktop, naming the catalog file, not as the generic storage sentence that sent users to the
storage settings. The lock is a real second process's BEGIN EXCLUSIVE on the real catalog."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6.QtCore")

from core.db import engine  # noqa: E402
from core.errors import StorageUnavailable, catalog_locked  # noqa: E402
from core.library import Library  # noqa: E402
from core.settings import Settings  # noqa: E402
from desktop_app.errors import describe_error  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from tests.internals import db_of  # noqa: E402
from tests.test_catalog_busy import _hold, _release  # noqa: E402

ENGLISH = (
    "Another program is holding MediaDesk's catalog locked{where}: a database browser or backup "
    "tool left open, a script, or another MediaDesk busy on the same data folder. Close it or "
    "wait for it to finish; changes can then be saved again and queued uploads go on by "
    "themselves, without restarting MediaDesk."
)
SPANISH = (
    "Otro programa mantiene bloqueado el catálogo de MediaDesk{where}: un navegador de bases de "
    "datos o una herramienta de copias de seguridad que quedó abierta, un script u otro "
    "MediaDesk ocupado con la misma carpeta de datos. Ciérralo o espera a que termine; después "
    "se podrán guardar cambios de nuevo y las subidas en cola seguirán solas, sin reiniciar "
    "MediaDesk."
)


@pytest.fixture
def library(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Library]:
    # read by each new connection: the catalog's connections wait 0.3 s for a lock, not 30 s
    monkeypatch.setattr(engine, "BUSY_TIMEOUT_MS", 300)
    lib = Library.open(settings)
    yield lib
    lib.close()


@pytest.fixture
def english(qapp: Any) -> Iterator[None]:
    install_translations("en")
    yield
    install_translations("en")


def test_a_catalog_held_locked_is_said_naming_the_catalog_file(
    library: Library, english: None
) -> None:
    catalog = str(Path(db_of(library).engine.url.database or ""))
    holder = _hold(library)
    try:
        with pytest.raises(StorageUnavailable) as caught:
            library.create_athlete("Ana")
    finally:
        _release(holder)
    exc = caught.value
    assert (exc.reason, exc.details) == ("catalog_busy", {"path": catalog})
    said = describe_error(exc)
    assert said.text == ENGLISH.format(where=f" ({catalog})"), said.text
    install_translations("es")
    spanish = describe_error(exc).text
    assert spanish == SPANISH.format(where=f" ({catalog})"), spanish
    assert library.create_athlete("Ana").name == "Ana"  # let go: it saves again


def test_without_a_path_the_sentence_names_none(english: None) -> None:
    """A PostgreSQL catalog's lock: no file to name."""
    assert describe_error(catalog_locked(None)).text == ENGLISH.format(where="")
    install_translations("es")
    assert describe_error(catalog_locked(None)).text == SPANISH.format(where="")
