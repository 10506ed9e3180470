"""How long a file's bytes and images may be cached, by the form of their URL.

None of /stream/{id}/image|raw or /files/{id}/thumbnail changes when the file is made private
or trashed, so an answer to such a URL is public for UNVERSIONED_MAX_AGE seconds only. A URL
that carries the file's content tag (`?v=`, records.FileRecord.content_tag: the links MediaDesk
hands out do) names these bytes for good and is cached for the configured year, immutable.
"""

from __future__ import annotations

from aiohttp import web

from core.links import versioned_link as versioned_link
from core.records import FileRecord
from server.state import CONFIG
from server.video_access import private_cache_control

UNVERSIONED_MAX_AGE = 300


def is_versioned(request: web.Request, record: FileRecord) -> bool:
    """The URL names the file's current bytes (a stale or missing `v` does not)."""
    tag = record.content_tag
    return tag is not None and request.query.get("v") == tag


def file_cache_control(request: web.Request, record: FileRecord) -> str:
    config = request.app[CONFIG]
    if not record.is_public:
        return private_cache_control(request)  # ends with the grant that opened it, if one did
    if is_versioned(request, record):
        return f"public, max-age={config.public_max_age}, immutable"
    return f"public, max-age={UNVERSIONED_MAX_AGE}"
