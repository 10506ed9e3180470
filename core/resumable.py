"""Resumable uploads: tus uploads and presigned multipart uploads straight to the bucket.

State lives in the catalog (`resumable_uploads`), bytes in the data folder or the bucket, so an
upload survives a server restart:

- tus on local storage: the upload grows in `<data>/uploads/<id>.part` (core/appender.py); each
  commit fsyncs the file and then records the offset, so after a crash the file is cut back to
  the recorded offset.
- tus on S3/R2: bytes go to `<data>/uploads/<id>.buffer` until one part is complete, the part is
  sent to an S3 multipart upload (all parts the same size, as R2 requires), the part is recorded,
  and only then is the buffer emptied. At most one part is ever buffered, on disk. The row names
  the data folder holding the buffer (`buffer_at`): servers of a team each have their own, and
  only that folder's buffer is current (others are stale, and never swept as the upload's loss).
  A local upload's `.part` is taken wherever it is found, whatever folder the row names: it
  holds the upload's first bytes, so a data folder that moved keeps its uploads (`_resumes_at`).
  The multipart upload starts with the first part, whose content names the object (no move at
  the end).
- presigned multipart (S3/R2): the client PUTs parts straight to the bucket with signed part
  URLs; confirm completes the multipart upload (the client's ETags or ListParts) and validates.

When the last byte of a tus upload arrives the file goes through the same validation and
cataloguing as a direct upload (`library.uploads.ingest`, or `library.uploads.confirm_upload`
for an object that is already in the bucket).
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import functools
import hashlib
import logging
import math
import os
import secrets
import socket
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar, cast

from sqlalchemy import bindparam, or_, select, update

from core import keys
from core.appender import Appender
from core.ascii import whole_number, yes_no
from core.catalog import Catalog
from core.db.engine import CATALOG_DEADLINE, Database, catalog_deadline
from core.db.models import MediaFile, ResumableUpload
from core.deferred import (
    DeferredDeleter,
    collect_unless_recorded,
    discard_unless_recorded,
    forget_noted,
)
from core.errors import (
    SOURCE_CHANGED,
    Cancelled,
    ChecksumMismatch,
    Conflict,
    EmptyFile,
    InsufficientStorage,
    InvalidInput,
    MediaDeskError,
    NoSuchMultipartUpload,
    NotFound,
    OffsetMismatch,
    StorageNotAsked,
    StorageUnavailable,
    TooLarge,
    UploadGone,
    UploadLocked,
    UploadNotReceived,
    catalog_down,
    catalog_unreachable,
    is_no_space,
    no_room,
    outage_level,
    owes_outage_error,
)
from core.filenames import clean_filename, readable_name
from core.fsmodes import FILE_MODE, make_dirs, set_file_mode
from core.ingest import check_description, failure_text, stored_failure
from core.mediatypes import (
    BY_MIME,
    SNIFF_BYTES,
    canonical_mime,
    check_kind,
    guess_from_name,
    require_kind,
    sniff_bytes,
    sniff_file,
)
from core.records import MAX_ID, UPLOAD_OWNER, FileRecord, FileStatus, expiry_iso
from core.settings import Settings
from core.spool import Spooled, discard, hash_file, too_large
from core.storage.base import (
    MultipartStorage,
    PartInfo,
    PartPresigner,
    PresignedRequest,
    Presigner,
    Storage,
)
from core.storage.local import fs_errors

if TYPE_CHECKING:
    from core.library import Library
    from core.links import Arrival

logger = logging.getLogger(__name__)

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = ("creation", "creation-with-upload", "termination", "expiration", "checksum")
CHECKSUM_ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "md5": hashlib.md5}
# Local uploads commit (fsync + offset) at least this often inside one long PATCH, so a crash
# loses at most this much of what the client already sent.
LOCAL_CHECKPOINT = 8 * 1024 * 1024
MAX_PARTS = 10_000  # S3 and R2 limit
# The error of a failed file-system call in the uploads folder (fs_errors: storage_unavailable,
# a full disk insufficient_storage), never a 500 internal_error with a traceback; no path in it
UPLOADS_UNUSABLE = "The folder of the uploads in progress cannot be written"

# A writer's hold on an upload in the catalog (MEDIADESK_TUS_LEASE_SECONDS), so that server
# processes sharing one catalog never append to the same upload at once; taken over at once
# from a process of this machine that is gone (a crash). A process on another machine cannot
# be looked for, so its lease is trusted until it runs out: it is renewed every RENEW_SHARE of
# it by a thread of the process for as long as a request of it holds the upload and is not
# stalled (_Hold.stalled), not only at its commits (a phone at 50 kB/s commits every few
# minutes), and so it can be short: a server killed mid-PATCH, or one whose client went
# silent without closing (Wi-Fi lost), refuses the client's resume elsewhere for a lease
# (plus STALLED) at most.
RENEW_SHARE = 1 / 3
# A holder whose renewals fail (the catalog out of reach for it) stops writing once no more
# than this share of its lease is left: past its end another server may hold the upload, and
# a write already under way, or a clock a little ahead on the other machine, needs the margin.
STOP_SHARE = 1 / 6
# The lease of a library with the default settings (its own is ResumableUploads.lease)
LEASE = timedelta(seconds=Settings.tus_lease_seconds)
# A lease this process could not drop (the catalog out of reach or full when its request
# ended) refused the upload to every other server of the team until it ran out: it is dropped
# again by a thread of the uploads, first this many seconds later, twice as late after each
# failure up to DROP_RETRY_MAX, and at once after any write of a lease that the catalog took,
# so another server goes on within seconds of the catalog's return.
DROP_RETRY = 0.25
DROP_RETRY_MAX = 2.0
# A file in the uploads folder without a row is left this long: create() makes the file just
# before the row.
ORPHAN_GRACE = timedelta(minutes=1)
# The expiry of a creation-with-upload until its answer: one never answered (its server killed
# while it read the body) gave the client no Location to resume or terminate it with, so
# maintenance removes it once this has passed. The creation's lease (renewed at every commit)
# keeps a body still arriving, on this server or another of the team, from being removed.
UNANSWERED = timedelta(minutes=1)
# How long a tus HEAD waits for another request's completion of the upload (validation, hash,
# storing, cataloguing: seconds for a big video on R2/S3) before it answers 423 (locked, retry
# later): under the read timeouts of common proxies (60 s and more).
HEAD_WAIT = 50.0
# Seconds without a byte after which the request of this process that holds an upload is
# ended by the next PATCH or DELETE of it (tusd's lock release): a connection gone half-open
# (no byte, no reset: pitch-side Wi-Fi) held the upload until the server's 120 s body timeout,
# refusing the client's own resume with 423 all that while. A few seconds: a client sends no
# second request to a live upload of its own, and a writer still receiving is never ended.
STALLED = 5.0
# Retry-After of a 423 whose holder cannot be ended now: a request of this process past its
# body (storing, cataloguing) or one of the desktop's uploads; another process's lease gives
# the seconds left on it, at most LOCKED_RETRY_MAX (a writer that ends drops its lease at once).
LOCKED_RETRY = 2
LOCKED_RETRY_MAX = 30
DESKTOP_EXPIRY = 7 * 24 * 3600  # R2 drops unfinished multipart uploads after 7 days too
# The owner of the desktop's uploads: their expiry is DESKTOP_EXPIRY, not MEDIADESK_TUS_EXPIRY
DESKTOP_OWNER = "desktop"
SEND_CHUNK = 1024 * 1024  # bytes the desktop's send_file reads from the disk at a time
# The reason (error body) and failure prefix (catalog) of a tus upload whose multipart upload
# is gone from the bucket.
PARTS_GONE = "parts_gone"
PARTS_GONE_MESSAGE = (
    "This upload's parts are no longer in the bucket (the upload in parts was aborted outside "
    "MediaDesk); start a new upload"
)
# A presigned upload in parts that cannot go on: its multipart upload is gone from the bucket
PRESIGNED_PARTS_GONE = "The upload in parts was aborted; start a new one"
# The link to a complete local upload's .part that the store adopts (_staged).
STAGED = ".storing"


@dataclass(frozen=True)
class UploadState:
    """A resumable upload as clients see it (frozen: handed across threads)."""

    id: str
    protocol: str
    state: str  # receiving | done | failed
    length: int
    offset: int
    metadata: Mapping[str, str]
    expires_at: datetime
    created_at: datetime
    file_id: int | None = None
    duplicate: bool = False
    failure: str | None = None
    part_size: int = 0

    @property
    def complete(self) -> bool:
        return self.offset >= self.length


@dataclass(frozen=True)
class MultipartPlan:
    """What POST /files/upload/presigned adds for an upload in parts."""

    upload_id: str
    part_size: int
    parts: list[tuple[int, PresignedRequest]]
    expires_at: datetime

    def as_dict(self) -> dict[str, object]:
        return {
            "upload_id": self.upload_id,
            "part_size": self.part_size,
            "parts": [{"part_number": n, "url": r.url} for n, r in self.parts],
            "expires_at": expiry_iso(self.expires_at),
        }


# The filename's base64 as the client sent it, kept (in the upload's meta, a key of ours) when
# its bytes are not UTF-8: tus 1.0 has HEAD answer Upload-Metadata as given, and the base64 of
# the name as read (cp1252) in UTF-8 was another value than the client's.
GIVEN_FILENAME = "_filename_base64"


def parse_metadata(header: str) -> dict[str, str]:
    """The tus `Upload-Metadata` header: `key base64value, key2 base64value2, flag`. A filename
    whose bytes are not UTF-8 is read as cp1252, its base64 kept as GIVEN_FILENAME."""
    out: dict[str, str] = {}
    given: str | None = None
    for item in header.split(","):
        item = item.strip()
        if not item:
            continue
        key, _, value = item.partition(" ")
        key = key.strip()
        if not key or key in out:
            raise InvalidInput(f"Upload-Metadata: empty or repeated key {key!r}")
        try:
            raw = base64.b64decode(value.strip(), validate=True)
            # an old client sends the name's bytes as its file system holds them (cp1252 on
            # an old USB stick or share): read as the direct upload, the CLI and the desktop
            # read it, not refused; every other value is ours to check, in UTF-8
            out[key] = readable_name(raw) if key == "filename" else raw.decode("utf-8")
        except ValueError:  # binascii.Error, UnicodeDecodeError; b64decode's for non-ASCII text
            raise InvalidInput(
                f"Upload-Metadata: the value of {key!r} is not base64 UTF-8"
            ) from None
        if key == "filename" and out[key].encode("utf-8") != raw:
            given = value.strip()
    out.pop(GIVEN_FILENAME, None)  # never a client's
    if given is not None:
        out[GIVEN_FILENAME] = given
    return out


def encode_metadata(meta: Mapping[str, str]) -> str:
    """An upload's Upload-Metadata for HEAD: the client's keys (not ours, their leading
    underscore), a filename not UTF-8 in the base64 it was given."""

    def encoded(key: str, value: str) -> str:
        if key == "filename" and meta.get(GIVEN_FILENAME):
            return meta[GIVEN_FILENAME]
        return base64.b64encode(value.encode("utf-8")).decode("ascii")

    return ",".join(
        f"{k} {encoded(k, v)}" if v else k for k, v in meta.items() if not k.startswith("_")
    )


def checksum_pattern() -> str:
    """The Upload-Checksum values parse_checksum takes, as a regular expression (ECMA 262, for
    the OpenAPI document): an algorithm in any case, spaces, the base64 of a digest of its
    length."""
    forms = []
    for name, new in CHECKSUM_ALGORITHMS.items():
        size = new().digest_size
        pad = (3 - size % 3) % 3
        letters = "".join(f"[{c.upper()}{c}]" if c.isalpha() else c for c in name)
        forms.append(f"{letters} +[A-Za-z0-9+/]{{{4 * ((size + 2) // 3) - pad}}}={{{pad}}}")
    return "^(" + "|".join(forms) + ")$"


def parse_checksum(header: str) -> tuple[str, bytes]:
    """`Upload-Checksum: <algorithm> <base64 digest>`; an unknown algorithm is InvalidInput."""
    algo, _, value = header.strip().partition(" ")
    algo = algo.lower()
    if algo not in CHECKSUM_ALGORITHMS:
        raise InvalidInput(
            f"Unsupported checksum algorithm {algo!r}; use one of " + ", ".join(CHECKSUM_ALGORITHMS)
        )
    try:
        digest = base64.b64decode(value.strip(), validate=True)
    except ValueError:  # binascii.Error, and b64decode's for non-ASCII text
        raise InvalidInput("Upload-Checksum: the digest is not base64") from None
    if len(digest) != CHECKSUM_ALGORITHMS[algo]().digest_size:
        raise InvalidInput(f"Upload-Checksum: a {algo} digest has the wrong length")
    return algo, digest


@dataclass(frozen=True)
class _Meta:
    filename: str
    mime: str | None
    kind: str | None
    athlete_id: int | None
    is_public: bool
    description: str
    raw: dict[str, str] = field(default_factory=dict)

    def kind_of(self, head: Callable[[], bytes], accepted: Sequence[str]) -> str:
        """The kind the client declared (`file_type`, which validation holds the bytes to),
        else the kind of the bytes: `head()` reads their first SNIFF_BYTES (a refusal names
        `accepted`, this server's types). Never the kind of `filetype` or of the name's
        extension: clients take both from the file's name, so an MP4 sent as `clip.JPG` was
        refused as type_mismatch against a file_type nobody sent."""
        return self.kind or sniff_bytes(head(), accepted).kind

    def ingest_args(self) -> dict[str, Any]:
        """What the client said of the file, as `Ingestor.ingest` takes it."""
        return {
            "original_filename": self.filename,
            "athlete_id": self.athlete_id,
            "is_public": self.is_public,
            "description": self.description,
        }


def _check_meta(meta: Mapping[str, str]) -> _Meta:
    # no usable name: the fallback every upload gets (a direct upload's nameless part too)
    filename = clean_filename(meta.get("filename"))
    declared = (meta.get("filetype") or "").split(";", 1)[0].strip().lower()
    mime = canonical_mime(declared) if declared else None
    if mime is None:
        mime = canonical_mime(guess_from_name(filename) or "")
    kind = check_kind(meta["file_type"]) if meta.get("file_type") else None
    athlete_id: int | None = None
    if meta.get("athlete_id"):
        # the forms' rule (server/params.py as_id): int() took "١٢", "1_2", "+12" and " 7"
        athlete_id = whole_number(meta["athlete_id"])
        if athlete_id is None or not 1 <= athlete_id <= MAX_ID:
            raise InvalidInput(
                f"athlete_id must be a whole number from 1 to {MAX_ID} in ASCII digits "
                f"without spaces, not {meta['athlete_id']!r}"
            )
    public = yes_no(meta.get("is_public") or "")
    if public is None:
        raise InvalidInput("is_public must be true or false")
    description = check_description(meta.get("description") or "")
    return _Meta(
        filename,
        mime,
        kind,
        athlete_id,
        public,
        description,
        # every key the client sent: tus 1.0 has HEAD answer the Upload-Metadata given at
        # creation (Uppy adds relativePath, name, type); a leading underscore is ours
        {
            **{k: v for k, v in meta.items() if not k.startswith("_")},
            **({GIVEN_FILENAME: meta[GIVEN_FILENAME]} if meta.get(GIVEN_FILENAME) else {}),
        },
    )


# The statements of every PATCH, built once (building one and its cache key costs SQLAlchemy
# more than SQLite's work); bound names differ from the columns SET (SQLAlchemy's rule).
_UPLOADS = ResumableUpload.__table__
_READ = select(_UPLOADS).where(_UPLOADS.c.id == bindparam("uid"))
_READ_LEASED = _READ.with_for_update()
_LEASE = (
    update(ResumableUpload)
    .where(ResumableUpload.id == bindparam("uid"))
    .values(lease_owner=bindparam("holder"), lease_until=bindparam("until"))
)
_UNLEASE = (
    update(ResumableUpload)
    .where(
        ResumableUpload.id == bindparam("uid"), ResumableUpload.lease_owner == bindparam("holder")
    )
    .values(lease_owner=None, lease_until=None)
)
# Only while the lease is this writer's: one whose lease ran out and was taken (its renewals
# failed) must not record its offset over the new holder's
_RECORD = (
    update(ResumableUpload)
    .where(
        ResumableUpload.id == bindparam("uid"), ResumableUpload.lease_owner == bindparam("holder")
    )
    .values(received=bindparam("got"), lease_until=bindparam("until"), buffer_at=bindparam("at"))
)
# The close of a PATCH that stored bytes records them with the upload's new expiry: one write
_RECORD_ALIVE = _RECORD.values(expires_at=bindparam("expires"))
_RENEW = (
    update(ResumableUpload)
    .where(
        ResumableUpload.id == bindparam("uid"), ResumableUpload.lease_owner == bindparam("holder")
    )
    .values(lease_until=bindparam("until"))
)
_EXTEND = (
    update(ResumableUpload)
    .where(ResumableUpload.id == bindparam("uid"))
    .values(expires_at=bindparam("expires"))
)


class _Row(SimpleNamespace):
    """An upload's row read by a Core statement: its columns as attributes, as on the ORM's."""


_Known = TypeVar("_Known", ResumableUpload, _Row)


# Upload ids: secrets.token_hex(16), the length of their column; a longer one was never
# issued and is not looked up.
ID_LENGTH = 32


def _new_id() -> str:
    return secrets.token_hex(ID_LENGTH // 2)


def _foreign(recorded: str | None, owner: str | None) -> bool:
    """Whether an upload recorded as `recorded`'s is another's than the caller `owner`'s: the
    one rule of tus and presigned uploads. Either unknown (auth off, the desktop's in-process
    calls, an upload made without a token) lets the call through."""
    return bool(recorded and owner and recorded != owner)


def _known(row: _Known | None, protocol: str) -> _Known:
    """The row of an upload of this protocol; NotFound for none or another protocol's."""
    if row is None or row.protocol != protocol:
        raise NotFound("No such upload")
    return row


def upload_expiry(row: ResumableUpload | _Row | Any, tus_expiry: int) -> datetime:
    """When an upload expires: its recorded expiry, or sooner for a tus upload of the HTTP API
    when MEDIADESK_TUS_EXPIRY was lowered since it was recorded (its last write plus the
    setting now). Recorded at each PATCH, the expiry of an upload left idle kept the longer
    setting's, and its bytes stayed that long. HEAD's and PATCH's Upload-Expires, their 410
    and maintenance's removal (expire) all go by this. `updated_at` is at or after the last
    PATCH that stored bytes (a lease taken or dropped moves it too), so this is never earlier
    than the sliding expiry under today's setting. Multipart uploads (PRESIGNED_URL_EXPIRY)
    and the desktop's (DESKTOP_EXPIRY) keep their own."""
    if row.protocol != "tus" or row.owner == DESKTOP_OWNER:
        return row.expires_at  # type: ignore[no-any-return]
    return min(row.expires_at, row.updated_at + timedelta(seconds=tus_expiry))  # type: ignore[no-any-return]


def _state(row: ResumableUpload | _Row, tus_expiry: int, duplicate: bool = False) -> UploadState:
    return UploadState(
        id=row.id,
        protocol=row.protocol,
        state=row.state,
        length=row.length,
        offset=row.received,
        metadata=dict(row.meta or {}),
        expires_at=upload_expiry(row, tus_expiry),
        created_at=row.created_at,
        file_id=row.file_id,
        duplicate=duplicate or bool((row.meta or {}).get("_duplicate")),
        failure=row.failure,
        part_size=row.part_size,
    )


def _parts(row: ResumableUpload | _Row) -> list[PartInfo]:
    return [PartInfo(int(p["n"]), int(p["size"]), str(p["etag"])) for p in row.parts or []]


def _buffered(row: Any) -> int:
    """How many of an upload's recorded bytes its local file holds (those past its parts)."""
    return int(row.received) - sum(p.size for p in _parts(row))


def _has_tail(row: Any, path: Path) -> bool:
    """Whether the upload's local file holds bytes past its recorded offset."""
    try:
        return path.stat().st_size > _buffered(row) >= 0
    except FileNotFoundError:
        return False


class ResumableUploads:
    """The tus and presigned-multipart flows of one library (thread-safe)."""

    def __init__(
        self, library: Library, *, db: Database, storage: Storage, presigner: Presigner
    ) -> None:
        self.lib = library  # settings, files and uploads through the façade
        self._db = db
        self._storage = storage
        self._presigner = presigner
        self._guard = threading.Lock()
        self._holds: dict[str, _Hold] = {}  # upload id -> the request of this process holding it
        # upload id -> (bytes hashed, sha256 so far) of local uploads received by this process
        self._hashes: dict[str, tuple[int, Any]] = {}
        # upload id -> (local file, its fingerprint) of uploads sent from this machine: at the
        # end the object is checked from that file instead of being downloaded again
        self._local_sources: dict[str, tuple[Path, str]] = {}
        # upload id -> who watches the parts of an upload sent from this machine (send_file)
        self._watches: dict[str, _PartWatch] = {}
        self._me = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        # upload id -> when (time.monotonic) its lease, which this process may still hold
        # without any request of it writing, has run out anyway: dropped again meanwhile
        # (_drop_later); under the guard
        self._undropped: dict[str, float] = {}
        self._dropper: threading.Thread | None = None
        self._drop_now = threading.Event()  # a write of a lease went through: try again now
        # renews the leases of the uploads requests of this process hold (renew_leases)
        self._renewer: threading.Thread | None = None
        self._renew_stop = threading.Event()
        self._closed = False
        # This data folder, as the catalog names the place of an upload's buffered bytes:
        # processes sharing the folder share its buffers, servers of a team have their own.
        # Named by host and path, so a moved folder is named anew: no id kept inside it, which
        # a copy of the folder (a second server set up from it, a restored backup beside the
        # original) would share, taking its stale part buffers for current ones. Local uploads
        # do not need the name to find their bytes (`_resumes_at`); an upload to R2/S3 whose
        # folder moved goes on from its parts in the bucket (at most one part sent again).
        folder = str(library.paths.data_dir.resolve()).encode()
        self.here = f"{socket.gethostname()}:{hashlib.sha256(folder).hexdigest()[:16]}"

    # ---- helpers ----------------------------------------------------------------------------
    @property
    def folder(self) -> Path:
        folder = self._uploads_dir
        with fs_errors(UPLOADS_UNUSABLE):
            make_dirs(folder)
        return folder

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.lib.settings.tus_lease_seconds)

    @property
    def _uploads_dir(self) -> Path:
        """The uploads folder, not made: a look that must not write (HEAD)."""
        return self.lib.paths.data_dir / "uploads"

    def _multipart_store(self) -> MultipartStorage | None:
        storage = self._storage
        return storage if isinstance(storage, MultipartStorage) else None

    @contextlib.contextmanager
    def hold(self, upload_id: str) -> Iterator[_Hold]:
        """One writer per upload in this process; a second one gets UploadLocked (423), or
        ends the first with `end_stalled` when that one's body went quiet."""
        with self._guard:
            held = self._holds.get(upload_id)
            if held is not None:
                raise UploadLocked(
                    "Another request is writing to this upload; retry shortly",
                    details={"retry_after": held.retry_after()},
                )
            held = self._holds[upload_id] = _Hold()
        try:
            yield held
        finally:
            with self._guard:
                del self._holds[upload_id]
            held.released.set_result(None)

    def check_owner(self, upload_id: str, owner: str | None) -> None:
        """NotFound unless the upload is known and `owner`'s (or nobody's): asked before a held
        upload's holder is ended or a 423 says when to come back, so that another token's
        request neither ends the owner's PATCH nor learns that it is being written."""
        with self._db.read() as s:
            self._check_owner(self._row(s, upload_id), owner)

    def end_stalled(self, upload_id: str) -> Future[None] | None:
        """Ends the request of this process that holds the upload, if its body has brought no
        byte for STALLED seconds (a connection gone half-open); a future done once it let go.
        None when no such request holds it: none here, one still receiving bytes, one writing
        them (TusWriter.busy: a slow disk, a part upload to R2), or one past its body
        (completing the upload). The ended request keeps only the bytes recorded
        (TusWriter.abort), the offset HEAD answered meanwhile, so its client goes on from
        there."""
        with self._guard:
            held = self._holds.get(upload_id)
            end = held.end if held is not None and held.stalled() else None
            if held is None or end is None:
                return None
            held.end = None
            held.ended = True
        logger.info(
            "tus upload %s: the request writing to it received nothing for %.1f s; "
            "ended for a new request",
            upload_id,
            held.quiet(),
        )
        end()
        return held.released

    # The lease is taken and dropped at every PATCH: Core statements, not ORM sessions (a
    # session's get and commit cost ≈ 1.3 ms each; a PATCH of tuspy's default 2 MiB took 22 ms
    # on the server, most of it in six such transactions).
    def _take_lease(self, upload_id: str) -> _Row | None:
        """Takes the upload's lease; its row as it was read in the same transaction (None when
        unknown: the caller's checks report it)."""
        asked = time.monotonic()  # its end, as this process counts it, is no later than this
        now = datetime.now(UTC)
        with self._db.write_connection() as conn:
            found = conn.execute(_READ_LEASED, {"uid": upload_id}).first()
            if found is None:
                return None
            row = _Row(**found._asdict())
            if self._held_elsewhere(row.lease_owner, row.lease_until, now):
                raise _leased_elsewhere(row.lease_until, now)
            conn.execute(_LEASE, {"uid": upload_id, "holder": self._me, "until": now + self.lease})
        # the request holding it drops the lease now (or leaves it to be dropped again)
        self._caught_up(upload_id)
        self._renew_while_held(upload_id, asked)
        return row

    def _renew_while_held(self, upload_id: str, asked: float) -> None:
        """The lease just taken (`asked`: time.monotonic() before it was asked for) is renewed
        by the renewer thread, which this starts, for as long as the request holds the
        upload and is not stalled."""
        with self._guard:
            held = self._holds.get(upload_id)
            if held is None or self._closed:
                return
            held.leased(asked, self.lease.total_seconds())
            if self._renewer is None:
                self._renew_stop.clear()
                self._renewer = threading.Thread(
                    target=_renewing,
                    args=(weakref.ref(self), self._renew_stop),
                    name="mediadesk-lease-renewals",
                    daemon=True,
                )
                self._renewer.start()

    def renew_leases(self) -> float | None:
        """One round of the renewer thread: renews the lease of each upload a request of this
        process holds whose renewal is due; the seconds until the next one is, or None (the
        thread forgotten) once no request holds a lease.

        A stalled request (its body quiet for STALLED seconds: a client gone without closing)
        is passed over, so that its lease runs out and another server takes the upload; were
        its bytes to come back, its next write renews the lease itself if nobody took it
        (TusWriter._check_lease). A renewal the catalog does not take (out of reach, full) is
        tried again shortly, never raised: the request goes on until too little of its lease
        is left (TusWriter.write stops it then). One that finds the lease no longer this
        process's (run out and taken by another server) marks it lost: the request stops at its
        next write."""
        lease = self.lease.total_seconds()
        with self._guard:
            held = [(u, h) for u, h in self._holds.items() if h.renewing()]
            if not held or self._closed:
                self._renewer = None  # the next lease taken starts another
                return None
        for upload_id, hold in held:
            with self._guard:
                if time.monotonic() < hold.due or not hold.renewing():
                    continue
                if hold.stalled():
                    hold.passed_over(lease * RENEW_SHARE)
                    continue
            asked = time.monotonic()
            try:
                # a hung catalog answers no renewal: bounded, so that the next ones are tried
                taken = self._renew(upload_id, min(CATALOG_DEADLINE, lease * RENEW_SHARE))
            except Exception as exc:  # noqa: BLE001 - see above
                with self._guard:
                    first = hold.failed(min(DROP_RETRY_MAX, lease * RENEW_SHARE))
                # a renewal that met the catalog's outage before anything else did: the
                # episode's one ERROR line (said as a WARNING, the outage had none)
                level = outage_level(exc, logging.WARNING)
                if first or level == logging.ERROR:
                    why = "no room in the catalog" if is_no_space(exc) else _why(exc)
                    logger.log(
                        level,
                        "tus upload %s: could not renew its lease (%s); tried again, and its "
                        "request stops writing if the lease runs out first",
                        upload_id,
                        why,
                    )
                continue
            with self._guard:
                if hold.let_go:
                    # its request dropped the lease after this round listed it (the upload
                    # finished, catalogued): that, not another server, is what it found
                    continue
                if taken:
                    hold.leased(asked, lease)
                elif taken is None:
                    hold.let_go = True  # removed (a DELETE): its request's record tells it
                else:
                    hold.lease_lost = True
            if taken is False:
                logger.warning(
                    "tus upload %s: its lease is no longer this process's; the request writing "
                    "to it stops",
                    upload_id,
                )
        with self._guard:
            due = [h.due for _, h in self._holds.items() if h.renewing()]
        return max(0.0, min(due) - time.monotonic()) if due else 0.0

    def _renew(self, upload_id: str, bound: float) -> bool | None:
        """Renews this process's lease of the upload, within `bound` seconds: True; False when
        the lease is not this process's (another holds it, or took and dropped it); None when
        the upload is gone. Raises what the catalog raised."""
        with catalog_deadline(bound), self._db.write_connection() as conn:
            until = datetime.now(UTC) + self.lease
            done = conn.execute(_RENEW, {"uid": upload_id, "holder": self._me, "until": until})
            if done.rowcount:
                return True
            return None if conn.execute(_READ, {"uid": upload_id}).first() is None else False

    def _lease(self, upload_id: str) -> _Row | None:
        """`_take_lease` for a request that drops it when it ends. A take that failed on the
        catalog may have been recorded all the same (a commit whose answer was lost when the
        connection went), with no drop to follow: it is dropped later (a no-op if not). Not
        after a full disk: that is the catalog's own answer, nothing was recorded, and a drop
        left to the dropper thread held the upload in its round, so that a maintenance run
        right after the room came back passed over it (a termination refused 507 left its row)."""
        try:
            return self._take_lease(upload_id)
        except (UploadLocked, StorageNotAsked):  # nothing recorded: the catalog was not asked
            raise
        except Exception as exc:
            if not no_room(exc):
                self._drop_later(upload_id)
            raise

    def _live_holder(self, holder: str | None) -> bool:
        """Whether the lease, run out or not, is another process's that still runs (or one of
        another machine, which cannot be looked for). A lease left to run out is one a silent
        request stopped renewing (STALLED), so that another server may take the upload from its
        client; that request's bytes past the recorded offset are still its own to go on with,
        and maintenance cutting them (another process on the data folder) made the request's
        late bytes a 423 and the client send them all again."""
        return bool(holder and holder != self._me and _alive(holder))

    def _held_elsewhere(self, holder: str | None, until: datetime | None, now: datetime) -> bool:
        """Whether another live writer (another process, or another instance) holds the lease."""
        return bool(
            holder and holder != self._me and until is not None and until > now and _alive(holder)
        )

    def _elsewhere(self, row: ResumableUpload | _Row | Any) -> bool:
        """Whether the catalog names another data folder as the one holding the upload's bytes
        past its parts (another server of the team received them, or this folder before it
        moved): this folder's buffer of it, if any, is stale on R2/S3."""
        return row.buffer_at is not None and row.buffer_at != self.here

    def _resumes_at(self, row: ResumableUpload | _Row | Any) -> int:
        """The offset a PATCH to this server goes on from (what its HEAD answers, as tus
        wants): the bytes received, but less when the catalog names another data folder.

        On R2/S3, only the parts' (TusWriter._open starts from them): a buffer here may be of an
        earlier part. On local storage, the bytes of the `.part` here, as far as the catalog
        counts: it holds the upload's first bytes whoever wrote them (a PATCH is taken only at
        the end of the bytes before it), so a data folder that moved (a new laptop, a backup
        restored at another path) goes on from every byte it holds. HEAD answered the
        catalog's count there, and the PATCH at it was refused 409: a round trip carrying the
        whole rest for nothing; the moved folder's HEAD answered 0."""
        if row.state != "receiving" or not self._elsewhere(row):
            return int(row.received)
        if row.part_size > 0:
            return sum(p.size for p in _parts(row))
        try:
            held = (self._uploads_dir / f"{row.id}.part").stat().st_size
        except OSError:  # not here (another server's), or a disk out of reach: nothing taken
            held = 0
        return min(int(row.received), held)

    def _writing(
        self, upload_id: str, holder: str | None, until: datetime | None, now: datetime
    ) -> bool:
        """Whether someone writes to the upload now: a request of this process, or another
        live writer's lease. A lease of this process that no request holds is a leftover (a
        full catalog could not drop it)."""
        return upload_id in self._holds or self._held_elsewhere(holder, until, now)

    def _drop_lease(self, upload_id: str) -> None:
        """Best effort, from the `finally` of every request that held the upload: a catalog
        full, dropped or out of reach there is not the request's failure (its own answer, a
        catalogued upload's 204 among them, stands): this process takes the lease again at
        once, and drops it again (_drop_later) once the catalog answers."""
        with self._guard:
            held = self._holds.get(upload_id)  # the request's own: it drops the lease now
            if held is not None:
                # before the drop: a renewal that meets it knows it for its request's own
                held.let_go = True
        try:
            with self._db.write_connection() as conn:
                conn.execute(_UNLEASE, {"uid": upload_id, "holder": self._me})
        except Exception as exc:  # noqa: BLE001 - see above
            why = "no room in the catalog" if is_no_space(exc) else exc.__class__.__name__
            logger.warning(
                "tus upload %s: could not drop the lease (%s); dropped again once the catalog "
                "answers",
                upload_id,
                why,
            )
            self._drop_later(upload_id)
        else:
            self._caught_up(upload_id)

    def _drop_later(self, upload_id: str) -> None:
        """Remembers a lease this process may hold with no request writing, for the dropper
        thread, which it starts: until dropped, or until it has run out anyway (its lease from
        now at the latest: it was taken or renewed before)."""
        with self._guard:
            if self._closed:
                return  # its catalog is let go: the lease runs out
            self._undropped[upload_id] = time.monotonic() + self.lease.total_seconds()
            if self._dropper is None:
                self._dropper = threading.Thread(
                    target=_dropping,
                    args=(weakref.ref(self), self._drop_now),
                    name="mediadesk-lease-drops",
                    daemon=True,
                )
                self._dropper.start()

    def close(self) -> None:
        """Ends the dropper and renewer threads with the library: a closed library's catalog is
        let go, so the leases it still had to drop run out instead (its lease), rather than the
        thread trying them against a disposed engine until then."""
        with self._guard:
            self._closed = True
            self._undropped.clear()
        self._drop_now.set()
        self._renew_stop.set()

    def _caught_up(self, upload_id: str) -> None:
        """A write of `upload_id`'s lease went through: the catalog answers, so the leases left
        to drop are tried now; this one is the caller's (a request holds it) and no longer
        left."""
        if not self._undropped:  # no lock on the common path
            return
        with self._guard:
            self._undropped.pop(upload_id, None)
            if self._undropped:
                self._drop_now.set()

    def drop_leftover_leases(self) -> None:
        """One round of the dropper thread: drops the leases this process could not drop,
        but a lease of an upload that a request of this process holds (its writer drops it,
        and the hold keeps a new request from taking the lease while it is dropped here). A
        failure on the catalog ends the round (the others would meet it too)."""
        now = time.monotonic()
        with self._guard:
            for upload_id in [u for u, until in self._undropped.items() if until <= now]:
                del self._undropped[upload_id]  # run out anyway: nobody is refused by it
            left = list(self._undropped)
        for upload_id in left:
            try:
                # as a request's, so the hold that refuses this process's PATCHes of the upload
                # meanwhile (423) is not kept by a hung catalog
                with self.hold(upload_id), catalog_deadline(CATALOG_DEADLINE):
                    with self._db.write_connection() as conn:
                        conn.execute(_UNLEASE, {"uid": upload_id, "holder": self._me})
                    with self._guard:
                        self._undropped.pop(upload_id, None)
                logger.info("tus upload %s: the lease left by an outage is dropped", upload_id)
            except UploadLocked:
                continue  # a request holds it: tried again if that one's drop fails too
            except Exception as exc:  # noqa: BLE001 - tried again, until the lease runs out
                if owes_outage_error(exc):
                    # it met the catalog's outage first: the episode's one ERROR line (it
                    # said nothing, and the outage had no ERROR line at all)
                    logger.error(
                        "tus upload %s: the lease left by an outage is not dropped yet: %s",
                        upload_id,
                        _why(exc),
                    )
                break

    def _dropper_round(self) -> bool:
        """A round of the dropper thread; False, the thread forgotten, once none is left."""
        self.drop_leftover_leases()
        with self._guard:
            if self._undropped:
                return True
            self._dropper = None  # the next _drop_later starts another
            return False

    @contextlib.contextmanager
    def _lease_or_look(self, upload_id: str) -> Iterator[_Row | None]:
        """The upload held for a removal: its lease taken as for a write, or, when the catalog
        has no room to record it (a full disk), its row read and its lease checked only, so
        that a full disk can still be given its room back. UploadLocked when another live
        writer holds it; None when unknown."""
        with self.hold(upload_id):
            if len(upload_id) > ID_LENGTH:
                yield None
                return
            try:
                row = self._lease(upload_id)
            except Exception as exc:
                if not is_no_space(exc):
                    raise
                with self._db.read() as s:
                    found = s.execute(_READ, {"uid": upload_id}).first()
                row = _Row(**found._asdict()) if found is not None else None
                now = datetime.now(UTC)
                if row is not None and self._held_elsewhere(row.lease_owner, row.lease_until, now):
                    raise _leased_elsewhere(row.lease_until, now) from None
                yield row
                return
            try:
                yield row
            finally:
                self._drop_lease(upload_id)

    @contextlib.contextmanager
    def _leased(
        self, upload_id: str, make: Callable[[], None] | None = None
    ) -> Iterator[_Row | None]:
        """The one writer of an upload: in this process (hold) and across processes (lease);
        gives the upload's row as the lease was taken (None when unknown). `make` records a new
        upload, already held: no maintenance finds it unheld before its writer has it."""
        with self.hold(upload_id):
            if make is not None:
                make()
            row = self._lease(upload_id) if len(upload_id) <= ID_LENGTH else None
            try:
                yield row
            finally:
                self._drop_lease(upload_id)

    def _row(self, s: Any, upload_id: str, protocol: str = "tus") -> ResumableUpload:
        found = s.get(ResumableUpload, upload_id) if len(upload_id) <= ID_LENGTH else None
        return _known(found, protocol)

    def _check_owner(self, row: ResumableUpload | _Row, owner: str | None) -> None:
        if _foreign(row.owner, owner):
            raise NotFound("No such upload")  # another token's upload: do not reveal it

    def check_presign_owner(self, file_id: int, owner: str | None) -> None:
        """NotFound, as for a file that does not exist, unless `owner` (the caller's token,
        "token:<id>") may go on with the pending presigned upload `file_id` (single PUT or in
        parts): the token that presigned it, by tus's rule (_check_owner), so another token
        can neither renew its URL, PUT its own bytes and confirm them under the owner's name,
        nor list its parts. None (no token: in-process callers, which need not ask) may, and
        anyone may an upload presigned without one (in-process, or by an earlier version). A
        file no longer pending is no upload to take over: its calls answer it as before (a
        repeat of a confirm, a 409)."""
        if owner is None:
            return
        with self._db.read() as s:
            row = s.get(MediaFile, file_id)
            if row is None or row.status != FileStatus.PENDING:
                return
            recorded = row.extra.get(UPLOAD_OWNER) if isinstance(row.extra, dict) else None
            if recorded is None:  # an upload in parts names it on its row too
                recorded = s.scalar(
                    select(ResumableUpload.owner)
                    .where(
                        ResumableUpload.protocol == "multipart",
                        ResumableUpload.file_id == file_id,
                    )
                    .limit(1)
                )
        if _foreign(recorded, owner):
            raise NotFound(f"File {file_id} not found")  # Catalog.get's words: nothing told

    # ---- tus --------------------------------------------------------------------------------
    def create(
        self,
        length: int,
        metadata: Mapping[str, str],
        owner: str | None = None,
        source: str | None = None,
        expires_in: int | None = None,
    ) -> UploadState:
        upload_id = _new_id()
        self._add(
            upload_id,
            self._checked_meta(length, metadata),
            length,
            owner,
            source,
            timedelta(seconds=expires_in or self.lib.settings.tus_expiry),
        )
        return self.get(upload_id)

    def start(
        self,
        length: int,
        metadata: Mapping[str, str],
        owner: str | None = None,
        checksum: tuple[str, bytes] | None = None,
    ) -> TusWriter:
        """tus creation-with-upload: a new upload and its writer at offset 0. It expires
        UNANSWERED after its creation until its writer's close() gives it the tus expiry, just
        before the creation is answered with its Location."""
        meta = self._checked_meta(length, metadata)
        upload_id = _new_id()
        lock = self._leased(
            upload_id, lambda: self._add(upload_id, meta, length, owner, None, UNANSWERED)
        )
        try:
            return self._open_writer(upload_id, 0, checksum, owner, lock, answering=True)
        except BaseException:
            try:
                self.terminate(upload_id, owner)
            except Exception as exc:  # noqa: BLE001 - the creation's own error is raised
                logger.info("tus upload %s not removed after its failed start: %s", upload_id, exc)
            raise

    def _checked_meta(self, length: int, metadata: Mapping[str, str]) -> _Meta:
        max_size = self.lib.settings.max_file_size
        if length <= 0:
            raise EmptyFile("The file is empty (Upload-Length is 0)")
        if length > max_size:
            raise too_large(max_size)
        return _check_meta(metadata)

    def _add(
        self,
        upload_id: str,
        meta: _Meta,
        length: int,
        owner: str | None,
        source: str | None,
        life: timedelta,
    ) -> None:
        now = datetime.now(UTC)
        store = self._multipart_store()
        part_size = 0
        if store is not None:
            # The object and its multipart upload are made when the first part is buffered
            # (_start_multipart): its key is named from the content then, not from metadata
            # that may be missing or wrong.
            part_size = max(self.lib.settings.upload_part_size, -(-length // MAX_PARTS))
        data_file = self._data_file(upload_id, store is not None)
        with fs_errors(UPLOADS_UNUSABLE):
            data_file.touch(mode=FILE_MODE)
        try:
            with self._db.write() as s:
                s.add(
                    ResumableUpload(
                        id=upload_id,
                        protocol="tus",
                        state="receiving",
                        length=length,
                        received=0,
                        meta={**meta.raw, **({"_source": source} if source else {})},
                        part_size=part_size,
                        parts=[],
                        owner=owner,
                        buffer_at=self.here,
                        created_at=now,
                        expires_at=now + life,
                    )
                )
        except BaseException:
            # No row names it (a full disk's catalog refused it) and the refusal's answer has
            # no Location: nothing would reach it until maintenance's ORPHAN_GRACE had passed.
            discard(data_file)
            raise
        logger.info("tus upload %s created (%d bytes, %s)", upload_id, length, meta.filename)

    def _extend(self, upload_id: str, expires_at: datetime) -> None:
        """Records an upload's new expiry (the caller holds its lease)."""
        with self._db.write_connection() as conn:
            done = conn.execute(_EXTEND, {"uid": upload_id, "expires": expires_at})
            if not done.rowcount:
                raise NotFound("No such upload")

    def _start_multipart(self, upload_id: str, buffer: Path) -> tuple[str, str]:
        """Names the object from the content at the head of `buffer` and starts its multipart
        upload, recorded before any part is sent (termination and expiry abort it).

        Named from the bytes, the object never has to be moved once validation finds the real
        type: a move is a copy, and one S3 copy request stops at 5 GB. Metadata (`filetype`,
        the file name) only stands in for content that is not a type we accept, which
        validation refuses at the end anyway.
        """
        with self._db.read() as s:
            meta = _check_meta(self._row(s, upload_id).meta or {})
        try:
            mime: str | None = sniff_file(buffer).mime
        except MediaDeskError:
            mime = meta.mime
        store = self._multipart_store()
        if store is None:
            raise UploadGone("The storage changed since this upload started; start a new one")
        ext = BY_MIME[mime].ext if mime in BY_MIME else "bin"
        key = keys.media_key(meta.athlete_id, ext)
        uid = store.create_multipart(key, mime or "application/octet-stream")
        with self._db.write() as s:
            row = self._row(s, upload_id)
            row.object_key, row.s3_upload_id = key, uid
        return key, uid

    def _data_file(self, upload_id: str, buffered: bool) -> Path:
        return self.folder / f"{upload_id}.{'buffer' if buffered else 'part'}"

    def get(self, upload_id: str, owner: str | None = None) -> UploadState:
        """NotFound when unknown, UploadGone when expired or failed."""
        with self._db.read() as s:
            return self._checked(self._row(s, upload_id), owner)

    def _checked(self, row: ResumableUpload | _Row, owner: str | None) -> UploadState:
        self._check_owner(row, owner)
        if row.state == "failed":
            code, message = stored_failure(row.failure)
            reason = PARTS_GONE if code == PARTS_GONE else None
            raise UploadGone(f"This upload failed: {message}", reason=reason)
        state = _state(row, self.lib.settings.tus_expiry)
        if row.state == "receiving" and state.expires_at <= datetime.now(UTC):
            raise UploadGone("This upload expired; start a new one")
        return state

    def writer(
        self,
        upload_id: str,
        offset: int | None,
        checksum: tuple[str, bytes] | None = None,
        owner: str | None = None,
    ) -> TusWriter:
        """Starts appending at `offset` (which must equal the received bytes); holds the lock."""
        return self._open_writer(upload_id, offset, checksum, owner, self._leased(upload_id))

    def _open_writer(
        self,
        upload_id: str,
        offset: int | None,
        checksum: tuple[str, bytes] | None,
        owner: str | None,
        lock: contextlib.AbstractContextManager[_Row | None],
        answering: bool = False,
    ) -> TusWriter:
        leased = lock.__enter__()
        writer = None
        try:
            with self._guard:
                held = self._holds.get(upload_id)  # this request's: it holds the upload
            row = _known(leased, "tus")
            state = self._checked(row, owner)
            if state.state == "done":
                raise OffsetMismatch(
                    "This upload is already complete",
                    details={"offset": state.offset, "file_id": state.file_id},
                )
            resumes_at = self._resumes_at(row) if self._elsewhere(row) else None
            if offset is not None and resumes_at is not None and offset != resumes_at:
                # Refused before the writer opens: opening takes the upload over from the
                # server holding its buffered bytes (TusWriter._open), and a client refused
                # here may well go on there, where they are not to be lost. The other folder
                # is named only when it holds bytes this one lacks.
                raise _offset_mismatch(
                    offset,
                    resumes_at,
                    elsewhere=resumes_at < row.received,
                    buffered=row.part_size > 0,
                )
            writer = TusWriter(self, upload_id, checksum, lock, answering, held)
            writer.open(row)
            if offset is not None and offset != writer.offset:
                raise _offset_mismatch(offset, writer.offset)
            return writer
        except BaseException:
            if writer is not None:
                writer._close_files()
            lock.__exit__(None, None, None)
            raise

    def send_file(
        self,
        path: Path,
        file_type: str,
        *,
        upload_id: str | None = None,
        original_filename: str | None = None,
        athlete_id: int | None = None,
        is_public: bool = False,
        description: str = "",
        progress: Any = None,
        cancel: threading.Event | None = None,
        on_created: Any = None,
    ) -> FileRecord:
        """Uploads a local file as a resumable upload (the desktop's big files).

        Bytes are committed piece by piece; `cancel` (a pause, the app closing) stops at once and
        raises Cancelled (on R2/S3 the part being sent is abandoned: its bytes wait in the part
        buffer and are sent again), and a later call with the same `upload_id` goes on from the
        last committed byte. `on_created(upload_id)` is called for a new upload, so the caller
        can remember it. Progress: ("uploading", done, total), then ("finishing"); `done` counts
        the bytes stored (on R2/S3: in the parts stored and the part on its way as the HTTP
        layer reads it), so a speed measured from it is the link's; it can go back when a pause
        abandons a part.

        The file must stay as it was from its first byte read to its last (_fingerprint): one
        edited in place, grown (a recording or a copy still being written) or cut while it was
        sent is dropped (its parts here and in the bucket) and sent again from its first byte,
        once, as the new version (`on_created` hears the new upload); changed again, Conflict
        with reason SOURCE_CHANGED. (Sent on, its bytes were a mix of both versions, catalogued
        ready with a hash of neither.) The file gone meanwhile raises the system's
        FileNotFoundError, its upload kept (the caller drops it).
        """
        send = functools.partial(
            self._send_file,
            Path(path),
            file_type,
            original_filename=original_filename,
            athlete_id=athlete_id,
            is_public=is_public,
            description=description,
            progress=progress,
            cancel=cancel,
            on_created=on_created,
        )
        try:
            return send(upload_id)
        except _SourceChanged as changed:
            logger.info("%s %s while it was uploading: sent again", Path(path).name, changed.how)
        try:
            return send(None)
        except _SourceChanged as changed:
            raise Conflict(
                f"{Path(path).name} {changed.how} while it was uploading, again after it was "
                "started over; upload it again once nothing writes to it",
                details={"path": str(path), "how": changed.how},
                reason=SOURCE_CHANGED,
            ) from None

    def _send_file(
        self,
        path: Path,
        file_type: str,
        upload_id: str | None,
        *,
        original_filename: str | None,
        athlete_id: int | None,
        is_public: bool,
        description: str,
        progress: Any,
        cancel: threading.Event | None,
        on_created: Any,
    ) -> FileRecord:
        """One try of send_file; _SourceChanged once the upload that the file's change spoilt
        is dropped."""
        st = path.stat()
        source = _fingerprint(path)
        state: UploadState | None = None
        if upload_id:
            try:
                state = self.get(upload_id)
            except (NotFound, UploadGone):
                state = None
            if state is not None and state.metadata.get("_source") != source:
                self._discard(upload_id)  # the file changed since: start again
                state = None
            if state is not None and state.state == "done" and state.file_id is not None:
                record = self.lib.get_file(state.file_id)
                return record.with_duplicate() if state.duplicate else record
        if state is None:
            meta = {
                "filename": original_filename or path.name,
                "file_type": file_type,
                "filetype": sniff_file(path).mime,  # names the object (.mp4) on R2/S3
            }
            if athlete_id is not None:
                meta["athlete_id"] = str(athlete_id)
            if is_public:
                meta["is_public"] = "true"
            if description:
                meta["description"] = description
            state = self.create(
                st.st_size, meta, owner=DESKTOP_OWNER, source=source, expires_in=DESKTOP_EXPIRY
            )
            if on_created is not None:
                on_created(state.id)
        self._local_sources[state.id] = (path, source)
        total = st.st_size

        def stored(done: int) -> None:
            if progress is not None:
                progress("uploading" if done < total else "finishing", done, total)

        writer = self.writer(state.id, None)
        # R2/S3: the part buffer fills from the disk in a moment, then the part takes its time
        # to the bucket; what is reported is what the HTTP layer takes (_PartBody)
        if writer.buffered:
            self._watches[state.id] = _PartWatch(stored, cancel)
        try:
            try:
                with open(path, "rb") as fh:
                    fh.seek(writer.offset)
                    stored(writer.stored)
                    while writer.offset < total:
                        if cancel is not None and cancel.is_set():
                            raise Cancelled("Paused")
                        # never past the length the upload was made with: a file that grew
                        # is told below, not refused as a tus chunk past Upload-Length
                        chunk = fh.read(min(SEND_CHUNK, total - writer.offset))
                        if not chunk:
                            raise _SourceChanged("shrank")
                        writer.write(chunk)
                        if not writer.buffered:
                            stored(writer.offset)
                # Every byte is read (the last part waits in the buffer on R2/S3): they are
                # one version of the file only if it is still the one the upload was made of
                # (its earlier tries' bytes too: a try compares it when it starts)
                _check_unchanged(path, source, total)
            except BaseException as exc:
                writer.abort()
                if isinstance(exc, Exception) and writer.buffered:
                    # a part abandoned (a pause) or refused: back to the parts stored
                    stored(writer.stored)
                if isinstance(exc, _SourceChanged):
                    self.terminate(state.id)
                raise
            if writer.stored >= total and progress is not None:
                progress("finishing", total, total)
            # else the last part goes with the completion and reports "finishing" once sent
            done = writer.close()
        finally:
            self._watches.pop(state.id, None)
        assert done.file_id is not None
        record = self.lib.get_file(done.file_id)
        return record.with_duplicate() if done.duplicate else record

    def resume_finish(self, upload_id: str, owner: str | None = None) -> UploadState:
        """The upload's state as a HEAD answers it, with the offset a PATCH here goes on from
        (`_resumes_at`); catalogues an upload whose bytes all arrived but whose server
        stopped before that.

        UploadLocked while another request holds it (its completion runs, in this process or
        on another server of the team): a HEAD waits for it (server/routes/tus.py)."""
        with self._db.read() as s:
            found = self._row(s, upload_id)
            state = self._checked(found, owner)
            holder, until = found.lease_owner, found.lease_until
            resumes_at = self._resumes_at(found)
        if state.state != "receiving":
            return state
        if state.complete and self._writing(upload_id, holder, until, datetime.now(UTC)):
            # told without the write transaction a lease takes: a HEAD asks again and again
            # while it waits for the completion. Asked before the offset of the bytes held
            # elsewhere: a completion on the server holding them ends with the file id, and
            # the parts' offset would send the client to PATCH an upload about to be done.
            raise UploadLocked(
                "Another request is finishing this upload; retry shortly",
                details={"retry_after": LOCKED_RETRY},
            )
        if resumes_at != state.offset:
            # The bytes past what this folder holds wait in another data folder (still
            # arriving there, or a finish that failed there): a PATCH here goes on from what it
            # holds. Only answered, not recorded: a client that goes on with that server still
            # has them there.
            return dataclasses.replace(state, offset=resumes_at)
        if not state.complete:
            return state
        with self._leased(upload_id) as row:
            if row is not None and self._resumes_at(row) != row.received:
                # moved to another server's disk since it was read (its finish failed there)
                return dataclasses.replace(self._checked(row, owner), offset=self._resumes_at(row))
            return self._finish(upload_id)

    def terminate(self, upload_id: str, owner: str | None = None) -> None:
        """tus termination. The bytes go first, the row after: removing a file needs no room,
        so a full disk (the catalog's with it) gets its room back even when the catalog write
        that follows fails; that error is raised, and maintenance removes the row whose bytes
        are gone (`sweep`)."""
        with self._lease_or_look(upload_id) as row:
            self._check_owner(_known(row, "tus"), owner)
            self._discard(upload_id)
        logger.info("tus upload %s terminated", upload_id)

    def _discard(self, upload_id: str) -> None:
        """Removes an upload: its local bytes (file, buffer, checksum spool) first, then its
        multipart upload in the bucket, then its row."""
        self._hashes.pop(upload_id, None)
        self._local_sources.pop(upload_id, None)
        self._remove_files(upload_id)
        found = self._bucket_object(upload_id)
        if found is None:
            return
        self._abort_receiving(*found)
        self._delete_row(upload_id)

    def _remove_files(self, upload_id: str) -> None:
        for buffered in (False, True):
            discard(self._data_file(upload_id, buffered))
        discard(self.folder.joinpath(f"{upload_id}.chunk"))

    def _bucket_object(self, upload_id: str) -> tuple[str | None, str | None, str] | None:
        """(object key, multipart upload id, state) of an upload; None when its row is gone."""
        with self._db.read() as s:
            row = s.get(ResumableUpload, upload_id)
            if row is None:
                return None
            return row.object_key, row.s3_upload_id, row.state

    def _abort_receiving(self, key: str | None, uid: str | None, state: str) -> None:
        """A multipart upload still receiving is aborted: the bucket keeps no orphan parts."""
        store = self._multipart_store()
        if uid and key and state == "receiving" and store is not None:
            store.abort_multipart(key, uid)

    def _delete_row(self, upload_id: str) -> None:
        with self._db.write() as s:
            row = s.get(ResumableUpload, upload_id)
            if row is not None:
                s.delete(row)

    def _finish(self, upload_id: str) -> UploadState:
        """Validates and catalogues a complete upload (the caller holds the upload's lock)."""
        with self._db.read() as s:
            row = self._row(s, upload_id)
            if row.state != "receiving":
                return _state(row, self.lib.settings.tus_expiry)
            meta = _check_meta(row.meta or {})
            buffered = row.part_size > 0  # R2/S3: buffered, sent in parts
            placed, length = row.object_key, row.length
        try:
            if buffered:
                record = self._finish_multipart(upload_id, meta)
            else:
                record = self._finish_local(upload_id, meta, placed, length)
        except NoSuchMultipartUpload:
            raise self._parts_gone(upload_id) from None
        except _StoreDown as down:
            # every byte is kept (the parts in the bucket, the last one in the buffer): the
            # client's next HEAD or PATCH finishes it once the store is back
            raise down.error from None
        except Exception as exc:
            if _passing(exc):
                # The same, wherever the outage struck: starting the multipart upload of an
                # upload smaller than one part, storing an image's thumbnail, the catalog. The
                # next try finds what the store already took (_completed, _catalogued_at).
                # Failed, the upload answered 410 for good and its bytes were gone.
                logger.warning(
                    "tus upload %s: kept for the next try, the store or catalog is out of "
                    "reach (%s)",
                    upload_id,
                    exc.__class__.__name__,
                )
                raise
            if not buffered and no_room(exc) and self._data_file(upload_id, False).exists():
                # A full disk is no verdict on the file: the .part still holds every byte (the
                # store took a link to it) and the row still says so, so the client's next HEAD
                # or empty PATCH at the full offset finishes it once there is room. Ended here,
                # a multi-GB recording had to be sent again.
                logger.warning(
                    "tus upload %s: no room to store it yet; kept for the next try (%s)",
                    upload_id,
                    exc.__class__.__name__,
                )
                raise InsufficientStorage(
                    "There is not enough free storage space to store this upload; every byte "
                    "is kept: send HEAD again once there is room"
                ) from exc
            if buffered and no_room(exc) and self._whole_in_bucket(upload_id, length):
                # The object is whole in the bucket, but its check (validation, hash, thumbnail:
                # the confirm) reads a local copy of the whole file, for which this disk has no
                # room: no verdict on the file either. Failed (or a raw ENOSPC's 507 kept it by
                # chance), the client had to send every byte again once there was room.
                logger.warning(
                    "tus upload %s: no room on this disk for the local copy of the whole file "
                    "(%d bytes) that checking it needs; kept for the next try (%s)",
                    upload_id,
                    length,
                    exc.__class__.__name__,
                )
                raise InsufficientStorage(
                    "There is not enough free space on the server's disk to check this upload: "
                    f"checking it needs a local copy of the whole file ({length} bytes); every "
                    "byte is kept in the bucket: send HEAD again once there is room"
                ) from exc
            if isinstance(exc, MediaDeskError):
                self._mark_failed(upload_id, failure_text(exc))
            raise
        with self._db.write() as s:
            row = self._row(s, upload_id)
            row.state = "done"
            row.file_id = record.id
            row.meta = {**(row.meta or {}), **({"_duplicate": "1"} if record.duplicate else {})}
            # HEAD keeps answering MediaDesk-File-Id for another expiry period
            row.expires_at = datetime.now(UTC) + timedelta(seconds=self.lib.settings.tus_expiry)
        for buffered_file in (False, True):
            discard(self._data_file(upload_id, buffered_file))
        self._local_sources.pop(upload_id, None)
        logger.info("tus upload %s catalogued as file %s", upload_id, record.id)
        return self.get(upload_id)

    def _check_head(self, upload_id: str) -> None:
        """Refuses an upload as soon as its first SNIFF_BYTES are in when they are no photo or
        video of a type this server takes, or not of the declared `file_type` (the caller
        holds its lock): a browser's tus client (Uppy, tus-js-client) sent a whole 150 MB
        file of text before the last PATCH said unsupported_type. The refusal's error is the
        one the end's validation gives, and the upload ends as it does there (410 after it).
        On R2/S3 the head is read from the buffer while no part has been sent; the rest is
        left to the end, as the type of a file at the limits of sniffing is."""
        with self._db.read() as s:
            row = self._row(s, upload_id)
            meta = _check_meta(row.meta or {})
            buffered = row.part_size > 0
            if buffered and row.s3_upload_id is not None:
                return  # the buffer no longer starts at the upload's first byte
        try:
            head = _head(self._data_file(upload_id, buffered))
        except FileNotFoundError:
            return  # moved on meanwhile (a finish, an expiry): theirs to say
        try:
            media = sniff_bytes(head, self._accepted())
            if meta.kind:
                require_kind(media, meta.kind)
            self.lib.settings.check_allowed(media.mime)
        except MediaDeskError as exc:
            self._hashes.pop(upload_id, None)
            self._local_sources.pop(upload_id, None)
            self._mark_failed(upload_id, failure_text(exc))
            raise

    def _whole_in_bucket(self, upload_id: str, length: int) -> bool:
        """Whether an upload's object is complete in the bucket (its finish got that far)."""
        try:
            with self._db.read() as s:
                key = self._row(s, upload_id).object_key
            return key is not None and self._completed(key, length)
        except Exception as exc:  # noqa: BLE001 - asked while another error is the answer
            logger.debug("tus upload %s: its object not looked at: %s", upload_id, exc)
            return False

    def _parts_gone(self, upload_id: str) -> UploadGone:
        """Ends a tus upload whose multipart upload the bucket no longer has (a lifecycle rule,
        an admin or another tool aborted it): no PATCH could ever succeed, and a 500 would have
        the client retry until the upload expires. Its buffer goes; its row stays as failed,
        so HEAD and PATCH answer 410 (clients start a new upload) until it expires; there is
        nothing left to abort. The caller holds the upload's lock."""
        self._hashes.pop(upload_id, None)
        self._local_sources.pop(upload_id, None)
        self._mark_failed(upload_id, f"{PARTS_GONE}: {PARTS_GONE_MESSAGE}")
        return UploadGone(PARTS_GONE_MESSAGE, reason=PARTS_GONE)

    def _mark_failed(self, upload_id: str, reason: str) -> None:
        for buffered in (False, True):
            discard(self._data_file(upload_id, buffered))
        with self._db.write() as s:
            row = s.get(ResumableUpload, upload_id)
            if row is not None:
                row.state = "failed"
                row.failure = reason
        logger.warning("tus upload %s refused: %s", upload_id, reason)

    def _finish_local(
        self, upload_id: str, meta: _Meta, placed: str | None, length: int
    ) -> FileRecord:
        """`placed`: the key the store took the bytes to, as recorded before it did."""
        path = self._data_file(upload_id, False)
        if not path.exists():
            return self._finish_adopted(placed, length, meta)
        if placed is not None:
            # An earlier try got as far as storing them: catalogued (the upload's own row could
            # not be marked done: a full disk, a kill), or stored without a row (its link; the
            # .part holds the same bytes and is stored again).
            ready = self._catalogued_at(placed)
            if ready is not None:
                return ready
            if self._storage.exists(placed):
                discard_unless_recorded(self._db, self._storage, placed)
            else:  # nothing there for the noted deletion
                forget_noted(self._db, placed)
        kind = meta.kind_of(lambda: _head(path), self._accepted())
        size = path.stat().st_size
        hashed = self._hashes.pop(upload_id, None)
        # The hash kept while the bytes arrived saves reading the file again; after a restart
        # (or a break this process did not see) it is computed from the file.
        sha = hashed[1].hexdigest() if hashed and hashed[0] == size else hash_file(path)[1]
        staged = self._staged(upload_id, path)

        def placing(s: Any, key: str) -> None:  # see _finish_adopted
            s.execute(
                update(ResumableUpload)
                .where(ResumableUpload.id == upload_id)
                .values(object_key=key)
            )

        try:
            return self.lib.uploads.ingest(  # the one caller that adopts
                Spooled(staged, size, sha), kind, adopt=True, placing=placing, **meta.ingest_args()
            )
        except BaseException:
            if staged != path and hashed is not None and hashed[0] == size:
                self._hashes[upload_id] = hashed  # the .part is whole: its hash serves the next try
            raise

    def _staged(self, upload_id: str, path: Path) -> Path:
        """What the store adopts of a complete local upload: a hard link to its .part (no room
        needed), which the store renames into place or which ingest removes on any failure, so
        the .part stays whole until the upload is marked done (a full disk then keeps the upload).
        A file system without hard links gives the .part itself, as before."""
        staged = self.folder / f"{upload_id}{STAGED}"
        staged.unlink(missing_ok=True)  # a killed try's
        try:
            os.link(path, staged)
        except OSError as exc:
            if is_no_space(exc):
                raise
            logger.info("tus upload %s: stored without a link (%s)", upload_id, exc)
            return path
        return staged

    def _finish_adopted(self, placed: str | None, length: int, meta: _Meta) -> FileRecord:
        """A server was killed while it catalogued a local upload, after the store took its
        bytes (the `.part` itself renamed: a file system without hard links, see _staged, or
        a version that did not link it). `placed` is where they went, recorded with the
        deletion noted until a row names them: the file made ready there is the upload's, and
        bytes there that no row names yet are catalogued from there. Ended (410) only when
        they are gone too (that noted deletion ran, hours later): a 404 or 410 had the client
        send all of a big file again."""
        if placed is not None:
            ready = self._catalogued_at(placed)
            if ready is not None:
                return ready
            stored = self._storage.local_path(placed) if self._completed(placed, length) else None
            if stored is not None:
                return self._finish_from_local(placed, stored, meta)
        raise UploadGone(
            "This upload was interrupted while it was being stored; upload the file again"
        )

    def _stored_whole(self, row: _Row) -> bool:
        """Whether a local upload's bytes all went to the store (its finish was killed)."""
        placed = row.object_key
        if row.part_size or placed is None or row.received < row.length:
            return False
        return self._catalogued_at(placed) is not None or self._completed(placed, row.length)

    def _completed(self, key: str, length: int) -> bool:
        """Whether the upload's object is already whole in the bucket: a server was killed
        after completing the multipart upload and before cataloguing it (the bucket no longer
        knows the upload id, so its parts cannot be sent again). The key is this upload's own,
        so only that completion can have put the object there."""
        try:
            return self._storage.stat(key).size == length
        except NotFound:
            return False

    def _catalogued_at(self, key: str) -> FileRecord | None:
        """The file that the finish of the upload whose own key is `key` made ready (the
        first to name that key: later files of the same bytes reference it)."""
        with self._db.read() as s:
            file_id = s.scalar(
                select(MediaFile.id)
                .where(MediaFile.storage_key == key, MediaFile.status == FileStatus.READY)
                .order_by(MediaFile.id)
                .limit(1)
            )
        return None if file_id is None else self.lib.get_file(file_id, include_trashed=True)

    def _accepted(self) -> tuple[str, ...]:
        """The types this server accepts, of both kinds (an upload that names neither)."""
        settings = self.lib.settings
        return settings.allowed_image_types + settings.allowed_video_types

    def _finish_multipart(self, upload_id: str, meta: _Meta) -> FileRecord:
        store = self._multipart_store()
        if store is None:
            raise UploadGone("The storage changed since this upload started; start a new one")
        with self._db.read() as s:
            row = self._row(s, upload_id)
            key, uid = row.object_key, row.s3_upload_id
            length, parts = row.length, _parts(row)
        buffer = self._data_file(upload_id, True)
        if key is None or uid is None:  # smaller than one part: named now
            key, uid = self._start_multipart(upload_id, buffer)
        done = sum(p.size for p in parts)
        try:
            whole = self._completed(key, length)
            if not whole:
                if done < length:  # the last (shorter) part is still in the buffer
                    size = length - done
                    with open(buffer, "rb") as fh:
                        # not cancellable: a pause is not asked while finishing
                        body = self._part_body(upload_id, fh, done, cancellable=False)
                        etag = store.upload_part(key, uid, len(parts) + 1, body, size)
                    parts.append(PartInfo(len(parts) + 1, size, etag))
                    self._stored(upload_id, length)
                # The object appears with the completion; the pending row below cancels
                # the note.
                collect_unless_recorded(self._db, key, self._storage, "upload")
                store.complete_multipart(key, uid, parts)
        except NoSuchMultipartUpload:
            raise
        except StorageUnavailable as exc:
            if isinstance(exc, InsufficientStorage):  # a full bucket quota: no retry helps
                store.abort_multipart(key, uid)
                raise
            raise _StoreDown(exc) from exc
        except MediaDeskError:
            store.abort_multipart(key, uid)
            raise
        ready = self._catalogued_at(key) if whole else None
        if ready is not None:  # catalogued before a kill left the upload unmarked
            return ready
        with self._db.write() as s:
            row = self._row(s, upload_id)
            row.parts = [{"n": p.part_number, "size": p.size, "etag": p.etag} for p in parts]
            source = (row.meta or {}).get("_source")
        local = self._local_sources.pop(upload_id, None)
        if local is not None and local[1] == source and _same_file(local[0], source):
            try:
                return self._finish_from_local(key, local[0], meta, source)
            except _SourceChanged:
                # edited while it was checked here: the object is the version that was sent
                logger.info("tus upload %s: its file changed; its object is checked", upload_id)
        try:
            kind = meta.kind_of(
                lambda: b"".join(self._storage.open_range(key, 0, SNIFF_BYTES - 1)),
                self._accepted(),
            )
        except MediaDeskError:
            discard_unless_recorded(self._db, self._storage, key)
            raise
        with self._db.write() as s:
            # A finish killed after its row was made (before the confirm made it ready) left
            # it pending: this upload's own row (the key is the upload's), taken again. A
            # second one made beside it stayed listed as pending for the hour until
            # maintenance dropped it.
            left = s.scalars(
                select(MediaFile)
                .where(
                    MediaFile.storage_key == key,
                    MediaFile.status == FileStatus.PENDING,
                    MediaFile.deleted_at.is_(None),
                )
                .order_by(MediaFile.id)
                .limit(1)
            ).first()
            if left is not None:
                left.upload_expires_at = datetime.now(UTC) + timedelta(hours=1)
                DeferredDeleter.cancel(s, key)
                s.flush()
                pending_id = left.id
            else:
                pending_id = None
        if pending_id is None:
            pending_id = self._pending_row(key, kind, length, meta)
        try:
            record = self.lib.uploads.confirm_upload(pending_id)
        except MediaDeskError:
            self._drop_file_row(pending_id)
            raise
        if record.duplicate_of is not None:
            # A duplicate: answered as a direct upload's (and a local tus upload's) is, with
            # the existing file's id; the row made for the confirm, now its alias, goes: no
            # client was ever handed its id.
            self._drop_file_row(pending_id)
            return dataclasses.replace(record, id=record.duplicate_of)
        return record

    def _pending_row(self, key: str, kind: str, length: int, meta: _Meta) -> int:
        """The pending row the confirm of a multipart tus upload's object makes ready."""
        with self._db.write() as s:
            Catalog.ensure_athlete(s, meta.athlete_id)
            pending = MediaFile(
                storage_key=key,
                original_filename=meta.filename,
                # the type the key was named by, from the first part's bytes (_start_multipart);
                # the confirm sets the type it finds
                content_type=guess_from_name(key),
                file_type=kind,
                declared_size=length,
                athlete_id=meta.athlete_id,
                is_public=meta.is_public,
                description=meta.description,
                status=FileStatus.PENDING,
                upload_expires_at=datetime.now(UTC) + timedelta(hours=1),
            )
            s.add(pending)
            s.flush()
            DeferredDeleter.cancel(s, key)  # named by a row now
            return pending.id

    def _part_body(self, upload_id: str, fh: BinaryIO, before: int, cancellable: bool) -> BinaryIO:
        """A part's file as handed to the store: watched when send_file sends this upload."""
        watch = self._watches.get(upload_id)
        if watch is None:
            return fh
        cancel = watch.cancel if cancellable else None
        return cast(BinaryIO, _PartBody(fh, lambda n: watch.stored(before + n), cancel))

    def _stored(self, upload_id: str, done: int) -> None:
        """A part is stored: told even when its body's reads were not (_PartBody)."""
        watch = self._watches.get(upload_id)
        if watch is not None:
            watch.stored(done)

    def _finish_from_local(
        self, key: str, path: Path, meta: _Meta, source: str | None = None
    ) -> FileRecord:
        """The object is in the bucket and the same bytes are here: check them here. `source`:
        the fingerprint of a file of the user's (send_file) that the object was sent from;
        _SourceChanged when it changed while it was checked (the object is left as it is)."""
        kind = meta.kind_of(lambda: _head(path), self._accepted())

        def unchanged(stage: str, _done: int, _total: int) -> None:
            # the last report before the file's row goes in: its hash (and thumbnail) are of
            # the bytes in the bucket only if the file is still the version that was sent
            if source is not None and stage == "finishing" and not _same_file(path, source):
                raise _SourceChanged("changed")

        try:
            record = self.lib.uploads.ingest(  # see stored_key
                path, kind, stored_key=key, progress=unchanged, **meta.ingest_args()
            )
        except BaseException as exc:
            # a passing outage keeps it for the next try (_finish), which completes it; a file
            # changed meanwhile leaves it to be checked as it is in the bucket
            if not _passing(exc) and not isinstance(exc, _SourceChanged):
                discard_unless_recorded(self._db, self._storage, key)
            raise
        if record.storage_key != key:  # a duplicate: the existing file keeps its object
            discard_unless_recorded(self._db, self._storage, key)
        return record

    def _drop_file_row(self, file_id: int) -> None:
        with self._db.write() as s:
            row = s.get(MediaFile, file_id)
            if row is not None and row.status != FileStatus.READY:
                s.delete(row)

    # ---- presigned multipart ----------------------------------------------------------------
    def wants_multipart(self, size: int | None, requested: bool) -> bool:
        if size and size > self.lib.settings.max_file_size:
            return False  # the presign refuses it as too big (413), on every backend alike
        if self._multipart_store() is None or not isinstance(self._presigner, PartPresigner):
            if requested:
                raise InvalidInput("multipart=true needs R2/S3 storage; this library is local")
            return False
        if requested and not size:
            raise InvalidInput("An upload in parts needs its size")
        return requested or bool(size and size > self.lib.settings.multipart_threshold)

    def start_presigned_multipart(
        self, file: FileRecord, size: int, expires_at: datetime, owner: str | None = None
    ) -> MultipartPlan:
        """Turns a pending presigned upload into a multipart upload with signed part URLs;
        `owner` is the presign's (check_presign_owner)."""
        store = self._multipart_store()
        if store is None:
            raise InvalidInput("Uploads in parts need R2/S3 storage")
        part_size = max(self.lib.settings.upload_part_size, -(-size // MAX_PARTS))
        uid = store.create_multipart(file.storage_key, file.content_type or "")
        try:
            numbers = range(1, -(-size // part_size) + 1)
            signed = self._sign_parts(file.storage_key, uid, numbers)
            with self._db.write() as s:
                s.add(
                    ResumableUpload(
                        id=_new_id(),
                        protocol="multipart",
                        state="receiving",
                        length=size,
                        received=0,
                        meta={},
                        object_key=file.storage_key,
                        s3_upload_id=uid,
                        part_size=part_size,
                        parts=[],
                        file_id=file.id,
                        owner=owner,
                        created_at=datetime.now(UTC),
                        expires_at=expires_at,
                    )
                )
        except BaseException:
            # Recorded nowhere, no expiry would abort it: aborted now (if the bucket cannot
            # be reached either, maintenance's sweep of untracked multipart uploads will).
            with contextlib.suppress(Exception):
                store.abort_multipart(file.storage_key, uid)
            raise
        return MultipartPlan(uid, part_size, signed, expires_at)

    def _sign_parts(self, key: str, uid: str, numbers: Any) -> list[tuple[int, PresignedRequest]]:
        presigner = self._presigner
        assert isinstance(presigner, PartPresigner)
        expiry = self.lib.settings.presigned_url_expiry
        return [(n, presigner.presign_part(key, uid, n, expiry)) for n in numbers]

    def _multipart_row(self, s: Any, file_id: int) -> ResumableUpload | None:
        return s.scalars(
            select(ResumableUpload).where(
                ResumableUpload.protocol == "multipart",
                ResumableUpload.file_id == file_id,
                ResumableUpload.state == "receiving",
            )
        ).first()

    def _pending(self, file_id: int) -> FileRecord:
        record = self.lib.get_file(file_id, include_trashed=False)
        if record.status != FileStatus.PENDING:
            raise Conflict(f"File {file_id} has no upload in progress (status {record.status})")
        return record

    def list_parts(self, file_id: int) -> dict[str, object]:
        """The parts the bucket already holds for a pending upload in parts (to resume)."""
        record = self._pending(file_id)
        self._refuse_given_up(file_id)
        with self._db.read() as s:
            row = self._multipart_row(s, file_id)
            if row is None:
                raise Conflict("This upload is a single PUT; it has no parts")
            uid, part_size, length = str(row.s3_upload_id), row.part_size, row.length
            row_id = row.id
        count = -(-length // part_size)
        parts = self._held_parts(record, row_id, uid, length)
        if parts is None:
            # Every part is held, inside the object now: sized by the plan (the confirm that
            # completed them checked that first), with no ETag, which the bucket no longer
            # keeps and the confirm of an assembled upload does not compare.
            return {
                "upload_id": uid,
                "part_size": part_size,
                "part_count": count,
                "assembled": True,
                "parts": [
                    {
                        "part_number": n,
                        "size": _part_length(n, count, part_size, length),
                        "etag": "",
                    }
                    for n in range(1, count + 1)
                ],
            }
        return {
            "upload_id": uid,
            "part_size": part_size,
            "part_count": count,
            "parts": [
                {"part_number": p.part_number, "size": p.size, "etag": p.etag} for p in parts
            ],
        }

    def renew(
        self, file_id: int, part_numbers: list[int] | None = None, arrival: Arrival | None = None
    ) -> dict[str, object]:
        """Fresh URLs for a pending upload (also one whose URL expired) and a new deadline; a
        single PUT's URL through this server answers the request that arrived as `arrival`
        (backends.presigner_for, as the presign's). Parts go straight to a bucket."""
        record = self._pending(file_id)
        self._refuse_given_up(file_id)
        expiry = self.lib.settings.presigned_url_expiry
        expires_at = datetime.now(UTC) + timedelta(seconds=expiry)
        with self._db.write() as s:
            row = self._multipart_row(s, file_id)
            row_id = row.id if row is not None else ""
            uid = str(row.s3_upload_id) if row is not None else None
            part_size = row.part_size if row is not None else 0
            length = row.length if row is not None else 0
            if row is not None:
                row.expires_at = expires_at
            file_row = s.get(MediaFile, file_id)
            declared = file_row.declared_size if file_row is not None else None
            if file_row is not None:
                file_row.upload_expires_at = expires_at
        if uid is None:
            # The presign's rule (Ingestor.presign): a URL signs only a type the client named,
            # in its spelling, which the catalog does not keep (it keeps the canonical one,
            # video/x-msvideo, where a browser PUTs video/avi), so a renewed one signs none,
            # on every backend: the confirm checks the bytes.
            presigner = self.lib.backends.presigner_for(record.storage_key, arrival)
            request = presigner.presign_put(
                record.storage_key,
                "",
                expiry,
                content_length=declared,
                max_size=self.lib.settings.max_file_size,
            )
            return {
                "upload_url": request.url,
                "method": request.method,
                "headers": request.headers,
                "expires_in": expiry,
                "expires_at": expiry_iso(expires_at),
            }
        count = -(-length // part_size)
        if part_numbers and any(not 1 <= n <= count for n in part_numbers):
            raise InvalidInput(f"part_numbers must be between 1 and {count}")
        # Asked even when the client names its parts: signing URLs for an upload aborted
        # behind our back would only send the client into PUTs that all fail.
        held = self._held_parts(record, row_id, uid, length)
        if held is None:
            # Assembled already: a part's URL would only meet NoSuchUpload. No parts to send,
            # as for an upload whose parts are all held: what is left is the confirm.
            numbers = []
        elif part_numbers:
            numbers = sorted(set(part_numbers))
        else:
            have = {p.part_number for p in held}
            numbers = [n for n in range(1, count + 1) if n not in have]
        signed = self._sign_parts(record.storage_key, uid, numbers)
        answer: dict[str, object] = {
            "upload_id": uid,
            "part_size": part_size,
            "parts": [{"part_number": n, "url": r.url} for n, r in signed],
            "expires_in": expiry,
            "expires_at": expiry_iso(expires_at),
        }
        if held is None:
            answer["assembled"] = True
        return answer

    def complete_presigned(
        self, record: FileRecord, client_parts: list[dict[str, Any]] | None = None
    ) -> None:
        """Completes the multipart upload behind a pending presigned upload, if it has one.

        Missing parts raise UploadNotReceived (the upload stays resumable); a store that refuses
        to assemble the parts aborts the upload.
        """
        with self._db.read() as s:
            row = self._multipart_row(s, record.id)
        if row is None:
            if self._given_up(record.id):  # read as a single PUT, it was "not uploaded yet"
                gone = UploadGone(PRESIGNED_PARTS_GONE, reason=PARTS_GONE)
                self.lib.uploads.fail_pending(record, gone)  # the confirm's lock is held
                raise gone
            return
        with self._db.read() as s:
            row = self._multipart_row(s, record.id)
            if row is None:
                return
            row_id, uid, part_size, length = (
                row.id,
                str(row.s3_upload_id),
                row.part_size,
                row.length,
            )
        store = self._multipart_store()
        if store is None:
            return
        key = record.storage_key
        count = -(-length // part_size)
        _check_client_parts(client_parts or [], count)
        if self._storage.exists(key):  # the client used the single PUT URL after all
            store.abort_multipart(key, uid)
            self._close_multipart(row_id, "done")
            return
        held = self._held_parts(record, row_id, uid, length)
        if held is None:  # assembled since the look above (a completion unanswered)
            self._close_multipart(row_id, "done")
            return
        listed = {p.part_number: p for p in held}
        missing = [n for n in range(1, count + 1) if n not in listed]
        if missing:
            raise UploadNotReceived(
                f"{len(missing)} of {count} parts have not been uploaded yet",
                details={"missing_parts": missing[:100]},
            )
        extra = sorted(n for n in listed if n > count)
        wrong = [
            n
            for n in range(1, count + 1)
            if listed[n].size != _part_length(n, count, part_size, length)
        ]
        if extra or wrong:
            store.abort_multipart(key, uid)
            refused = InvalidInput(
                "The parts do not add up to the declared size (every part but the last must be "
                f"{part_size} bytes)",
                details={"wrong_parts": (wrong + extra)[:100]},
            )
            self._give_up(record, row_id, refused)
            raise refused
        parts = [listed[n] for n in range(1, count + 1)]
        if client_parts:
            given = {int(p["part_number"]): str(p["etag"]) for p in client_parts}
            if any(given.get(p.part_number, p.etag).strip('"') != p.etag.strip('"') for p in parts):
                raise InvalidInput("An ETag does not match the part the bucket holds")
        try:
            store.complete_multipart(key, uid, parts)
        except NoSuchMultipartUpload:
            # Aborted since the listing, or completed by an earlier attempt of this request
            # whose answer was cut (a retry meets NoSuchUpload then): the object tells which.
            if not self._completed(key, length):
                raise self._presigned_parts_gone(record, row_id) from None
        except StorageUnavailable:
            # An outage, not a refusal: the parts stay for the same confirm once the store is
            # back (as tus keeps its upload, _finish_multipart). A completion that went through
            # unanswered is found by that confirm as the object stored (the branch above).
            raise
        except MediaDeskError as exc:
            store.abort_multipart(key, uid)
            self._give_up(record, row_id, exc)
            raise
        self._close_multipart(row_id, "done")

    def _held_parts(
        self, record: FileRecord, row_id: str, uid: str, length: int
    ) -> list[PartInfo] | None:
        """The parts the bucket holds for a presigned upload in parts; None when it assembled
        them already: the multipart upload is gone and the file's own key holds an object of
        the declared size (a completion that went through unanswered: the store hung on its
        answer, or the server was killed right after it). The file stays pending, and its
        confirm stores that object. A multipart upload gone with no such object (aborted
        outside MediaDesk) ends the upload, whichever of listing, renewal or confirm meets it
        first: UploadGone, reason parts_gone. Taken for aborted, the finished object was
        deleted with the failed file and the confirm answered 409."""
        store = self._multipart_store()
        assert store is not None
        try:
            return store.list_parts(record.storage_key, uid)
        except NoSuchMultipartUpload:
            if self._completed(record.storage_key, length):
                return None
            raise self._presigned_parts_gone(record, row_id) from None

    def _presigned_parts_gone(self, record: FileRecord, row_id: str) -> UploadGone:
        gone = UploadGone(PRESIGNED_PARTS_GONE, reason=PARTS_GONE)
        self._give_up(record, row_id, gone)
        return gone

    def _refuse_given_up(self, file_id: int) -> None:
        """A pending upload whose upload in parts was given up (its row failed: the parts
        aborted) by a give-up cut before it failed the file (_give_up's two writes): it has no
        parts to sign. Read as a single PUT, its renewal signed a PUT of the whole file, and
        one naming a part answered 'between 1 and 1'. Ended as the give-up would have: the
        file failed, 410 parts_gone (later calls answer 409)."""
        if self._given_up(file_id):
            self.lib.uploads.end_given_up(
                file_id, UploadGone(PRESIGNED_PARTS_GONE, reason=PARTS_GONE)
            )

    def _given_up(self, file_id: int) -> bool:
        with self._db.read() as s:
            return (
                s.scalars(
                    select(ResumableUpload.id).where(
                        ResumableUpload.protocol == "multipart",
                        ResumableUpload.file_id == file_id,
                        ResumableUpload.state == "failed",
                    )
                ).first()
                is not None
            )

    def _give_up(self, record: FileRecord, row_id: str, exc: MediaDeskError) -> None:
        """An upload in parts whose parts are gone: its pending file fails too. Left pending,
        it had no parts any more, so it read as a single PUT: a repeated confirm answered
        'not uploaded yet' and a renewal signed one PUT of the whole file."""
        self._close_multipart(row_id, "failed")
        self.lib.uploads.fail_pending(record, exc)

    def _close_multipart(self, row_id: str, state: str) -> None:
        with self._db.write() as s:
            row = s.get(ResumableUpload, row_id)
            if row is not None:
                row.state = state

    # ---- housekeeping -----------------------------------------------------------------------
    def tracked_multipart_ids(self) -> set[str]:
        """The S3 multipart upload ids of the uploads still in progress (expired ones too,
        until expire() has removed them): the bucket's stale-upload sweep leaves them alone."""
        with self._db.read() as s:
            ids = s.scalars(
                select(ResumableUpload.s3_upload_id).where(
                    ResumableUpload.state == "receiving",
                    ResumableUpload.s3_upload_id.is_not(None),
                )
            ).all()
        return {str(i) for i in ids}

    def expire(self, now: datetime | None = None) -> list[str]:
        """Removes expired uploads: their bytes first (all of them, so that a full disk has its
        room back before the catalog is written), then their multipart uploads and rows."""
        moment = now or datetime.now(UTC)
        tus_expiry = self.lib.settings.tus_expiry
        with self._db.read() as s:
            # those upload_expiry() may find due; it decides
            rows = s.execute(
                select(
                    ResumableUpload.id,
                    ResumableUpload.protocol,
                    ResumableUpload.owner,
                    ResumableUpload.expires_at,
                    ResumableUpload.updated_at,
                    ResumableUpload.lease_owner,
                    ResumableUpload.lease_until,
                ).where(
                    or_(
                        ResumableUpload.expires_at <= moment,
                        ResumableUpload.updated_at <= moment - timedelta(seconds=tus_expiry),
                    )
                )
            ).all()
        due = [
            (row.id, row.protocol)
            for row in rows
            # not while written to
            if upload_expiry(row, tus_expiry) <= moment
            and not self._writing(row.id, row.lease_owner, row.lease_until, moment)
        ]
        for upload_id, protocol in due:
            if protocol != "multipart":
                self._remove_files(upload_id)
        removed = []
        for upload_id, protocol in due:
            if protocol == "multipart":
                self._expire_multipart(upload_id)
            else:
                self._discard(upload_id)
            removed.append(upload_id)
        return removed

    def sweep(self, now: datetime | None = None) -> list[str]:
        """Cleans what a full disk or a crash left of uploads that have not expired; the ids of
        the uploads cleaned. Uploads being written to are left alone.

        - bytes of no upload in progress: its row is gone, or it is done or failed (files of no
          row at all only after ORPHAN_GRACE, as create() makes the file just before the row);
        - an upload in progress whose bytes are gone (a termination whose catalog write failed
          on a full disk): its multipart upload is aborted and its row removed;
        - bytes past an upload's recorded offset (a server killed mid-PATCH): cut off.
        """
        moment = now or datetime.now(UTC)
        with self._db.read() as s:
            rows = {
                row.id: row
                for row in s.execute(
                    select(
                        ResumableUpload.id,
                        ResumableUpload.protocol,
                        ResumableUpload.state,
                        ResumableUpload.received,
                        ResumableUpload.part_size,
                        ResumableUpload.parts,
                        ResumableUpload.lease_owner,
                        ResumableUpload.lease_until,
                        ResumableUpload.buffer_at,
                    )
                ).all()
            }
        cleaned: set[str] = set()
        present: set[str] = set()
        for path in sorted(self.folder.iterdir()):
            upload_id = path.name.partition(".")[0]
            row = rows.get(upload_id)
            if upload_id in self._holds:
                continue
            if row is None:
                try:
                    age = moment.timestamp() - path.stat().st_mtime
                except FileNotFoundError:
                    continue
                if age < ORPHAN_GRACE.total_seconds():
                    continue
            elif row.protocol == "tus" and row.state == "receiving":
                if self._elsewhere(row):
                    # its bytes are in another server's folder, this one's are stale (or, for a
                    # local upload, as far as they go: _resumes_at): the upload is not gone, and
                    # a PATCH here goes on from what this folder can take (TusWriter.open)
                    continue
                if path.name == self._data_file(upload_id, row.part_size > 0).name:
                    present.add(upload_id)
                    idle = not self._writing(
                        upload_id, row.lease_owner, row.lease_until, moment
                    ) and not self._live_holder(row.lease_owner)
                    # Held (and a PATCH arriving meanwhile refused 423) only when there is a
                    # tail to cut: holding every idle upload at each pass refused clients' PATCHes
                    # that no other request was writing.
                    if idle and _has_tail(row, path) and self._cut_tail(upload_id, path):
                        cleaned.add(upload_id)
                    continue
                if path.suffix in (".chunk", STAGED) and self._writing(
                    upload_id, row.lease_owner, row.lease_until, moment
                ):
                    continue  # the checksum spool of a PATCH, the link of a finish, under way
            path.unlink(missing_ok=True)
            cleaned.add(upload_id)
            logger.info("Removed %s: it belongs to no upload in progress", path.name)
        for upload_id, row in rows.items():
            if (
                row.protocol == "tus"
                and row.state == "receiving"
                and upload_id not in present
                and not self._elsewhere(row)
                and not self._writing(upload_id, row.lease_owner, row.lease_until, moment)
                and self._drop_without_bytes(upload_id)
            ):
                cleaned.add(upload_id)
        return sorted(cleaned)

    def _cut_tail(self, upload_id: str, path: Path) -> bool:
        """Cuts the bytes past the recorded offset off an upload no one writes to (the next
        PATCH would; on a full disk it cannot even start). True when bytes were cut."""
        with contextlib.suppress(UploadLocked, NotFound), self._lease_or_look(upload_id) as row:
            if row is None or row.state != "receiving":
                return False
            keep = _buffered(row)
            size = path.stat().st_size if path.exists() else 0
            if size > keep >= 0:
                os.truncate(path, keep)
                logger.info(
                    "tus upload %s: cut %d bytes past its recorded offset", upload_id, size - keep
                )
                return True
        return False

    def _drop_without_bytes(self, upload_id: str) -> bool:
        """Removes an upload in progress whose bytes are gone. True when removed."""
        with contextlib.suppress(UploadLocked, NotFound), self._lease_or_look(upload_id) as row:
            if row is None or row.state != "receiving" or self._elsewhere(row):
                return False
            if self._data_file(upload_id, row.part_size > 0).exists():
                return False  # written again meanwhile
            if self._stored_whole(row):
                return False  # in the store: the client's next HEAD or PATCH catalogues it
            self._discard(upload_id)
            logger.info("tus upload %s removed: its bytes are gone", upload_id)
            return True
        return False

    def _expire_multipart(self, upload_id: str) -> None:
        found = self._bucket_object(upload_id)
        if found is None:
            return
        self._abort_receiving(*found)
        self._delete_row(upload_id)


def _check_client_parts(parts: Sequence[Mapping[str, Any]], count: int) -> None:
    """A confirm's `parts` name parts of the plan, each once: InvalidInput otherwise (as renew's
    part_numbers). A part named twice had the last ETag win, where S3 refuses the list."""
    numbers = [int(p["part_number"]) for p in parts]
    if any(not 1 <= n <= count for n in numbers):
        raise InvalidInput(f"A part_number of parts must be between 1 and {count}")
    twice = sorted(n for n, times in Counter(numbers).items() if times > 1)
    if twice:
        raise InvalidInput(
            f"parts names part {twice[0]} more than once", details={"repeated_parts": twice[:100]}
        )


def _part_length(number: int, count: int, part_size: int, length: int) -> int:
    """The size part `number` of `count` must have: `part_size`, but the last one's rest."""
    return part_size if number < count else length - part_size * (count - 1)


def _passing(exc: BaseException) -> bool:
    """An outage a later try outlives: the store out of reach or refusing for now (any
    storage_unavailable but a full disk or quota, which has its own answer), or the catalog.
    No verdict on the upload's bytes, so a finish that meets it keeps the upload."""
    if isinstance(exc, StorageUnavailable):
        return not isinstance(exc, InsufficientStorage)
    return catalog_unreachable(exc)


def _alive(holder: str) -> bool:
    """False when the lease holder was a process of this machine that no longer runs."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine: trust the lease until it runs out
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _zombie(int(pid))


def _zombie(pid: int) -> bool:
    """Whether `pid` has ended but is not reaped yet (Linux's /proc state Z or X): signal 0
    still reaches it, and a tus upload whose server was killed with -9 was told to wait the
    whole lease (423, Retry-After 30) until its parent reaped it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return False  # no /proc (macOS), or it ended meanwhile: signal 0's answer stands
    # "pid (comm) S ...": the name may hold spaces and parentheses, the state follows the last
    return stat[stat.rfind(b")") + 2 : stat.rfind(b")") + 3] in (b"Z", b"X")


def _why(exc: BaseException) -> str:
    """A renewal's or a drop's failure in a log line: the catalog's own words when it was out
    of reach (StorageUnavailable.cause), else the error's class."""
    cause = getattr(exc, "cause", None)
    return f"{exc.__class__.__name__}: {cause}" if cause else exc.__class__.__name__


def _dropping(uploads: weakref.ref[ResumableUploads], now: threading.Event) -> None:
    """The dropper thread of leases left (ResumableUploads.drop_leftover_leases): rounds
    DROP_RETRY apart, doubling while the catalog stays out, at once when `now` is set. Holds
    its uploads by a weak reference between rounds: a library let go ends it."""
    wait = DROP_RETRY
    while True:
        if now.wait(wait):
            now.clear()
            wait = DROP_RETRY
        else:
            wait = min(2 * wait, DROP_RETRY_MAX)
        found = uploads()
        if found is None or not found._dropper_round():
            return
        del found


def _renewing(uploads: weakref.ref[ResumableUploads], stop: threading.Event) -> None:
    """The renewer thread (ResumableUploads.renew_leases): a round whenever a renewal is due,
    until no request of this process holds a lease or `stop` is set (the library closed).
    Holds its uploads by a weak reference between rounds: a library let go ends it."""
    while True:
        found = uploads()
        if found is None:
            return
        wait = found.renew_leases()
        del found
        if wait is None or stop.wait(max(wait, 0.01)):
            return


def _offset_mismatch(
    offset: int, accepted: int, elsewhere: bool = False, buffered: bool = False
) -> OffsetMismatch:
    """The 409 of a PATCH whose Upload-Offset is not where this server goes on from; the HTTP
    layer also sends `details.offset` as the Upload-Offset header (tus-js-client reads it).
    `elsewhere`: the catalog names another data folder as holding the bytes past `accepted`;
    `buffered`: the upload goes to R2/S3 in parts (on local storage there is no bucket, and
    maybe no team: the other folder may be this one before it moved)."""
    if not elsewhere:
        where = f"the {accepted} bytes received"
    elif buffered:
        where = (
            f"the {accepted} bytes stored in the bucket (the bytes past them were received into "
            "another data folder, another server's or this one at its former path): send from "
            "there"
        )
    else:
        where = (
            f"the {accepted} bytes this server holds (the bytes past them were received into "
            "another data folder): send from there"
        )
    return OffsetMismatch(
        f"Upload-Offset {offset} does not match {where}", details={"offset": accepted}
    )


def _taken_over() -> UploadLocked:
    """The error of a writer whose lease is no longer its own (it ran out unrenewed, and
    another took the upload): its client asks HEAD again."""
    return UploadLocked(
        "This request's hold on the upload ran out and another request took it; send HEAD "
        "again and go on from its offset",
        details={"retry_after": LOCKED_RETRY},
    )


def _leased_elsewhere(until: datetime | None, now: datetime) -> UploadLocked:
    """The 423 of an upload another process holds: asked again once its lease runs out (a
    writer that ends drops it sooner), at most LOCKED_RETRY_MAX seconds from now."""
    left = (until - now).total_seconds() if until is not None else 0.0
    return UploadLocked(
        "Another server is writing to this upload; retry shortly",
        details={"retry_after": min(LOCKED_RETRY_MAX, max(1, math.ceil(left)))},
    )


class _Hold:
    """The request of this process holding an upload (ResumableUploads.hold).

    `heard` is set by the thread receiving the body at each arrival (a float store, atomic);
    `end` (set by the HTTP layer while a body is being received, or None), `ended` and `busy`
    are read and changed under the uploads' guard. `released` is done once the hold is let
    go."""

    def __init__(self) -> None:
        self.heard = time.monotonic()
        self.busy = 0  # writes of the request under way (TusWriter.busy)
        self.end: Callable[[], None] | None = None
        self.ended = False
        self.released: Future[None] = Future()
        # The request's lease in the catalog (ResumableUploads.renew_leases), under the guard:
        # when it runs out as this process counts it (time.monotonic(), from before the write
        # that set it), None before one is taken; when its next renewal is due; whether a
        # renewal found it another's; whether its request drops it (_drop_lease); whether the
        # renewer passed it over since its last renewal (stalled).
        self.lease_ends: float | None = None
        self.lease = 0.0
        self.due = 0.0
        self.lease_lost = False
        self.let_go = False
        self.lapsing = False
        self._failing = False

    def leased(self, asked: float, lease: float) -> None:
        self.lease_ends, self.lease = asked + lease, lease
        self.due = asked + lease * RENEW_SHARE
        self._failing = False
        self.lapsing = False

    def passed_over(self, retry: float) -> None:
        """The renewer left the lease unrenewed (stalled); looked at again in `retry` s."""
        self.lapsing = True
        self.due = time.monotonic() + retry

    def failed(self, retry: float) -> bool:
        """A renewal failed: tried again in `retry` seconds; whether it is the first since the
        last that went through."""
        first, self._failing = not self._failing, True
        self.due = time.monotonic() + retry
        return first

    def renewing(self) -> bool:
        return self.lease_ends is not None and not self.lease_lost and not self.let_go

    def stalled(self) -> bool:
        """Whether the request's body has brought no byte for STALLED seconds while nothing of
        it is being written: a connection gone half-open. Such a request is ended by the next
        request of the upload to this process (end_stalled), and its lease is no longer renewed
        for the other servers of the team. One past its body (storing, cataloguing) or not
        receiving one (the desktop's send_file) never is."""
        return self.end is not None and not self.busy and self.quiet() >= STALLED

    def running_out(self) -> bool:
        """Whether the request must stop writing: its lease lost, or so little of it left
        (renewals failed) that another server may hold the upload before a write ends."""
        if self.lease_ends is None:
            return False
        return self.lease_lost or time.monotonic() >= self.lease_ends - STOP_SHARE * self.lease

    def quiet(self) -> float:
        return time.monotonic() - self.heard

    def retry_after(self) -> int:
        """Seconds until a new request could end this one, were its body to stay quiet (one
        writing, STALLED: its quiet starts when the write ends); past its body, or not
        ending, LOCKED_RETRY."""
        if self.end is None:
            return LOCKED_RETRY
        if self.busy:
            return max(1, math.ceil(STALLED))
        return max(1, math.ceil(STALLED - self.quiet()))


def _fingerprint(path: Path) -> str:
    """Which local file, as it is now (a changed file is a new upload)."""
    st = path.stat()
    return f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"


class _SourceChanged(Exception):
    """send_file's file is not the one its upload was made of any more (see _check_unchanged)."""

    def __init__(self, how: str) -> None:
        super().__init__(how)
        self.how = how  # "changed", "grew" or "shrank": how the user is told (desktop)


def _same_file(path: Path, source: str) -> bool:
    """Whether the file is still the one `source` fingerprinted (False when it is gone)."""
    try:
        return _fingerprint(path) == source
    except OSError:
        return False


def _check_unchanged(path: Path, source: str, length: int) -> None:
    """Raises _SourceChanged unless the file is still the one `source` fingerprinted: bytes
    read from it since are then one version of it (an edit moves its mtime). FileNotFoundError
    (the system's) for a file gone meanwhile."""
    if _fingerprint(path) == source:
        return
    size = path.stat().st_size
    raise _SourceChanged("grew" if size > length else "shrank" if size < length else "changed")


def _head(path: Path) -> bytes:
    """The first bytes of a file, as many as its type is told from."""
    with open(path, "rb") as fh:
        return fh.read(SNIFF_BYTES)


class TusWriter:
    """Appends one PATCH's bytes to an upload; made by `ResumableUploads.writer`.

    Call `write` for each chunk, then `close()` (commits, verifies the checksum, and catalogues
    the file when it is complete) or `abort()` (keeps what arrived, unless a checksum was sent,
    in which case the whole chunk is dropped as the tus checksum extension requires).
    """

    def __init__(
        self,
        uploads: ResumableUploads,
        upload_id: str,
        checksum: tuple[str, bytes] | None,
        lock: contextlib.AbstractContextManager[Any],
        answering: bool = False,
        held: _Hold | None = None,
    ) -> None:
        self.uploads = uploads
        self._db = uploads._db
        self.id = upload_id
        self._checksum = checksum
        self._lock = lock
        self._held = held
        self._answering = answering  # a creation-with-upload: close() gives it its tus expiry
        self._closed = False
        self.offset = 0  # bytes committed + written in this request
        self._committed = 0
        self._fh: BinaryIO | None = None  # the part buffer of an upload to R2/S3
        self._file: Appender | None = None  # the growing file of a local upload
        self._spool: BinaryIO | None = None
        self._hash: Any = None
        self._gone = False  # the upload ended (its parts are gone): nothing more to record
        self._catalog_out = False  # a write could not reach the catalog: abort() does not try
        # its lease lost, or run out unrenewed: the upload may be another writer's now, so
        # nothing more is recorded, nor cut from its files (_check_lease)
        self._lost = False
        self._began = 0  # the offset this request started from
        # The expiry the end of this request gives the upload, recorded with its last bytes
        # (_record) when there are any left to record; None while the body still arrives.
        self._expires: datetime | None = None
        self._expiry_recorded = False

    # The data file is cut back to what the catalog recorded: bytes past it were never
    # confirmed to the client (a crash between the write and the commit).
    def open(self, row: _Row) -> None:
        """`row`: the upload as read when its lease was taken."""
        with fs_errors(UPLOADS_UNUSABLE):
            self._open(row)

    def _open(self, row: _Row) -> None:
        self._row = row
        # what the client said of the file (Upload-Metadata): the server labels the bytes of a
        # PATCH that fails, or comes before the last, by it in its metrics (server/routes/tus.py)
        self.metadata: Mapping[str, str] = dict(row.meta or {})
        self.length, received = row.length, row.received
        self.key, self.uid, self.part_size = row.object_key, row.s3_upload_id, row.part_size
        self.parts = _parts(row)
        self.buffered = self.part_size > 0  # R2/S3: a part at a time through a buffer file
        path = self.uploads._data_file(self.id, self.buffered)
        self._parts_bytes = sum(p.size for p in self.parts)
        expected = received - self._parts_bytes
        self.offset = self._committed = self._began = received
        if not self.buffered and not path.exists() and self.uploads._stored_whole(row):
            return  # its bytes went to the store: not "lost", and close() catalogues them
        if not path.exists():
            path.touch(mode=FILE_MODE)
        if self.buffered and self.uploads._elsewhere(row):
            # Another server of the team received the bytes past the parts: they are on its
            # disk. What this folder holds is from an earlier PATCH here, maybe of an earlier
            # part: never taken for them (the file would be stored with wrong bytes). A local
            # `.part` is the upload's first bytes wherever it is: kept as far as it goes below.
            os.truncate(path, 0)
        actual = path.stat().st_size
        if actual != expected:
            os.truncate(path, min(actual, expected))
            if actual < expected:  # bytes lost (the data folder was restored): go back
                received = self._parts_bytes + actual
                self._record(received)
        self.offset = self._committed = self._began = received
        hashed = self.uploads._hashes.pop(self.id, None)
        if self.buffered:
            self._fh = open(path, "r+b")  # noqa: SIM115 - closed in close()/abort()
            self._fh.seek(0, os.SEEK_END)
        else:
            # sha256 of every byte of the upload, when this process saw them all
            sha = None
            if hashed is not None and hashed[0] == received:
                sha = hashed[1]
            elif received == 0:
                sha = hashlib.sha256()
            self._file = Appender(
                path, received, sha=sha, checkpoint=LOCAL_CHECKPOINT, on_durable=self._durable
            )
        if self._checksum is not None:
            self._spool = open(self.uploads.folder / f"{self.id}.chunk", "w+b")  # noqa: SIM115
            set_file_mode(self._spool.fileno())
            self._hash = CHECKSUM_ALGORITHMS[self._checksum[0]]()

    def receiving(self, end: Callable[[], None] | None) -> None:
        """While the request's body is being received, `end` ends the request, from any thread
        (ResumableUploads.end_stalled: its body went quiet); None once the body is over, so a
        request storing or cataloguing the upload is never ended."""
        held = self._held
        if held is None:
            return
        with self.uploads._guard:
            if not held.ended:
                held.end = end
        if end is not None:
            held.heard = time.monotonic()

    def heard(self) -> None:
        """Bytes of the body arrived (called at each arrival, however small: a slow but live
        client is not taken for a stalled one while a batch fills)."""
        if self._held is not None:
            self._held.heard = time.monotonic()

    @contextlib.contextmanager
    def busy(self) -> Iterator[None]:
        """A write of this request under way (from any thread, nested or not): the
        request is not quiet meanwhile, however long the disk, the store (a part upload to R2)
        or the pool take, and its end counts as an arrival. A request whose client sent
        everything while its own write took seconds is not a stalled one (end_stalled)."""
        held = self._held
        if held is None:
            yield
            return
        with self.uploads._guard:
            held.busy += 1
        try:
            yield
        finally:
            with self.uploads._guard:
                held.busy -= 1
                held.heard = time.monotonic()

    def write(self, data: bytes | Sequence[bytes | memoryview]) -> None:
        """Appends bytes, or a list of chunks (written with one system call)."""
        self._check_lease()
        with self.busy():
            self._write(data)

    def _check_lease(self) -> None:
        """Stops a writer whose lease is lost, or about to run out because its renewals failed
        (the catalog out of reach for this process): another server may take the upload then,
        and two writers must never append at once. As in a catalog outage, the bytes recorded
        are what is kept and the client goes on from HEAD's offset; the bytes past them are
        left where they are for the next writer's open to cut (they may be its own by then).
        One whose lease the renewer let lapse (its body stalled) renews it when its bytes come
        back, and stops only if another took the upload meanwhile."""
        held = self._held
        if held is None:
            return
        with self.uploads._guard:
            lost, stop = held.lease_lost, held.running_out()
            lapsed = stop and not lost and held.lapsing
            # given up: not renewed again once the catalog answers, or the upload stays held
            # by a request that no longer writes
            held.lease_lost = held.lease_lost or (stop and not lapsed)
        if not stop:
            return
        if lapsed:
            # Left to run out while the body was quiet, and its bytes came back: the lease is
            # still this process's if nobody took it (a take names its holder), then renewed
            # here before a byte is written; otherwise the upload is another's now.
            taken = self._renewed_after_quiet(held)
            if taken is None:
                return
            lost = taken
        self._lost = True
        if lost:
            raise _taken_over()
        logger.warning(
            "tus upload %s: its lease could not be renewed before running out; the request "
            "stops writing (the bytes recorded, %d, are kept)",
            self.id,
            self._committed,
        )
        raise catalog_down()

    def _renewed_after_quiet(self, held: _Hold) -> bool | None:
        """Renews the lease of a writer whose bytes came back after the renewer let it lapse:
        None when renewed (it writes on), True when another took it, False when the catalog
        did not answer (the writer stops as for failed renewals)."""
        lease = self.uploads.lease.total_seconds()
        asked = time.monotonic()
        try:
            mine = self.uploads._renew(self.id, min(CATALOG_DEADLINE, lease * STOP_SHARE))
        except Exception as exc:  # noqa: BLE001 - the writer stops: catalog_down
            logger.info("tus upload %s: its lapsed lease not renewed: %r", self.id, exc)
            mine = False
            failed = True
        else:
            failed = False
        with self.uploads._guard:
            if mine:
                held.leased(asked, lease)
                return None
            held.lease_lost = True
        return not failed

    def _write(self, data: bytes | Sequence[bytes | memoryview]) -> None:
        chunks: Sequence[bytes | memoryview] = [data] if isinstance(data, bytes) else data
        size = sum(len(c) for c in chunks)
        if not size:
            return
        if self.offset + size > self.length:
            raise TooLarge(
                f"The chunk goes past Upload-Length ({self.length} bytes)",
                details={"length": self.length, "offset": self.offset},
            )
        if self._spool is not None:
            with fs_errors(UPLOADS_UNUSABLE):
                for chunk in chunks:
                    self._spool.write(chunk)
                    self._hash.update(chunk)
            self.offset += size
            return
        try:
            with fs_errors(UPLOADS_UNUSABLE):
                self._append(chunks)
        except StorageUnavailable as exc:
            # a part's or a checkpoint's record: the catalog is out (or hung, and the wait for
            # it was cut), so it will not take abort()'s record of the rest either
            self._catalog_out = catalog_unreachable(exc)
            raise

    def _append(self, chunks: Sequence[bytes | memoryview]) -> None:
        if self._file is not None:
            self._file.write(chunks)  # commits itself every LOCAL_CHECKPOINT bytes
            self.offset = self._file.offset
            return
        assert self._fh is not None
        for chunk in chunks:
            view = memoryview(chunk)
            while view:
                room = self.part_size - (self.offset - self._parts_bytes)
                if not room:  # left full: its part was abandoned (a pause, the store out)
                    self._send_part()
                    continue
                take = view[:room]
                self._fh.write(take)
                self.offset += len(take)
                view = view[len(take) :]
                if self.offset - self._parts_bytes == self.part_size:
                    self._send_part()

    def _send_part(self) -> None:
        """Sends the full buffer as the next part, records it, then empties the buffer."""
        assert self._fh is not None
        store = self.uploads._multipart_store()
        if store is None:
            raise UploadGone("The storage changed since this upload started; start a new one")
        self._fh.flush()
        if self.uid is None:  # the first part: the content names the object
            self.key, self.uid = self.uploads._start_multipart(self.id, Path(self._fh.name))
        number = len(self.parts) + 1
        try:
            with open(self._fh.name, "rb") as fh:
                part = self.uploads._part_body(self.id, fh, self._parts_bytes, cancellable=True)
                etag = store.upload_part(str(self.key), str(self.uid), number, part, self.part_size)
        except NoSuchMultipartUpload:
            self._gone = True
            raise self.uploads._parts_gone(self.id) from None
        parts = [*self.parts, PartInfo(number, self.part_size, etag)]
        with self._db.write() as s:
            row = _known(s.get(ResumableUpload, self.id, with_for_update=True), "tus")
            if row.lease_owner != self.uploads._me:  # as _record: never over a new holder's
                self._lost = True
                raise _taken_over()
            row.parts = [{"n": p.part_number, "size": p.size, "etag": p.etag} for p in parts]
            row.received = self.offset
            row.lease_until = datetime.now(UTC) + self.uploads.lease
            row.buffer_at = self.uploads.here
        # Counted once the catalog has it: a part the store took but the catalog did not (its
        # disk full, out of reach) stays in the buffer, cut back to the recorded offset and
        # sent again. Counted before, the buffer was cut to a negative size and kept whole.
        self.parts = parts
        self._parts_bytes += self.part_size
        self._committed = self.offset
        self.uploads._stored(self.id, self._parts_bytes)
        self._fh.seek(0)
        self._fh.truncate()

    @property
    def stored(self) -> int:
        """Bytes in the store: the parts sent on R2/S3 (the buffer is not the store yet)."""
        return self._parts_bytes if self.buffered else self.offset

    def _commit(self) -> None:
        if self._file is not None:
            self._file.finish()  # waits for the hash and checkpoints, fsyncs, records
            return
        if self.offset == self._committed:
            return
        assert self._fh is not None
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._record(self.offset)
        self._committed = self.offset

    def _durable(self, received: int) -> None:
        """The Appender's checkpoint: bytes [0, received) are on disk; record them."""
        self._record(received)
        self._committed = received

    def _record(self, received: int) -> None:
        until = datetime.now(UTC) + self.uploads.lease
        values = {
            "uid": self.id,
            "holder": self.uploads._me,
            "got": received,
            "until": until,
            "at": self.uploads.here,
        }
        expires = self._expires
        with self._db.write_connection() as conn:
            if expires is None:
                done = conn.execute(_RECORD, values)
            else:
                done = conn.execute(_RECORD_ALIVE, {**values, "expires": expires})
            if not done.rowcount:
                if conn.execute(_READ, {"uid": self.id}).first() is None:
                    raise NotFound("No such upload")
                self._lost = True
                raise _taken_over()
        if expires is not None:
            self._expiry_recorded = True

    def _ending(self) -> None:
        """The request's body is over: what is still recorded carries the upload's new expiry.

        An upload lives MEDIADESK_TUS_EXPIRY from the end of its last PATCH that stored bytes
        (tusd's sliding expiry), not from its creation: a long upload on a poor link may still
        be receiving when that much time has passed since it began. Never shortened: the
        desktop's uploads are given a longer life (DESKTOP_EXPIRY) at their creation. Set
        once the body is over, not at every checkpoint: one catalog write per request at most,
        folded into the last record of its bytes when there is one."""
        expiry = self.uploads.lib.settings.tus_expiry
        life = timedelta(seconds=expiry)
        self._expires = max(upload_expiry(self._row, expiry), datetime.now(UTC) + life)

    def _alive(self) -> datetime | None:
        """Records the new expiry of an upload this request stored bytes to (or a creation about
        to be answered), when the last record of its bytes did not carry it; the expiry, or None
        when it stays as it was."""
        if self._expires is None or not (self._answering or self._committed > self._began):
            return None
        if not self._expiry_recorded:
            self.uploads._extend(self.id, self._expires)
            self._expiry_recorded = True
        return self._expires

    def close(self) -> UploadState:
        """Commits this request's bytes; catalogues the file if it is now complete."""
        try:
            self._ending()
            try:
                with fs_errors(UPLOADS_UNUSABLE):
                    if self._spool is not None:
                        self._apply_spool()
                    self._commit()
            except BaseException:
                self._cut_back()
                raise
            self._keep_hash()
            self._close_files()
            if self.offset >= self.length:
                return self.uploads._finish(self.id)  # done: it has its expiry from there
            if self._began < SNIFF_BYTES <= self.offset:
                self.uploads._check_head(self.id)  # its first bytes are in: what is it?
            # what the lease's read gave, with this request's bytes: nobody else wrote meanwhile
            state = dataclasses.replace(
                _state(self._row, self.uploads.lib.settings.tus_expiry), offset=self.offset
            )
            # A creation-with-upload goes from UNANSWERED to the tus expiry here, still held: no
            # maintenance took it for unanswered meanwhile.
            expires = self._alive()
            if expires is not None:
                state = dataclasses.replace(state, expires_at=expires)
            return state
        finally:
            self._release()

    def _apply_spool(self) -> None:
        assert self._spool is not None and self._checksum is not None
        if self._hash.digest() != self._checksum[1]:
            self.offset = self._committed
            raise ChecksumMismatch(
                f"The {self._checksum[0]} checksum of the chunk does not match Upload-Checksum; "
                "it was discarded",
                details={"offset": self._committed},
            )
        self.offset = self._committed
        self._spool.seek(0)
        while chunk := self._spool.read(1024 * 1024):
            self._append([chunk])

    def abort(self) -> None:
        """The request ended early: keep what arrived (a checksum chunk is dropped whole).

        What cannot be recorded (the disk is full, and the catalog with it; a catalog that a
        write of this request could not reach, which is not waited for again) is cut off at once:
        the bytes past the recorded offset were never acknowledged, and the next request would
        cut them anyway; on a full disk every other upload waits for their room.
        """
        if self._closed:
            return
        if self._held is not None and self._held.ended:
            # Ended for a new request (end_stalled): that one goes on from the offset recorded,
            # what HEAD answered its client meanwhile; the bytes past it are cut (never
            # acknowledged), and the hash that may have seen them is dropped with them.
            try:
                self._cut_back()
            finally:
                self._release()
            return
        try:
            if self._spool is None and not self._gone and not self._catalog_out and not self._lost:
                # bytes kept from a cut body keep the upload alive as a whole PATCH's; an
                # unanswered creation's do not (its client has no Location to go on with)
                if not self._answering:
                    self._ending()
                try:
                    self._commit()
                except Exception as exc:  # the request's own error is what the client gets
                    logger.info(
                        "tus upload %s: the bytes past %d could not be recorded (%s); cut off",
                        self.id,
                        self._committed,
                        exc.__class__.__name__,
                    )
                else:
                    try:
                        self._alive()
                    except Exception as exc:  # noqa: BLE001 - as above; it expires as it was
                        logger.info(
                            "tus upload %s: its new expiry could not be recorded (%s)",
                            self.id,
                            exc.__class__.__name__,
                        )
            self._keep_hash()
            self._cut_back()
        finally:
            self._release()

    def _cut_back(self) -> None:
        """Closes the files, cutting the data file back to the recorded offset; a failure to
        cut is logged, not raised (the next request cuts it; the request's error stands). A
        writer whose lease went cuts nothing: the file may be a new holder's by now."""
        try:
            self._close_files(cut=not self._lost)
        except OSError as exc:
            logger.warning("tus upload %s: could not cut the unrecorded bytes: %s", self.id, exc)

    def _close_files(self, cut: bool = False) -> None:
        """Closes the files; `cut`: first the data file goes back to the recorded offset."""
        try:
            if self._file is not None:
                if cut:
                    self._file.abandon()  # back to the last offset recorded (_durable)
                    self.offset = self._committed
                else:
                    self._file.close()
            if self._fh is not None and not self._fh.closed:
                try:
                    self._fh.close()  # flushes: on a full disk it may fail, and still closes
                finally:
                    if cut:
                        self._cut_buffer()
        finally:
            if self._spool is not None and not self._spool.closed:
                with contextlib.suppress(OSError):
                    self._spool.close()
                discard(Path(self._spool.name))

    def _cut_buffer(self) -> None:
        """The part buffer of an upload to R2/S3, back to the bytes recorded past its parts."""
        assert self._fh is not None
        keep = self._committed - self._parts_bytes
        with contextlib.suppress(FileNotFoundError):
            if os.stat(self._fh.name).st_size > keep:
                os.truncate(self._fh.name, keep)
        self.offset = self._committed

    def _keep_hash(self) -> None:
        sha = self._file.sha if self._file is not None else None
        if sha is not None and self._committed == self.offset:
            self.uploads._hashes[self.id] = (self._committed, sha)

    def _release(self) -> None:
        if not self._closed:
            self._closed = True
            self._close_files()
            self._lock.__exit__(None, None, None)


@dataclass(frozen=True)
class _PartWatch:
    stored: Callable[[int], None]  # bytes of the upload stored or on their way to the store
    cancel: threading.Event | None  # a pause: the part on its way is abandoned


class _PartBody:
    """A part's file as the HTTP layer reads it, for progress that follows the bytes sent.

    boto3 first reads the whole part to sign its SHA-256 (over http and https alike: no
    Content-MD5 is sent), in a moment, then rewinds it and sends it: only reads after a rewind
    are counted, the furthest byte reached (a retry rewinds again: not counted twice). Were the
    body sent without that first read, the part is counted when it is stored (_send_part). The
    socket's buffer holds what is read and not yet sent: on a slow link megabytes, taken at once
    when a part starts and draining while nothing more is read, so where the system tells
    (core/storage/s3_send.py) what the store's side acknowledged is counted instead (`held`): a
    row's speed was the head start's just after a resume and stood still while a part's last
    bytes drained. A set `cancel` stops the part at its next read, or as its bytes leave where
    that is told (a pause while the tail drains), with Cancelled, which boto3 does not retry.
    """

    def __init__(
        self, fh: BinaryIO, sent: Callable[[int], None], cancel: threading.Event | None
    ) -> None:
        self._fh, self._sent, self._cancel = fh, sent, cancel
        self._start = fh.tell()
        self._read = False  # a first pass began
        self._sending = False  # rewound after it: these reads go to the socket
        self._furthest = 0  # bytes handed to the HTTP layer
        self._told = False  # the socket says what it holds: its count is reported, not reads
        self._reported = 0

    def read(self, size: int = -1) -> bytes:
        if self._cancel is not None and self._cancel.is_set():
            raise Cancelled("Paused")
        data = self._fh.read(size)
        self._read = True
        reached = self._fh.tell() - self._start
        if self._sending and reached > self._furthest:
            self._furthest = reached
            if not self._told:
                self._report(reached)
        return data

    def held(self, unacknowledged: int) -> None:
        """The socket still holds `unacknowledged` bytes of what it was handed (the request's
        head among them): the part's bytes before those reached the store's side."""
        if self._cancel is not None and self._cancel.is_set():
            raise Cancelled("Paused")
        if self._sending:
            self._told = True
            self._report(self._furthest - unacknowledged)

    def _report(self, done: int) -> None:
        # never back: a retry's socket holds bytes counted before (a step back reads as a
        # part a pause abandoned)
        if done > self._reported:
            self._reported = done
            self._sent(done)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        position = self._fh.seek(offset, whence)
        if self._read and position <= self._start:
            self._sending = True
        return position

    def tell(self) -> int:
        return self._fh.tell()


class _StoreDown(Exception):
    """The store could not be reached while a complete upload's last part or its completion
    was sent: nothing is lost, so the upload is kept for the next try (ResumableUploads._finish
    answers the store's error)."""

    def __init__(self, error: StorageUnavailable) -> None:
        super().__init__(error.message)
        self.error = error
