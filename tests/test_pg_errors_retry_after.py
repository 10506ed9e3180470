"""A refusing service's answers given while its probe is in flight say ASK_AGAIN, not a window.

Before: while one request was the outage's probe, the others were refused at once with
Retry-After set to the quiet window's length (5 s) even when no silence had been met (a
stopped PostgreSQL refusing connections), and logged "answered without asking (retry after
5 s)"; the rule is the quiet window left after a silence, else ASK_AGAIN (2 s). Exercised on
core/outage.py's Outage itself, the arithmetic the store's and the catalog's outages share.
"""

from __future__ import annotations

import pytest

from core.outage import ASK_AGAIN, HANG_WINDOW, NotNow, Outage


def test_a_probe_in_flight_of_a_refusing_service_says_ask_again() -> None:
    outage = Outage(patience=60)
    outage.ended(False, False)  # refused: the outage known, no window
    assert outage.admit() is True  # this call is the probe, still asking
    with pytest.raises(NotNow) as refused:
        outage.admit()
    assert refused.value.seconds == ASK_AGAIN


def test_a_probe_in_flight_of_a_silent_service_says_its_window() -> None:
    outage = Outage(patience=60, window=0.01)
    outage.ended(False, False, silent=True)
    while True:  # the window (10 ms) passes
        try:
            probe = outage.admit()
            break
        except NotNow:
            continue
    assert probe is True
    with pytest.raises(NotNow) as refused:
        outage.admit()
    assert refused.value.seconds >= 1  # the window's length, whole seconds
    assert HANG_WINDOW > ASK_AGAIN
