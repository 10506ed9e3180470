"""A dropped file whose bytes are already in the library: the status bar says so, naming it.

An outside tester dropped carpeta_sprint_50.jpg, a byte-for-byte copy of the library's
sprint_50.jpg: the queue row said "Duplicate (already in the library)" while the status bar said
"Uploaded sprint_50.jpg", the other file's name and an upload that never happened."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("PySide6.QtWidgets")

from core.library import Library  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from desktop_app.models.upload_queue_model import UploadState  # noqa: E402
from desktop_app.views import main_window  # noqa: E402
from desktop_app.views.main_window import MainWindow  # noqa: E402
from tests.media import make_jpeg  # noqa: E402
from tests.qt_helpers import shown_window, wait_for  # noqa: E402

SAID = {
    "en": (
        "“carpeta_sprint_50.jpg” is already in the library as “sprint_50.jpg”.",
        "“sprint_50.jpg” is already in the library.",
        "Uploaded other.jpg",
    ),
    "es": (
        "«carpeta_sprint_50.jpg» ya está en la biblioteca como «sprint_50.jpg».",
        "«sprint_50.jpg» ya está en la biblioteca.",
        "Subido: other.jpg",
    ),
}


@pytest.fixture(params=["en", "es"])
def language(request: pytest.FixtureRequest) -> Iterator[str]:
    install_translations(request.param)
    yield str(request.param)
    install_translations("en")


@pytest.fixture
def window(qtbot, library: Library) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    with shown_window(qtbot, library) as win:
        win.resize(1600, 700)  # the whole notice in the status bar, none of it elided
        yield win


def _drop(qtbot, window: MainWindow, path: Path) -> str:  # type: ignore[no-untyped-def]
    """The status bar's notice once the dropped file's row has finished."""
    window.add_uploads([path])

    def finished() -> bool:
        rows = [i for i in window.uploads.model.items() if i.path == path]
        return bool(rows) and rows[0].state in (UploadState.DONE, UploadState.DUPLICATE)

    wait_for(qtbot, finished)
    return window.status.currentMessage()


def test_a_dropped_copy_names_itself_and_the_librarys_file(  # type: ignore[no-untyped-def]
    qtbot, window: MainWindow, library: Library, language: str, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(main_window, "NOTICE_HOLD_S", 0.0)  # each notice read in turn here
    ours, elsewhere = tmp_path / "ours", tmp_path / "dropped"
    ours.mkdir()
    elsewhere.mkdir()
    stored = make_jpeg(ours / "sprint_50.jpg", (64, 48))
    library.uploads.ingest(stored, "image")
    renamed, same, other = SAID[language]

    copy = shutil.copyfile(stored, elsewhere / "carpeta_sprint_50.jpg")
    assert _drop(qtbot, window, copy) == renamed
    twin = shutil.copyfile(stored, elsewhere / "sprint_50.jpg")
    assert _drop(qtbot, window, twin) == same
    # a new file still says it was uploaded
    assert _drop(qtbot, window, make_jpeg(elsewhere / "other.jpg", (48, 64))) == other
    states = [item.state for item in window.uploads.model.items()]
    assert states == [UploadState.DUPLICATE, UploadState.DUPLICATE, UploadState.DONE]


def test_a_duplicates_notice_is_not_replaced_by_the_next_files_upload(  # type: ignore[no-untyped-def]
    qtbot, window: MainWindow, library: Library, tmp_path: Path
) -> None:
    """In a drop of many, "Uploaded <the next file>" replaced the duplicate's notice at once:
    the user never read that a file was already in the library."""
    ours, elsewhere = tmp_path / "ours", tmp_path / "dropped"
    ours.mkdir()
    elsewhere.mkdir()
    stored = make_jpeg(ours / "sprint_50.jpg", (64, 48))
    library.uploads.ingest(stored, "image")
    twin = shutil.copyfile(stored, elsewhere / "sprint_50.jpg")
    said = _drop(qtbot, window, twin)
    assert said == SAID["en"][1]
    assert _drop(qtbot, window, make_jpeg(elsewhere / "other.jpg", (48, 64))) == said
