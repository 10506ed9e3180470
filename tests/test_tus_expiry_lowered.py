"""MEDIADESK_TUS_EXPIRY lowered: uploads recorded under the longer setting expire by the new
one too (their last write plus the setting now, if earlier than what was recorded). Before,
an idle upload's expiry stayed the one recorded at its last PATCH: its .part was kept, and
HEAD answered 200 with that far Upload-Expires, until the old setting's end. The desktop's
uploads keep their own, longer life (DESKTOP_EXPIRY)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

from PIL import Image

from core.db.models import ResumableUpload
from core.library import Library
from core.maintenance import run_maintenance
from core.resumable import DESKTOP_EXPIRY, DESKTOP_OWNER
from server.entry import EmbeddedServer
from tests.conftest import make_settings
from tests.internals import db_of
from tests.resumable_client import create, head, patch
from tests.server_fixtures import make_tokens, server_config

LONG = 7 * 24 * 3600
SHORT = 3600
IDLE = timedelta(hours=2)  # past SHORT, far within LONG


def _png() -> bytes:
    out = io.BytesIO()
    Image.effect_noise((300, 300), 60).convert("RGB").save(out, "PNG")
    return out.getvalue()


def _aged(lib: Library, upload_id: str, by: timedelta) -> None:
    """The upload as if its last write was `by` ago: every time it records moved back."""
    with db_of(lib).write() as s:
        row = s.get(ResumableUpload, upload_id)
        assert row is not None
        row.created_at -= by
        row.updated_at -= by  # set, so not the write's own time (onupdate)
        row.expires_at -= by


def _expires(headers: dict[str, str]) -> datetime:
    return parsedate_to_datetime(headers["Upload-Expires"])


def test_uploads_recorded_under_a_longer_expiry_expire_by_the_lowered_one(tmp_path: Path) -> None:
    data = _png()
    half = len(data) // 2
    first = Library.open(make_settings(tmp_path, tus_expiry=LONG))
    try:
        token = make_tokens(first).upload
        with EmbeddedServer(first, config=server_config(first)) as server:
            urls = {
                name: server.url + create(server.url, token, len(data)).headers["Location"]
                for name in ("idle", "recent")
            }
            for url in urls.values():
                written = patch(url, token, 0, data[:half])
                assert written.status == 204, written.body
                # recorded under the long setting
                assert _expires(written.headers) > datetime.now(UTC) + timedelta(days=6)
        idle = urls["idle"].rsplit("/", 1)[1]
        _aged(first, idle, IDLE)
        desktop = first.resumable.create(
            len(data), {"filename": "d.png"}, owner=DESKTOP_OWNER, expires_in=DESKTOP_EXPIRY
        ).id
        _aged(first, desktop, IDLE)
    finally:
        first.close()
    held = list(tmp_path.rglob(f"{idle}.part"))
    assert len(held) == 1, held
    part = held[0]

    lib = Library.open(make_settings(tmp_path, tus_expiry=SHORT))
    try:
        with EmbeddedServer(lib, config=server_config(lib)) as server:
            urls = {name: server.url + "/" + url.split("/", 3)[3] for name, url in urls.items()}
            # the idle one's last write was 2 h ago: past the hour it has now
            assert head(urls["idle"], token).status == 410
            recent = head(urls["recent"], token)
            assert recent.status == 200 and recent.headers["Upload-Offset"] == str(half)
            assert _expires(recent.headers) < datetime.now(UTC) + timedelta(seconds=SHORT + 60)

            report = run_maintenance(lib, only=frozenset({"expire_uploads"}))
            assert report.expired_uploads == [idle], report
            assert not part.exists()
            assert head(urls["idle"], token).status == 404
            # the desktop's upload keeps DESKTOP_EXPIRY; the recent one goes on
            left = lib.resumable.get(desktop)
            assert left.expires_at > datetime.now(UTC) + timedelta(days=6)
            done = patch(urls["recent"], token, half, data[half:])
            assert done.status == 204, done.body
            assert "MediaDesk-File-Id" in done.headers
    finally:
        lib.close()
