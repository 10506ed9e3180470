"""natural sort key for file names (issue 7: game_2 < game_5 < game_10)"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.natsort import NAME_SORT_MAX, name_sort_key

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BATCH = 1000  # rows read and rewritten per round of the backfill


def upgrade() -> None:
    bind = op.get_bind()
    # Byte order on PostgreSQL: the database's locale collation would skip punctuation and
    # disagree with Python's order of the same keys (SQLite compares bytes already).
    column_type = (
        sa.String(NAME_SORT_MAX, collation="C")
        if bind.dialect.name == "postgresql"
        else sa.String(NAME_SORT_MAX)
    )
    # NOT NULL with a constant default: SQLite adds it without rebuilding the table.
    op.add_column(
        "media_files",
        sa.Column("name_sort", column_type, nullable=False, server_default=""),
    )
    # The key is computed in Python (core.natsort), the one home of the rule: in batches by id
    # so a large catalog never sits in memory at once.
    media = sa.table(
        "media_files",
        sa.column("id", sa.Integer()),
        sa.column("original_filename", sa.String()),
        sa.column("name_sort", sa.String()),
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(media.c.id, media.c.original_filename)
            .where(media.c.id > last)
            .order_by(media.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        bind.execute(
            media.update()
            .where(media.c.id == sa.bindparam("row_id"))
            .values(name_sort=sa.bindparam("key")),
            [{"row_id": i, "key": name_sort_key(name or "")} for i, name in rows],
        )
        last = rows[-1][0]
    # like the other sort keys' indexes (0007): the listing filters, then the key and the id
    op.create_index(
        "ix_media_files_by_name_sort", "media_files", ["deleted_at", "status", "name_sort", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_media_files_by_name_sort", table_name="media_files")
    # a plain DROP COLUMN (SQLite 3.35+): a batch rebuild would trip over 0007's FTS triggers
    op.drop_column("media_files", "name_sort")
