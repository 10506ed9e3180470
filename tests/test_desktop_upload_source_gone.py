"""Desktop upload queue: a row whose own file is gone fails (its upload dropped), a row whose
file keeps changing fails with its own sentence, and a Resume by hand starts the row's waits
over, its old retry timer void. The real UploadController over a real library (local storage
and S3 on moto).

An outside tester found: a queued file deleted or moved after its first part was "Paused"
forever (tried again after 15 s, 30 s, ... 5 min, saved as queued, tried at every start), its
part buffer and its multipart upload left to the 7-day expiry; and after a Resume by hand the
row's next wait was twice the last one, and the timer set before the Resume still tried the
row again before that wait was over, doubling it once more.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from core import resumable
from core.errors import NotFound
from core.library import Library
from core.settings import MIN_PART_SIZE, Settings
from desktop_app.controllers import upload_controller
from desktop_app.controllers.upload_controller import UploadController
from desktop_app.errors import describe_error, error_from_record
from desktop_app.i18n import install_translations
from desktop_app.models.upload_queue_model import UploadState
from desktop_app.upload_persistence import load_queue, queue_file
from tests.conftest import make_settings
from tests.internals import db_of
from tests.qt_helpers import wait_for
from tests.resumable_client import noise_png, padded_mp4
from tests.s3_server import S3Target, s3_client
from tests.test_catalog_disk_gone import DiskGone

pytestmark = pytest.mark.timeout(120)

MiB = 1024 * 1024


@pytest.fixture
def english(qapp: Any) -> Iterator[None]:
    install_translations("en")
    yield
    install_translations("en")


@pytest.fixture(params=["local", "s3"])
def lib(request: pytest.FixtureRequest, data_dir: Path) -> Iterator[Library]:
    if request.param == "s3":
        settings: Settings = request.getfixturevalue("s3_settings")
        settings = settings.replace(upload_part_size=MIN_PART_SIZE, resumable_threshold=MiB)
    else:
        settings = make_settings(data_dir, resumable_threshold=MiB)
    library = Library.open(settings)
    yield library
    library.close()


@pytest.fixture
def slow_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each MiB read from the file takes a little while (a slow link)."""
    write = resumable.TusWriter.write

    def slow_write(self: Any, data: bytes) -> None:
        time.sleep(0.04)
        write(self, data)

    monkeypatch.setattr(resumable.TusWriter, "write", slow_write)


def upload_gone(lib: Library, upload_id: str) -> bool:
    """The upload's row and its bytes here are gone (and its multipart upload in the bucket)."""
    try:
        lib.resumable.get(upload_id)
    except NotFound:
        pass
    else:
        return False
    if any(lib.resumable.folder.glob(f"{upload_id}*")):
        return False
    if lib.settings.r2_bucket_name:
        target = S3Target(
            endpoint_url=str(lib.settings.r2_endpoint_url), bucket=lib.settings.r2_bucket_name
        )
        listed = s3_client(target).list_multipart_uploads(Bucket=target.bucket)
        return not listed.get("Uploads")
    return True


@pytest.mark.parametrize("when", ["paused", "sending"])
def test_a_row_whose_file_is_gone_fails_and_its_upload_is_dropped(
    qtbot: Any, lib: Library, tmp_path: Path, slow_writes: None, english: None, when: str
) -> None:
    source = noise_png(tmp_path / "match.png")  # ~12 MB: parts of 5, 5 and ~2 MiB on S3
    controller = UploadController(lib, max_parallel=1)
    try:
        controller.add_paths([source])
        # past the first part (5 of 12 MiB)
        wait_for(qtbot, lambda: any(i.fraction >= 0.45 for i in controller.model.items()))
        (item,) = controller.model.items()
        upload_id = str(item.upload_id)
        assert item.upload_id
        if when == "paused":
            controller.pause(item.id)
            wait_for(qtbot, lambda: item.state == UploadState.PAUSED)
            assert lib.resumable.get(upload_id).offset >= 5 * MiB
        source.rename(tmp_path / "moved.png")  # moved (or deleted) in the file manager
        if when == "paused":
            controller.resume(item.id)
        # Before: Paused ("… does not exist."), tried again by itself every 15 s up to 5 min
        # (or, gone while it was read, stored all the same)
        wait_for(qtbot, lambda: item.state == UploadState.FAILED, timeout=20000)
        assert item.reason == f"{source} does not exist.", item.reason
        assert controller.model.failed_ids() == [item.id]  # Failed only, Retry failed
        assert item.upload_id is None  # a Retry starts over
        wait_for(qtbot, lambda: upload_gone(lib, upload_id))  # its parts here and in the bucket
        wait_for(qtbot, lambda: not controller.busy)
        assert lib.counts()["all"] == 0
    finally:
        controller.shutdown()
    # the next start shows the row failed, and tries nothing again
    saved = load_queue(queue_file(lib.paths.data_dir))
    assert [(r.state, r.upload_id) for r in saved] == [("failed", None)], saved
    again = UploadController(lib, max_parallel=1)
    try:
        wait_for(qtbot, lambda: again.model.rowCount() == 1)
        (restored,) = again.model.items()
        assert restored.state == UploadState.FAILED and restored.upload_id is None
        assert restored.reason == f"{source} does not exist."
        # put back, Retry failed sends it from its first byte
        (tmp_path / "moved.png").rename(source)
        assert again.retry_failed() == 1
        wait_for(qtbot, lambda: restored.state == UploadState.DONE, timeout=30000)
        assert lib.counts()["all"] == 1
    finally:
        again.shutdown()


def test_a_row_whose_file_keeps_growing_fails_saying_so(
    qtbot: Any, data_dir: Path, tmp_path: Path, english: None
) -> None:
    """A clip still being recorded (or copied) grew while it uploaded, and again once its upload
    started over: the row fails saying so, in the user's language. Before: "Some of the values
    are not valid." over the tus wording "The chunk goes past Upload-Length (N bytes)"."""
    lib = Library.open(make_settings(data_dir, resumable_threshold=MiB))
    source = padded_mp4(tmp_path / "recording.mp4", 8 * MiB)
    stop = threading.Event()

    def recording() -> None:
        while not stop.is_set():
            with open(source, "ab") as fh:  # one more MP4 box: the file stays a valid clip
                fh.write((4096).to_bytes(4, "big") + b"free" + os.urandom(4096 - 8))
            time.sleep(0.002)

    writer = threading.Thread(target=recording, daemon=True)
    writer.start()
    controller = UploadController(lib, max_parallel=1, persist=False)
    try:
        controller.add_paths([source])
        wait_for(qtbot, lambda: any(i.state.ended for i in controller.model.items()))
        (item,) = controller.model.items()
        assert item.state == UploadState.FAILED, (item.state, item.reason, item.detail)
        assert item.reason == (
            "The file grew while it was uploading, again after the upload started over: it is "
            "still being recorded or copied. Upload it again once it is complete."
        )
        assert lib.counts()["all"] == 0
        install_translations("es")
        spanish = describe_error(error_from_record(item.error) or Exception()).text
        assert spanish.startswith("El archivo creció mientras se subía"), spanish
    finally:
        stop.set()
        writer.join()
        controller.shutdown()
        lib.close()


def test_a_resume_by_hand_starts_the_rows_waits_over_and_voids_its_old_timer(
    qtbot: Any,
    library: Library,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The disk holding the library pulled out (SQLite's own I/O error from the real engine):
    the row waits 1 s (the first wait, shortened), is resumed by hand 0.4 s into it and meets
    the outage again. Its wait starts over (1 s; before: 2 s), and the timer of the first wait
    does nothing (before: it tried the row 0.6 s later, inside the new wait, which doubled to
    4 s): the next try is the new wait's, 1 s on, and waits 2 s."""
    monkeypatch.setattr(upload_controller, "RETRY_FIRST", 1000)
    caplog.set_level(logging.INFO, logger=upload_controller.__name__)
    photo = tmp_path / "sprint.jpg"
    Image.new("RGB", (64, 48), (200, 20, 30)).save(photo)
    disk = DiskGone(db_of(library), monkeypatch)
    library.list_files()  # a connection is open when the disk goes
    disk.go()
    controller = UploadController(library, persist=False)

    def pauses() -> list[tuple[float, float]]:  # (the wait chosen, when)
        return [
            (float(r.args[0]), r.created)  # type: ignore[index]
            for r in caplog.records
            if r.msg.startswith("Upload paused")
        ]

    try:
        controller.add_paths([photo])
        wait_for(qtbot, lambda: len(pauses()) == 1)
        (item,) = controller.model.items()
        assert pauses()[0][0] == 1.0
        qtbot.wait(400)
        assert item.state == UploadState.PAUSED
        controller.resume(item.id)
        wait_for(qtbot, lambda: len(pauses()) == 2)
        assert pauses()[1][0] == 1.0  # started over (before: 2.0)
        wait_for(qtbot, lambda: len(pauses()) == 3, timeout=10000)
        (_, second), (wait, third) = pauses()[1:]
        # the new wait's timer (before: the first wait's, 0.6 s after the Resume, and 4.0)
        assert third - second >= 1.0 and wait == 2.0, (third - second, wait)
        disk.come_back()
        wait_for(qtbot, lambda: item.state == UploadState.DONE, timeout=20000)
    finally:
        disk.come_back()
        controller.shutdown()
