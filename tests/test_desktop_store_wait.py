"""A failure that says when to try again (its retry_after) is waited out and told, whatever its
kind: the library controller read it only off StorageNotAsked.

An action on a throttling store (503 SlowDown, 429) or one failing inside (5xx) said "The
storage cannot be reached. Check the connection and the storage settings.", though the store
was reached and the settings were right, and not when to try again, which the error carries
(the store's Retry-After, or the quiet window core keeps; the server's Retry-After says the
same). A grid page refused by a catalog outage that says its window was asked again after the
controller's own 2 s back-off, before the window ended. A thumbnail that met such a store kept
its tile's placeholder for the rest of the session. Real S3 (moto) behind tests.faults'
ErringStore, which answers S3's errors over loopback; the desktop's LibraryController.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtGui import QPixmapCache  # noqa: E402

from core.errors import catalog_down  # noqa: E402
from core.library import Library  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.storage import s3  # noqa: E402
from core.storage.s3 import Timeouts  # noqa: E402
from desktop_app.controllers import library_controller  # noqa: E402
from desktop_app.controllers.library_controller import LibraryController  # noqa: E402
from desktop_app.errors import ErrorMessage  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from desktop_app.models.thumbnails import ThumbnailLoader  # noqa: E402
from tests.faults import ErringStore  # noqa: E402
from tests.media_fixtures import MediaSet  # noqa: E402
from tests.qt_helpers import TIMEOUT, wait_for  # noqa: E402

pytestmark = pytest.mark.timeout(120)

LONGEST = 5.0  # the longest quiet window core keeps for a store, shortened (production: 20 s)


@pytest.fixture
def english(qapp: Any) -> None:
    install_translations("en")


@pytest.fixture
def erring(
    s3_settings: Settings, media_dir: MediaSet, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[ErringStore, Library, int]]:
    """(the ErringStore in front of the bucket, a library on it, a photo stored there)."""
    monkeypatch.setattr(s3, "REQUESTS", Timeouts(connect=3, read=4, attempts=2))
    monkeypatch.setattr(s3, "HANG_WINDOW", 2.0)
    monkeypatch.setattr(s3, "LONGEST_HANG_WINDOW", LONGEST)
    proxy = ErringStore(s3_settings.r2_endpoint_url)
    lib = Library.open(s3_settings.replace(r2_endpoint_url=proxy.url, usage_scan_interval=0))
    photo = lib.uploads.ingest(media_dir.jpeg, "image")
    try:
        yield proxy, lib, photo.id
    finally:
        lib.close()
        proxy.close()


@pytest.mark.parametrize(
    ("status", "code", "said", "sentence"),
    [
        (503, "SlowDown", "3", "The storage is busy and asks for fewer requests right now."),
        (429, "TooManyRequests", "4", "The storage is busy and asks for fewer requests right now."),
        (500, "InternalError", "3", "The storage service is failing right now"),
    ],
    ids=["slow-down", "too-many-requests", "internal-error"],
)
def test_an_action_on_a_throttling_or_failing_store_says_when_to_try_again(
    qtbot: Any,
    erring: tuple[ErringStore, Library, int],
    tmp_path: Path,
    english: None,
    status: int,
    code: str,
    said: str,
    sentence: str,
) -> None:
    proxy, lib, photo = erring
    controller = LibraryController(lib)
    seen: list[BaseException] = []
    controller.runner.errorSeen.connect(seen.append)
    try:
        proxy.fail(status, code, {"Retry-After": said})
        with qtbot.waitSignal(controller.errorOccurred, timeout=TIMEOUT) as failed:
            controller.export(photo, tmp_path / "out.jpg")
        message = failed.args[0]
        assert isinstance(message, ErrorMessage)
        (exc,) = seen  # the store's real error, as core raised it
        assert getattr(exc, "retry_after", None) == int(said), exc
        assert message.text.startswith(sentence), message.text
        assert message.text.endswith(f"Try again in {said} s."), message.text
        assert "settings." not in message.text.split(". ")[0]  # not sent to the settings
        assert not (tmp_path / "out.jpg").exists()
    finally:
        proxy.restore()
        controller.shutdown()


def test_a_page_refused_by_an_outage_that_says_its_window_is_asked_again_after_it(
    qtbot: Any,
    library: Library,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    english: None,
) -> None:
    """Not only StorageNotAsked: any catalog outage carrying its window (retry_after)."""
    window = 7
    real, down, refused = library.list_files, [False], [0]

    def list_files(*args: Any, **kwargs: Any) -> Any:
        if down[0]:
            refused[0] += 1
            exc = catalog_down()
            exc.retry_after = window  # the window the catalog's outage keeps
            raise exc
        return real(*args, **kwargs)

    monkeypatch.setattr(library, "list_files", list_files)
    caplog.set_level(logging.WARNING, logger=library_controller.__name__)
    controller = LibraryController(library)
    try:
        controller.start()
        wait_for(qtbot, lambda: controller.grid.loaded and not controller.grid.loading)
        down[0] = True
        controller.grid.reload()
        wait_for(qtbot, lambda: refused[0] >= 1 and controller.grid.failed is not None)
        waits = [
            r.args[0]
            for r in caplog.records
            if r.getMessage().startswith("Cannot list the files, asked again in")
            and isinstance(r.args, tuple)
        ]
        # each refused page waits the outage's window (one or two: a reload may meet a page
        # the start still asked for, seen in a CI-like run)
        assert waits and set(waits) == {window}, waits
    finally:
        controller.shutdown()


def test_a_thumbnail_the_store_throttled_is_asked_again_once_its_wait_is_over(
    qtbot: Any, erring: tuple[ErringStore, Library, int]
) -> None:
    proxy, lib, photo = erring
    for cached in (lib.paths.cache_dir / "thumbnails").rglob("*.webp"):
        cached.unlink()  # a cold cache (another computer, a cleared cache): read from the store
    # and a cold QPixmapCache: it is the process's, and an earlier test of this worker drew the
    # same bytes under the same id and content tag (failed so in a CI-like run)
    QPixmapCache.clear()
    record = lib.get_file(photo)
    loader = ThumbnailLoader(lib)
    drawn: list[int] = []
    loader.loaded.connect(drawn.append)
    try:
        proxy.fail(503, "SlowDown", {"Retry-After": "1"})
        assert loader.pixmap(record) is None  # asked
        wait_for(qtbot, lambda: loader.idle)
        assert proxy.answered >= 1 and not drawn  # the store throttled it
        proxy.restore()
        wait_for(qtbot, lambda: drawn == [photo])  # the wait over, its tile is drawn again...
        wait_for(qtbot, lambda: loader.pixmap(record) is not None)  # ...and its picture comes
    finally:
        proxy.restore()
        loader.shutdown()
