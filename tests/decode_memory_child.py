"""Child process of tests/test_decode_memory.py: decodes images and reports what the process
really held, beside what the decode budget was charged.

    python -m tests.decode_memory_child together BUDGET_MIB FILE
        an upload's check and thumbnail and two ?w= variants of FILE, all four at once in
        threads, under a DECODE_BUDGET of BUDGET_MIB: one JSON object {grew, charged}
    python -m tests.decode_memory_child each FILE...
        every step (check, thumbnail, variants 1280 and 480) of every FILE alone, one after
        the other: a JSON list of {file, step, grew, charged}

`grew` is the peak resident memory (VmHWM, reset through /proc/self/clear_refs before each
measure: Linux) above the resident memory before it, in MiB; `charged` the most
DECODE_BUDGET held at once, in MiB. Everything is warmed up first (codecs loaded, a first
decode of each format made), so neither counts what a first call sets up once.
"""

from __future__ import annotations

import io
import json
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from core.images import DECODE_BUDGET
from core.mediatypes import sniff_file
from core.thumbnails import make_thumbnail, make_variant
from core.validation import validate_file

MiB = 1024 * 1024


def _status(key: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {key} in /proc/self/status")


def measure(run: Callable[[], None]) -> dict[str, float]:
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # VmHWM back to the resident memory of now
    before = _status("VmRSS")
    DECODE_BUDGET.reset_peak()
    run()
    return {
        "grew": round((_status("VmHWM") - before) / MiB, 1),
        "charged": round(DECODE_BUDGET.peak / MiB, 1),
    }


def steps(path: Path) -> dict[str, Callable[[], object]]:
    data = path.read_bytes()
    mime = sniff_file(path).mime
    return {
        "check": lambda: validate_file(path, "image", 10**10),
        "thumbnail": lambda: make_thumbnail(path, mime),
        "w1280": lambda: make_variant(io.BytesIO(data), 1280),
        "w480": lambda: make_variant(io.BytesIO(data), 480),
    }


def _warm_up(folder: Path) -> None:
    small = Image.linear_gradient("L").resize((300, 200)).convert("RGB")
    options: dict[str, bool]
    for name, options in (
        ("a.webp", {}),
        ("b.webp", {"lossless": True}),
        ("a.png", {}),
        ("a.jpg", {"progressive": True}),
        ("a.gif", {}),
    ):
        path = folder / name
        small.save(path, None, **options)
        for step in steps(path).values():
            step()


def together(budget: int, path: Path) -> dict[str, float]:
    DECODE_BUDGET.budget = budget * MiB
    failures: list[BaseException] = []

    def run(step: Callable[[], object]) -> None:
        try:
            step()
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)

    def all_at_once() -> None:
        threads = [threading.Thread(target=run, args=(s,)) for s in steps(path).values()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    result = measure(all_at_once)
    if failures:
        raise failures[0]
    return result


def each(paths: list[Path]) -> list[dict[str, object]]:
    return [
        {"file": path.name, "step": name, **measure(lambda s=step: s())}  # type: ignore[misc]
        for path in paths
        for name, step in steps(path).items()
    ]


def main(argv: list[str]) -> None:
    mode, *rest = argv
    folder = Path(rest[-1]).parent / "warm-up"
    folder.mkdir(exist_ok=True)
    _warm_up(folder)
    if mode == "together":
        print(json.dumps(together(int(rest[0]), Path(rest[1]))))
    else:
        print(json.dumps(each([Path(p) for p in rest])))


if __name__ == "__main__":
    main(sys.argv[1:])
