"""What the catalog keeps between queries until the catalog changes (core/catalog.py).

Two kinds of entries, both tagged with the catalog's state when they were read (a `token`:
this process's commit generation and the newest change-log id, core/feed.py) and used only by
a query that reads the same state:

- `Anchors`: where an `?offset=` lands in a listing without search, every SPACING-th row's sort
  key and id, so a deep offset seeks from the nearest anchor instead of stepping from the start.
- `MatchSet`: a search's matches (ids and every sort key, as SQLite stores them) for a term with
  up to some thousands of them: its pages in any sort, by cursor or offset, come from sorting
  these in Python instead of walking the sort key's index past the files that do not match.

Values are kept as stored (dates as SQLite's text), so Python orders them as SQLite does.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

Token = tuple[int, int]


@dataclass(frozen=True)
class Anchors:
    """A listing's rows at positions SPACING-1, 2*SPACING-1, ... as (stored key, id), read in
    one snapshot; `complete`: the listing ended before the next anchor."""

    keys: tuple[tuple[Any, int], ...]
    complete: bool


@dataclass(frozen=True)
class MatchSet:
    """A search's matches under its filters: rows of (id, stored sort keys...), `fields` naming
    the columns after the id."""

    rows: tuple[tuple[Any, ...], ...]
    fields: tuple[str, ...]
    # each sort's order, computed the first time it is asked (the same result from any thread)
    _orders: dict[str, tuple[list[tuple[Any, int]], list[int], list[int]]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def __len__(self) -> int:
        return len(self.rows)

    def _order(self, key: str) -> tuple[list[tuple[Any, int]], list[int], list[int]]:
        """(valued (key, id) ascending, their ids, ids of NULL keys ascending)."""
        got = self._orders.get(key)
        if got is None:
            i = self.fields.index(key) + 1
            valued = sorted((r[i], r[0]) for r in self.rows if r[i] is not None)
            nulls = sorted(r[0] for r in self.rows if r[i] is None)
            got = self._orders.setdefault(key, (valued, [v[1] for v in valued], nulls))
        return got

    def page(
        self,
        key: str,
        desc: bool,
        nulls_first: bool,
        after: tuple[Any, int] | None,
        limit: int,
        offset: int = 0,
    ) -> list[int]:
        """The ids of a page in the catalog's order (Catalog._seek's: values by (key, id), then
        NULL keys by id, the same direction; the NULLs first when `nulls_first`), after the
        cursor's (stored value, id). Raises TypeError for a cursor value of another type."""
        valued, valued_ids, nulls = self._order(key)

        def rest(ids: list[int], start: int | None, end: int | None) -> list[int]:
            part = ids[start:end]
            return part[::-1] if desc else part

        if after is None:
            parts = [rest(valued_ids, None, None), rest(nulls, None, None)]
            if nulls_first:
                parts.reverse()
        elif after[0] is None:  # in the NULLs
            if desc:
                parts = [rest(nulls, None, bisect_left(nulls, after[1]))]
            else:
                parts = [rest(nulls, bisect_right(nulls, after[1]), None)]
            if nulls_first:
                parts.append(rest(valued_ids, None, None))
        else:
            if desc:
                parts = [rest(valued_ids, None, bisect_left(valued, after))]
            else:
                parts = [rest(valued_ids, bisect_right(valued, after), None)]
            if not nulls_first:
                parts.append(rest(nulls, None, None))
        out: list[int] = []
        for part in parts:
            if offset >= len(part):
                offset -= len(part)
                continue
            out += part[offset : offset + limit - len(out)]
            offset = 0
            if len(out) == limit:
                break
        return out


class Memo:
    """Entries by key, each valid for one token, least recently used dropped first: at most
    `entries` of them and `weight` in all (a match set weighs its rows)."""

    def __init__(self, entries: int, weight: int) -> None:
        self._entries = entries
        self._weight = weight
        self._items: OrderedDict[Any, tuple[Token, Any, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any, token: Token) -> Any:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            if item[0] != token:  # the catalog changed since: never used again
                del self._items[key]
                return None
            self._items.move_to_end(key)
            return item[1]

    def put(self, key: Any, token: Token, value: Any, weight: int = 1) -> None:
        if weight > self._weight:
            return
        with self._lock:
            self._items.pop(key, None)
            self._items[key] = (token, value, weight)
            total = sum(w for _t, _v, w in self._items.values())
            while len(self._items) > self._entries or total > self._weight:
                _key, (_t, _v, w) = self._items.popitem(last=False)
                total -= w

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
