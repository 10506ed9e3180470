"""`make screenshots`: builds a sample library, runs the app under Xvfb and saves PNGs in en/es."""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "screenshots-out"
DOC = ROOT / "docs" / "screenshot.png"
ATHLETES = ("Ana Torres", "Luis Pérez", "María López", "Kofi Mensah")
# (file name, scene, athlete index or None, public, description)
PHOTOS = (
    ("100m-final.jpg", "track", 0, True, "100 m final, national championships"),
    ("relay-start.jpg", "track", 1, False, "4×100 m relay, first leg"),
    ("derby-goal.jpg", "pitch", 3, True, "Winning goal in the derby"),
    ("training-pitch.jpg", "pitch", None, False, "Tuesday training session"),
    ("200m-free.jpg", "pool", 2, False, "200 m freestyle heats"),
    ("dunk.jpg", "court", None, True, "Warm-up before the semi-final"),
    ("podium-ceremony.jpg", "podium", 0, True, "Medal ceremony"),
    ("pool-lanes.png", "pool", 2, False, "Lane check before the race"),
)
CLIPS = (
    ("sprint-finish.mp4", "track", 0, 6.0),
    ("corner-kick.mp4", "pitch", 3, 4.0),
    ("turn-drill.mp4", "pool", 2, 3.0),
)
logger = logging.getLogger(__name__)


def wait_until(predicate: Callable[[], bool], timeout: float = 30.0) -> bool:
    from PySide6.QtTest import QTest

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        QTest.qWait(25)
    logger.warning("Timed out waiting for %s", getattr(predicate, "__name__", predicate))
    return False


def settle(ms: int = 400) -> None:
    from PySide6.QtTest import QTest

    QTest.qWait(ms)


def wait_synced(window: Any, library: Any) -> None:
    """Until the grid, the sidebar counts and the thumbnails match the catalog."""
    total = library.counts()["all"]
    grid = window.controller.grid
    wait_until(
        lambda: (
            window.server.running
            and grid.rowCount() == total
            and window.controller.counts.get("all") == total
        )
    )
    wait_until(lambda: window.controller.thumbnails.idle)
    settle(300)


def grab(widget: Any, name: str) -> Path:
    """Grabs from the X screen, so video surfaces show (QWidget.grab leaves them blank)."""
    from PySide6.QtGui import QGuiApplication

    settle(150)
    screen = QGuiApplication.primaryScreen()
    frame = widget.frameGeometry()
    image = screen.grabWindow(0, frame.x(), frame.y(), frame.width(), frame.height())
    if image.isNull() or image.toImage().pixelColor(5, 5).alpha() == 0:
        image = widget.grab()
    path = OUT / f"{name}.png"
    image.save(str(path))
    logger.info("Saved %s", path)
    return path


class HeldUploads:
    """The real uploads, but chosen files upload as over a slow link and pause half-way."""

    def __init__(self, uploads: Any, held: set[str]) -> None:
        self._uploads, self.held = uploads, held
        self.gate = threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._uploads, name)

    def ingest(self, source: Any, file_type: str, **kw: Any) -> Any:
        progress = kw.get("progress")
        if progress is not None and Path(str(source)).name in self.held:

            def held(stage: str, done: int, total: int) -> None:
                progress(stage, done, total)
                if stage == "uploading" and total:
                    time.sleep(0.15)  # about 7 MB/s with 1 MiB chunks: speed and ETA show
                    if done >= total * 0.5:
                        self.gate.wait(120)

            kw["progress"] = held
        return self._uploads.ingest(source, file_type, **kw)


class HeldLibrary:
    """The real library whose uploads are `HeldUploads`."""

    def __init__(self, library: Any, held: set[str]) -> None:
        self._library = library
        self.uploads = HeldUploads(library.uploads, held)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._library, name)


def build_library(base: Path) -> Any:
    from core.library import Library
    from core.settings import load_settings
    from desktop_app.sample_media import make_clip, make_photo

    media = base / "media"
    media.mkdir(parents=True)
    data = base / "data"
    library = Library.open(
        # the folder as MEDIADESK_DATA_DIR, not as --data-dir (which Settings shows pinned)
        load_settings(environ={"MEDIADESK_DATA_DIR": str(data)}, config_file=data / "settings.toml")
    )
    athletes = [library.create_athlete(name) for name in ATHLETES]
    for i, (name, scene, who, public, text) in enumerate(PHOTOS):
        path = make_photo(media / name, scene, t=0.3 * i)
        library.uploads.ingest(
            path,
            "image",
            athlete_id=athletes[who].id if who is not None else None,
            is_public=public,
            description=text,
        )
    for name, scene, who, seconds in CLIPS:
        path = make_clip(media / name, scene, seconds)
        library.uploads.ingest(
            path, "video", athlete_id=athletes[who].id, description=f"{scene} clip"
        )
    process_videos(library)
    return library


def process_videos(library: Any, most: int = 40) -> None:
    """Runs the clips' processing jobs here, before any shot: the main window (the README's
    image) selects a video, and unprocessed it showed "Processing: queued (0 %)" with only
    its original. Small clips: a few seconds for the three."""
    from core.video.worker import VideoWorker

    worker = VideoWorker(library, name="screenshots", nice=0)
    for _ in range(most):  # bounded: a job that keeps failing is not run for ever
        if worker.run_once() is None:
            break


# The upload shot's files, named as a photo desk's would be, in each language: a tile named
# "warm-up-en.jpg" or a second "dunk.jpg" did not look like a real library. (kind, scene, name)
BATCH = {
    "en": (
        ("photo", "court", "warm-up-drills.jpg"),
        ("again", "", "IMG_4127.jpg"),
        ("text", "", "notes.txt"),
        ("large", "track", "finish-line-wide.png"),
        ("large", "podium", "stands-crowd.png"),
        ("clip", "track", "relay-heat-2.mp4"),
        ("clip", "court", "free-throws.mp4"),
    ),
    "es": (
        ("photo", "court", "calentamiento.jpg"),
        ("again", "", "IMG_4127.jpg"),
        ("text", "", "notas.txt"),
        ("large", "track", "linea-de-meta.png"),
        ("large", "podium", "grada-final.png"),
        ("clip", "pool", "serie-200m-libre.mp4"),
        ("clip", "pitch", "saque-de-esquina.mp4"),
    ),
}
# The library's photo whose bytes come again under a camera's name: neither an athlete's nor
# public, as the queue's uploads, so it is the duplicate it shows (a public one's bytes made
# a second tile)
AGAIN = "training-pitch.jpg"


def upload_batch(base: Path, lang: str) -> list[Path]:
    """New files for the upload shot: small ones, two large held ones (the 4th and 5th), a
    duplicate and a file that is no photo, some left queued."""
    from desktop_app.sample_media import make_clip, make_photo

    folder = base / f"upload-{lang}"
    folder.mkdir()
    t = 0.0 if lang == "en" else 0.9  # different pictures in each language: no duplicates
    big = (2400, 1600)
    files = []
    for kind, scene, name in BATCH[lang]:
        path = folder / name
        if kind == "photo":
            make_photo(path, scene, t=1.7 + t)
        elif kind == "again":
            shutil.copy(base / "media" / AGAIN, path)
        elif kind == "text":
            path.write_text("Not a photo or a video\n" if lang == "en" else "Ni foto ni vídeo\n")
        elif kind == "large":
            make_photo(path, scene, big, (2.1 if scene == "track" else 0.5) + t, 0.35)
        else:
            make_clip(path, scene, 2.0)
        files.append(path)
    return files


def shoot_drop_overlay(window: Any, lang: str) -> None:
    """Files dragged over an athlete in the sidebar: the overlay names where they will go."""
    from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent
    from PySide6.QtWidgets import QApplication

    athletes = window.controller.sidebar.athletes()
    if not athletes:
        return
    index = window.controller.sidebar.index_of(f"athlete:{athletes[0].id}")
    rect = window.sidebar.visualRect(index)
    pos = window.sidebar.viewport().mapTo(window, rect.center())
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(f"/tmp/{lang}-heat-{i}.jpg") for i in range(3)])
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier(0))
    for kind in (QDragEnterEvent, QDragMoveEvent):  # Qt sends moves only after an enter
        try:  # QPoint before PySide6 6.12, QPointF from then on
            event = kind(QPoint(pos), *args)
        except TypeError:
            event = kind(QPointF(pos), *args)  # type: ignore[call-overload]
        QApplication.sendEvent(window, event)
    settle(300)
    grab(window, f"{lang}-drop-overlay")
    window.drop_overlay.hide()


def shoot_failed_queue(window: Any, lang: str) -> None:
    """The finished queue with a failure: kept in sight, explained, the total at 100 %."""
    from desktop_app.models.upload_queue_model import UploadState

    model = window.uploads.model
    failed = [i for i in model.items() if i.state == UploadState.FAILED]
    if failed:
        window.upload_dock.table.selectRow(window.upload_dock.view_index(failed[0].id).row())
    window.upload_dock.raise_()
    settle(300)
    grab(window, f"{lang}-upload-failed")
    window.upload_dock.table.clearSelection()


def shoot_storage_switch(window: Any, lang: str) -> None:
    """Settings ▸ Storage switched to R2 with files in the local folder: move or keep; then
    the move's progress window, and the report of a move that left files behind."""
    from desktop_app.views.storage_switch import MigrationProgress, StorageSwitchDialog

    files = int(window.controller.counts.get("all", 0)) or 12
    ask = StorageSwitchDialog("local", "r2", files, window)
    ask.move(260, 140)
    ask.show()
    settle(300)
    grab(ask, f"{lang}-storage-switch")
    ask.close()
    progress = MigrationProgress(window.settings_controller, window)
    progress.move(300, 200)
    progress.show()
    progress._on_progress(max(1, files // 3), files, "200m-free.jpg")
    settle(300)
    grab(progress, f"{lang}-storage-migration")
    progress.close()
    shoot_move_report(window, lang)


def move_report(window: Any) -> Any:
    """The report of a move to R2 that left files behind: the endpoint stopped answering for
    two, a third was damaged, a fourth renamed meanwhile (its texts as a real move's)."""
    from desktop_app.controllers.settings_controller import MoveFailure, MoveOutcome
    from desktop_app.views.storage_switch import MoveReport

    def failure(i: int, reason: str) -> MoveFailure:
        detail = "Could not reach the endpoint" if reason != "object_damaged" else "Bad checksum"
        return MoveFailure(i, PHOTOS[i][0], "storage_unavailable", reason, detail)

    failed = (
        failure(1, "endpoint_unreachable"),
        failure(4, "endpoint_unreachable"),
        failure(7, "object_damaged"),
    )
    return MoveReport(MoveOutcome("r2", 9, 1, failed), window)


def shoot_move_report(window: Any, lang: str) -> None:
    report = move_report(window)
    report.move(300, 200)
    report.show()
    settle(300)
    grab(report, f"{lang}-storage-migration-report")
    report.close()


def shoot_trash(window: Any, library: Any, lang: str) -> None:
    """The Trash view with two photos in it: its Empty trash… button and the status bar after
    a move of files to the trash (what the batches say), then everything back."""
    photos = library.list_files(file_type="image").items[:2]
    window.controller.trash([r.id for r in photos])
    controller = window.controller
    wait_until(lambda: controller.counts.get("trash") == len(photos))
    window.sidebar.setCurrentIndex(controller.sidebar.index_of("trash"))
    wait_until(
        lambda: controller.filter.section == "trash" and controller.grid.rowCount() == len(photos)
    )
    window.browser.select_row(0)
    settle(600)
    grab(window, f"{lang}-trash")
    window.controller.restore([r.id for r in photos])
    wait_until(lambda: controller.counts.get("trash") == 0)
    window.sidebar.setCurrentIndex(controller.sidebar.index_of("all"))
    wait_until(lambda: controller.filter.section == "all")
    settle(300)


def shoot(library: Any, base: Path, lang: str) -> None:
    from PySide6.QtCore import QLocale, Qt

    from desktop_app.controllers.settings_controller import SettingsController
    from desktop_app.i18n import install_translations
    from desktop_app.models.upload_queue_model import UploadState
    from desktop_app.preview import open_preview
    from desktop_app.views.main_window import MainWindow
    from desktop_app.views.settings_dialog import SettingsDialog

    install_translations(lang, QLocale(lang))  # the docs show the same dates on any machine
    window = MainWindow(library)
    window.move(0, 0)
    window.resize(1560, 960)
    window.show()
    window.server.start("127.0.0.1", 0)
    wait_synced(window, library)
    window.browser.select_row(1)
    line = window.processing_line  # read in the background: the Spanish shot once lacked it
    wait_until(lambda: line.isVisible() and "\n" in line.text(), 10)
    settle(600)
    grab(window, f"{lang}-main-window")
    window.resize(1024, 768)  # a small laptop, a projector: the grid keeps two columns
    settle(600)
    grab(window, f"{lang}-main-window-1024")
    window.resize(1560, 960)
    settle(300)

    held = HeldLibrary(library, set())
    files = upload_batch(base, lang)
    held.uploads.held = {files[3].name, files[4].name}
    window.uploads.library = held  # type: ignore[assignment]
    window.resizeDocks([window.upload_dock], [340], Qt.Orientation.Vertical)
    window.add_uploads(files)
    model = window.uploads.model
    wait_until(
        lambda: (
            sum(
                1
                for i in model.items()
                if i.name in held.uploads.held
                and i.state == UploadState.UPLOADING
                and i.fraction > 0.65
            )
            == 2
            and model.rowCount() == len(files)
        )
    )
    grab(window, f"{lang}-upload-queue")
    held.uploads.gate.set()
    wait_until(lambda: not window.uploads.busy)
    wait_until(lambda: all(i.state.finished for i in model.items()))
    shoot_failed_queue(window, lang)
    window.resizeDocks([window.upload_dock], [260], Qt.Orientation.Vertical)
    wait_synced(window, library)
    shoot_drop_overlay(window, lang)

    if not window.server.tokens.list():
        window.server.tokens.create("Club website", "read")
        window.server.tokens.create("Photo desk laptop", "upload")
    window.server.refresh_tokens()
    window.server_dock.raise_()
    settle(300)
    grab(window, f"{lang}-server-panel")
    window.resize(1024, 768)  # the dock at its first height there: the panel shows whole
    window.resizeDocks([window.server_dock], [window._first_dock_height()], Qt.Orientation.Vertical)
    settle(600)
    grab(window, f"{lang}-server-panel-1024")
    window.resize(1560, 960)
    window.resizeDocks([window.upload_dock], [260], Qt.Orientation.Vertical)
    settle(300)
    window.upload_dock.raise_()

    shoot_trash(window, library, lang)

    clip = next(
        r for r in library.list_files(file_type="video").items if r.original_filename == CLIPS[0][0]
    )
    dialog: Any = open_preview(window, clip, str(library.local_path(clip)))
    dialog.move(120, 80)
    frames: list[int] = []
    player = getattr(dialog.viewer, "video_sink", None)
    if player is not None:
        player().videoFrameChanged.connect(lambda *_: frames.append(1))
    wait_until(lambda: len(frames) > 40, 20)
    if hasattr(dialog.viewer, "toggle_play"):
        dialog.viewer.toggle_play()
    settle(500)
    grab(dialog, f"{lang}-video-player")
    dialog.close()

    controller = SettingsController(library.settings)
    settings_dialog = SettingsDialog(controller, window)
    settings_dialog.move(200, 60)
    settings_dialog.show()
    settings_dialog.test_button.click()
    wait_until(lambda: settings_dialog.test_button.isEnabled())
    settle(300)
    grab(settings_dialog, f"{lang}-settings")
    settings_dialog.close()
    shoot_storage_switch(window, lang)
    window.shutdown()
    window.close()
    window.deleteLater()
    settle(200)


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia*=false")
    from desktop_app.app import create_application

    app = create_application(sys.argv[:1])
    app.setStyle("Fusion")
    OUT.mkdir(exist_ok=True)
    base = Path(tempfile.mkdtemp(prefix="mediadesk-screenshots-"))
    try:
        for lang in ("en", "es"):  # the same sample library in each language
            library = build_library(base / lang)
            shoot(library, base / lang, lang)
            library.close()
    finally:
        shutil.rmtree(base, ignore_errors=True)
    DOC.parent.mkdir(exist_ok=True)
    shutil.copy(OUT / "en-main-window.png", DOC)
    logger.info("Copied the main window to %s", DOC)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
