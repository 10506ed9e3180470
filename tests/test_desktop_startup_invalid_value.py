"""`MEDIADESK_PORT=abc mediadesk --language es`: the Spanish start-up dialog said "Setting
MEDIADESK_PORT has an invalid value 'abc': expected int" as its explanation, in English and
without the "Detalle técnico (en inglés)" label every other English detail has (an outside
tester's run). The setting and the kind of value it takes come from the error's details (never
from its English words): the dialog says them in the window's language, core's words behind
Show Details…, labelled; a setting error whose details say no more is shown labelled."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtWidgets import QMessageBox  # noqa: E402

from desktop_app import app  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402


def _start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, language: str
) -> tuple[int, list[tuple[str, str, str]]]:
    """run_gui as `mediadesk --language LANGUAGE` runs it; each dialog's texts are kept."""
    shown: list[tuple[str, str, str]] = []

    def exec_(box: QMessageBox) -> int:
        shown.append((box.text(), box.informativeText(), box.detailedText()))
        return 0

    monkeypatch.setattr(QMessageBox, "exec", exec_)
    try:
        return app.run_gui(language, str(tmp_path / "data")), shown
    finally:
        install_translations("en")


@pytest.mark.parametrize(
    ("variable", "value", "spanish", "english"),
    [
        (
            "MEDIADESK_PORT",
            "abc",
            "El ajuste MEDIADESK_PORT tiene un valor que MediaDesk no puede leer: debe ser un "
            "número entero.",
            "The setting MEDIADESK_PORT has a value MediaDesk cannot read: it must be a whole "
            "number.",
        ),
        (
            "MEDIADESK_SERVER_AUTOSTART",
            "maybe",
            "El ajuste MEDIADESK_SERVER_AUTOSTART tiene un valor que MediaDesk no puede leer: "
            "debe ser sí o no: 1, true, yes u on; 0, false, no u off.",
            "The setting MEDIADESK_SERVER_AUTOSTART has a value MediaDesk cannot read: it must "
            "be yes or no: 1, true, yes or on; 0, false, no or off.",
        ),
    ],
)
def test_an_invalid_value_is_said_in_the_windows_language(
    qapp: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    variable: str,
    value: str,
    spanish: str,
    english: str,
) -> None:
    monkeypatch.setenv(variable, value)
    code, shown = _start(monkeypatch, tmp_path, "es")
    assert code == 2
    title, text, detail = shown[0]
    assert title == "MediaDesk no puede arrancar porque un ajuste no es válido."
    assert text.startswith(spanish + "\n\nArchivo de ajustes: "), text
    assert "invalid value" not in text and "expected" not in text
    # core's words, for whoever reports it, behind Show Details… and labelled as English
    assert detail.startswith(f"Detalle técnico (en inglés): Setting {variable} has an invalid")
    code, shown = _start(monkeypatch, tmp_path, "en")
    assert shown[0][1].startswith(english + "\n\nSettings file: "), shown[0][1]


def test_a_setting_error_without_details_is_labelled_as_english(
    qapp: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A value out of range: core's sentence names the setting and the range, in English; the
    Spanish dialog labels it as such, as every other English detail."""
    monkeypatch.setenv("MEDIADESK_PORT", "70000")
    code, shown = _start(monkeypatch, tmp_path, "es")
    assert code == 2
    text = shown[0][1]
    assert text.startswith("Detalle técnico (en inglés): Setting MEDIADESK_PORT: must be "), text
