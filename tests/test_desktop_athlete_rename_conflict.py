"""Rename athlete… while another desktop of the team renames the same athlete.

The dialog showed "Ana García"; meanwhile another desktop (another Library on the same
catalog) renamed her "Ana Gil"; accepting "Ana Torres" silently wrote over "Ana Gil", and
nobody learnt that a name had been lost. Now the dialog sends the version of the name it
showed: the rename is refused, the user reads that the athlete was renamed meanwhile to
"Ana Gil" (English and Spanish), the sidebar shows "Ana Gil", and "Rename anyway" renames her
over that name while "Keep “Ana Gil”" (the default) leaves it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QInputDialog, QMessageBox

from core.errors import Conflict
from core.library import Library
from desktop_app.errors import describe_error
from desktop_app.i18n import install_translations
from desktop_app.models.sidebar_model import SidebarFilter
from desktop_app.views.main_window import MainWindow
from tests.qt_helpers import shown_window, wait_for

pytestmark = pytest.mark.timeout(120)

TOLD = (
    "Someone else renamed this athlete to “Ana Gil” while you were renaming it, so your name "
    "was not saved."
)


class Answers:
    """Answers the rename dialog (after `meanwhile` ran, as another desktop's rename) and
    then notes the question that follows and clicks the button named `choice`."""

    def __init__(self, meanwhile: Callable[[], object], typed: str, choice: str) -> None:
        self.meanwhile, self.typed, self.choice = meanwhile, typed, choice
        self.asked: list[tuple[str, str, list[str]]] = []
        self._timer = QTimer()
        self._timer.setInterval(20)
        self._timer.timeout.connect(self._check)
        self._timer.start()

    def _check(self) -> None:
        modal = QApplication.activeModalWidget()
        if isinstance(modal, QInputDialog) and modal.isVisible():
            self.meanwhile()
            modal.setTextValue(self.typed)
            modal.accept()
        elif isinstance(modal, QMessageBox) and modal.isVisible():
            buttons = modal.buttons()
            self.asked.append((modal.text(), modal.informativeText(), [b.text() for b in buttons]))
            [chosen] = [b for b in buttons if b.text() == self.choice]
            chosen.click()

    def stop(self) -> None:
        self._timer.stop()


def _view(qtbot: Any, window: MainWindow, athlete_id: int) -> None:
    key = SidebarFilter("athlete", athlete_id).key
    wait_for(qtbot, lambda: window.controller.sidebar.index_of(key).isValid())
    window.sidebar.setCurrentIndex(window.controller.sidebar.index_of(key))
    wait_for(qtbot, lambda: window.controller.filter == SidebarFilter("athlete", athlete_id))


@contextlib.contextmanager
def _renamed_while_open(
    qtbot: Any, library: Library, settings: Any, choice: str
) -> Iterator[tuple[Answers, MainWindow, Library, int]]:
    """The window viewing "Ana García", its Rename athlete… dialog accepted with "Ana Torres"
    after another desktop renamed her "Ana Gil", and the question that followed answered."""
    ana = library.create_athlete("Ana García")
    other = Library.open(settings)  # another desktop of the team, same catalog
    answers = Answers(lambda: other.rename_athlete(ana.id, "Ana Gil"), "Ana Torres", choice)
    try:
        with shown_window(qtbot, library) as window:
            _view(qtbot, window, ana.id)
            window.rename_athlete()  # the dialog, answered by `answers`
            wait_for(qtbot, lambda: len(answers.asked) == 1)
            yield answers, window, other, ana.id
    finally:
        answers.stop()
        other.close()


def _names(window: MainWindow) -> list[str]:
    return [a.name for a in window.controller.sidebar.athletes()]


def test_a_rename_made_meanwhile_elsewhere_is_told_and_kept(
    qtbot: Any, library: Library, settings: Any
) -> None:
    with _renamed_while_open(qtbot, library, settings, "Keep “Ana Gil”") as opened:
        answers, window, other, aid = opened
        assert answers.asked == [
            (TOLD, "Rename it to “Ana Torres” anyway?", ["Rename anyway", "Keep “Ana Gil”"])
        ]
        wait_for(qtbot, lambda: _names(window) == ["Ana Gil"])  # the name now, not the shown one
        qtbot.wait(300)  # a late write would come with the next turns of the event loop
        assert [(a.name, a.version) for a in other.athletes()] == [("Ana Gil", 2)]
        assert window.controller.filter == SidebarFilter("athlete", aid)  # still viewed
        assert window.windowTitle().startswith("Ana Gil")


def test_rename_anyway_renames_over_the_name_given_meanwhile(
    qtbot: Any, library: Library, settings: Any
) -> None:
    with _renamed_while_open(qtbot, library, settings, "Rename anyway") as opened:
        answers, window, other, _aid = opened
        assert answers.asked[0][0] == TOLD
        wait_for(qtbot, lambda: _names(window) == ["Ana Torres"])
        assert [(a.name, a.version) for a in other.athletes()] == [("Ana Torres", 3)]


def test_the_refusal_reads_in_spanish(library: Library, qapp: Any) -> None:
    ana = library.create_athlete("Ana García")
    library.rename_athlete(ana.id, "Ana Gil")
    with pytest.raises(Conflict) as refused:
        library.rename_athlete(ana.id, "Ana Torres", 1)
    assert describe_error(refused.value).text == TOLD
    install_translations("es")
    try:
        spanish = describe_error(refused.value).text
    finally:
        install_translations("en")
    assert spanish == (
        "Otra persona cambió el nombre de este deportista a «Ana Gil» mientras se lo cambiabas "
        "tú, así que tu nombre no se guardó."
    )
