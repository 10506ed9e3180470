"""Sends one stored object over HTTP: validators, 304/412/416, single and multipart ranges."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import errno
import io
import json
import logging
import mmap
import os
import secrets
import sys
import threading
import weakref
from collections.abc import Awaitable, Callable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp.typedefs import Handler
from multidict import CIMultiDictProxy

from core.errors import StorageUnavailable, object_damaged
from core.keys import url_path
from core.storage.local import read_error
from server.nginx_conf import (
    CHECK_HEADER,
    COPIED_HEADERS,
    IN_FULL,
    NGINX_OWN_HEADERS,
    NGINX_TYPES,
)
from server.ranges import (
    Satisfiable,
    Unsatisfiable,
    content_range,
    epoch_seconds,
    evaluate_preconditions,
    format_etag,
    http_date,
    if_range_allows,
    parse_range,
)
from server.state import CONFIG, LIBRARY, NGINX_CHECK, REQUEST_ID, STREAMS, THREADS

if TYPE_CHECKING:
    from core.library import Library

logger = logging.getLogger(__name__)

OpenRange = Callable[[int, int | None], Iterator[bytes]]
"""Sync reader of bytes start..end inclusive (None = to the end); run in worker threads."""

REMOTE_CHUNK_SIZE = 256 * 1024
"""Smallest piece written for remote objects; callers should bind open_range to this size."""

FALLBACK_CHUNK_SIZE = 256 * 1024
"""Read size for local files when sendfile cannot be used (SSL, compression, other loops)."""

SENDFILE_CHUNK_SIZE = 256 * 1024
"""Local bytes read from the page cache to check them before each sendfile (_cached_read)."""

SENDFILE_WINDOW = 8 * 1024 * 1024
"""Local bytes checked at once with mincore (no copy) before one sendfile (_resident)."""

INLINE_READ_MAX = 64 * 1024
"""Local ranges up to this size are read whole (from the page cache on the loop, else in a
worker thread) and sent with their headers in one write."""

SENDFILE = not os.environ.get("AIOHTTP_NOSENDFILE")
"""False forces chunked reads for local files (as aiohttp's own switch does)."""

_HAS_SENDFILE = hasattr(os, "sendfile")  # the one-syscall fast path; loop.sendfile otherwise
# preadv2(RWF_NOWAIT): Linux 4.14+; elsewhere every local read goes to a worker thread
_NOWAIT: int | None = getattr(os, "RWF_NOWAIT", None) if hasattr(os, "preadv") else None
# a file system that cannot read without waiting says so with one of these (FUSE, NFS, old kernels)
_NOWAIT_UNSUPPORTED = frozenset({errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS})
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
# (bytes written before the part, start, end inclusive) for each part of a body
_Parts = list[tuple[bytes, int, int]]
# Threads.run_store of the app (server/state.py): cold file and remote-object reads
_Run = Callable[..., "asyncio.Future[Any]"]


async def stream_object(
    request: web.Request,
    *,
    size: int,
    etag: str,
    last_modified: datetime,
    content_type: str,
    local_path: Path | None,
    open_range: OpenRange,
    cache_control: str,
    extra_headers: Mapping[str, str] | None = None,
    on_bytes: Callable[[int], None] | None = None,
    stat_object: Callable[[], object] | None = None,
) -> web.StreamResponse:
    """Answers GET/HEAD for one object; bodies are written here, other answers are returned.

    `local_path` (a file of exactly `size` bytes) is sent with sendfile from the page cache,
    and its bytes the cache lacks are read in the store's thread pool (server.state.THREADS
    run_store), never on the loop; otherwise `open_range(start, end)` is iterated in that
    pool, one call per range. Errors opening the object (NotFound,
    StorageUnavailable...) raise before anything is sent. `on_bytes(n)` runs on the event
    loop as bytes go out.

    `stat_object()` asks the store for the object without reading it (raising as opening it
    would) before an answer with no body (HEAD, an empty object), for a caller that has not
    looked at the object yet: a HEAD answered 200 with the full headers for an object its GET
    found missing (404) or damaged (500). RFC 9110 §9.3.2: HEAD's status is GET's.
    """
    etag = format_etag(etag)
    lm = epoch_seconds(last_modified)
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": etag,
        "Last-Modified": http_date(lm),
        "Cache-Control": cache_control,
        "X-Content-Type-Options": "nosniff",
    }
    if extra_headers:
        headers.update(extra_headers)
    req = request.headers
    method = request.method
    verdict = evaluate_preconditions(
        method,
        etag=etag,
        last_modified=lm,
        if_match=_joined(req, "If-Match"),
        if_none_match=_joined(req, "If-None-Match"),
        if_modified_since=req.get("If-Modified-Since"),
        if_unmodified_since=req.get("If-Unmodified-Since"),
    )
    if verdict == 304:
        return web.Response(status=304, headers=headers)
    if verdict == 412:
        message = "A precondition of the request failed"
        return _error(request, 412, "precondition_failed", message, headers)

    status, parts, end_marker = 200, [(b"", 0, size - 1)] if size else [], b""
    range_header = req.get("Range")
    if range_header is not None:
        if_range = req.get("If-Range")
        if if_range is None or if_range_allows(if_range, etag, lm):
            wanted = parse_range(range_header, size)
            if isinstance(wanted, Unsatisfiable):
                headers["Content-Range"] = f"bytes */{size}"
                message = f"No requested range overlaps the object's {size} bytes"
                return _error(request, 416, "range_not_satisfiable", message, headers)
            if isinstance(wanted, Satisfiable):
                status = 206
                if len(wanted.ranges) == 1:
                    start, end = wanted.ranges[0]
                    headers["Content-Range"] = content_range(start, end, size)
                    parts = [(b"", start, end)]
                else:
                    boundary = secrets.token_hex(16)
                    parts, end_marker = _multipart(wanted, boundary, content_type, size)
                    content_type = f"multipart/byteranges; boundary={boundary}"
    headers["Content-Type"] = content_type
    length = len(end_marker) + sum(len(pre) + end - start + 1 for pre, start, end in parts)
    headers["Content-Length"] = str(length)
    if method == "HEAD" or length == 0:
        if stat_object is not None:
            if request.get(NGINX_CHECK):
                # no bytes for nginx to send: the request comes back in full, and the store
                # is asked once, then
                return _ask_in_full()
            await request.app[THREADS].run_store(stat_object)
        return web.Response(status=status, headers=headers)
    # one range, and an answer nginx gives as we would: nginx's
    accel = _accel_uri(request, local_path) if not end_marker and _alike(req, headers) else None
    if accel is not None:
        return _accel_redirect(request, accel, headers)
    if request.get(NGINX_CHECK):
        # nginx asks whether it may send the bytes: not these (S3, several ranges)
        return _ask_in_full()
    if local_path is not None:
        # a cold disk's reads (a NAS, a FUSE mount) wait in the store's pool, as a remote
        # store's do: the pool answering listings, edits and /health stays free
        run = request.app[THREADS].run_store
        return await _send_local(
            request, status, headers, local_path, size, parts, end_marker, on_bytes, run
        )
    # each read waits on the store: its own pool, so a hung store holds none of the others
    run = request.app[THREADS].run_store
    return await _send_remote(
        request, status, headers, open_range, parts, end_marker, on_bytes, run
    )


def _accel_uri(request: web.Request, local_path: Path | None) -> str | None:
    """The nginx internal URI of a local object, when MEDIADESK_ACCEL_REDIRECT is set."""
    prefix = request.app[CONFIG].accel_redirect if CONFIG in request.app else ""
    if not prefix or local_path is None or LIBRARY not in request.app:
        return None
    if request.headers.get(CHECK_HEADER) == IN_FULL:
        # nginx passed this one on for us to answer (its check said so, or its internal
        # location found no such file or range: the path may be a cached look-up's, and the
        # open in _send_local is the fresh one that makes it our JSON 404)
        return None
    key = _key_under(str(local_path), _library_roots(request.app[LIBRARY]))
    if key is None:
        try:  # a path spelled another way (a symlink): the slow, sure test
            resolved = local_path.resolve().relative_to(
                request.app[LIBRARY].paths.objects_dir.resolve()
            )
        except ValueError:  # not under the objects folder (a cache file): we send it
            return None
        key = resolved.as_posix()
    return prefix + url_path(key)


_ROOTS: weakref.WeakKeyDictionary[Library, tuple[str, ...]] = weakref.WeakKeyDictionary()


def _library_roots(lib: Library) -> tuple[str, ...]:
    """`_roots` of the library's objects folder, kept per library (no path work per request)."""
    roots = _ROOTS.get(lib)
    if roots is None:
        roots = _ROOTS[lib] = _roots(lib.paths.objects_dir)
    return roots


def _roots(objects_dir: Path) -> tuple[str, ...]:
    """The objects folder as given and resolved, with a trailing separator (once per folder:
    resolving it on every request cost a quarter of an X-Accel-Redirect answer)."""
    return tuple(dict.fromkeys(str(p) + os.sep for p in (objects_dir, objects_dir.resolve())))


def _key_under(path: str, roots: tuple[str, ...]) -> str | None:
    """The storage key of a path under one of the roots; keys never hold "." or ".." parts."""
    for root in roots:
        if path.startswith(root):
            key = path[len(root) :].replace(os.sep, "/")
            if key and not any(part in ("", ".", "..") for part in key.split("/")):
                return key
    return None


def _accel_redirect(request: web.Request, uri: str, headers: dict[str, str]) -> web.Response:
    """Our checks, lookup, audit and headers are done: nginx sends the bytes (and the range).

    nginx keeps Content-Type, Content-Disposition, Cache-Control and Accept-Ranges from this
    answer and serves the file of its internal location with its own sendfile, ranges and
    If-Range; the body length and range headers are its to set. (The site of nginx_conf.py
    never gets this answer: it asks with a check, below, and marks the rest IN_FULL.)

    To nginx's check subrequest (server/nginx_conf.py) this is the 200 that lets nginx send the
    bytes with the headers it copies, when its Content-Type (from the object's extension) is
    ours; nginx may keep it for the rest of the half-second, as it does not depend on the range.
    """
    if request.get(NGINX_CHECK):
        if NGINX_TYPES.get(uri.rpartition(".")[2]) != headers.get("Content-Type"):
            return _ask_in_full()
        checked = {k: headers[k] for k in COPIED_HEADERS if k in headers}
        checked["X-Accel-Redirect"] = uri
        checked["X-Accel-Expires"] = "1"  # the key's tick bounds the reuse; 1 s lets nginx keep it
        return web.Response(status=200, headers=checked)
    kept = {
        k: v
        for k, v in headers.items()
        if k not in ("Content-Length", "Content-Range", "ETag", "Last-Modified")
    }
    kept["X-Accel-Redirect"] = uri
    return web.Response(status=200, headers=kept)


def _alike(req: CIMultiDictProxy[str], headers: dict[str, str]) -> bool:
    """Whether nginx's answer from our X-Accel-Redirect (the site of server/nginx_conf.py) is
    the one we would give: every header of ours is one it sends, and it judges the request's
    preconditions as we did. Ours are judged by now (a 304/412 is answered before); nginx
    judges again with no ETag of its own (etag off) and the file's mtime: a matching If-Match
    would be its 412, and so could an If-Unmodified-Since. If-Range it compares as
    if_range_allows does, with the ETag and Last-Modified it sends (ours, strong tags)."""
    if any(k not in COPIED_HEADERS and k not in NGINX_OWN_HEADERS for k in headers):
        return False
    return "If-Match" not in req and "If-Unmodified-Since" not in req


def _ask_in_full() -> web.Response:
    """To nginx's check subrequest: MediaDesk answers this request itself (nginx passes it on)."""
    return web.Response(status=403, headers={"X-Accel-Expires": "0"})


@web.middleware
async def nginx_check_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answers nginx's check subrequests (server/nginx_conf.py): a 200 only from _accel_redirect,
    a 403 for anything else, before any work when nginx could not send the answer anyway
    (other methods, preconditions), so that the request is audited once, when it comes back in
    full. A cross-origin read is checked too: its CORS headers (server/app.py on_prepare) are
    among those nginx copies."""
    method = request.headers.get(CHECK_HEADER)
    if method is None or method == IN_FULL:  # a client's request
        return await handler(request)
    request[NGINX_CHECK] = True  # counted apart in /metrics (server/app.py)
    if method not in ("GET", "HEAD"):
        return _ask_in_full()
    # preconditions nginx would judge otherwise (_alike): no work, one audit
    if "If-Match" in request.headers or "If-Unmodified-Since" in request.headers:
        return _ask_in_full()
    response = await handler(request)
    return response if response.headers.get("X-Accel-Expires") == "1" else _ask_in_full()


def _joined(headers: CIMultiDictProxy[str], name: str) -> str | None:
    values = headers.getall(name, None)
    if not values:
        return None
    return values[0] if len(values) == 1 else ", ".join(values)


def _error(
    request: web.Request, status: int, code: str, message: str, headers: dict[str, str]
) -> web.Response:
    headers["Cache-Control"] = "no-store"
    # the JSON error every route answers: a download's attachment header would have a browser
    # save this body as the file
    headers["Content-Type"] = "application/json; charset=utf-8"
    headers.pop("Content-Disposition", None)
    error = {"code": code, "message": message}
    rid = request.get(REQUEST_ID)
    if rid:  # the same id as X-Request-ID, as in every other error body (server/errors.py)
        error["request_id"] = rid
    body = json.dumps({"error": error}).encode()
    reason = "Range Not Satisfiable" if status == 416 else None  # RFC 9110's phrase
    return web.Response(status=status, reason=reason, body=body, headers=headers)


def _multipart(
    wanted: Satisfiable, boundary: str, content_type: str, size: int
) -> tuple[_Parts, bytes]:
    """Parts with their delimiter and headers (RFC 9110 §14.6), and the closing delimiter."""
    parts: _Parts = []
    for start, end in wanted.ranges:
        lead = "\r\n" if parts else ""
        pre = (
            f"{lead}--{boundary}\r\nContent-Type: {content_type}\r\n"
            f"Content-Range: {content_range(start, end, size)}\r\n\r\n"
        )
        parts.append((pre.encode("latin-1"), start, end))
    return parts, f"\r\n--{boundary}--\r\n".encode("ascii")


async def _write_parts(
    request: web.Request,
    status: int,
    headers: dict[str, str],
    parts: _Parts,
    end_marker: bytes,
    send: Callable[[web.StreamResponse, int, int], Awaitable[None]],
) -> web.StreamResponse:
    """Prepares the response and sends each part through `send(resp, start, end)`.

    Once headers are out no other answer is possible: a failing source is logged and the
    connection dropped, so the client sees a body shorter than its Content-Length.
    """
    resp = web.StreamResponse(status=status, headers=headers)
    try:
        await resp.prepare(request)
        if resp.content_length is not None:
            _whole_after(request, resp.content_length)
        for pre, start, end in parts:
            if pre:
                await resp.write(pre)
            await send(resp, start, end)
        await resp.write_eof(end_marker)
    except ConnectionError as exc:  # the client went away: nothing more to do
        logger.debug("Client left during %s %s: %s", request.method, request.path, exc)
    except _Truncated as exc:
        logger.warning("Aborting %s: %s", request.path, exc)
        _drop(request)
    except Exception:
        if not resp.prepared:
            raise
        logger.exception("Reading failed while sending %s; dropping the connection", request.path)
        _drop(request)
    return resp


def _whole_after(request: web.Request, more: int) -> None:
    """Tells the live streams registry where the answer ends (ActiveStreams.whole_after)."""
    streams = request.app.get(STREAMS)
    if streams is not None:
        streams.whole_after(request, more)


class _Truncated(Exception):
    """The object delivered fewer bytes than announced: the connection must be dropped."""


def _drop(request: web.Request) -> None:
    transport = request.transport
    if transport is not None:
        transport.close()


# --- local files -----------------------------------------------------------------------------


async def _send_local(
    request: web.Request,
    status: int,
    headers: dict[str, str],
    path: Path,
    size: int,
    parts: _Parts,
    end_marker: bytes,
    on_bytes: Callable[[int], None] | None,
    run: _Run,
) -> web.StreamResponse:
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:  # missing: 404; the folder unreachable: 500 (core.storage.local)
        raise read_error(exc, path.name) from exc
    file = _LocalFile(fd, run)
    try:
        # The file opened, not the one looked at: the size check before (Library.local_path)
        # is cached for a few seconds with the path, and a file replaced meanwhile (put back
        # longer, or an atomic mv) was sent as the first `size` bytes of other content, 200,
        # under the old ETag and an hour's Cache-Control
        stored = os.fstat(fd).st_size
        if stored != size:
            raise object_damaged(path.name, stored, size)
        _, start, end = parts[0]
        if len(parts) == 1 and end - start < INLINE_READ_MAX:
            # Small: one read, then headers and body in one send(). (sendfile would cost a
            # second syscall.)
            try:
                data = await file.read(end - start + 1, start)
            except OSError as exc:  # EIO before anything is sent: an answer still
                raise read_error(exc, path.name) from exc
        else:
            sender = _LocalSender(request, file, on_bytes)
            return await _write_parts(request, status, headers, parts, end_marker, sender.send)
    finally:
        file.close()
    if len(data) <= end - start:
        raise StorageUnavailable(f"{path.name} is shorter than its recorded size")
    resp = web.Response(status=status, headers=headers, body=data)
    try:
        await resp.prepare(request)
        _whole_after(request, 0)  # headers and body are written before write_eof's first await
        await resp.write_eof()
    except ConnectionError as exc:
        logger.debug("Client left during %s %s: %s", request.method, request.path, exc)
        return resp
    if on_bytes is not None:
        on_bytes(len(data))
    return resp


def _cached_read(fd: int, buf: bytearray | memoryview, offset: int) -> int | None:
    """Copies the file's bytes at `offset` into `buf` from the page cache alone, on the event
    loop: the count read (0 at the end of the file; short where a page is not cached), or None
    when the first page is not cached or the system cannot tell without waiting.

    A page-cache miss read on the loop (sendfile, pread) held every request of the server
    for the disk's time: on a FUSE data folder at 1 s a read, /health and every listing froze
    for the length of each stream. nginx's `aio threads` does the same test."""
    if _NOWAIT is None:
        return None
    try:
        return os.preadv(fd, [buf], offset, _NOWAIT)
    except BlockingIOError:  # EAGAIN: the page is not in the cache
        return None
    except OSError as exc:
        if exc.errno in _NOWAIT_UNSUPPORTED:
            return None
        raise


def _no_mincore(fd: int, offset: int, count: int) -> bool:
    return False


def _mincore() -> Callable[[int, int, int], bool]:
    """`resident(fd, offset, count)`: True when every page of the range is in the page cache
    and read (mincore counts only up-to-date pages: not one another thread is reading in).
    On Linux through libc; elsewhere always False (the copying probe is used)."""
    if not sys.platform.startswith("linux"):
        return _no_mincore
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        map_file, munmap, mincore = libc.mmap, libc.munmap, libc.mincore
    except (OSError, AttributeError):
        return _no_mincore
    map_file.restype = ctypes.c_void_p
    map_file.argtypes = [
        ctypes.c_void_p,
        ctypes.c_size_t,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.c_int64,
    ]
    munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p]
    page = os.sysconf("SC_PAGE_SIZE")
    failed = ctypes.c_void_p(-1).value
    prot, flags = mmap.PROT_READ, mmap.MAP_SHARED
    low_bit = bytes(b & 1 for b in range(256))  # other bits of mincore's bytes are reserved

    def resident(fd: int, offset: int, count: int) -> bool:
        first = offset - offset % page
        length = offset + count - first
        addr = map_file(None, length, prot, flags, fd, first)
        if addr is None or addr == failed:  # a file system without mmap: cannot tell
            return False
        try:
            vec = ctypes.create_string_buffer((length + page - 1) // page)
            if mincore(addr, length, vec) != 0:
                return False
            return b"\0" not in vec.raw.translate(low_bit)
        finally:
            munmap(addr, length)

    return resident


_resident = _mincore()

_SCRATCH = threading.local()  # one buffer per event loop thread: probes are never awaited


def _scratch(n: int) -> memoryview:
    """`n` bytes of throwaway buffer for the probe before a sendfile."""
    buf: bytearray | None = getattr(_SCRATCH, "buf", None)
    if buf is None or len(buf) < n:
        buf = _SCRATCH.buf = bytearray(max(n, SENDFILE_CHUNK_SIZE))
    return memoryview(buf)[:n]


class _LocalFile:
    """An open local file read from the page cache on the loop, and from the disk in `run`'s
    worker threads (the store's pool: bounded, so a slow disk holds those threads only)."""

    def __init__(self, fd: int, run: _Run) -> None:
        self.fd = fd
        self.run = run
        self._reading: asyncio.Future[bytes] | None = None

    async def read(self, n: int, offset: int) -> bytes | bytearray:
        """Up to `n` bytes at `offset`; short only at the end of the file."""
        buf = bytearray(n)
        got = _cached_read(self.fd, buf, offset)
        if got is not None and (got == n or got == 0):
            del buf[got:]
            return buf
        got = got or 0
        rest = await self.read_cold(n - got, offset + got)
        if not got:
            return rest
        del buf[got:]
        buf += rest
        return buf

    async def read_cold(self, n: int, offset: int) -> bytes:
        """`n` bytes at `offset` read in a worker thread (short only at the end of the file)."""
        reading = self._reading = self.run(_pread, self.fd, n, offset)
        # shielded: a request cancelled mid-read leaves the thread reading the descriptor,
        # which close() then leaves open until the read ends (its number could be reused)
        data = await asyncio.shield(reading)
        self._reading = None
        return data

    def close(self) -> None:
        reading, self._reading = self._reading, None
        if reading is None or reading.done():
            os.close(self.fd)
        else:
            reading.add_done_callback(self._close_after)

    def _close_after(self, reading: asyncio.Future[bytes]) -> None:
        _ignore_result(reading)
        os.close(self.fd)


class _LocalSender:
    """Sends byte ranges of an open file: sendfile of bytes found in the page cache when the
    transport allows, else reads; bytes not in the cache are read in a worker thread."""

    def __init__(
        self, request: web.Request, file: _LocalFile, on_bytes: Callable[[int], None] | None
    ) -> None:
        self.request = request
        self.file = file
        self.fd = file.fd
        self.on_bytes = on_bytes
        self._file: io.FileIO | None = None

    async def send(self, resp: web.StreamResponse, start: int, end: int) -> None:
        count = end - start + 1
        transport = self.request.transport
        if transport is None or transport.is_closing():
            raise ConnectionResetError("Connection lost")
        if SENDFILE and not resp.compression and plain_socket(transport):
            sent = await self._sendfile(resp, transport, start, count)
        else:
            sent = await self._read_and_write(resp, start, count)
        if sent < count:
            raise _Truncated(f"file ended {count - sent} bytes early")

    async def _sendfile(
        self, resp: web.StreamResponse, transport: asyncio.Transport, start: int, count: int
    ) -> int:
        sent = 0
        while sent < count:
            offset = start + sent
            # sendfile() waits for pages the cache lacks, on the loop: only bytes known to be
            # in the cache go through it, a window found whole by mincore (the common case,
            # as fast as before) or else bytes just read from the cache
            window = min(SENDFILE_WINDOW, count - sent)
            want = min(SENDFILE_CHUNK_SIZE, window)
            if window > want and _resident(self.fd, offset, window):
                cached: int | None = window
            else:
                cached = _cached_read(self.fd, _scratch(want), offset)
            if cached is None:  # not in the cache: read in a worker thread, then written
                chunk = await self.file.read_cold(want, offset)
                if not chunk:
                    break
                await resp.write(chunk)
                self._report(len(chunk))
                sent += len(chunk)
                continue
            if cached == 0:  # end of file
                break
            more = await self._send_cached(resp, transport, offset, cached)
            if more == 0:
                break
            sent += more
        return sent

    async def _send_cached(
        self, resp: web.StreamResponse, transport: asyncio.Transport, start: int, count: int
    ) -> int:
        """sendfile of bytes found in the page cache (they could be evicted while a slow
        client's socket is full, a rare wait the probe cannot rule out)."""
        sent = 0
        if _HAS_SENDFILE and transport.get_write_buffer_size() == 0:
            # One non-blocking syscall first: small ranges end here, with no futures involved.
            sock = transport.get_extra_info("socket")
            with contextlib.suppress(BlockingIOError, InterruptedError):
                sent = os.sendfile(sock.fileno(), self.fd, start, count)
                if sent == 0:
                    return 0  # end of file
            self._sent_around(sent)
        if sent < count:
            if self._file is None:
                self._file = io.FileIO(self.fd, "rb", closefd=False)
            loop = asyncio.get_running_loop()
            offset = start + sent
            try:
                more = await loop.sendfile(
                    transport, self._file, offset, count - sent, fallback=False
                )
            except asyncio.SendfileNotAvailableError:
                # The first sendfile() failed (a file system without it, or the peer is gone):
                # plain writes either work or report the broken connection properly.
                more = await self._read_and_write(resp, offset, count - sent)
            except BaseException:
                self._sent_around(max(0, self._file.tell() - offset))
                raise
            else:
                self._sent_around(more)
            sent += more
        return sent

    def _sent_around(self, n: int) -> None:
        """Bytes sendfile put on the socket past the response's writer: counted in its size as
        well, which the access log's size column reads (a 40 MB download was logged as its
        headers' 447 bytes)."""
        self._report(n)
        writer = self.request.writer
        if n and writer is not None:
            writer.output_size += n

    async def _read_and_write(self, resp: web.StreamResponse, start: int, count: int) -> int:
        sent = 0
        while sent < count:
            want = min(FALLBACK_CHUNK_SIZE, count - sent)
            chunk = await self.file.read(want, start + sent)
            if not chunk:
                break
            await resp.write(chunk)
            sent += len(chunk)
            self._report(len(chunk))
        return sent

    def _report(self, n: int) -> None:
        if n and self.on_bytes is not None:
            self.on_bytes(n)


def _seek_read(fd: int, n: int, offset: int) -> bytes:
    """pread() where the OS has none (Windows); each request has its own descriptor."""
    os.lseek(fd, offset, os.SEEK_SET)
    return os.read(fd, n)


_pread: Callable[[int, int, int], bytes] = getattr(os, "pread", _seek_read)


def plain_socket(transport: asyncio.BaseTransport) -> bool:
    """True for asyncio's plain socket transports (not SSL, not uvloop): sendfile() works on
    them, and server/rawbody.py may read a body from their socket."""
    mode = getattr(transport, "_sendfile_compatible", None)
    return getattr(mode, "name", None) == "TRY_NATIVE"


# --- remote objects --------------------------------------------------------------------------


async def _send_remote(
    request: web.Request,
    status: int,
    headers: dict[str, str],
    open_range: OpenRange,
    parts: _Parts,
    end_marker: bytes,
    on_bytes: Callable[[int], None] | None,
    run: _Run,
) -> web.StreamResponse:
    _, first_start, first_end = parts[0]
    opening = _Upstream(open_range, first_start, first_end)
    try:  # the first read opens the object: its errors raise before any header is sent
        head = await run(opening.read)
    except BaseException:
        await _close(run, opening)
        raise
    pending: _Upstream | None = opening

    async def send(resp: web.StreamResponse, start: int, end: int) -> None:
        nonlocal pending
        if pending is not None:  # the first part, already opened
            upstream, chunk, pending = pending, head, None
        else:
            upstream, chunk = _Upstream(open_range, start, end), None
        await _pump(run, resp, upstream, chunk, end - start + 1, on_bytes)

    try:
        return await _write_parts(request, status, headers, parts, end_marker, send)
    finally:
        if pending is not None:  # the client left before the first part
            await _close(run, pending)


async def _pump(
    run: _Run,
    resp: web.StreamResponse,
    upstream: _Upstream,
    chunk: bytes | bytearray | None,
    count: int,
    on_bytes: Callable[[int], None] | None,
) -> None:
    """Writes one range, reading the next chunk in a thread while the current one is sent."""
    sent = 0
    try:
        if chunk is None:
            chunk = await run(upstream.read)
        while chunk:
            if len(chunk) > count - sent:
                chunk = chunk[: count - sent]
            more = sent + len(chunk) < count
            ahead = run(upstream.read) if more else None
            try:
                await resp.write(chunk)
            except BaseException:
                if ahead is not None:
                    ahead.add_done_callback(_ignore_result)
                raise
            sent += len(chunk)
            if on_bytes is not None:
                on_bytes(len(chunk))
            chunk = await ahead if ahead is not None else b""
    finally:
        await _close(run, upstream)
    if sent < count:
        raise _Truncated(f"upstream ended {count - sent} bytes early")


def _ignore_result(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


async def _close(run: _Run, upstream: _Upstream) -> None:
    """Closes the upstream iterator in a thread (it may be mid-read or do network I/O)."""
    if upstream.exhausted:
        upstream.close()
        return
    closing = run(upstream.close)
    closing.add_done_callback(_ignore_result)
    with contextlib.suppress(Exception):
        await asyncio.shield(closing)


class _Upstream:
    """One open_range iterator, read in worker threads one chunk (≥ REMOTE_CHUNK_SIZE) at a time.

    A lock serialises reads and close(), so a close requested mid-read runs right after it.
    """

    def __init__(self, open_range: OpenRange, start: int, end: int) -> None:
        self._open = open_range
        self._start = start
        self._end = end
        self._it: Iterator[bytes] | None = None
        self._lock = threading.Lock()
        self._closed = False
        self.exhausted = False

    def read(self) -> bytes | bytearray:
        """The next chunk, small upstream chunks joined; b"" at the end or once closed."""
        with self._lock:
            if self._closed or self.exhausted:
                return b""
            if self._it is None:
                self._it = iter(self._open(self._start, self._end))
            buf: bytearray | None = None
            for piece in self._it:
                if buf is None:
                    if len(piece) >= REMOTE_CHUNK_SIZE:
                        return piece
                    buf = bytearray(piece)
                else:
                    buf += piece
                if len(buf) >= REMOTE_CHUNK_SIZE:
                    return buf
            self.exhausted = True
            return buf or b""

    def close(self) -> None:
        with self._lock:
            self._closed = True
            it, self._it = self._it, None
            close = getattr(it, "close", None)
            if close is not None:
                close()
