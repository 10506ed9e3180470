"""A file id is never handed out twice: what names a deleted file by id (a signed watch link,
a job, an audit entry) must never reach the next upload.

The outside report: hard-delete the newest private file, upload another, and the old file's
watch link opened the new private file without a token, since SQLite gave it the same id.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import create_engine, inspect, text

from core.db.migrate import downgrade, upgrade
from server.entry import EmbeddedServer
from tests import media
from tests.server_fixtures import Tokens, bearer, http_call, upload_file

INSERT = (
    "INSERT INTO media_files (storage_key, original_filename, name_sort, file_type, is_public, "
    "description, status, has_thumbnail, extra, created_at, updated_at, version) VALUES "
    "(:k, 'a.jpg', 'a.jpg', 'image', 0, '', 'ready', 0, '{}', '2024-01-01 00:00:00.000000', "
    "'2024-01-01 00:00:00.000000', 1)"
)
# the same at the head revision, with the fold search compares (0023; the app writes it)
INSERT_AT_HEAD = INSERT.replace("name_sort, ", "name_sort, search_name, ", 1).replace(
    "'a.jpg', 'a.jpg', ", "'a.jpg', 'a.jpg', 'a.jpg', ", 1
)


def test_a_deleted_files_watch_link_never_opens_the_next_upload(
    live: EmbeddedServer, tokens: Tokens, tmp_path: Path
) -> None:
    video = media.make_mp4(tmp_path / "a.mp4", seconds=1)
    first = int(upload_file(live, tokens.upload, video, kind="video", is_public="false")["id"])
    reply = http_call(
        f"{live.url}/files/{first}/presigned-url?kind=watch", headers=bearer(tokens.read)
    )
    assert reply.status == 200, reply.body
    grant = urlsplit(reply.json()["url"]).query
    raw = f"{live.url}/stream/{first}/raw?{grant}"
    assert http_call(raw).status == 200  # the link works while its file is there
    deleted = http_call(
        f"{live.url}/files/{first}?hard_delete=true", "DELETE", headers=bearer(tokens.admin)
    )
    assert deleted.status == 200, deleted.body

    picture = media.make_jpeg(tmp_path / "b.jpg")
    second = int(upload_file(live, tokens.upload, picture, is_public="false")["id"])
    assert second > first
    opened = http_call(raw)
    assert opened.status == 404, opened.status
    assert (
        hashlib.sha256(opened.body).hexdigest() != hashlib.sha256(picture.read_bytes()).hexdigest()
    )


def _schema(engine: object) -> set[str]:
    with engine.connect() as conn:  # type: ignore[attr-defined]
        rows = conn.execute(
            text(
                "SELECT type || ' ' || name FROM sqlite_master WHERE tbl_name = 'media_files' "
                "AND type IN ('index', 'trigger')"
            )
        )
        return {str(r[0]) for r in rows}


def test_migration_0016_starts_ids_past_every_id_still_named(tmp_path: Path) -> None:
    """An existing catalog: files 1-3, a job still naming deleted file 7 and an audit entry
    naming deleted file 9. After the upgrade the next file is 10, and the id of a deleted
    newest file is not given again; indexes, triggers and rows are kept, also by the
    downgrade (which only drops AUTOINCREMENT)."""
    engine = create_engine(f"sqlite:///{tmp_path / 'c.db'}")
    upgrade(engine, "0015")
    before = _schema(engine)
    with engine.begin() as conn:
        for key in ("k1", "k2", "k3"):
            conn.execute(text(INSERT), {"k": key})
        conn.execute(
            text(
                "INSERT INTO jobs (file_id, kind, state, run_after, created_at) VALUES "
                "(7, 'poster', 'done', '2024-01-01 00:00:00', '2024-01-01 00:00:00')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO audit_log (at, actor, action, file_id) VALUES "
                "('2024-01-01 00:00:00', 'x', 'delete', 9)"
            )
        )
    upgrade(engine)
    assert before <= _schema(engine)  # every index and trigger made again (later ones add)
    with engine.begin() as conn:
        new = conn.execute(text(INSERT_AT_HEAD + " RETURNING id"), {"k": "k4"}).scalar()
        assert new == 10
        conn.execute(text("DELETE FROM media_files WHERE id = 10"))
        again = conn.execute(text(INSERT_AT_HEAD + " RETURNING id"), {"k": "k5"}).scalar()
        assert again == 11
        hits = conn.execute(
            text("SELECT rowid FROM media_files_fts WHERE media_files_fts MATCH 'jpg'")
        ).fetchall()
        assert sorted(r[0] for r in hits) == [1, 2, 3, 11]  # the FTS triggers work on it
    downgrade(engine, "0015")
    assert _schema(engine) == before
    assert "media_files" in inspect(engine).get_table_names()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM media_files")).scalar() == 4
    engine.dispose()
