"""Drops as file managers send them: raw text/uri-list, host names, move drags, linked folders."""

from __future__ import annotations

import errno
import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl  # noqa: E402
from PySide6.QtGui import (  # noqa: E402
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
)
from PySide6.QtWidgets import QApplication  # noqa: E402

from core.library import Library  # noqa: E402
from desktop_app.controllers.upload_controller import expand_paths  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from desktop_app.models.upload_queue_model import UploadState  # noqa: E402
from desktop_app.views.main_window import MainWindow  # noqa: E402
from tests.media_fixtures import MediaSet  # noqa: E402
from tests.qt_helpers import TIMEOUT, shown_window, wait_for  # noqa: E402

COPY_OR_MOVE = Qt.DropAction.CopyAction | Qt.DropAction.MoveAction | Qt.DropAction.LinkAction


@pytest.fixture
def window(qtbot, library: Library) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    with shown_window(qtbot, library) as win:
        yield win


def uri_list(*lines: str) -> QMimeData:
    """text/uri-list bytes as GTK and Qt file managers write them (RFC 2483: CRLF, comments)."""
    mime = QMimeData()
    mime.setData("text/uri-list", ("\r\n".join(lines) + "\r\n").encode())
    return mime


def send_drop(
    window: MainWindow,
    mime: QMimeData,
    actions: Qt.DropAction = Qt.DropAction.CopyAction,
    modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
) -> tuple[QDragEnterEvent, QDropEvent]:
    pos = QPoint(300, 300)
    args = (actions, mime, Qt.MouseButton.LeftButton, modifiers)
    try:
        enter = QDragEnterEvent(QPointF(pos), *args)  # type: ignore[call-overload]
    except TypeError:  # PySide6 before 6.12 takes a QPoint here
        enter = QDragEnterEvent(pos, *args)
    QApplication.sendEvent(window, enter)
    drop = QDropEvent(QPointF(pos), *args)
    if enter.isAccepted():
        QApplication.sendEvent(window, drop)
    return enter, drop


def finished_rows(qtbot, window: MainWindow, count: int) -> dict[str, UploadState]:  # type: ignore[no-untyped-def]
    model = window.uploads.model
    wait_for(
        qtbot,
        lambda: (
            model.rowCount() == count
            and not window.uploads.busy
            and all(i.state.finished for i in model.items())
        ),
        timeout=TIMEOUT,
    )
    return {item.name: item.state for item in model.items()}


def test_a_file_managers_uri_list_is_read_with_escapes_and_local_host_names(
    qtbot, window: MainWindow, media_dir: MediaSet, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """%-escaped names (space, accent, #, %) are decoded, and file://localhost/… or
    file://<this computer>/… (RFC 8089; ROX, xfe and older KDE send the host name) name a
    file here: they were read as the network share //localhost/… and failed as missing."""
    odd = tmp_path / "with space é #1 50%.jpg"
    shutil.copy(media_dir.jpeg, odd)
    on_localhost = tmp_path / "via localhost.png"
    shutil.copy(media_dir.png, on_localhost)
    on_hostname = tmp_path / "via hostname.webp"
    shutil.copy(media_dir.webp, on_hostname)
    mime = uri_list(
        "# dragged from the file manager",
        "file://" + str(odd).replace("%", "%25").replace(" ", "%20").replace("#", "%23"),
        "file://localhost" + str(on_localhost).replace(" ", "%20"),
        f"file://{socket.gethostname()}" + str(on_hostname).replace(" ", "%20"),
        "sftp://example.invalid/remote.jpg",  # not a file here: left out, not an error
    )
    enter, drop = send_drop(window, mime)
    assert enter.isAccepted() and drop.isAccepted()
    assert finished_rows(qtbot, window, 3) == {
        "with space é #1 50%.jpg": UploadState.DONE,
        "via localhost.png": UploadState.DONE,
        "via hostname.webp": UploadState.DONE,
    }


def test_a_move_drag_is_taken_as_a_copy(
    qtbot, window: MainWindow, media_dir: MediaSet, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Shift while dragging proposes a move: MediaDesk copies, so it answers "copied" — a
    source told "moved" may delete its files (Qt's own drags do), and the drag cursor showed
    a move."""
    photo = tmp_path / "keep me.png"
    shutil.copy(media_dir.png, photo)
    mime = uri_list("file://" + str(photo).replace(" ", "%20"))
    enter, drop = send_drop(window, mime, COPY_OR_MOVE, Qt.KeyboardModifier.ShiftModifier)
    assert enter.proposedAction() == Qt.DropAction.MoveAction  # what the user's Shift asked
    assert enter.isAccepted() and enter.dropAction() == Qt.DropAction.CopyAction
    assert drop.isAccepted() and drop.dropAction() == Qt.DropAction.CopyAction
    assert finished_rows(qtbot, window, 1) == {"keep me.png": UploadState.DONE}
    assert photo.is_file()


def test_a_dropped_folder_walks_linked_folders_once(tmp_path: Path) -> None:
    """A linked folder inside a dropped folder looks like any folder in the file manager: its
    files come too (they were left out without a word); a link back up does not loop."""
    shoot = tmp_path / "shoot"
    (shoot / "day 1").mkdir(parents=True)
    (shoot / "day 1" / "a.jpg").write_bytes(b"a")
    elsewhere = tmp_path / "elsewhere" / "day 2"
    elsewhere.mkdir(parents=True)
    (elsewhere / "b.jpg").write_bytes(b"b")
    os.symlink(elsewhere, shoot / "day 2")
    os.symlink(shoot, shoot / "day 1" / "back up")  # a loop
    os.symlink(elsewhere, shoot / "day 3")  # the same folder again
    found = [path.relative_to(shoot).as_posix() for path, _size in expand_paths([shoot])]
    assert found == ["day 1/a.jpg", "day 2/b.jpg"]


def test_a_folder_that_cannot_be_read_is_a_failed_row(
    qtbot, window: MainWindow, media_dir: MediaSet, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """A subfolder the system refuses to list (no permission: tests run as root, so the refusal
    is the system call's) is a failed row that names it, and the rest of the drop goes on;
    its files were left out without a word."""
    shoot = tmp_path / "shoot"
    private = shoot / "private"
    private.mkdir(parents=True)
    shutil.copy(media_dir.png, shoot / "ok.png")
    shutil.copy(media_dir.jpeg, private / "hidden from us.jpg")
    real_scandir = os.scandir

    def scandir(path):  # type: ignore[no-untyped-def]
        if Path(os.fsdecode(path)) == private:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    enter, drop = send_drop(window, uri_list(QUrl.fromLocalFile(str(shoot)).toString()))
    assert drop.isAccepted()
    assert finished_rows(qtbot, window, 2) == {
        "ok.png": UploadState.DONE,
        "private": UploadState.FAILED,
    }
    row = next(i for i in window.uploads.model.items() if i.name == "private")
    assert row.reason == f"MediaDesk is not allowed to use {private}."


def drag_over(qtbot, window: MainWindow, *paths: Path) -> str:  # type: ignore[no-untyped-def]
    """Drags real paths over the window (an enter, then a move, as Qt sends them); the
    overlay's title once the dropped paths were looked at (off the GUI thread)."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path)) for path in paths])
    pos = QPoint(300, 300)
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier(0))
    for kind in (QDragEnterEvent, QDragMoveEvent):
        try:
            event = kind(QPointF(pos), *args)  # type: ignore[call-overload]
        except TypeError:  # PySide6 before 6.12 takes a QPoint here
            event = kind(pos, *args)
        QApplication.sendEvent(window, event)
        assert event.isAccepted()
    wait_for(qtbot, lambda: window._dragged[1] is not None)
    title = window.drop_overlay.title
    QApplication.sendEvent(window, QDragLeaveEvent())
    return title


def test_the_drop_overlay_counts_files_and_folders(
    qtbot, window: MainWindow, media_dir: MediaSet, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """A dragged folder was "1 item" (the overlay counted dropped links): it says how many
    files and folders the drop adds, with each language's plurals, and a folder's contents
    are not read for it (they are walked after the drop, off the GUI thread)."""
    season = tmp_path / "season"
    season.mkdir()
    for name in ("heat_1.png", "heat_2.png"):
        shutil.copy(media_dir.png, season / name)
    other = tmp_path / "finals"
    other.mkdir()
    photos = [shutil.copy(media_dir.png, tmp_path / f"photo_{i}.png") for i in range(3)]
    files = [Path(p) for p in photos]
    install_translations("en")
    try:
        assert drag_over(qtbot, window, season) == "Drop to add 1 folder to the library"
        assert drag_over(qtbot, window, season, other) == "Drop to add 2 folders to the library"
        assert drag_over(qtbot, window, files[0]) == "Drop to add 1 file to the library"
        assert drag_over(qtbot, window, *files, season) == (
            "Drop to add 3 files and 1 folder to the library"
        )
        install_translations("es")
        assert drag_over(qtbot, window, season) == "Suelta para añadir 1 carpeta a la biblioteca"
        assert drag_over(qtbot, window, files[0], season, other) == (
            "Suelta para añadir 1 archivo y 2 carpetas a la biblioteca"
        )
        assert drag_over(qtbot, window, *files) == "Suelta para añadir 3 archivos a la biblioteca"
    finally:
        install_translations("en")
    assert window.uploads.model.rowCount() == 0  # nothing was dropped


def test_a_drag_from_a_slow_disk_never_stats_on_the_gui_thread(
    qtbot, window: MainWindow, media_dir: MediaSet, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """The overlay counted folders with a stat of each dropped path at drag-enter, on the GUI
    thread: a slow or network disk froze the window. The paths are looked at by a worker; the
    overlay names no count until then, and a drop meanwhile is taken at once."""
    import threading

    share = tmp_path / "share"
    share.mkdir()
    shutil.copy(media_dir.png, share / "heat_1.png")
    disk = threading.Event()  # the slow disk answers once this is set
    on_gui_thread: list[Path] = []
    is_dir = Path.is_dir

    def slow_is_dir(self: Path, *args, **kwargs) -> bool:  # type: ignore[no-untyped-def]
        if self == share:
            if threading.current_thread() is threading.main_thread():
                on_gui_thread.append(self)
            disk.wait(5)  # bounded: the test fails, rather than hangs, on a GUI-thread stat
        return is_dir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "is_dir", slow_is_dir)
    install_translations("en")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(share))])
    pos = QPoint(300, 300)
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier(0))
    try:
        enter = QDragEnterEvent(QPointF(pos), *args)  # type: ignore[call-overload]
    except TypeError:  # PySide6 before 6.12 takes a QPoint here
        enter = QDragEnterEvent(pos, *args)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted() and on_gui_thread == []
    overlay = window.drop_overlay
    assert overlay.isVisible() and overlay.title == "Drop to add to the library"
    disk.set()
    wait_for(qtbot, lambda: overlay.title == "Drop to add 1 folder to the library")
    disk.clear()  # slow again: the drop is still taken at once, and walked by the worker
    QApplication.sendEvent(window, QDropEvent(QPointF(pos), *args))
    assert not overlay.isVisible() and on_gui_thread == []
    disk.set()
    assert finished_rows(qtbot, window, 1) == {"heat_1.png": UploadState.DONE}
