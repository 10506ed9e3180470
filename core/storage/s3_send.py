"""botocore's connections, timing the store's answer from when a request's body has left.

urllib3 hands a body to the socket and then gives the store `read` seconds to answer. The
socket takes its last bytes long before they reach the store: on a slow link the system's send
buffer (autotuned up to 4 MiB on Linux) still holds megabytes that drain at the link's speed.
At 300 KiB/s the tail of a 16 MiB part took 12 s to leave, the 10 s read timeout ran out while
bytes kept moving, and every part of a big file failed as "did not answer in time" (the store
then counted as silent for everyone). Here the wait for the answer first follows the bytes
still queued in the socket (Linux, macOS): as long as their count goes down, nothing is timed
out. A store that stops taking the body is found silent `read` seconds after its last byte
moved, and one that takes it all and never answers `read` seconds after that. Windows does not
tell what a socket still holds: there the answer is timed from the hand-over, as before.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from botocore.awsrequest import (
    AWSHTTPConnection,
    AWSHTTPConnectionPool,
    AWSHTTPSConnection,
    AWSHTTPSConnectionPool,
)
from urllib3.util.wait import wait_for_read

# getsockopt's SO_NWRITE on macOS (sys/socket.h): bytes in the send buffer, sent or not, that
# the peer has not acknowledged
_SO_NWRITE = 0x1024
# Linux's struct tcp_info: tcpi_state (first byte; 1: established) and tcpi_snd_wnd (5.4+: the
# receive window the peer last advertised, in bytes)
_ESTABLISHED, _WINDOW_AT = 1, 228
# seconds between two looks at the queue: short at first (a fast link drains in milliseconds)
_FIRST_LOOK, _LONGEST_LOOK = 0.002, 0.25
_PEEK = 4096  # bytes of a waiting answer looked at: past interim answers


# What a request made on this thread reports as its body leaves (reporting())
_here = threading.local()


@contextlib.contextmanager
def reporting(held: Callable[[int], None]) -> Iterator[None]:
    """While this thread's request runs, `held(n)` hears how many bytes handed to its socket
    the store's side has not acknowledged yet: after each block of the body, and while the
    answer waits for them to leave. Never heard where the system does not tell (Windows)."""
    _here.held = held
    try:
        yield
    finally:
        _here.held = None


def _tell(sending: _Sending | None) -> None:
    held = getattr(_here, "held", None)
    if held is not None and sending is not None:
        held(sending.unacknowledged)


@dataclass(frozen=True)
class _Sending:
    unacknowledged: int  # bytes written that the peer has not acknowledged yet
    # the room the peer's receive buffer has (Linux): it grows as the peer reads what it
    # acknowledged, None where the system does not tell
    window: int | None = None
    open: bool = True  # the connection is not closed or closing


def _sending(sock: socket.socket) -> _Sending | None:
    """What `sock` still carries; None where the system does not tell (Windows)."""
    try:
        if sys.platform == "linux":
            import fcntl
            import termios

            # TIOCOUTQ is SIOCOUTQ on a TCP socket: unsent plus unacknowledged bytes
            answer = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
            info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, _WINDOW_AT + 4)
            window = None
            if len(info) >= _WINDOW_AT + 4:
                window = int(struct.unpack_from("I", info, _WINDOW_AT)[0])
            unacknowledged = int(struct.unpack("i", answer)[0])
            return _Sending(unacknowledged, window, open=info[0] == _ESTABLISHED)
        if sys.platform == "darwin":
            return _Sending(int(sock.getsockopt(socket.SOL_SOCKET, _SO_NWRITE)))
    except (OSError, ValueError):  # closed meanwhile, or not a TCP socket
        return None
    return None


def wait_until_sent(sock: socket.socket, silence: float) -> None:
    """Returns once the peer took every byte written to `sock` and, where the system tells
    (Linux), read them (or once the store answered, or the system cannot tell); TimeoutError
    when none of that moves for `silence` seconds (a store that stopped reading, or read all
    and never answers).

    A peer that acknowledges bytes before it passes them on (a proxy on the way) holds them
    in its receive buffer: the room it advertises grows as it reads them (its window), which is
    followed once nothing waits here. It announces that room only while it at least doubles:
    what it reads after that is not seen, and the read timeout runs from the last news."""
    first = _sending(sock)
    _tell(first)
    if first is None or not first.unacknowledged:
        return
    answer = _Answer(sock)
    left, room = first.unacknowledged, -1
    moved = time.monotonic()
    look = _FIRST_LOOK
    while True:
        if answer.waiting(look):
            return  # the store answered (an error while the body went): read it
        look = min(look * 2, _LONGEST_LOOK)
        now = _sending(sock)
        _tell(now)
        if now is None or not now.open:
            return  # the read that follows says what
        if not now.unacknowledged and now.window is None:
            return  # all taken, and how the peer reads them is not told: the answer is timed
        if now.unacknowledged < left or (not now.unacknowledged and (now.window or 0) > room):
            moved = time.monotonic()
        elif time.monotonic() - moved >= silence:
            what = f"took none of the last {left} bytes" if left else "did not answer"
            raise TimeoutError(f"the store {what} for {silence:g} s")
        left = now.unacknowledged
        room = max(room, now.window or 0) if not left else -1


class _Answer:
    """Whether the store's answer has begun to arrive on a socket."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._tls = isinstance(sock, ssl.SSLSocket)
        # a TLS socket is readable for records that are no answer (a TLS 1.3 session ticket
        # not yet read): only bytes that arrive after these are
        self._before = self._arrived() if self._tls else 0

    def _arrived(self) -> int:
        import fcntl
        import termios

        try:
            answer = fcntl.ioctl(self._sock.fileno(), termios.FIONREAD, b"\0\0\0\0")
        except OSError:
            return 0
        return int(struct.unpack("i", answer)[0])

    def waiting(self, seconds: float) -> bool:
        """Waits up to `seconds` for an answer; whether one (or the end of the connection)
        waits to be read. A `100 Continue` that came after botocore stopped waiting for it is
        no answer."""
        if self._tls:
            if self._before:  # readable all along: looked at after a while
                time.sleep(seconds)
            else:
                wait_for_read(self._sock, seconds)
            return self._arrived() > self._before
        if not wait_for_read(self._sock, seconds):
            return False
        try:
            head = self._sock.recv(_PEEK, socket.MSG_PEEK)
        except OSError:
            return True  # the read that follows says what
        if not head:
            return True  # closed
        if _final_answer(head):
            return True
        time.sleep(seconds)  # readable all along: wait as if it were not
        return False


def _final_answer(head: bytes) -> bool:
    """Whether `head` (the first bytes waiting) holds more than interim answers: "HTTP/1.1
    100 Continue" (and its empty headers) that came after botocore stopped waiting for it."""
    while head[9:10] == b"1" and head.startswith(b"HTTP/"):
        end = head.find(b"\r\n\r\n")
        if end < 0:
            return False  # the rest of it is on its way
        head = head[end + 4 :]
    return bool(head)


class _DrainFirst:
    """getresponse waits for the body to leave first (wait_until_sent), under `timeout`: the
    read timeout urllib3 set for this request; what leaves is told (reporting())."""

    sock: Any
    timeout: Any

    def send(self, data: Any) -> None:
        super().send(data)  # type: ignore[misc]
        if getattr(_here, "held", None) is not None and isinstance(self.sock, socket.socket):
            _tell(_sending(self.sock))

    def getresponse(self) -> Any:
        silence, sock = self.timeout, self.sock
        # a socket of the system's (TLS too), not urllib3's TLS within TLS to an https proxy
        if isinstance(sock, socket.socket) and isinstance(silence, int | float) and silence > 0:
            wait_until_sent(sock, float(silence))
        return super().getresponse()  # type: ignore[misc]


# (the stubs find botocore's own AWSConnection mix-in at odds with urllib3's connection)
class _HTTPConnection(_DrainFirst, AWSHTTPConnection):  # type: ignore[misc]
    pass


class _HTTPSConnection(_DrainFirst, AWSHTTPSConnection):  # type: ignore[misc]
    pass


class _HTTPPool(AWSHTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(AWSHTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


def time_answers_after_sending(client: Any) -> None:
    """Makes a new boto3 client's connections (direct or through a proxy) wait for a body to
    leave before they time the store's answer. Must run before its first request: its pools are
    made then."""
    # botocore's URLLib3Session shares this dict with its pool manager and its proxy managers
    pools: dict[str, type] = client._endpoint.http_session._pool_classes_by_scheme
    pools.update(http=_HTTPPool, https=_HTTPSPool)
