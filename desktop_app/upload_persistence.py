"""The upload queue on disk: queued, paused and failed rows survive closing the app.

Two small files in the data folder:

* `upload-queue.json`, the rows still to do, replaced atomically (write, fsync, rename, fsync
  the folder), so a crash while saving leaves the previous queue, never half a file. Rewriting
  it costs a walk of the whole queue, so it is saved at most a few times a second.
* `upload-queue.journal`, what happened to rows since that save, one JSON line each, appended
  and fsynced in batches as it happens: a row finished (its file id), or a big file's upload
  id was handed out. A finished row therefore never comes back as queued, even when the app is
  killed right after the save of the queue: the journal is read over the saved rows at start.
  Each save of the queue drops the journal lines it already holds.

Both are owner-only (0600) whatever the umask, as settings.toml is: they name the user's local
files (athletes' names, folders) and the resumable uploads holding their bytes. The data folder
may be opened to nginx's group (see core/fsmodes.py), and a queue file that group could write
would choose which local files the app uploads next.

The bytes already sent by a big file are in the catalog (core/resumable.py); a row only
remembers its upload id. Rows are named by a random `key` that stays the same across saves.

A row removed or cancelled while its big file was on its way leaves an upload to drop (its
bytes here, its multipart upload in the bucket): until that is done it stays on disk as a
"discard" row, never shown, so that closing the app or a crash in between does not leave the
upload for the 7-day expiry: the next start drops it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
import uuid
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from core.fsmodes import PRIVATE_FILE_MODE, set_file_mode

logger = logging.getLogger(__name__)

# os.open on Windows would otherwise open in text mode under the file objects' own newline rule
_BINARY = getattr(os, "O_BINARY", 0)

QUEUE_FILE = "upload-queue.json"
JOURNAL_FILE = "upload-queue.journal"
VERSION = 2
DISCARD = "discard"  # a removed or cancelled row whose resumable upload is still to drop
# A dropped folder (or file) still being read when the app closed or crashed: read again at
# the next start, for the files not yet queued (the row is not shown)
WALK = "walk"
SAVED_STATES = ("queued", "paused", "failed", DISCARD, WALK)
# Journal states of a row that left the queue: it is not restored at the next start
GONE_STATES = ("done", "duplicate", "cancelled", "removed")
# A journal entry's field naming the new key of a row the user retried (a retry is a new
# attempt, with a key of its own): until the next save of the queue holds the retry, the
# entries of that attempt name a key the saved queue does not know
RETRIED_AS = "retried_as"


def new_key() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class SavedRow:
    path: str
    size: int
    athlete_id: int | None = None
    # queued (resumes at start) | paused (waits for the user) | failed | discard (its upload
    # is dropped at start, the row is not shown) | walk (read again at start, not shown)
    state: str = "queued"
    upload_id: str | None = None  # the resumable upload holding the bytes already sent
    reason: str = ""  # a failure's sentence, only for failures `error` cannot describe again
    detail: str = ""
    key: str = ""  # names the row in the journal; rows of version 1 files get one at load
    # When the user queued the row (seconds since the epoch; None in version 1 files): a file
    # that entered the library after it may be this row's own upload (see UploadController).
    queued_at: float | None = None
    # A failure's code, reason and details (desktop_app.errors.error_record): described again
    # in the interface language of the next start
    error: dict[str, Any] | None = None
    # What the row showed done (0..1) of an upload in parts: its bytes stored, shown again at
    # the next start before the upload goes on (or while it waits, paused)
    fraction: float = 0.0


def queue_file(data_dir: Path) -> Path:
    return Path(data_dir) / QUEUE_FILE


def journal_file(queue: Path) -> Path:
    return Path(queue).with_name(JOURNAL_FILE)


def _fsync_folder(folder: Path) -> None:
    """Makes a rename or a new file in `folder` durable (best effort: not every system can)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _replace(path: Path, text: str) -> None:
    """Writes `path` atomically: a crash leaves the old contents or the new, never a mix; a
    write that fails leaves no temporary file behind."""
    data = text.encode("utf-8")  # before the file is made: text that cannot be written makes none
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _BINARY, PRIVATE_FILE_MODE)
    try:
        set_file_mode(fd, PRIVATE_FILE_MODE)  # a leftover .tmp keeps its mode through O_CREAT
        with os.fdopen(fd, "wb") as fh:
            fd = -1  # the file object closes it
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if fd != -1:
            os.close(fd)
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_folder(path.parent)


def save_queue(path: Path, rows: list[SavedRow]) -> None:
    data = {"version": VERSION, "rows": [asdict(r) for r in rows]}
    # A local file's name need not be UTF-8 (an old USB stick's or share's b"Pe\xf1a.jpg"):
    # Python holds its bytes as lone surrogates ("Pe\udcf1a.jpg", os.fsdecode), in the path
    # and in a failure's words and record, which UTF-8 cannot encode: every save of the queue
    # failed, closing the app too. As JSON escapes ("\udcf1") they are written and read back
    # as they were, so the row names the same file; files written before read as ever.
    _replace(path, json.dumps(data, ensure_ascii=True, indent=1))


def _read_rows(path: Path) -> list[SavedRow]:
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
            queued_at = raw.get("queued_at")
            error = raw.get("error")
            fraction = min(max(float(raw.get("fraction") or 0.0), 0.0), 1.0)
            row = SavedRow(
                path=str(raw["path"]),
                size=int(raw.get("size", 0)),
                athlete_id=None if raw.get("athlete_id") is None else int(raw["athlete_id"]),
                state=str(raw.get("state", "queued")),
                upload_id=raw.get("upload_id") or None,
                reason=str(raw.get("reason", "")),
                detail=str(raw.get("detail", "")),
                key=str(raw.get("key") or new_key()),
                queued_at=None if queued_at is None else float(queued_at),
                error=error if isinstance(error, dict) else None,
                fraction=fraction,
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
        if row.state in SAVED_STATES:
            rows.append(row)
    return rows


def _read_journal(path: Path) -> list[dict[str, Any]]:
    """The journal's entries in order; a line cut short by a crash (the last) is skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except OSError as exc:
        logger.warning("Ignoring the upload queue journal %s: %s", path, exc)
        return []
    entries = []
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("key"), str):
            entries.append(entry)
    return entries


def _apply(rows: list[SavedRow], entries: list[dict[str, Any]]) -> list[SavedRow]:
    # Rows by the key they were saved under (their place in the queue); a row retried since
    # goes by its new key (`slot_of`), which the journal's later entries name
    by_key = {row.key: row for row in rows}
    slot_of = {key: key for key in by_key}
    # Rows that left the queue, and the upload ids of rows never saved: a later "discard"
    # (a removed row's worker stopped, its upload is to drop) brings the row back as one
    gone: dict[str, SavedRow] = {}
    for entry in entries:
        key, state = entry["key"], entry.get("state")
        slot = slot_of.get(key, key)
        row = by_key.get(slot)
        if isinstance(entry.get("upload_id"), str):
            if row is not None:
                by_key[slot] = replace(row, upload_id=entry["upload_id"])
            else:
                base = gone.get(key, SavedRow("", 0, key=key))
                gone[key] = replace(base, upload_id=entry["upload_id"])
        elif isinstance(entry.get(RETRIED_AS), str):
            if row is not None:
                slot_of.pop(key, None)
                slot_of[entry[RETRIED_AS]] = slot
                by_key[slot] = _retried(row, entry[RETRIED_AS], entry.get("queued_at"))
        elif state in GONE_STATES:
            if row is not None:
                gone[key] = by_key.pop(slot)
        elif state == DISCARD:
            base = row or gone.pop(key, None) or SavedRow("", 0, key=key)
            by_key[slot] = replace(base, state=DISCARD)
    return list(by_key.values())


def _retried(row: SavedRow, key: str, queued_at: object) -> SavedRow:
    """A failed row the user retried: queued again from its first byte, as the window did."""
    when = float(queued_at) if isinstance(queued_at, (int, float)) else row.queued_at
    return replace(
        row,
        key=key,
        state="queued",
        reason="",
        detail="",
        error=None,
        fraction=0.0,
        queued_at=when,
    )


def load_queue(path: Path) -> list[SavedRow]:
    """The saved rows with the journal applied; unreadable files are logged and ignored."""
    return _apply(_read_rows(path), _read_journal(journal_file(path)))


class QueueJournal:
    """Appends what happens to saved rows; `record` is cheap and safe from any thread.

    Entries wait in memory until `flush` (one write and one fsync for the whole batch) or
    `compact` (after a save of the queue) puts them on disk.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()  # the pending entries and the sequence number
        self._io = threading.Lock()  # one writer of the file at a time
        self._pending: list[dict[str, Any]] = []
        # Entries are numbered from the clock at start, so that this session's come after
        # those a previous one left in the file (when the save at start could not drop them)
        self._seq = time.time_ns()

    def record(self, key: str, **fields: Any) -> None:
        with self._lock:
            self._seq += 1
            self._pending.append({"seq": self._seq, "key": key, **fields})

    @property
    def seq(self) -> int:
        """The number of the last entry recorded (a save of the queue names what it holds)."""
        with self._lock:
            return self._seq

    @property
    def pending(self) -> bool:
        with self._lock:
            return bool(self._pending)

    def _take(self) -> list[dict[str, Any]]:
        with self._lock:
            batch, self._pending = self._pending, []
        return batch

    def _give_back(self, batch: list[dict[str, Any]]) -> None:
        with self._lock:
            self._pending[:0] = batch  # written by the next flush

    def flush(self) -> None:
        """Appends the entries recorded so far, fsynced."""
        with self._io:
            batch = self._take()
            if not batch:
                return
            try:
                new = not self.path.exists()
                self.path.parent.mkdir(parents=True, exist_ok=True)
                text = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in batch)
                flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | _BINARY
                fd = os.open(self.path, flags, PRIVATE_FILE_MODE)
                set_file_mode(fd, PRIVATE_FILE_MODE)  # also one an older version left 0644
                with os.fdopen(fd, "ab+") as fh:
                    if fh.seek(0, os.SEEK_END) > 0:
                        fh.seek(-1, os.SEEK_END)
                        if fh.read(1) != b"\n":  # a line a crash cut: ours start on their own
                            text = "\n" + text
                    fh.write(text.encode("utf-8"))
                    fh.flush()
                    os.fsync(fh.fileno())
                if new:
                    _fsync_folder(self.path.parent)
            except OSError:
                self._give_back(batch)
                raise

    def compact(self, saved: list[SavedRow], upto: int) -> None:
        """After a save of the rows as they were when entry `upto` was the last recorded:
        keeps only the entries that save does not already hold (and writes the pending ones)."""
        with self._io:
            batch = self._take()
            try:
                by_key = {row.key: row for row in saved}
                written = _read_journal(self.path)
                keep = [e for e in _latest(written + batch) if not _held(e, by_key, upto)]
                if keep == written:
                    return  # nothing to drop or to add: the file stays as it is
                if keep:
                    _replace(self.path, "".join(json.dumps(e) + "\n" for e in keep))
                elif self.path.exists():
                    self.path.unlink()
                    _fsync_folder(self.path.parent)
            except OSError:
                self._give_back(batch)
                raise


def _latest(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entries without those a later one of the same row replaces (an older upload id)."""
    seen: set[tuple[str, bool]] = set()
    out = []
    for entry in reversed(entries):
        kind = (entry["key"], "upload_id" in entry)
        if kind not in seen:
            seen.add(kind)
            out.append(entry)
    return out[::-1]


def _held(entry: dict[str, Any], saved: dict[str, SavedRow], upto: int) -> bool:
    """Whether a save of the queue (taken when entry `upto` was the last) already says what
    `entry` says. Entries recorded later are always kept: the save may predate them."""
    if int(entry.get("seq", 0)) > upto:
        return False
    row = saved.get(entry["key"])
    if entry.get("state") in GONE_STATES:
        return row is None
    if entry.get("state") == DISCARD:  # a row saved as gone had its upload dropped since
        return row is None or row.state == DISCARD
    if RETRIED_AS in entry:  # a save after the retry names the row by its new key
        return row is None
    return row is None or row.upload_id == entry.get("upload_id")


def checkpoint(path: Path, journal: QueueJournal, rows: list[SavedRow], upto: int) -> None:
    """Saves the queue, then drops the journal entries the save holds."""
    save_queue(path, rows)
    journal.compact(rows, upto)


def restore_queue(path: Path, journal: QueueJournal) -> list[SavedRow]:
    """At start: the saved rows with the journal applied, saved again so that the journal
    starts empty (entries this session recorded meanwhile are kept)."""
    entries = _read_journal(journal_file(path))
    rows = _apply(_read_rows(path), entries)
    if entries:
        try:
            checkpoint(path, journal, rows, max(int(e.get("seq", 0)) for e in entries))
        except Exception as exc:  # the rows read are restored all the same
            logger.warning(
                "Could not save the upload queue: %s", exc, exc_info=not isinstance(exc, OSError)
            )
    return rows
