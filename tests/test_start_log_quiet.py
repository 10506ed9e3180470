"""A start logged some 30 INFO lines of Alembic's plugin set-up ("setup plugin
alembic.autogenerate.schemas", …) before `mediadesk serve`'s banner, at every start of every
process (an outside newcomer counted 44 INFO lines around the first token). The migration's own
lines ("Running upgrade …") are kept: they say what a first start or an upgrade is doing."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from core.library import Library
from tests.conftest import make_settings


def test_a_start_logs_no_alembic_plugin_set_up(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    settings = make_settings(tmp_path / "data")
    Library.open(settings).close()  # a first start: the migrations run
    Library.open(settings).close()  # a later one
    names = [r.name for r in caplog.records]
    assert not [n for n in names if n.startswith("alembic.runtime.plugins")], names
    # the migration's lines stay (whether this start ran any depends on the worker's template)
    assert logging.getLogger("alembic.runtime.migration").isEnabledFor(logging.INFO)
