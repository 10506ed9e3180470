"""Shared pytest fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.s3_server import moto_server, s3_bucket  # noqa: F401


@pytest.fixture
def tmp_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty MediaDesk data folder (settings file included) used instead of the user's."""
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("MEDIADESK_DATA_DIR", str(data))
    monkeypatch.setenv("MEDIADESK_CONFIG_FILE", str(data / "settings.toml"))
    return data
