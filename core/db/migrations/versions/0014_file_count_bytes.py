"""file counts keep bytes too (issue 13: /usage at a million files)

The /usage report summed sizes over every row, grouped five ways: seconds of a core per
request at a million files, and again at every periodic store scan. `file_counts` (0012) now
keeps the bytes beside the number of rows, in the same triggers, so the report is a few SUMs
over a few hundred rows; `size` joins the watched columns (a confirmed upload learns its size).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

DIMENSIONS = "athlete_id, file_type, content_type, is_public, status, trashed, alias"


def _values(row: str) -> str:
    return (
        f"coalesce({row}.athlete_id, 0), {row}.file_type, coalesce({row}.content_type, ''), "
        f"{row}.is_public, {row}.status, {row}.deleted_at IS NOT NULL, {row}.alias_of IS NOT NULL"
    )


def _match(row: str) -> str:
    return (
        f"athlete_id = coalesce({row}.athlete_id, 0) AND file_type = {row}.file_type "
        f"AND content_type = coalesce({row}.content_type, '') AND is_public = {row}.is_public "
        f"AND status = {row}.status AND trashed = ({row}.deleted_at IS NOT NULL) "
        f"AND alias = ({row}.alias_of IS NOT NULL)"
    )


def _add(row: str) -> str:
    return (
        f"INSERT INTO file_counts ({DIMENSIONS}, n, bytes) "
        f"VALUES ({_values(row)}, 1, coalesce({row}.size, 0)) "
        f"ON CONFLICT ({DIMENSIONS}) DO UPDATE SET n = file_counts.n + 1, "
        f"bytes = file_counts.bytes + coalesce({row}.size, 0)"
    )


def _remove(row: str) -> str:
    return (
        f"UPDATE file_counts SET n = n - 1, bytes = bytes - coalesce({row}.size, 0) "
        f"WHERE {_match(row)}"
    )


WATCHED_BEFORE = "athlete_id, file_type, content_type, is_public, status, deleted_at, alias_of"
WATCHED = WATCHED_BEFORE + ", size"


def _sqlite(watched: str, add: str, remove: str) -> list[str]:
    return [
        f"CREATE TRIGGER file_counts_ins AFTER INSERT ON media_files BEGIN {add}; END",
        f"CREATE TRIGGER file_counts_del AFTER DELETE ON media_files BEGIN {remove}; END",
        f"CREATE TRIGGER file_counts_upd AFTER UPDATE OF {watched} ON media_files BEGIN "
        f"{remove}; {add}; END",
    ]


SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS file_counts_upd",
    "DROP TRIGGER IF EXISTS file_counts_del",
    "DROP TRIGGER IF EXISTS file_counts_ins",
]


def _postgres(watched: str, add: str, remove: str) -> list[str]:
    return [
        "CREATE OR REPLACE FUNCTION mediadesk_file_counts() RETURNS trigger AS $$ BEGIN "
        "IF TG_OP = 'TRUNCATE' THEN DELETE FROM file_counts; RETURN NULL; END IF; "
        f"IF TG_OP IN ('UPDATE', 'DELETE') THEN {remove}; END IF; "
        f"IF TG_OP IN ('UPDATE', 'INSERT') THEN {add}; END IF; "
        "RETURN NULL; END $$ LANGUAGE plpgsql",
        "DROP TRIGGER IF EXISTS file_counts_row ON media_files",
        "CREATE TRIGGER file_counts_row AFTER INSERT OR DELETE OR UPDATE OF "
        f"{watched} ON media_files FOR EACH ROW EXECUTE FUNCTION mediadesk_file_counts()",
    ]


def _old_add(row: str) -> str:  # 0012's
    return (
        f"INSERT INTO file_counts ({DIMENSIONS}, n) VALUES ({_values(row)}, 1) "
        f"ON CONFLICT ({DIMENSIONS}) DO UPDATE SET n = file_counts.n + 1"
    )


def _old_remove(row: str) -> str:
    return f"UPDATE file_counts SET n = n - 1 WHERE {_match(row)}"


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for statement in SQLITE_DROP:
            op.execute(statement)
    else:  # no row changes between the recount and the new trigger
        op.execute("LOCK TABLE media_files IN SHARE ROW EXCLUSIVE MODE")
    op.add_column(
        "file_counts", sa.Column("bytes", sa.BigInteger(), nullable=False, server_default="0")
    )
    # recount from the rows, in this transaction: the old triggers are gone (SQLite) or the
    # table is locked (PostgreSQL) until the new ones are in place
    op.execute("DELETE FROM file_counts")
    op.execute(
        f"INSERT INTO file_counts ({DIMENSIONS}, n, bytes) "
        f"SELECT {_values('m')}, count(*), coalesce(sum(m.size), 0) "
        f"FROM media_files m GROUP BY {_values('m')}"
    )
    if sqlite:
        statements = _sqlite(WATCHED, _add("new"), _remove("old"))
    else:
        statements = _postgres(WATCHED, _add("NEW"), _remove("OLD"))
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for statement in SQLITE_DROP:
            op.execute(statement)
        statements = _sqlite(WATCHED_BEFORE, _old_add("new"), _old_remove("old"))
    else:
        statements = _postgres(WATCHED_BEFORE, _old_add("NEW"), _old_remove("OLD"))
    for statement in statements:
        op.execute(statement)
    op.drop_column("file_counts", "bytes")
