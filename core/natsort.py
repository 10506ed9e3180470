"""Natural order for names: "game_5" before "game_10", case-insensitive, digits by value."""

from __future__ import annotations

import re

_PARTS = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """A sort key comparing digit runs as numbers and the rest case-folded.

    Every part is a (kind, value) pair so that numbers and text never compare directly.
    """
    out: list[tuple[int, int | str]] = []
    for i, part in enumerate(_PARTS.split(name)):
        if i % 2:
            out.append((0, int(part)))
        elif part:
            out.append((1, part.casefold()))
    return tuple(out)
