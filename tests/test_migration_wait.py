"""The wait at a migration's end for the moved files' old copies is reported through the
progress callback: how many are left and a countdown, then they are gone."""

from __future__ import annotations

import pytest

from core import storage_migration
from core.library import Library
from core.settings import Settings
from core.storage_migration import MigrationStep
from tests.internals import storage_of
from tests.media_fixtures import MediaSet


def test_the_wait_for_the_old_copies_is_reported(
    s3_settings: Settings, media_dir: MediaSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(storage_migration, "SOURCE_KEPT_SECONDS", 2.0)
    lib = Library.open(s3_settings.replace(storage_backend="local"))
    try:
        records = [lib.uploads.ingest(p, "image") for p in (media_dir.jpeg, media_dir.png)]
        seen: list[MigrationStep] = []
        report = lib.backends.migrate("r2", progress=seen.append)
        assert report.complete and report.moved == 2
        moves = [s for s in seen if not s.removing]
        waits = [s for s in seen if s.removing]
        assert [s[:2] for s in moves] == [(1, 2), (2, 2)]
        assert waits and waits[0].removing == 2 and waits[0].seconds_left == 2, seen
        assert [s.seconds_left for s in waits] == sorted(
            (s.seconds_left for s in waits), reverse=True
        )
        assert all(s.done == s.total == 2 for s in waits)
        local = storage_of(lib).backend("local")  # type: ignore[attr-defined]
        assert not any(local.exists(r.storage_key) for r in records)  # deleted once due
    finally:
        lib.close()
