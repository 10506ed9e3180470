"""file counts are updated in one order (PostgreSQL): a trash and a restore never deadlock

An update of a file that moves it between two `file_counts` rows (trash, restore, another
athlete, public/private) took its old row, then its new one. A restore of one file and a trash
of another of the same athlete and kind take the same two rows the other way round: two servers
of a team doing both at once deadlocked, and PostgreSQL failed one with deadlock_detected, a 500.
The trigger now takes the lower row (by the counts' key) first, whichever way the file moves.
SQLite runs one writer at a time: its triggers stay as they are.
"""

from __future__ import annotations

from alembic import op

revision = "0019"
down_revision = "0018"
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


ADD = (
    f"INSERT INTO file_counts ({DIMENSIONS}, n, bytes) "
    f"VALUES ({_values('NEW')}, 1, coalesce(NEW.size, 0)) "
    f"ON CONFLICT ({DIMENSIONS}) DO UPDATE SET n = file_counts.n + 1, "
    "bytes = file_counts.bytes + coalesce(NEW.size, 0)"
)
REMOVE = (
    f"UPDATE file_counts SET n = n - 1, bytes = bytes - coalesce(OLD.size, 0) WHERE {_match('OLD')}"
)


def _function(ordered: bool) -> str:
    first = (
        f"IF TG_OP = 'UPDATE' AND ROW({_values('NEW')}) < ROW({_values('OLD')}) THEN "
        f"{ADD}; {REMOVE}; RETURN NULL; END IF; "
        if ordered
        else ""
    )
    return (
        "CREATE OR REPLACE FUNCTION mediadesk_file_counts() RETURNS trigger AS $$ BEGIN "
        "IF TG_OP = 'TRUNCATE' THEN DELETE FROM file_counts; RETURN NULL; END IF; "
        f"{first}"
        f"IF TG_OP IN ('UPDATE', 'DELETE') THEN {REMOVE}; END IF; "
        f"IF TG_OP IN ('UPDATE', 'INSERT') THEN {ADD}; END IF; "
        "RETURN NULL; END $$ LANGUAGE plpgsql"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_function(ordered=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_function(ordered=False))  # 0014's
