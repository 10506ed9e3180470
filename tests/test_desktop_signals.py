"""The desktop quits in order on SIGTERM, SIGHUP and SIGINT, as its Quit does, without questions.

A logout or shutdown (the session's or systemd's SIGTERM), `kill PID`, a closed terminal
(SIGHUP) and Ctrl+C in it (SIGINT): SIGTERM and SIGHUP killed the app outright, and SIGINT came
as a KeyboardInterrupt in the next Python slot, which left Qt's loop without closing the window.
Either way the window's size and docks, the upload queue and the edits in the details panel
were lost. Each start here is a real `mediadesk --data-dir` (Qt offscreen) with a dialog open
or work under way when the signal comes."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.media import make_jpeg, make_truncated_jpeg
from tests.qt_helpers import ROOT

CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from core.library import Library
    from core.settings import load_settings
    from desktop_app.app import create_application
    from desktop_app.cli import main

    data, scene, media, ready = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), sys.argv[4]
    file_id = 0
    if scene == "edits":
        settings = load_settings(config_file=str(data / "settings.toml"), data_dir=str(data))
        library = Library.open(settings)
        file_id = library.uploads.ingest(media / "photo.jpg", "image").id
        library.close()
    app = create_application()

    def window():
        from desktop_app.views.main_window import MainWindow
        shown = [w for w in app.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        return shown[0] if shown else None

    def when(ready_yet, then):
        def poll():
            if ready_yet():
                then()
            else:
                QTimer.singleShot(20, poll)
        QTimer.singleShot(0, poll)

    def say_ready():
        Path(ready).write_text(str(file_id))

    def modal_then_ready():
        when(lambda: app.activeModalWidget() is not None, say_ready)

    def set_up():
        win = window()
        if scene == "edits":  # unsaved edits, and the Settings dialog open over the window
            win.browser.select_row(win.controller.grid.row_of(file_id))
            win.details.description.setPlainText("Podium, second place")
            win.open_settings()
            modal_then_ready()
        elif scene == "about":  # a message box in its own event loop (exec)
            QTimer.singleShot(0, win.about)
            modal_then_ready()
        else:  # a failed upload: a row the saved queue keeps
            win.add_uploads([media / "broken.jpg"])
            items = win.uploads.model.items
            when(lambda: items() and all(item.state.finished for item in items()), say_ready)

    def up():
        win = window()
        if win is None or win.controller.grid.loading or not win.server.running:
            return False
        return win.controller.grid.rowCount() == (1 if scene == "edits" else 0)

    when(up, set_up)
    sys.exit(main(["--data-dir", str(data)]))
    """
)

# the signal, what is open or under way when it comes, and a signal the app was started to
# ignore, sent first (three starts in all: ~1 s each)
CASES = [
    (signal.SIGTERM, "edits", None),
    # `mediadesk &` from a script: the shell ignores SIGINT for it, and so must the app
    (signal.SIGHUP, "about", signal.SIGINT),
    # `nohup mediadesk &`: the terminal's close leaves it running
    (signal.SIGINT, "upload", signal.SIGHUP),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize(("signum", "scene", "ignored"), CASES, ids=[s.name for s, _, _ in CASES])
def test_a_signal_quits_the_desktop_as_quit_does(
    tmp_path: Path, signum: signal.Signals, scene: str, ignored: signal.Signals | None
) -> None:
    pytest.importorskip("PySide6.QtWidgets")
    data, media, ready = tmp_path / "data", tmp_path / "media", tmp_path / "ready"
    data.mkdir(mode=0o700)
    media.mkdir()
    make_jpeg(media / "photo.jpg")
    make_truncated_jpeg(media / "broken.jpg")  # refused by core: a failed row, kept
    # the embedded server starts with the window (stopped in order too), on a port of its own
    (data / "settings.toml").write_text(f"server_port = {free_port()}\n")
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(data), scene, str(media), str(ready)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        preexec_fn=None if ignored is None else lambda: signal.signal(ignored, signal.SIG_IGN),
    )
    try:
        deadline = time.monotonic() + 60  # a guard only
        while not ready.exists() and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert ready.exists(), child.communicate(timeout=5)
        if ignored is not None:
            child.send_signal(ignored)  # first: heard, it would be the one the log names
        child.send_signal(signum)
        out, err = child.communicate(timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            child.kill()
        child.wait()
    assert child.returncode == 0, err  # a clean stop, as `serve`'s
    assert "Traceback" not in err, err
    log = (data / "logs" / "desktop.log").read_text(encoding="utf-8")
    assert f"INFO desktop_app.app: {signum.name}: quitting as Quit does" in log
    if ignored is not None:
        assert ignored.name not in log, log  # inherited SIG_IGN kept: never heard
    assert "MediaDesk API stopped" in log  # the Server panel's server, stopped in order
    state = (data / "window-state.ini").read_text(encoding="utf-8")
    assert "[window]" in state and "geometry=" in state, state  # save_window_state's
    if scene == "edits":
        from core.library import Library
        from core.settings import load_settings

        settings = load_settings(
            environ={}, config_file=str(data / "settings.toml"), data_dir=str(data)
        )
        with contextlib.closing(Library.open(settings)) as library:
            # saved, as the question's default (Save) would have
            record = library.get_file(int(ready.read_text()))
            assert record.description == "Podium, second place"
    if scene == "upload":
        assert "broken.jpg" in (data / "upload-queue.json").read_text(encoding="utf-8")
