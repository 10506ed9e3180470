"""Process again, for a photo, from the grid's context menu, the Edit menu and the details
panel's Actions.

The desktop offered it only in the Jobs dock, for files with jobs (videos), while the server
and core remake a photo's images too (POST /files/{id}/reprocess, ThumbnailRemaker.remake).
Now the grid's menu offers it for the selected stored file: a photo's images are made again in
a worker, never on the GUI thread, and its tile shows the picture the library then answers,
even when the content tag (the thumbnail cache's key) is the one it had.

Real SQLite catalog, local storage and ingest; the remade picture is told apart by a
thumbnail_bytes that answers a red one once the remake ran.
"""

from __future__ import annotations

import io
import threading
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

pytest.importorskip("pytestqt")

from PySide6.QtGui import QPixmap  # noqa: E402

from core.library import Library  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from desktop_app.models.file_grid_model import FileGridListModel  # noqa: E402
from tests.internals import storage_of  # noqa: E402
from tests.media import make_jpeg  # noqa: E402
from tests.qt_helpers import shown_window, wait_for  # noqa: E402

pytestmark = pytest.mark.timeout(60)


def _red_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (230, 10, 10)).save(out, "JPEG")
    return out.getvalue()


def _tile_colour(grid: FileGridListModel, file_id: int) -> tuple[int, int, int] | None:
    pixmap = grid.index(grid.row_of(file_id)).data(FileGridListModel.ThumbnailRole)
    if not isinstance(pixmap, QPixmap) or pixmap.isNull():
        return None
    image = pixmap.toImage()
    colour = image.pixelColor(image.width() // 2, image.height() // 2)
    return colour.red(), colour.green(), colour.blue()


def test_process_again_remakes_a_photo_off_the_gui_thread_and_its_tile_shows_it(
    qtbot: Any, library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_translations("en")
    path = tmp_path / "blue.jpg"
    Image.new("RGB", (64, 48), (20, 40, 220)).save(path, "JPEG")
    photo = library.uploads.ingest(path, "image")
    remaker = library.thumbnail_remaker
    real_remake, real_bytes = remaker.remake_told, library.thumbnail_bytes
    threads: list[threading.Thread] = []
    red = _red_jpeg()

    def remake(file_id: int) -> Any:
        threads.append(threading.current_thread())
        return real_remake(file_id)

    def thumbnail_bytes(file_id: int, *args: Any, **kwargs: Any) -> bytes:
        return red if threads else real_bytes(file_id, *args, **kwargs)

    monkeypatch.setattr(remaker, "remake_told", remake)
    monkeypatch.setattr(library, "thumbnail_bytes", thumbnail_bytes)
    with shown_window(qtbot, library) as window:
        grid = window.controller.grid
        wait_for(qtbot, lambda: grid.row_of(photo.id) >= 0)
        wait_for(qtbot, lambda: _tile_colour(grid, photo.id) is not None)
        before = _tile_colour(grid, photo.id)
        assert before is not None and before[2] > 150  # the blue photo's own thumbnail
        action = window.commands.reprocess
        assert action in window.browser.grid.actions()  # the grid's context menu
        assert not action.isEnabled()  # nothing selected
        window.browser.select_row(grid.row_of(photo.id))
        wait_for(qtbot, lambda: window.details.record is not None)
        assert action.isEnabled() and action.text().replace("&", "") == "Process again"
        messages: list[str] = []
        window.controller.message.connect(messages.append)
        button = window.details.reprocess_button  # the file's Actions in the details panel
        assert button.isVisible() and button.isEnabled()
        button.click()
        wait_for(qtbot, lambda: bool(messages))
        assert threads and threads[0] is not threading.main_thread()
        assert messages == ["Made the thumbnail of blue.jpg again"]
        wait_for(qtbot, lambda: (_tile_colour(grid, photo.id) or (0, 0, 0))[0] > 150)
        assert window.last_error == ""


def test_process_again_acts_on_every_selected_file_with_one_summary(
    qtbot: Any, library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With three photos selected it remade only the current one and said nothing of the
    others, while Move to trash and Restore act on the whole selection."""
    install_translations("en")
    photos = []
    for i in range(3):
        path = tmp_path / f"p{i}.jpg"
        Image.new("RGB", (32, 24), (i * 60, 90, 30)).save(path, "JPEG")
        photos.append(library.uploads.ingest(path, "image"))
    remaker = library.thumbnail_remaker
    real_remake = remaker.remake_told
    remade: list[tuple[int, threading.Thread]] = []

    def remake(file_id: int) -> Any:
        remade.append((file_id, threading.current_thread()))
        return real_remake(file_id)

    monkeypatch.setattr(remaker, "remake_told", remake)
    with shown_window(qtbot, library) as window:
        grid, view = window.controller.grid, window.browser.grid
        wait_for(qtbot, lambda: grid.rowCount() == 3)
        window.browser.select_row(0)
        view.selectAll()
        wait_for(qtbot, lambda: len(window.browser.selected_ids()) == 3)
        wait_for(qtbot, lambda: "3 files selected" in window.details.selection_note.text())
        assert "Process again" in window.details.selection_note.text()
        messages: list[str] = []
        window.controller.message.connect(messages.append)
        window.commands.reprocess.trigger()
        wait_for(qtbot, lambda: bool(messages) and messages[-1].startswith("Made"))
        assert sorted(i for i, _t in remade) == sorted(p.id for p in photos)
        assert all(t is not threading.main_thread() for _i, t in remade)
        assert messages[-1] == "Made the thumbnails of 3 photos again", messages
        assert window.last_error == ""


def test_process_again_says_which_photos_could_not_be_made_again(
    qtbot: Any, library: Library, tmp_path: Path
) -> None:
    """A photo whose original cannot be decoded keeps the thumbnail it had: the summary counted
    it among those "made again", where `mediadesk reprocess` lists it under not_made (ca65716).
    Its original's bytes are damaged in place, its size kept. In Spanish."""
    library.uploads.ingest(make_jpeg(tmp_path / "good.jpg", (64, 48)), "image")
    broken = library.uploads.ingest(make_jpeg(tmp_path / "broken.jpg", (48, 64)), "image")
    stored = storage_of(library).local_path(broken.storage_key)
    assert stored is not None
    stored.write_bytes(bytes(255 - b for b in stored.read_bytes()))
    install_translations("es")
    try:
        with shown_window(qtbot, library) as window:
            grid, view = window.controller.grid, window.browser.grid
            wait_for(qtbot, lambda: grid.rowCount() == 2)
            window.browser.select_row(0)
            view.selectAll()
            wait_for(qtbot, lambda: len(window.browser.selected_ids()) == 2)
            messages: list[str] = []
            window.controller.message.connect(messages.append)
            window.commands.reprocess.trigger()
            wait_for(qtbot, lambda: any("generada" in m for m in messages))
            # before: "Miniaturas de 2 fotos generadas de nuevo"
            assert messages[-1] == (
                "Miniatura de good.jpg generada de nuevo · No se pudo generar de nuevo la "
                "miniatura de 1 foto: su original no se puede decodificar, y conserva la que "
                "tenía"
            ), messages
            # the damaged one alone: named
            window.browser.select_row(grid.row_of(broken.id))
            wait_for(qtbot, lambda: window.browser.selected_ids() == [broken.id])
            messages.clear()
            window.commands.reprocess.trigger()
            wait_for(qtbot, lambda: bool(messages))
            assert messages == [
                "No se pudo generar de nuevo la miniatura de broken.jpg: su original no se "
                "puede decodificar, y conserva la que tenía"
            ]
            assert window.last_error == ""
    finally:
        install_translations("en")
