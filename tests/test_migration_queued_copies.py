"""What a storage migration stopped during its wait for the old copies leaves queued: the old
backend's copies of the moved files, their derivatives included. Reconcile counts them as
pending deletions (not strays), and the command line says how many stay queued."""

from __future__ import annotations

import json
import signal
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from core import keys, storage_migration
from core.doctor import check_reconcile
from core.library import Library
from core.maintenance import reconcile
from core.settings import Settings, save_settings
from core.storage_migration import MigrationStep
from tests.internals import storage_of
from tests.media_fixtures import MediaSet


@pytest.fixture
def local_then_r2(s3_settings: Settings) -> Settings:
    return s3_settings.replace(storage_backend="local")


def _with_derivatives(lib: Library, key: str) -> dict[str, bytes]:
    """A video's renditions, HLS ladder and sprite on the local backend (as its job left them)."""
    local = storage_of(lib).backend("local")  # type: ignore[attr-defined]
    folder = keys.video_prefix(key)
    derived = {
        f"{folder}hls/7/master.m3u8": b"#EXTM3U\n",
        f"{folder}hls/7/v0/seg0.ts": b"\x47" * 1880,
        f"{folder}web/8/web.mp4": b"mp4" * 100,
        f"{folder}scrub/9/sprite.jpg": b"\xff\xd8jpeg",
    }
    for name, data in derived.items():
        local.put_bytes(name, data, "application/octet-stream")
    return derived


def test_derivatives_of_an_old_copy_queued_for_deletion_are_no_strays(
    local_then_r2: Settings, media_dir: MediaSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`mediadesk maintenance` after a migration stopped during the wait listed the moved
    video's renditions, HLS and sprite still on the old backend as objects without rows (clean
    false, doctor failing "move the stray objects…") while its original was pending."""
    monkeypatch.setattr(storage_migration, "SOURCE_KEPT_SECONDS", 3600.0)
    lib = Library.open(local_then_r2)
    try:
        record = lib.uploads.ingest(media_dir.mp4, "video")
        derived = _with_derivatives(lib, record.storage_key)
        cancel = threading.Event()

        def stop_in_the_wait(step: MigrationStep) -> None:
            if step.removing:
                cancel.set()  # the CLI's Ctrl+C, the desktop's Stop

        report = lib.backends.migrate("r2", progress=stop_in_the_wait, cancel=cancel)
        assert report.complete and report.moved == 1 and cancel.is_set()
        local = storage_of(lib).backend("local")  # type: ignore[attr-defined]
        assert all(local.exists(k) for k in derived)  # kept for the queued deletion
    finally:
        lib.close()
    lib = Library.open(local_then_r2.replace(storage_backend="r2"))  # as the CLI saves it
    try:
        found = reconcile(lib)
        assert found.objects_without_rows == [], found
        assert found.objects_without_rows_by_backend == {}
        assert found.pending_deletions == [record.storage_key]
        assert found.clean
        lib.remember_reconcile(found.summary())
        assert check_reconcile(lib._db).ok  # noqa: SLF001
        # a derivative-looking object of no queued key is still a stray
        stray = f"{keys.VIDEO_PREFIX}0123456789abcdef/hls/1/master.m3u8"
        storage_of(lib).backend("local").put_bytes(stray, b"x", "text/plain")  # type: ignore[attr-defined]
        assert reconcile(lib).objects_without_rows_by_backend == {"local": [stray]}
        # once due, the queued deletion takes them all: nothing pending, nothing stray
        monkeypatch.setattr(lib.deferred, "grace", 0.0)
        from datetime import UTC, datetime, timedelta

        lib.deferred.run(datetime.now(UTC) + timedelta(hours=2))
        local = storage_of(lib).backend("local")  # type: ignore[attr-defined]
        assert not any(local.exists(k) for k in derived)
        after = reconcile(lib)
        assert after.pending_deletions == [] and after.objects_without_rows == [stray]
    finally:
        lib.close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_backend_is_said_in_user_terms(
    s3_settings: Settings, media_dir: MediaSet, caplog: pytest.LogCaptureFixture
) -> None:
    """`unreachable_backends` carried botocore's text, with the endpoint and the listing."""
    port = _closed_port()
    gone = s3_settings.replace(storage_backend="local", r2_endpoint_url=f"http://127.0.0.1:{port}")
    lib = Library.open(gone)
    try:
        caplog.set_level("INFO")
        found = reconcile(lib)
    finally:
        lib.close()
    said = found.unreachable_backends["r2"]
    assert said == "The R2 storage cannot be reached; its objects were not checked", said
    assert str(port) not in json.dumps(found.as_dict())
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings and not any(str(port) in w for w in warnings), warnings
    # the raw detail is in the log (INFO: the server's log file; not the CLI's stderr)
    assert any(str(port) in r.getMessage() for r in caplog.records if r.levelname == "INFO")


@pytest.fixture(autouse=True)
def sigint_restored() -> Iterator[None]:
    """The command installs its own Ctrl+C handler; the next tests get pytest's back."""
    before = signal.getsignal(signal.SIGINT)
    yield
    signal.signal(signal.SIGINT, before)


def _migrate_two_photos(settings: Settings, media_dir: MediaSet) -> int:
    """`mediadesk storage migrate --to r2` of a local library holding two photos: its exit."""
    from server import cli

    save_settings(settings, settings.config_file)
    lib = Library.open(settings)
    for path in (media_dir.jpeg, media_dir.png):
        lib.uploads.ingest(path, "image")
    lib.close()
    return cli.run(["storage", "migrate", "--to", "r2", "--data-dir", str(settings.paths.data_dir)])


def test_cli_says_how_many_old_copies_stay_queued_after_ctrl_c(
    local_then_r2: Settings,
    media_dir: MediaSet,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Ctrl+C during the old-copies wait printed `"leftovers": []` and exit 0: nothing said
    the old copies stayed queued."""
    monkeypatch.setattr(storage_migration, "SOURCE_KEPT_SECONDS", 3600.0)
    real_wait = storage_migration._await_sources  # noqa: SLF001

    def ctrl_c_in_the_wait(*args: Any) -> None:
        signal.raise_signal(signal.SIGINT)  # the handler the command installed runs here
        real_wait(*args)

    monkeypatch.setattr(storage_migration, "_await_sources", ctrl_c_in_the_wait)
    assert _migrate_two_photos(local_then_r2, media_dir) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out.strip().splitlines()[-1])
    assert out["moved"] == 2 and out["leftovers"] == []
    assert out["queued_deletions"] == 2
    assert (
        "2 old copies stay queued for deletion; maintenance or the next start deletes them"
        in captured.err
    ), captured.err


def test_cli_says_the_queued_old_copies_after_a_ctrl_c_while_copying(
    local_then_r2: Settings,
    media_dir: MediaSet,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A Ctrl+C between two files ended with "cancelled" alone: the first file's old copy,
    queued for deletion with its move, went unmentioned."""
    monkeypatch.setattr(storage_migration, "SOURCE_KEPT_SECONDS", 3600.0)
    real_move = storage_migration.StorageBackends._move_one  # noqa: SLF001

    def ctrl_c_after_the_first(self: Any, *args: Any, **kwargs: Any) -> Any:
        moved = real_move(self, *args, **kwargs)
        signal.raise_signal(signal.SIGINT)  # the command's handler: stop before the next file
        return moved

    monkeypatch.setattr(storage_migration.StorageBackends, "_move_one", ctrl_c_after_the_first)
    assert _migrate_two_photos(local_then_r2, media_dir) != 0
    captured = capsys.readouterr()
    assert "1 old copy stays queued for deletion" in captured.err, captured.err


def test_cli_does_not_call_a_file_that_stayed_an_old_copy_queued(
    local_then_r2: Settings, media_dir: MediaSet, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found moving a library back onto a disk that filled: "60 old copies stay queued for
    deletion" named the 60 files that did not move, whose only bytes stayed where they were
    (the count held the notes queued at the target before each copy). A damaged photo stays
    on the local folder here, the other moves."""
    save_settings(local_then_r2, local_then_r2.config_file)
    lib = Library.open(local_then_r2)
    damaged = lib.uploads.ingest(media_dir.jpeg, "image")
    lib.uploads.ingest(media_dir.png, "image")
    local = storage_of(lib).backend("local")  # type: ignore[attr-defined]
    lib.close()
    path = local.root / damaged.storage_key
    path.write_bytes(b"\0" * path.stat().st_size)  # the size the catalog says, not its bytes
    from server import cli

    data_dir = str(local_then_r2.paths.data_dir)
    assert cli.run(["storage", "migrate", "--to", "r2", "--data-dir", data_dir]) == 1
    captured = capsys.readouterr()
    out = json.loads(captured.out.strip().splitlines()[-1])
    assert out["moved"] == 1 and [f["reason"] for f in out["failed"]] == ["object_damaged"]
    assert out["queued_deletions"] == 1  # the damaged file's note at R2, as the README says
    assert "old cop" not in captured.err, captured.err  # the moved one's went at once
    assert "1 file that did not move keeps its bytes where they are" in captured.err
