"""search reads ø, ł, đ, æ… as their base letters: the stored folds of names holding them

core.text.folded dropped accents by decomposing letters, and ø, ł, đ, ħ, ŧ, ı, æ, œ, ð and þ
have no decomposition: "soren" did not find "Søren", nor "lukasz" "Łukasz". The rule now reads
them as their base letters; the folds stored by migration 0023 and every write since (file
names, descriptions, athletes' names) are made again for the rows that hold such a letter,
found by LIKE (no other row's fold changes). The order by name (core.natsort) is unchanged.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.text import BASE_LETTERS, BASE_LETTERS_UPPER, folded

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

BATCH = 1000  # rows read and written per round, as 0023's


def _refold(table: str, sources: dict[str, str]) -> None:
    """The folds ({fold column: its source}) of the rows whose sources hold such a letter."""
    bind = op.get_bind()
    rows_of = sa.table(
        table,
        sa.column("id", sa.Integer()),
        *(sa.column(c, sa.Text()) for c in (*sources, *sources.values())),
    )
    holds = sa.or_(
        *(
            rows_of.c[src].like(f"%{letter}%")
            for src in sources.values()
            for letter in BASE_LETTERS + BASE_LETTERS_UPPER
        )
    )
    last = 0
    while True:
        rows = (
            bind.execute(
                sa.select(rows_of.c.id, *(rows_of.c[c] for c in sources.values()))
                .where(rows_of.c.id > last, holds)
                .order_by(rows_of.c.id)
                .limit(BATCH)
            )
            .mappings()
            .all()
        )
        if not rows:
            break
        bind.execute(
            rows_of.update()
            .where(rows_of.c.id == sa.bindparam("row_id"))
            .values({fold: sa.bindparam(f"v_{fold}") for fold in sources}),
            [
                {
                    "row_id": row["id"],
                    **{f"v_{fold}": folded(row[src] or "") for fold, src in sources.items()},
                }
                for row in rows
            ],
        )
        last = rows[-1]["id"]


def upgrade() -> None:
    _refold(
        "media_files", {"search_name": "original_filename", "search_description": "description"}
    )
    _refold("athletes", {"search_name": "name"})


def downgrade() -> None:
    # The folds stay as made: an older version folds a search term its own way, so "soren"
    # still finds "Søren" there and "søren" no longer does, until the row is written again.
    pass
