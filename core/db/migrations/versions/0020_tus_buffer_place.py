"""a tus upload records which data folder holds its bytes not yet in the bucket (buffer_at)

On R2/S3 a tus upload's bytes wait in `<data>/uploads/<id>.buffer` until a part is complete:
on the disk of the server that received them. Servers of a team have their own data folders,
and the catalog did not say whose buffer was current: the maintenance leader removed every
upload in progress whose buffer was not in its own folder (as if its bytes were gone), and a
server that had buffered bytes of an earlier part took its stale buffer for the current one
when a PATCH came back to it (the stored file had wrong bytes). Null: rows written before this
revision, taken as this folder's as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("resumable_uploads") as batch:
        batch.add_column(sa.Column("buffer_at", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("resumable_uploads") as batch:
        batch.drop_column("buffer_at")
