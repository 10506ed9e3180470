"""usage history, id aliases, search indexes (issue 13)"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

SORT_KEYS = ("created_at", "original_filename", "size", "duration", "updated_at")

# SQLite: an FTS5 table with the trigram tokenizer (substring search, any case) over the file
# name, the description and the athlete's name, kept by triggers; its rowid is the file's id.
SQLITE_FTS = [
    "CREATE VIRTUAL TABLE media_files_fts USING fts5("
    "original_filename, description, athlete_name, tokenize='trigram')",
    "INSERT INTO media_files_fts(rowid, original_filename, description, athlete_name) "
    "SELECT m.id, m.original_filename, coalesce(m.description, ''), coalesce(a.name, '') "
    "FROM media_files m LEFT JOIN athletes a ON a.id = m.athlete_id",
    "CREATE TRIGGER media_files_fts_ins AFTER INSERT ON media_files BEGIN "
    "INSERT INTO media_files_fts(rowid, original_filename, description, athlete_name) "
    "VALUES (new.id, new.original_filename, coalesce(new.description, ''), "
    "coalesce((SELECT name FROM athletes WHERE id = new.athlete_id), '')); END",
    "CREATE TRIGGER media_files_fts_del AFTER DELETE ON media_files BEGIN "
    "DELETE FROM media_files_fts WHERE rowid = old.id; END",
    "CREATE TRIGGER media_files_fts_upd AFTER UPDATE OF original_filename, description, "
    "athlete_id ON media_files BEGIN "
    "UPDATE media_files_fts SET original_filename = new.original_filename, "
    "description = coalesce(new.description, ''), "
    "athlete_name = coalesce((SELECT name FROM athletes WHERE id = new.athlete_id), '') "
    "WHERE rowid = new.id; END",
    "CREATE TRIGGER athletes_fts_upd AFTER UPDATE OF name ON athletes BEGIN "
    "UPDATE media_files_fts SET athlete_name = new.name "
    "WHERE rowid IN (SELECT id FROM media_files WHERE athlete_id = new.id); END",
]
SQLITE_FTS_DROP = [
    "DROP TRIGGER IF EXISTS athletes_fts_upd",
    "DROP TRIGGER IF EXISTS media_files_fts_upd",
    "DROP TRIGGER IF EXISTS media_files_fts_del",
    "DROP TRIGGER IF EXISTS media_files_fts_ins",
    "DROP TABLE IF EXISTS media_files_fts",
]
# PostgreSQL: pg_trgm GIN indexes make ILIKE '%text%' an index search.
PG_TRGM = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS ix_media_files_trgm_name ON media_files "
    "USING gin (original_filename gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS ix_media_files_trgm_description ON media_files "
    "USING gin (description gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS ix_athletes_trgm_name ON athletes USING gin (name gin_trgm_ops)",
]
PG_TRGM_DROP = [
    "DROP INDEX IF EXISTS ix_athletes_trgm_name",
    "DROP INDEX IF EXISTS ix_media_files_trgm_description",
    "DROP INDEX IF EXISTS ix_media_files_trgm_name",
]


def upgrade() -> None:
    # A plain nullable column: SQLite adds it without rebuilding the table.
    op.add_column("media_files", sa.Column("alias_of", sa.Integer(), nullable=True))
    op.create_index("ix_media_files_alias_of", "media_files", ["alias_of"])
    for key in SORT_KEYS:
        op.create_index(
            f"ix_media_files_by_{key}", "media_files", ["deleted_at", "status", key, "id"]
        )
    op.create_table(
        "usage_history",
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("files", sa.BigInteger(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("image_bytes", sa.BigInteger(), nullable=False),
        sa.Column("video_bytes", sa.BigInteger(), nullable=False),
        sa.Column("store_objects", sa.BigInteger(), nullable=True),
        sa.Column("store_bytes", sa.BigInteger(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )
    bind = op.get_bind()
    # Duplicates confirmed before 0007 were failed rows naming the file: make them aliases.
    media = sa.table(
        "media_files",
        sa.column("id", sa.Integer()),
        sa.column("status", sa.String()),
        sa.column("failure_reason", sa.Text()),
        sa.column("alias_of", sa.Integer()),
    )
    rows = bind.execute(
        sa.select(media.c.id, media.c.failure_reason).where(
            media.c.status == "failed", media.c.failure_reason.like("Duplicate of file %")
        )
    ).all()
    for file_id, reason in rows:
        target = reason.rsplit(" ", 1)[-1]
        if target.isdigit():
            bind.execute(
                media.update()
                .where(media.c.id == file_id)
                .values(status="alias", alias_of=int(target), failure_reason=None)
            )
    if bind.dialect.name == "sqlite":
        for statement in SQLITE_FTS:
            op.execute(statement)
    elif bind.dialect.name == "postgresql":
        for statement in PG_TRGM:
            op.execute(statement)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in SQLITE_FTS_DROP:
            op.execute(statement)
    elif bind.dialect.name == "postgresql":
        for statement in PG_TRGM_DROP:
            op.execute(statement)
    op.drop_table("usage_history")
    for key in SORT_KEYS:
        op.drop_index(f"ix_media_files_by_{key}", table_name="media_files")
    op.drop_index("ix_media_files_alias_of", table_name="media_files")
    media = sa.table(
        "media_files",
        sa.column("status", sa.String()),
        sa.column("failure_reason", sa.Text()),
        sa.column("alias_of", sa.Integer()),
    )
    op.execute(
        media.update()
        .where(media.c.status == "alias")
        .values(
            status="failed",
            failure_reason="Duplicate of file " + sa.cast(media.c.alias_of, sa.String()),
        )
    )
    with op.batch_alter_table("media_files") as batch:
        batch.drop_column("alias_of")
