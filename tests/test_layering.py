"""Layering: core imports neither Qt nor aiohttp; server never imports the desktop app."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def loaded_after(import_line: str) -> set[str]:
    """The top-level packages a fresh interpreter has loaded after `import_line`."""
    code = f"import sys; {import_line}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    return {name.split(".")[0] for name in out.split()}


def test_core_imports_neither_qt_nor_aiohttp() -> None:
    modules = loaded_after(
        "import core.library, core.maintenance, core.storage.s3, core.storage.local, "
        "core.thumbnails, core.validation"
    )
    assert "PySide6" not in modules
    assert "aiohttp" not in modules
    assert "server" not in modules and "desktop_app" not in modules


def test_server_does_not_import_the_desktop_app() -> None:
    modules = loaded_after("import server.app, server.entry")
    assert "desktop_app" not in modules and "PySide6" not in modules
