"""PostgreSQL refusing the catalog's sign-in when MediaDesk STARTS is the set-up fault it is
when a running server meets it (catalog_refused), and the logs name it so.

Before: Library.open's first connection went through core.db.engine.unopenable, which knew
no refusal: the desktop's start-up box said "The storage cannot be reached. Check the
connection and the storage settings.", its log "Cannot open the library (the catalog cannot
be reached; …)", and a background loop meeting a password rotation (the video worker) "waits
for the catalog: the catalog cannot be reached". Now unopenable raises reason catalog_refused,
and core.logsetup says "the catalog's database server refuses MediaDesk's sign-in".

A PostgreSQL cluster of the test's own that asks for passwords (scram-sha-256); the desktop's
own start-up path (open_library, show_startup_error) with pytest-qt.
"""

from __future__ import annotations

import logging
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from core.errors import StorageUnavailable
from core.library import Library
from core.logsetup import OutageLogFilter, OutageReports, outage_cause
from tests.conftest import make_settings
from tests.pg_server import Cluster, pg_cluster  # noqa: F401

pytestmark = pytest.mark.timeout(90)
PASSWORD = "right-pass-4Hd"
WRONG = "wrong-pass-8Tq"
REFUSED = "the catalog's database server refuses MediaDesk's sign-in"


def _scram_url(cluster: Cluster) -> str:
    """A role signing in with a password to a database of its own; the URL with WRONG."""
    admin_url = cluster.url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin_url, autocommit=True) as su:
        su.execute(f"CREATE ROLE team LOGIN PASSWORD '{PASSWORD}'")
        su.execute("CREATE DATABASE library OWNER team")
        (cluster.data / "pg_hba.conf").write_text(
            "local all all trust\nhost all mediadesk 127.0.0.1/32 trust\n"
            "host all all 127.0.0.1/32 scram-sha-256\n"
        )
        su.execute("SELECT pg_reload_conf()")
    return f"postgresql+psycopg://team:{WRONG}@127.0.0.1:{cluster.port}/library"


def test_a_wrong_password_at_start_is_catalog_refused_in_the_box_and_the_logs(
    pg_cluster: Cluster,  # noqa: F811
    tmp_path: Path,
    qapp,  # type: ignore[no-untyped-def]  # noqa: ANN001
) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from desktop_app.app import open_library, open_with_window_state, show_startup_error
    from desktop_app.i18n import install_translations

    url = _scram_url(pg_cluster)
    settings = make_settings(tmp_path, database_url=url)
    with pytest.raises(StorageUnavailable) as raised:
        Library.open(settings)
    exc = raised.value
    assert exc.reason == "catalog_refused", exc
    assert "password authentication failed" in exc.message, exc.message
    assert WRONG not in exc.message

    # the desktop's start: its own opener behind the splash, then the box run_gui shows
    install_translations("en")
    with pytest.raises(StorageUnavailable) as met:
        open_library(qapp, settings, open_with_window_state)
    shown: list[str] = []

    def read_and_close() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, read_and_close)
            return
        shown.append(box.informativeText())
        box.reject()

    QTimer.singleShot(0, read_and_close)
    show_startup_error("MediaDesk cannot open its library.", met.value, "settings.toml")
    assert len(shown) == 1, shown
    assert "refused its sign-in" in shown[0], shown
    assert "cannot be reached" not in shown[0], shown

    # the log: run_gui's logger.exception through the filter every handler has
    lines: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = lines.append  # type: ignore[method-assign,assignment]
    handler.addFilter(OutageLogFilter())
    log = logging.getLogger("test_refused_at_start")
    log.addHandler(handler)
    try:
        try:
            raise met.value
        except StorageUnavailable:
            log.exception("Cannot open the library")
    finally:
        log.removeHandler(handler)
    assert len(lines) == 1 and REFUSED in lines[0].getMessage(), lines[0].getMessage()
    assert "cannot be reached" not in lines[0].getMessage()


def test_a_background_loop_meeting_a_refusal_says_the_sign_in_is_refused(
    pg_cluster: Cluster,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    """What a loop's own engine meets during a password rotation: psycopg's raw refusal."""
    engine = create_engine(_scram_url(pg_cluster))
    try:
        with pytest.raises(SQLAlchemyError) as raised, engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    finally:
        engine.dispose()
    assert outage_cause(raised.value) == REFUSED
    with caplog.at_level(logging.WARNING):
        logged = OutageReports().log(
            logging.getLogger("core.video.worker"),
            raised.value,
            "Video worker %s waits for the catalog",
            "w#1",
        )
    assert logged
    [line] = [r.getMessage() for r in caplog.records]
    assert REFUSED in line and "cannot be reached" not in line, line
