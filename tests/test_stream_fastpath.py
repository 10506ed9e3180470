"""The stream request's fast path: what it no longer pays per request, and what it still checks.

- where a file's bytes are (a catalog query and a stat) is found once per record, not per
  range request, and found again after any change of the file;
- the X-Accel-Redirect key is cut from the path by a prefix test, never with "." or "..";
- a video's jobs come from the cache without a thread hop while they are fresh.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from core.library import Library
from server.entry import EmbeddedServer
from server.streaming import _key_under, _roots
from tests.server_fixtures import bearer, http_call, make_tokens


def test_accel_key_is_a_plain_key_under_the_objects_folder(tmp_path: Path) -> None:
    root = tmp_path / "objects"
    root.mkdir()
    roots = _roots(root)
    sep = os.sep
    assert _key_under(f"{root}{sep}ab{sep}cd.mp4", roots) == "ab/cd.mp4"
    assert _key_under(f"{root}{sep}..{sep}secret", roots) is None
    assert _key_under(f"{root}{sep}a{sep}.{sep}b", roots) is None
    assert _key_under(f"{root}{sep}a{sep}{sep}b", roots) is None
    assert _key_under(f"{root}x{sep}a.mp4", roots) is None  # a sibling folder, same prefix
    assert _key_under(str(tmp_path / "cache" / "a.webp"), roots) is None


def test_local_path_is_looked_up_once_per_record_version(
    live: EmbeddedServer, library: Library, media_dir: Any, monkeypatch: Any
) -> None:
    admin = make_tokens(library).admin
    record = library.uploads.ingest(media_dir.jpeg, "image")
    calls: list[int] = []
    real = Library.local_path

    def counting(self: Library, rec: Any) -> Path | None:
        calls.append(rec.id)
        return real(self, rec)

    monkeypatch.setattr(Library, "local_path", counting)
    url = f"{live.url}/stream/{record.id}/raw"
    body = media_dir.jpeg.read_bytes()
    for start in range(0, 5000, 1000):
        reply = http_call(url, headers={**bearer(admin), "Range": f"bytes={start}-{start + 99}"})
        assert reply.status == 206 and reply.body == body[start : start + 100]
    assert calls == [record.id]

    # renamed (a feed event): the next request looks again, and serves the same bytes
    library.update_file(record.id, {"original_filename": "renamed.jpg"})
    reply = http_call(url, headers=bearer(admin))
    assert reply.status == 200 and reply.body == body
    assert calls == [record.id, record.id]
