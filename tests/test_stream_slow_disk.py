"""A data folder on a disk whose reads wait (a NAS, a FUSE mount, a cold local disk): a stream's
read of bytes the page cache lacks waits in the store's worker threads, never on the event loop,
so /health and listings answer meanwhile; bytes in the cache are still sent from the loop.

Before, sendfile and the small ranges' pread ran on the event loop: with 1 s a read on a FUSE
folder, /health, /config and every listing froze for as long as each stream read.

The slow disk is real: a FUSE passthrough (this file run as a program, built on
tests/fuse_passthrough.py) whose reads of stored objects wait while a gate file exists, and
tell which thread asked (FUSE passes the reading thread's id). The test sees a stream's read
held, asks /health and a listing, then opens the gate: nothing depends on timing. Where FUSE
is not available (no root, /dev/fuse or fusepy) it is skipped; the local-disk tests below
drop a file's pages from the cache (fsync, POSIX_FADV_DONTNEED) instead.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from server import streaming
from tests.faults import wait_for
from tests.server_fixtures import bearer, http_call, library_served, make_tokens
from tests.test_streaming import OBJECTS, ClientFactory, make_app

STORE_THREADS = "-store"  # server/state.py Threads: the store's pool, "<name>-store_N"


@contextlib.contextmanager
def gated_mount(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """(mount point, control folder): reads under objects/ wait while control/hold exists,
    each writing its thread id to control/held first."""
    if os.geteuid() != 0 or not Path("/dev/fuse").exists():
        pytest.skip("a FUSE mount needs root and /dev/fuse here")
    try:
        import fuse  # noqa: F401
    except (ImportError, OSError) as exc:  # fusepy raises OSError without libfuse2
        pytest.skip(f"no fusepy/libfuse2: {exc}")
    backing, point, control = tmp_path / "backing", tmp_path / "mnt", tmp_path / "control"
    for folder in (backing, point, control):
        folder.mkdir()
    daemon = subprocess.Popen(
        [sys.executable, __file__, str(backing), str(point), str(control)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(lambda: os.path.ismount(point) or daemon.poll() is not None, what="the mount")
        if not os.path.ismount(point):
            pytest.skip(f"cannot mount FUSE here: {daemon.stderr.read().decode()[-300:]}")  # type: ignore[union-attr]
        yield point, control
    finally:
        (control / "hold").unlink(missing_ok=True)
        subprocess.run(["umount", "-l", str(point)], capture_output=True, check=False)
        try:
            daemon.wait(timeout=10)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()


def noise_jpeg(path: Path, size: tuple[int, int]) -> bytes:
    """A real photo of random pixels (incompressible: its size follows its pixels)."""
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(path, quality=95)
    return path.read_bytes()


def test_a_stream_held_by_a_slow_disk_holds_no_other_request(tmp_path: Path) -> None:
    with gated_mount(tmp_path) as (mnt, control):
        photo = noise_jpeg(tmp_path / "noise.jpg", (400, 300))
        assert len(photo) > streaming.INLINE_READ_MAX  # the whole file goes the sendfile way
        # the objects on the slow disk, the catalog on a local one (faster to set up)
        (mnt / "objects").mkdir()
        (tmp_path / "data").mkdir()
        (tmp_path / "data" / "objects").symlink_to(mnt / "objects")
        with library_served(tmp_path / "data") as (lib, server):
            admin = bearer(make_tokens(lib).admin)
            file_id = lib.uploads.ingest(tmp_path / "noise.jpg", "image").id
            raw = f"{server.url}/stream/{file_id}/raw"
            for wanted, expected in (
                ({"Range": "bytes=1000-1999"}, photo[1000:2000]),  # small: read and sent at once
                ({}, photo),  # the whole file: in chunks
            ):
                (control / "hold").touch()
                (control / "held").unlink(missing_ok=True)
                replies: list[tuple[int, bytes]] = []
                streaming_thread = threading.Thread(
                    target=_stream, args=(raw, {**admin, **wanted}, replies)
                )
                streaming_thread.start()
                try:
                    wait_for((control / "held").exists, what="the stream's read held by the disk")
                    # the loop answers while the read waits (before: both waited for the gate)
                    health = http_call(f"{server.url}/health", timeout=10)
                    listing = http_call(f"{server.url}/files/", headers=admin, timeout=10)
                    assert (health.status, listing.status) == (200, 200)
                    assert not replies  # the stream still waits for its read
                    threads = {t.native_id: t.name for t in threading.enumerate()}
                    readers = {threads.get(int(tid), tid) for tid in _held(control)}
                    assert all(STORE_THREADS in str(name) for name in readers), readers
                finally:
                    (control / "hold").unlink()
                    streaming_thread.join(30)
                assert replies == [(206 if wanted else 200, expected)]


def _stream(url: str, headers: dict[str, str], replies: list[tuple[int, bytes]]) -> None:
    reply = http_call(url, headers=headers)
    replies.append((reply.status, reply.body))


def _held(control: Path) -> list[str]:
    return (control / "held").read_text().split()


def _cold(path: Path) -> None:
    """Drops the file's pages from the page cache; skips where the system keeps them (tmpfs)
    or cannot tell. A canary file says which: a probe of the file itself would start the
    kernel's readahead of it."""
    canary = path.with_name(f"{path.name}.canary")
    canary.write_bytes(os.urandom(8192))
    for cold in (canary, path):
        fd = os.open(cold, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            if cold == canary and _in_cache(fd) is not False:
                pytest.skip("this file system keeps the pages or cannot tell (no RWF_NOWAIT)")
            # The kernel keeps pages something still holds: a sendfile's bytes stay referenced
            # by the socket until the peer's ACK, late on a loaded machine. One such page at
            # the start is enough for readahead to bring the rest in from the cache's side.
            deadline = time.monotonic() + 10
            while cold == path and (kept := _resident_pages(fd, path.stat().st_size)):
                assert time.monotonic() < deadline, f"pages {kept[:8]}… stayed in the cache"
                time.sleep(0.05)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def _resident_pages(fd: int, size: int) -> list[int]:
    """The file's pages in the page cache (mincore per page: it starts no readahead)."""
    page = os.sysconf("SC_PAGE_SIZE")
    return [n for n in range(0, size, page) if streaming._resident(fd, n, min(page, size - n))]


def _in_cache(fd: int) -> bool | None:
    """The kernel's own answer (asked without server.streaming); None: it cannot tell."""
    if not hasattr(os, "RWF_NOWAIT"):
        return None
    try:
        os.preadv(fd, [bytearray(4096)], 0, os.RWF_NOWAIT)
    except BlockingIOError:
        return False
    except OSError:
        return None
    return True


def test_the_page_cache_probe_on_a_local_disk(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    data = os.urandom(1024 * 1024)
    path.write_bytes(data)
    _cold(path)
    fd = os.open(path, os.O_RDONLY)
    try:
        buf = bytearray(64 * 1024)
        assert not streaming._resident(fd, 0, len(data))  # mincore: none of it is there
        assert streaming._cached_read(fd, buf, 512 * 1024) is None  # would wait for the disk
        assert os.pread(fd, 64 * 1024, 512 * 1024) == data[512 * 1024 : 576 * 1024]
        assert streaming._cached_read(fd, buf, 512 * 1024) == len(buf)  # read: now cached
        assert bytes(buf) == data[512 * 1024 : 576 * 1024]
        assert streaming._cached_read(fd, buf, len(data)) == 0  # the end of the file
        assert os.pread(fd, len(data), 0) == data
        assert streaming._resident(fd, 0, len(data)) is (sys.platform == "linux")
    finally:
        os.close(fd)


@pytest.mark.parametrize(
    "wanted",
    [
        {"Range": "bytes=5-1028"},  # read whole, sent with the headers
        {"Range": "bytes=100000-300000"},  # sendfile of bytes read from the cache first
        {},  # the whole file: sendfile of windows mincore finds in the cache
    ],
    ids=["small", "chunks", "windows"],
)
async def test_cold_local_bytes_are_read_in_the_store_pool_cached_ones_on_the_loop(
    tmp_path: Path, aiohttp_client: ClientFactory, wanted: dict[str, str]
) -> None:
    """The store's pool makes its threads as calls come: a store thread appears when the bytes
    were cold, none when they were cached (sent from the loop, as before)."""
    data = os.urandom(1024 * 1024)
    app = make_app(tmp_path, "local", {"f": data}, threads="slowdisk")
    path = app[OBJECTS]["f"].path
    assert path is not None
    client = await aiohttp_client(app)
    start, end = 0, len(data) - 1
    if wanted:
        start, end = (int(n) for n in wanted["Range"].removeprefix("bytes=").split("-"))

    async def fetch() -> bytes:
        resp = await client.get("/f", headers=wanted)
        assert resp.status == (206 if wanted else 200)
        return await resp.read()

    assert await fetch() == data[start : end + 1]  # the bytes are now in the page cache
    assert not _store_threads()
    _cold(path)
    assert await fetch() == data[start : end + 1]
    assert _store_threads()
    assert await fetch() == data[start : end + 1]  # and from the cache again
    assert app[OBJECTS]["f"].sent and sum(app[OBJECTS]["f"].sent) == 3 * (end + 1 - start)


def _store_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(f"slowdisk{STORE_THREADS}")]


if __name__ == "__main__":  # the gated FUSE file system: BACKING MOUNTPOINT CONTROL
    sys.path.insert(0, str(Path(__file__).parent))
    from fuse import FUSE, fuse_get_context
    from fuse_passthrough import Passthrough

    class Gated(Passthrough):
        def __init__(self, root: str, control: str) -> None:
            super().__init__(root, write_only_creates=False)
            self.hold = os.path.join(control, "hold")
            self.held = os.path.join(control, "held")

        def read(self, path: str, length: int, offset: int, fh: int) -> bytes:
            if "/objects/" in path and os.path.exists(self.hold):
                with open(self.held, "a") as note:  # the thread that asked for the read
                    note.write(f"{fuse_get_context()[2]}\n")
                deadline = time.monotonic() + 60  # never a stuck mount, whatever the test does
                while os.path.exists(self.hold) and time.monotonic() < deadline:
                    time.sleep(0.01)
            return super().read(path, length, offset, fh)

    FUSE(Gated(sys.argv[1], sys.argv[3]), sys.argv[2], foreground=True, default_permissions=True)
