"""athletes carry a version, so a rename made meanwhile elsewhere is not overwritten

In team mode two desktops (or a desktop and `PATCH /athletes/{id}`) share the catalog, and a
rename wrote its name over whatever another client had renamed the athlete to since the dialog
or the script read it: a lost update. A rename may now name the version it read (the
desktop's dialog does; the API takes a body `version` or If-Match) and is refused with
stale_version when the athlete is no longer at it; each rename adds one. Every existing
athlete starts at 1, as a new one does. A plain ADD COLUMN with a constant default, at once.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def _has_column() -> bool:
    columns = sa.inspect(op.get_bind()).get_columns("athletes")
    return any(c["name"] == "version" for c in columns)


def upgrade() -> None:
    # safe to run again (a catalog stamped back by hand, as 0021 to 0029 are)
    if not _has_column():
        # a plain ADD COLUMN, not batch mode: SQLite's batch mode copies the table, which
        # would drop its triggers
        op.add_column(
            "athletes", sa.Column("version", sa.Integer(), nullable=False, server_default="1")
        )


def downgrade() -> None:
    if _has_column():
        op.drop_column("athletes", "version")
