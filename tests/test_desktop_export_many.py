"""Export… with several files selected exports them all, into a folder the user picks.

It exported only the file shown in the details panel. Now one selected file keeps the "save as"
dialog; several ask for a folder and are written there in a worker, each under its own name
made safe for the disk, numbered ("name (2).jpg") where a name is taken, by another file of
the selection or one already in the folder. A file that fails (its bytes missing) is listed in
the summary, with why, and the others are exported all the same; it leaves no file behind.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")


from core.filenames import DISK_NAME_BYTES, disk_name, numbered_name  # noqa: E402
from core.library import Library  # noqa: E402
from core.links import share_path  # noqa: E402
from desktop_app.controllers.library_controller import LibraryController  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from desktop_app.views import main_window  # noqa: E402
from tests.media_fixtures import MediaSet  # noqa: E402
from tests.qt_helpers import TIMEOUT, shown_window, wait_for  # noqa: E402


class Dialogs:
    """QFileDialog answered by the test: the folder it picks, and the titles it was shown with."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
        self.folder_titles: list[str] = []
        self.save_titles: list[str] = []

        def folder_dialog(_parent: Any, title: str, *_a: Any, **_k: Any) -> str:
            self.folder_titles.append(title)
            return str(folder)

        def save_dialog(_parent: Any, title: str, *_a: Any, **_k: Any) -> tuple[str, str]:
            self.save_titles.append(title)
            return "", ""  # cancelled

        dialog = main_window.QFileDialog
        monkeypatch.setattr(dialog, "getExistingDirectory", staticmethod(folder_dialog))
        monkeypatch.setattr(dialog, "getSaveFileName", staticmethod(save_dialog))


def _select_all(qtbot: Any, window: Any, count: int) -> None:
    grid = window.controller.grid
    wait_for(qtbot, lambda: grid.rowCount() == count and not grid.loading)
    window.commands.select_all.trigger()
    wait_for(qtbot, lambda: len(window.browser.selected_records()) == count)
    wait_for(qtbot, window.commands.export.isEnabled)  # once the details show a file


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_several_selected_are_all_exported_to_the_chosen_folder(
    qtbot: Any,
    library: Library,
    media_dir: MediaSet,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    jpeg, rotated, png, mp4 = (
        p.read_bytes()
        for p in (media_dir.jpeg, media_dir.jpeg_rotated, media_dir.png, media_dir.mp4)
    )
    library.uploads.ingest(media_dir.jpeg, "image", original_filename='gol: "final"?.jpg')
    library.uploads.ingest(media_dir.jpeg_rotated, "image", original_filename='gol: "final"?.jpg')
    library.uploads.ingest(media_dir.png, "image", original_filename="podio.png")
    library.uploads.ingest(media_dir.mp4, "video", original_filename="salida.mp4")
    dest = tmp_path / "export"
    dest.mkdir()
    (dest / "podio.png").write_bytes(b"the user's own file")
    dialogs = Dialogs(monkeypatch, dest)
    install_translations("en")
    with shown_window(qtbot, library) as window:
        _select_all(qtbot, window, 4)
        with qtbot.waitSignal(window.controller.exported, timeout=30000) as blocker:
            window.commands.export.trigger()
        outcome = blocker.args[0]
        assert dialogs.save_titles == [] and dialogs.folder_titles == ["Export 4 files to a folder"]
        assert not outcome.failed
        files = _files(dest)
        # the selection's order decides which of the two namesakes gets the plain name
        assert {files.pop("gol_ _final__.jpg"), files.pop("gol_ _final__ (2).jpg")} == {
            jpeg,
            rotated,
        }
        assert files == {
            "podio.png": b"the user's own file",  # never overwritten
            "podio (2).png": png,
            "salida.mp4": mp4,
        }
        wait_for(qtbot, lambda: window.status.currentMessage() == f"Exported 4 files to {dest}")
        # the next folder dialog opens there
        assert window.dialog_folder("export") == str(dest)

        # one selected: the "save as" dialog, as before
        window.browser.select_row(0)
        wait_for(qtbot, lambda: len(window.browser.selected_records()) == 1)
        window.commands.export.trigger()
        assert dialogs.save_titles == ["Export"] and len(dialogs.folder_titles) == 1


def test_a_failed_file_is_listed_and_the_others_exported_in_spanish(
    qtbot: Any,
    library: Library,
    media_dir: MediaSet,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    library.uploads.ingest(media_dir.jpeg, "image", original_filename="uno.jpg")
    lost = library.uploads.ingest(media_dir.png, "image", original_filename="perdida.png")
    library.uploads.ingest(media_dir.webp, "image", original_filename="tres.webp")
    stored = library.local_path(lost)
    assert stored is not None
    stored.unlink()  # its bytes are gone from the storage
    dest = tmp_path / "export"
    dest.mkdir()
    dialogs = Dialogs(monkeypatch, dest)
    shown: list[Any] = []
    try:
        install_translations("es")
        with shown_window(qtbot, library) as window:
            window.controller.errorOccurred.connect(shown.append)
            progress: list[str] = []
            window.controller.message.connect(progress.append)
            _select_all(qtbot, window, 3)
            with qtbot.waitSignal(window.controller.exported, timeout=30000) as blocker:
                window.commands.export.trigger()
            outcome = blocker.args[0]
            assert dialogs.folder_titles == ["Exportar 3 archivos a una carpeta"]
            assert [name for name, _exc in outcome.failed] == ["perdida.png"]
            wait_for(qtbot, lambda: bool(shown))
            assert window.last_error.startswith("No se pudo exportar"), window.last_error
    finally:
        install_translations("en")
    # the others are written whole; nothing of the failed one (no temporary, no empty file)
    assert _files(dest) == {
        "uno.jpg": media_dir.jpeg.read_bytes(),
        "tres.webp": media_dir.webp.read_bytes(),
    }
    assert "Exportando: 0 de 3 archivos…" in progress
    summary = shown[0].text
    assert summary.startswith(f"No se pudo exportar 1 de 3 archivos a {dest}:"), summary
    assert "\nperdida.png: " in summary and "uno.jpg" not in summary
    assert summary.endswith("2 archivos exportados."), summary


def test_names_on_disk() -> None:
    assert disk_name("a<b>c:d|e?f*g.jpg") == "a_b_c_d_e_f_g.jpg"
    assert disk_name("con.jpg") == "_con.jpg" and disk_name("LPT1") == "_LPT1"
    assert disk_name("final. . ") == "final"
    assert disk_name("../../etc/passwd") == "passwd"
    long = "ñ" * 200 + ".mp4"
    assert len(disk_name(long).encode()) <= DISK_NAME_BYTES and disk_name(long).endswith(".mp4")
    assert numbered_name("a.jpg", 1) == "a.jpg"
    assert numbered_name("a.jpg", 2) == "a (2).jpg"
    assert numbered_name("README", 3) == "README (3)"
    ten = numbered_name(disk_name(long), 10)
    assert ten.endswith(" (10).mp4") and len(ten.encode()) <= DISK_NAME_BYTES


def test_copy_link_on_a_public_video_with_the_server_stopped_is_its_player_page(
    qtbot: Any, library: Library, media_dir: MediaSet
) -> None:
    """Copy link of a public file that is not an image, here a video with this window's server
    stopped and MEDIADESK_PUBLIC_URL naming the team's server, was the 1-hour signed download
    although anyone may open the file. It is the permanent link core's share_path gives, as the
    web's shareUrl(); a private one stays signed."""
    public = library.uploads.ingest(media_dir.mp4, "video", is_public=True)
    private = library.uploads.ingest(media_dir.webm, "video", original_filename="private.webm")
    library.settings = library.settings.replace(public_base_url="https://media.club.example/")
    controller = LibraryController(library)
    try:
        assert controller.server_url() is None
        with qtbot.waitSignal(controller.linkReady, timeout=TIMEOUT) as link:
            controller.copy_link(public.id)
        assert link.args[0] == f"https://media.club.example/watch/{public.id}"
        with qtbot.waitSignal(controller.linkReady, timeout=TIMEOUT) as link:
            controller.copy_link(private.id)
        assert "/signed/" in link.args[0] and "expires=" in link.args[0], link.args[0]
    finally:
        controller.shutdown()


def test_share_path_is_the_webs_share_url_rule(library: Library, media_dir: MediaSet) -> None:
    photo = library.uploads.ingest(media_dir.jpeg, "image", is_public=True)
    assert share_path(photo) == f"/stream/{photo.id}/image?v={photo.content_tag}"
    assert share_path(replace(photo, file_type="document")) == (
        f"/stream/{photo.id}/raw?v={photo.content_tag}"
    )
    assert share_path(replace(photo, is_public=False)) is None
    library.trash_many([photo.id])
    assert share_path(library.get_file(photo.id)) is None
