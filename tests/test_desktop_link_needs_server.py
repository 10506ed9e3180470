"""Copy link with the embedded server stopped, and the Server panel's examples.

On local storage a file's link is signed for the embedded server: with the server stopped the
app copied `http://127.0.0.1:PORT/signed/…` (connection refused) and said "Link copied to the
clipboard". It now asks to start the server first and copies a link that answers; on R2/S3 the
link goes straight to the bucket and is copied as before. The examples show curl commands only
for a running server's own port (after a start failed on a busy port they named that port,
where another program answers).
"""

from __future__ import annotations

import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtGui import QGuiApplication  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: E402

from core.library import Library  # noqa: E402
from desktop_app.controllers.server_controller import ServerController  # noqa: E402
from desktop_app.views.server_panel import ServerPanel  # noqa: E402
from tests.media_fixtures import MediaSet  # noqa: E402
from tests.qt_helpers import TIMEOUT, shown_window, wait_for  # noqa: E402

BEFORE = "nothing copied yet"


def _fetch(url: str) -> bytes:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as response:
        return bytes(response.read())


def _answer_box(button: str) -> list[str]:
    """Clicks `button` of the next modal message box; its words land in the list returned."""
    seen: list[str] = []

    def reply() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, reply)
            return
        seen.append(f"{box.text()}\n{box.informativeText()}")
        for candidate in box.buttons():
            if candidate.text() == button:
                candidate.click()
                return
        seen.append(f"no button {button!r} in {[b.text() for b in box.buttons()]}")
        box.reject()

    QTimer.singleShot(0, reply)
    return seen


def _select(qtbot: Any, window: Any, file_id: int) -> None:
    grid = window.controller.grid
    wait_for(qtbot, lambda: grid.row_of(file_id) >= 0)
    window.browser.select_row(grid.row_of(file_id))
    wait_for(qtbot, lambda: window.controller.current is not None)


def test_copy_link_with_the_server_stopped_asks_to_start_it_and_copies_a_working_link(
    qtbot: Any, library: Library, media_dir: MediaSet
) -> None:
    record = library.uploads.ingest(media_dir.jpeg, "image")
    with shown_window(qtbot, library) as window:
        assert not window.server.running
        _select(qtbot, window, record.id)
        QGuiApplication.clipboard().setText(BEFORE)

        # Cancel: nothing copied, no success claimed, the server stays stopped
        seen = _answer_box("Cancel")
        window.commands.copy_link.trigger()
        wait_for(qtbot, lambda: bool(seen))
        assert "server must be running" in seen[0], seen
        qtbot.wait(200)  # a link that was wrongly on its way would land meanwhile
        assert QGuiApplication.clipboard().text() == BEFORE
        assert "copied" not in window.status.currentMessage()
        assert not window.server.running
        tip = window.commands.copy_link.toolTip()
        assert "server" in tip and "running" in tip, tip  # says so before it is pressed

        # Start the server and copy: the link copied is the running server's, and it answers
        seen = _answer_box("Start the server and copy")
        window.commands.copy_link.trigger()
        wait_for(qtbot, lambda: bool(seen))
        wait_for(qtbot, lambda: QGuiApplication.clipboard().text() != BEFORE)
        assert window.server.running
        url = QGuiApplication.clipboard().text()
        assert url.startswith(f"{window.server.url}/signed/"), (url, window.server.url)
        assert window.status.currentMessage() == "Link copied to the clipboard"
        assert _fetch(url) == media_dir.jpeg.read_bytes()
        # running: copied at once, no question
        assert "server" not in window.commands.copy_link.toolTip()
        QGuiApplication.clipboard().setText(BEFORE)
        with qtbot.waitSignal(window.controller.linkReady, timeout=TIMEOUT):
            window.commands.copy_link.trigger()
        assert QGuiApplication.clipboard().text().startswith(f"{window.server.url}/signed/")


def test_copy_link_on_s3_needs_no_server(
    qtbot: Any, s3_library: Library, media_dir: MediaSet
) -> None:
    record = s3_library.uploads.ingest(media_dir.jpeg, "image")
    with shown_window(qtbot, s3_library) as window:
        assert not window.server.running
        _select(qtbot, window, record.id)
        assert "server" not in window.commands.copy_link.toolTip()
        QGuiApplication.clipboard().setText(BEFORE)
        with qtbot.waitSignal(window.controller.linkReady, timeout=TIMEOUT):
            window.commands.copy_link.trigger()
        url = QGuiApplication.clipboard().text()
        assert "/signed/" not in url and url.startswith(s3_library.settings.r2_endpoint_url)
        assert window.status.currentMessage() == "Link copied to the clipboard"
        assert _fetch(url) == media_dir.jpeg.read_bytes()
        assert not window.server.running


def _commands(panel: ServerPanel) -> list[str]:
    return [line for line in panel.examples.toPlainText().splitlines() if "curl" in line]


def test_examples_show_only_a_running_servers_port(
    qtbot: Any, library: Library, media_dir: MediaSet
) -> None:
    library.uploads.ingest(media_dir.jpeg, "image")
    other = ServerController(library)  # "another program" on the port the panel asks for
    with qtbot.waitSignal(other.stateChanged, timeout=TIMEOUT):
        other.start("127.0.0.1", 0)
    busy = other.actual_port
    controller = ServerController(library)
    panel = ServerPanel(controller)
    qtbot.addWidget(panel)
    stopped: Callable[[], bool] = lambda: not _commands(panel)  # noqa: E731
    try:
        assert stopped(), panel.examples.toPlainText()  # never started: no commands
        assert "Start the server" in panel.examples.toPlainText()
        assert not panel.copy_action.isEnabled()
        panel.port.setValue(busy or 0)
        with qtbot.waitSignal(controller.errorOccurred, timeout=TIMEOUT):
            panel.toggle.click()
        assert not controller.running
        assert f":{busy}" not in panel.examples.toPlainText()
        assert stopped() and not panel.copy_action.isEnabled()

        panel.port.setValue(0)  # any free port: the commands name the one it got
        with qtbot.waitSignal(controller.stateChanged, timeout=TIMEOUT):
            panel.toggle.click()
        assert controller.running
        wait_for(qtbot, lambda: len(_commands(panel)) >= 3)
        assert all(f"{controller.url}/" in line for line in _commands(panel))
        assert panel.copy_action.isEnabled()
        with qtbot.waitSignal(controller.stateChanged, timeout=TIMEOUT):
            panel.toggle.click()  # Stop
        assert stopped() and not panel.copy_action.isEnabled()
    finally:
        controller.stop_blocking()
        other.stop_blocking()


def _headers(url: str) -> tuple[int, Any, bytes]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as response:
        return response.status, response.headers, bytes(response.read())


def test_copy_link_on_a_public_image_is_its_permanent_stream_url(
    qtbot: Any, library: Library, media_dir: MediaSet
) -> None:
    """A public image's link was the 1-hour signed download (attachment): a phone saved the
    photo instead of showing it and the link died although the file is public. It is now the
    stream URL with the content tag, as the web's shareUrl() gives; a private one stays signed."""
    public = library.uploads.ingest(media_dir.jpeg, "image", is_public=True)
    private = library.uploads.ingest(media_dir.jpeg, "image", original_filename="private.jpg")
    with shown_window(qtbot, library) as window:
        with qtbot.waitSignal(window.server.stateChanged, timeout=TIMEOUT):
            window.server_panel.port.setValue(0)
            window.server_panel.start()
        assert window.server.running
        _select(qtbot, window, public.id)
        QGuiApplication.clipboard().setText(BEFORE)
        with qtbot.waitSignal(window.controller.linkReady, timeout=TIMEOUT):
            window.commands.copy_link.trigger()
        url = QGuiApplication.clipboard().text()
        tag = library.get_file(public.id).content_tag
        assert tag
        assert url == f"{window.server.url}/stream/{public.id}/image?v={tag}", url
        status, headers, body = _headers(url)
        assert status == 200 and body == media_dir.jpeg.read_bytes()
        assert "attachment" not in (headers.get("Content-Disposition") or "")
        assert (
            headers["Cache-Control"].startswith("public")
            and "immutable" in headers["Cache-Control"]
        ), headers["Cache-Control"]

        _select(qtbot, window, private.id)
        with qtbot.waitSignal(window.controller.linkReady, timeout=TIMEOUT):
            window.commands.copy_link.trigger()
        url = QGuiApplication.clipboard().text()
        assert url.startswith(f"{window.server.url}/signed/"), url
        assert _fetch(url) == media_dir.jpeg.read_bytes()


def test_examples_follow_a_renamed_file(qtbot: Any, library: Library, media_dir: MediaSet) -> None:
    """The examples named a renamed file by its old name until another file arrived."""
    record = library.uploads.ingest(media_dir.jpeg, "image", original_filename="IMG_0030.jpg")
    with shown_window(qtbot, library) as window:
        with qtbot.waitSignal(window.server.stateChanged, timeout=TIMEOUT):
            window.server_panel.port.setValue(0)
            window.server_panel.start()
        panel = window.server_panel
        wait_for(qtbot, lambda: "-o IMG_0030.jpg" in panel.examples.toPlainText())
        with qtbot.waitSignal(window.controller.saved, timeout=TIMEOUT):
            window.controller.save_metadata(
                record.id, {"original_filename": "gol_final.jpg"}, record.version
            )
        wait_for(qtbot, lambda: "-o gol_final.jpg" in panel.examples.toPlainText())
        assert "IMG_0030" not in panel.examples.toPlainText()


def test_copy_link_on_a_public_bucket_image_with_a_loopback_server_is_the_buckets(
    qtbot: Any, s3_library: Library, media_dir: MediaSet
) -> None:
    """With the server on its default 127.0.0.1 and no MEDIADESK_PUBLIC_URL, a public image's
    permanent stream URL names an address only this computer opens: pasted to a team chat it
    opened nowhere. The bucket's own link opens anywhere, as before the permanent links."""
    public = s3_library.uploads.ingest(media_dir.jpeg, "image", is_public=True)
    with shown_window(qtbot, s3_library) as window:
        with qtbot.waitSignal(window.server.stateChanged, timeout=TIMEOUT):
            window.server_panel.port.setValue(0)
            window.server_panel.start()
        assert window.server.running and window.server.url.startswith("http://127.0.0.1:")
        _select(qtbot, window, public.id)
        QGuiApplication.clipboard().setText(BEFORE)
        with qtbot.waitSignal(window.controller.linkReady, timeout=TIMEOUT):
            window.commands.copy_link.trigger()
        url = QGuiApplication.clipboard().text()
        assert url.startswith(s3_library.settings.r2_endpoint_url), url
        assert _fetch(url) == media_dir.jpeg.read_bytes()
