"""Shared by the fault tests: a `mediadesk serve` subprocess, raw half-sent requests, a store
that can be cut (moto behind CuttableProxy) and the closing check every fault test ends with
(maintenance, an empty reconcile report, exact bytes)."""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pytest

from core.library import Library
from core.maintenance import reconcile, run_maintenance
from core.settings import Settings
from core.storage import s3
from core.storage.s3 import Timeouts
from server.entry import EmbeddedServer
from tests.resumable_client import MiB
from tests.s3_server import S3Target, s3_client
from tests.server_fixtures import Reply, Tokens, bearer, http_call, make_tokens, server_config

ROOT = Path(__file__).resolve().parents[1]
ENTRY = "import sys; from server.entry import main; sys.exit(main(sys.argv[1:]))"


@contextlib.contextmanager
def small_tmpfs(folder: Path, size: str) -> Iterator[Path]:
    """`folder` on a tmpfs of `size` ("1m") for a real full disk; skips the test unless root
    and mount work here."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root; the injected-ENOSPC tests cover the rest")
    folder.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@contextlib.contextmanager
def library_on_tmpfs(data_dir: Path, size: str, **overrides: Any) -> Iterator[Library]:
    """A library whose whole data folder (catalog, uploads, objects, logs) is a tmpfs of
    `size`, for a real full disk; skips as small_tmpfs does."""
    from tests.conftest import make_settings

    with small_tmpfs(data_dir, size) as folder:
        lib = Library.open(make_settings(folder, **overrides))
        try:
            yield lib
        finally:
            lib.close()


@contextlib.contextmanager
def catalog_on_tmpfs(tmp_path: Path, size: str) -> Iterator[Library]:
    """A library whose SQLite catalog alone is on a tmpfs of `size` (DATABASE_URL); its objects
    are on the test's own disk, so reads go on while the catalog's disk is full."""
    from tests.conftest import make_settings

    with small_tmpfs(tmp_path / "catalog", size) as folder:
        url = f"sqlite:///{folder / 'catalog.sqlite3'}"
        lib = Library.open(make_settings(tmp_path / "data", database_url=url))
        try:
            yield lib
        finally:
            lib.close()


@contextlib.contextmanager
def small_ext4(folder: Path, size_mib: int, reserved_percent: int) -> Iterator[Path]:
    """`folder` on a loop-mounted ext4 of `size_mib` with `reserved_percent` of its blocks kept
    for root (which a tmpfs has not); skips the test unless root, mkfs.ext4 and loop mounts
    work here."""
    if os.geteuid() != 0 or shutil.which("mkfs.ext4") is None:
        pytest.skip("a loop-mounted ext4 needs root and mkfs.ext4")
    folder.mkdir(parents=True, exist_ok=True)
    image = folder.with_name(folder.name + ".img")
    with open(image, "wb") as fh:
        fh.truncate(size_mib * 1024 * 1024)
    made = subprocess.run(
        ["mkfs.ext4", "-q", "-F", "-m", str(reserved_percent), str(image)],
        capture_output=True,
        text=True,
    )
    mounted = made.returncode == 0 and (
        subprocess.run(
            ["mount", "-o", "loop", str(image), str(folder)], capture_output=True, text=True
        ).returncode
        == 0
    )
    if not mounted:
        image.unlink(missing_ok=True)
        pytest.skip(f"cannot make or loop-mount an ext4 here: {made.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)
        image.unlink(missing_ok=True)


def fill_disk(path: Path, chunk: int = 256 * 1024) -> int:
    """Writes `path` until its file system has no room left (ENOSPC); the bytes written."""
    block = b"\0" * chunk
    written = 0
    with open(path, "wb", buffering=0) as fh:
        while chunk:
            try:
                written += fh.write(block[:chunk])
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                chunk //= 2  # down to the last few bytes: a tmpfs counts whole pages
    return written


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`mediadesk ARGS` in a fresh process (the installed entry point's main)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIADESK_")}
    return subprocess.run(
        [sys.executable, "-c", ENTRY, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@dataclass
class ServeProcess:
    proc: subprocess.Popen[str]
    url: str
    token: str | None
    # what it wrote on stderr after it started (its console log), as it comes
    stderr: list[str] = field(default_factory=list)

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind runs."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(15)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_serve(
    data_dir: Path, *extra: str, wrapper: tuple[str, ...] = (), entry: str = ENTRY
) -> ServeProcess:
    """`mediadesk serve --port 0` on `data_dir`; returns once it prints its address.
    `wrapper`: a command the server runs under (e.g. setpriv, to drop capabilities); `entry`:
    the Python that runs it (ENTRY, or one that sets a module's constant first)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIADESK_")}
    command = [*wrapper, sys.executable, "-c", entry, "serve", "--port", "0"]
    command += ["--data-dir", str(data_dir)]
    proc = subprocess.Popen(
        [*command, *extra], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True
    )
    assert proc.stderr is not None
    lines: list[str] = []
    while not lines or "Press Ctrl+C" not in lines[-1]:
        line = proc.stderr.readline()
        if not line:
            proc.wait(15)
            raise AssertionError("serve did not start:\n" + "".join(lines))
        lines.append(line)
    text = "".join(lines)
    url = re.search(r"running at (http://\S+)/", text).group(1)  # type: ignore[union-attr]
    token = re.search(r"(mdk_\S+)", text)
    served = ServeProcess(proc, url, token.group(1) if token else None)
    # Keep reading stderr so the server never blocks on a full pipe.
    threading.Thread(target=_collect, args=(proc.stderr, served.stderr), daemon=True).start()
    return served


def _collect(stream: Any, lines: list[str]) -> None:
    for line in stream:
        lines.append(line)


def open_request(url: str, head: str, body_start: bytes) -> socket.socket:
    """A raw request whose headers promise more body than `body_start`: the rest never comes."""
    host, port = url.split("//", 1)[1].split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    sock.sendall(head.encode() + body_start)
    return sock


@contextlib.contextmanager
def immutable(*paths: Path) -> Iterator[None]:
    """`paths` made immutable (chattr +i) for the block: no process may write them, root
    included, and SQLite opens them for reading only."""
    if os.geteuid() != 0:
        pytest.skip("chattr +i needs root")
    done: list[Path] = []
    try:
        for path in paths:
            made = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
            if made.returncode != 0:
                pytest.skip(f"chattr +i does not work here: {made.stderr.strip()}")
            done.append(path)
        yield
    finally:
        for path in done:
            subprocess.run(["chattr", "-i", str(path)], check=True)


def put_stalled(url: str, data: bytes, sent: int = 100) -> socket.socket:
    """A signed PUT of `data` (a JPEG) whose client stops after `sent` bytes of the body: it
    holds one of the server's upload-body threads (MEDIADESK_UPLOAD_BODIES) until the rest is
    sent or the socket closed. Wait with wait_bodies_held before counting on that."""
    target = urlsplit(url)
    conn = socket.create_connection((target.hostname, target.port), timeout=30)
    conn.sendall(
        f"PUT {target.path}?{target.query} HTTP/1.1\r\nHost: x\r\n"
        f"Content-Type: image/jpeg\r\nContent-Length: {len(data)}\r\n\r\n".encode()
        + data[:sent]
    )
    return conn


def wait_bodies_held(count: int) -> None:
    """Until `count` upload bodies are being pulled by their threads (server/state.py names them
    '<pool>-long') in this process's embedded server. A fixed sleep, or probing with another
    PUT, lost to a loaded machine: the probe could take the slot before the stalled PUT's
    signature check was done, and the stalled one was the PUT answered 503."""
    wait_for(
        lambda: sum(t.name.endswith("-long") for t in threading.enumerate()) >= count,
        what=f"{count} upload bodies held by their threads",
    )


def wait_for(predicate: Callable[[], Any], timeout: float = 20, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or predicate}")


class CuttableProxy:
    """A TCP proxy in front of a real server (moto S3) that a test can cut: while cut, open
    connections are dropped and new ones refused, as when the store's endpoint dies.

    It can also stall (`stall()`: the endpoint takes connections and never answers, like a hung
    store or a black-holed route; open connections freeze, nothing is forwarded either way) and
    be a slow link (`slow(bytes_per_second)`: what the client sends reaches the server at that
    rate; answers are not slowed).
    """

    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        self._held: list[socket.socket] = []  # taken during a stall, never connected upstream
        self._flowing = threading.Event()  # cleared while stalled
        self._flowing.set()
        self._frozen = 0  # requests that reached an open connection during a stall
        self._rate: float | None = None  # bytes per second towards the server, None: no limit
        self._listener = self._listen(0)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"

    @classmethod
    def in_front_of(cls, url: str) -> CuttableProxy:
        """A proxy to the host and port of `url` (the S3 test server's endpoint)."""
        target = urlsplit(url)
        return cls(target.hostname or "127.0.0.1", target.port or 80)

    def _listen(self, port: int) -> socket.socket:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(32)
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return listener

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            if not self._flowing.is_set():  # stalled: taken, never read, never answered
                with self._lock:
                    self._held.append(client)
                continue
            try:
                upstream = socket.create_connection(self._target, timeout=10)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open += [client, upstream]
            for src, dst, limited in ((client, upstream, True), (upstream, client, False)):
                threading.Thread(target=self._pump, args=(src, dst, limited), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, limited: bool = False) -> None:
        with contextlib.suppress(OSError):
            while chunk := src.recv(self._chunk(limited)):
                if limited and not self._flowing.is_set():
                    with self._lock:
                        self._frozen += 1
                self._flowing.wait()  # a stall holds what arrived (and stops reading)
                dst.sendall(chunk)
                rate = self._rate if limited else None
                if rate:
                    time.sleep(len(chunk) / rate)
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def _chunk(self, limited: bool) -> int:
        rate = self._rate if limited else None
        return max(1024, min(65536, int(rate / 20))) if rate else 65536

    def stall(self) -> None:
        """From now on nothing is forwarded: new connections are accepted and left unanswered,
        open ones freeze (requests and answers stop where they are). `restore()` ends it."""
        self._flowing.clear()

    def waiting(self) -> int:
        """How many requests the stall holds: connections taken during it (each a request
        never read) and requests sent on connections it froze."""
        with self._lock:
            return len(self._held) + self._frozen

    def slow(self, bytes_per_second: float | None) -> None:
        """Requests reach the server at about `bytes_per_second` (None: full speed again)."""
        self._rate = bytes_per_second

    def cut(self) -> None:
        """Refuses new connections and drops the open ones."""
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() (Linux)
        self._listener.close()
        self._drop_open()
        self._drop_held()
        self._flowing.set()  # frozen pumps wake up to find their sockets closed

    def restore(self) -> None:
        """Listens again on the same port after a cut; after a stall, closes the connections
        it froze or took (as a restarted store would: what they carried is lost, not sent
        late) and forwards new ones again."""
        if not self._flowing.is_set():
            self._drop_open()
            self._drop_held()
            self._frozen = 0
            self._flowing.set()
            return
        self._listener = self._listen(self.port)

    def _drop_open(self) -> None:
        with self._lock:
            open_, self._open = self._open, []
        for sock in open_:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _drop_held(self) -> None:
        with self._lock:
            held, self._held = self._held, []
        for sock in held:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def close(self) -> None:
        self.cut()


def store_asked(reply: Reply, records: Sequence[logging.LogRecord]) -> bool:
    """Whether the server sent the request of a storage_unavailable answer to the store (or
    the catalog): a failure met there is logged as an ERROR under the request's id, one
    answered without asking (core.errors.StorageNotAsked) is not (a WARNING line now and then
    counts those). Both say Retry-After, so the answer alone cannot tell them apart."""
    tag = f"[{reply.json()['error']['request_id']}]"
    return any(r.levelno >= logging.ERROR and tag in r.getMessage() for r in records)


class ErringStore:
    """A proxy in front of the bucket (moto) that can answer every request itself with an S3
    error (`fail`), as R2 does under load (503 SlowDown) or in an incident (500 InternalError),
    and pass them on again (`restore`). `answered`: the requests it answered so."""

    def __init__(self, url: str) -> None:
        target = urlsplit(url)
        self._target = (target.hostname or "127.0.0.1", target.port or 80)
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        self._error: bytes | None = None
        self._left: int | None = None  # errors still to answer; None: until restore()
        self.answered = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def fail(
        self,
        status: int,
        code: str,
        headers: dict[str, str] | None = None,
        times: int | None = None,
    ) -> None:
        """From now on every request (the next `times` connections only, when given) is
        answered `status` with S3's error `code` (and `headers`); connections already passing
        requests on are dropped."""
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f"<Error><Code>{code}</Code><Message>{code} (ErringStore)</Message></Error>"
        ).encode()
        head = [f"HTTP/1.1 {status} {code}", "Content-Type: application/xml"]
        head += [f"{name}: {value}" for name, value in (headers or {}).items()]
        head += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
        self._error = "\r\n".join(head).encode() + body
        self._left = times
        self._drop_open()

    def restore(self) -> None:
        self._error = None
        self._left = None

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                answer = self._error
                if answer is not None and self._left is not None:
                    self._left -= 1
                    if self._left <= 0:
                        self._error, self._left = None, None
            if answer is not None:
                threading.Thread(target=self._answer, args=(client, answer), daemon=True).start()
                continue
            try:
                upstream = socket.create_connection(self._target, timeout=10)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _answer(self, client: socket.socket, answer: bytes) -> None:
        """Reads the request (its head, and a body announced without Expect: 100-continue),
        then answers the error and closes: what a store's front end does."""
        with contextlib.suppress(OSError), client:
            client.settimeout(10)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = client.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            fields = dict(line.split(b":", 1) for line in head.split(b"\r\n")[1:] if b":" in line)
            named = {k.strip().lower(): v.strip().lower() for k, v in fields.items()}
            if named.get(b"expect") != b"100-continue":
                length = int(named.get(b"content-length", b"0"))
                while len(body) < length and (chunk := client.recv(65536)):
                    body += chunk
            with self._lock:
                self.answered += 1
            client.sendall(answer)

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while chunk := src.recv(65536):
                dst.sendall(chunk)
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def _drop_open(self) -> None:
        with self._lock:
            open_, self._open = self._open, []
        for sock in open_:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() (Linux)
        self._listener.close()
        self._drop_open()


SHORT = Timeouts(connect=3, read=4, attempts=2)  # what a request waits on a silent store


@dataclass
class ProxiedStore:
    """A live server whose library's bucket (moto) sits behind a CuttableProxy."""

    lib: Library
    server: EmbeddedServer
    tokens: Tokens
    proxy: CuttableProxy
    bucket: Any  # a boto3 client straight to moto, past the proxy
    bucket_name: str


S = TypeVar("S", bound=ProxiedStore)


@contextlib.contextmanager
def served_behind_proxy(
    kind: type[S],
    s3_settings: Settings,
    s3_bucket: S3Target,
    monkeypatch: pytest.MonkeyPatch,
    *,
    window: float,
    longest_window: float,
    **extra: Any,
) -> Iterator[S]:
    """A server on an S3 library reached through a CuttableProxy, for a test to cut or stall:
    short store timeouts (SHORT), outage windows of `window` seconds at first and at most
    `longest_window`. `kind` is ProxiedStore or a test module's own; `extra`, its own fields."""
    monkeypatch.setattr(s3, "REQUESTS", SHORT)
    monkeypatch.setattr(s3, "HANG_WINDOW", window)
    monkeypatch.setattr(s3, "LONGEST_HANG_WINDOW", longest_window)
    proxy = CuttableProxy.in_front_of(s3_settings.r2_endpoint_url)
    settings = s3_settings.replace(
        r2_endpoint_url=proxy.url,
        usage_scan_interval=0,
        upload_part_size=5 * MiB,
        max_file_size=100 * MiB,
    )
    lib = Library.open(settings)
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        yield kind(
            lib=lib,
            server=server,
            tokens=make_tokens(lib),
            proxy=proxy,
            bucket=s3_client(s3_bucket),
            bucket_name=s3_bucket.bucket,
            **extra,
        )
    finally:
        server.stop()
        lib.close()
        proxy.close()


@dataclass
class ProxiedCatalog:
    """A live server whose library's PostgreSQL catalog sits behind a CuttableProxy."""

    lib: Library
    server: EmbeddedServer
    proxy: CuttableProxy
    out: bool = False  # cut or stalled: to restore before the server stops

    def cut(self) -> None:
        self.proxy.cut()
        self.out = True

    def stall(self) -> None:
        self.proxy.stall()
        self.out = True

    def restore(self) -> None:
        self.proxy.restore()
        self.out = False


@contextlib.contextmanager
def served_catalog_behind_proxy(database_url: str, data_dir: Path) -> Iterator[ProxiedCatalog]:
    """A server on a library in `data_dir` whose PostgreSQL catalog (`database_url`) is reached
    through a CuttableProxy, for a test to cut or stall (libpq's least connect_timeout, 2 s: a
    new connection to a hung catalog gives up sooner). A catalog the test left cut or stalled
    is restored before the server stops."""
    from tests.conftest import make_settings

    host_port = database_url.rsplit("@", 1)[1].split("/", 1)[0]
    proxy = CuttableProxy.in_front_of(f"http://{host_port}")
    through = database_url.replace(host_port, f"127.0.0.1:{proxy.port}")
    lib = Library.open(make_settings(data_dir, database_url=f"{through}?connect_timeout=2"))
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    served = ProxiedCatalog(lib=lib, server=server, proxy=proxy)
    try:
        yield served
    finally:
        if served.out:
            proxy.restore()
        server.stop()
        lib.close()
        proxy.close()


def partial_files(data_dir: Path) -> list[Path]:
    """Every partial file a write can leave: `.part` names in tmp/ and in the object tree."""
    found = [p for p in (data_dir / "tmp").glob("*") if ".part" in p.name]
    found += [p for p in (data_dir / "objects").rglob(".*") if p.name.endswith(".part")]
    return sorted(found)


def assert_healthy_cli(data_dir: Path, ready: dict[int, bytes]) -> None:
    """`mediadesk maintenance`, then: no errors, an empty reconcile report, exact bytes."""
    result = cli("maintenance", "--data-dir", str(data_dir))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["maintenance"]["errors"] == []
    check = report["reconcile"]
    assert check["clean"], check
    assert check["pending_deletions"] == [], check
    lib = Library.open(_settings(data_dir))
    try:
        _assert_bytes(lib, ready)
    finally:
        lib.close()


def assert_healthy(
    lib: Library, ready: dict[int, bytes], url: str | None = None, token: str | None = None
) -> None:
    """The same check in-process (the function behind `mediadesk maintenance`), and the ready
    files streamed over HTTP when a server `url` is given."""
    report = run_maintenance(lib)
    assert report.errors == [], report.as_dict()
    check = reconcile(lib)
    assert check.clean, check.as_dict()
    assert check.pending_deletions == [], check.as_dict()
    _assert_bytes(lib, ready)
    if url is not None:
        for file_id, data in ready.items():
            reply = http_call(f"{url}/stream/{file_id}/raw", headers=bearer(token or ""))
            assert reply.status == 200, reply.body[:300]
            assert reply.body == data


def _assert_bytes(lib: Library, ready: dict[int, bytes]) -> None:
    for file_id, data in ready.items():
        record = lib.get_ready(file_id)
        assert b"".join(lib.open_range(record, 0, None)) == data, file_id


def _settings(data_dir: Path) -> Any:
    from tests.conftest import make_settings

    return make_settings(data_dir)


class Interposer:
    """A TCP proxy in front of a live server whose subclass decides what each connection's
    bytes meet: `relay(client, upstream)` starts the threads that pass them on. Subclasses set
    their own fields before calling this __init__ (it starts accepting at once)."""

    def __init__(self, url: str) -> None:
        host, port = url.split("//", 1)[1].rsplit(":", 1)
        self._target = (host, int(port))
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._sockets: list[socket.socket] = [self._listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
                upstream = socket.create_connection(self._target, timeout=10)
            except OSError:
                return
            upstream.settimeout(None)
            self._sockets += [client, upstream]
            self.relay(client, upstream)

    def relay(self, client: socket.socket, upstream: socket.socket) -> None:
        raise NotImplementedError

    @staticmethod
    def _close(*sockets: socket.socket) -> None:
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def close(self) -> None:
        self._close(*self._sockets)
