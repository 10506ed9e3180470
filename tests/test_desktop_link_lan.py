"""Copy link with the embedded server on every address (0.0.0.0: "serves your network").

Without MEDIADESK_PUBLIC_URL the link named http://127.0.0.1:PORT, which a colleague on the
club's Wi-Fi opens on their own device, where nothing answers. It now names this machine's
address on the network (core.links.shareable_origin), and the link answers there; the Server
panel's address and commands, which may be used elsewhere too, name it as well.
"""

from __future__ import annotations

import ipaddress
import socket
import urllib.request
from typing import Any
from urllib.parse import urlsplit

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtGui import QGuiApplication  # noqa: E402

from core import links  # noqa: E402
from core.library import Library  # noqa: E402
from tests.media_fixtures import MediaSet  # noqa: E402
from tests.qt_helpers import TIMEOUT, shown_window, wait_for  # noqa: E402

BEFORE = "nothing copied yet"


def _fetch(url: str) -> bytes:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as response:
        return bytes(response.read())


def _network_host(url: str) -> str:
    """The host `url` names, checked to be an address of this machine other than loopback."""
    host = urlsplit(url).hostname or ""
    address = ipaddress.ip_address(host)  # a name would do elsewhere only by luck
    assert not address.is_loopback, url
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((host, 0))  # binds only when an interface here has it
    return host


def _copy(qtbot: Any, window: Any, file_id: int) -> str:
    grid = window.controller.grid
    wait_for(qtbot, lambda: grid.row_of(file_id) >= 0)
    window.browser.select_row(grid.row_of(file_id))
    wait_for(qtbot, lambda: window.controller.current is not None)
    wait_for(qtbot, lambda: window.controller.current.id == file_id)
    QGuiApplication.clipboard().setText(BEFORE)
    with qtbot.waitSignal(window.controller.linkReady, timeout=TIMEOUT):
        window.commands.copy_link.trigger()
    return QGuiApplication.clipboard().text()


def test_copy_link_on_a_server_for_the_network_names_its_network_address(
    qtbot: Any, library: Library, media_dir: MediaSet
) -> None:
    if not links.network_address(socket.AF_INET):
        pytest.skip("this machine has no IPv4 address but loopback")
    private = library.uploads.ingest(media_dir.jpeg, "image")
    public = library.uploads.ingest(media_dir.png, "image", is_public=True)
    with shown_window(qtbot, library) as window:
        window.server_panel.host.setText("0.0.0.0")
        window.server_panel.port.setValue(0)
        window.server_panel.start()
        wait_for(qtbot, lambda: window.server.running)
        port = window.server.actual_port
        assert window.server.url == f"http://127.0.0.1:{port}"  # the app's own player

        for record, path, body in (
            (private, "/signed/", media_dir.jpeg.read_bytes()),
            (public, f"/stream/{public.id}/image", media_dir.png.read_bytes()),
        ):
            url = _copy(qtbot, window, record.id)
            assert path in url, url
            host = _network_host(url)
            assert urlsplit(url).port == port, url
            assert _fetch(url) == body, url
        assert window.status.currentMessage() == "Link copied to the clipboard"

        # the panel's commands may be run on another device too: they name the same address
        panel = window.server_panel
        examples = panel.examples.toPlainText()
        assert f"curl http://{host}:{port}/health" in examples, examples
        assert "127.0.0.1" not in examples, examples
        assert f">http://{host}:{port}</a>" in panel.state.text(), panel.state.text()
        assert _fetch(f"http://{host}:{port}/health")
