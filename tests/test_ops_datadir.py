"""A data folder (or settings file) of another user: one line naming the path and what to do,
exit status 2, from every command (README "Where data lives"), not a traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.faults import ENTRY, ROOT, cli

pytestmark = pytest.mark.timeout(90)

# root reads anything: without these two capabilities permissions stop it as they stop others
DROP_CAPS = ("setpriv", "--bounding-set=-dac_override,-dac_read_search")
OTHER_UID = 54321

COMMANDS = (
    ("doctor",),
    ("doctor", "--json"),
    ("maintenance",),
    ("token", "list"),
    ("serve", "--port", "0"),
)


def _as_another_user(
    *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    wrapper: tuple[str, ...] = ()
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("as root, permissions stop MediaDesk only under setpriv (util-linux)")
        wrapper = DROP_CAPS
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MEDIADESK_")}
    return subprocess.run(
        [*wrapper, sys.executable, "-c", ENTRY, *args],
        cwd=ROOT,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def _not_ours(path: Path, mode: int) -> None:
    """`path` made another user's, `mode` (a service account meeting root's 0700 folder)."""
    if os.geteuid() == 0:
        os.chown(path, OTHER_UID, OTHER_UID)
    path.chmod(mode)


def _assert_one_line(done: subprocess.CompletedProcess[str], path: Path) -> None:
    lines = done.stderr.splitlines()
    assert done.returncode == 2, done.stderr
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("mediadesk: ") and str(path) in lines[0]
    assert "cannot be read: Permission denied" in lines[0]
    assert "Traceback" not in done.stderr + done.stdout


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_data_folder_of_another_user_is_one_line(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    data = tmp_path / "data"
    assert cli("token", "list", "--data-dir", str(data)).returncode == 0  # the library, made
    _not_ours(data, 0o700)
    done = _as_another_user(*command, "--data-dir", str(data))
    _assert_one_line(done, data)  # the folder at fault, not the settings.toml inside it
    assert "data folder" in done.stderr


def test_an_unreadable_settings_file_is_one_line(tmp_path: Path) -> None:
    config = tmp_path / "settings.toml"
    config.write_text("server_port = 8765\n")
    _not_ours(config, 0o600)
    done = _as_another_user(
        "maintenance",
        "--data-dir",
        str(tmp_path / "data"),
        env={"MEDIADESK_CONFIG_FILE": str(config)},
    )
    _assert_one_line(done, config)


def test_a_readable_settings_file_and_a_data_folder_of_another_user(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert cli("token", "list", "--data-dir", str(data)).returncode == 0
    config = tmp_path / "settings.toml"
    config.write_text("server_port = 8765\n")
    _not_ours(data, 0o700)
    done = _as_another_user(
        "doctor", "--data-dir", str(data), env={"MEDIADESK_CONFIG_FILE": str(config)}
    )
    _assert_one_line(done, data)
    assert "data folder" in done.stderr
