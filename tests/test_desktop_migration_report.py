"""The end of a storage move that left files behind, or was stopped, is shown: which files, why
in the desktop's words (desktop_app/errors.py, by code and reason), grouped by reason with the
names behind "Show Details…", and "run the move again" only where that can help.

Before, every unfinished move read "N file(s) could not be moved … Run the move again to
retry.", also for a damaged file (moving it again fails the same way: only a backup helps), and
a stopped move's partial report was dropped (Stop hid the window; nothing said what had moved).
Real SQLite catalog, local storage, moto's S3 server and the real dialogs."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton  # noqa: E402

from core.errors import catalog_disk_down  # noqa: E402
from core.library import Library  # noqa: E402
from core.records import FileRecord  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.storage_migration import MigrationFailure, StorageBackends  # noqa: E402
from desktop_app.controllers.settings_controller import MoveFailure, MoveOutcome  # noqa: E402
from desktop_app.errors import describe_error, error_from_record  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from desktop_app.resources import TRANSLATIONS_DIR  # noqa: E402
from desktop_app.views.main_window import MainWindow  # noqa: E402
from desktop_app.views.storage_switch import MigrationProgress, MoveReport  # noqa: E402
from tests.media_fixtures import MediaSet  # noqa: E402
from tests.qt_helpers import wait_for  # noqa: E402

# the same library of two local files (a JPEG and a PNG) and window as the switch's own tests
from tests.test_desktop_storage_switch import (  # noqa: E402
    TIMEOUT,
    _backends,
    _switch_to_r2,
    files,  # noqa: F401
    lib,  # noqa: F401
    local_settings,  # noqa: F401
    window,  # noqa: F401
)
from tests.test_migration_damaged_source import _backend, _cut, _flipped  # noqa: E402


def _named(source: Path, folder: Path, name: str) -> Path:
    path = folder / name
    shutil.copyfile(source, path)
    return path


def _report(qtbot: Any) -> QMessageBox:  # type: ignore[no-untyped-def]
    def shown() -> list[QMessageBox]:
        return [
            w
            for w in QApplication.topLevelWidgets()
            if w.objectName() == "storage-migration-report" and w.isVisible()
        ]

    wait_for(qtbot, lambda: bool(shown()), timeout=5000)
    return shown()[0]


def _words(box: QMessageBox) -> str:
    return f"{box.text()}\n{box.informativeText()}"


def test_a_damaged_file_is_named_and_to_be_restored_not_moved_again(
    qtbot,  # type: ignore[no-untyped-def]
    window: MainWindow,
    lib: Library,
    local_settings: Settings,
    files: list[FileRecord],
    media_dir: MediaSet,
    tmp_path: Path,
) -> None:
    damaged = lib.uploads.ingest(_named(media_dir.webp, tmp_path, "relay-start.webp"), "image")
    _cut(_backend(lib, "local"), damaged)  # a bad restore, behind the catalog's back
    with qtbot.waitSignal(window.settings_controller.migrationFinished, timeout=TIMEOUT) as done:
        _switch_to_r2(qtbot, window).accept()
    assert done.args[:3] == [False, 2, 1]
    box = _report(qtbot)
    words = _words(box)
    assert "relay-start.webp" in words, words
    assert "damaged" in words and "backup" in words, words
    assert "again" not in words.lower(), words  # moving it again fails the same way
    assert "Cloudflare R2" in box.text(), words  # where the other two went
    assert "relay-start.webp" in box.detailedText()
    assert box.icon() == QMessageBox.Icon.Warning
    # one window: the progress window gave way to the report
    assert not any(
        isinstance(w, MigrationProgress) and w.isVisible() for w in QApplication.topLevelWidgets()
    )
    assert _backends(local_settings)[damaged.id] == "local"


def test_a_stopped_move_says_what_moved_and_that_running_it_again_continues(
    qtbot,  # type: ignore[no-untyped-def]
    window: MainWindow,
    lib: Library,
    local_settings: Settings,
    files: list[FileRecord],
    media_dir: MediaSet,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lib.uploads.ingest(media_dir.webp, "image")
    # the second file's move waits until Stop was pressed, so the stop lands mid-run
    real, calls = StorageBackends._move_one, [0]
    entered, release = threading.Event(), threading.Event()

    def gated(self: StorageBackends, *args: Any, **kwargs: Any) -> str:
        calls[0] += 1
        if calls[0] == 2:
            entered.set()
            release.wait(TIMEOUT / 1000)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(StorageBackends, "_move_one", gated)
    _switch_to_r2(qtbot, window).accept()

    def progress() -> MigrationProgress | None:
        found = [
            w
            for w in QApplication.topLevelWidgets()
            if isinstance(w, MigrationProgress) and w.isVisible()
        ]
        return found[0] if found else None

    wait_for(
        qtbot,
        lambda: (shown := progress()) is not None and shown.labelText().startswith("Moved 1 of 3"),
        timeout=TIMEOUT,
    )
    wait_for(qtbot, entered.is_set, timeout=TIMEOUT)  # the second file is being moved
    shown = progress()
    assert shown is not None
    stop = next(b for b in shown.findChildren(QPushButton) if b.text() == "Stop")
    with qtbot.waitSignal(window.settings_controller.migrationFinished, timeout=TIMEOUT):
        stop.click()
        release.set()  # the file being moved finishes; the next one is not started
    box = _report(qtbot)
    words = _words(box)
    assert sorted(_backends(local_settings).values()) == ["local", "r2", "r2"], words
    assert "stopped after 2 " in words, words
    # "stays" with the English plural forms installed, "stay(s)" without (they are per process)
    assert "1 file" in words and "readable where" in words, words
    assert "Run the move again to continue" in words, words
    assert box.icon() == QMessageBox.Icon.Information  # nothing failed


def _failure(i: int, reason: str, name: str | None = None) -> MoveFailure:
    return MoveFailure(
        i,
        f"clip-{i:04}.mp4" if name is None else name,
        "storage_unavailable",
        reason,
        "English detail",
    )


def test_a_thousand_failures_make_a_short_box_grouped_by_reason(qtbot) -> None:  # type: ignore[no-untyped-def]
    failed = tuple(
        _failure(i, "object_damaged" if i % 5 == 0 else "endpoint_unreachable") for i in range(1000)
    )
    box = MoveReport(MoveOutcome("r2", 40, 0, failed))
    qtbot.addWidget(box)
    words = _words(box)
    assert len(words.splitlines()) < 15, words
    assert "1000 file" in words or "1,000 file" in words, words
    assert "800 file" in words and "200 file" in words, words  # the count of each reason
    assert "797 more" in words and "197 more" in words, words
    assert "clip-0001.mp4" in words and "clip-0000.mp4" in words, words
    # the unreachable ones move at the next run; the damaged ones need a backup first
    assert "Running the move again retries" in words, words
    assert all(f.name in box.detailedText() for f in failed)


def test_only_passing_faults_say_run_again_and_long_names_are_cut(qtbot) -> None:  # type: ignore[no-untyped-def]
    name = "a" * 150 + ".jpg"
    unreachable = MoveReport(
        MoveOutcome("local", 0, 0, (_failure(1, "endpoint_unreachable", name),))
    )
    qtbot.addWidget(unreachable)
    assert "Run the move again to retry" in _words(unreachable)
    assert name not in _words(unreachable) and "…" in _words(unreachable)
    assert name in unreachable.detailedText()
    gone = MoveReport(MoveOutcome("local", 0, 0, (_failure(7, "object_damaged", ""),)))
    qtbot.addWidget(gone)
    assert "again" not in _words(gone).lower()
    assert "file 7 (no longer in the library)" in _words(gone)


# ---- each failure of a move in its own words, en and es -------------------------------------
# What a move's report said before (desktop_app/errors.py): a SHA-256 that differs called
# "not the size"; a missing source "Someone may have deleted it"; a copy spoiled on its way the
# upload's "Part of the file arrived damaged"; and "The disk holding the library ()" for core's
# catalog_disk_unreachable, which a move's failure carries without its folder.
SAID = {
    "en": {
        "object_damaged": "The stored copy of this file is damaged: it is not the size or the "
        "content the catalog records (a bad restore or a disk fault). Restore the file from a "
        "backup.",
        "object_missing": "The stored copy of this file is missing, though the catalog still "
        "lists it (deleted outside MediaDesk, or a bad restore). Restore it from a backup; "
        "`mediadesk maintenance` lists such files.",
        "copy_mismatch": "The copy at the new storage did not match the original, so the file "
        "stayed where it is. Running the move again retries it.",
        "catalog_disk_unreachable": "The disk holding the library cannot be read or written: "
        "it was unplugged, or the network share is gone. Connect it again, then try again.",
    },
    "es": {
        "object_damaged": "La copia guardada de este archivo está dañada: no tiene el tamaño o "
        "el contenido que indica el catálogo (una restauración fallida o un fallo del disco). "
        "Restaura el archivo desde una copia de seguridad.",
        "object_missing": "Falta la copia guardada de este archivo, aunque el catálogo todavía "
        "lo incluye (se eliminó fuera de MediaDesk, o una restauración fallida). Restáuralo "
        "desde una copia de seguridad; `mediadesk maintenance` enumera esos archivos.",
        "copy_mismatch": "La copia en el nuevo almacenamiento no coincidía con el original, así "
        "que el archivo se quedó donde estaba. Al volver a iniciar el traslado se reintenta.",
        "catalog_disk_unreachable": "No se puede leer ni escribir en el disco que contiene la "
        "biblioteca: se desconectó, o la carpeta de red ya no está. Conéctalo de nuevo y vuelve "
        "a intentarlo.",
    },
}


@pytest.fixture
def languages(qapp) -> Iterator[None]:  # type: ignore[no-untyped-def]
    yield
    install_translations("en")


def _failures_of_a_real_move(
    lib: Library, media_dir: MediaSet, monkeypatch: pytest.MonkeyPatch
) -> dict[str, MigrationFailure]:
    """A local-to-R2 move (real SQLite, moto) meeting a flipped byte (right size, wrong SHA-256),
    a missing source and a copy spoiled on its way to the bucket; its failures by file name."""
    flipped = lib.uploads.ingest(media_dir.webp, "image", original_filename="flipped.webp")
    missing = lib.uploads.ingest(media_dir.png, "image", original_filename="missing.png")
    spoiled = lib.uploads.ingest(media_dir.jpeg, "image", original_filename="spoiled.jpg")
    local, r2 = _backend(lib, "local"), _backend(lib, "r2")
    _flipped(local, flipped)
    local.delete(missing.storage_key)
    real_put = r2.put_file

    def corrupting_put(key: str, path: Path, content_type: str, *a: object) -> object:
        if key == spoiled.storage_key:
            path.write_bytes(path.read_bytes()[:-10] + b"corrupted!")
        return real_put(key, path, content_type)

    monkeypatch.setattr(r2, "put_file", corrupting_put)
    report = lib.backends.migrate("r2")
    names = {flipped.id: "flipped", missing.id: "missing", spoiled.id: "spoiled"}
    return {names[f.file_id]: f for f in report.failed}


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_moves_failures_each_say_what_happened_in_both_languages(
    qtbot,  # type: ignore[no-untyped-def]
    languages: None,
    s3_settings: Settings,
    media_dir: MediaSet,
    monkeypatch: pytest.MonkeyPatch,
    language: str,
) -> None:
    lib = Library.open(s3_settings.replace(storage_backend="local"))
    try:
        failures = _failures_of_a_real_move(lib, media_dir, monkeypatch)
    finally:
        lib.close()
    got = {name: (f.code, f.reason) for name, f in failures.items()}
    assert got == {
        "flipped": ("storage_unavailable", "object_damaged"),
        "missing": ("not_found", "object_missing"),
        "spoiled": ("checksum_mismatch", "copy_mismatch"),
    }, got
    # core's one rule of what a run again can move (the report's advice follows it)
    assert {name: f.retryable for name, f in failures.items()} == {
        "flipped": False,
        "missing": False,
        "spoiled": True,
    }
    install_translations(language)
    said = SAID[language]
    for name, reason in (
        ("flipped", "object_damaged"),
        ("missing", "object_missing"),
        ("spoiled", "copy_mismatch"),
    ):
        f = failures[name]
        record = {"code": f.code, "reason": f.reason, "message": f.error}
        assert describe_error(error_from_record(record)).text == said[reason], name  # type: ignore[arg-type]
    box = MoveReport(
        MoveOutcome(
            "r2",
            0,
            0,
            tuple(
                MoveFailure(f.file_id, f"{name}.file", f.code, f.reason, f.error)
                for name, f in failures.items()
            ),
        )
    )
    qtbot.addWidget(box)
    words = _words(box)
    for reason in ("object_damaged", "object_missing", "copy_mismatch"):
        assert said[reason] in words, words
    assert "()" not in words, words


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_disk_gone_during_a_move_names_no_empty_folder(
    qtbot,  # type: ignore[no-untyped-def]
    languages: None,
    language: str,
) -> None:
    """A move's failure keeps core's code and reason, not the folder (MigrationFailure)."""
    install_translations(language)
    failure = MoveFailure(
        3, "clip.mp4", "storage_unavailable", "catalog_disk_unreachable", "English detail"
    )
    box = MoveReport(MoveOutcome("r2", 1, 0, (failure,)))
    qtbot.addWidget(box)
    words = _words(box)
    assert SAID[language]["catalog_disk_unreachable"] in words, words
    assert "()" not in words, words
    # with the folder known (every other path's error), it is still named
    with_folder = describe_error(catalog_disk_down("/media/usb")).text
    assert "(/media/usb)" in with_folder, with_folder
    assert with_folder.replace(" (/media/usb)", "") == SAID[language]["catalog_disk_unreachable"]
    # one sentence for translators, its brackets dropped without a folder (errors.py's
    # `_naming`): the two kept apart before could be translated apart
    sources = ElementTree.parse(TRANSLATIONS_DIR / "mediadesk_es.ts").iter("source")
    said = [s.text for s in sources if (s.text or "").startswith("The disk holding the library")]
    assert [t for t in said if t and t.endswith("then try again.")] == [
        "The disk holding the library (%1) cannot be read or written: it was unplugged, or the "
        "network share is gone. Connect it again, then try again."
    ]


@pytest.mark.parametrize("language", ["en", "es"])
def test_make_screenshots_shoots_the_report(qtbot, tmp_path: Path, monkeypatch, language) -> None:  # type: ignore[no-untyped-def]
    """`make screenshots` showed the move's question and progress, never its report."""
    from desktop_app import screenshots

    monkeypatch.setattr(screenshots, "OUT", tmp_path)
    install_translations(language)
    try:
        box = screenshots.move_report(None)
        qtbot.addWidget(box)
        words = _words(box)
        assert ("Cloudflare R2" in words) and ("9 " in words), words
        assert "100m-final.jpg" not in words and "relay-start.jpg" in words, words
        screenshots.shoot_move_report(None, language)
    finally:
        install_translations("en")
    shot = tmp_path / f"{language}-storage-migration-report.png"
    assert shot.stat().st_size > 1000
