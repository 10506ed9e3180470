"""catalog change log and maintenance lease (issue 12)"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "change_log",
        # BIGINT on PostgreSQL, INTEGER PRIMARY KEY (the rowid) on SQLite: monotonic either way
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("entity", sa.String(20), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=True),
        sa.Column("file_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("origin", sa.String(80), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
    )
    with op.batch_alter_table("change_log") as batch:
        batch.create_index("ix_change_log_at", ["at"])
    op.create_table(
        "catalog_leases",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("holder", sa.String(80), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_run_by", sa.String(80), nullable=True),
        sa.Column("info", sa.JSON(), nullable=True),
    )
    op.bulk_insert(
        sa.table("catalog_leases", sa.column("name", sa.String)),
        [{"name": "maintenance"}, {"name": "change_log"}],
    )


def downgrade() -> None:
    op.drop_table("catalog_leases")
    with op.batch_alter_table("change_log") as batch:
        batch.drop_index("ix_change_log_at")
    op.drop_table("change_log")
