"""Parsing of query parameters, form fields and JSON bodies into checked values."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from core.ascii import whole_number, yes_no
from core.errors import InvalidInput, TooLarge
from core.records import MAX_ID
from server.bodystream import SEND_REQUEST_AGAIN, idle_watched
from server.openapi_schemas import INT64_MAX, INT64_MIN, SCHEMAS

MAX_FORM = 1024 * 1024
# What a malformed body raises while aiohttp parses it: no boundary, a bad part header, a field
# that is not in its charset, an unknown charset.
MALFORMED_BODY = (ValueError, LookupError, HttpProcessingError)


def as_bool(name: str, raw: object, default: bool = False) -> bool:
    if raw is None:
        return default
    if isinstance(raw, bool):
        return raw
    text = str(raw)
    said = yes_no(text)
    if said is not None:
        return default if said is False and not text.strip() else said
    raise InvalidInput(f"{name} must be true or false, not {raw!r}")


def as_int(
    name: str,
    raw: object,
    default: int | None = None,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int | None:
    # Only an empty value is one left out (`?limit=`, an HTML form's empty field): spaces are
    # not stripped, a number spelled with them is refused like one in other scripts' digits
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        raise InvalidInput(f"{name} must be a whole number")
    value = whole_number(str(raw), signed=True)
    if value is None:
        raise InvalidInput(
            f"{name} must be a whole number in ASCII digits without spaces, not {raw!r}"
        )
    low = INT64_MIN if minimum is None else minimum
    high = INT64_MAX if maximum is None else maximum
    if low <= value <= high:
        return value
    if minimum is not None and maximum is not None:  # the whole range, whichever end is passed
        raise InvalidInput(f"{name} must be from {low} to {high}")
    if value < low:
        raise InvalidInput(f"{name} must be at least {low}")
    raise InvalidInput(f"{name} must be at most {high}")


def as_id(name: str, raw: object) -> int | None:
    """An optional catalog id: 1 to MAX_ID (the id columns are 32-bit on PostgreSQL)."""
    return as_int(name, raw, minimum=1, maximum=MAX_ID)


def check_text(value: str, what: str) -> str:
    """Text the catalog can store: no NUL (PostgreSQL refuses it), no unpaired surrogate
    (JSON's "\\ud800" decodes to one; it has no UTF-8 form)."""
    if "\x00" in value:
        raise InvalidInput(f"{what} cannot contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"{what} is not valid Unicode (unpaired surrogate)") from None
    return value


def check_query(request: web.Request) -> None:
    """No NUL in query parameters (a client cannot send a raw one; %00 is the only way in),
    and no documented parameter given more than once: every route reads a parameter's first
    value, so `?athlete_id=7&athlete_id=8` answered athlete 7 alone and the 400 of a bad
    value depended on the order. Every request's query comes through here (auth_middleware),
    so no route reads a parameter given twice."""
    query = request.rel_url.query
    if "%00" in request.rel_url.raw_query_string:
        raise InvalidInput("Query parameters cannot contain NUL characters")
    if len(query) == len(set(query)):
        return  # each name once: the common case, without looking at the document
    single = _single_valued()
    for name in dict.fromkeys(query):
        times = len(query.getall(name))
        if times > 1 and name in single:
            raise InvalidInput(
                f"The query parameter {name!r} is given {times} times; it takes one value"
            )


def aliased(query: Mapping[str, str], name: str, alias: str) -> tuple[str, str | None]:
    """The query parameter `name` or its older `alias` (the seed's `trash` of `trashed`): the
    one given and its value, to be read and named in errors as the client wrote it. Both given
    is a 400, as a parameter given twice is (check_query): reading one of them dropped the other
    without a word, whatever it said. An empty value is the parameter left out, here as
    everywhere (`?trashed=&trash=1` is `?trash=1`)."""
    given = [n for n in (name, alias) if query.get(n, "").strip()]
    if len(given) == 2:
        raise InvalidInput(
            f"The query parameters {name!r} and {alias!r} are the same filter; give one of them"
        )
    used = given[0] if given else name
    return used, query.get(used)


@functools.cache
def _single_valued() -> frozenset[str]:
    """The query parameters the OpenAPI document declares, but for any it declares an array
    on some operation (one that may be repeated; none is today). The document says what the
    server reads, so a handler cannot forget the check; a name is refused twice on every route,
    not only where it is read. Others (`utm_source`, a cache buster) are read nowhere: their
    repeats are left as they come."""
    from server.openapi import build_spec  # the document imports the routes, which import this

    names: set[str] = set()
    repeatable: set[str] = set()
    for ops in build_spec()["paths"].values():
        for operation in ops.values():
            for item in operation.get("parameters", ()) if isinstance(operation, dict) else ():
                if item["in"] == "query":
                    array = item.get("schema", {}).get("type") == "array"
                    (repeatable if array else names).add(item["name"])
    return frozenset(names - repeatable)


def _check_json_text(data: object) -> None:
    """check_text on every key and string of a parsed body, without recursion."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            check_text(item, "JSON text")
        elif isinstance(item, dict):
            for key, value in item.items():
                check_text(key, "A JSON key")
                stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)


def opt_bool(name: str, raw: object) -> bool | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    return as_bool(name, raw)


async def read_fields(request: web.Request, schema: str) -> Mapping[str, Any]:
    """Form fields from multipart/form-data, urlencoded or a JSON object (of the OpenAPI
    schema `schema`: see read_json)."""
    if request.content_type == "application/json":
        return await read_json(request, schema)
    if request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        try:
            # a client that stops sending would otherwise hold its connection for as long as
            # it keeps the socket open (a slow one that keeps sending is not cut)
            form = await idle_watched(request.post(), request.content, SEND_REQUEST_AGAIN)
        except MALFORMED_BODY as exc:
            raise malformed(exc) from None
        fields: dict[str, Any] = {}
        for key, value in form.items():
            if not isinstance(value, str):
                raise InvalidInput(f"Field {key!r} must be text, not a file")
            fields.setdefault(key, check_text(value, f"The field {key!r}"))
        return fields
    if not request.can_read_body:
        return {}
    raise InvalidInput("Send the fields as multipart/form-data, urlencoded or JSON")


def _json_number(text: str) -> int | float:
    """A JSON number written with a fraction or exponent: an integer when it has no fraction
    (1.0, 1e3), since JSON Schema's "integer", which the OpenAPI document declares, admits
    those; else a float. Exactly, from the text, within 64 bits (past them it stays a float,
    which no integer field takes)."""
    value = float(text)
    if value.is_integer() and abs(value) <= INT64_MAX:
        return int(Decimal(text))
    return value


def _json_int(text: str) -> int:
    # int() refuses a number of more digits than sys.get_int_max_str_digits() (4300) with a
    # ValueError, which the server answered 500; no field takes one past 64 bits anyway
    try:
        return int(text)
    except ValueError:
        raise InvalidInput("A number in the JSON body is too large") from None


def _not_json(name: str) -> Any:
    """NaN, Infinity and -Infinity, which Python's parser reads but JSON (RFC 8259) lacks."""
    raise InvalidInput("The body is not valid JSON")


async def read_json(request: web.Request, schema: str | None) -> dict[str, Any]:
    """The JSON object of a body whose OpenAPI schema is `schema` (server.openapi_schemas;
    None: an object whose fields mean nothing, the body of an action route): a null in a
    field that schema does not declare nullable is a 400 that names the field, and so is a
    boolean or integer field that is not a JSON boolean or number."""
    if request.content_length is not None and request.content_length > MAX_FORM:
        # 413 like a longer chunked body (aiohttp's client_max_size), not 400
        raise TooLarge(
            f"The JSON body is larger than {MAX_FORM} bytes", details={"max_size": MAX_FORM}
        )
    raw = await idle_watched(request.read(), request.content, SEND_REQUEST_AGAIN)
    if not raw.strip():
        return {}
    try:
        data = json.loads(
            raw, parse_float=_json_number, parse_int=_json_int, parse_constant=_not_json
        )
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidInput("The body is not valid JSON") from None
    except RecursionError:  # [[[[…]]]] nested deeper than the parser's recursion limit
        raise InvalidInput("The JSON body is nested too deeply") from None
    if not isinstance(data, dict):
        raise InvalidInput("The JSON body must be an object")
    _check_json_text(data)
    if schema is None:
        return data
    for name in _not_nullable(schema):
        if name in data and data[name] is None:
            raise InvalidInput(f"The field {name!r} cannot be null: send a value or leave it out")
    for name in _booleans(schema):
        # the text spellings ("yes", "1") are a form's, which has no other; in JSON they were
        # taken by one route and refused by another
        if data.get(name) is not None and not isinstance(data[name], bool):
            raise InvalidInput(f"The field {name!r} must be true or false (a JSON boolean)")
    for name in _integers(schema):
        # "7" and " 44 " are a form's spelling; 7.0 arrives here as 7 (_json_number)
        value = data.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise InvalidInput(f"The field {name!r} must be a whole number (a JSON number)")
    return data


async def read_optional_json(request: web.Request, schema: str | None = None) -> dict[str, Any]:
    """The optional JSON object body of a route (`schema` as for read_json; None for an action
    route's, whose fields mean nothing): an object or nothing. Sent as application/json, it is
    read and checked like any JSON body; under another type it is not read."""
    if request.content_type != "application/json" or not request.can_read_body:
        return {}
    return await read_json(request, schema)


@functools.cache
def _not_nullable(schema: str) -> tuple[str, ...]:
    """The fields of `schema` whose type has no "null". The document is the one home of where
    null means something (FileUpdate's athlete_id: no athlete), so the server cannot disagree
    with it: read as the field left out, such a null got answers the document does not allow
    ({"version": null} an edit without its version check, {"id": null} an athlete with an id
    of the catalog's choosing)."""
    fields: dict[str, dict[str, Any]] = SCHEMAS[schema]["properties"]
    return tuple(name for name, field in fields.items() if not _takes_null(field))


@functools.cache
def _booleans(schema: str) -> tuple[str, ...]:
    """The fields of `schema` the document declares boolean."""
    fields: dict[str, dict[str, Any]] = SCHEMAS[schema]["properties"]
    return tuple(name for name, field in fields.items() if _kinds(field) & {"boolean"})


@functools.cache
def _integers(schema: str) -> tuple[str, ...]:
    """The fields of `schema` the document declares integer."""
    fields: dict[str, dict[str, Any]] = SCHEMAS[schema]["properties"]
    return tuple(name for name, field in fields.items() if _kinds(field) & {"integer"})


def _kinds(field: Mapping[str, Any]) -> set[str]:
    kinds = field.get("type")
    return set(kinds) if isinstance(kinds, list) else {kinds} if isinstance(kinds, str) else set()


def _takes_null(field: Mapping[str, Any]) -> bool:
    kinds = field.get("type")
    return isinstance(kinds, list) and "null" in kinds


def required(fields: Mapping[str, Any], name: str) -> str:
    value = optional_text(fields, name)
    if value is None or not value.strip():
        raise InvalidInput(f"The field {name!r} is required")
    return value


def optional_text(fields: Mapping[str, Any], name: str) -> str | None:
    """A text field, None when absent or null; a JSON list, object, number or boolean is a 400."""
    value = fields.get(name)
    if value is None or isinstance(value, str):
        return value
    raise InvalidInput(f"The field {name!r} must be text")


# The one spelling of an id in a path, the one the server writes in its own links: int() also
# reads "+1", "01", " 1", "1_0" and other scripts' digits ("１", "١") as 1, so one file answered
# at many URLs the spec (an integer) does not declare, and caches kept a copy per spelling.
_PATH_ID = re.compile(r"[1-9][0-9]*")
_PATH_ID_DIGITS = len(str(MAX_ID))


def path_id(request: web.Request, name: str = "file_id") -> int:
    """A catalog id from the path, in its canonical form: ASCII digits, no sign, no leading
    zero, 1 to MAX_ID. Anything else, an empty segment (`/stream//video`) too, is a 400, as a
    non-numeric id always was. Every route with an id in its path reads it here."""
    raw = request.match_info.get(name, "")
    if len(raw) > _PATH_ID_DIGITS or not _PATH_ID.fullmatch(raw) or int(raw) > MAX_ID:
        raise InvalidInput(
            f"{name} must be a whole number from 1 to {MAX_ID} in ASCII digits, "
            "without sign or leading zeros"
        )
    return int(raw)


def file_id(request: web.Request) -> int:
    return path_id(request, "file_id")


def malformed(exc: BaseException) -> InvalidInput:
    """The 400 for a body aiohttp could not parse, with a short reason (no raw bytes echoed)."""
    if isinstance(exc, HttpProcessingError):
        reason = "a part has an invalid header"
    elif isinstance(exc, UnicodeDecodeError):
        reason = "a field is not valid in its charset"
    elif isinstance(exc, LookupError):
        reason = "unknown charset"
    else:
        reason = str(exc)[:200]
    return InvalidInput(f"The form body is malformed: {reason}")
