"""A catalog whose migration record (alembic_version) was emptied is refused at start
(storage_unavailable, reason catalog_schema_unrecorded, 1c6c0a6). The desktop's start-up dialog
said "The storage cannot be reached. Check the connection and the storage settings.", sending
the user to settings that were fine; it now says what happened and, for tables of this version,
the fix core gives (`mediadesk catalog record-schema`). `mediadesk --help` names that command.

Real data folders: a catalog made by a real start, its record deleted with sqlite3; the real
`mediadesk` entry point (desktop_app.cli.main) opens it, only the dialog's exec is kept from
blocking."""

from __future__ import annotations

import argparse
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtWidgets import QMessageBox  # noqa: E402

from core.library import Library  # noqa: E402
from desktop_app import cli  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from tests.conftest import make_settings  # noqa: E402

WHAT_HAPPENED = (
    "MediaDesk's catalog no longer records which version its tables are at (its "
    "alembic_version table was emptied or deleted), so MediaDesk can neither set it up nor "
    "upgrade it, and did not open it. Nothing was changed."
)
RECORD_IT = (
    "Its tables are those of this version: close every MediaDesk using this catalog, then run "
    "`mediadesk catalog record-schema` (with the same --data-dir or DATABASE_URL); it checks "
    "the tables again and records their version, changing nothing else. Or restore the "
    "catalog from a backup."
)
SEE_DETAIL = (
    "Its tables are not those of this version: the technical detail below says what can be "
    "done with them."
)
LO_QUE_PASO = (
    "El catálogo de MediaDesk ya no registra en qué versión están sus tablas (su tabla "
    "alembic_version se vació o se borró), así que MediaDesk no puede prepararlo ni "
    "actualizarlo, y no lo abrió. No se ha cambiado nada."
)
REGISTRALO = (
    "Sus tablas son las de esta versión: cierra todos los MediaDesk que usen este catálogo y "
    "ejecuta `mediadesk catalog record-schema` (con el mismo --data-dir o DATABASE_URL); "
    "comprueba de nuevo las tablas y registra su versión, sin cambiar nada más. O restaura el "
    "catálogo desde una copia de seguridad."
)
VER_DETALLE = (
    "Sus tablas no son las de esta versión: el detalle técnico de abajo dice qué se puede "
    "hacer con ellas."
)


@pytest.fixture
def english(qapp: Any) -> Iterator[None]:
    install_translations("en")
    yield
    install_translations("en")


@pytest.fixture
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("MEDIADESK_DATA_DIR", "MEDIADESK_LANGUAGE", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MEDIADESK_CONFIG_FILE", str(tmp_path / "settings.toml"))


def _unrecorded_catalog(data_dir: Path, *, newer: bool = False) -> Path:
    """A catalog a real start made, holding an athlete, its record then deleted; `newer`: with
    a column this version does not know, as a newer MediaDesk's tables."""
    lib = Library.open(make_settings(data_dir))
    try:
        lib.create_athlete("Ana")
    finally:
        lib.close()
    catalog = data_dir / "mediadesk.sqlite3"
    with sqlite3.connect(catalog) as conn:
        conn.execute("DELETE FROM alembic_version")
        if newer:
            conn.execute("ALTER TABLE athletes ADD COLUMN nickname TEXT")
    conn.close()
    return catalog


def _start(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, list[QMessageBox]]:
    """`mediadesk ARGS` as a person runs it; the start-up dialogs it showed (not blocking)."""
    shown: list[QMessageBox] = []

    def exec_(box: QMessageBox) -> int:
        shown.append(box)
        return 0

    monkeypatch.setattr(QMessageBox, "exec", exec_)
    return cli.main(argv), shown


@pytest.mark.usefixtures("isolated")
def test_the_start_says_the_record_is_lost_and_the_command_that_records_it(
    english: None, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _unrecorded_catalog(data_dir)
    code, shown = _start(["--data-dir", str(data_dir)], monkeypatch)
    assert code == 2 and len(shown) == 1
    sentence, detail = shown[0].informativeText().split("\n")[:2]
    assert sentence == f"{WHAT_HAPPENED} {RECORD_IT}", sentence
    assert "storage" not in sentence
    # core's own words stay beside it, labelled: they name the catalog file and the schema
    assert detail.startswith(f"Technical detail: sqlite:///{catalog} holds MediaDesk's tables")

    code, shown = _start(["--data-dir", str(data_dir), "--language", "es"], monkeypatch)
    assert code == 2
    sentence, detail = shown[0].informativeText().split("\n")[:2]
    assert sentence == f"{LO_QUE_PASO} {REGISTRALO}", sentence
    assert detail.startswith(f"Detalle técnico (en inglés): sqlite:///{catalog} holds")

    # the fix it names, run as it says: the next start opens the library
    install_translations("en")
    assert cli.main(["--data-dir", str(data_dir), "catalog", "record-schema"]) == 0
    Library.open(make_settings(data_dir)).close()


@pytest.mark.usefixtures("isolated")
def test_tables_of_another_version_send_to_core_s_fix_not_to_the_command(
    english: None, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The details say only whether the tables are this version's: for other tables core's
    fix (that version's command, a backup, a catalog made new) is in its English words, which
    the dialog shows labelled; the sentence names no command that would be refused."""
    _unrecorded_catalog(data_dir, newer=True)
    code, shown = _start(["--data-dir", str(data_dir)], monkeypatch)
    assert code == 2
    sentence, detail = shown[0].informativeText().split("\n")[:2]
    assert sentence == f"{WHAT_HAPPENED} {SEE_DETAIL}", sentence
    assert "A newer MediaDesk made these tables" in detail

    code, shown = _start(["--data-dir", str(data_dir), "--language", "es"], monkeypatch)
    assert code == 2
    assert shown[0].informativeText().split("\n")[0] == f"{LO_QUE_PASO} {VER_DETALLE}"


def test_the_help_names_every_catalog_action() -> None:
    """`mediadesk --help` said catalog only copies the catalog into a new database: its
    record-schema action (1c6c0a6), what a refused start asks for, went unnamed."""
    from server import cli as server_cli

    commands = next(
        a for a in server_cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction)
    )
    catalog = commands.choices["catalog"]
    actions = next(a for a in catalog._actions if isinstance(a, argparse._SubParsersAction))
    text = " ".join(cli.build_parser().format_help().split())
    line = text[text.index(" catalog ") : text.index(" nginx-config ")]
    for action in actions.choices:
        assert action in line, (action, line)
