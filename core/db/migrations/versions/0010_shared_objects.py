"""shared objects: several files may reference one stored object (issue 13)

The same bytes for another athlete or other flags make a record of their own that references
the existing object (the same storage key) instead of a second copy, so `storage_key` is no
longer unique; a plain index keeps the reference lookups fast.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# SQLite rebuilds the table to drop the constraint; the FTS triggers of 0007 go first (the
# rename of the rebuilt table checks every trigger naming it) and are created again, as they were.
SQLITE_FTS_DROP = [
    "DROP TRIGGER IF EXISTS athletes_fts_upd",
    "DROP TRIGGER IF EXISTS media_files_fts_upd",
    "DROP TRIGGER IF EXISTS media_files_fts_del",
    "DROP TRIGGER IF EXISTS media_files_fts_ins",
]
SQLITE_FTS_TRIGGERS = [
    "CREATE TRIGGER IF NOT EXISTS media_files_fts_ins AFTER INSERT ON media_files BEGIN "
    "INSERT INTO media_files_fts(rowid, original_filename, description, athlete_name) "
    "VALUES (new.id, new.original_filename, coalesce(new.description, ''), "
    "coalesce((SELECT name FROM athletes WHERE id = new.athlete_id), '')); END",
    "CREATE TRIGGER IF NOT EXISTS media_files_fts_del AFTER DELETE ON media_files BEGIN "
    "DELETE FROM media_files_fts WHERE rowid = old.id; END",
    "CREATE TRIGGER IF NOT EXISTS media_files_fts_upd AFTER UPDATE OF original_filename, "
    "description, athlete_id ON media_files BEGIN "
    "UPDATE media_files_fts SET original_filename = new.original_filename, "
    "description = coalesce(new.description, ''), "
    "athlete_name = coalesce((SELECT name FROM athletes WHERE id = new.athlete_id), '') "
    "WHERE rowid = new.id; END",
    "CREATE TRIGGER IF NOT EXISTS athletes_fts_upd AFTER UPDATE OF name ON athletes BEGIN "
    "UPDATE media_files_fts SET athlete_name = new.name "
    "WHERE rowid IN (SELECT id FROM media_files WHERE athlete_id = new.id); END",
]
# the unnamed UNIQUE of 0001 gets this name when the table is reflected
NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        with (
            _fts_triggers_set_aside(bind),
            op.batch_alter_table(
                "media_files", recreate="always", naming_convention=NAMING
            ) as batch_op,
        ):
            batch_op.drop_constraint("uq_media_files_storage_key", type_="unique")
            batch_op.create_index("ix_media_files_storage_key", ["storage_key"])
    else:
        name = bind.execute(
            sa.text(
                "SELECT conname FROM pg_constraint WHERE conrelid = 'media_files'::regclass "
                "AND contype = 'u' AND pg_get_constraintdef(oid) = 'UNIQUE (storage_key)'"
            )
        ).scalar()
        if name:
            op.drop_constraint(name, "media_files", type_="unique")
        op.create_index("ix_media_files_storage_key", "media_files", ["storage_key"])


def downgrade() -> None:
    # Only possible while no two files share an object.
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        with (
            _fts_triggers_set_aside(bind),
            op.batch_alter_table("media_files", recreate="always") as batch_op,
        ):
            batch_op.drop_index("ix_media_files_storage_key")
            batch_op.create_unique_constraint("uq_media_files_storage_key", ["storage_key"])
    else:
        op.drop_index("ix_media_files_storage_key", "media_files")
        op.create_unique_constraint("media_files_storage_key_key", "media_files", ["storage_key"])


@contextmanager
def _fts_triggers_set_aside(bind: sa.Connection) -> Iterator[None]:
    has_fts = bind.execute(
        sa.text("SELECT 1 FROM sqlite_master WHERE type='table' AND name='media_files_fts'")
    ).scalar()
    if has_fts:
        for statement in SQLITE_FTS_DROP:
            op.execute(statement)
    yield
    if has_fts:
        for statement in SQLITE_FTS_TRIGGERS:
            op.execute(statement)
