"""The search folds (core.text.search_fold) a migration writes into existing rows, in batches.

Migration 0023 wrote every row's; 0029 writes again those of the rows holding a letter the
rule changed for, and 0032 those whose folds hold white space it now reads as one space; 0033
the name sort keys (core.natsort) of the names holding such a letter. One walk for all: a
large catalog never sits in memory at once."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

from core.text import search_fold

BATCH = 1000  # rows read and written per round

Where = Callable[[sa.TableClause], sa.ColumnElement[bool]]


def write_folds(
    table: str,
    sources: dict[str, str],
    where: Where | None = None,
    rule: Callable[[str], str] = search_fold,
) -> None:
    """Each row's folds ({fold column: its source}) by `rule`, by id, of the rows `where` picks
    (all)."""
    bind = op.get_bind()
    rows_of = sa.table(
        table,
        sa.column("id", sa.Integer()),
        *(sa.column(c, sa.Text()) for c in (*sources, *sources.values())),
    )
    picked = [where(rows_of)] if where is not None else []
    last = 0
    while True:
        rows = (
            bind.execute(
                sa.select(rows_of.c.id, *(rows_of.c[c] for c in sources.values()))
                .where(rows_of.c.id > last, *picked)
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
                    **{f"v_{fold}": rule(row[src] or "") for fold, src in sources.items()},
                }
                for row in rows
            ],
        )
        last = rows[-1]["id"]
