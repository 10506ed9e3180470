"""deferred_deletions can hold the abort of a failed upload's multipart upload

A big server-side upload to R2/S3 goes in parts (boto3's managed transfer). When the store
hung mid-way, the transfer's own clean-up asked the silent store to abort the multipart upload
with another whole read timeout (the upload answered after 20 s, not 10), and its failure was
swallowed: the parts (tens or hundreds of MB) stayed in the bucket until maintenance's sweep of
uploads older than a day. The abort is now not asked of a store just found out of reach but
kept as a deferred deletion naming the upload (`upload_id`), made once the store answers again.
A plain ADD COLUMN of a nullable column, at once.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def _has_column() -> bool:
    columns = sa.inspect(op.get_bind()).get_columns("deferred_deletions")
    return any(c["name"] == "upload_id" for c in columns)


def upgrade() -> None:
    # safe to run again (a catalog stamped back by hand, as 0021 to 0030 are)
    if not _has_column():
        # a plain ADD COLUMN, not batch mode (which copies the table)
        op.add_column("deferred_deletions", sa.Column("upload_id", sa.String(1024), nullable=True))


def downgrade() -> None:
    # the aborts still waiting are left to the stale-upload sweep (a day), as before
    if _has_column():
        op.execute("DELETE FROM deferred_deletions WHERE upload_id IS NOT NULL")
        op.drop_column("deferred_deletions", "upload_id")
