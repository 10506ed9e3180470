"""an index per sort key within one athlete (issue 13: an athlete's files at a million files)

`?athlete_id=` and a search that matches athletes' names page by walking one of these in the
sort's order, like the catalog-wide indexes of 0007/0008, instead of sorting every file of the
athlete for each page.
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

SORT_COLUMNS = ("created_at", "name_sort", "size", "duration", "updated_at")


def upgrade() -> None:
    for column in SORT_COLUMNS:
        op.create_index(
            f"ix_media_files_athlete_by_{column}",
            "media_files",
            ["athlete_id", "deleted_at", "status", column, "id"],
        )


def downgrade() -> None:
    for column in SORT_COLUMNS:
        op.drop_index(f"ix_media_files_athlete_by_{column}", "media_files")
