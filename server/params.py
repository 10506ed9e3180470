"""Parsing of query parameters, form fields and JSON bodies into checked values."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from core.errors import InvalidInput

TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off", "")
MAX_FORM = 1024 * 1024


def as_bool(name: str, raw: object, default: bool = False) -> bool:
    if raw is None:
        return default
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return default if text == "" else False
    raise InvalidInput(f"{name} must be true or false, not {raw!r}")


def as_int(
    name: str,
    raw: object,
    default: int | None = None,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return default
    if isinstance(raw, bool):
        raise InvalidInput(f"{name} must be a whole number")
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise InvalidInput(f"{name} must be a whole number, not {raw!r}") from None
    if minimum is not None and value < minimum:
        raise InvalidInput(f"{name} must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise InvalidInput(f"{name} must be at most {maximum}")
    return value


def opt_bool(name: str, raw: object) -> bool | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    return as_bool(name, raw)


async def read_fields(request: web.Request) -> Mapping[str, Any]:
    """Form fields from multipart/form-data, urlencoded or a JSON object."""
    if request.content_type == "application/json":
        return await read_json(request)
    if request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        form = await request.post()
        fields: dict[str, Any] = {}
        for key, value in form.items():
            if not isinstance(value, str):
                raise InvalidInput(f"Field {key!r} must be text, not a file")
            fields.setdefault(key, value)
        return fields
    if not request.can_read_body:
        return {}
    raise InvalidInput("Send the fields as multipart/form-data, urlencoded or JSON")


async def read_json(request: web.Request) -> dict[str, Any]:
    if request.content_length is not None and request.content_length > MAX_FORM:
        raise InvalidInput("The JSON body is too large")
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidInput("The body is not valid JSON") from None
    if not isinstance(data, dict):
        raise InvalidInput("The JSON body must be an object")
    return data


def required(fields: Mapping[str, Any], name: str) -> str:
    value = fields.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidInput(f"The field {name!r} is required")
    return str(value)


def file_id(request: web.Request, name: str = "file_id") -> int:
    value = as_int(name, request.match_info[name], minimum=1)
    assert value is not None
    return value
