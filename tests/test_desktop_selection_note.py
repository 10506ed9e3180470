"""The note above the details when several files are selected names only what acts on them:
with several files selected, none in the trash, it said "…, Restore and Delete permanently act
on all of them" (Restore is off outside the trash; in the trash, only Restore and Delete
permanently are on)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from desktop_app.i18n import install_translations  # noqa: E402
from desktop_app.views.details_panel import DetailsPanel  # noqa: E402
from tests.media import make_record  # noqa: E402


@pytest.fixture(params=["en", "es"])
def language(request: pytest.FixtureRequest, qapp: Any) -> Iterator[str]:
    install_translations(request.param)
    yield request.param
    install_translations("en")


WORDS = {  # the buttons' names, as the note writes them
    "en": {
        "export": "Export",
        "reprocess": "Process again",
        "trash": "Move to trash",
        "restore": "Restore",
        "delete": "Delete permanently",
    },
    "es": {
        "export": "Exportar",
        "reprocess": "Reprocesar",
        "trash": "Mover a la papelera",
        "restore": "Restaurar",
        "delete": "Eliminar definitivamente",
    },
}


@pytest.mark.parametrize("trashed", [False, True])
def test_the_selection_note_names_only_what_applies(
    qtbot: Any, language: str, trashed: bool
) -> None:
    panel = DetailsPanel()
    qtbot.addWidget(panel)
    extra = {"deleted_at": datetime.now(UTC)} if trashed else {}
    panel.show_record(make_record("image", "a.jpg", **extra))
    panel.show_selection_count(3)
    text = panel.selection_note.text()
    words = WORDS[language]
    applies = {"restore", "delete"} if trashed else {"export", "reprocess", "trash", "delete"}
    for action, word in words.items():
        assert (word in text) == (action in applies), (action, text)
    assert "a.jpg" in text


def test_process_again_is_one_term_on_the_buttons_and_in_the_menus(
    qtbot: Any, language: str
) -> None:
    """Spanish said "Reprocesar" on the details' button and "Procesar de nuevo" in the menus
    and the Jobs dock: "Reprocesar" throughout (the longer one widened the details' buttons,
    and the window's least width, past 900 px)."""
    from PySide6.QtCore import QCoreApplication

    panel = DetailsPanel()
    qtbot.addWidget(panel)
    menu = QCoreApplication.translate("MainWindow", "Process a&gain").replace("&", "")
    jobs = QCoreApplication.translate("JobsDock", "Process again")
    assert panel.reprocess_button.text() == menu == jobs
