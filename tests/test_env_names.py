"""MEDIADESK_* variables: every one the code reads is known to core.settings, and one that is
set but read by nothing is said at start (MEDIADESK_MAX_FILE_SIZE for the seed's MAX_FILE_SIZE
was ignored without a word: /config kept the 100 MB default)."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from core import settings as settings_module
from core.settings import ENV_NAMES, OTHER_ENV_NAMES, load_settings, unknown_environment

ROOT = Path(__file__).resolve().parents[1]


def test_every_variable_the_code_reads_is_known() -> None:
    named: set[str] = set()
    for folder in ("core", "server", "desktop_app"):
        for path in (ROOT / folder).rglob("*.py"):
            named |= set(re.findall(r"MEDIADESK_[A-Z0-9_]+", path.read_text(encoding="utf-8")))
    known = set(ENV_NAMES.values()) | OTHER_ENV_NAMES
    assert named - known == set()


def test_a_misspelt_variable_is_said_once_with_the_name_meant(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings_module, "_told_unknown", set())
    env = {
        "MEDIADESK_DATA_DIR": str(tmp_path / "data"),
        "MEDIADESK_MAX_FILE_SIZE": "1234567",
        "MEDIADESK_WORKER": "0",
        "MEDIADESK_SOMETHING_ELSE": "1",
    }
    caplog.set_level(logging.WARNING, logger="core.settings")
    loaded = load_settings(environ=env)
    load_settings(environ=env)
    assert loaded.max_file_size == 100 * 1024 * 1024  # ignored, as before: but now said
    lines = [r.getMessage() for r in caplog.records if r.name == "core.settings"]
    assert lines == [
        "MEDIADESK_MAX_FILE_SIZE is not a MediaDesk setting and is ignored; did you mean "
        "MAX_FILE_SIZE?",
        "MEDIADESK_WORKER is not a MediaDesk setting and is ignored; did you mean "
        "MEDIADESK_WORKERS?",
        "MEDIADESK_SOMETHING_ELSE is not a MediaDesk setting and is ignored (see the README's "
        "settings table)",
    ]
    assert unknown_environment({"MEDIADESK_WORKERS": "2", "PATH": "/bin"}) == {}
