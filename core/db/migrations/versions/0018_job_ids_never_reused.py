"""job ids are never handed out again on SQLite (AUTOINCREMENT)

A SQLite rowid table without AUTOINCREMENT gives a new row the largest id + 1: once the newest
jobs go (a hard delete of their file, the maintenance purge) the next jobs get their ids, and a
Jobs-dock row, a script or a change-feed client holding an old id cancels or retries another
file's job. PostgreSQL's sequences never go back; SQLite needs AUTOINCREMENT, which only a
rebuild of the table can add (as migration 0016 did for media_files: a new table, the rows
copied with their ids, the old one dropped, the new one renamed, its indexes made again from
their stored SQL). Nothing references jobs by a foreign key. The copy is one INSERT … SELECT of
a table the purge keeps small.

Ids already given back before this migration cannot be told from the table alone, so the
sequence starts past every job id the change feed still names (a `processing` event
carries its job, which event-stream clients act on).
"""

from __future__ import annotations

import re

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def _rebuild(autoincrement: bool) -> None:
    bind = op.get_bind()
    table = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'jobs'"
    ).scalar_one()
    others = [
        sql
        for (sql,) in bind.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE tbl_name = 'jobs' "
            "AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY type, name"
        )
    ]
    new, count = re.subn(r'^CREATE TABLE "?jobs"? \(', "CREATE TABLE jobs_new (", table)
    if autoincrement:
        new, ids = re.subn(r"\bid INTEGER NOT NULL,", "id INTEGER PRIMARY KEY AUTOINCREMENT,", new)
        new, keys = re.subn(r",\s*PRIMARY KEY \(id\)", "", new)
    else:
        new, ids = re.subn(r"\bid INTEGER PRIMARY KEY AUTOINCREMENT,", "id INTEGER NOT NULL,", new)
        new, keys = re.subn(r"\s*\)\s*$", ", \n\tPRIMARY KEY (id)\n)", new)
    if (count, ids, keys) != (1, 1, 1):  # a table this migration was not written for
        raise RuntimeError(f"jobs is not as migration 0018 expects: {table}")
    op.execute(new)
    op.execute("INSERT INTO jobs_new SELECT * FROM jobs")
    op.execute("DROP TABLE jobs")  # its indexes go with it
    op.execute("ALTER TABLE jobs_new RENAME TO jobs")
    for sql in others:
        op.execute(sql)


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL's sequence never hands an id out twice
    _rebuild(autoincrement=True)
    op.execute("DELETE FROM sqlite_sequence WHERE name = 'jobs'")
    op.execute(
        "INSERT INTO sqlite_sequence (name, seq) SELECT 'jobs', coalesce(max(n), 0) FROM ("
        "SELECT max(id) AS n FROM jobs UNION ALL "
        "SELECT max(CAST(json_extract(data, '$.job.id') AS INTEGER)) AS n FROM change_log "
        "WHERE entity = 'event' AND kind = 'processing')"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild(autoincrement=False)
