"""the "Date taken" order (captured_at)

A match's photos from several cameras and phones, uploaded days later, listed only by upload
time (created_at) or edit time. Each row now keeps when it was shot, the sort key of
sort=captured_at: core.metadata.capture_instant of extra's taken_at (UTC when its offset is
known, the camera's wall time when not; a video's creation_time is UTC), else created_at, so
every row sorts. New rows get it from the ORM events of core.db.models; rows already there
from here, in Python (the one home of the rule), whatever form their taken_at has (rows from
before b3c3eac keep EXIF's "2026:03:29 01:30:00"). Indexed like the other sort keys (0007,
0011): the listing filters, the key and the id, catalog-wide and within one athlete.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.db.models import UTCDateTime
from core.metadata import capture_instant

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

BATCH = 1000  # rows read and rewritten per round of the backfill
INDEXES = {
    "ix_media_files_by_captured_at": ["deleted_at", "status", "captured_at", "id"],
    "ix_media_files_athlete_by_captured_at": [
        "athlete_id",
        "deleted_at",
        "status",
        "captured_at",
        "id",
    ],
}


def _columns() -> set[str]:
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns("media_files")}


def _indexes() -> set[str | None]:
    return {i["name"] for i in sa.inspect(op.get_bind()).get_indexes("media_files")}


def upgrade() -> None:
    bind = op.get_bind()
    # safe to run again (a catalog stamped back by hand, as 0021 to 0025 are)
    if "captured_at" not in _columns():
        # a plain ADD COLUMN, not batch mode: SQLite's batch mode copies the table, which
        # would drop its FTS and file_counts triggers (so the column stays nullable)
        op.add_column("media_files", sa.Column("captured_at", UTCDateTime()))
    media = sa.table(
        "media_files",
        sa.column("id", sa.Integer()),
        sa.column("extra", sa.JSON()),
        sa.column("created_at", UTCDateTime()),
        sa.column("captured_at", UTCDateTime()),
    )
    # in batches by id, so a large catalog never sits in memory at once
    last = 0
    while True:
        rows = bind.execute(
            sa.select(media.c.id, media.c.extra, media.c.created_at)
            .where(media.c.id > last)
            .order_by(media.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        values = [
            {
                "row_id": row_id,
                "key": capture_instant(extra.get("taken_at") if isinstance(extra, dict) else None)
                or created_at,
            }
            for row_id, extra, created_at in rows
        ]
        bind.execute(
            media.update()
            .where(media.c.id == sa.bindparam("row_id"))
            .values(captured_at=sa.bindparam("key")),
            values,
        )
        last = rows[-1][0]
    existing = _indexes()
    for name, columns in INDEXES.items():
        if name not in existing:
            op.create_index(name, "media_files", columns)


def downgrade() -> None:
    existing = _indexes()
    for name in INDEXES:
        if name in existing:
            op.drop_index(name, table_name="media_files")
    if "captured_at" in _columns():
        # a plain DROP COLUMN (SQLite 3.35+): a batch rebuild would trip over the triggers
        op.drop_column("media_files", "captured_at")
