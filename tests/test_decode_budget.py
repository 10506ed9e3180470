"""The process-wide decode budget: concurrent ingests of big images never hold more decoded
pixels at once than the budget, and an image bigger than the whole budget still goes in alone."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from core.images import DECODE_BUDGET
from core.library import Library

SIDE = 1000  # an RGBA PNG of 1000 x 1000: 4,000,000 bytes decoded, a few KB on disk
DECODED = SIDE * SIDE * 4


@pytest.fixture
def budget() -> Iterator[None]:
    saved = DECODE_BUDGET.budget
    DECODE_BUDGET.reset_peak()
    yield
    DECODE_BUDGET.budget = saved


def _pngs(folder: Path, count: int) -> list[Path]:
    paths = []
    for k in range(count):
        path = folder / f"big{k}.png"
        Image.new("RGBA", (SIDE, SIDE), (k, 0, 0, 255)).save(path)
        paths.append(path)
    return paths


def _wait_for(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 20
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


def test_concurrent_ingests_wait_for_room_in_the_decode_budget(
    library: Library, tmp_path: Path, budget: None
) -> None:
    # Room for two of these at once: what one ingest's dearest decode costs (its thumbnail's
    # fit, core.images.fit_cost: more than the 4 MB decoded), found by ingesting one alone.
    alone = tmp_path / "alone.png"
    Image.new("RGBA", (SIDE, SIDE), (0, 255, 0, 255)).save(alone)  # not a copy of the four
    library.uploads.ingest(alone, "image")
    DECODE_BUDGET.budget = 2 * DECODE_BUDGET.peak + DECODE_BUDGET.peak // 2
    DECODE_BUDGET.reset_peak()
    paths = _pngs(tmp_path, 4)
    errors: list[BaseException] = []

    def ingest(path: Path) -> None:
        try:
            library.uploads.ingest(path, "image")
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread
            errors.append(exc)

    # This test holds the whole budget: every ingest must wait at the gate before decoding.
    with DECODE_BUDGET.hold(DECODE_BUDGET.budget):
        threads = [threading.Thread(target=ingest, args=(p,)) for p in paths]
        for t in threads:
            t.start()
        _wait_for(lambda: DECODE_BUDGET.waiting == len(paths) or errors, "ingests not waiting")
        assert not errors
    for t in threads:
        t.join(60)
    assert not errors
    assert library.list_files().total == len(paths) + 1
    # Two decodes (or the test's hold) at most were ever in flight together.
    assert DECODE_BUDGET.peak <= DECODE_BUDGET.budget
    assert DECODE_BUDGET.in_flight == 0 and DECODE_BUDGET.waiting == 0


def test_an_image_bigger_than_the_whole_budget_is_decoded_alone(
    library: Library, tmp_path: Path, budget: None
) -> None:
    DECODE_BUDGET.budget = DECODED // 4
    (path,) = _pngs(tmp_path, 1)
    record = library.uploads.ingest(path, "image")
    assert (record.width, record.height) == (SIDE, SIDE) and record.has_thumbnail
    assert DECODE_BUDGET.peak >= DECODED  # admitted alone, over the budget, never refused
    assert DECODE_BUDGET.in_flight == 0
