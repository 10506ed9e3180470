"""The S3 / Cloudflare R2 storage backend and its presigner (boto3, one client per thread)."""

from __future__ import annotations

import base64
import contextlib
import email.utils
import functools
import hashlib
import io
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Collection, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import boto3
import boto3.exceptions
import botocore.exceptions as bx
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from s3transfer.exceptions import RetriesExceededError as TransferRetriesExceeded

from core.errors import (
    STORE_OUT_REASONS,
    InvalidInput,
    MediaDeskError,
    NoSuchMultipartUpload,
    NotFound,
    StorageNotAsked,
    StorageUnavailable,
    object_missing,
    storage_error,
)
from core.filenames import NAME_BYTES, temp_name
from core.keys import OWN_PREFIXES, normalise_key, public_object_url
from core.outage import (
    HANG_WINDOW,
    LONGEST_HANG_WINDOW,
    NotNow,
    Outage,
    whole_seconds,
)
from core.storage.base import ObjectStat, PartInfo, PresignedRequest, ProgressCallback
from core.storage.disposition import content_disposition
from core.storage.local import normalise_prefix
from core.storage.s3_send import reporting, time_answers_after_sending
from core.storage.signing import check_expires_in, grant_lifetime

logger = logging.getLogger(__name__)
# boto3 writes a download to `{name}.{8 characters}` first (s3transfer), then renames it
_BOTO_TEMP_BYTES = 9

MiB = 1024 * 1024
# CopyObject copies at most 5 GB in one request (S3 and R2); bigger objects are copied in parts
# (UploadPartCopy). Parts of equal size (R2 requires it), at most 10,000 of them.
COPY_LIMIT = 5 * 1000**3
COPY_PART_SIZE = 512 * MiB
_MAX_PARTS = 10_000
_MISSING = {"404", "NoSuchKey", "NotFound"}


@dataclass(frozen=True)
class Timeouts:
    """How long one S3 request may take, in seconds.

    `connect`: to open a connection (TCP and TLS). urllib3 also sends the request under it:
    each 16 KiB block of a body must be taken by the socket within `connect`, so a long part
    PUT on a slow link is fine as long as it moves. `read`: each wait for the answer's next
    bytes (per socket read, not for a whole body): first bytes after the request's last byte
    left (core/storage/s3_send.py follows what the socket still holds while it drains), then
    between chunks of a download. `attempts`: tries in all; a timed-out try (a body's send
    too) is never retried (a store silent for `read` seconds keeps the retry waiting as
    long; one that stopped taking a body, another `connect` and more); refused or
    reset connections and 5xx answers are, a throttling store's (503 SlowDown, 429) too, after
    botocore's back-off: R2 asks clients to retry those, and one throttled part failing at
    once lost a whole multipart transfer and held every caller for the outage's window.
    """

    connect: float
    read: float
    attempts: int


# Reads, writes and parts of streams, uploads, confirms and tus PATCHes: a stalled store
# fails them in about `read` seconds, before players, proxies and browsers give up.
REQUESTS = Timeouts(connect=5, read=10, attempts=2)
# The health probe (check()): monitors poll /health with short timeouts of their own.
PROBE = Timeouts(connect=3, read=4, attempts=1)
# The read timeout of requests the store answers once its work is done: a copy of up to 5 GB
# (CopyObject, UploadPartCopy), completing a multipart upload of many parts (ours and boto3's
# managed transfers'), deleting 1000 keys. Set per request (botocore's request-context
# read_timeout); a botocore too old to read it keeps the client's `read` for them.
SERVER_SIDE_READ = 60.0
_SERVER_SIDE = ("CopyObject", "UploadPartCopy", "CompleteMultipartUpload", "DeleteObjects")
_TIMED_OUT = (bx.ReadTimeoutError, bx.ConnectTimeoutError)
# A try whose connection was refused or never opened: its request never left this machine.
# Not a read timeout nor a connection dropped mid-request, which the store may carry out.
_NEVER_SENT = (bx.EndpointConnectionError, bx.ConnectTimeoutError)
# A TLS failure (a certificate not trusted, TLS intercepted, https to a plain port) or a proxy
# that could not be reached: never sent when it ended the connect, but urllib3 words a TLS
# error mid-request (a record cut while the body went) as SSLError too.
_NEVER_SENT_IF_CONNECTING = (bx.SSLError, bx.ProxyConnectionError)
# urllib3's frames that open a connection (TCP, proxy tunnel, TLS handshake): nothing of the
# request is written before they return.
_CONNECTING = frozenset({"_validate_conn", "_new_conn", "connect", "_connect_tls_proxy"})


def _connecting(exc: BaseException) -> bool:
    """Whether `exc` (or an error it was raised from) ended in urllib3 opening a connection."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        tb = current.__traceback__
        while tb is not None:
            code = tb.tb_frame.f_code
            if code.co_name in _CONNECTING and "urllib3" in code.co_filename:
                return True
            tb = tb.tb_next
        wrapped = getattr(current, "kwargs", {}).get("error")  # botocore's wrapped error
        todo += [current.__cause__, current.__context__, *current.args[:1], wrapped]
        todo = [e for e in todo if e is None or isinstance(e, BaseException)]
    return False


def _never_sent(exc: BaseException | None) -> bool:
    """Whether a try that failed with `exc` certainly wrote nothing to the store."""
    if isinstance(exc, _NEVER_SENT):
        return True
    return isinstance(exc, _NEVER_SENT_IF_CONNECTING) and _connecting(exc)


class _Sent:
    """How many tries this storage's clients made that may have reached the store, on every
    thread: a failure of a call during which the count stood still sent nothing (an earlier
    try of its own that reset mid-request counts, though botocore raises only the last)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    def tried(self, caught_exception: Exception | None) -> None:
        if not _never_sent(caught_exception):
            with self._lock:
                self.count += 1


# A store's answers that it takes no more work now (S3's 503 SlowDown, R2's and proxies' 429,
# and the codes of the same meaning botocore knows): reason storage_throttled. S3 and R2 say
# "reduce your request rate" in every 503 they send.
_THROTTLED_STATUS = frozenset({429, 503})
_THROTTLED_CODES = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "TooManyRequests",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "BandwidthLimitExceeded",
    }
)


def _throttled(status: object, code: str) -> bool:
    return status in _THROTTLED_STATUS or code in _THROTTLED_CODES


def _store_retry_after(response: Mapping[str, Any]) -> int | None:
    """The Retry-After the store sent with an error (seconds or an HTTP date), within the
    longest window nobody asks a store (a store asking for an hour is asked again by one
    probe at a time meanwhile); None when it sent none, or one that cannot be read."""
    said = str(response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("retry-after", ""))
    said = said.strip()
    if not said:
        return None
    if said.isascii() and said.isdigit():
        seconds = float(said)  # float: thousands of digits are inf, not a ValueError
    else:
        try:
            when = email.utils.parsedate_to_datetime(said)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = (when - datetime.now(UTC)).total_seconds()
    return whole_seconds(min(seconds, LONGEST_HANG_WINDOW))


def _after_try(sent: _Sent, caught_exception: Exception | None = None, **_: Any) -> None:
    """needs-retry hook (after each try), run before botocore's retry handler: the try
    counted (`_Sent`); a silence ends the call. Not only botocore's timeouts: a body the store
    stops taking times out in urllib3's send (the connect timeout), which botocore words as
    ConnectionClosedError and retried as a reset, so a hung store held every upload whose part
    was still going for two connect timeouts (12 s, not the 10 s README says)."""
    sent.tried(caught_exception)
    if caught_exception is not None and _silent(caught_exception):
        raise caught_exception


class _HeldAborts:
    """The multipart uploads that s3transfer's failure clean-up asked a client to abort during
    a managed upload (S3Storage._upload): noted, not sent, so that _upload decides. Sent, the
    abort went to a store just found silent with the whole read timeout again (the upload
    answered after 20 s, not 10) and its failure was swallowed, the parts left in the bucket
    for a day. One per client: a thread's client makes no other call while its thread waits
    for the transfer, so every abort it is asked for meanwhile is the clean-up's."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # the clean-up runs on one of the transfer's threads
        self._uploads: list[tuple[str, str]] = []
        self._holding = False

    @contextlib.contextmanager
    def holding(self) -> Iterator[None]:
        self._holding = True
        try:
            yield
        finally:
            self._holding = False

    def hold(self, params: dict[str, Any], **_: Any) -> None:
        """before-parameter-build hook of AbortMultipartUpload: during a transfer, nothing is
        sent."""
        if not self._holding:
            return
        with self._lock:
            self._uploads.append((str(params["Key"]), str(params["UploadId"])))
        raise _AbortHeld  # s3transfer logs a clean-up's failure (DEBUG) and goes on

    def take(self) -> list[tuple[str, str]]:
        with self._lock:
            taken, self._uploads = self._uploads, []
        return taken


class _AbortHeld(Exception):
    """A transfer's abort, held for S3Storage._upload (_HeldAborts)."""


def _wait_for_server_side_work(read: float, context: dict[str, Any], **_: Any) -> None:
    """before-call hook of the _SERVER_SIDE operations: their read timeout (`read`)."""
    context["read_timeout"] = read


def _add_content_md5(request: Any, **_: Any) -> None:
    """DeleteObjects needs Content-MD5 on S3-compatible stores that ignore CRC32 headers."""
    body = request.body if isinstance(request.body, bytes) else b""
    if "Content-MD5" not in request.headers:
        digest = hashlib.md5(body, usedforsecurity=False).digest()
        request.headers["Content-MD5"] = base64.b64encode(digest).decode("ascii")


def bucket_missing(bucket: str, endpoint: str) -> StorageUnavailable:
    """A bucket that does not exist (deleted, or misnamed in the settings): a fault of the
    set-up for its administrator, never a missing file (404) for the user."""
    return StorageUnavailable(
        f"Bucket {bucket!r} does not exist at {endpoint}", reason="bucket_missing"
    )


def explain(exc: Exception, what: str, bucket: str, endpoint: str) -> MediaDeskError:
    """A core error (NotFound or StorageUnavailable) with the exact cause of a boto3 failure."""
    if isinstance(exc, boto3.exceptions.S3UploadFailedError) and isinstance(
        exc.__context__, bx.ClientError
    ):
        # boto3's managed transfer (upload_file/fileobj) words the store's answer in its own
        # error, the answer only its context: an upload to a missing bucket had no reason
        return explain(exc.__context__, what, bucket, endpoint)
    if isinstance(exc, boto3.exceptions.RetriesExceededError | TransferRetriesExceeded):
        # a managed download's body reads (s3transfer retries them on its own): the failure
        # is the last one, which said "Max Retries Exceeded", no reason, read as no outage
        last = getattr(exc, "last_exception", None)
        if isinstance(last, _TRANSLATED):
            return explain(last, what, bucket, endpoint)
        return StorageUnavailable(
            f"{what}: {endpoint} stopped sending the object ({last!r})",
            reason="endpoint_unreachable",
        )
    if isinstance(exc, bx.ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code == "NoSuchUpload":  # a client error: the bucket is there, the upload is not
            return NoSuchMultipartUpload(f"{what}: the bucket has no such multipart upload")
        if code in _MISSING or status == 404:
            if code == "NoSuchBucket":
                return bucket_missing(bucket, endpoint)
            return object_missing(f"{what}: no such object")
        if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "403", "AccessDenied"):
            # Machine-readable: the settings dialog says which of the two to fix.
            reason = "no_permission" if code == "AccessDenied" else "bad_credentials"
            if code == "403":  # a HEAD has no body to tell them apart
                reason = "access_denied"
            return StorageUnavailable(
                f"{what}: access denied by {endpoint} ({code}); check the access key ID, the "
                f"secret access key and their permissions on bucket {bucket!r}",
                reason=reason,
            )
        if code in ("400", "301", "PermanentRedirect", "AuthorizationHeaderMalformed"):
            return StorageUnavailable(
                f"{what}: {endpoint} refused the request ({code}); check the endpoint URL, the "
                "region and the access key ID",
                reason="endpoint_refused",
            )
        if code == "InvalidRange" or status == 416:
            return InvalidInput(f"{what}: range not satisfiable")
        message = error.get("Message") or code or str(status)
        if _throttled(status, code):
            return StorageUnavailable(
                f"{what}: {endpoint} asks for fewer requests ({status} {message})",
                reason="storage_throttled",
                retry_after=_store_retry_after(exc.response),
            )
        if isinstance(status, int) and 500 <= status < 600:
            return StorageUnavailable(
                f"{what}: {endpoint} failed ({status} {message})",
                reason="storage_server_error",
                retry_after=_store_retry_after(exc.response),
            )
        return StorageUnavailable(f"{what}: {endpoint} answered {status} {message}")
    if isinstance(exc, bx.ConnectionError):  # refused, DNS, TLS, proxy, connect timeout
        return StorageUnavailable(
            f"{what}: cannot reach {endpoint} ({exc})", reason="endpoint_unreachable"
        )
    if isinstance(exc, bx.ReadTimeoutError):  # connected, but the store keeps silent
        return StorageUnavailable(
            f"{what}: {endpoint} did not answer in time ({exc})", reason="endpoint_unreachable"
        )
    if isinstance(exc, bx.ConnectionClosedError):
        # Sent, then no answer: reset, or a body the silent store stopped taking (urllib3
        # sends under the connect timeout). Unreachable like a timeout, and as a timeout the
        # store may have done the work (core/ingest.py keeps a maybe-stored upload noted).
        return StorageUnavailable(
            f"{what}: {endpoint} closed the connection without answering ({exc})",
            reason="endpoint_unreachable",
        )
    if isinstance(exc, bx.NoCredentialsError | bx.PartialCredentialsError):
        return StorageUnavailable(f"{what}: no S3 credentials are configured")
    return StorageUnavailable(f"{what}: {exc}")


_TRANSLATED = (
    bx.ClientError,
    bx.BotoCoreError,
    boto3.exceptions.Boto3Error,
    TransferRetriesExceeded,
)


def _unreachable(error: MediaDeskError) -> bool:
    return isinstance(error, StorageUnavailable) and error.reason == "endpoint_unreachable"


def _out(error: MediaDeskError) -> bool:
    """The store cannot serve now, and will again by itself (STORE_OUT_REASONS)."""
    return isinstance(error, StorageUnavailable) and error.reason in STORE_OUT_REASONS


def _silent(exc: BaseException) -> bool:
    """Whether a failure is the store's silence outlasting a timeout (to connect, to answer,
    to take a body), which costs each caller the whole timeout; a refused or reset connection
    costs milliseconds. Whatever botocore or s3transfer wrap it in, a socket timeout is there."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, (*_TIMED_OUT, TimeoutError)):
            return True
        seen.add(id(cause))
        # s3transfer's RetriesExceededError holds its last failure only as an attribute
        cause = getattr(cause, "last_exception", None) or cause.__cause__ or cause.__context__
    return False


class _Outage(Outage):
    """What one S3Storage knows of its store being out of reach, shared by its threads.

    Once a request found the store unreachable (refused, reset, silent past the timeouts), one
    request at a time goes on asking it — the probe — and the others fail at once with the
    same error instead of each waiting out its own timeouts: on a hung store that wait holds a
    server worker thread 10 s per request, and a few players retrying their ranges held every
    worker, so listings and edits that need no store waited minutes. Any answer from the store
    (an error it sent included) ends the outage, and so does a probe still going after
    `patience` seconds: a silent store fails it sooner (the timeouts), so it is moving bytes (a
    long part on a slow link) and must not keep everything else failing meanwhile. A recovered
    store serves the very next request once a probe may start.

    A store that was silent (a timeout, not a refusal) is not asked at all for a while
    (core/outage.py QuietWindow, growing with each probe that meets silence again): otherwise
    each request that came after the probe ended became the next probe, and one after another
    a page of thumbnails, a user clicking through files or a desktop worker waited 10 s each.
    A refusing store answers in milliseconds, so its next request probes at once, as before.

    A store that answers it is throttling (503 SlowDown, 429) is not asked either, for as long
    as it asked (its Retry-After, at most the longest window) or for the window a silence
    opens: R2 under load answered every request of every caller at once, each one adding to
    the load. A store failing inside (500 InternalError and other 5xx) answered, so it is
    asked again by the next request, as a refusing one.
    """


# One boto3 session for every store and thread of the process: a new Session parses botocore's
# S3 model and endpoint rules again (0.1-0.5 s of CPU, seconds under load, holding the GIL the
# server needs), and a process makes stores often (each library opened, each store probed or
# migrated to); from a warm session a client takes milliseconds. Nothing of a store is kept in
# it: each client gets its endpoint, region, keys and config. Sessions are not thread-safe,
# hence the lock around client creation.
_SESSION_LOCK = threading.Lock()
_SESSION: boto3.session.Session | None = None


def _session() -> boto3.session.Session:
    """The process's session (under _SESSION_LOCK)."""
    global _SESSION
    if _SESSION is None:
        _SESSION = boto3.session.Session()
    return _SESSION


class S3Storage:
    """Objects in one S3-compatible bucket (Cloudflare R2 in production, moto in tests)."""

    name = "s3"
    # Keeps, durably, the abort of a failed upload's multipart upload that the store cannot be
    # asked for now (`key`, `upload_id`): the library's deferred deletions (core/deferred.py
    # keep_abort). Without one, maintenance's stale-upload sweep aborts it after a day.
    abort_later: Callable[[str, str], None] | None = None

    def __init__(
        self,
        bucket: str,
        endpoint_url: str,
        access_key_id: str,
        secret_access_key: str,
        region: str = "auto",
        multipart_threshold: int = 16 * MiB,
        multipart_chunk_size: int = 8 * MiB,
        public_domain: str = "",
        copy_threshold: int = COPY_LIMIT,
        copy_part_size: int = COPY_PART_SIZE,
        timeouts: Timeouts | None = None,
    ) -> None:
        self.bucket = bucket
        self.copy_threshold = copy_threshold  # above this, copy() copies in parts
        self.copy_part_size = copy_part_size
        self.endpoint_url = endpoint_url
        self.region = region
        self.public_domain = public_domain.rstrip("/")
        self._credentials = (access_key_id, secret_access_key)
        # REQUESTS and the windows are read here, not bound at import: a test sets short ones
        self.timeouts = timeouts = timeouts or REQUESTS
        self._local = threading.local()
        self._sent = _Sent()
        # longer than a silent store lets any request live (a stalled body, then the answer)
        self._outage = _Outage(
            patience=timeouts.connect + timeouts.read,
            window=HANG_WINDOW,
            longest_window=LONGEST_HANG_WINDOW,
        )
        self.transfer_config = TransferConfig(
            multipart_threshold=multipart_threshold,
            multipart_chunksize=multipart_chunk_size,
            max_concurrency=4,
            preferred_transfer_client="classic",
            # s3transfer's own tries of a download's GET and body, on top of the client's
            # retries: one, as a timeout is never tried again (Timeouts). With two, a hung store
            # held a confirm's download for another read timeout (30 s in all was seen)
            num_download_attempts=1,
        )

    # --- clients ------------------------------------------------------------------------------
    def _make_client(self, timeouts: Timeouts) -> Any:
        config = Config(
            signature_version="s3v4",
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            max_pool_connections=32,
            retries={"mode": "standard", "total_max_attempts": timeouts.attempts},
            connect_timeout=timeouts.connect,
            read_timeout=timeouts.read,
            s3={"addressing_style": "path"},
        )
        with _SESSION_LOCK:
            client = _session().client(
                "s3",
                endpoint_url=self.endpoint_url,
                region_name=self.region,
                aws_access_key_id=self._credentials[0],
                aws_secret_access_key=self._credentials[1],
                config=config,
            )
        time_answers_after_sending(client)
        client.meta.events.register("before-sign.s3.DeleteObjects", _add_content_md5)
        client.meta.events.register_first(
            "needs-retry.s3", functools.partial(_after_try, self._sent)
        )
        longer = functools.partial(_wait_for_server_side_work, max(SERVER_SIDE_READ, timeouts.read))
        for operation in _SERVER_SIDE:
            client.meta.events.register(f"before-call.s3.{operation}", longer)
        return client

    @property
    def client(self) -> Any:
        """This thread's boto3 client (clients are created lazily, one per thread), with the
        `timeouts` of requests."""
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._make_client(self.timeouts)
            held = self._local.held = _HeldAborts()
            client.meta.events.register_first(
                "before-parameter-build.s3.AbortMultipartUpload", held.hold
            )
            self._local.client = client
        return client

    @contextlib.contextmanager
    def _translated(self, what: str) -> Iterator[None]:
        """Translates boto3's failures of work done here (signing), which says nothing of
        the store."""
        try:
            yield
        except _TRANSLATED as exc:
            raise explain(exc, what, self.bucket, self.endpoint_url) from exc

    @contextlib.contextmanager
    def _errors(self, what: str, gated: bool = True) -> Iterator[None]:
        """Translates boto3's failures, and keeps the store's outage state (`_Outage`):
        `gated` calls fail at once while the store is known out of reach and another call is
        probing it; an ungated one (reading the rest of a body already being sent) only tells."""
        try:
            probe = self._outage.admit() if gated else False
        except NotNow as wait:
            if wait.cause == "storage_throttled":
                raise StorageNotAsked(
                    f"{what}: {self.endpoint_url} asked for fewer requests a moment ago; not asked",
                    retry_after=wait.seconds,
                    reason=wait.cause,
                ) from None
            raise StorageNotAsked(
                f"{what}: {self.endpoint_url} was out of reach a moment ago and has not "
                "answered since; not asked",
                retry_after=wait.seconds,
            ) from None
        tries = self._sent.count
        try:
            yield
        except _TRANSLATED as exc:
            error = explain(exc, what, self.bucket, self.endpoint_url)
            never = _never_sent(exc) and self._sent.count == tries
            if never and isinstance(error, StorageUnavailable):
                # nothing of the call reached the store: a hard delete undoes its trash
                error.sent = False
            if isinstance(error, StorageUnavailable) and error.reason == "storage_throttled":
                self._outage.held(probe, error.retry_after, cause=error.reason)
            else:
                reached = not _unreachable(error)
                silent = not reached and _silent(exc)
                self._outage.ended(probe, reached, silent=silent, cause=error.reason)
            if isinstance(error, StorageUnavailable) and _out(error):
                self._tell_when(error)
            raise error from exc
        except BaseException:
            self._outage.ended(probe, None)
            raise
        self._outage.ended(probe, True)

    def _tell_when(self, error: StorageUnavailable) -> None:
        """Sets when the store may be asked again on a failure of a store out of reach,
        throttling or failing (STORE_OUT_REASONS): the quiet window it opened or its own
        Retry-After, else ASK_AGAIN (the next call asks at once: core.outage
        Outage.retry_after, the one rule of the catalog's answers too). The call that met a hang
        first said none (the ones refused after it said the window's), nor did one refused
        a connection, and a client had no way to tell how long to wait."""
        error.retry_after = self._outage.retry_after(error.retry_after)

    def public_url(self, key: str) -> str | None:
        if not self.public_domain:
            return None
        return public_object_url(self.public_domain, normalise_key(key))

    # --- writing ------------------------------------------------------------------------------
    def put_stream(
        self,
        key: str,
        stream: BinaryIO,
        content_type: str,
        progress: ProgressCallback | None = None,
    ) -> ObjectStat:
        key = normalise_key(key)
        return self._upload("upload_fileobj", stream, key, content_type, progress)

    def put_file(
        self, key: str, path: Path, content_type: str, progress: ProgressCallback | None = None
    ) -> ObjectStat:
        key = normalise_key(key)
        if not Path(path).is_file():
            raise NotFound(f"File {path} does not exist")
        return self._upload("upload_file", str(path), key, content_type, progress)

    def _upload(
        self,
        method: str,
        source: object,
        key: str,
        content_type: str,
        progress: ProgressCallback | None,
    ) -> ObjectStat:
        """boto3's managed transfer (`method` upload_file or upload_fileobj): in parts above
        its threshold, with the caller's content type and progress callback. A failed one's
        multipart upload is aborted here, after the failure told the outage (_abort_or_keep),
        not by s3transfer (_HeldAborts)."""
        client = self.client
        held: _HeldAborts = self._local.held
        try:
            with self._errors(f"Uploading {key!r}"), held.holding():
                getattr(client, method)(
                    source,
                    self.bucket,
                    key,
                    ExtraArgs={"ContentType": content_type},
                    Callback=progress,
                    Config=self.transfer_config,
                )
        finally:
            for at, upload_id in held.take():  # only after a failure
                self._abort_or_keep(at, upload_id)
        return self.stat(key)

    def _abort_or_keep(self, key: str, upload_id: str) -> None:
        """Aborts the multipart upload of a failed write, or, when the store cannot be asked
        now, has it aborted later (`abort_later`). Asked like any request (`_errors`): a store
        just found silent is not asked during its quiet window, so the failure is answered
        within the write's own timeouts; a refusing one is asked (milliseconds). Never raises:
        the write's own error is the answer."""
        try:
            self.abort_multipart(key, upload_id)
        except MediaDeskError as exc:
            if self.abort_later is None:
                logger.warning(
                    "The multipart upload of %s is left to the stale-upload sweep: %s",
                    key,
                    exc.message,
                )
                return
            self.abort_later(key, upload_id)
            logger.info("The multipart upload of %s is aborted once %s answers", key, self.bucket)

    def put_bytes(self, key: str, data: bytes, content_type: str) -> ObjectStat:
        key = normalise_key(key)
        with self._errors(f"Uploading {key!r}"):
            self.client.put_object(
                Bucket=self.bucket, Key=key, Body=io.BytesIO(data), ContentType=content_type
            )
        return self.stat(key)

    # --- reading ------------------------------------------------------------------------------
    def stat(self, key: str) -> ObjectStat:
        key = normalise_key(key)
        try:
            with self._errors(f"Reading {key!r}"):
                head = self.client.head_object(Bucket=self.bucket, Key=key)
        except NotFound:
            # a HEAD's 404 has no body to say whether the object or the bucket is missing
            if self._bucket_is_missing():
                raise bucket_missing(self.bucket, self.endpoint_url) from None
            raise
        size, etag, modified = head.get("ContentLength"), head.get("ETag"), head.get("LastModified")
        if size is None or etag is None or modified is None:
            # HTTP lets a HEAD's answer leave them out (RFC 9110 9.3.2), and a proxy or gateway
            # in front of an S3-compatible store does: the first byte's GET says them, its
            # Content-Range holding the size. Read as a KeyError, confirm answered 500
            # internal_error for every upload.
            with self._errors(f"Reading {key!r}"):
                first = self.client.get_object(Bucket=self.bucket, Key=key, Range="bytes=0-0")
            first["Body"].close()
            size = size if size is not None else _whole_size(first)
            etag = etag if etag is not None else first.get("ETag", "")
            modified = modified or first.get("LastModified") or datetime.now(UTC)
            if size is None:
                raise StorageUnavailable(
                    f"The storage's answer for {key!r} does not say its size",
                    reason="storage_server_error",
                )
        return ObjectStat(key, size, etag, modified, head.get("ContentType"))

    def _bucket_is_missing(self) -> bool:
        """HeadBucket answers 404. Any other failure (a key limited to objects may be refused
        it) says nothing against the bucket: the object's 404 stands."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except bx.ClientError as exc:
            return exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404
        except _TRANSLATED:
            return False
        return False

    def exists(self, key: str) -> bool:
        try:
            self.stat(key)
        except NotFound:
            return False
        return True

    def open_range(
        self, key: str, start: int = 0, end: int | None = None, chunk_size: int = 256 * 1024
    ) -> Iterator[bytes]:
        """Sends the GET at once (errors raise here); the iterator then streams the body."""
        if start < 0 or (end is not None and end < start) or chunk_size <= 0:
            raise InvalidInput(f"Invalid byte range {start}-{end}")
        key = normalise_key(key)
        args: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if start or end is not None:
            args["Range"] = f"bytes={start}-{'' if end is None else end}"
        with self._errors(f"Reading {key!r}"):
            answer = self.client.get_object(**args)
        body = answer["Body"]
        return ObjectBody(self._stream(key, body, chunk_size), body.close, _whole_size(answer))

    def _stream(self, key: str, body: Any, chunk_size: int) -> Generator[bytes, None, None]:
        try:
            with self._errors(f"Reading {key!r}", gated=False):
                yield from body.iter_chunks(chunk_size)
        finally:
            body.close()

    def download_to(self, key: str, path: Path, progress: ProgressCallback | None = None) -> None:
        key = normalise_key(key)
        target = Path(path)
        if len(target.name.encode()) + _BOTO_TEMP_BYTES <= NAME_BYTES:
            with self._errors(f"Downloading {key!r}"):
                self.client.download_file(
                    self.bucket, key, str(target), Callback=progress, Config=self.transfer_config
                )
            return
        # boto3's own temporary name would pass the file system's limit (ENAMETOOLONG before
        # a byte): a short one first, renamed once whole
        short = target.with_name(
            temp_name(target.name, f".{uuid.uuid4().hex}.part", NAME_BYTES - _BOTO_TEMP_BYTES)
        )
        try:
            with self._errors(f"Downloading {key!r}"):
                self.client.download_file(
                    self.bucket, key, str(short), Callback=progress, Config=self.transfer_config
                )
            try:
                os.replace(short, target)
            except OSError as exc:
                raise storage_error(exc, f"Cannot copy {key!r} to {target}") from exc
        finally:
            with contextlib.suppress(OSError):  # the error above is the one to report
                short.unlink(missing_ok=True)

    def list_keys(self, prefix: str = "") -> Iterator[ObjectStat]:
        prefix = normalise_prefix(prefix)
        pages = iter(
            self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        )
        while True:
            # one page at a time: what the caller does between pages (other requests to the
            # store) is no part of the listing's probe (_Outage)
            with self._errors(f"Listing {prefix!r}"):
                page = next(pages, None)
            if page is None:
                return
            for item in page.get("Contents", []):
                yield ObjectStat(item["Key"], item["Size"], item["ETag"], item["LastModified"])

    def local_path(self, key: str) -> Path | None:
        return None

    # --- changing -----------------------------------------------------------------------------
    def delete(self, key: str) -> None:
        key = normalise_key(key)
        with self._errors(f"Deleting {key!r}"):
            self.client.delete_object(Bucket=self.bucket, Key=key)

    def delete_prefix(self, prefix: str) -> int:
        if not normalise_prefix(prefix):
            raise InvalidInput("Refusing to delete every object: the prefix is empty")
        keys = [item.key for item in self.list_keys(prefix)]
        self._delete_keys(keys, prefix)
        return len(keys)

    def delete_many(self, keys: Sequence[str]) -> None:
        self._delete_keys([normalise_key(k) for k in keys], f"{len(keys)} objects")

    def _delete_keys(self, keys: list[str], what: str) -> None:
        for i in range(0, len(keys), 1000):
            batch = [{"Key": k} for k in keys[i : i + 1000]]
            with self._errors(f"Deleting {what!r}"):
                answer = self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
                )
            if answer.get("Errors"):
                first = answer["Errors"][0]
                raise StorageUnavailable(
                    f"Deleting {what!r}: {len(answer['Errors'])} objects not deleted "
                    f"({first.get('Key')}: {first.get('Code')} {first.get('Message')})"
                )

    def copy(self, src: str, dst: str, *, content_type: str | None = None) -> ObjectStat:
        src, dst = normalise_key(src), normalise_key(dst)
        if src == dst:
            return self.stat(dst)
        size = self.stat(src).size
        if size > self.copy_threshold:
            self._copy_in_parts(src, dst, size, content_type)
            return self.stat(dst)
        # REPLACE drops the source's metadata: this store writes none but the type (put_*,
        # create_multipart), so the type named is all there is to keep
        meta: dict[str, str] = (
            {"MetadataDirective": "COPY"}
            if content_type is None
            else {"MetadataDirective": "REPLACE", "ContentType": content_type}
        )
        with self._errors(f"Copying {src!r} to {dst!r}"):
            self.client.copy_object(
                Bucket=self.bucket,
                Key=dst,
                CopySource={"Bucket": self.bucket, "Key": src},
                **meta,
            )
        return self.stat(dst)

    def _copy_in_parts(self, src: str, dst: str, size: int, content_type: str | None) -> None:
        """A server-side copy too big for one CopyObject: UploadPartCopy of equal ranges."""
        with self._errors(f"Reading {src!r}"):
            head = self.client.head_object(Bucket=self.bucket, Key=src)
        part_size = max(self.copy_part_size, -(-size // _MAX_PARTS))
        upload_id = self.create_multipart(dst, content_type or head.get("ContentType") or "")
        parts = []
        try:
            for number, start in enumerate(range(0, size, part_size), start=1):
                end = min(start + part_size, size) - 1
                with self._errors(f"Copying part {number} of {src!r} to {dst!r}"):
                    answer = self.client.upload_part_copy(
                        Bucket=self.bucket,
                        Key=dst,
                        UploadId=upload_id,
                        PartNumber=number,
                        CopySource={"Bucket": self.bucket, "Key": src},
                        CopySourceRange=f"bytes={start}-{end}",
                    )
                parts.append(
                    PartInfo(number, end - start + 1, str(answer["CopyPartResult"]["ETag"]))
                )
            self.complete_multipart(dst, upload_id, parts)
        except BaseException:
            self._abort_or_keep(dst, upload_id)
            raise

    def move(self, src: str, dst: str, *, content_type: str | None = None) -> ObjectStat:
        result = self.copy(src, dst, content_type=content_type)
        if normalise_key(src) != result.key:
            self.delete(src)
        return result

    # --- multipart (resumable uploads, core/resumable.py) ------------------------------------
    def create_multipart(self, key: str, content_type: str) -> str:
        key = normalise_key(key)
        with self._errors(f"Starting a multipart upload of {key!r}"):
            answer = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=key, ContentType=content_type
            )
        return str(answer["UploadId"])

    def upload_part(
        self, key: str, upload_id: str, part_number: int, stream: BinaryIO, size: int
    ) -> str:
        key = normalise_key(key)
        # a body that counts what reached the store's side (core/resumable.py's _PartBody)
        held = getattr(stream, "held", None)
        following = reporting(held) if callable(held) else contextlib.nullcontext()
        with self._errors(f"Uploading part {part_number} of {key!r}"), following:
            answer = self.client.upload_part(
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
                PartNumber=part_number,
                Body=stream,
                ContentLength=size,
            )
        return str(answer["ETag"])

    def list_parts(self, key: str, upload_id: str) -> list[PartInfo]:
        key = normalise_key(key)
        parts: list[PartInfo] = []
        pages = self.client.get_paginator("list_parts")
        # NoSuchUpload (aborted outside MediaDesk) raises NoSuchMultipartUpload (explain()).
        with self._errors(f"Listing the parts of {key!r}"):
            for page in pages.paginate(Bucket=self.bucket, Key=key, UploadId=upload_id):
                parts.extend(
                    PartInfo(int(p["PartNumber"]), int(p["Size"]), str(p["ETag"]))
                    for p in page.get("Parts", [])
                )
        return sorted(parts, key=lambda p: p.part_number)

    def complete_multipart(self, key: str, upload_id: str, parts: list[PartInfo]) -> ObjectStat:
        key = normalise_key(key)
        body = {"Parts": [{"PartNumber": p.part_number, "ETag": p.etag} for p in parts]}
        with self._errors(f"Completing the multipart upload of {key!r}"):
            self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload=body
            )
        return self.stat(key)

    def abort_multipart(self, key: str, upload_id: str) -> None:
        """One already gone (completed, or aborted elsewhere) is aborted."""
        key = normalise_key(key)
        what = f"Aborting the upload of {key!r}"
        with contextlib.suppress(NoSuchMultipartUpload), self._errors(what):
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)

    # --- health -------------------------------------------------------------------------------
    def check(self) -> None:
        """One request to the bucket with PROBE timeouts and no retry, so a bad setting or a
        silent store is reported within seconds (/health, doctor, the settings dialog).

        Failures carry a `reason`: endpoint_unreachable, endpoint_refused, bad_credentials,
        no_permission, bucket_missing.
        """
        try:
            # A listing, not a HEAD: its error body names the cause (NoSuchBucket,
            # InvalidAccessKeyId, SignatureDoesNotMatch, AccessDenied), a HEAD's cannot.
            with self._errors(f"Checking bucket {self.bucket!r}"):
                self._make_client(PROBE).list_objects_v2(Bucket=self.bucket, MaxKeys=1)
        except NotFound:
            raise bucket_missing(self.bucket, self.endpoint_url) from None

    def abort_stale_multipart(self, older_than_seconds: int, keep: Collection[str] = ()) -> int:
        """Aborts the unfinished multipart uploads older than `older_than_seconds` under the
        folders MediaDesk writes (OWN_PREFIXES), but those in `keep`. Only there: a bucket
        shared with other applications holds their uploads too (a backup tool's, a day long),
        and aborting those threw their parts away."""
        cutoff = datetime.now(UTC) - timedelta(seconds=older_than_seconds)
        aborted = 0
        pages = self.client.get_paginator("list_multipart_uploads")
        with self._errors("Cleaning unfinished uploads"):
            for prefix in OWN_PREFIXES:
                aborted += self._abort_under(pages, prefix, cutoff, keep)
        if aborted:
            logger.info("Aborted %d stale multipart uploads in %s", aborted, self.bucket)
        return aborted

    def _abort_under(self, pages: Any, prefix: str, cutoff: datetime, keep: Collection[str]) -> int:
        aborted = 0
        for page in pages.paginate(Bucket=self.bucket, Prefix=prefix):
            for upload in page.get("Uploads", []):
                # a store that does not apply Prefix lists every upload: checked here too
                if not upload["Key"].startswith(prefix):
                    continue
                if upload["Initiated"] > cutoff or upload["UploadId"] in keep:
                    continue
                try:
                    self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                    )
                except bx.ClientError as exc:  # finished or aborted meanwhile
                    if exc.response.get("Error", {}).get("Code") != "NoSuchUpload":
                        raise
                    continue
                aborted += 1
        return aborted


class S3Presigner:
    """Presigned PUT / GET URLs for an S3Storage bucket (no checksum parameters, for R2)."""

    def __init__(self, storage: S3Storage) -> None:
        self.storage = storage

    def _sign(self, method: str, params: dict[str, Any], expires_in: int) -> str:
        s = self.storage
        with s._translated(f"Signing {params['Key']!r}"):
            url: str = s.client.generate_presigned_url(
                method, Params={"Bucket": s.bucket, **params}, ExpiresIn=expires_in
            )
        return url

    def presign_put(
        self,
        key: str,
        content_type: str,
        expires_in: int,
        content_length: int | None = None,
        max_size: int | None = None,
    ) -> PresignedRequest:
        """max_size cannot be enforced by S3: callers must require content_length within it.
        An empty `content_type` signs none: the bucket checks a signed Content-Type byte for
        byte, and a browser sends its own spelling of the type (file.type: video/avi for
        .avi on Windows), so one the client never named would refuse its PUT
        (SignatureDoesNotMatch). The confirm sniffs the bytes either way."""
        expires_in = check_expires_in(expires_in)
        params: dict[str, Any] = {"Key": normalise_key(key)}
        headers: dict[str, str] = {}
        if content_type:
            params["ContentType"] = content_type
            headers["Content-Type"] = content_type
        if content_length is not None:
            params["ContentLength"] = content_length
            headers["Content-Length"] = str(content_length)
        url = self._sign("put_object", params, expires_in)
        expires_at = datetime.now(UTC) + timedelta(seconds=expires_in)
        return PresignedRequest(url, "PUT", headers, expires_in, expires_at)

    def presign_part(
        self, key: str, upload_id: str, part_number: int, expires_in: int
    ) -> PresignedRequest:
        expires_in = check_expires_in(expires_in)
        params = {"Key": normalise_key(key), "UploadId": upload_id, "PartNumber": part_number}
        url = self._sign("upload_part", params, expires_in)
        expires_at = datetime.now(UTC) + timedelta(seconds=expires_in)
        return PresignedRequest(url, "PUT", {}, expires_in, expires_at)

    def presign_get(
        self,
        key: str,
        expires_in: int,
        download_name: str | None = None,
        content_type: str | None = None,
        file_id: int | None = None,  # a bucket's URL cannot name a file: the server's link does
        by_publicity: bool = False,  # nor be taken back: Library.presigned_get keeps it short
    ) -> PresignedRequest:
        expires_in = check_expires_in(expires_in)
        params: dict[str, Any] = {"Key": normalise_key(key)}
        if download_name:
            params["ResponseContentDisposition"] = content_disposition(download_name)
        if content_type:
            params["ResponseContentType"] = content_type
        url = self._sign("get_object", params, expires_in)
        expires_at = datetime.now(UTC) + timedelta(seconds=expires_in)
        return PresignedRequest(url, "GET", {}, expires_in, expires_at)


# ---- links players follow straight to the bucket (HLS segments) ------------------------------
@dataclass(frozen=True)
class BucketLinks:
    """Direct URLs of objects in a bucket, in the order asked."""

    urls: tuple[str, ...]
    signed: bool  # presigned URLs expire: a playlist holding them must not be cached


class ObjectBody(Iterator[bytes]):
    """A GET's body in chunks, and the size of the whole object the store answered with it
    (`object_size`; None when it did not say): a range GET is bounded, so only this tells an
    object longer than the bytes asked for (core.library compares it with the catalog's)."""

    def __init__(
        self,
        chunks: Generator[bytes, None, None],
        close_body: Callable[[], None],
        object_size: int | None,
    ) -> None:
        self._chunks = chunks
        self._close_body = close_body
        self.object_size = object_size

    def __next__(self) -> bytes:
        return next(self._chunks)

    def close(self) -> None:
        self._chunks.close()
        # a generator closed before its first chunk never runs its own finally
        self._close_body()


def _whole_size(answer: dict[str, Any]) -> int | None:
    """The object's size from a GetObject answer: a range's Content-Range total
    ("bytes 0-99/1500"), else the length of the whole body."""
    content_range = answer.get("ContentRange")
    if content_range:
        total = str(content_range).rpartition("/")[2].strip()
        return int(total) if total.isdigit() else None
    length = answer.get("ContentLength")
    return length if isinstance(length, int) else None


def bucket_links(
    storage: Any, keys: Sequence[str], public: bool, expires_in: int, until: int | None = None
) -> BucketLinks | None:
    """Where a player fetches these objects straight from the S3/R2 bucket holding them, so
    their bytes never pass through MediaDesk: the public domain's URL for a public file when
    one is set, else presigned GETs living `expires_in` seconds (signed afresh at each call),
    or ending by the epoch second `until` when given.

    None when they are not in a bucket (the local backend: the server sends them itself). The
    holder is found from keys[0]: the objects of one listing are written together.
    """
    if not keys:
        return None
    bucket = _bucket_holding(storage, keys[0])
    if bucket is None:
        return None
    if public and bucket.public_domain:
        return BucketLinks(tuple(str(bucket.public_url(k)) for k in keys), signed=False)
    presigner = S3Presigner(bucket)
    bucket.client  # noqa: B018 -- made now (a thread's first takes a while), not between clocks

    def lifetime() -> int:
        if until is None:
            return expires_in
        # per URL and a second ahead: botocore dates each signature by its own clock, read a
        # moment after ours (and a long playlist takes a while), so a second ticking over in
        # between would let a URL outlive the grant by one
        return grant_lifetime(until, time.time() + 1)

    urls = tuple(presigner.presign_get(k, lifetime()).url for k in keys)
    return BucketLinks(urls, signed=True)


def _bucket_holding(storage: Any, key: str) -> S3Storage | None:
    if isinstance(storage, S3Storage):
        return storage
    names = getattr(storage, "backend_names", None)  # a RoutingStorage: find the holder
    if names is None:
        return None
    backends = [storage.backend(n) for n in names()]
    # a local copy answers without a network call (and is served by this server)
    if any(not isinstance(b, S3Storage) and b.exists(key) for b in backends):
        return None
    return next((b for b in backends if isinstance(b, S3Storage) and b.exists(key)), None)
