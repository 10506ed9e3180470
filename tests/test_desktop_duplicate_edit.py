"""An edit in the details panel that the library refuses as a duplicate (409 conflict, reason
duplicate, details.duplicate_of: the athlete or Public of a ready file changed to those of
another ready file of the same bytes, 942818f) is said as that: which file already holds it,
and that nothing was changed. It opened the team's "changed by someone else" dialog, whose
"keep mine" was refused again the same way. Real library, real files, the real window."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: E402

from core.errors import Conflict, NotFound  # noqa: E402
from core.library import Library  # noqa: E402
from core.records import FileRecord  # noqa: E402
from desktop_app.errors import describe_error, with_duplicate_name  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from desktop_app.views.main_window import MainWindow  # noqa: E402
from tests.media_fixtures import MediaSet  # noqa: E402
from tests.qt_helpers import shown_window, wait_for  # noqa: E402


@pytest.fixture
def english(qapp: Any) -> Iterator[None]:
    install_translations("en")
    yield
    install_translations("en")


def _boxes() -> list[QMessageBox]:
    return [
        w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()
    ]


def _sentence(other: int, name: str | None = None) -> str:
    if name is None:  # its name not found: the number still says which
        return (
            "Another file already holds the same photo or video for this athlete with this "
            f"visibility (file {other}): nothing was changed."
        )
    return (
        "Another file already holds the same photo or video for this athlete with this "
        f"visibility, “{name}” (file {other}): nothing was changed."
    )


def _save_refused(qtbot: Any, window: MainWindow, record: FileRecord) -> str:
    """Saves the panel's edits of `record`; the error the window shows (no conflict dialog)."""
    details = window.details
    assert details.dirty and details.request_save()
    wait_for(qtbot, lambda: bool(window.last_error) or window.team.conflict_dialog is not None)
    assert window.team.conflict_dialog is None  # no one else changed it
    assert details.dirty  # the edits stay, to be changed or reverted
    shown = window.last_error
    window.last_error = ""
    for box in _boxes():
        box.close()
    return shown


def test_an_edit_making_a_duplicate_says_which_file_holds_it(
    qtbot: Any, library: Library, media_dir: MediaSet, english: None
) -> None:
    ana = library.create_athlete("Ana")
    eva = library.create_athlete("Eva")
    public = library.uploads.ingest(media_dir.png, "image", athlete_id=ana.id, is_public=True)
    private = library.uploads.ingest(media_dir.png, "image", athlete_id=ana.id)
    elsewhere = library.uploads.ingest(media_dir.png, "image", athlete_id=eva.id)
    with shown_window(qtbot, library) as window:
        grid, details = window.controller.grid, window.details
        wait_for(qtbot, lambda: grid.rowCount() == 3)

        # Public ticked on Ana's private copy: Ana's public one holds those bytes
        window.browser.select_row(grid.row_of(private.id))
        wait_for(qtbot, lambda: details.record is not None and details.record.id == private.id)
        details.public.setChecked(True)
        # named: the grid shows names, and the number alone sent the user hunting for it
        said = _save_refused(qtbot, window, private)
        assert said == _sentence(public.id, public.original_filename)
        assert not library.get_file(private.id).is_public
        assert library.get_file(private.id).version == private.version

        # Eva's copy given to Ana: Ana's private one holds those bytes
        details.revert_button.click()
        window.browser.select_row(grid.row_of(elsewhere.id))
        wait_for(qtbot, lambda: details.record is not None and details.record.id == elsewhere.id)
        details.athlete.setCurrentIndex(details.athlete.findData(ana.id))
        said = _save_refused(qtbot, window, elsewhere)
        assert said == _sentence(private.id, private.original_filename)
        kept = library.get_file(elsewhere.id)
        assert (kept.athlete_id, kept.storage_key) == (eva.id, elsewhere.storage_key)


def test_the_duplicate_sentence_in_spanish(
    library: Library, media_dir: MediaSet, english: None
) -> None:
    # an athlete's copies (no athlete's say so: test_desktop_hunt_s44_spanish)
    ana = library.create_athlete("Ana")
    first = library.uploads.ingest(media_dir.png, "image", athlete_id=ana.id, is_public=True)
    second = library.uploads.ingest(media_dir.png, "image", athlete_id=ana.id)
    with pytest.raises(Conflict) as refused:
        library.update_file(second.id, {"is_public": True})
    assert describe_error(refused.value).text == _sentence(first.id)
    named = with_duplicate_name(refused.value, lambda i: library.get_file(i).original_filename)
    assert describe_error(named).text == _sentence(first.id, first.original_filename)
    assert named.__cause__ is refused.value  # core's own refusal kept

    def gone(_file_id: int) -> str:
        raise NotFound("deleted meanwhile")

    assert with_duplicate_name(refused.value, gone) is refused.value  # the number stays
    install_translations("es")
    assert describe_error(refused.value).text == (
        "Otro archivo ya contiene la misma foto o vídeo para este deportista con esta "
        f"visibilidad (archivo {first.id}): no se ha cambiado nada."
    )
    assert describe_error(named).text == (
        "Otro archivo ya contiene la misma foto o vídeo para este deportista con esta "
        f"visibilidad, «{first.original_filename}» (archivo {first.id}): no se ha cambiado nada."
    )
