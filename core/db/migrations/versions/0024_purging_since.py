"""a file being deleted for good is claimed in the catalog first (purging_since)

The emptying of the trash read its files, deleted their bytes, then their rows: a restore on
another server in between answered 200 and the file was gone a moment later (its edit locks are
that process's own). Now a conditional write claims each file while it is still in the trash
before any byte of it goes, and a restore refuses a claimed file (409 being_deleted). Null: not
claimed. A claimed file stays in the trash until an emptying or purge finishes it (a crash).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def _has_column() -> bool:
    columns = sa.inspect(op.get_bind()).get_columns("media_files")
    return any(c["name"] == "purging_since" for c in columns)


def upgrade() -> None:
    # safe to run again (a catalog stamped back by hand, as 0021 to 0023 are)
    if not _has_column():
        # a plain ADD COLUMN, not batch mode: SQLite's batch mode copies the table, which
        # would drop its FTS and file_counts triggers
        op.add_column("media_files", sa.Column("purging_since", sa.DateTime(timezone=True)))


def downgrade() -> None:
    if _has_column():
        op.drop_column("media_files", "purging_since")
