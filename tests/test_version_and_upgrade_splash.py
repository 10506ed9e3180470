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
import logging
import os
import subprocess
import sys
import threading
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication, QSplashScreen

from core.db.engine import Database
from core.db.migrate import script_heads, upgrade
from core.library import Library
from core.settings import Settings
from desktop_app.app import SPLASH_LOGO, open_library, open_with_window_state
from desktop_app.i18n import install_translations
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


def _old_catalog(catalog: Path) -> None:
    """A catalog as 0.1 left it (revision 0001)."""
    db = Database(f"sqlite:///{catalog}")
    try:
        upgrade(db.engine, OLD)
    finally:
        db.dispose()


def test_upgrade_says_it_starts_once_and_only_when_it_migrates(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    _old_catalog(tmp_path / "old.sqlite3")
    caplog.clear()  # its own migration to 0001
    db = Database(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    started: list[int] = []

    def on_start() -> None:  # before the first migration, which Alembic then logs
        started.append(sum("Running upgrade" in r.getMessage() for r in caplog.records))

    try:
        upgrade(db.engine, on_start=on_start)
        assert started == [0]
        heads = ", ".join(sorted(script_heads()))
        said = [r for r in caplog.records if r.name == "core.db.migrate"]
        assert [r.levelno for r in said if r.getMessage().startswith("Upgrading")] == [logging.INFO]
        assert f"from {OLD} to {heads}" in said[0].getMessage()
        # a current catalog has nothing to say
        caplog.clear()
        upgrade(db.engine, on_start=on_start)
        assert started == [0]
        assert not [r for r in caplog.records if r.getMessage().startswith("Upgrading")]
    finally:
        db.dispose()
    # nor a new one: its set-up is no upgrade
    new = Database(f"sqlite:///{tmp_path / 'new.sqlite3'}")
    try:
        upgrade(new.engine, on_start=on_start)
    finally:
        new.dispose()
    assert started == [0]


def test_library_open_passes_the_upgrade_on(settings: Settings) -> None:
    settings.paths.ensure()
    _old_catalog(settings.paths.database_file)
    told: list[threading.Thread] = []
    for _ in range(2):  # the second start finds it current
        Library.open(settings, on_upgrade=lambda: told.append(threading.current_thread())).close()
    assert told == [threading.current_thread()]


@pytest.mark.parametrize(("language", "first_words"), [("en", "Upgrading"), ("es", "Actualizando")])
def test_the_splash_says_the_library_is_upgrading(  # type: ignore[no-untyped-def]
    qtbot, settings: Settings, language: str, first_words: str
) -> None:
    """A 0.1 catalog opened by the desktop's own opener: the splash says an upgrade runs, in
    the user's language, whole (sized for it), while the migration waits to be seen."""
    settings.paths.ensure()
    _old_catalog(settings.paths.database_file)
    install_translations(language)
    seen: list[tuple[str, float, float, int, int]] = []
    shown = threading.Event()

    def look() -> None:  # on the GUI thread, as open_library's loop runs its events
        for widget in QApplication.topLevelWidgets():
            if (
                isinstance(widget, QSplashScreen)
                and widget.isVisible()
                and widget.message().startswith(first_words)
                and not shown.is_set()
            ):
                lines = widget.message().split("\n")
                fonts = QFontMetrics(widget.font())
                size = widget.pixmap().deviceIndependentSize()
                needed = max(fonts.horizontalAdvance(line) for line in lines)
                tall = fonts.height() + fonts.lineSpacing() * (len(lines) - 1)
                seen.append((widget.message(), size.width(), size.height(), needed, tall))
                shown.set()

    timer = QTimer(interval=10)
    timer.timeout.connect(look)
    timer.start()
    called_in: list[threading.Thread] = []

    def opener(s: Settings, upgrading: Callable[[], None]) -> tuple[Library, dict[str, object]]:
        def told() -> None:
            called_in.append(threading.current_thread())
            upgrading()
            assert shown.wait(10), "the splash never said the library is upgrading"

        return open_with_window_state(s, told)

    try:
        library, _saved = open_library(QApplication.instance(), settings, opener)
    finally:
        timer.stop()
        install_translations("en")
    library.close()
    assert called_in and called_in[0] is not threading.main_thread()
    [(message, width, height, needed, tall)] = seen
    assert message.startswith(first_words), message
    assert len(message.split("\n")) == 2, message
    assert needed <= width - 10  # Qt's 5 px margins
    assert tall <= height - SPLASH_LOGO - 10
