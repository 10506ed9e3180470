"""`mediadesk maintenance` on a data folder made read-only while a server used it (chattr +i on
the folder and every file in it, its presence lock file included; root only; the real CLI): one
line saying the folder cannot be written and exit status 2, as every command on an unusable
data folder, not a PermissionError traceback from the presence lock."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.library import Library
from tests.conftest import make_settings
from tests.faults import cli, immutable

pytestmark = pytest.mark.timeout(60)


def test_maintenance_on_a_read_only_data_folder_is_one_line(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    lib = Library.open(make_settings(data_dir))  # the server's: its -wal, -shm and presence
    try:
        assert list(data_dir.glob("*-live.lock")), sorted(data_dir.iterdir())
        with immutable(data_dir, *sorted(data_dir.rglob("*"), reverse=True)):
            result = cli("maintenance", "--data-dir", str(data_dir))
    finally:
        lib.close()
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot be written" in lines[0], lines
