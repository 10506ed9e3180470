"""What a start says when the data folder or the settings file cannot be used as one: the
folder itself and its owner when this user may not enter it (not its settings.toml, which may
not exist), and a settings.toml that is a folder refused instead of taken as missing. One
line, exit status 2, from serve and doctor; the desktop's start-up box in the window's
language."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.faults import ENTRY, ROOT, cli
from tests.test_ops_datadir import DROP_CAPS, _as_another_user, _not_ours

pytestmark = pytest.mark.timeout(90)

# The desktop's start as `mediadesk --language es --data-dir D` runs it, each dialog's texts
# printed as JSON instead of waiting for a click
DESKTOP = """
import json, sys
from PySide6.QtWidgets import QMessageBox
shown = []
QMessageBox.exec = lambda box: shown.append(
    [box.text(), box.informativeText(), box.detailedText()]
) or 0
from desktop_app.cli import main
code = main(sys.argv[1:])
print(json.dumps(shown))
sys.exit(code)
"""


def _locked_data_folder(tmp_path: Path) -> Path:
    """A data folder with no settings.toml, which this test's user may not enter."""
    data = tmp_path / "data"
    data.mkdir()
    _not_ours(data, 0o700)
    return data


@pytest.mark.parametrize(
    "command", [("doctor",), ("doctor", "--json"), ("serve", "--port", "0")], ids=" ".join
)
def test_a_data_folder_this_user_may_not_enter_is_named_with_its_owner(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    data = _locked_data_folder(tmp_path)
    done = _as_another_user(*command, env={"MEDIADESK_DATA_DIR": str(data)})
    assert done.returncode == 2, done.stderr
    owner = "user id 54321" if os.geteuid() == 0 else None
    [line] = done.stderr.splitlines()
    assert line.startswith(f"mediadesk: The data folder {data} cannot be read: Permission denied")
    assert "settings.toml" not in line  # was: "The settings file …/settings.toml cannot be read"
    assert owner is None or f"Run MediaDesk as {owner}, who owns {data}," in line, line
    assert done.stdout == ""


def test_the_desktop_says_which_folder_and_whose(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("the box names the owner the test gives the folder, which needs root")
    data = _locked_data_folder(tmp_path)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MEDIADESK_")}
    done = subprocess.run(
        [*DROP_CAPS, sys.executable, "-c", DESKTOP, "--language", "es", "--data-dir", str(data)],
        cwd=ROOT,
        env={**clean, "QT_QPA_PLATFORM": "offscreen"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    [(title, text, detail)] = json.loads(done.stdout.splitlines()[-1])
    assert title == "MediaDesk no puede usar su carpeta de datos."  # was: "…un ajuste no es válido"
    assert text.startswith(  # was: "como user id 54321", in English
        f"La carpeta de datos {data} no se puede usar: el usuario root no puede leerla: ejecuta "
        f"MediaDesk como el usuario con id 54321, propietario de {data}, o da acceso a root. "
        "Se indicó con --data-dir."
    ), text
    assert "settings.toml" not in text.split("\n\n")[0]  # only the line naming the file itself
    assert detail == ""  # as for the other data folders it cannot use: the sentence says it


@pytest.mark.parametrize("command", [("doctor",), ("maintenance",)], ids=" ".join)
def test_a_settings_file_that_is_a_folder_is_refused(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    data = tmp_path / "data"
    (data / "settings.toml").mkdir(parents=True)
    done = cli(*command, "--data-dir", str(data))
    assert done.returncode == 2, done.stdout + done.stderr  # doctor said "All good.", exit 0
    assert done.stderr.splitlines() == [
        f"mediadesk: The settings file {data / 'settings.toml'} is a folder, not a file: remove "
        "or rename that folder, or point MEDIADESK_CONFIG_FILE at a file"
    ]


def test_a_config_file_behind_a_folder_this_user_may_not_enter(tmp_path: Path) -> None:
    """MEDIADESK_CONFIG_FILE under another user's folder: that folder, not the file."""
    outer = tmp_path / "config"
    (outer / "inner").mkdir(parents=True)
    config = outer / "inner" / "settings.toml"
    config.write_text("server_port = 8765\n")
    _not_ours(outer, 0o700)
    done = _as_another_user(
        "doctor",
        "--data-dir",
        str(tmp_path / "data"),
        env={"MEDIADESK_CONFIG_FILE": str(config)},
    )
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith(
        f"mediadesk: The folder {outer}, which holds the settings file {config}, cannot be read: "
        "Permission denied"
    ), line


def test_dev_null_as_the_settings_file_is_no_settings(tmp_path: Path) -> None:
    """Neither a file nor a folder: still read as no settings, as before (never opened: a
    FIFO would hold the start)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIADESK_")}
    done = subprocess.run(
        [sys.executable, "-c", ENTRY, "token", "list", "--data-dir", str(tmp_path / "data")],
        cwd=ROOT,
        env={**env, "MEDIADESK_CONFIG_FILE": os.devnull},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def test_a_settings_link_that_loops_names_the_file_not_its_readable_folder(
    tmp_path: Path,
) -> None:
    """A regression hunter's repro: settings.toml -> itself (ELOOP) was blamed on its folder,
    readable, with "Run MediaDesk as root, who owns …" to root. The file is what is wrong; a
    dangling link is still no settings, as before."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "settings.toml").symlink_to("settings.toml")
    done = cli("doctor", "--data-dir", str(data))
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.splitlines() == [
        f"mediadesk: The settings file {data / 'settings.toml'} cannot be read: Too many levels "
        "of symbolic links. Fix or remove it"
    ]
    (data / "settings.toml").unlink()
    (data / "settings.toml").symlink_to(tmp_path / "nowhere.toml")
    assert cli("doctor", "--data-dir", str(data)).returncode == 0
