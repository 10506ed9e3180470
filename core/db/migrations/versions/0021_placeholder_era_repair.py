"""what catalogs stamped by placeholder revisions lack: added where missing

Revisions 0002-0007 were empty placeholders for a while (Dec 1 2026, commit c9abfdf) and got
their content later; 0005 got its lease columns later still (69b6969). A catalog created in
between is stamped with a revision whose effect it never had, and Alembic never runs that
revision again. Those that later migrations could still carry up (created once 0004, 0006 and
0007 were filled in) lacked:
  - media_files.storage_backend (0002): the start-up labelling of rows failed;
  - deferred_deletions (0003): moves between backends and their clean-up failed;
  - resumable_uploads.lease_owner / lease_until (0005): every confirm, tus request and the
    maintenance run failed with "no such column" (500), while doctor said all was well.
Each is added only where it is missing, as its own revision made it; a catalog that has them
(every one created before or after that window) is left as it is.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

# (table, column) as 0002 and 0005 create them
MISSING_COLUMNS = (
    ("media_files", sa.Column("storage_backend", sa.String(10), nullable=True)),
    ("resumable_uploads", sa.Column("lease_owner", sa.String(length=200), nullable=True)),
    ("resumable_uploads", sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True)),
)


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    tables = set(inspector.get_table_names())
    for table, column in MISSING_COLUMNS:
        if table in tables and column.name not in {c["name"] for c in inspector.get_columns(table)}:
            # a plain nullable column: SQLite adds it without rebuilding the table
            op.add_column(table, column)
    if "deferred_deletions" not in tables:  # as 0003 creates it
        op.create_table(
            "deferred_deletions",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("storage_key", sa.String(length=512), nullable=False),
            sa.Column("is_prefix", sa.Boolean(), nullable=False),
            sa.Column("backend", sa.String(length=20), nullable=True),
            sa.Column("reason", sa.String(length=40), nullable=False),
            sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_deferred_deletions_not_before", "deferred_deletions", ["not_before"])
        op.create_index("ix_deferred_deletions_storage_key", "deferred_deletions", ["storage_key"])


def downgrade() -> None:
    pass  # what this revision added belongs to 0002, 0003 and 0005's schema: it stays
