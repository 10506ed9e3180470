"""The OpenAPI 3.1 document of every route, with request and response bodies.

The hand-written parts (server.openapi_paths, server.openapi_schemas) say what each operation
takes and returns; what the code already knows is filled in here: `security` and the scope
from the handler's @requires mark, a default operationId from the handler's name, the File
schema from core.records.FileRecord and the limits from the constants that enforce them.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from typing import Any, NamedTuple

from aiohttp import web

from core.version import version
from server.openapi_paths import ERROR, OPEN, OPTIONAL_TOKEN, PATHS, TOKEN, err
from server.openapi_schemas import SCHEMAS

S = dict[str, Any]
METHODS = ("get", "put", "post", "patch", "delete", "head", "options")
# Handler scope (server.auth.requires) -> the document's security requirement.
SECURITY_BY_SCOPE: dict[str, list[S]] = {
    "public": OPEN,
    "signed": OPEN,
    "file": OPTIONAL_TOKEN,
    "read": TOKEN,
    "upload": TOKEN,
    "admin": TOKEN,
}
SCOPE_TEXT = {
    "public": "No token needed (a bad token is still refused).",
    "signed": "The URL's signature is the credential; no token.",
    "file": "Public files need no token; private files need a token with scope read.",
    "read": "Needs a token with scope read.",
    "upload": "Needs a token with scope upload.",
    "admin": "Needs a token with scope admin.",
}


# Every route reads a presented token or signature (a bad one is refused even where none is
# needed), so every one can answer the failed-authentication block (server/ratelimit.py).
AUTH_BLOCKED = (
    "rate_limited: too many failed authentications (unknown tokens, bad signatures) from this "
    "client address; while it lasts every request of the address that presents a token or "
    "a signature, a valid one too, gets this answer; send again after Retry-After seconds"
)
RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}},
}


def _auth_blocked(operation: S) -> None:
    responses = operation.setdefault("responses", {})
    known = responses.get("429")
    if known is None:
        responses["429"] = {"description": AUTH_BLOCKED, "content": ERROR}
    elif AUTH_BLOCKED not in known["description"]:
        known["description"] = f"{known['description']}; or {AUTH_BLOCKED}"
    responses["429"]["headers"] = RETRY_AFTER


# Every route that may need the store or the catalog (its 500 says storage_unavailable) answers
# this while either is known out of reach (core.errors.StorageNotAsked): documented once here,
# not per path. It stays the seed's 500 ("Error de storage o servidor"), with a Retry-After.
STORE_NOT_ASKED = (
    "with Retry-After: every storage_unavailable of a store out of reach (reason "
    "endpoint_unreachable), throttling (storage_throttled) or failing (storage_server_error), "
    "or of the catalog out of reach (catalog_unreachable, catalog_disk_unreachable), not "
    "writable (catalog_read_only) or held locked by another program past the busy timeout "
    "(catalog_busy); one answered at once, because "
    "the storage (or the catalog) did not answer a request a moment ago and is not asked "
    "again for a few seconds, did nothing, so any request may be sent again after "
    "Retry-After seconds"
)


# Every request's query is checked before its route (server.params.check_query), so every
# operation but a preflight can answer 400, those without parameters too.
BAD_QUERY = (
    "invalid_input: a query parameter holds a NUL character (%00), or one the document lists "
    "(any operation's; none takes several values) is given more than once, which the message "
    "names"
)


def _bad_query(operation: S, method: str) -> None:
    if method == "options":
        return  # answered before the query is read
    responses = operation.setdefault("responses", {})
    known = responses.get("400")
    if known is None:
        responses["400"] = {"description": BAD_QUERY, "content": ERROR}
    elif BAD_QUERY not in known["description"]:
        known["description"] = f"{known['description']}; or {BAD_QUERY}"


def _body_limits(operation: S) -> None:
    """Every operation that takes a body reads it with a size limit and an idle timeout
    (server.params.read_json, the upload readers): 413 and 408, the action routes' optional
    JSON bodies (NO_BODY) included."""
    if "requestBody" not in operation:
        return
    responses = operation.setdefault("responses", {})
    for status, answer in err(413).items():  # err adds 408 to 413 (and 431)
        responses.setdefault(status, answer)


def _store_not_asked(operation: S, scope: str) -> None:
    responses = operation.setdefault("responses", {})
    known = responses.get("500")
    if known is None:
        if scope == "public":
            return  # documents, static files, /config, /health: neither catalog nor store
        # Every other route reads its token, records or jobs from the catalog, and most the
        # store, so each can answer the seed's 500 storage_unavailable (a failing store, or
        # the catalog out of reach): a thumbnail or a playlist too, not only the byte routes.
        known = responses["500"] = err(500)["500"]
    if STORE_NOT_ASKED not in known["description"]:
        known["description"] = f"{known['description']}; {STORE_NOT_ASKED}"
    known["headers"] = RETRY_AFTER


# Every write (core/db/schema_guard.py) once a newer MediaDesk migrated the catalog under this
# server: documented once here, on each operation that changes something.
CATALOG_UPGRADED = (
    "catalog_upgraded: a newer MediaDesk upgraded the catalog while this server was running; "
    "it changes nothing until restarted with that version (reads go on)"
)
WRITES = ("post", "put", "patch", "delete")


def changes_something(method: str, scope: str) -> bool:
    """Whether the operation writes: every one that is not a read (a GET, HEAD or OPTIONS)
    records in the catalog what it did, a trash or a job's cancel too. The public routes
    (documents, /config, /health, a preflight) only read."""
    return method in WRITES and scope != "public"


def _catalog_upgraded(operation: S, method: str, scope: str) -> None:
    if not changes_something(method, scope):
        return
    responses = operation.setdefault("responses", {})
    known = responses.get("503")
    if known is None:
        responses["503"] = {"description": CATALOG_UPGRADED, "content": ERROR}
    elif CATALOG_UPGRADED not in known["description"]:
        known["description"] = f"{known['description']}; or {CATALOG_UPGRADED}"


def _no_room(operation: S, method: str, scope: str) -> None:
    """The 507 of every write: a full disk or quota under the catalog (SQLite's "database or
    disk is full") or under the bytes written, whatever the operation was doing
    (server.errors answers any of them so). Documented once here on each operation that
    changes something; one that says more of its own (tus: the bytes kept) keeps its text."""
    if changes_something(method, scope):
        operation.setdefault("responses", {}).setdefault("507", err(507)["507"])


class Route(NamedTuple):
    method: str
    path: str  # as documented: /files/{file_id}, /signed/{key}
    handler: Any
    scope: str


def _document_path(path: str) -> str:
    """aiohttp's '/signed/{key:.+}' as OpenAPI writes it: '/signed/{key}'."""
    return re.sub(r"\{(\w+):[^}]*\}", r"{\1}", path)


def routes() -> Iterator[Route]:
    """Every route the server registers (from the route tables, without an app)."""
    from server.auth import scope_of
    from server.routes import MODULES

    for module in MODULES:
        for definition in module.routes:
            if not isinstance(definition, web.RouteDef) or definition.method == "*":
                continue
            route = Route(
                definition.method.lower(),
                _document_path(definition.path),
                definition.handler,
                scope_of(definition.handler),
            )
            yield route
            # aiohttp answers HEAD on a GET route unless it says otherwise (/events)
            if route.method == "get" and definition.kwargs.get("allow_head", True):
                yield route._replace(method="head")


MULTI_RANGE = "multipart/byteranges"


def _several_ranges(operation: S) -> None:
    """Every 206 answer comes from server.streaming.stream_object, which sends several ranges
    as one multipart/byteranges body: each documented 206 lists that type too, and the 412 of
    its preconditions (If-Match, If-Unmodified-Since)."""
    partial = operation.get("responses", {}).get("206")
    if not partial or "content" not in partial:
        return
    operation["responses"].setdefault("412", err(412)["412"])
    partial["content"].setdefault(MULTI_RANGE, {"schema": {"type": "string", "format": "binary"}})
    desc = partial.get("description", "Partial content")
    if MULTI_RANGE not in desc:
        partial["description"] = f"{desc}, or several ranges as {MULTI_RANGE}"


# The headers an answer of a status carries whatever the operation, set by the code that
# answers it: server.auth.unauthorized (401), server.streaming (206, 416). Declared here once,
# so an operation that gains such a status declares its headers too
# (tests/test_openapi_headers.py checks real answers).
def _header(desc: str, schema_type: str = "string") -> S:
    return {"description": desc, "schema": {"type": schema_type}}


CONTENT_RANGE = _header(
    "On a 206 of one range: `bytes <first>-<last>/<size>`; not sent when several ranges come "
    "as multipart/byteranges (each part has its own). On a 416: `bytes */<size>`"
)
ACCEPT_RANGES = _header("`bytes`: the route takes Range requests")
CONTENT_LENGTH = _header("Bytes in the body (of a HEAD: in the GET's body)", "integer")
WWW_AUTHENTICATE = _header('`Bearer realm="mediadesk"`: send a token as a Bearer header')
ALLOW = _header("The methods the path takes, comma-separated (HEAD and OPTIONS among them)")
HEADERS_BY_STATUS: dict[str, S] = {
    "206": {"Content-Range": CONTENT_RANGE, "Accept-Ranges": ACCEPT_RANGES},
    "416": {"Content-Range": CONTENT_RANGE},
    "401": {"WWW-Authenticate": WWW_AUTHENTICATE},
}
# What server.streaming.stream_object puts on every answer it gives (the body, a 304, and its
# own 412 and 416 errors): the operations that answer 206 are the ones it serves.
OBJECT_HEADERS: S = {
    "ETag": _header(
        "The bytes' validator, for If-None-Match, If-Range and If-Match (a 412 or 416 "
        "names the current one)"
    ),
    "Last-Modified": _header("When the bytes were stored, for If-Modified-Since"),
    "Cache-Control": _header(
        "How long the answer may be kept: by the rules of the operation's description; "
        "`no-store` on a 412 or 416"
    ),
    "Accept-Ranges": ACCEPT_RANGES,
}
OBJECT_STATUSES = ("200", "206", "304", "412", "416")
# 503s that always come with a Retry-After (server/routes/signed.py, server/errors.py); the
# others: catalog_upgraded, lasting until someone acts, without one, and /health's degraded,
# which declares its own (with one while the cause passes by itself)
RETRY_AFTER_503 = ("server_busy", "server_stopping", "reason not_ready")


def _answer_headers(operation: S) -> None:
    responses = operation.get("responses", {})
    ranged = "206" in responses
    # the headers a route hands stream_object for its bytes (extra_headers) come on its own
    # 412 and 416 too, but for Content-Disposition (server.streaming._error drops it)
    handed = {
        name: header
        for name, header in responses.get("200", {}).get("headers", {}).items()
        if name != "Content-Disposition"
    }
    for status, answer in responses.items():
        headers = dict(HEADERS_BY_STATUS.get(status, {}))
        if ranged and status in OBJECT_STATUSES:  # the routes that take Range requests
            headers.update(OBJECT_HEADERS)
        if ranged and status in ("412", "416"):
            headers.update(handed)
        if ranged and status in ("200", "206"):
            headers["Content-Length"] = CONTENT_LENGTH
        if status == "503" and any(c in answer["description"] for c in RETRY_AFTER_503):
            headers.update(RETRY_AFTER)
        if headers:
            answer["headers"] = {**answer.get("headers", {}), **headers}


# What server/routes/tus.py puts on the answers of its routes besides their own headers: every
# error it answers (with_error_headers) says the protocol and is not kept, its tus_version 412
# also says the version it speaks, and a termination's 204 says the protocol
TUS_PATHS = ("/files/upload/tus", "/files/upload/tus/{upload_id}")
TUS_RESUMABLE = _header("`1.0.0`: the tus protocol of the answer")
TUS_ERROR_HEADERS: S = {
    "Tus-Resumable": TUS_RESUMABLE,
    "Cache-Control": _header("`no-store`: an upload's state is never kept"),
}
TUS_VERSION_HEADER = _header("`1.0.0`: the only tus version this server speaks (on tus_version)")


def _tus_answers(paths: dict[str, dict[str, S]]) -> None:
    for path in TUS_PATHS:
        for method, operation in paths.get(path, {}).items():
            if method not in METHODS or method == "options":
                continue  # OPTIONS declares its capability headers itself
            responses = operation.get("responses", {})
            for status, answer in responses.items():
                headers: S = {}
                if status >= "400" and status != "431":  # 431: aiohttp's, before any route
                    headers.update(TUS_ERROR_HEADERS)
                if status == "412":
                    headers["Tus-Version"] = TUS_VERSION_HEADER
                if status == "204" and method == "delete":
                    headers["Tus-Resumable"] = TUS_RESUMABLE
                if headers:
                    # a copy: answers are shared with other routes' operations (UPLOAD_400)
                    headers.update(answer.get("headers", {}))
                    responses[status] = {**answer, "headers": headers}


def _head_of_get(ops: dict[str, S]) -> None:
    """The HEAD aiohttp answers on a GET route: the GET's parameters, statuses and headers,
    without bodies (a generated client can ask a stream's size, type or ETag)."""
    get = ops.get("get")
    if get is None or "head" in ops:
        return
    head = copy.deepcopy(get)
    head["summary"] = f"{get['summary']} (headers only)"
    if "operationId" in get:
        head["operationId"] = f"head_{get['operationId']}"
    for answer in head.get("responses", {}).values():
        answer.pop("content", None)
    ops["head"] = head


def _paths() -> dict[str, dict[str, S]]:
    paths = copy.deepcopy(PATHS)
    for ops in paths.values():
        for method in METHODS:
            if method in ops:
                _several_ranges(ops[method])
                _answer_headers(ops[method])
    all_routes = list(routes())
    for route in all_routes:
        if route.method == "head":
            _head_of_get(paths.get(route.path, {}))
    for route in all_routes:
        operation = paths.get(route.path, {}).get(route.method)
        if operation is None:
            continue  # tests/test_openapi_routes.py reports undocumented routes
        operation["security"] = SECURITY_BY_SCOPE[route.scope]
        operation["x-scope"] = route.scope
        head = "head_" if route.method == "head" else ""
        operation.setdefault("operationId", head + route.handler.__name__)
        _auth_blocked(operation)
        _bad_query(operation, route.method)
        _body_limits(operation)
        _store_not_asked(operation, route.scope)
        _catalog_upgraded(operation, route.method, route.scope)
        _no_room(operation, route.method, route.scope)
        text = SCOPE_TEXT[route.scope]
        desc = operation.get("description", "")
        if text not in desc:
            operation["description"] = f"{desc} {text}".strip() if desc else text
    _tus_answers(paths)
    for ops in paths.values():
        for answer in ops.get("head", {}).get("responses", {}).values():
            answer.pop("content", None)  # a HEAD answer has the GET's headers, never a body
    return paths


def _request_schemas(paths: dict[str, dict[str, S]]) -> S:
    """SCHEMAS, where those of request bodies state their defaults in words instead: with
    `default`, openapi-typescript makes a property required in the request type."""
    names = {
        media["schema"]["$ref"].rsplit("/", 1)[1]
        for ops in paths.values()
        for operation in ops.values()
        if isinstance(operation, dict)
        for media in operation.get("requestBody", {}).get("content", {}).values()
        if "$ref" in media.get("schema", {})
    }
    schemas = dict(SCHEMAS)
    for name in names & schemas.keys():
        schema = schemas[name] = copy.deepcopy(schemas[name])
        for prop in schema.get("properties", {}).values():
            if "default" in prop:
                default = json.dumps(prop.pop("default"))
                prop["description"] = f"{prop.get('description', '')} Default: {default}.".strip()
    return schemas


def _enum_names(node: Any) -> None:
    """x-enum-varnames for every string enum with a value a generator cannot name after it
    (openapi-python-client names one not starting with a letter VALUE_<index>): `1.0.0` is
    V1_0_0. An enum that names its values itself (the list's sort) is left as it is."""
    if isinstance(node, list):
        for item in node:
            _enum_names(item)
        return
    if not isinstance(node, dict):
        return
    values = [v for v in node.get("enum", ()) if v is not None]
    nameless = any(isinstance(v, str) and not v[:1].isalpha() for v in values)
    if nameless and "x-enum-varnames" not in node:
        names = [re.sub(r"\W+", "_", str(v)).strip("_").upper() for v in values]
        names = [f"V{n}" if n[:1].isdigit() else n for n in names]
        if len(set(names)) != len(names) or not all(names):
            raise ValueError(f"Enum {values} needs its own x-enum-varnames")
        node["x-enum-varnames"] = names
    for value in node.values():
        _enum_names(value)


def build_spec(app: web.Application | None = None) -> S:
    paths = _paths()
    schemas = copy.deepcopy(_request_schemas(paths))
    _enum_names([paths, schemas])
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "MediaDesk API",
            "version": version(),
            "description": "Photos and videos of athletes: presigned and direct uploads, "
            "RFC 9110 range streaming, signed URLs. Errors are "
            '{"error": {"code", "message", "request_id"}}. A method a path does not list is '
            "answered 405 method_not_allowed (the same JSON error) with an Allow header naming "
            "the methods it has (components/responses/MethodNotAllowed). Text in queries and "
            "bodies must be valid Unicode without NUL characters (else 400), and a query parameter "
            "is given at most once (else 400 invalid_input naming it). Every GET route "
            "but /events answers HEAD too (its headers, no body). Clients: GET /config says what "
            "this server accepts; /static/mediadesk.js is an ES module for web pages.",
        },
        "servers": [{"url": "/"}],
        "tags": [
            {"name": "uploads", "description": "Presigned and direct uploads"},
            {"name": "files", "description": "The catalog: list, edit, trash, download"},
            {"name": "streaming", "description": "HTTP range streaming for players"},
            {
                "name": "signed",
                "description": "Signed URLs of this server (also after a move to R2)",
            },
            {"name": "athletes", "description": "Athletes files belong to"},
            {"name": "events", "description": "Live change events"},
            {"name": "admin", "description": "Administration"},
            {"name": "service", "description": "Health, metrics, configuration, documents"},
        ],
        "paths": paths,
        "components": {
            # a method a path does not list (see the description): no operation to hold it
            "responses": {
                "MethodNotAllowed": {
                    "description": "method_not_allowed: the path does not take this method",
                    "headers": {"Allow": ALLOW},
                    "content": ERROR,
                }
            },
            "schemas": schemas,
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
