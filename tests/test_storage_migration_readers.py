"""A storage migration run by another process (the CLI beside a running server, another
machine on the same catalog) never breaks the server's readers: a moved file's source stays
SOURCE_KEPT_SECONDS after its row switched (the server's record cache and the change feed may
still name it), queued for deletion with the switch. Failures are reported in user terms."""

from __future__ import annotations

import random
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from core import storage_migration
from core.library import Library
from core.maintenance import reconcile
from core.settings import Settings
from core.storage_migration import MigrationStep
from server.entry import EmbeddedServer
from tests.internals import storage_of
from tests.media_fixtures import MediaSet
from tests.server_fixtures import bearer, http_call, make_tokens, server_config, upload_file


def test_a_servers_readers_never_miss_a_file_another_library_moves(
    s3_settings: Settings, media_dir: MediaSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI's migration deleted each source right after switching its row: a server that
    had the file's local path cached (up to 2 s, plus the feed's delay) answered 404 not_found
    to range reads meanwhile (108 of 3,122 reads in an outside run)."""
    monkeypatch.setattr(storage_migration, "SOURCE_KEPT_SECONDS", 4.0)
    settings = s3_settings.replace(storage_backend="local")
    lib = Library.open(settings)
    tokens = make_tokens(lib)
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    other = None
    try:
        paths = [media_dir.jpeg, media_dir.png, media_dir.webp] * 4
        files: dict[int, bytes] = {}
        for path in paths:
            data = path.read_bytes()
            # distinct bytes each (the same bytes share one object)
            copy = path.parent / f"r{len(files)}{path.suffix}"
            copy.write_bytes(data + bytes(len(files) + 1))
            files[upload_file(server, tokens.upload, copy)["id"]] = copy.read_bytes()
        stop = threading.Event()
        bad: list[tuple[int, int, bytes]] = []
        reads = [0]

        def reader() -> None:
            while not stop.is_set():
                file_id = random.choice(list(files))
                reply = http_call(
                    f"{server.url}/stream/{file_id}/image",
                    headers={**bearer(tokens.read), "Range": "bytes=0-99"},
                )
                reads[0] += 1
                if reply.status != 206 or reply.body != files[file_id][:100]:
                    bad.append((file_id, reply.status, reply.body[:120]))

        readers = [threading.Thread(target=reader) for _ in range(2)]
        for thread in readers:
            thread.start()
        try:
            # another Library on the same catalog: what `mediadesk storage migrate` opens
            other = Library.open(settings)
            started = time.monotonic()
            report = other.backends.migrate("r2")
            waited = time.monotonic() - started
            time.sleep(1.0)
        finally:
            stop.set()
            for thread in readers:
                thread.join()
        assert report.complete and report.moved == len(files), report
        assert not bad, f"{len(bad)} of {reads[0]} reads failed, e.g. {bad[0]}"
        assert waited >= 4.0  # the run waited for its last source to come due
        local = storage_of(lib).backend("local")  # type: ignore[attr-defined]
        for file_id in files:  # and then deleted every source
            assert not local.exists(lib.get_file(file_id).storage_key)
        assert reconcile(lib).pending_deletions == []
    finally:
        server.stop()
        if other is not None:
            other.close()
        lib.close()


def test_a_cancelled_wait_leaves_sources_queued_and_a_move_back_keeps_the_live_copy(
    s3_settings: Settings, media_dir: MediaSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sources are queued with the switch (a kill or cancel before they are due leaves known
    pending deletions, not untracked objects), and a file moved back before its old copy's
    deletion is due is never deleted from under its row (the same key on both backends)."""
    monkeypatch.setattr(storage_migration, "SOURCE_KEPT_SECONDS", 3600.0)
    settings = s3_settings.replace(storage_backend="local")
    lib = Library.open(settings)
    try:
        record = lib.uploads.ingest(media_dir.jpeg, "image")
        cancel = threading.Event()

        def cancel_once_moved(step: MigrationStep) -> None:
            if step.done == step.total:
                cancel.set()  # during the wait for the sources

        report = lib.backends.migrate("r2", progress=cancel_once_moved, cancel=cancel)
        assert report.moved == 1
        local = storage_of(lib).backend("local")  # type: ignore[attr-defined]
        assert local.exists(record.storage_key)  # kept for other processes' readers
        found = reconcile(lib)
        assert record.storage_key in found.pending_deletions, found
        assert found.objects_without_rows == []

        monkeypatch.setattr(storage_migration, "SOURCE_KEPT_SECONDS", 0.0)
        assert lib.backends.migrate("local").moved == 1  # back, before the deletion is due
        # every due deletion, an hour on: the live local copy stays, the R2 one goes
        lib.deferred.run(datetime.now(UTC) + timedelta(hours=2))
        assert local.exists(record.storage_key)
        r2 = storage_of(lib).backend("r2")  # type: ignore[attr-defined]
        assert not r2.exists(record.storage_key)
        data = b"".join(lib.open_range(lib.get_file(record.id), 0, None))
        assert data == media_dir.jpeg.read_bytes()
        assert reconcile(lib).pending_deletions == []
    finally:
        lib.close()


def test_a_store_out_of_reach_mid_move_is_reported_without_keys_or_endpoint(
    s3_settings: Settings, media_dir: MediaSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """failed[].error read "Uploading 'general/…': http://127.0.0.1:… out of reach"; it is
    the user's sentence now (the log keeps the storage's own message)."""
    import socket

    with socket.socket() as probe:  # a port nobody listens on: the bucket gone silent
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dead = f"http://127.0.0.1:{port}"
    lib = Library.open(s3_settings.replace(storage_backend="local", r2_endpoint_url=dead))
    try:
        record = lib.uploads.ingest(media_dir.jpeg, "image")
        gone = storage_of(lib).backend("r2")  # type: ignore[attr-defined]
        monkeypatch.setattr(gone, "check", lambda: None)  # it answered when the run began
        report = lib.backends.migrate("r2")
        assert [(f.file_id, f.code) for f in report.failed] == [(record.id, "storage_unavailable")]
        error = report.failed[0].error
        assert error == "The storage cannot be reached; run the move again later", error
    finally:
        lib.close()
