"""Shared fixtures: settings in temporary folders, libraries on both backends, media, moto."""

from __future__ import annotations

import atexit
import gc
import logging
import os
import shutil
import socket
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia*=false")
for _name in list(os.environ):
    # Tests never read the developer's own settings or credentials.
    if _name.startswith(("R2_", "MEDIADESK_")) or _name in (
        "DATABASE_URL",
        "MAX_FILE_SIZE",
        "PRESIGNED_URL_EXPIRY",
    ):
        del os.environ[_name]
os.environ["MEDIADESK_SECRETS"] = "file"  # never the developer's system keyring
# Nor the user's config folder: Qt keeps its file dialogs' column widths and last folders in
# $XDG_CONFIG_HOME/QtProject.conf, which made dialog tests depend on what earlier runs saved.
_config_home = tempfile.mkdtemp(prefix="mediadesk-test-config-")
os.environ["XDG_CONFIG_HOME"] = _config_home
atexit.register(shutil.rmtree, _config_home, ignore_errors=True)
logging.getLogger("werkzeug").setLevel(logging.ERROR)

from sqlalchemy.engine import Engine  # noqa: E402

from core.db.migrate import upgrade as _real_upgrade  # noqa: E402
from core.library import Library  # noqa: E402
from desktop_app.qt_guard import protect  # noqa: E402

protect()  # as the app does at start-up: a leaking Qt binding must not abort the test run
from core.settings import Settings, load_settings  # noqa: E402
from tests.media_fixtures import media_dir  # noqa: E402, F401
from tests.s3_server import S3Target, moto_server, s3_bucket  # noqa: E402, F401
from tests.server_fixtures import api, live, s3_live, tokens  # noqa: E402, F401
from tests.worker_crashes import pytest_runtest_logreport, pytest_sessionfinish  # noqa: E402, F401


def pytest_configure(config: pytest.Config) -> None:
    # A test worker's garbage collector ran a young collection every 700 allocations over a
    # heap of ~0.7M objects (imports, fixtures, Qt wrappers): ~13 % of a worker's CPU went on
    # collections (a CPU-bound suite on two cores; gc callbacks measured it). Fewer young
    # collections; the modules' objects frozen once collected (pytest_collection_finish).
    # An eighth of the suite, A/B: 147 → 128 s of user time.
    gc.set_threshold(10_000, 20, 20)


def pytest_collection_finish(session: pytest.Session) -> None:
    # every test module is imported by now: what they made lives until the worker ends, so
    # later full collections need not walk it again
    gc.collect()
    gc.freeze()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings with everything under `data_dir` and no settings file.

    The embedded server gets a free port, not 8765: tests run in parallel (pytest-xdist) next
    to each other and next to a developer's own MediaDesk.
    """
    overrides.setdefault("server_port", _free_port())
    return load_settings(
        environ={}, config_file=data_dir / "settings.toml", data_dir=str(data_dir), **overrides
    )


def r2_settings(bucket: S3Target) -> dict[str, str]:
    """The make_settings keywords that put a library's storage on `bucket` (moto's S3 server)."""
    return {
        "r2_endpoint_url": bucket.endpoint_url,
        "r2_bucket_name": bucket.bucket,
        "r2_access_key_id": bucket.access_key_id,
        "r2_secret_access_key": bucket.secret_access_key,
        "r2_region": "us-east-1",
    }


def make_s3_settings(data_dir: Path, bucket: S3Target, **overrides: object) -> Settings:
    """make_settings with the storage on `bucket`."""
    return make_settings(data_dir, **r2_settings(bucket), **overrides)


_template_catalog: Path | None = None


def _migrated_template() -> Path:
    """An empty SQLite catalog this worker migrated to head once, through the real path."""
    global _template_catalog
    if _template_catalog is None:
        from core.db.engine import Database

        folder = Path(tempfile.mkdtemp(prefix="mediadesk-test-template-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        db = Database(f"sqlite:///{folder / 'catalog.db'}")
        try:
            _real_upgrade(db.engine)
        finally:
            db.dispose()
        _template_catalog = folder / "catalog.db"
    return _template_catalog


def _upgrade_from_template(
    engine: Engine, revision: str = "head", on_start: Callable[[], None] | None = None
) -> None:
    """Library.open's upgrade, with a brand-new SQLite catalog first made a page copy of the
    worker's template: running the ~30 Alembic migrations took 0.2-0.4 s of every test that
    opens a library (minutes of the suite). The real upgrade still runs after it (the newer-
    schema check; at head it has nothing left to do), any other catalog goes the real way,
    and the template itself is made by the real path, so a broken migration fails every test."""
    if revision == "head" and engine.dialect.name == "sqlite":
        template = _migrated_template()
        with engine.connect() as connection:
            raw = connection.connection.dbapi_connection
            if raw is not None and not raw.execute("SELECT 1 FROM sqlite_master").fetchone():
                source = sqlite3.connect(template)
                try:
                    source.backup(raw)
                finally:
                    source.close()
    _real_upgrade(engine, revision, on_start=on_start)


@pytest.fixture(autouse=True)
def _catalogs_from_template(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("core.library.upgrade", _upgrade_from_template)


@pytest.fixture(autouse=True)
def _environment_restored() -> Iterator[None]:
    """Each test leaves the process environment as it found it: `mediadesk --data-dir FOLDER`
    run in-process (desktop_app.cli.main) sets MEDIADESK_DATA_DIR for the whole process, as it
    should for a real start, and the tests after it on the same worker read that folder as the
    environment's (test_desktop_settings_guard failed after test_desktop_server)."""
    saved = dict(os.environ)
    yield
    if os.environ != saved:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture
def alembic_migrations(monkeypatch: pytest.MonkeyPatch) -> None:
    """Library.open migrates a new SQLite catalog through Alembic itself, not from the
    template (set up after the autouse fixture above, so it wins)."""
    monkeypatch.setattr("core.library.upgrade", _real_upgrade)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture(params=["local", "s3"])
def backend_settings(request: pytest.FixtureRequest, data_dir: Path) -> Settings:
    """The settings of a library on each backend: local storage, then moto's S3 server."""
    if request.param == "local":
        return make_settings(data_dir)
    return request.getfixturevalue("s3_settings")  # type: ignore[no-any-return]


@pytest.fixture
def tmp_data(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty data folder that the environment points at (for code reading os.environ)."""
    monkeypatch.setenv("MEDIADESK_DATA_DIR", str(data_dir))
    monkeypatch.setenv("MEDIADESK_CONFIG_FILE", str(data_dir / "settings.toml"))
    return data_dir


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    return make_settings(data_dir)


@pytest.fixture
def library(settings: Settings) -> Iterator[Library]:
    lib = Library.open(settings)
    yield lib
    lib.close()


@pytest.fixture
def s3_settings(data_dir: Path, s3_bucket: S3Target) -> Settings:
    return make_s3_settings(
        data_dir,
        s3_bucket,
        multipart_threshold=5 * 1024 * 1024,
        multipart_chunk_size=5 * 1024 * 1024,
    )


@pytest.fixture
def s3_library(s3_settings: Settings) -> Iterator[Library]:
    lib = Library.open(s3_settings)
    yield lib
    lib.close()


@pytest.fixture(params=["local", "s3"])
def any_library(request: pytest.FixtureRequest) -> Library:
    """The same test on both storage backends."""
    name = "library" if request.param == "local" else "s3_library"
    return request.getfixturevalue(name)


MODAL_PATIENCE_S = 20.0
"""How long a desktop test may leave a modal dialog unanswered before it is closed and the
test fails naming it (no test waits that long on purpose)."""


@pytest.fixture(autouse=True)
def _moved_sources_go_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A storage migration keeps each moved file's source for a minute for other processes'
    readers, and waits for it at its end: tests that do not test that wait set it back."""
    from core import storage_migration

    monkeypatch.setattr(storage_migration, "SOURCE_KEPT_SECONDS", 0.0)


@pytest.fixture(autouse=True)
def _no_forgotten_modal(request: pytest.FixtureRequest) -> Iterator[None]:
    """A modal question nobody answers blocks its test inside exec() until pytest-timeout ends
    the whole xdist worker ("node down"), which hides which dialog it was and stops the run.
    This closes it after MODAL_PATIENCE_S and fails the test with the dialog's words."""
    if "qtbot" not in request.fixturenames:
        yield
        return
    import time

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

    request.getfixturevalue("qapp")  # the timer needs the application's event loop
    opened: dict[int, float] = {}
    stuck: list[str] = []

    def check() -> None:
        modal = QApplication.activeModalWidget()
        if modal is None:
            opened.clear()
            return
        if time.monotonic() - opened.setdefault(id(modal), time.monotonic()) < MODAL_PATIENCE_S:
            return
        words = modal.text() if isinstance(modal, QMessageBox) else ""
        stuck.append(f"{type(modal).__name__} {modal.windowTitle()!r} {words!r}")
        opened.clear()
        if isinstance(modal, QDialog):
            modal.reject()
        else:
            modal.close()

    timer = QTimer()
    timer.setInterval(1000)
    timer.timeout.connect(check)
    timer.start()
    yield
    timer.stop()
    if stuck:
        pytest.fail(f"a modal dialog stayed unanswered for {MODAL_PATIENCE_S:.0f} s: {stuck}")
