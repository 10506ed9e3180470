"""core/appender.py: an offset is reported durable only after an fsync that covers it; the
hash beside the writes matches the file; a failed write drops the hash and keeps the truth."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

import pytest

from core import appender
from core.appender import Appender

MiB = 1024 * 1024


def test_checkpoints_report_only_synced_bytes_and_the_hash_matches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "upload.part"
    head = os.urandom(3 * MiB + 5)
    path.write_bytes(head + b"never acknowledged")  # the caller cuts back to the offset
    os.truncate(path, len(head))
    events: list[tuple[str, int]] = []
    lock = threading.Lock()
    real_sync = os.fdatasync

    def noting_sync(fd: int) -> None:
        with lock:
            events.append(("synced", os.fstat(fd).st_size))  # every byte written so far
        real_sync(fd)

    def durable(n: int) -> None:
        with lock:
            events.append(("durable", n))

    monkeypatch.setattr(appender.os, "fdatasync", noting_sync)
    sha = hashlib.sha256(head)
    a = Appender(path, len(head), sha=sha, checkpoint=2 * MiB, on_durable=durable)
    body = os.urandom(21 * MiB + 7)
    view = memoryview(body)
    for start in range(0, len(body), 700_000):  # chunks that do not line up with anything
        piece = view[start : start + 700_000]
        a.write([bytes(piece[:300_000]), bytes(piece[300_000:])])
    a.finish()
    assert path.read_bytes() == head + body
    assert a.sha is not None
    assert a.sha.hexdigest() == hashlib.sha256(head + body).hexdigest()
    reported = [n for kind, n in events if kind == "durable"]
    # a checkpoint, then the end: the first one is due after 2 MiB and always starts; later
    # ones start only when the previous fdatasync is done, so how many depends on the load
    assert len(reported) >= 2 and reported == sorted(reported)
    assert reported[-1] == len(head) + len(body)
    synced = 0
    for kind, n in events:  # the final fsync is os.fsync: it covers the last report
        if kind == "synced":
            synced = n
        elif n != reported[-1]:
            assert n <= synced, events  # never more than the last fdatasync covered


def test_a_failed_write_keeps_the_bytes_written_and_drops_the_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "upload.part"
    path.touch()
    reported: list[int] = []
    a = Appender(path, 0, sha=hashlib.sha256(), checkpoint=64 * MiB, on_durable=reported.append)
    a.write([b"a" * MiB])
    real_writev = os.writev
    calls = {"n": 0}

    def half_then_full_disk(fd: int, buffers: list[memoryview]) -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            return real_writev(fd, [buffers[0][: len(buffers[0]) // 2]])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(appender.os, "writev", half_then_full_disk)
    with pytest.raises(OSError):
        a.write([b"b" * MiB, b"c" * MiB])
    monkeypatch.setattr(appender.os, "writev", real_writev)
    assert a.offset == MiB + MiB // 2 and a.sha is None  # the hash saw bytes the file did not
    a.finish()
    assert reported == [MiB + MiB // 2]
    assert path.stat().st_size == MiB + MiB // 2
