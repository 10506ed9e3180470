"""One logger-name scheme: each module logs through `logger = logging.getLogger(__name__)`, so a
log line's `logger` (JSON) or name (text) is the module path (core.ingest, server.streaming,
desktop_app.preview.video_player) and levels can be set per package."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "server", "desktop_app")
ROOT_LOGGER_CALLS = {"debug", "info", "warning", "error", "exception", "critical", "log"}


def _is_get_logger(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "getLogger"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "logging"
    )


def _is_dunder_name(call: ast.Call) -> bool:
    return (
        len(call.args) == 1 and isinstance(call.args[0], ast.Name) and call.args[0].id == "__name__"
    )


def logger_problems(source: str, where: str) -> list[str]:
    tree = ast.parse(source)
    problems: list[str] = []
    module_level = {id(stmt.value) for stmt in tree.body if isinstance(stmt, ast.Assign)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and _is_get_logger(node.value):
            assert isinstance(node.value, ast.Call)
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            if id(node.value) in module_level and (
                names != ["logger"] or not _is_dunder_name(node.value)
            ):
                problems.append(f"{where}:{node.lineno}: use logger = logging.getLogger(__name__)")
        if _is_get_logger(node):
            assert isinstance(node, ast.Call)
            arg = node.args[0] if node.args else None
            # our own loggers are named by module, never spelled out (nor under another root)
            if isinstance(arg, ast.Constant) and str(arg.value).split(".")[0] in (
                *PACKAGES,
                "mediadesk",
            ):
                problems.append(f"{where}:{node.lineno}: getLogger({arg.value!r}): use __name__")
            if _is_dunder_name(node) and id(node) not in module_level:
                problems.append(f"{where}:{node.lineno}: the module logger belongs at the top")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "logging"
            and node.func.attr in ROOT_LOGGER_CALLS
        ):
            problems.append(f"{where}:{node.lineno}: logging.{node.func.attr}() logs as root")
    return problems


def test_every_module_logger_is_named_by_its_module() -> None:
    problems: list[str] = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            where = str(path.relative_to(ROOT))
            problems += logger_problems(path.read_text(encoding="utf-8"), where)
    assert problems == []


def test_the_check_catches_other_schemes() -> None:
    assert logger_problems("import logging\nlogger = logging.getLogger(__name__)\n", "ok") == []
    for bad in (
        "log = logging.getLogger(__name__)",
        "logger = logging.getLogger('mediadesk.server')",
        "logger = logging.getLogger('core.ingest')",
        "def f():\n    logging.warning('x')",
    ):
        assert logger_problems(f"import logging\n{bad}\n", "bad"), bad
