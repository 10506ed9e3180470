"""The OpenAPI 3.1 document of every route, with request and response bodies."""

from __future__ import annotations

from functools import cache
from importlib import metadata
from typing import Any

from aiohttp import web

from server.openapi_paths import PATHS
from server.openapi_schemas import SCHEMAS

S = dict[str, Any]


@cache
def version() -> str:
    try:
        return metadata.version("mediadesk")
    except metadata.PackageNotFoundError:
        return "0.1.0"


def build_spec(app: web.Application | None = None) -> S:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "MediaDesk API",
            "version": version(),
            "description": "Photos and videos of athletes: presigned and direct uploads, "
            "RFC 9110 range streaming, signed URLs. Errors are "
            '{"error": {"code", "message"}}. Text in queries and bodies must be valid '
            "Unicode without NUL characters (else 400).",
        },
        "servers": [{"url": "/"}],
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from `mediadesk token create`; scopes "
                    "read < upload < admin",
                }
            },
        },
    }
