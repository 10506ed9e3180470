"""A name another athlete has (created or renamed to; two desktops adding "Marco Ruiz" at once)
is said as such in English and Spanish, not as "The file changed in the meantime…"."""

from __future__ import annotations

from typing import Any

import pytest

from core.errors import Conflict
from core.library import Library
from desktop_app.errors import describe_error
from desktop_app.i18n import install_translations


def _refusals(library: Library) -> list[BaseException]:
    library.create_athlete("Marco Ruiz")
    other = library.create_athlete("Ana Gil")
    caught = []
    for attempt in (
        lambda: library.create_athlete("Marco Ruiz"),
        lambda: library.rename_athlete(other.id, "Marco Ruiz"),
    ):
        with pytest.raises(Conflict) as refusal:
            attempt()
        caught.append(refusal.value)
    return caught


def test_a_name_taken_is_said_in_english_and_spanish(library: Library, qapp: Any) -> None:
    refusals = _refusals(library)
    english = [describe_error(exc).text for exc in refusals]
    assert english == ["An athlete named “Marco Ruiz” already exists. Choose another name."] * 2
    install_translations("es")
    try:
        spanish = [describe_error(exc).text for exc in refusals]
    finally:
        install_translations("en")
    assert spanish == ["Ya existe un deportista llamado «Marco Ruiz». Elige otro nombre."] * 2
