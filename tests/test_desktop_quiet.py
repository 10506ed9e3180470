"""The console stays quiet in normal use: access-log lines and Qt Multimedia chatter go to the
log file only; MediaDesk's own notices and errors still reach the console."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = textwrap.dedent(
    """
    import logging, sys
    from PySide6.QtCore import QCoreApplication, QLoggingCategory, qCWarning
    from core.settings import load_settings
    from desktop_app.app import route_qt_messages, setup_logging
    settings = load_settings(environ={}, config_file=sys.argv[1] + "/settings.toml",
                             data_dir=sys.argv[1])
    app = QCoreApplication([])
    setup_logging(settings)
    route_qt_messages()
    logging.getLogger("aiohttp.access").info('127.0.0.1 "GET /health HTTP/1.1" 200')
    category = QLoggingCategory("qt.multimedia.ffmpeg")
    qCWarning(category, "Input #0, mov,mp4: Stream #0:0: Video: h264 VAAPI probing failed")
    logging.getLogger("desktop_app.views").info("Embedded server listening")
    logging.getLogger("core.library").error("Real trouble")
    """
)


def test_access_log_and_multimedia_chatter_stay_off_the_console(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(data)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr
    console = done.stdout + done.stderr
    assert "GET /health" not in console and "VAAPI" not in console
    assert "Embedded server listening" in console and "Real trouble" in console
    log = (data / "logs" / "desktop.log").read_text(encoding="utf-8")
    assert "GET /health" in log and "VAAPI probing failed" in log  # kept for debugging
