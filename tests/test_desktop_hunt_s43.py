"""Desktop: what an outside tester found driving the app under Xvfb (all low).

1. A photo whose stored copy is missing: its preview said "The file no longer exists. Someone
   may have deleted it." (the server answers 404 reason object_missing; a video's preview and
   Export said the stored copy is missing). The photo's download now reads the server's JSON.
2. On a full disk, Move to trash said "not enough free space to store the file": an action
   that saves a change now says "to save the change", as the server's 507 does.
3. A video tile without a thumbnail drew its "▶ 0:03" badge about twice too big: the
   placeholder's large glyph font was left on the painter for the badge.
4. The preview of a damaged MP4 said "This video format is not supported." while its jobs
   had found it damaged (undecodable_media): it now says their sentence.
5. Tab into the grid gave a file a focus ring but selected nothing, and Return did nothing.
6. A long status-bar notice ("Uploaded <a long name>") took away the storage, the catalog, the
   live state and the counts; they now stay, cut short, and the notice is shortened.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QModelIndex, QRect, QSize, Qt  # noqa: E402
from PySide6.QtGui import (  # noqa: E402
    QColor,
    QImage,
    QPainter,
    QPixmap,
    QStandardItem,
    QStandardItemModel,  # noqa: E402
)
from PySide6.QtWidgets import QStyleOptionViewItem  # noqa: E402

from core.jobs import JobState  # noqa: E402
from core.library import Library  # noqa: E402
from desktop_app.errors import describe_error, job_reason  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from desktop_app.models.file_grid_model import FileGridListModel  # noqa: E402
from desktop_app.views.grid_delegate import CELL, ThumbnailDelegate  # noqa: E402
from server.entry import EmbeddedServer  # noqa: E402
from tests.media_fixtures import MediaSet  # noqa: E402
from tests.qt_helpers import shown_window, wait_for  # noqa: E402
from tests.server_fixtures import live  # noqa: E402, F401

MISSING = {
    "en": "The stored copy of this file is missing, though the catalog still lists it",
    "es": "Falta la copia guardada de este archivo",
}


@pytest.fixture(params=["en", "es"])
def language(request: pytest.FixtureRequest, qapp: Any) -> Iterator[str]:
    install_translations(request.param)
    yield str(request.param)
    install_translations("en")


# ---- 1. a photo's stored copy missing ----------------------------------------------------------
def test_a_photo_whose_stored_copy_is_missing_says_so(
    qtbot: Any,
    library: Library,
    media_dir: MediaSet,
    live: EmbeddedServer,  # noqa: F811
    language: str,
) -> None:
    from desktop_app.preview.image_loader import ImageLoader

    record = library.uploads.ingest(media_dir.jpeg, "image")
    stored = library.local_path(record)
    assert stored is not None
    stored.unlink()  # gone outside MediaDesk: the catalog still lists it
    _info, token = library.tokens.create("previews", "read")
    from PySide6.QtWidgets import QWidget

    host = QWidget()  # the loader lives as long as the viewer that holds it would
    qtbot.addWidget(host)
    loader = ImageLoader(host)
    with qtbot.waitSignal(loader.failed, timeout=10000) as said:
        loader.load(f"{live.url}/stream/{record.id}/image?access_token={token}")
    text = said.args[0]
    assert text.startswith(MISSING[language]), text
    assert "Someone may have deleted it" not in text and "Alguien" not in text
    # the sentence the export and a video's preview give
    from core.errors import object_missing

    assert text == describe_error(object_missing("gone")).text
    assert "Not Found" in loader.failure_detail  # Qt's text stays the technical detail
    # a file the server does not know at all is still the file gone
    with qtbot.waitSignal(loader.failed, timeout=10000) as said:
        loader.load(f"{live.url}/stream/{record.id + 99}/image?access_token={token}")
    assert not said.args[0].startswith(MISSING[language])


# ---- 2. a full disk met by a change ----------------------------------------------------------
def test_a_full_disk_met_by_a_trash_says_the_change(
    qtbot: Any, tmp_path: Path, language: str
) -> None:
    from core.errors import NO_SPACE_FOR_FILE, InsufficientStorage
    from tests.faults import fill_disk, library_on_tmpfs
    from tests.internals import db_of
    from tests.resumable_client import noise_png

    change = {"en": "not enough free space to save the change", "es": "guardar el cambio"}
    with library_on_tmpfs(tmp_path / "data", "16m") as lib:
        record = lib.uploads.ingest(noise_png(tmp_path / "a.png", 40), "image")
        with shown_window(qtbot, lib) as window:
            with db_of(lib).engine.connect() as conn:  # the catalog's next write needs room
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            fill_disk(lib.paths.data_dir / "filler")
            c = window.controller
            with qtbot.waitSignal(c.errorOccurred, timeout=15000) as said:
                c.trash([record.id])
            text = said.args[0].text
            assert change[language] in text, text
            assert "archivo" not in text.split(".")[0] or language == "en"
        # an upload's full disk (kept in the queue as its record) still names the file
        upload = describe_error(InsufficientStorage(NO_SPACE_FOR_FILE)).text
        assert change[language] not in upload


# ---- 3. a video tile's badge without a thumbnail ------------------------------------------------
def _badge_width(pixmap: QPixmap | None) -> int:
    """The width of the dark duration badge drawn on one tile (in a light image)."""
    model = QStandardItemModel()
    item = QStandardItem()
    item.setData("video", FileGridListModel.FileTypeRole)
    item.setData("0:03", FileGridListModel.DurationRole)
    item.setData("clip.mp4", FileGridListModel.NameRole)
    item.setData(7, FileGridListModel.IdRole)
    if pixmap is not None:
        item.setData(pixmap, FileGridListModel.ThumbnailRole)
    model.appendRow(item)
    image = QImage(CELL, QImage.Format.Format_ARGB32)
    image.fill(QColor(255, 255, 255))
    option = QStyleOptionViewItem()
    option.rect = QRect(0, 0, CELL.width(), CELL.height())
    painter = QPainter(image)
    ThumbnailDelegate().paint(painter, option, model.index(0, 0, QModelIndex()))
    painter.end()
    widest = 0
    for y in range(image.height()):
        run = best = 0
        for x in range(image.width()):
            dark = QColor(image.pixel(x, y)).lightness() < 110
            run = run + 1 if dark else 0
            best = max(best, run)
        widest = max(widest, best)
    return widest


def test_a_video_tile_without_a_thumbnail_draws_its_badge_at_its_size(qapp: Any) -> None:
    thumbnail = QPixmap(QSize(192, 144))
    thumbnail.fill(QColor(250, 250, 250))
    normal = _badge_width(thumbnail)
    placeholder = _badge_width(None)
    assert normal > 20
    assert abs(placeholder - normal) <= 2, (placeholder, normal)


# ---- 4. a damaged video's preview -------------------------------------------------------------
def test_a_damaged_videos_preview_says_damaged(
    qtbot: Any, library: Library, media_dir: MediaSet, language: str
) -> None:
    from desktop_app.controllers.library_controller import playback_failure

    record = library.uploads.ingest(media_dir.mp4, "video")
    source = str(library.local_path(record))
    with shown_window(qtbot, library) as window:
        c = window.controller
        # its file is fine to read, and nothing says why: Qt's own text stands
        assert playback_failure(library, record, source) is None
        while (job := library.jobs.claim("test")) is not None:
            library.jobs.fail(job.id, "test", "moov atom not found", True, "undecodable_media")
        failed = [j for j in library.jobs.latest_for_file(record.id) if j.file_id == record.id]
        assert failed and all(j.state == JobState.FAILED for j in failed)
        with qtbot.waitSignal(c.previewFailureExplained, timeout=10000) as said:
            c.explain_preview_failure(record, source)
        assert said.args[0] == source
        sentence = job_reason(failed[0]).text
        assert said.args[1].text == sentence
        assert ("damaged" if language == "en" else "dañado") in sentence


# ---- 5. Tab into the grid selects ---------------------------------------------------------------
def test_tab_into_the_grid_selects_its_file_and_return_previews(
    qtbot: Any, library: Library, media_dir: MediaSet
) -> None:
    install_translations("en")
    first = library.uploads.ingest(media_dir.jpeg, "image")
    second = library.uploads.ingest(media_dir.png, "image")
    with shown_window(qtbot, library) as window:
        window.activateWindow()
        grid = window.browser.grid
        c = window.controller
        wait_for(qtbot, lambda: c.grid.rowCount() == 2)
        assert not grid.selectionModel().hasSelection()
        window.browser.search.setFocus(Qt.FocusReason.OtherFocusReason)
        grid.setFocus(Qt.FocusReason.TabFocusReason)  # as Tab from the search box does
        wait_for(qtbot, lambda: grid.selectionModel().hasSelection())
        current = grid.currentIndex()
        assert grid.selectionModel().isSelected(current)
        wait_for(qtbot, lambda: c.current is not None)
        assert c.current is not None and c.current.id in (first.id, second.id)
        c.previewReady.disconnect(window._open_preview)  # no dialog: the request is the point
        with qtbot.waitSignal(c.previewReady, timeout=10000) as asked:
            qtbot.keyClick(grid, Qt.Key.Key_Return)
        assert asked.args[0].id == c.current.id
        # a selection already made is kept (the other file), Backtab too
        other = c.grid.index(1 - current.row(), 0)
        grid.selectionModel().setCurrentIndex(
            other, grid.selectionModel().SelectionFlag.ClearAndSelect
        )
        window.browser.search.setFocus(Qt.FocusReason.OtherFocusReason)
        grid.setFocus(Qt.FocusReason.BacktabFocusReason)
        assert [i.row() for i in grid.selectionModel().selectedIndexes()] == [other.row()]
        # a click's focus selects as a click does, not the focus
        grid.selectionModel().clearSelection()
        window.browser.search.setFocus(Qt.FocusReason.OtherFocusReason)
        grid.setFocus(Qt.FocusReason.MouseFocusReason)
        assert not grid.selectionModel().hasSelection()


# ---- 6. a long notice keeps the status bar's labels ---------------------------------------------
def test_a_long_notice_keeps_the_status_labels(
    qtbot: Any, library: Library, language: str, tmp_path: Path
) -> None:
    name = (
        "Team photo final very long name that goes on and on for the tournament of the "
        "regional championship 2026 number 950.jpg"
    )
    with shown_window(qtbot, library) as window:
        window.resize(1120, 760)
        wait_for(qtbot, lambda: window.width() <= 1120)
        bar = window.status
        bar.set_server(True, "http://127.0.0.1:19820")
        bar.set_feed(True)
        bar.set_counts({"all": 1010, "image": 1000, "video": 10, "bytes": 1_800_000})
        qtbot.wait(50)
        notice = window.tr("Uploaded %1").replace("%1", name)
        bar.showMessage(notice, 60000)
        qtbot.wait(50)
        labels = (bar.storage, bar.catalog, bar.feed, bar.counts, bar.server)
        assert all(label.isVisible() for label in labels), [
            label.text() for label in labels if not label.isVisible()
        ]
        shown = bar.currentMessage()
        assert shown and shown != notice and shown.endswith("…"), shown
        assert notice.startswith(shown.rstrip("…"))
        assert bar.toolTip() == notice
        right = min(label.x() for label in labels)
        assert 6 + bar.fontMetrics().horizontalAdvance(shown) <= right, (shown, right)
        window.grab().save(str(tmp_path / f"status_{language}.png"))
        # after the notice the labels are whole again
        bar.clearMessage()
        wait_for(qtbot, lambda: "…" not in bar.catalog.text())
        assert bar.counts.text() == bar.counts.whole
