"""JSON presenters: core records as the API returns them (aiohttp handlers live in routes/)."""

from __future__ import annotations

from typing import Any

from core.records import FileRecord, FileStatus

STREAM_KIND = {"image": "image", "video": "video"}


def file_json(record: FileRecord) -> dict[str, Any]:
    """The record with its API links; `file_id` repeats `id` as the seed names it."""
    data = record.as_dict()
    data["file_id"] = record.id
    base = f"/files/{record.id}"
    urls: dict[str, str | None] = {"self": base}
    if record.status == FileStatus.READY:
        urls["stream"] = f"/stream/{record.id}/{STREAM_KIND.get(record.file_type, 'raw')}"
        urls["raw"] = f"/stream/{record.id}/raw"
        urls["download"] = f"{base}/download"
        urls["thumbnail"] = f"{base}/thumbnail" if record.has_thumbnail else None
    data["urls"] = urls
    return data
