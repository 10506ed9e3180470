"""Which MediaDesk runs, and a first start that upgrades the catalog says so.

An outside tester upgraded a real 0.1 library (commit 9f4b8b0) to main:

- main still called itself 0.1.0 (pyproject.toml, /health, OpenAPI info.version, About), and
  `mediadesk --version` did not exist: nobody could tell whether the upgrade had happened.
- The desktop's first start on a 0.1 catalog of 300,000 files migrated it for a minute behind
  a splash that said only "Opening the library…": a user may take it for hung and kill it.

Real SQLite files, a real server over loopback, real `mediadesk` processes, a real
QSplashScreen.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

from core.db.migrate import script_heads
from server.entry import EmbeddedServer
from tests.faults import ROOT
from tests.server_fixtures import http_call

# Each released version and the catalog schema it left: a version whose migrations go further
# is another version (0.1.0 is commit 9f4b8b0, whose only migration was 0001).
RELEASED = {"0.1.0": {"0001"}}
OLD = "0001"


def _project_version() -> str:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return str(project["version"])


def _run(
    code: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


def test_a_version_that_migrates_past_a_release_is_not_that_release() -> None:
    version = _project_version()
    assert RELEASED.get(version, script_heads()) == script_heads(), (
        f"pyproject.toml still says {version}, whose catalogs were at schema "
        f"{sorted(RELEASED[version])}; this code migrates them to {sorted(script_heads())}"
    )


def test_mediadesk_version_names_the_version_and_the_schema(tmp_path: Path) -> None:
    """Without a window or a catalog: it must answer on a server without a display, and before
    an upgrade (which opening the catalog would run)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEDIADESK_", "DISPLAY"))}
    env["MEDIADESK_DATA_DIR"] = str(tmp_path / "data")
    code = (
        "import sys\n"
        "from desktop_app.cli import main\n"
        "try:\n"
        "    main(sys.argv[1:])\n"
        "finally:\n"
        "    loaded = {m.split('.')[0] for m in sys.modules}\n"
        "    sys.stderr.write(' '.join(sorted({'PySide6', 'alembic'} & loaded)))\n"
    )
    done = _run(code, "--version", env=env)
    heads = ", ".join(sorted(script_heads()))
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"mediadesk {_project_version()} (catalog schema {heads})\n"
    assert done.stderr == ""  # neither Qt nor Alembic was loaded
    assert not (tmp_path / "data").exists()
    # the installed command, as a user types it
    command = Path(sys.executable).with_name("mediadesk")
    if command.exists():
        installed = subprocess.run(
            [str(command), "--version"], capture_output=True, text=True, env=env, timeout=60
        )
        assert (installed.returncode, installed.stdout) == (0, done.stdout)


def test_health_and_openapi_say_the_projects_version(live: EmbeddedServer) -> None:
    version = _project_version()
    assert http_call(f"{live.url}/health").json()["version"] == version
    assert http_call(f"{live.url}/openapi.json").json()["info"]["version"] == version


def test_a_checkout_never_installed_says_the_projects_version() -> None:
    """The OpenAPI document's fallback was a second number written in the code ("0.1.0"),
    stale once pyproject.toml moved on; the About box's said "(development)"."""
    code = (
        "import importlib.metadata as m, json\n"
        "def missing(name):\n"
        "    raise m.PackageNotFoundError(name)\n"
        "m.version = missing\n"
        "from server.openapi import version\n"
        "from desktop_app.resources import app_version\n"
        "print(json.dumps([version(), app_version()]))\n"
    )
    done = _run(code)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [_project_version()] * 2
