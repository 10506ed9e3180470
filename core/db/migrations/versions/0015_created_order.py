"""whether files' dates follow their ids (issue 13: searches newest first at a million files)

A search sorted by date reads its FTS matches and sorts them, or walks the date index testing
each row: a term whose matches sit far down that index (a season's files) cost ~20 ms either
way at a million files. When every file's `created_at` is at least that of every file with a
smaller id, the date order is the id order, and the FTS index hands the matches in that order
at once (`ORDER BY rowid`). Files are inserted with the time of their insert, so this is the
rule; a file given an older date, or an older id, breaks it for good, and the catalog then
sorts as before. SQLite keeps the flag in `catalog_order` with triggers that look at the new
row's two neighbours by id (two seeks); PostgreSQL has no FTS index and never reads it.

Also drops `ix_media_files_by_original_filename`: names sort by `name_sort` since 0008, and
no query walks it (one index less to write per insert).
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# the new row's date against its neighbours' by id (the row itself excluded by the strict <, >)
OUT_OF_ORDER = (
    "new.created_at < (SELECT created_at FROM media_files WHERE id < new.id "
    "ORDER BY id DESC LIMIT 1) OR new.created_at > (SELECT created_at FROM media_files "
    "WHERE id > new.id ORDER BY id LIMIT 1)"
)
BREAK = "UPDATE catalog_order SET created_follows_id = 0"
SQLITE = [
    "CREATE TABLE catalog_order (created_follows_id BOOLEAN NOT NULL)",
    # consecutive rows by id in order: the whole catalog is
    "INSERT INTO catalog_order (created_follows_id) SELECT NOT EXISTS (SELECT 1 FROM "
    "(SELECT created_at, lag(created_at) OVER (ORDER BY id) AS prev FROM media_files) "
    "WHERE created_at < prev)",
    f"CREATE TRIGGER catalog_order_ins AFTER INSERT ON media_files WHEN {OUT_OF_ORDER} "
    f"BEGIN {BREAK}; END",
    f"CREATE TRIGGER catalog_order_upd AFTER UPDATE OF id, created_at ON media_files "
    f"WHEN {OUT_OF_ORDER} BEGIN {BREAK}; END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS catalog_order_upd",
    "DROP TRIGGER IF EXISTS catalog_order_ins",
    "DROP TABLE IF EXISTS catalog_order",
]
NAME_INDEX = "ix_media_files_by_original_filename"


def upgrade() -> None:
    op.drop_index(NAME_INDEX, "media_files")
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_DROP:
            op.execute(statement)
    op.create_index(NAME_INDEX, "media_files", ["deleted_at", "status", "original_filename", "id"])
