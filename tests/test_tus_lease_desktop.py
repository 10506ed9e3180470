"""The desktop's own uploads (send_file, owner DESKTOP_OWNER) hold a tus lease too: renewed by
the process while the upload is being sent, however slowly, so another process sharing the
catalog (a `mediadesk serve` beside the app) is refused all along, many leases long."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from core.errors import UploadLocked
from core.library import Library
from tests.conftest import make_settings
from tests.resumable_client import MiB, padded_mp4

LEASE = 5  # seconds: the shortest the settings allow


def test_a_slow_desktop_upload_keeps_its_lease(data_dir: Path, tmp_path: Path) -> None:
    lib = Library.open(make_settings(data_dir, tus_lease_seconds=LEASE))
    other = Library.open(lib.settings)  # another process of the same catalog
    try:
        source = padded_mp4(tmp_path / "match.mp4", 3 * MiB)
        ids: list[str] = []
        refused: list[bool] = []

        def progress(stage: str, done: int, total: int) -> None:
            if done < MiB or refused:
                return
            # a slow link: the upload stays at this point well past a lease (unrenewed, it
            # runs out at the first)
            until = time.monotonic() + 1.6 * LEASE
            while time.monotonic() < until:
                try:
                    taken = other.resumable.writer(ids[0], None)
                except UploadLocked:
                    refused.append(True)
                else:
                    taken.abort()
                    refused.append(False)
                time.sleep(0.25)

        record = lib.resumable.send_file(source, "video", progress=progress, on_created=ids.append)
        assert refused and all(refused), refused
        stored = lib.read_object(record.storage_key)
        assert hashlib.sha256(stored).digest() == hashlib.sha256(source.read_bytes()).digest()
    finally:
        other.close()
        lib.close()
