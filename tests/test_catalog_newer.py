"""A catalog migrated by a newer MediaDesk (a teammate upgraded first, or this machine went
back a version): every command ended in Alembic's traceback ("Can't locate revision"), and
`mediadesk doctor` advised starting MediaDesk to migrate it, which is what failed."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.timeout(120)


def _mediadesk(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("mediadesk")), "--data-dir", str(data_dir), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_catalog_from_a_newer_version_is_refused_in_one_line_and_left_alone(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    made = _mediadesk(data, "token", "create", "--name", "first", "--scope", "admin")
    assert made.returncode == 0, made.stderr
    catalog = data / "mediadesk.sqlite3"
    with sqlite3.connect(catalog) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0999'")

    listed = _mediadesk(data, "token", "list")
    assert listed.returncode == 2
    assert "Traceback" not in listed.stderr
    last = listed.stderr.strip().splitlines()[-1]
    assert last.startswith("mediadesk: The catalog was upgraded by a newer MediaDesk")
    assert "0999" in last

    doctor = _mediadesk(data, "doctor")
    assert doctor.returncode == 1
    assert "FAIL  migrations: schema at 0999, newer than this MediaDesk" in doctor.stdout
    assert "install that version" in doctor.stdout

    with sqlite3.connect(catalog) as conn:  # nothing was changed
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [("0999",)]
        assert conn.execute("SELECT name FROM api_tokens").fetchall() == [("first",)]


def test_the_desktop_says_a_newer_version_upgraded_the_library(tmp_path: Path) -> None:
    """Its start-up dialog said "The storage cannot be reached. Check the connection and the
    storage settings" (the bare storage_unavailable sentence), sending a club that went back a
    version to its network and bucket; the reason was only in the English technical detail."""
    from core.errors import StorageUnavailable
    from core.library import Library
    from desktop_app.errors import describe_error
    from tests.conftest import make_settings

    settings = make_settings(tmp_path / "data")
    Library.open(settings).close()
    with sqlite3.connect(settings.effective_database_url.split("///", 1)[1]) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0999'")
    with pytest.raises(StorageUnavailable) as refused:
        Library.open(settings)
    said = describe_error(refused.value).text
    assert said.startswith("A newer version of MediaDesk has upgraded this library"), said
    assert "storage cannot be reached" not in said, said
