"""Static rules that keep Python objects out of cross-thread Qt signals (see workers.Mailbox).

Worker code (QRunnable/QThread subclasses, threading.Thread targets, EventBus subscribers)
never emits a Qt signal: it posts to a Mailbox, the one door to the GUI thread. And there is
one task helper: only workers.py subclasses QRunnable or makes a QThreadPool; every other module
submits to a TaskRunner.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "desktop_app"
WORKER_BASES = {"QRunnable", "QThread"}
POOL_NAMES = {"QRunnable", "QThreadPool"}
HELPER = APP / "workers.py"


def _modules() -> list[tuple[Path, ast.Module]]:
    return [(p, ast.parse(p.read_text(encoding="utf-8"))) for p in sorted(APP.rglob("*.py"))]


def _emits(node: ast.AST) -> list[int]:
    return [
        n.lineno
        for n in ast.walk(node)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "emit"
    ]


def _base_names(cls: ast.ClassDef) -> set[str]:
    return {b.id if isinstance(b, ast.Name) else ast.unparse(b).split(".")[-1] for b in cls.bases}


def test_worker_classes_post_to_a_mailbox_instead_of_emitting() -> None:
    offenders = []
    for path, tree in _modules():
        for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
            if _base_names(cls) & WORKER_BASES:
                offenders += [f"{path.relative_to(ROOT)}:{line}" for line in _emits(cls)]
    assert not offenders, f"emit() in worker-thread code: {offenders}"


def test_thread_targets_and_bus_subscribers_do_not_emit() -> None:
    offenders = []
    for path, tree in _modules():
        functions = {
            f.name: f
            for f in ast.walk(tree)
            if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
            names: list[str] = []
            if ast.unparse(call.func).endswith("Thread"):
                names += [ast.unparse(k.value) for k in call.keywords if k.arg == "target"]
            if isinstance(call.func, ast.Attribute) and call.func.attr == "subscribe":
                names += [ast.unparse(a) for a in call.args]
            for name in names:
                fn = functions.get(name.split(".")[-1])
                if fn is not None:
                    offenders += [f"{path.relative_to(ROOT)}:{line}" for line in _emits(fn)]
    assert not offenders, f"emit() in code that runs off the GUI thread: {offenders}"


def test_rules_catch_an_emitting_worker(tmp_path: Path) -> None:
    bad = ast.parse(
        "class J(QRunnable):\n    def run(self):\n        self.relay.done.emit(1, None)\n"
    )
    cls = next(n for n in ast.walk(bad) if isinstance(n, ast.ClassDef))
    assert _base_names(cls) & WORKER_BASES and _emits(cls) == [3]


def _pool_uses(tree: ast.Module) -> list[int]:
    """Lines naming QRunnable or QThreadPool: a subclass, a pool, the global pool, an import."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names = {a.name for a in node.names}
        elif isinstance(node, ast.Name):
            names = {node.id}
        elif isinstance(node, ast.Attribute):
            names = {node.attr}
        else:
            continue
        if names & POOL_NAMES:
            lines.append(node.lineno)
    return sorted(set(lines))


def test_only_the_task_helper_runs_threads_of_a_pool() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for path, tree in _modules()
        if path != HELPER
        for line in _pool_uses(tree)
    ]
    assert not offenders, f"QRunnable/QThreadPool outside desktop_app/workers.py: {offenders}"


def test_pool_rule_catches_a_hand_rolled_job() -> None:
    bad = ast.parse(
        "from PySide6 import QtCore\n"
        "class J(QtCore.QRunnable):\n"
        "    def run(self): pass\n"
        "QtCore.QThreadPool.globalInstance().start(J())\n"
    )
    assert _pool_uses(bad) == [2, 4]
    assert _pool_uses(ast.parse("from PySide6.QtCore import QThreadPool\n")) == [1]
    assert _pool_uses(ast.parse("from desktop_app.workers import TaskRunner\n")) == []
    assert any(_pool_uses(tree) for path, tree in _modules() if path == HELPER)
