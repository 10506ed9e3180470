"""A catalog path that is there but cannot be opened is refused in make_engine's one line naming
it, with what to do, and a link to nowhere is refused, not followed. Since make_engine makes
the catalog file only when it is missing (3d8a346: closing a descriptor of the file dropped
this process's SQLite locks), an existing catalog it could not open went on to SQLite's bare
"The catalog could not be opened: unable to open database file", and SQLite created the target
of a dangling link itself, 0644 (readable by every user), not with MediaDesk's file mode."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.errors import StorageUnavailable
from core.fsmodes import FILE_MODE
from core.library import Library
from tests.conftest import make_settings


def _refused(data: Path) -> str:
    with pytest.raises(StorageUnavailable) as refused:
        Library.open(make_settings(data)).close()
    return str(refused.value)


def test_a_catalog_path_that_loops_is_named_with_its_cause(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    catalog = data / "mediadesk.sqlite3"
    catalog.symlink_to(catalog.name)  # a link to itself: no one can open it, root neither
    said = _refused(data)
    # before: "The catalog could not be opened: unable to open database file"
    assert said.startswith(f"The catalog could not be opened: {catalog}: "), said
    assert "symbolic links" in said and "choose another data folder" in said, said


def test_a_link_to_a_missing_catalog_is_refused_and_nothing_is_made(tmp_path: Path) -> None:
    """A link to a catalog on another disk that is not mounted, or a file moved: a new, empty
    catalog made there would be a new library with a new admin token (left_behind.py)."""
    data = tmp_path / "data"
    data.mkdir()
    target = tmp_path / "ssd" / "mediadesk.sqlite3"
    target.parent.mkdir()
    catalog = data / "mediadesk.sqlite3"
    catalog.symlink_to(target)
    said = _refused(data)
    assert said == (
        f"The catalog could not be opened: {catalog} is a link to {target}, which does not "
        "exist (a disk not mounted, a file moved?): put the catalog back there, or remove the "
        "link to start a new, empty library"
    ), said
    assert not target.exists()  # before: opened, the target made 0644
    assert catalog.is_symlink()


def test_a_link_to_a_catalog_still_opens_and_keeps_its_mode(tmp_path: Path) -> None:
    elsewhere = tmp_path / "ssd"
    Library.open(make_settings(elsewhere)).close()
    target = elsewhere / "mediadesk.sqlite3"
    assert target.stat().st_mode & 0o777 == FILE_MODE
    data = tmp_path / "data"
    data.mkdir()
    (data / "mediadesk.sqlite3").symlink_to(target)
    Library.open(make_settings(data)).close()
    assert target.stat().st_mode & 0o777 == FILE_MODE


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads and writes a file whatever its mode")
def test_an_unreadable_catalog_says_so_with_what_to_do(tmp_path: Path) -> None:
    """Readable by no one but writable (0200). One readable by no one and not writable (000)
    was said as such before too (`unopenable` looks at the file's write permission)."""
    data = tmp_path / "data"
    Library.open(make_settings(data)).close()
    catalog = data / "mediadesk.sqlite3"
    catalog.chmod(0o200)
    try:
        said = _refused(data)
        catalog.chmod(0)
        unwritable = _refused(data)
    finally:
        catalog.chmod(FILE_MODE)
    # before: "The catalog could not be opened: unable to open database file"
    assert said == (
        f"The catalog could not be opened: {catalog}: Permission denied: make it a file "
        "MediaDesk can read and write, or choose another data folder"
    ), said
    assert unwritable == (
        f"The catalog file {catalog} cannot be written (read-only disk, or no permission to "
        "write there): make it writable or choose another data folder"
    ), unwritable
