"""Layering: the server and the desktop reach core through the Library's methods only.

The Library's parts (database, storage, catalog, presigner) are private; core collaborators get
theirs at construction. A server route or a desktop controller that reached into them would
bypass the façade's rules (locks, deferred deletions, backend routing), so this test reads
their source and fails on any such access.
"""

from __future__ import annotations

import ast
from pathlib import Path

from core.library import Library

ROOT = Path(__file__).resolve().parents[1]
PARTS = {"db", "storage", "catalog", "presigner"}
PRIVATE = {f"_{name}" for name in PARTS}
LIBRARY_NAMES = {"lib", "library", "_library", "app_library"}


def _names_a_library(node: ast.expr) -> bool:
    """`lib`, `self.library`, `library(request)`, `request.app[LIBRARY]` and the like."""
    if isinstance(node, ast.Name):
        return node.id in LIBRARY_NAMES
    if isinstance(node, ast.Attribute):
        return node.attr in LIBRARY_NAMES
    if isinstance(node, ast.Call):
        return _names_a_library(node.func)
    if isinstance(node, ast.Subscript):
        key = node.slice
        return isinstance(key, ast.Name) and key.id == "LIBRARY"
    return False


def _through_a_library(node: ast.expr) -> bool:
    """A library, or one of its collaborators (`lib.feed`, `self.library.jobs`…)."""
    while True:
        if _names_a_library(node):
            return True
        if isinstance(node, ast.Attribute | ast.Subscript):
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        else:
            return False


def violations(source: str, filename: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        where = f"{filename}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Attribute):
            if node.attr in PRIVATE:
                found.append(f"{where}: .{node.attr}")
            elif node.attr in PARTS and _through_a_library(node.value):
                found.append(f"{where}: {ast.unparse(node)}")
        elif (  # getattr(library, "storage") and friends
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in {"getattr", "setattr", "hasattr"}
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value in PARTS | PRIVATE
        ):
            found.append(f"{where}: {ast.unparse(node)}")
    return found


def test_server_and_desktop_use_only_the_facade() -> None:
    found: list[str] = []
    for package in ("server", "desktop_app"):
        for path in sorted((ROOT / package).rglob("*.py")):
            found += violations(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    assert found == []


def test_the_checker_sees_each_way_in() -> None:
    leaks = """
lib.db.read()
self.library.storage.delete(key)
library(request).catalog.get(1)
request.app[LIBRARY].presigner
window.library._storage
getattr(lib, "db")
request.app[LIBRARY].feed.db
self.library.deferred.storage
"""
    assert len(violations(leaks, "leaks.py")) == 8
    fine = (
        "self.storage.setText(t)\nlib.list_objects()\nlibrary.uploads.ingest(p, 'image')\n"
        "window.library.settings.storage_backend\n"
    )
    assert violations(fine, "fine.py") == []


def test_the_library_has_no_public_parts(library: Library) -> None:
    assert not any(hasattr(library, name) for name in PARTS)
