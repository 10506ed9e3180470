"""A hard delete of a live file whose object DELETE never left this machine: the store was
found out of reach a moment ago and not asked (StorageNotAsked), its endpoint refused the
connection, or the connection never opened in time. Nothing was done, yet the file was moved
to the trash under the back-dated claim, as for a DELETE that got no answer, and maintenance
kept it there for good since its bytes are stored: `mediadesk delete --permanent 5 6 7`
while the bucket was silent sent one DELETE and left all three live files in the trash. Now
such a failure puts the file back live, as for a shared object; a DELETE that got no answer
(a read timeout) still leaves it in the trash under its claim.

Real moto S3 behind a TCP proxy the test cuts or stalls (tests/faults.py CuttableProxy), and
an endpoint whose queue of connections is full (a connect that never opens)."""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from PySide6.QtWidgets import QApplication

from core.db.models import utcnow
from core.errors import StorageNotAsked, StorageUnavailable, never_sent
from core.library import CLAIM_LEASE, Library
from core.maintenance import run_maintenance
from core.records import FileRecord
from core.settings import Settings
from core.storage import s3
from core.storage.local import LocalStorage
from core.storage.routing import RoutingStorage
from core.storage.s3 import Timeouts
from tests.faults import CuttableProxy
from tests.internals import storage_of

pytestmark = pytest.mark.timeout(120)

QUICK = Timeouts(connect=1, read=1.5, attempts=2)


@pytest.fixture
def proxied(
    s3_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Library, CuttableProxy]]:
    monkeypatch.setattr(s3, "REQUESTS", QUICK)
    monkeypatch.setattr(s3, "HANG_WINDOW", 30.0)
    monkeypatch.setattr(s3, "LONGEST_HANG_WINDOW", 60.0)
    proxy = CuttableProxy.in_front_of(s3_settings.r2_endpoint_url)
    lib = Library.open(s3_settings.replace(r2_endpoint_url=proxy.url, usage_scan_interval=0))
    try:
        yield lib, proxy
    finally:
        lib.close()
        proxy.close()


def _files(lib: Library, folder: Path, count: int) -> list[FileRecord]:
    """`count` files of their own bytes (the same bytes would share one object)."""
    made = []
    for n in range(count):
        path = folder / f"f{n}.png"
        Image.new("RGB", (32, 32), (n, 2 * n, 200)).save(path)
        made.append(lib.uploads.ingest(path, "image"))
    assert len({r.storage_key for r in made}) == count
    return made


def _live(lib: Library, record: FileRecord) -> None:
    again = lib.get_file(record.id)
    assert not again.is_trashed, f"file {record.id} left in the trash"
    assert record.id in [r.id for r in lib.list_files().items]
    assert storage_of(lib).exists(record.storage_key)


def test_hard_deletes_not_sent_to_a_silent_bucket_leave_the_files_live(
    proxied: tuple[Library, CuttableProxy], tmp_path: Path, s3_settings: Settings
) -> None:
    """The batch: the first DELETE meets the silence (a read timeout: it may be carried out,
    the file stays in the trash under its claim); the next two are not asked (the store was
    silent a moment ago) and leave their files live."""
    lib, proxy = proxied
    first, second, third = _files(lib, tmp_path, 3)
    proxy.stall()
    with pytest.raises(StorageUnavailable) as timed_out:
        lib.delete_permanently(first.id)
    assert timed_out.value.reason == "endpoint_unreachable"
    assert not never_sent(timed_out.value)
    for record in (second, third):
        with pytest.raises(StorageNotAsked):
            lib.delete_permanently(record.id)
    assert proxy.waiting() == 1  # one DELETE reached the bucket
    proxy.restore()
    assert lib.get_file(first.id).is_trashed  # a DELETE unanswered: as before
    lib.close()
    lib = Library.open(s3_settings)  # straight to the bucket, no outage remembered
    try:
        for record in (second, third):
            _live(lib, record)  # was: in the trash, kept there for good by maintenance
        report = run_maintenance(lib, now=utcnow() + CLAIM_LEASE + timedelta(minutes=1))
        assert report.errors == []
        for record in (second, third):
            _live(lib, record)
        # the held DELETE was dropped unsent: its claim settled by the stored bytes
        assert first.id in report.released_claims, report.as_dict()
        assert lib.get_file(first.id).is_trashed
    finally:
        lib.close()


def test_a_hard_delete_whose_connection_is_refused_leaves_the_file_live(
    proxied: tuple[Library, CuttableProxy], tmp_path: Path
) -> None:
    lib, proxy = proxied
    (record,) = _files(lib, tmp_path, 1)
    proxy.cut()
    with pytest.raises(StorageUnavailable) as refused:
        lib.delete_permanently(record.id)
    assert refused.value.reason == "endpoint_unreachable"
    assert never_sent(refused.value)
    proxy.restore()
    _live(lib, record)  # was: in the trash, answered 500


@contextlib.contextmanager
def _never_accepting() -> Iterator[str]:
    """An endpoint whose queue of connections is full: a connect to it never completes (the
    kernel drops its SYN), as for a store behind a black-holed route."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        for sock in [*fillers, listener]:
            sock.close()


def test_a_hard_delete_whose_connection_never_opens_leaves_the_file_live(
    s3_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(s3, "REQUESTS", QUICK)
    lib = Library.open(s3_settings)
    try:
        (record,) = _files(lib, tmp_path, 1)
    finally:
        lib.close()
    with _never_accepting() as endpoint:
        lib = Library.open(s3_settings.replace(r2_endpoint_url=endpoint, usage_scan_interval=0))
        try:
            with pytest.raises(StorageUnavailable) as never:
                lib.delete_permanently(record.id)
            assert never.value.reason == "endpoint_unreachable"
            assert "ConnectTimeout" in repr(never.value.__cause__), repr(never.value.__cause__)
            assert never_sent(never.value)
            assert not lib.get_file(record.id).is_trashed  # was: in the trash
        finally:
            lib.close()
    lib = Library.open(s3_settings)
    try:
        _live(lib, record)
    finally:
        lib.close()


class _Refusing:
    """A backend whose every DELETE is refused before it is sent."""

    name = "s3"

    def delete(self, key: str) -> None:
        raise StorageNotAsked("not asked", retry_after=5)


def test_a_routing_delete_refused_unsent_after_another_backend_was_asked_may_have_done_work(
    tmp_path: Path,
) -> None:
    """The object deleted from the local folder, then the bucket not asked: not "nothing
    done". Asked first and refused unsent: nothing done."""
    local = LocalStorage(tmp_path)
    local.put_bytes("a/b.png", b"x", "image/png")
    routing = RoutingStorage("r2", {"local": local, "r2": _Refusing()})  # type: ignore[dict-item]
    routing.locate = lambda key: "local"
    with pytest.raises(StorageUnavailable) as after_local:
        routing.delete("a/b.png")
    assert not local.exists("a/b.png")
    assert not never_sent(after_local.value)
    routing.locate = lambda key: "r2"
    with pytest.raises(StorageUnavailable) as first:
        routing.delete("a/c.png")
    assert never_sent(first.value)


class _TlsEndpoint:
    """An https endpoint of a throwaway self-signed certificate. `mid_body`: it completes the
    handshake, reads the request, then answers a TLS record that does not decrypt (the
    client's TLS layer fails after the request went); else it only does the handshake, which
    a client that does not trust the certificate aborts."""

    def __init__(self, folder: Path, *, mid_body: bool = False) -> None:
        self.cert = folder / "cert.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
             "-keyout", str(folder / "key.pem"), "-out", str(self.cert)],
            check=True, capture_output=True,
        )  # fmt: skip
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(self.cert, folder / "key.pem")
        self._mid_body = mid_body
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"https://127.0.0.1:{self._listener.getsockname()[1]}"
        self.requests: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            try:
                tls = self._context.wrap_socket(conn, server_side=True)
            except OSError:
                conn.close()
                continue
            with tls:
                try:
                    request = tls.recv(65536)
                    if request:
                        self.requests.append(request)
                    if self._mid_body:
                        # application data whose MAC is wrong, under the TLS layer
                        os.write(tls.fileno(), b"\x17\x03\x03\x00\x20" + b"\x00" * 32)
                except OSError:
                    continue

    def close(self) -> None:
        self._listener.close()


def _stored(s3_settings: Settings, tmp_path: Path) -> FileRecord:
    lib = Library.open(s3_settings)
    try:
        (record,) = _files(lib, tmp_path, 1)
    finally:
        lib.close()
    return record


def test_a_hard_delete_whose_tls_handshake_fails_leaves_the_file_live(
    s3_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A certificate this machine does not trust (TLS intercepted, a self-signed endpoint):
    the handshake fails before any byte of the DELETE is written."""
    monkeypatch.setattr(s3, "REQUESTS", QUICK)
    record = _stored(s3_settings, tmp_path)
    endpoint = _TlsEndpoint(tmp_path)
    lib = Library.open(s3_settings.replace(r2_endpoint_url=endpoint.url, usage_scan_interval=0))
    try:
        with pytest.raises(StorageUnavailable) as failed:
            lib.delete_permanently(record.id)
        assert "SSLError" in repr(failed.value.__cause__), repr(failed.value.__cause__)
        assert endpoint.requests == []
        assert never_sent(failed.value)
        assert not lib.get_file(record.id).is_trashed  # was: in the trash
    finally:
        lib.close()
        endpoint.close()
    lib = Library.open(s3_settings)
    try:
        _live(lib, record)
    finally:
        lib.close()


def test_a_tls_failure_after_the_request_went_may_have_done_work(
    s3_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SSLError also words a TLS failure once the DELETE was written: the store may carry it
    out, so the file stays in the trash under its claim, as for a DELETE unanswered."""
    monkeypatch.setattr(s3, "REQUESTS", QUICK)
    record = _stored(s3_settings, tmp_path)
    endpoint = _TlsEndpoint(tmp_path, mid_body=True)
    monkeypatch.setenv("AWS_CA_BUNDLE", str(endpoint.cert))  # trusted: the handshake passes
    lib = Library.open(s3_settings.replace(r2_endpoint_url=endpoint.url, usage_scan_interval=0))
    try:
        with pytest.raises(StorageUnavailable) as failed:
            lib.delete_permanently(record.id)
        assert "SSLError" in repr(failed.value.__cause__), repr(failed.value.__cause__)
        assert any(r.startswith(b"DELETE ") for r in endpoint.requests), endpoint.requests
        assert not never_sent(failed.value)
        assert lib.get_file(record.id).is_trashed
    finally:
        lib.close()
        endpoint.close()


def test_the_desktop_says_a_delete_unanswered_left_the_file_in_the_trash(
    proxied: tuple[Library, CuttableProxy], tmp_path: Path, qtbot: Any
) -> None:
    """A team hunt: Shift+Delete of a live file while the bucket was silent said only "The
    storage cannot be reached… Try again in 10 s." while the file left the view for the trash
    (README: such a delete moves it there instead): the user retried on a file no longer
    shown. The message now says where it went."""
    from tests.qt_helpers import shown_window, wait_for

    lib, proxy = proxied
    (record,) = _files(lib, tmp_path, 1)
    with shown_window(qtbot, lib) as window:
        wait_for(qtbot, lambda: window.controller.grid.row_of(record.id) >= 0)
        proxy.stall()
        try:
            window.controller.delete_permanently([record.id])
            wait_for(qtbot, lambda: bool(window.last_error), timeout=30000)
        finally:
            proxy.restore()
        assert "went to the trash instead" in window.last_error, window.last_error
        assert lib.get_file(record.id).is_trashed
        for box in QApplication.topLevelWidgets():
            if box.isVisible() and box is not window and hasattr(box, "done"):
                box.done(0)


def test_a_delete_unanswered_is_heard_as_trashed_from_the_version_last_heard(
    proxied: tuple[Library, CuttableProxy], tmp_path: Path
) -> None:
    """A team hunt: the trashed event of a delete the bucket did not answer named
    `previous.version` 3 while listeners had last heard of version 1 (the claim's unannounced
    writes in between): README, `previous.version` is the version the change started from."""
    lib, proxy = proxied
    (record,) = _files(lib, tmp_path, 1)
    heard = lib.last_change_of(record.id)
    assert heard is not None
    proxy.stall()
    try:
        with pytest.raises(StorageUnavailable):
            lib.delete_permanently(record.id)
    finally:
        proxy.restore()
    event = lib.last_change_of(record.id)
    assert event is not None and event.kind == "trashed", event
    assert event.previous is not None
    assert event.previous["version"] == heard.version == record.version
    assert event.previous["deleted_at"] is None
    assert event.version is not None and event.version > record.version
