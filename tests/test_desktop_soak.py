"""Soak: the real main window, its embedded server running, while thousands of files arrive.

Half come through the HTTP API (a client thread posting to /files/upload/direct), half through
the upload queue, at the same time. The window must survive (this process reaching the end is
the proof), and the grid header, the sidebar and the status bar must all show the catalog's
count. SOAK_FILES changes the number for a longer run (the suite uses 1,000, down from 3,000
and 2,000, to keep the whole suite within its 15 minutes on 2 cores).
"""

from __future__ import annotations

import http.client
import io
import os
import re
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PIL import Image  # noqa: E402

from core.library import Library  # noqa: E402
from desktop_app.views.main_window import MainWindow  # noqa: E402
from tests.conftest import make_settings  # noqa: E402
from tests.qt_helpers import wait_for

FILES = int(os.environ.get("SOAK_FILES", "1000"))
pytestmark = pytest.mark.timeout(600)  # 1,000 files: ~25 s on an idle 2-core box


def tiny_image(n: int, fmt: str) -> bytes:
    """A 16×16 picture whose columns spell `n` in black and white: no two files share bytes."""
    image = Image.new("L", (16, 16))
    image.putdata([255 if n >> x & 1 else 0 for _y in range(16) for x in range(16)])
    out = io.BytesIO()
    image.convert("RGB").save(out, format=fmt)
    return out.getvalue()


@pytest.fixture
def fast_dir(tmp_path: Path) -> Iterator[Path]:
    """A data folder in memory when the system has one: the soak is about the window, and
    thousands of fsyncs on a shared disk would measure the disk instead."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    folder = Path(tempfile.mkdtemp(prefix="mediadesk-soak-", dir=shm))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def library(fast_dir: Path) -> Iterator[Library]:
    # A bulk import by a trusted uploader: the per-token rate limit is not what is measured.
    (fast_dir / "data").mkdir()
    lib = Library.open(make_settings(fast_dir / "data", upload_rate_limit=0))
    yield lib
    lib.close()


@pytest.fixture
def window(qtbot, library: Library) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    win = MainWindow(library, page_size=100, max_parallel=2)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.shutdown()


def _post_all(url: str, token: str, files: list[tuple[str, bytes]], errors: list[str]) -> None:
    """One keep-alive connection posting multipart uploads, as a sync client would."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        for name, data in files:
            boundary = uuid.uuid4().hex
            body = (
                (
                    f'--{boundary}\r\nContent-Disposition: form-data; name="file_type"\r\n\r\n'
                    f'image\r\n--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                    f'filename="{name}"\r\nContent-Type: image/png\r\n\r\n'
                ).encode()
                + data
                + f"\r\n--{boundary}--\r\n".encode()
            )
            conn.request(
                "POST",
                "/files/upload/direct",
                body,
                {
                    "Content-Type": f"multipart/form-data; boundary={boundary}",
                    "Authorization": f"Bearer {token}",
                },
            )
            response = conn.getresponse()
            response.read()
            if response.status != 201:
                errors.append(f"{name}: HTTP {response.status}")
    except Exception as exc:  # noqa: BLE001 - reported by the test
        errors.append(repr(exc))
    finally:
        conn.close()


def _number(text: str) -> int:
    found = re.search(r"\d[\d,.\s]*", text)
    assert found, text
    return int(re.sub(r"\D", "", found.group()))


def test_window_survives_thousands_of_arrivals_and_counts_agree(
    qtbot,  # type: ignore[no-untyped-def]
    window: MainWindow,
    library: Library,
    fast_dir: Path,
) -> None:
    via_http = FILES // 2
    via_queue = FILES - via_http
    folder = fast_dir / "import"
    folder.mkdir()
    for n in range(via_queue):
        (folder / f"queued-{n:05d}.jpg").write_bytes(tiny_image(n, "JPEG"))
    http_files = [(f"api-{n:05d}.png", tiny_image(via_queue + n, "PNG")) for n in range(via_http)]
    _info, token = library.tokens.create("soak", "upload")

    with qtbot.waitSignal(window.server.stateChanged, timeout=30000) as started:
        window.server.start(port=0)
    running, url = started.args
    assert running, window.server.last_error

    started_at = time.monotonic()
    errors: list[str] = []
    client = threading.Thread(target=_post_all, args=(url, token, http_files, errors))
    client.start()
    window.add_uploads([folder])  # as a dropped folder: walked, queued, ingested in the pool

    def all_arrived() -> bool:
        return (
            not client.is_alive()
            and window.uploads.model.rowCount() == via_queue
            and (not window.uploads.busy)
        )

    wait_for(qtbot, all_arrived, timeout=540_000)
    arrived = time.monotonic() - started_at
    assert not errors, errors[:5]
    states = window.uploads.model.states()
    assert states == {"done": via_queue}, states

    catalog = library.counts()["all"]
    assert catalog == FILES

    # Every view catches up from the same change events.
    def views_agree() -> bool:
        return (
            _number(window.browser.total.text()) == catalog
            and _number(window.controller.sidebar.count_text("all")) == catalog
            and _number(window.status.counts.text()) == catalog
        )

    wait_for(qtbot, views_agree, timeout=60_000)
    assert window.isVisible()
    print(
        f"soak: {FILES} files arrived in {arrived:.1f} s, views agreed at "
        f"{time.monotonic() - started_at:.1f} s"
    )
