"""RFC 9110 byte ranges, If-Range and conditional requests as pure functions (no aiohttp)."""

from __future__ import annotations

import calendar
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

MAX_RANGES = 16
"""More range-specs than this in one header: the header is ignored and the whole body sent."""

MERGE_GAP = 80
"""Ranges closer than this are coalesced: a gap this small costs less than a part header."""

_DIGITS_MAX = 18  # longer numbers are clamped: beyond any size, and safe for int()
_BIG = 10**_DIGITS_MAX


@dataclass(frozen=True, slots=True)
class NoRange:
    """No usable Range header (absent, malformed, other unit, abusive): send the whole 200."""


@dataclass(frozen=True, slots=True)
class Unsatisfiable:
    """A valid header none of whose ranges overlaps the representation: 416."""


@dataclass(frozen=True, slots=True)
class Satisfiable:
    """Inclusive (start, end) pairs, sorted and coalesced, each inside the representation."""

    ranges: tuple[tuple[int, int], ...]


NO_RANGE = NoRange()
UNSATISFIABLE = Unsatisfiable()
RangeResult = NoRange | Satisfiable | Unsatisfiable

_SPEC = re.compile(r"([0-9]*)[ \t]*-[ \t]*([0-9]*)")
_SIMPLE = re.compile(r"bytes=([0-9]{1,18})-([0-9]{0,18})")


def _num(digits: str) -> int:
    return _BIG if len(digits) > _DIGITS_MAX else int(digits)


def parse_range(header: str | None, size: int) -> RangeResult:
    """Evaluates a Range header against a representation of `size` bytes.

    Per RFC 9110 §14.2 a header with another unit, bad syntax or an invalid spec (`5-2`) is
    ignored (NoRange). A 0-byte representation always gives NoRange: an empty 200 is what
    browsers and media players cope with, where a 416 for a valid empty file trips them up.
    """
    if not header or size <= 0:
        return NO_RANGE
    if simple := _SIMPLE.fullmatch(header):  # the common `bytes=N-` / `bytes=N-M`, fast
        start, last = int(simple.group(1)), simple.group(2)
        if not last:
            return Satisfiable(((start, size - 1),)) if start < size else UNSATISFIABLE
        end = int(last)
        if end < start:
            return NO_RANGE
        return Satisfiable(((start, min(end, size - 1)),)) if start < size else UNSATISFIABLE
    unit, eq, spec_set = header.partition("=")
    if not eq or unit.strip().lower() != "bytes":
        return NO_RANGE
    wanted: list[tuple[int, int]] = []
    specs = 0
    for element in spec_set.split(","):
        element = element.strip(" \t")
        if not element:  # empty list elements are allowed by the list syntax (§5.6.1)
            continue
        specs += 1
        if specs > MAX_RANGES:
            return NO_RANGE
        match = _SPEC.fullmatch(element)
        if match is None:
            return NO_RANGE
        first, last = match.group(1), match.group(2)
        if first:
            start = _num(first)
            if last:
                end = _num(last)
                if end < start:
                    return NO_RANGE
            else:
                end = size - 1
            if start < size:
                wanted.append((start, min(end, size - 1)))
        elif last:
            suffix = _num(last)
            if suffix > 0:
                wanted.append((max(size - suffix, 0), size - 1))
        else:
            return NO_RANGE  # a lone "-"
    if specs == 0:
        return NO_RANGE
    if not wanted:
        return UNSATISFIABLE
    return _coalesce(wanted)


def _coalesce(wanted: list[tuple[int, int]]) -> RangeResult:
    if len(wanted) == 1:
        return Satisfiable((wanted[0],))
    wanted.sort()
    merged = [wanted[0]]
    overlaps = 0
    for start, end in wanted[1:]:
        last_start, last_end = merged[-1]
        if start <= last_end:
            overlaps += 1
            if overlaps > 1:  # §14.2: several overlapping ranges hint at a broken or hostile client
                return NO_RANGE
        if start <= last_end + MERGE_GAP + 1:
            merged[-1] = (last_start, max(last_end, end))
        else:
            merged.append((start, end))
    return Satisfiable(tuple(merged))


def content_range(start: int, end: int, size: int) -> str:
    """The Content-Range value of one satisfied range."""
    return f"bytes {start}-{end}/{size}"


# --- validators ------------------------------------------------------------------------------

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NUM = {name.lower(): i + 1 for i, name in enumerate(_MONTHS)}
_IMF = re.compile(
    r"[A-Za-z]{3}, (\d{2}) ([A-Za-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT", re.ASCII
)
_RFC850 = re.compile(
    r"[A-Za-z]{6,9}, (\d{2})-([A-Za-z]{3})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT", re.ASCII
)
_ASCTIME = re.compile(
    r"[A-Za-z]{3} ([A-Za-z]{3}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})", re.ASCII
)


def epoch_seconds(moment: datetime) -> int:
    """Whole seconds since the epoch; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


@lru_cache(maxsize=1024)
def http_date(moment: datetime | int) -> str:
    """IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) of a datetime or of epoch seconds."""
    seconds = moment if isinstance(moment, int) else epoch_seconds(moment)
    t = time.gmtime(seconds)
    return (
        f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year:04d} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT"
    )


def parse_http_date(value: str) -> int | None:
    """Epoch seconds of an HTTP-date in any of the three formats of RFC 9110 §5.6.7."""
    value = value.strip()
    if m := _IMF.fullmatch(value):
        day, mon, year, hh, mm, ss = m.groups()
    elif m := _RFC850.fullmatch(value):
        day, mon, yy, hh, mm, ss = m.groups()
        this_year = time.gmtime().tm_year
        full = this_year // 100 * 100 + int(yy)
        if full > this_year + 50:  # §5.6.7: more than 50 years ahead means the past century
            full -= 100
        year = str(full)
    elif m := _ASCTIME.fullmatch(value):
        mon, day, hh, mm, ss, year = m.groups()
    else:
        return None
    month = _MONTH_NUM.get(mon.lower())
    if month is None:
        return None
    try:
        datetime(int(year), month, int(day), int(hh), int(mm), int(ss) % 60)
    except ValueError:
        return None
    return calendar.timegm((int(year), month, int(day), int(hh), int(mm), int(ss), 0, 0, 0))


def format_etag(value: str, *, weak: bool = False) -> str:
    """A quoted entity-tag: an existing `"x"` or `W/"x"` is kept, a bare value is quoted."""
    if value.startswith('"') or value.startswith('W/"'):
        return value
    return f'W/"{value}"' if weak else f'"{value}"'


def _etag_list(header: str) -> list[str]:
    """The entity-tags of a list header (`"a", W/"b"`); ["*"] for a lone star."""
    header = header.strip()
    if header == "*":
        return ["*"]
    tags: list[str] = []
    rest = header
    while rest:
        rest = rest.lstrip(" \t,")
        if not rest:
            break
        prefix = ""
        if rest.startswith("W/"):
            prefix, rest = "W/", rest[2:]
        if not rest.startswith('"'):
            return tags  # not a list of entity-tags: stop at the garbage
        close = rest.find('"', 1)
        if close < 0:
            return tags
        tags.append(prefix + rest[: close + 1])
        rest = rest[close + 1 :]
    return tags


def _opaque(tag: str) -> str:
    return tag[2:] if tag.startswith("W/") else tag


def etag_matches(header: str, etag: str, *, weak: bool) -> bool:
    """True when a list header (If-Match, If-None-Match) names `etag` or is `*`.

    Strong comparison (`weak=False`) fails whenever either tag is weak.
    """
    etag = format_etag(etag)
    for tag in _etag_list(header):
        if tag == "*":
            return True
        if weak:
            if _opaque(tag) == _opaque(etag):
                return True
        elif tag == etag and not tag.startswith("W/"):
            return True
    return False


def if_range_allows(header: str, etag: str, last_modified: datetime | int) -> bool:
    """True when If-Range's validator is current, so the Range header may be honoured.

    An entity-tag needs a strong match (a weak tag never matches); an HTTP-date must equal
    Last-Modified to the second. Anything else does not match: the whole body is sent.
    """
    value = header.strip()
    etag = format_etag(etag)
    if value.startswith('"') or value.startswith("W/"):
        return not value.startswith("W/") and value == etag and not etag.startswith("W/")
    date = parse_http_date(value)
    if date is None:
        return False
    lm = last_modified if isinstance(last_modified, int) else epoch_seconds(last_modified)
    return date == lm


def evaluate_preconditions(
    method: str,
    *,
    etag: str,
    last_modified: datetime | int,
    if_match: str | None = None,
    if_none_match: str | None = None,
    if_modified_since: str | None = None,
    if_unmodified_since: str | None = None,
) -> int | None:
    """RFC 9110 §13.2.2 in order: None to go on, 412 (Precondition Failed) or 304."""
    if (
        if_match is None
        and if_none_match is None
        and not if_modified_since
        and not if_unmodified_since
    ):
        return None
    etag = format_etag(etag)
    lm = last_modified if isinstance(last_modified, int) else epoch_seconds(last_modified)
    if if_match is not None:
        if not etag_matches(if_match, etag, weak=False):
            return 412
    elif if_unmodified_since:
        date = parse_http_date(if_unmodified_since)
        if date is not None and lm > date:
            return 412
    safe = method in ("GET", "HEAD")
    if if_none_match is not None:
        if etag_matches(if_none_match, etag, weak=True):
            return 304 if safe else 412
    elif if_modified_since and safe:
        date = parse_http_date(if_modified_since)
        if date is not None and date <= time.time() and lm <= date:
            return 304
    return None
