"""Desktop: an upload in parts to R2/S3 reports the bytes that leave for the store, not those
that enter the local part buffer: the row's speed and time left are the link's, and a paused
row read back at the next start shows what its upload stored.

(A pause stopping the part on its way: tests/test_tus_desktop.py, the big file to S3.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.library import Library
from core.settings import Settings
from desktop_app.controllers.upload_controller import UploadController
from desktop_app.models.upload_queue_model import SENDING_SETTLE, UploadQueueModel, UploadState
from desktop_app.upload_persistence import SavedRow, queue_file, save_queue
from tests.internals import storage_of
from tests.qt_helpers import wait_for
from tests.resumable_client import noise_png

MiB = 1024 * 1024


@pytest.fixture
def s3_lib(s3_settings: Settings) -> Iterator[Library]:
    library = Library.open(s3_settings.replace(upload_part_size=5 * MiB, resumable_threshold=MiB))
    yield library
    library.close()


def test_progress_of_an_upload_in_parts_follows_the_bytes_sent_to_the_store(
    s3_lib: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = storage_of(s3_lib)
    backend = type(getattr(store, "active", store))  # behind a router or not
    reported: list[tuple[str, int]] = [("", 0)]
    # (part, bytes reported as it started, as it was stored, reports while it was sent)
    parts: list[tuple[int, int, int, int]] = []
    upload_part = backend.upload_part  # type: ignore[attr-defined]

    def watched(self: Any, key: str, uid: str, number: int, stream: Any, size: int) -> str:
        before, count = reported[-1][1], len(reported)
        etag = upload_part(self, key, uid, number, stream, size)
        parts.append((number, before, reported[-1][1], len(reported) - count))
        return str(etag)

    monkeypatch.setattr(backend, "upload_part", watched)
    source = noise_png(tmp_path / "match.png")  # ~12 MB: parts of 5, 5 and ~2 MiB
    total = source.stat().st_size
    s3_lib.resumable.send_file(
        source, "image", progress=lambda stage, done, _total: reported.append((stage, done))
    )
    # Before: the buffer's bytes were reported as read from the disk, a part at once, and
    # nothing while the part went (rows showed hundreds of MiB/s, then a frozen speed)
    assert [p[:3] for p in parts] == [(1, 0, 5 * MiB), (2, 5 * MiB, 10 * MiB), (3, 10 * MiB, total)]
    # as the bytes leave, not at the end (what the store's side acknowledged: on loopback a
    # part goes in a few steps; the pace on a slow link: tests/test_s3_slow_link.py)
    assert all(during >= 1 for *_, during in parts)
    assert reported[-1] == ("finishing", total)
    dones = [done for _, done in reported]
    assert dones == sorted(dones)


def test_the_speed_of_parts_that_leave_in_bursts_is_the_links(qapp: Any) -> None:
    """A part's first MiB fill the socket at once, its last wait in it while nothing is read,
    then the next part comes from the disk: 1 MiB/s on the link all along."""
    model = UploadQueueModel()
    total = 48 * MiB
    item = model.add(Path("/x/match.mp4"), total)
    start = 100.0
    model.set_progress(item.id, "sending", 0, total, now=start)
    shown: list[tuple[float, float, float | None]] = []  # (time, speed, eta)
    for part in range(3):
        t = start + 16.0 * part
        base = part * 16 * MiB
        model.set_progress(item.id, "sending", base + 3 * MiB, total, now=t + 0.05)
        shown.append((t + 0.05, item.speed, item.eta))
        for step in range(1, 131):  # the other 13 MiB at 1 MiB/s, read 0.1 MiB at a time
            now = t + 0.05 + step * 0.1
            model.set_progress(
                item.id, "sending", base + 3 * MiB + step * MiB // 10, total, now=now
            )
            shown.append((now, item.speed, item.eta))
    for now, speed, eta in shown:
        if now - start < SENDING_SETTLE:
            assert speed == 0 and eta is None  # not measured yet
            continue
        assert MiB / 2 <= speed <= 2 * MiB, (now - start, speed / MiB)
        # the link's time left, less what waits in the socket (3 s of bytes) at the end
        left = start + 48.0 - now
        assert eta is not None and left / 2 - 3 <= eta <= left * 2, (now - start, eta, left)


def test_a_restored_paused_row_shows_what_its_upload_stored(qtbot: Any, library: Library) -> None:
    """Before: 0 % after a restart, though most of the file was in the bucket."""
    row = SavedRow(
        "/m/match.mp4", 100 * MiB, state="paused", upload_id="u-1", key="a", fraction=0.6
    )
    save_queue(queue_file(library.paths.data_dir), [row])
    controller = UploadController(library)
    try:
        model = controller.model
        wait_for(qtbot, lambda: model.rowCount() == 1 and not controller.busy)
        assert model.items()[0].state == UploadState.PAUSED
        assert model.index(0, model.PROGRESS).data(model.ProgressRole) == 60
        assert controller.snapshot()[0].fraction == pytest.approx(0.6)  # and saved as shown
    finally:
        controller.shutdown()
