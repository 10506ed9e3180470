"""The same big file dropped twice is not sent twice: a file still to send (queued, running,
paused) is not queued again, and the user is told; a big file the library already holds is
found before its bytes go to the store in parts (it was sent whole, gigabytes over the club's
link, and found a duplicate at its end). Real controller and model, real files, moto S3."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pytestqt")

from moto.s3 import models as moto_s3  # noqa: E402
from PySide6.QtCore import QTimer  # noqa: E402

from core.library import Library  # noqa: E402
from desktop_app.controllers.upload_controller import UploadController  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from desktop_app.models.upload_queue_model import UploadQueueModel, UploadState  # noqa: E402
from desktop_app.upload_persistence import (  # noqa: E402
    QueueJournal,  # noqa: E402
    SavedRow,
    checkpoint,
    journal_file,
    queue_file,
)
from desktop_app.views.upload_dock import UploadDock  # noqa: E402
from tests.conftest import make_s3_settings, make_settings  # noqa: E402
from tests.pg_server import fresh_database, postgres_url  # noqa: E402,F401
from tests.qt_helpers import wait_for  # noqa: E402
from tests.resumable_client import padded_mp4  # noqa: E402

MiB = 1024 * 1024
RECORDING = 3 * MiB  # above the threshold the tests set (1 MiB): sent in parts


@pytest.fixture
def english() -> Iterator[None]:
    install_translations("en")
    yield
    install_translations("en")


@pytest.fixture
def sent_to_moto(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """The requests moto's S3 server (in this process) was asked that carry a file's bytes or
    start an upload in parts, by operation."""
    asked: Counter[str] = Counter()
    for operation in ("upload_part", "create_multipart_upload", "put_object"):
        real = getattr(moto_s3.S3Backend, operation)

        def counted(*args: Any, _real: Any = real, _op: str = operation, **kwargs: Any) -> Any:
            asked[_op] += 1
            return _real(*args, **kwargs)

        monkeypatch.setattr(moto_s3.S3Backend, operation, counted)
    return asked


class Stages:
    """The stages each row of the model went through (by file name), as the row showed them."""

    def __init__(self, model: UploadQueueModel) -> None:
        self.seen: dict[str, set[str]] = {}
        model.dataChanged.connect(lambda *_: self._note(model))

    def _note(self, model: UploadQueueModel) -> None:
        for item in model.items():
            if item.stage:
                self.seen.setdefault(item.name, set()).add(item.stage)

    def of(self, name: str) -> set[str]:
        return self.seen.get(name, set())


def _run(qtbot: Any, controller: UploadController, paths: list[Path], athlete: int | None = None):  # type: ignore[no-untyped-def]
    """Drops `paths` and waits until every row has ended; the rows this drop added."""
    before = {item.id for item in controller.model.items()}
    controller.add_paths(paths, athlete)
    wait_for(qtbot, lambda: not controller.busy, timeout=60000)
    return [item for item in controller.model.items() if item.id not in before]


def _big_duplicate_found_before_sending(
    qtbot: Any, lib: Library, tmp_path: Path, sent: Counter[str] | None
) -> None:
    controller = UploadController(lib, max_parallel=1, persist=False)
    stages = Stages(controller.model)
    said: list[tuple[str, str]] = []
    controller.duplicate.connect(lambda name, stored: said.append((name, stored)))
    first = padded_mp4(tmp_path / "match_1.mp4", RECORDING)
    try:
        [row] = _run(qtbot, controller, [first])
        assert row.state == UploadState.DONE and row.upload_id  # sent in parts
        assert "reading" not in stages.of("match_1.mp4")  # nothing of its size: not pre-hashed
        if sent is not None:
            assert sent["upload_part"] > 0
            sent.clear()
        # the folder dragged in again later: a renamed copy of the same recording
        again = tmp_path / "again"
        again.mkdir()
        copy = again / "carpeta_match_1.mp4"
        shutil.copyfile(first, copy)
        [row] = _run(qtbot, controller, [copy])
        assert row.state == UploadState.DUPLICATE, row.reason
        if sent is not None:
            assert sent == Counter()  # not a byte to the store, no upload in parts begun
        assert row.upload_id is None  # no upload in parts was made
        assert controller.model.state_text(row) == "Duplicate (already in the library)"
        assert said == [("carpeta_match_1.mp4", "match_1.mp4")]
        assert "reading" in stages.of("carpeta_match_1.mp4")  # hashed here, shown as Hashing
        assert [f.id for f in lib.list_files().items] == [row.file_id]
        # another recording of the same size is hashed, is no duplicate and is sent
        other = padded_mp4(again / "match_2.mp4", RECORDING)
        [row] = _run(qtbot, controller, [other])
        assert row.state == UploadState.DONE and row.upload_id
        assert "reading" in stages.of("match_2.mp4")
        if sent is not None:
            assert sent["upload_part"] > 0
            sent.clear()
        # a big file of a size the library does not hold is read once, as it is sent
        odd = padded_mp4(again / "match_3.mp4", RECORDING + 12345)
        [row] = _run(qtbot, controller, [odd])
        assert row.state == UploadState.DONE and row.upload_id
        assert "reading" not in stages.of("match_3.mp4")
        # the same bytes filed under another athlete are no duplicate: not hashed first
        coach = lib.create_athlete("Coach view")
        coach_copy = again / "coach_cam.mp4"
        shutil.copyfile(first, coach_copy)
        [row] = _run(qtbot, controller, [coach_copy], coach.id)
        assert row.state == UploadState.DONE and row.upload_id
        assert "reading" not in stages.of("coach_cam.mp4")
    finally:
        controller.shutdown()


def test_a_big_file_already_in_the_library_sends_no_byte_to_s3(
    qtbot: Any,
    english: None,
    data_dir: Path,
    s3_bucket: Any,
    tmp_path: Path,
    sent_to_moto: Counter[str],
) -> None:
    lib = Library.open(
        make_s3_settings(data_dir, s3_bucket, resumable_threshold=MiB, upload_part_size=5 * MiB)
    )
    try:
        _big_duplicate_found_before_sending(qtbot, lib, tmp_path, sent_to_moto)
    finally:
        lib.close()


def test_a_big_file_already_in_a_postgresql_catalog_on_local_storage_is_not_sent(
    qtbot: Any,
    english: None,
    postgres_url: str,  # noqa: F811
    data_dir: Path,
    tmp_path: Path,
) -> None:
    database = fresh_database(postgres_url, "upload_repeats")
    lib = Library.open(make_settings(data_dir, database_url=database, resumable_threshold=MiB))
    try:
        _big_duplicate_found_before_sending(qtbot, lib, tmp_path, None)
    finally:
        lib.close()


def test_a_file_still_to_send_is_not_queued_again_and_the_user_is_told(
    qtbot: Any, english: None, tmp_path: Path, data_dir: Path
) -> None:
    lib = Library.open(make_settings(data_dir, resumable_threshold=MiB))
    folder = tmp_path / "recordings"
    folder.mkdir()
    files = [padded_mp4(folder / f"game_{n}.mp4", 2 * MiB) for n in (1, 2, 3)]
    controller = UploadController(lib, max_parallel=1, persist=False)
    model = controller.model
    told: list[str] = []
    controller.already_queued.connect(told.append)

    def pause_as_they_come(_parent: Any, first: int, last: int) -> None:
        # the user pauses the rows the moment they appear: they stay to send
        controller.pause_many(model.items()[row].id for row in range(first, last + 1))

    model.rowsInserted.connect(pause_as_they_come)
    try:
        controller.add_paths([folder])
        wait_for(qtbot, lambda: not controller.busy, timeout=30000)
        assert [i.state for i in model.items()] == [UploadState.PAUSED] * 3
        model.rowsInserted.disconnect(pause_as_they_come)
        # dragged in again by mistake: the folder, and a file of it with the folder
        controller.add_paths([folder])
        wait_for(qtbot, lambda: not controller.busy)
        assert model.rowCount() == 3
        assert told == ["3 files are already in the upload queue: not added again."]
        controller.add_paths([files[0]])
        wait_for(qtbot, lambda: not controller.busy)
        assert model.rowCount() == 3
        assert told[-1] == "“game_1.mp4” is already in the upload queue: not added again."
        install_translations("es")
        controller.add_paths([files[1]])
        wait_for(qtbot, lambda: not controller.busy)
        assert told[-1] == "«game_2.mp4» ya está en la cola de subida: no se añade de nuevo."
        controller.add_paths([folder])
        wait_for(qtbot, lambda: not controller.busy)
        assert told[-1] == "3 archivos ya están en la cola de subida: no se añaden de nuevo."
        install_translations("en")
        # a row cancelled is no longer to send: its file is queued again when dropped
        cancelled = model.items()[2]
        controller.cancel(cancelled.id)
        told.clear()
        controller.add_paths([folder])
        wait_for(qtbot, lambda: not controller.busy)
        assert [i.name for i in model.items()][3:] == ["game_3.mp4"]
        assert told == ["2 files are already in the upload queue: not added again."]
        # the paused ones go on; each file is stored once
        controller.resume_all()
        wait_for(qtbot, lambda: not controller.busy, timeout=60000)
        states = [i.state for i in model.items()]
        assert states == [UploadState.DONE] * 2 + [UploadState.CANCELLED, UploadState.DONE]
        assert len(lib.list_files().items) == 3
    finally:
        controller.shutdown()
        lib.close()


def test_rows_paused_in_an_earlier_session_are_not_queued_again(
    qtbot: Any, english: None, tmp_path: Path, data_dir: Path
) -> None:
    """The app closed with rows paused; the next day the same folder is dropped again."""
    lib = Library.open(make_settings(data_dir, resumable_threshold=MiB))
    folder = tmp_path / "recordings"
    folder.mkdir()
    files = [padded_mp4(folder / f"game_{n}.mp4", 2 * MiB) for n in (1, 2)]
    saved = queue_file(lib.paths.data_dir)
    checkpoint(
        saved,
        QueueJournal(journal_file(saved)),
        [SavedRow(str(path), 2 * MiB, None, "paused") for path in files],
        0,
    )
    controller = UploadController(lib, max_parallel=1)
    dock = UploadDock(controller)
    qtbot.addWidget(dock)
    told: list[str] = []
    controller.already_queued.connect(told.append)
    try:
        wait_for(qtbot, lambda: controller.model.rowCount() == 2 and not controller.busy)
        assert dock.notice.isHidden()
        controller.add_paths([folder])
        wait_for(qtbot, lambda: not controller.busy)
        assert controller.model.rowCount() == 2
        assert told == ["2 files are already in the upload queue: not added again."]
        # said in the queue's dock, under its counts, the rows selected
        assert not dock.notice.isHidden() and dock.notice.text() == told[0]
        assert {i.row() for i in dock.table.selectionModel().selectedRows()} == {0, 1}
        # one of them dropped again: its row is the one selected and current
        controller.add_paths([files[1]])
        wait_for(qtbot, lambda: not controller.busy)
        assert [i.row() for i in dock.table.selectionModel().selectedRows()] == [1]
        assert dock.table.currentIndex().row() == 1
        assert lib.list_files().items == []
    finally:
        controller.shutdown()
        lib.close()


def test_a_copy_dropped_with_its_file_waits_for_it_and_sends_no_byte(
    qtbot: Any,
    english: None,
    data_dir: Path,
    s3_bucket: Any,
    tmp_path: Path,
    sent_to_moto: Counter[str],
) -> None:
    """The same recording under two paths (a folder and its backup copy dropped together, two
    free workers): the copy's row waits for the first one's end and is a duplicate, its bytes
    not sent; another recording of the very same size is still sent."""
    lib = Library.open(
        make_s3_settings(data_dir, s3_bucket, resumable_threshold=MiB, upload_part_size=5 * MiB)
    )
    controller = UploadController(lib, max_parallel=2, persist=False)
    said: list[tuple[str, str]] = []
    controller.duplicate.connect(lambda name, stored: said.append((name, stored)))
    first = padded_mp4(tmp_path / "match_1.mp4", RECORDING)
    backup = tmp_path / "backup"
    backup.mkdir()
    copy = backup / "match_1_copy.mp4"
    shutil.copyfile(first, copy)
    other = padded_mp4(backup / "match_2.mp4", RECORDING)
    try:
        rows = _run(qtbot, controller, [first, copy, other])
        states = {row.name: row.state for row in rows}
        assert states == {
            "match_1.mp4": UploadState.DONE,
            "match_1_copy.mp4": UploadState.DUPLICATE,
            "match_2.mp4": UploadState.DONE,
        }
        assert sent_to_moto["create_multipart_upload"] == 2  # not one for the copy
        assert [row.upload_id is None for row in rows] == [False, True, False]
        assert said == [("match_1_copy.mp4", "match_1.mp4")]
        assert len(lib.list_files().items) == 2
    finally:
        controller.shutdown()
        lib.close()


def test_a_copy_paused_or_removed_while_it_waits_lets_the_queue_end(
    qtbot: Any,
    english: None,
    data_dir: Path,
    s3_bucket: Any,
    tmp_path: Path,
    sent_to_moto: Counter[str],
) -> None:
    """Copies waiting for their file are the user's rows as any other: paused, one stays paused
    and the queue still ends; removed, one is gone; resumed later, one is a duplicate."""
    lib = Library.open(
        make_s3_settings(data_dir, s3_bucket, resumable_threshold=MiB, upload_part_size=5 * MiB)
    )
    controller = UploadController(lib, max_parallel=2, persist=False)
    model = controller.model
    first = padded_mp4(tmp_path / "match_1.mp4", RECORDING)
    copies = [tmp_path / f"copy_{n}.mp4" for n in (1, 2)]
    for copy in copies:
        shutil.copyfile(first, copy)
    first_state: list[UploadState] = []

    def pause_and_remove() -> None:
        first_state.append(model.items()[0].state)
        controller.pause(model.items()[1].id)
        controller.remove(model.items()[2].id)

    model.rowsInserted.connect(lambda *_: QTimer.singleShot(0, pause_and_remove))
    try:
        controller.add_paths([first, *copies])
        wait_for(qtbot, lambda: not controller.busy, timeout=30000)
        assert first_state[0].active  # they were paused and removed while they waited
        assert [(i.name, i.state) for i in model.items()] == [
            ("match_1.mp4", UploadState.DONE),
            ("copy_1.mp4", UploadState.PAUSED),
        ]
        assert sent_to_moto["create_multipart_upload"] == 1
        controller.resume_all()
        wait_for(qtbot, lambda: not controller.busy, timeout=30000)
        assert model.items()[1].state == UploadState.DUPLICATE
        assert sent_to_moto["create_multipart_upload"] == 1
    finally:
        controller.shutdown()
        lib.close()


def test_a_copy_saved_queued_with_its_file_waits_for_it_after_a_restart(
    qtbot: Any,
    english: None,
    data_dir: Path,
    s3_bucket: Any,
    tmp_path: Path,
    sent_to_moto: Counter[str],
) -> None:
    """The app closed with both rows queued: the next start sends the recording once."""
    lib = Library.open(
        make_s3_settings(data_dir, s3_bucket, resumable_threshold=MiB, upload_part_size=5 * MiB)
    )
    first = padded_mp4(tmp_path / "match_1.mp4", RECORDING)
    copy = tmp_path / "match_1_copy.mp4"
    shutil.copyfile(first, copy)
    saved = queue_file(lib.paths.data_dir)
    checkpoint(
        saved,
        QueueJournal(journal_file(saved)),
        [SavedRow(str(path), RECORDING, None, "queued") for path in (first, copy)],
        0,
    )
    controller = UploadController(lib, max_parallel=2)
    try:
        wait_for(qtbot, lambda: controller.model.rowCount() == 2 and not controller.busy, 30000)
        assert [i.state for i in controller.model.items()] == [
            UploadState.DONE,
            UploadState.DUPLICATE,
        ]
        assert sent_to_moto["create_multipart_upload"] == 1
    finally:
        controller.shutdown()
        lib.close()
