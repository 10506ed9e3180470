"""name sort keys with accents beside their base letter ("Álvaro" before "Beatriz", ñ after n)"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.natsort import name_sort_key

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

BATCH = 1000  # rows read per round; only the keys that change are written


def upgrade() -> None:
    # The rule is core.natsort's, its one home (as in 0008): every stored key is computed
    # again, in batches by id so a large catalog never sits in memory at once. Most names are
    # plain ASCII, whose key does not change, so most batches write nothing.
    bind = op.get_bind()
    media = sa.table(
        "media_files",
        sa.column("id", sa.Integer()),
        sa.column("original_filename", sa.String()),
        sa.column("name_sort", sa.String()),
    )
    last = 0
    while True:
        rows = bind.execute(
            sa.select(media.c.id, media.c.original_filename, media.c.name_sort)
            .where(media.c.id > last)
            .order_by(media.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        changed = [
            {"row_id": i, "key": key}
            for i, name, old in rows
            if (key := name_sort_key(name or "")) != old
        ]
        if changed:
            bind.execute(
                media.update()
                .where(media.c.id == sa.bindparam("row_id"))
                .values(name_sort=sa.bindparam("key")),
                changed,
            )
        last = rows[-1][0]


def downgrade() -> None:
    # Nothing to undo in the schema; the keys stay as computed (an older version orders the
    # accented names among them by the new rule until their rows are next edited).
    pass
