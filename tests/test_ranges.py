"""Range parsing, validators and conditional-request rules (RFC 9110), no server involved."""

from __future__ import annotations

import calendar
import random
from datetime import UTC, datetime, timedelta, timezone

import pytest

from server.ranges import (
    MAX_RANGES,
    NO_RANGE,
    UNSATISFIABLE,
    Satisfiable,
    content_range,
    epoch_seconds,
    etag_matches,
    evaluate_preconditions,
    format_etag,
    http_date,
    if_range_allows,
    parse_http_date,
    parse_range,
)

SIZE = 10_000


@pytest.mark.parametrize(
    ("header", "ranges"),
    [
        ("bytes=0-499", ((0, 499),)),
        ("bytes=500-999", ((500, 999),)),
        ("bytes=-500", ((9500, 9999),)),
        ("bytes=-20000", ((0, 9999),)),  # a suffix longer than the object: all of it
        ("bytes=9500-", ((9500, 9999),)),
        ("bytes=0-", ((0, 9999),)),
        ("bytes=0-0", ((0, 0),)),
        ("bytes=9999-", ((9999, 9999),)),
        ("bytes=0-99999", ((0, 9999),)),  # last-byte-pos past the end is clamped
        ("Bytes=0-1", ((0, 1),)),  # range units are case-insensitive
        ("bytes = 0-1", ((0, 1),)),
        ("bytes=0-1,  ,400-500", ((0, 1), (400, 500))),  # empty list elements are allowed
        ("bytes=0-1 ,\t100-200", ((0, 1), (100, 200))),
        ("bytes=0-99,5000-5099", ((0, 99), (5000, 5099))),
        ("bytes=5000-5099,0-99", ((0, 99), (5000, 5099))),  # sorted
        ("bytes=0-10,5-20", ((0, 20),)),  # one overlap: coalesced
        ("bytes=0-10,11-20", ((0, 20),)),  # adjacent
        ("bytes=0-10,50-60", ((0, 60),)),  # a gap smaller than a part header
        ("bytes=0-10,20000-30000", ((0, 10),)),  # the unsatisfiable member is dropped
        ("bytes=-0,0-0", ((0, 0),)),
        ("bytes=0-" + "9" * 40, ((0, 9999),)),  # huge numbers do not overflow
        ("bytes=-" + "9" * 40, ((0, 9999),)),
    ],
)
def test_satisfiable(header: str, ranges: tuple[tuple[int, int], ...]) -> None:
    assert parse_range(header, SIZE) == Satisfiable(ranges)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "bytes=abc",
        "bytes=5-2",  # an invalid spec makes the whole header ignored
        "bytes=0-1,5-2",
        "bytes=-",
        "bytes=",
        "bytes=,",
        "bytes=1-2-3",
        "bytes=0x10-20",
        "bytes=１-2",  # non-ASCII digits
        "bytes 0-1",
        "items=0-1",
        "=0-1",
        "bytes=0-1;q=1",
        "bytes=0-10,5-20,8-30",  # more than one overlap: hostile or broken client
        "bytes=" + ",".join(f"{i * 200}-{i * 200 + 1}" for i in range(MAX_RANGES + 1)),
    ],
)
def test_ignored(header: str | None) -> None:
    assert parse_range(header, SIZE) is NO_RANGE


def test_range_count_limit_is_inclusive() -> None:
    header = "bytes=" + ",".join(f"{i * 200}-{i * 200 + 1}" for i in range(MAX_RANGES))
    result = parse_range(header, SIZE)
    assert isinstance(result, Satisfiable)
    assert len(result.ranges) == MAX_RANGES


@pytest.mark.parametrize(
    "header",
    [
        "bytes=10000-",
        "bytes=10000-20000",
        "bytes=-0",
        "bytes=20000-,10000-10001",
        "bytes=" + "9" * 40 + "-",
    ],
)
def test_unsatisfiable(header: str) -> None:
    assert parse_range(header, SIZE) is UNSATISFIABLE


@pytest.mark.parametrize("header", ["bytes=0-0", "bytes=-1", "bytes=0-", "bytes=5-", "bytes=abc"])
def test_empty_representation_is_sent_whole(header: str) -> None:
    assert parse_range(header, 0) is NO_RANGE


def test_content_range() -> None:
    assert content_range(0, 499, 1234) == "bytes 0-499/1234"


# --- dates -----------------------------------------------------------------------------------

MOMENT = datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)
SECONDS = calendar.timegm(MOMENT.timetuple())


def test_http_date_formats() -> None:
    assert http_date(MOMENT) == "Sun, 06 Nov 1994 08:49:37 GMT"
    assert http_date(SECONDS) == "Sun, 06 Nov 1994 08:49:37 GMT"
    assert http_date(MOMENT.replace(microsecond=999_999)) == "Sun, 06 Nov 1994 08:49:37 GMT"
    assert http_date(MOMENT.replace(tzinfo=None)) == "Sun, 06 Nov 1994 08:49:37 GMT"
    plus_two = MOMENT.astimezone(timezone(timedelta(hours=2)))
    assert http_date(plus_two) == "Sun, 06 Nov 1994 08:49:37 GMT"
    assert epoch_seconds(plus_two) == SECONDS


@pytest.mark.parametrize(
    "value",
    [
        "Sun, 06 Nov 1994 08:49:37 GMT",  # IMF-fixdate
        "Sunday, 06-Nov-94 08:49:37 GMT",  # obsolete RFC 850
        "Sun Nov  6 08:49:37 1994",  # asctime
        "  Sun, 06 Nov 1994 08:49:37 GMT ",
    ],
)
def test_parse_http_date(value: str) -> None:
    assert parse_http_date(value) == SECONDS


@pytest.mark.parametrize(
    "value",
    [
        "",
        "yesterday",
        "Sun, 06 Nov 1994 08:49:37",
        "Sun, 31 Feb 1994 08:49:37 GMT",
        "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 25:49:37 GMT",
        "1994-11-06T08:49:37Z",
    ],
)
def test_parse_http_date_rejects(value: str) -> None:
    assert parse_http_date(value) is None


# --- entity-tags -----------------------------------------------------------------------------


def test_format_etag() -> None:
    assert format_etag("abc") == '"abc"'
    assert format_etag('"abc"') == '"abc"'
    assert format_etag('W/"abc"') == 'W/"abc"'
    assert format_etag("abc", weak=True) == 'W/"abc"'


@pytest.mark.parametrize(
    ("header", "etag", "weak", "expected"),
    [
        ('"a"', '"a"', False, True),
        ('"a"', "a", False, True),  # bare etags are quoted before comparing
        ('"b", "a"', '"a"', False, True),
        ('"b",W/"a"', '"a"', False, False),  # strong comparison: a weak tag never matches
        ('"b",W/"a"', '"a"', True, True),
        ('"a"', 'W/"a"', False, False),
        ('"a"', 'W/"a"', True, True),
        ("*", '"a"', False, True),
        ('"b"', '"a"', True, False),
        ("garbage", '"a"', True, False),
        ('"a, b"', '"a"', True, False),
    ],
)
def test_etag_matches(header: str, etag: str, weak: bool, expected: bool) -> None:
    assert etag_matches(header, etag, weak=weak) is expected


# --- If-Range --------------------------------------------------------------------------------

LM = datetime(2024, 3, 1, 12, 0, 0, 250_000, tzinfo=UTC)  # sub-second part is not sent


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('"v1"', True),
        (' "v1" ', True),
        ('"v0"', False),
        ('W/"v1"', False),  # weak validators never allow a range
        ("Fri, 01 Mar 2024 12:00:00 GMT", True),
        ("Fri, 01 Mar 2024 11:59:59 GMT", False),
        ("Fri, 01 Mar 2024 12:00:01 GMT", False),  # must be equal, not merely later
        ("not a validator", False),
        ("", False),
    ],
)
def test_if_range(header: str, expected: bool) -> None:
    assert if_range_allows(header, '"v1"', LM) is expected


def test_if_range_with_weak_current_etag() -> None:
    assert not if_range_allows('W/"v1"', 'W/"v1"', LM)
    assert not if_range_allows('"v1"', 'W/"v1"', LM)


# --- preconditions ---------------------------------------------------------------------------

ETAG = '"v1"'
LM_HTTP = "Fri, 01 Mar 2024 12:00:00 GMT"
EARLIER = "Fri, 01 Mar 2024 11:00:00 GMT"


def pre(method: str = "GET", **headers: str) -> int | None:
    return evaluate_preconditions(method, etag=ETAG, last_modified=LM, **headers)


def test_no_conditions() -> None:
    assert pre() is None


def test_if_none_match() -> None:
    assert pre(if_none_match='"v1"') == 304
    assert pre(if_none_match='W/"v1"') == 304  # weak comparison
    assert pre(if_none_match='"x", "v1"') == 304
    assert pre(if_none_match="*") == 304
    assert pre("HEAD", if_none_match='"v1"') == 304
    assert pre(if_none_match='"x"') is None
    assert pre("PUT", if_none_match='"v1"') == 412


def test_if_modified_since() -> None:
    assert pre(if_modified_since=LM_HTTP) == 304
    assert pre(if_modified_since="Fri, 01 Mar 2024 13:00:00 GMT") == 304
    assert pre(if_modified_since=EARLIER) is None
    assert pre(if_modified_since="garbage") is None
    assert pre(if_modified_since=http_date(datetime.now(UTC) + timedelta(days=2))) is None
    assert pre("POST", if_modified_since=LM_HTTP) is None


def test_if_none_match_wins_over_if_modified_since() -> None:
    assert pre(if_none_match='"x"', if_modified_since=LM_HTTP) is None


def test_if_match() -> None:
    assert pre(if_match='"v1"') is None
    assert pre(if_match="*") is None
    assert pre(if_match='"x"') == 412
    assert pre(if_match='W/"v1"') == 412  # strong comparison


def test_if_unmodified_since() -> None:
    assert pre(if_unmodified_since=LM_HTTP) is None
    assert pre(if_unmodified_since=EARLIER) == 412
    assert pre(if_unmodified_since="garbage") is None
    assert pre(if_match='"v1"', if_unmodified_since=EARLIER) is None  # If-Match takes over


def test_if_match_before_if_none_match() -> None:
    assert pre(if_match='"x"', if_none_match='"v1"') == 412


def test_fast_path_agrees_with_the_general_parser() -> None:
    """`bytes=N-M` has a fast path; a trailing empty list element forces the general one."""
    rng = random.Random(11)
    headers = ["bytes=0-0", "bytes=9999-", "bytes=10000-", "bytes=5-2", "bytes=0-99999"]
    for _ in range(500):
        a, b = rng.randrange(0, 12_000), rng.randrange(0, 12_000)
        headers += [f"bytes={a}-{b}", f"bytes={a}-"]
    for header in headers:
        assert parse_range(header, SIZE) == parse_range(header + ",", SIZE), header
