"""URL-signing key in the catalog (issue 10): stream/watch links open on every server of a team

One row per key (`name`); core/url_keys.py creates the file-grant key once, with the first
process's data-folder key as its source. Only PostgreSQL catalogs hold one (a SQLite catalog's
processes share the data folder's 0600 key file).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "url_signing_keys",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("secret", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("url_signing_keys")
