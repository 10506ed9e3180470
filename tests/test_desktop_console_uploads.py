"""The desktop's console stays quiet while files are imported (README, The desktop app: "Console:
quiet in normal use"). An outside tester's drag of 1,000 files printed 946 INFO "core.ingest:
Successfully uploaded file" lines and an ERROR "File validation error" line for each refused
file, which the queue's row already shows; they belong in logs/desktop.log only."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from tests.media import make_jpeg, make_truncated_jpeg
from tests.qt_helpers import run_desktop_child

CHILD = textwrap.dedent(
    """
    import logging, sys, time
    from pathlib import Path
    from PySide6.QtWidgets import QApplication
    from core.library import Library
    from core.settings import load_settings
    from desktop_app.app import route_qt_messages, setup_logging
    from desktop_app.controllers.upload_controller import UploadController
    data, media = Path(sys.argv[1]), Path(sys.argv[2])
    settings = load_settings(environ={}, config_file=str(data / "settings.toml"),
                             data_dir=str(data))
    app = QApplication([])
    setup_logging(settings)  # as run_gui sets up the desktop's logging
    route_qt_messages()
    library = Library.open(settings)
    uploads = UploadController(library, max_parallel=1)
    uploads.add_paths([media / "photo.jpg", media / "broken.jpg"])

    def finished():
        items = uploads.model.items()
        return len(items) == 2 and all(item.state.finished for item in items)

    deadline = time.monotonic() + 60  # a guard only
    while not finished() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    print(sorted(item.state.value for item in uploads.model.items()), flush=True)
    logging.getLogger("core.library").warning("Real trouble")  # still said on the console
    uploads.shutdown()
    library.close()
    """
)


def test_importing_a_good_and_a_refused_file_prints_nothing(tmp_path: Path) -> None:
    pytest.importorskip("PySide6.QtWidgets")
    data, media = tmp_path / "data", tmp_path / "media"
    data.mkdir(mode=0o700)
    media.mkdir()
    make_jpeg(media / "photo.jpg")
    make_truncated_jpeg(media / "broken.jpg")  # a photo by its bytes, refused by core
    done = run_desktop_child(CHILD, str(data), str(media), home=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['done', 'failed']", done.stdout + done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].endswith("WARNING core.library: Real trouble"), lines
    log = (data / "logs" / "desktop.log").read_text(encoding="utf-8")
    assert "core.ingest: Successfully uploaded file: photo.jpg" in log
    assert "ERROR core.ingest: File validation error" in log and "(broken.jpg)" in log
    assert "Catalog schema at head" in log  # the start-up lines too
