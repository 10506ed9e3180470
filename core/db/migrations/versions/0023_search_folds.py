"""search ignores accents: folded copies of names and descriptions, indexed for search

Search compared text in any case but with its accents, so "jose" did not find "José". Each
file's name and description and each athlete's name now has its fold stored beside it
(core.text.folded: accents dropped, case folded), written by the app on every write (ORM
events, core/db/models.py). SQLite's FTS5 trigram table indexes the folds instead of the
texts (its triggers copy columns and call no function of the app's: a catalog written by the
sqlite3 shell or a backup tool keeps working); PostgreSQL's pg_trgm GIN indexes move to the
folds too. The originals stay as they are: lists show them, only searches compare folds.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.db.folds import write_folds

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

FTS_DROP = [
    "DROP TRIGGER IF EXISTS media_files_fts_upd",
    "DROP TRIGGER IF EXISTS media_files_fts_del",
    "DROP TRIGGER IF EXISTS media_files_fts_ins",
    "DROP TABLE IF EXISTS media_files_fts",
]
FTS_FOLDED = [
    "CREATE VIRTUAL TABLE media_files_fts USING fts5("
    "search_name, search_description, tokenize='trigram')",
    "INSERT INTO media_files_fts(rowid, search_name, search_description) "
    "SELECT id, search_name, search_description FROM media_files",
    "CREATE TRIGGER media_files_fts_ins AFTER INSERT ON media_files BEGIN "
    "INSERT INTO media_files_fts(rowid, search_name, search_description) "
    "VALUES (new.id, new.search_name, new.search_description); END",
    "CREATE TRIGGER media_files_fts_del AFTER DELETE ON media_files BEGIN "
    "DELETE FROM media_files_fts WHERE rowid = old.id; END",
    "CREATE TRIGGER media_files_fts_upd AFTER UPDATE OF search_name, search_description "
    "ON media_files BEGIN "
    "UPDATE media_files_fts SET search_name = new.search_name, "
    "search_description = new.search_description WHERE rowid = new.id; END",
]
# 0013's form, for the downgrade
FTS_ORIGINALS = [
    "CREATE VIRTUAL TABLE media_files_fts USING fts5("
    "original_filename, description, tokenize='trigram')",
    "INSERT INTO media_files_fts(rowid, original_filename, description) "
    "SELECT id, original_filename, coalesce(description, '') FROM media_files",
    "CREATE TRIGGER media_files_fts_ins AFTER INSERT ON media_files BEGIN "
    "INSERT INTO media_files_fts(rowid, original_filename, description) "
    "VALUES (new.id, new.original_filename, coalesce(new.description, '')); END",
    "CREATE TRIGGER media_files_fts_del AFTER DELETE ON media_files BEGIN "
    "DELETE FROM media_files_fts WHERE rowid = old.id; END",
    "CREATE TRIGGER media_files_fts_upd AFTER UPDATE OF original_filename, description "
    "ON media_files BEGIN "
    "UPDATE media_files_fts SET original_filename = new.original_filename, "
    "description = coalesce(new.description, '') WHERE rowid = new.id; END",
]
PG_TRGM_DROP = [
    "DROP INDEX IF EXISTS ix_athletes_trgm_name",
    "DROP INDEX IF EXISTS ix_media_files_trgm_description",
    "DROP INDEX IF EXISTS ix_media_files_trgm_name",
]
PG_TRGM_FOLDED = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS ix_media_files_trgm_search_name ON media_files "
    "USING gin (search_name gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS ix_media_files_trgm_search_description ON media_files "
    "USING gin (search_description gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS ix_athletes_trgm_search_name ON athletes "
    "USING gin (search_name gin_trgm_ops)",
]
PG_TRGM_FOLDED_DROP = [
    "DROP INDEX IF EXISTS ix_athletes_trgm_search_name",
    "DROP INDEX IF EXISTS ix_media_files_trgm_search_description",
    "DROP INDEX IF EXISTS ix_media_files_trgm_search_name",
]
# 0007's, for the downgrade
PG_TRGM_ORIGINALS = [
    "CREATE INDEX IF NOT EXISTS ix_media_files_trgm_name ON media_files "
    "USING gin (original_filename gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS ix_media_files_trgm_description ON media_files "
    "USING gin (description gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS ix_athletes_trgm_name ON athletes USING gin (name gin_trgm_ops)",
]


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    # the old index goes first: filling the folds then updates no index row by row
    for statement in FTS_DROP if sqlite else PG_TRGM_DROP:
        op.execute(statement)
    for table, column in (
        ("media_files", "search_name"),
        ("media_files", "search_description"),
        ("athletes", "search_name"),
    ):
        # safe to run again on a catalog stamped back (as 0021 and 0022 are): each step
        # looks first or replaces what it makes
        if column in {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}:
            continue
        # NOT NULL with a default: SQLite adds it without rebuilding the table (and its triggers)
        op.add_column(table, sa.Column(column, sa.Text(), nullable=False, server_default=""))
    # the rule is core.text.folded's, its one home (as 0022 takes core.natsort's)
    write_folds(
        "media_files", {"search_name": "original_filename", "search_description": "description"}
    )
    write_folds("athletes", {"search_name": "name"})
    for statement in FTS_FOLDED if sqlite else PG_TRGM_FOLDED:
        op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in FTS_DROP if sqlite else PG_TRGM_FOLDED_DROP:
        op.execute(statement)
    # plain ALTER TABLE (SQLite 3.35+): a batch operation would rebuild media_files without
    # the triggers that keep file_counts and catalog_order
    for table, column in (
        ("athletes", "search_name"),
        ("media_files", "search_description"),
        ("media_files", "search_name"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    for statement in FTS_ORIGINALS if sqlite else PG_TRGM_ORIGINALS:
        op.execute(statement)
