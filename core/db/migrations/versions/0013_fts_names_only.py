"""the FTS5 index holds file names and descriptions only (issue 13: search at a million files)

0007 indexed each file's athlete name too. Every file of an athlete repeats that name, so its
trigrams had doclists as long as the catalog: a phrase like "athlete" read 600,000 entries
(half a second) even when asked about names and descriptions only. The catalog now matches
athletes by name in their own table and pages their files through the (athlete, sort key)
indexes (migration 0011), so the index drops the column and the triggers that kept it.
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

DROP = [
    "DROP TRIGGER IF EXISTS athletes_fts_upd",
    "DROP TRIGGER IF EXISTS media_files_fts_upd",
    "DROP TRIGGER IF EXISTS media_files_fts_del",
    "DROP TRIGGER IF EXISTS media_files_fts_ins",
    "DROP TABLE IF EXISTS media_files_fts",
]
NAMES_ONLY = [
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
# 0007's form, for the downgrade
WITH_ATHLETES = [
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


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in DROP + NAMES_ONLY:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in DROP + WITH_ATHLETES:
            op.execute(statement)
