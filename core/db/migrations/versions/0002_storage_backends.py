"""each file remembers its storage backend (issue 7)"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: rows written before this revision are labelled by Library.open with the
    # backend configured at that first start (where every file was until then).
    with op.batch_alter_table("media_files") as batch:
        batch.add_column(sa.Column("storage_backend", sa.String(10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("media_files") as batch:
        batch.drop_column("storage_backend")
