"""file counts kept by triggers (issue 13: totals at a million files)

COUNT(*) over a million rows costs a quarter of a second on SQLite, and the catalog answers
every page with its total. `file_counts` holds the number of rows per combination of the
listing filters (athlete, type, content type, public flag, status, trashed, alias), kept
exact by triggers in the same transaction as the row's change; a total without a text search is
a SUM over a few hundred of these rows.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
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


def _add(row: str, table: str = "file_counts") -> str:
    return (
        f"INSERT INTO file_counts ({DIMENSIONS}, n) VALUES ({_values(row)}, 1) "
        f"ON CONFLICT ({DIMENSIONS}) DO UPDATE SET n = {table}.n + 1"
    )


def _remove(row: str) -> str:
    return f"UPDATE file_counts SET n = n - 1 WHERE {_match(row)}"


WATCHED = "athlete_id, file_type, content_type, is_public, status, deleted_at, alias_of"
SQLITE = [
    f"CREATE TRIGGER file_counts_ins AFTER INSERT ON media_files BEGIN {_add('new')}; END",
    f"CREATE TRIGGER file_counts_del AFTER DELETE ON media_files BEGIN {_remove('old')}; END",
    f"CREATE TRIGGER file_counts_upd AFTER UPDATE OF {WATCHED} ON media_files BEGIN "
    f"{_remove('old')}; {_add('new')}; END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS file_counts_upd",
    "DROP TRIGGER IF EXISTS file_counts_del",
    "DROP TRIGGER IF EXISTS file_counts_ins",
]
POSTGRES = [
    "CREATE FUNCTION mediadesk_file_counts() RETURNS trigger AS $$ BEGIN "
    "IF TG_OP = 'TRUNCATE' THEN DELETE FROM file_counts; RETURN NULL; END IF; "
    f"IF TG_OP IN ('UPDATE', 'DELETE') THEN {_remove('OLD')}; END IF; "
    f"IF TG_OP IN ('UPDATE', 'INSERT') THEN {_add('NEW')}; END IF; "
    "RETURN NULL; END $$ LANGUAGE plpgsql",
    "CREATE TRIGGER file_counts_row AFTER INSERT OR DELETE OR UPDATE OF "
    f"{WATCHED} ON media_files FOR EACH ROW EXECUTE FUNCTION mediadesk_file_counts()",
    "CREATE TRIGGER file_counts_truncate AFTER TRUNCATE ON media_files "
    "FOR EACH STATEMENT EXECUTE FUNCTION mediadesk_file_counts()",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS file_counts_truncate ON media_files",
    "DROP TRIGGER IF EXISTS file_counts_row ON media_files",
    "DROP FUNCTION IF EXISTS mediadesk_file_counts()",
]


def upgrade() -> None:
    op.create_table(
        "file_counts",
        sa.Column("athlete_id", sa.Integer(), nullable=False),  # 0: no athlete
        sa.Column("file_type", sa.String(length=10), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),  # '': unknown yet
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("trashed", sa.Boolean(), nullable=False),
        sa.Column("alias", sa.Boolean(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(*[c.strip() for c in DIMENSIONS.split(",")]),
    )
    op.execute(
        f"INSERT INTO file_counts ({DIMENSIONS}, n) SELECT {_values('m')}, count(*) "
        f"FROM media_files m GROUP BY {_values('m')}"
    )
    statements = SQLITE if op.get_bind().dialect.name == "sqlite" else POSTGRES
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    statements = SQLITE_DROP if op.get_bind().dialect.name == "sqlite" else POSTGRES_DROP
    for statement in statements:
        op.execute(statement)
    op.drop_table("file_counts")
