"""The upload queue on disk: queued, paused and failed rows survive closing the app.

One small JSON file in the data folder, replaced atomically (write, fsync, rename), so a crash
while saving leaves the previous queue, never half a file. The bytes already sent by a big
file are in the catalog (core/resumable.py); a row only remembers its upload id.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

QUEUE_FILE = "upload-queue.json"
VERSION = 1
SAVED_STATES = ("queued", "paused", "failed")


@dataclass(frozen=True)
class SavedRow:
    path: str
    size: int
    athlete_id: int | None = None
    state: str = "queued"  # queued (resumes at start) | paused (waits for the user) | failed
    upload_id: str | None = None  # the resumable upload holding the bytes already sent
    reason: str = ""
    detail: str = ""


def queue_file(data_dir: Path) -> Path:
    return Path(data_dir) / QUEUE_FILE


def save_queue(path: Path, rows: list[SavedRow]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    data = {"version": VERSION, "rows": [asdict(r) for r in rows]}
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def load_queue(path: Path) -> list[SavedRow]:
    """The saved rows; an unreadable file is logged and treated as an empty queue."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        logger.warning("Ignoring the saved upload queue %s: %s", path, exc)
        return []
    rows = []
    for raw in data.get("rows", []) if isinstance(data, dict) else []:
        try:
            row = SavedRow(
                path=str(raw["path"]),
                size=int(raw.get("size", 0)),
                athlete_id=None if raw.get("athlete_id") is None else int(raw["athlete_id"]),
                state=str(raw.get("state", "queued")),
                upload_id=raw.get("upload_id") or None,
                reason=str(raw.get("reason", "")),
                detail=str(raw.get("detail", "")),
            )
        except (KeyError, TypeError, ValueError):
            continue
        if row.state in SAVED_STATES:
            rows.append(row)
    return rows
