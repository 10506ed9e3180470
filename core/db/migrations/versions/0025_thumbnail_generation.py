"""which rendering made a file's thumbnail and variants (thumbnail_generation)

Thumbnails and ?w= variants are stored and were never made again, so the fixes to their
rendering (colour profiles converted to sRGB, 16-bit grey PNGs, a turned photo's ladder)
never reached the files uploaded before them. Each row now records the generation
(core.thumbnails.THUMBNAIL_GENERATION) its images were made with; maintenance makes older
ones again. Null: made before generations were counted, as every existing row is.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def _has_column() -> bool:
    columns = sa.inspect(op.get_bind()).get_columns("media_files")
    return any(c["name"] == "thumbnail_generation" for c in columns)


def upgrade() -> None:
    # safe to run again (a catalog stamped back by hand, as 0021 to 0024 are)
    if not _has_column():
        # a plain ADD COLUMN, not batch mode: SQLite's batch mode copies the table, which
        # would drop its FTS and file_counts triggers
        op.add_column("media_files", sa.Column("thumbnail_generation", sa.Integer()))


def downgrade() -> None:
    if _has_column():
        op.drop_column("media_files", "thumbnail_generation")
