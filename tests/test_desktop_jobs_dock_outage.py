"""The Jobs panel through a team's PostgreSQL catalog restart (outside tester, team mode).

A read of the job list that met the outage wrote the sentence of a catalog out of reach under
the table, on one line (~1,900 px in English): the panels tabbed with the Jobs panel all take
the widest one's least width, so both desktops of the team grew to 1,952 px on a 1,400 px
screen, the details panel out of sight, and could not be made narrower until a restart. The
sentence also stayed once the catalog was back and the list had been read again, and nothing
read it again without a job's event. Now it wraps, the list is asked again by itself, and the
sentence goes with the first list read.

Real PostgreSQL (tests/pg_server.py `pg_cluster`), stopped and started under the panel.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from core.library import Library  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from desktop_app.views import jobs_dock  # noqa: E402
from desktop_app.views.jobs_dock import JobsDock  # noqa: E402
from tests.conftest import make_settings  # noqa: E402
from tests.pg_server import Cluster, pg_cluster  # noqa: E402, F401
from tests.qt_helpers import wait_for  # noqa: E402

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def team_library(pg_cluster: Cluster, tmp_path: Path) -> Iterator[Library]:  # noqa: F811
    lib = Library.open(make_settings(tmp_path / "data", database_url=pg_cluster.url))
    yield lib
    lib.close()


def test_an_outage_read_wraps_and_goes_once_the_list_is_read_again(
    qtbot: Any,
    qapp: Any,
    team_library: Library,
    pg_cluster: Cluster,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    install_translations("en")
    monkeypatch.setattr(jobs_dock, "READ_AGAIN_MS", 500)
    team_library.jobs.enqueue(1, ["web"])
    dock = JobsDock(team_library)
    qtbot.addWidget(dock)
    dock.resize(900, 300)
    dock.show()
    try:
        dock.refresh()
        wait_for(qtbot, lambda: dock.table.rowCount() == 1)
        before = dock.minimumSizeHint().width()
        pg_cluster.stop()
        dock.refresh()
        wait_for(qtbot, lambda: "catalog" in dock.status.text(), timeout=30_000)
        said = dock.status.text()
        width = dock.fontMetrics().horizontalAdvance(said)
        assert width > 1000, (width, said)  # the sentence this is about: long
        assert dock.minimumSizeHint().width() < 600, (dock.minimumSizeHint(), before)
        assert dock.status.minimumSizeHint().width() < 600
        pg_cluster.start()
        # asked again by itself: no job event comes while the catalog was away
        wait_for(qtbot, lambda: dock.status.text() == "", timeout=60_000)
        assert dock.table.rowCount() == 1
    finally:
        dock.shutdown()
