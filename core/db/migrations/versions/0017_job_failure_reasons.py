"""a failed job keeps why as a stable code (jobs.error_code)

A failed job had only its English `error`: clients could show it, not say it in their words.
`error_code` holds one of core.jobs.FAILURE_REASONS beside it. Nullable and not filled in:
rows failed before this revision cannot be classified from their message (the codes are told
from the exception where the failure happened), so they answer `reason: null`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("error_code", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("error_code")
