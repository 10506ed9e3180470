"""`mediadesk serve` on a PostgreSQL catalog kept apart from the data folder's SQLite library
(a server was started on the new database before the library was copied: see
test_catalog_kept_apart.py) says so in one WARNING line naming both catalogs and pointing at
`mediadesk doctor`, and serves on. It started silently: only doctor told. Real processes, the
tests' throwaway PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pg_server import fresh_database, postgres_url  # noqa: F401
from tests.test_catalog_kept_apart import _club_folder, _env, _started

pytestmark = pytest.mark.timeout(120)


def test_a_start_on_a_catalog_kept_apart_warns_once_and_serves(
    tmp_path: Path,
    postgres_url: str,  # noqa: F811
) -> None:
    data, _ = _club_folder(tmp_path)
    target = fresh_database(postgres_url, "served_apart")
    env = _env(DATABASE_URL=target)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    first = _started(elsewhere, env)  # no library beside it there: nothing to say
    assert not [line for line in first if "mediadesk doctor" in line], first

    said = _started(data, env)
    catalog = data / "mediadesk.sqlite3"
    told = [line for line in said if "mediadesk doctor" in line]
    assert len(told) == 1, said
    (line,) = told
    assert " WARNING " in line and target in line and str(catalog) in line, line
    assert "MediaDesk serves the other one" in line, line
