"""Child process of tests/test_desktop_signals_stress.py (a crash must not take pytest down).

Emits every signal signature declared in desktop_app `count` times from QThreadPool workers
(queued to the GUI thread, payloads including None and bools), and posts as many reports
through a `Mailbox`; prints a JSON summary and exits 0 only when every delivery arrived.
"""

from __future__ import annotations

import argparse
import ast
import itertools
import json
import sys
from pathlib import Path

from PySide6.QtCore import (
    QCoreApplication,
    QModelIndex,
    QObject,
    QPoint,
    QRunnable,
    QThreadPool,
    QTimer,
    Signal,
)
from PySide6.QtGui import QImage

from core.records import AthleteRecord
from desktop_app.workers import Mailbox

ROOT = Path(__file__).resolve().parents[1]
TYPES = {"int": int, "str": str, "bool": bool, "object": object, "dict": dict, "list": list}
TYPES["QImage"] = QImage  # type: ignore[assignment]
TYPES["QModelIndex"] = QModelIndex  # type: ignore[assignment]
TYPES["QPoint"] = QPoint  # type: ignore[assignment]


def declared_signatures() -> set[tuple[str, ...]]:
    """The argument types of every `Signal(...)` declared under desktop_app/."""
    found: set[tuple[str, ...]] = set()
    for path in (ROOT / "desktop_app").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "Signal"
            ):
                found.add(tuple(ast.unparse(arg) for arg in node.args))
    return found


def payloads(kind: str) -> list[object]:
    """Values the app could send for a parameter of this type, the dangerous ones first."""
    athlete = AthleteRecord(id=1, name="A")
    return {
        "int": [0, 1, -1, 2**31 - 1],
        "str": ["", "done", "ñandú"],
        "bool": [True, False],
        "object": [None, True, False, athlete, ValueError("x"), {"k": None}],
        "dict": [{}, {"a": None, "b": True}],
        "list": [[], [None, False]],
        "QImage": [QImage(), QImage(2, 2, QImage.Format.Format_RGB32)],
        "QModelIndex": [QModelIndex()],  # the upload queue's keyboard menu (no row: invalid)
        "QPoint": [QPoint(), QPoint(-3, 4)],
    }[kind]


CHUNK = 250  # emits per pool job: many jobs in flight on every pool thread at once


class _Emit(QRunnable):
    def __init__(self, fire: object, calls: list[tuple[object, ...]]) -> None:
        super().__init__()
        self.fire, self.calls = fire, calls

    def run(self) -> None:
        for args in self.calls:
            self.fire(*args)  # type: ignore[operator]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--no-guard", action="store_true")
    options = parser.parse_args()
    app = QCoreApplication([])
    if not options.no_guard:
        from desktop_app.qt_guard import protect

        protect()
    signatures = sorted(declared_signatures())
    attrs = {f"s{i}": Signal(*(TYPES[t] for t in sig)) for i, sig in enumerate(signatures)}
    Emitter = type("Emitter", (QObject,), attrs)  # noqa: N806 - a class
    emitter = Emitter()
    expected = options.count * (len(signatures) + 1)
    received = {"n": 0, "bad": 0}

    def receiver(name: str, sig: tuple[str, ...]):  # type: ignore[no-untyped-def]
        def slot(*args: object) -> None:
            received["n"] += 1
            if len(args) != len(sig):
                received["bad"] += 1
            if received["n"] == expected:
                app.quit()

        return slot

    for i, sig in enumerate(signatures):
        getattr(emitter, f"s{i}").connect(receiver(f"s{i}", sig))
    mailbox = Mailbox(receiver("mailbox", ("int", "object", "bool")))
    pool = QThreadPool()
    pool.setMaxThreadCount(4)
    chunks: list[list[_Emit]] = []
    for i, sig in enumerate(signatures):
        values = [payloads(t) for t in sig]
        combos = itertools.cycle(list(itertools.product(*values)) or [()])
        calls = [next(combos) for _ in range(options.count)]
        emit = getattr(emitter, f"s{i}").emit
        chunks.append([_Emit(emit, calls[n : n + CHUNK]) for n in range(0, len(calls), CHUNK)])
    specials = itertools.cycle([None, True, False])
    posts = [(n, next(specials), n % 2 == 0) for n in range(options.count)]
    chunks.append([_Emit(mailbox.post, posts[n : n + CHUNK]) for n in range(0, len(posts), CHUNK)])
    # Interleave the signatures so every kind of event is in flight at the same time.
    for round_ in itertools.zip_longest(*chunks):
        for job in round_:
            if job is not None:
                pool.start(job)
    QTimer.singleShot(100_000, app.quit)
    app.exec()
    pool.waitForDone()
    json.dump(
        {
            "signatures": [list(s) for s in signatures],
            "expected": expected,
            "received": received["n"],
            "bad": received["bad"],
        },
        sys.stdout,
    )
    return 0 if received["n"] == expected and not received["bad"] else 1


if __name__ == "__main__":
    sys.exit(main())
