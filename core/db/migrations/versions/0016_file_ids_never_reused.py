"""file ids are never handed out again on SQLite (AUTOINCREMENT)

A SQLite rowid table without AUTOINCREMENT gives a new row the largest id + 1: hard-delete the
newest file and the next upload gets its id. Everything that names a file by id then points
at another file: a signed watch link (an HMAC over the id and the expiry) opened the next
private upload without a token, and jobs, audit entries, change-feed entries, aliases and
links people keep followed it too. PostgreSQL's sequences never go back; SQLite needs
AUTOINCREMENT, which only a rebuild of the table can add (SQLite's own procedure: a new table,
the rows copied with their ids, the old one dropped, the new one renamed, its indexes and
triggers made again from their stored SQL). Nothing references media_files by a foreign key.

Ids already given back before this migration cannot be told from the table alone, so the
sequence starts past every file id any other table still names (jobs, audit log, change
feed, resumable uploads, aliases).
"""

from __future__ import annotations

import re

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# the file ids in use, and the tables naming files by id (the column that does)
REFERENCES = (
    ("media_files", "id"),
    ("jobs", "file_id"),
    ("audit_log", "file_id"),
    ("change_log", "file_id"),
    ("resumable_uploads", "file_id"),
    ("media_files", "alias_of"),
)


def _rebuild(autoincrement: bool) -> None:
    bind = op.get_bind()
    table = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'media_files'"
    ).scalar_one()
    others = [
        sql
        for (sql,) in bind.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'media_files' "
            "AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY type, name"
        )
    ]
    new, count = re.subn(
        r'^CREATE TABLE "?media_files"? \(', "CREATE TABLE media_files_new (", table
    )
    if autoincrement:
        new, ids = re.subn(r"\bid INTEGER NOT NULL,", "id INTEGER PRIMARY KEY AUTOINCREMENT,", new)
        new, keys = re.subn(r"\s*PRIMARY KEY \(id\),", "", new)
    else:
        new, ids = re.subn(r"\bid INTEGER PRIMARY KEY AUTOINCREMENT,", "id INTEGER NOT NULL,", new)
        new, keys = re.subn(r"(,\s*)(FOREIGN KEY)", r"\1PRIMARY KEY (id), \2", new, count=1)
    if (count, ids, keys) != (1, 1, 1):  # a table this migration was not written for
        raise RuntimeError(f"media_files is not as migration 0016 expects: {table}")
    op.execute(new)
    op.execute("INSERT INTO media_files_new SELECT * FROM media_files")
    op.execute("DROP TABLE media_files")  # its indexes and triggers go with it, none fire
    op.execute("ALTER TABLE media_files_new RENAME TO media_files")
    for sql in others:
        op.execute(sql)


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL's sequence never hands an id out twice
    _rebuild(autoincrement=True)
    highest = " UNION ALL ".join(f"SELECT max({col}) AS n FROM {tab}" for tab, col in REFERENCES)
    op.execute("DELETE FROM sqlite_sequence WHERE name = 'media_files'")
    op.execute(
        "INSERT INTO sqlite_sequence (name, seq) "
        f"SELECT 'media_files', coalesce(max(n), 0) FROM ({highest})"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild(autoincrement=False)
