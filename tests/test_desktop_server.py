"""Server panel and CLI: start the embedded server from the panel, HTTP uploads appear live."""

from __future__ import annotations

import json
import logging
import socket
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("PySide6.QtWidgets")

from core.library import Library  # noqa: E402
from core.settings import Settings  # noqa: E402
from desktop_app import cli  # noqa: E402
from desktop_app.controllers.server_controller import ServerController  # noqa: E402
from desktop_app.views.main_window import MainWindow  # noqa: E402
from desktop_app.views.server_panel import ServerPanel, curl_examples  # noqa: E402
from server.entry import EmbeddedServer  # noqa: E402
from tests.media_fixtures import MediaSet  # noqa: E402
from tests.qt_helpers import TIMEOUT, wait_for


@pytest.fixture
def window(qtbot, library: Library) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    win = MainWindow(library)
    qtbot.addWidget(win)
    yield win
    win.shutdown()


def _status(url: str, token: str) -> int:
    try:
        return _get(url, token)[0]
    except urllib.error.HTTPError as exc:
        return exc.code


def _get(url: str, token: str | None = None) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


def _upload(url: str, token: str, path: Path, file_type: str) -> int:
    """A multipart POST to /files/upload/direct, as an HTTP client would send it."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="file_type"\r\n\r\n{file_type}\r\n',
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"'
        "\r\nContent-Type: application/octet-stream\r\n\r\n",
    ]
    body = "".join(parts).encode() + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(f"{url}/files/upload/direct", data=body, method="POST")
    request.add_header("Content-Type", f"multipart/form-data; boundary={boundary}")
    request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status


def test_server_panel_starts_the_server_and_http_uploads_appear_live(
    qtbot,  # type: ignore[no-untyped-def]
    window: MainWindow,
    library: Library,
    media_dir: MediaSet,
) -> None:
    panel = window.server_panel
    panel.port.setValue(0)  # any free port
    with qtbot.waitSignal(window.server.stateChanged, timeout=TIMEOUT) as blocker:
        panel.toggle.click()
    running, url = blocker.args
    assert running and url.startswith("http://127.0.0.1:")
    assert panel.toggle.text() == "Stop" and url in panel.state.text()
    assert url in panel.examples.toPlainText()
    assert "Server:" in window.status.server.text() and url in window.status.server.text()
    status, body = _get(f"{url}/health")
    assert status == 200 and body["status"] == "ok"

    with qtbot.waitSignal(window.server.tokenCreated, timeout=TIMEOUT) as created:
        window.server.create_token("test uploader", "upload")
    token = created.args[1]
    wait_for(qtbot, lambda: panel.table.rowCount() == 1)
    assert _upload(url, token, media_dir.jpeg, "image") == 201
    grid = window.controller.grid
    wait_for(qtbot, lambda: grid.rowCount() == 1)
    assert grid.record_at(0).original_filename == "photo.jpg"

    window.server_panel.table.selectRow(0)
    info = window.server.tokens.list()[0]
    window.server.revoke_token(info.id)
    wait_for(qtbot, lambda: not window.server.tokens.list()[0].active)
    # the server stops accepting it once the change feed tells its token cache (within a
    # second; more on a loaded machine): asked until refused, not once right after the commit
    wait_for(qtbot, lambda: _status(f"{url}/athletes", token) == 401, timeout=3000)  # < cache
    with qtbot.waitSignal(window.server.stateChanged, timeout=TIMEOUT) as stopped:
        panel.toggle.click()
    assert stopped.args == [False, ""]
    assert not window.server.running


def test_server_start_failure_is_reported(qtbot, library: Library) -> None:  # type: ignore[no-untyped-def]
    first = ServerController(library)
    with qtbot.waitSignal(first.stateChanged, timeout=TIMEOUT):
        first.start("127.0.0.1", 0)
    port = first.actual_port
    second = ServerController(library)
    panel = ServerPanel(second)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(second.errorOccurred, timeout=TIMEOUT) as failed:
        second.start("127.0.0.1", port)
    message = failed.args[0]
    assert message.text.startswith("The server could not start. The port is already used")
    assert "in use" in message.detail  # the system's own words stay in the tooltip
    assert message.text in panel.state.text() and message.detail in panel.state.toolTip()
    assert not second.running
    first.stop_blocking()
    second.stop_blocking()


def test_an_autostart_on_a_busy_port_is_logged_and_said_in_the_status_bar(  # type: ignore[no-untyped-def]
    qtbot, window: MainWindow, caplog: pytest.LogCaptureFixture
) -> None:
    """The embedded server's start on a port another program holds logged only "MediaDesk
    API stopped" (for a server that never listened); the window said "Server: not running"
    and the reason was in the closed Server panel. Now a warning with the reason (no
    traceback: an expected case) and a notice in the status bar."""
    caplog.set_level(logging.INFO)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        window.server.host, window.server.port = "127.0.0.1", port
        with qtbot.waitSignal(window.server.stateChanged, timeout=TIMEOUT):
            window.start_services()
    said = [r for r in caplog.records if r.name == "desktop_app.controllers.server_controller"]
    assert [r.levelname for r in said] == ["WARNING"], said
    assert f"127.0.0.1:{port}" in said[0].getMessage() and "in use" in said[0].getMessage()
    assert said[0].exc_info is None
    assert not [r for r in caplog.records if "API stopped" in r.getMessage()]
    notice = window.status.toolTip()  # the notice whole (a hidden window shows none of it)
    assert notice.startswith("The server could not start. The port is already used"), notice
    assert notice.endswith("See View ▸ Server."), notice


def test_curl_examples_use_the_url() -> None:
    text = curl_examples("http://127.0.0.1:9999")
    assert "curl http://127.0.0.1:9999/health" in text
    assert "Authorization: Bearer $TOKEN" in text


def test_the_upload_example_reads_an_upload_token() -> None:
    """Create token… makes a read token unless another scope is chosen: the upload command,
    run with it, answered 403. The upload reads $UPLOAD_TOKEN (a token of scope upload), the
    others $TOKEN; a token given for the reads is not put in the upload unless it can upload."""
    lines = curl_examples("http://127.0.0.1:9999").splitlines()
    upload = [line for line in lines if "/files/upload/direct" in line]
    assert len(upload) == 1 and 'Bearer $UPLOAD_TOKEN"' in upload[0], upload
    assert all("$UPLOAD_TOKEN" not in line for line in lines if line not in upload)
    read_only = curl_examples("http://127.0.0.1:9999", token="mdk_r")
    assert [line for line in read_only.splitlines() if "$UPLOAD_TOKEN" in line] == upload
    both = curl_examples("http://127.0.0.1:9999", token="mdk_u", upload_token="mdk_u")
    assert "$UPLOAD_TOKEN" not in both and "$TOKEN" not in both


def test_cli_help_lists_subcommands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    for name in ("serve", "token", "maintenance", "--data-dir", "--language"):
        assert name in out


def test_cli_dispatches_server_subcommands(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "cli-data"
    monkeypatch.delenv("MEDIADESK_DATA_DIR", raising=False)
    monkeypatch.delenv("MEDIADESK_CONFIG_FILE", raising=False)
    assert cli.split_command(["--data-dir", "x", "token", "list"]) == (
        ["--data-dir", "x"],
        ["token", "list"],
    )
    assert cli.main(["--data-dir", str(data), "token", "create", "--name", "ci"]) == 0
    assert "mdk_" in capsys.readouterr().out
    assert cli.main(["--data-dir", str(data), "token", "list", "--json"]) == 0
    assert '"ci"' in capsys.readouterr().out


def test_r2_previews_play_through_the_embedded_server(
    qtbot,  # type: ignore[no-untyped-def]
    s3_library: Library,
    media_dir: MediaSet,
) -> None:
    """An R2 file's preview URL is the server's stream URL; private ones carry a session token."""
    from desktop_app.controllers.library_controller import LibraryController
    from server.entry import EmbeddedServer
    from tests.server_fixtures import http_call, server_config

    record = s3_library.uploads.ingest(media_dir.mp4, "video")
    controller = LibraryController(s3_library)
    with EmbeddedServer(s3_library, config=server_config(s3_library)) as server:
        controller.server_url = lambda: server.url
        with qtbot.waitSignal(controller.previewReady, timeout=TIMEOUT) as ready:
            controller.request_preview(record)
        source = ready.args[1]
        # pinned to the version it names (rendition and v), then this session's token
        assert source.startswith(f"{server.url}/stream/{record.id}/video?rendition=original&v=")
        assert "&access_token=mdk_" in source
        reply = http_call(source, headers={"Range": "bytes=0-99"})
        assert reply.status == 206 and reply.body == media_dir.mp4.read_bytes()[:100]
        controller.shutdown()  # revokes the session token
        assert not [t for t in s3_library.tokens.list() if t.active]


def test_a_preview_whose_stream_fails_says_why_in_the_users_language(
    qtbot,  # type: ignore[no-untyped-def]
    s3_settings: Settings,
    media_dir: MediaSet,
) -> None:
    """An R2 video previewed through the embedded server while the storage was down showed
    Qt's own English ("The video could not be opened. (… HTTP error 503 …)"); it now says the
    desktop's sentence for the cause, asked of the library off the GUI thread."""
    pytest.importorskip("PySide6.QtMultimedia")
    from core.errors import StorageUnavailable
    from desktop_app.errors import describe_error
    from desktop_app.i18n import install_translations
    from desktop_app.preview.video_player import VideoPlayer
    from tests.faults import CuttableProxy

    proxy = CuttableProxy.in_front_of(s3_settings.r2_endpoint_url)
    library = Library.open(s3_settings.replace(r2_endpoint_url=proxy.url))
    record = library.uploads.ingest(media_dir.mp4, "video")
    install_translations("es")
    window = MainWindow(library, saved_state={})
    qtbot.addWidget(window)
    try:
        window.server.start()
        wait_for(qtbot, lambda: window.server.running)
        # The storage goes down once the preview's stream URL is found, before the player
        # opens it (down before, the preview is refused with the translated sentence already).
        c = window.controller
        c.previewReady.disconnect(window._open_preview)
        c.previewReady.connect(lambda *_: proxy.cut())
        c.previewReady.connect(window._open_preview)
        with qtbot.waitSignal(c.previewReady, timeout=TIMEOUT):
            c.request_preview(record)
        with pytest.raises(StorageUnavailable) as outage:
            library.stat(record)
        cause = describe_error(outage.value).text
        assert "almacenamiento" in cause  # the sentence the player must show, in Spanish
        player = window.preview_dialog.findChild(VideoPlayer)
        wait_for(qtbot, lambda: player.error_text().startswith(cause))
        window.preview_dialog.close()
    finally:
        install_translations("en")
        window.shutdown()
        proxy.close()
        library.close()


def test_why_a_stream_failed_is_read_from_its_json_error(
    library: Library,
    media_dir: MediaSet,
    live: EmbeddedServer,
) -> None:
    """The file itself may be fine while its stream is not (a web rendition gone, a token
    revoked): then the server's JSON error code says why; an answer that plays says nothing."""
    from desktop_app.controllers.library_controller import playback_failure

    record = library.uploads.ingest(media_dir.mp4, "video")
    _info, token = library.tokens.create("previews", "read")
    playing = f"{live.url}/stream/{record.id}/video?access_token={token}"
    assert playback_failure(library, record, playing) is None
    gone = f"{live.url}/stream/{record.id + 99}/video?access_token={token}"
    assert getattr(playback_failure(library, record, gone), "code", None) == "not_found"
    assert playback_failure(library, record, "http://127.0.0.1:9/stream") is None  # no answer


def test_revoke_is_offered_only_for_a_selected_active_token(
    qtbot,  # type: ignore[no-untyped-def]
    window: MainWindow,
) -> None:
    """Revoke stayed enabled with no token chosen (a click did nothing) and on a token already
    revoked (a click asked to revoke it again)."""
    panel = window.server_panel
    assert not panel.revoke_button.isEnabled()  # no tokens at all
    with qtbot.waitSignal(window.server.tokenCreated, timeout=TIMEOUT):
        window.server.create_token("camera", "upload")
    wait_for(qtbot, lambda: panel.table.rowCount() == 1)
    assert not panel.revoke_button.isEnabled()  # a token, none chosen
    panel.table.selectRow(0)
    assert panel.revoke_button.isEnabled()
    panel.table.clearSelection()
    assert not panel.revoke_button.isEnabled()
    panel.table.selectRow(0)
    window.server.revoke_token(window.server.tokens.list()[0].id)
    wait_for(qtbot, lambda: panel.table.item(0, 3).text().startswith("revoked"))
    assert panel.table.selectionModel().isRowSelected(0)  # still chosen, but nothing to do
    assert not panel.revoke_button.isEnabled()


def test_a_revoked_token_keeps_its_name_readable(
    qtbot,  # type: ignore[no-untyped-def]
    window: MainWindow,
) -> None:
    """Once the State column read "revoked <date and time>", it took the width of the token's
    name beside it, which was cut: the date is in the tooltip, the name keeps its width."""
    panel = window.server_panel
    window.resize(1024, 768)
    window.show()
    window.server_dock.show()
    window.server_dock.raise_()
    with qtbot.waitSignal(window.server.tokenCreated, timeout=TIMEOUT):
        window.server.create_token("camera", "upload")
    wait_for(qtbot, lambda: panel.table.rowCount() == 1)
    wait_for(qtbot, lambda: panel.table.columnWidth(0) > 0)
    name_width = panel.table.columnWidth(0)
    window.server.revoke_token(window.server.tokens.list()[0].id)
    wait_for(qtbot, lambda: panel.table.item(0, 3).text() == "revoked")
    state = panel.table.item(0, 3)
    assert state.toolTip().startswith("revoked ") and len(state.toolTip()) > len("revoked ")
    qtbot.wait(1)  # let the header fit the new contents
    name = panel.table.item(0, 0)
    # the name takes what the other columns leave (cut short at 1024 px, see
    # test_desktop_fit.py::test_the_token_table_shows_every_column_beside_a_long_name)
    # and gives way to the wider word only ("revoked" for "active"), not to a date
    metrics = panel.table.fontMetrics()
    wider = metrics.horizontalAdvance("revoked") - metrics.horizontalAdvance("active")
    assert panel.table.columnWidth(0) >= name_width - wider - 4
    assert name.toolTip() == name.text()


def test_the_token_table_follows_tokens_changed_by_another_process(
    qtbot,  # type: ignore[no-untyped-def]
    window: MainWindow,
    settings: Settings,
) -> None:
    """`mediadesk token create` in a terminal never showed in the table, and after `mediadesk
    token revoke` the table still called the token active, with a Revoke button, while the
    window's own server refused it: the table was read only when this window changed a token."""
    panel = window.server_panel
    other = Library.open(settings)  # another process on the catalog: its own feed origin
    try:
        camera, _ = other.tokens.create("camera", "upload")
        wait_for(qtbot, lambda: panel.table.rowCount() == 1)
        assert panel.table.item(0, 0).text().startswith("camera (")
        panel.table.selectRow(0)
        assert panel.revoke_button.isEnabled()
        other.tokens.create("script", "read")
        wait_for(qtbot, lambda: panel.table.rowCount() == 2)
        assert panel.table.item(1, 0).text().startswith("script (")
        assert panel.table.selectionModel().isRowSelected(0)  # still the camera's token
        other.tokens.revoke(camera.id)
        wait_for(qtbot, lambda: panel.table.item(0, 3).text() == "revoked")
        assert panel.table.selectionModel().isRowSelected(0)
        assert not panel.revoke_button.isEnabled()  # nothing left to revoke
        assert panel.table.item(1, 3).text() == "active"
    finally:
        other.close()
