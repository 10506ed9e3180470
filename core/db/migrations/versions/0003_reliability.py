"""upload ownership registry and deferred deletions (issue 8)

Partial-file ownership needs no table (an flock per process, see core.partials). Deferred
deletions do: the old object of a file moved to another athlete is deleted only after readers
that resolved the old key are done, and that promise must survive a restart.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
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
    op.drop_index("ix_deferred_deletions_storage_key", table_name="deferred_deletions")
    op.drop_index("ix_deferred_deletions_not_before", table_name="deferred_deletions")
    op.drop_table("deferred_deletions")
