"""how many times a file's images were made again at their rendering (thumbnail_remade)

A reprocess (POST /files/{id}/reprocess, `mediadesk reprocess ID`) of a photo whose images
were already of today's rendering made them again under the same content tag (the sha256 and
thumbnail_generation), so the thumbnail's ETag and the links' `?v=` did not change, and
browsers and the desktop's cache kept the old, maybe bad, images for good. Each remake at the
row's rendering is now counted here, and the tag carries the count (core.records.FileRecord.
content_tag). Null: not made again since they were made at it, as every existing row is, so
no file's tag changes with this migration.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def _has_column() -> bool:
    columns = sa.inspect(op.get_bind()).get_columns("media_files")
    return any(c["name"] == "thumbnail_remade" for c in columns)


def upgrade() -> None:
    # safe to run again (a catalog stamped back by hand, as 0021 to 0026 are)
    if not _has_column():
        # a plain ADD COLUMN, not batch mode: SQLite's batch mode copies the table, which
        # would drop its FTS and file_counts triggers
        op.add_column("media_files", sa.Column("thumbnail_remade", sa.Integer()))


def downgrade() -> None:
    if _has_column():
        op.drop_column("media_files", "thumbnail_remade")
