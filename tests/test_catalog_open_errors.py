"""A catalog that cannot be opened because of its place is refused in one line that names the
place, exit status 2, and nothing is made for it: a data folder on a read-only disk, a folder
where the catalog file goes, a path longer than SQLite opens."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.errors import SettingsError
from core.paths import default_paths
from tests.faults import immutable, small_tmpfs

ROOT = Path(__file__).resolve().parents[1]


def _mediadesk(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed command, in a process of its own, on SQLite (no DATABASE_URL)."""
    environ = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return subprocess.run(
        [str(Path(sys.executable).with_name("mediadesk")), *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1, done.stderr
    return done.stderr.strip()


def test_a_folder_where_the_catalog_file_goes_is_one_line(tmp_path: Path) -> None:
    """make_engine's creation of the file ended in an IsADirectoryError traceback."""
    data = tmp_path / "d"
    (data / "mediadesk.sqlite3").mkdir(parents=True)
    said = _one_line(_mediadesk("--data-dir", str(data), "token", "list"))
    assert said == (
        f"mediadesk: The catalog could not be opened: {data / 'mediadesk.sqlite3'} is a "
        "folder, not the catalog file: move it away or choose another data folder"
    ), said


def test_a_data_folder_too_long_for_sqlite_is_refused_before_anything_is_made(
    tmp_path: Path,
) -> None:
    """Refused with the right words, it left the folder chain, cache/logs/objects/secrets/tmp
    and an empty mediadesk.sqlite3 behind."""
    folder = tmp_path.joinpath("a" * 200, "b" * 200, "c" * 200)
    said = _one_line(_mediadesk("--data-dir", str(folder), "token", "list"))
    assert "longer than SQLite opens" in said, said
    assert list(tmp_path.iterdir()) == [], list(tmp_path.rglob("*"))


def test_a_data_folder_whose_name_is_not_utf8_is_refused_before_anything_is_made(
    tmp_path: Path,
) -> None:
    """A folder named in Latin-1 (an old disk's "ñ", byte 0xF1): every command but doctor
    ended in a UnicodeEncodeError traceback ("surrogates not allowed")."""
    folder = tmp_path / os.fsdecode(b"club-espa\xf1a")
    said = _one_line(_mediadesk("--data-dir", str(folder), "token", "list"))
    assert said == (
        "mediadesk: The catalog could not be opened: its folder's name is not UTF-8 "
        f"({tmp_path}/club-espa\\xf1a), which SQLite cannot open: rename the folder, or choose "
        "another one with --data-dir"
    ), said
    assert list(tmp_path.iterdir()) == [], list(tmp_path.rglob("*"))
    # doctor said "All good" there, having made the folders every other command then refused
    checked = _mediadesk("--data-dir", str(folder), "doctor")
    assert checked.returncode == 1, (checked.stdout, checked.stderr)
    assert "its folder's name is not UTF-8" in checked.stdout, checked.stdout
    assert list(tmp_path.iterdir()) == [], list(tmp_path.rglob("*"))


def test_doctor_says_a_data_folder_too_long_for_sqlite_and_makes_nothing(tmp_path: Path) -> None:
    """`mediadesk doctor` made the whole data folder before its catalog check said the path
    was too long (it calls paths.ensure() itself, not Library.open)."""
    folder = tmp_path.joinpath("a" * 200, "b" * 200, "c" * 200)
    said = _mediadesk("--data-dir", str(folder), "doctor")
    assert said.returncode == 1, (said.stdout, said.stderr)
    assert "longer than SQLite opens" in said.stdout + said.stderr
    assert list(tmp_path.iterdir()) == [], list(tmp_path.rglob("*"))


def test_a_data_folder_on_a_read_only_disk_says_so_and_names_it(tmp_path: Path) -> None:
    """It said "The catalog could not be opened: unable to open database file" (and the
    desktop app "The storage cannot be reached"), naming neither the folder nor the cause.
    A data folder not already 0700 (0755, made by hand) is closed to others at start-up: that
    chmod raised EROFS, and every command ended in a traceback and exit status 1 (the desktop
    app: "A file or network operation failed")."""
    with small_tmpfs(tmp_path / "mnt", "20m") as mnt:
        data = mnt / "data"  # MediaDesk's folders all there, the catalog too
        bare = mnt / "bare"  # only the folder: its subfolders cannot be made
        assert _mediadesk("--data-dir", str(data), "token", "list").returncode == 0
        bare.mkdir()
        for folder in (data, bare):
            folder.chmod(0o755)
        subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
        with pytest.raises(SettingsError) as refused:
            default_paths(str(bare)).ensure()
        assert str(refused.value) == (
            f"The data folder {bare} cannot be used: {bare / 'objects'} cannot be made: "
            "Read-only file system. Check --data-dir or MEDIADESK_DATA_DIR"
        ), refused.value
        said = _one_line(_mediadesk("--data-dir", str(data), "token", "list"))
        assert said == (
            f"mediadesk: The folder holding the catalog ({data}) cannot be written (read-only "
            "disk, or no permission to write there): make it writable or choose another data "
            "folder"
        ), said


def test_an_immutable_data_folder_open_to_others_is_refused_not_a_traceback(
    tmp_path: Path,
) -> None:
    """chattr +i: the chmod closing a 0755 data folder raised EPERM out of start-up."""
    bare = tmp_path / "bare"
    bare.mkdir()
    bare.chmod(0o755)
    with immutable(bare), pytest.raises(SettingsError) as refused:
        default_paths(str(bare)).ensure()
    assert refused.value.details["errno"] == "EPERM", refused.value.details
    assert str(refused.value).startswith(f"The data folder {bare} cannot be used: "), refused.value


@pytest.mark.parametrize("reason", ["catalog_read_only", "catalog_not_a_file"])
def test_the_desktop_start_up_dialog_words_the_catalogs_place(reason: str) -> None:
    from core.errors import StorageUnavailable
    from desktop_app.errors import describe_error

    exc = StorageUnavailable("The folder holding the catalog (/x) cannot be written", reason=reason)
    message = describe_error(exc)
    assert "storage cannot be reached" not in message.text, message.text
    assert "/x" in message.display()
