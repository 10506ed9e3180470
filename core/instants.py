"""Moments a client sends (a query's `since`, a cursor's created_at), read the one way; and
moments shown to a person in a terminal, written the one way."""

from __future__ import annotations

from datetime import UTC, datetime

from core.errors import InvalidInput


def client_instant(value: object, message: str) -> datetime:
    """An ISO 8601 date and time from a client as an aware UTC datetime; InvalidInput(message)
    when it is none. Without an offset it is taken as UTC, as the catalog's own times are.

    Converting to UTC can leave the calendar: 9999-12-31T23:59:59-05:00 and
    0001-01-01T00:00:00+01:00 are valid ISO 8601, yet no datetime holds them in UTC; reaching
    the database that way they raised OverflowError (a 500), so they are refused here."""
    if not isinstance(value, str):
        raise InvalidInput(message)
    try:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise InvalidInput(message) from None


def local_minute(value: datetime | str | None) -> str:
    """A catalog time (a datetime or the API's ISO text; naive means UTC, as the catalog
    keeps them) in the reader's own time zone, to the minute: how every command line listing
    shows times ("-" for none). `mediadesk token list` printed UTC ISO while `mediadesk list`
    printed local time, so one token's last use read hours apart from a file it uploaded."""
    if value is None or value == "":
        return "-"
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value[:16]
    else:
        moment = value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")
