"""HMAC-signed URLs for the local backend, issued here and verified by the embedded server."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import os
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from core.ascii import secret_bytes, whole_number
from core.errors import InvalidInput, InvalidSignature, SignatureExpired
from core.keys import normalise_key, url_path
from core.secrets import check_private, ensure_secrets_dir
from core.settings import MAX_EXPIRY, MIN_EXPIRY
from core.storage.base import PresignedRequest

logger = logging.getLogger(__name__)

SECRET_BYTES = 32
SIGNED_PATH = "/signed/"
_VERSION = "mediadesk-signed-url-v1"
# The `pub=1` of a download link handed to a caller without a token: it saw the file only
# because the file was public, so the link opens the file only while it still is. Signed as a
# field of its own after the file id (which such a link always names), so it cannot be dropped
# to turn the link into a token holder's, and no older link's fields can read as it.
BY_PUBLICITY = "granted-by-publicity"
# How long a bucket's presigned GET handed to a caller without a token may live. Nothing can
# take such a URL back (README), so this is how long it outlives the file being made private:
# the five minutes in which such a file leaves browser and CDN caches (server/caching.py).
PUBLICITY_BUCKET_EXPIRY = 300


@dataclass(frozen=True)
class SignedGrant:
    """What a verified signed URL allows."""

    method: str
    key: str
    expires: int
    content_type: str | None
    content_length: int | None
    max_size: int | None
    download_name: str | None
    # The file a download was signed for: files with the same bytes share one object (and
    # key), so the key alone cannot say whether the file it was handed out for is still live.
    # None on uploads and on links signed before links named their file.
    file_id: int | None = None
    # Handed to a caller without a token (BY_PUBLICITY): opens the file only while it is public.
    # False on links signed before the mark existed, which keep their old reach.
    by_publicity: bool = False


def check_expires_in(expires_in: int) -> int:
    """Presigned URLs live 1 s to 7 days (R2's limits, applied to both backends)."""
    if isinstance(expires_in, bool) or not isinstance(expires_in, int):
        raise InvalidInput("expires_in must be a whole number of seconds")
    if not MIN_EXPIRY <= expires_in <= MAX_EXPIRY:
        raise InvalidInput(f"expires_in must be between {MIN_EXPIRY} and {MAX_EXPIRY} seconds")
    return expires_in


def _check_text(name: str, value: str) -> str:
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise InvalidInput(f"{name} must not contain control characters")
    return value


def _check_size(name: str, value: int | None) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(f"{name} must be a non-negative number of bytes")
    return str(value)


def _signature(secret: bytes, fields: list[str]) -> str:
    canonical = json.dumps([_VERSION, *fields], ensure_ascii=True, separators=(",", ":"))
    return hmac.new(secret, canonical.encode("ascii"), hashlib.sha256).hexdigest()


class LocalPresigner:
    """Issues `{base_url}/signed/{key}?...&sig=` URLs that `verify_signed_request` accepts."""

    def __init__(
        self, secret: bytes, base_url: str, clock: Callable[[], float] = time.time
    ) -> None:
        if len(secret) < 16:
            raise InvalidInput("The URL signing secret is too short")
        self._secret = secret
        self.base_url = base_url.rstrip("/")
        self._clock = clock

    def _sign(
        self,
        method: str,
        key: str,
        expires_in: int,
        ct: str,
        length: str,
        max_size: str,
        name: str,
        file: str = "",
        pub: str = "",
    ) -> tuple[str, int]:
        key = normalise_key(key)
        expires = int(self._clock()) + check_expires_in(expires_in)
        fields = _fields(method, key, str(expires), ct, length, max_size, name, file, pub)
        query = {"method": method, "expires": str(expires), "ct": ct, "len": length}
        query.update({"max": max_size, "name": name, "sig": _signature(self._secret, fields)})
        if method == "GET":
            del query["len"], query["max"]
            if file:
                query["file"] = file
            if pub:
                query["pub"] = pub
        else:
            del query["name"]
        url = f"{self.base_url}{SIGNED_PATH}{url_path(key)}?{urlencode(query)}"
        return url, expires

    def set_base_url(self, base_url: str) -> None:
        """Where the URLs point from now on (a server bound to port 0 learns its port late)."""
        self.base_url = base_url.rstrip("/")

    def at(self, base_url: str) -> LocalPresigner:
        """The same signer for links to `base_url`, for one answer (its base is not part of the
        signature: a link opens on whichever address reaches this server)."""
        return LocalPresigner(self._secret, base_url, self._clock)

    def verify(
        self, method: str, key: str, query: Mapping[str, str], now: float | None = None
    ) -> SignedGrant:
        """The grant of a URL this presigner signed; InvalidSignature or SignatureExpired."""
        return verify_signed_request(self._secret, method, key, query, now)

    def presign_put(
        self,
        key: str,
        content_type: str,
        expires_in: int,
        content_length: int | None = None,
        max_size: int | None = None,
    ) -> PresignedRequest:
        # an empty one signs none, as a bucket's URL (S3Presigner.presign_put): the PUT may
        # send any Content-Type (a browser's file.type, "" or application/octet-stream), and
        # the confirm sniffs the bytes
        ct = _check_text("content_type", content_type)
        length = _check_size("content_length", content_length)
        url, expires = self._sign(
            "PUT", key, expires_in, ct, length, _check_size("max_size", max_size), ""
        )
        headers = {"Content-Type": ct} if ct else {}
        if length:
            headers["Content-Length"] = length
        return PresignedRequest(
            url, "PUT", headers, expires_in, datetime.fromtimestamp(expires, UTC)
        )

    def presign_get(
        self,
        key: str,
        expires_in: int,
        download_name: str | None = None,
        content_type: str | None = None,
        file_id: int | None = None,
        by_publicity: bool = False,
    ) -> PresignedRequest:
        """`by_publicity`: the link is handed to a caller without a token (SignedGrant)."""
        ct = _check_text("content_type", content_type or "")
        name = _check_text("download_name", download_name or "")
        file = "" if file_id is None else str(int(file_id))
        if by_publicity and not file:
            # only the file it names can say whether it is still public
            raise InvalidInput("A link granted by a file's publicity must name the file")
        pub = "1" if by_publicity else ""
        url, expires = self._sign("GET", key, expires_in, ct, "", "", name, file, pub)
        return PresignedRequest(url, "GET", {}, expires_in, datetime.fromtimestamp(expires, UTC))


def _fields(
    method: str,
    key: str,
    expires: str,
    ct: str,
    length: str,
    max_size: str,
    name: str,
    file: str,
    pub: str = "",
) -> list[str]:
    """What a signature covers. The file id is appended only when the link names one, so links
    signed before it existed keep verifying (and a link naming one cannot drop it); likewise
    the publicity mark after it, whose field (never a number) no file id can be read as."""
    fields = [method, key, expires, ct, length, max_size, name]
    if pub:
        return [*fields, file, f"{BY_PUBLICITY}:{pub}"]
    return [*fields, file] if file else fields


def _optional_int(query: Mapping[str, str], name: str) -> int | None:
    raw = query.get(name, "")
    if raw == "":
        return None
    value = whole_number(raw)
    if value is None:
        raise InvalidSignature(f"Signed URL has an invalid {name!r} value")
    return value


def _matches(expected: str, sig: str) -> bool:
    """Whether `sig` is the signature `expected`, in constant time; a sig with non-ASCII
    characters is simply wrong (compare_digest refuses to compare such text)."""
    presented = secret_bytes(sig)
    return presented is not None and hmac.compare_digest(expected.encode("ascii"), presented)


def verify_signed_request(
    secret: bytes, method: str, key: str, query: Mapping[str, str], now: float | None = None
) -> SignedGrant:
    """The grant of a signed URL; InvalidSignature or SignatureExpired when it does not hold."""
    signed_method, sig, raw_expires = (query.get(n, "") for n in ("method", "sig", "expires"))
    expires = whole_number(raw_expires)
    if not sig or not signed_method or expires is None:
        raise InvalidSignature("The URL is not signed or is missing signature fields")
    try:
        key = normalise_key(key)
    except InvalidInput:
        raise InvalidSignature("The signed URL names an invalid key") from None
    ct, length, max_size, name, file, pub = (
        query.get(n, "") for n in ("ct", "len", "max", "name", "file", "pub")
    )
    fields = _fields(signed_method, key, raw_expires, ct, length, max_size, name, file, pub)
    if not _matches(_signature(secret, fields), sig):
        raise InvalidSignature("The URL signature does not match")
    if signed_method != method.upper():
        raise InvalidSignature(f"The URL is signed for {signed_method}, not {method.upper()}")
    if (time.time() if now is None else now) > expires:
        raise SignatureExpired("The signed URL has expired")
    return SignedGrant(
        method=signed_method,
        key=key,
        expires=expires,
        content_type=ct or None,
        content_length=_optional_int(query, "len"),
        max_size=_optional_int(query, "max"),
        download_name=name or None,
        file_id=_optional_int(query, "file"),
        by_publicity=bool(pub),
    )


def load_or_create_secret(path: Path) -> bytes:
    """The signing secret in `path`; 32 random bytes created atomically with mode 0600."""
    path = Path(path)
    # A secrets/ folder or key file someone else owns or may write is refused, never adopted:
    # a planted key would let its author forge every signed link; one only readable by others
    # (an older version's) is closed to 0600 there (core/secrets.py).
    ensure_secrets_dir(path.parent)
    check_private(path)
    with contextlib.suppress(FileNotFoundError):
        secret = path.read_bytes()
        if len(secret) >= SECRET_BYTES:
            return secret
        logger.warning("Signing secret %s is too short; replacing it", path)
        path.unlink()
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(secrets.token_bytes(SECRET_BYTES))
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(tmp, path)  # fails if another process created it first: use theirs
        except FileExistsError:
            pass
        except OSError:
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    logger.info("Using URL signing secret %s", path)
    return path.read_bytes()


# ---- file grants: one signature for every URL of one file (HLS, renditions, watch page) ----
def sign_file_grant(secret: bytes, file_id: int, expires_in: int, now: float | None = None) -> str:
    """`exp=…&sig=…` letting a header-less player read one private file's media URLs.

    An HLS player resolves every playlist and segment URL relative to the last one, so one
    query that holds for every path of the file travels with each URL the server writes.
    """
    expires = int(time.time() if now is None else now) + check_expires_in(expires_in)
    sig = _signature(secret, ["file-grant", str(int(file_id)), str(expires)])
    return urlencode({"exp": str(expires), "sig": sig})


def grant_lifetime(expires_at: int, now: float | None = None) -> int:
    """Seconds a link signed now may live to end with the grant that expires at `expires_at`.

    Links handed out under a grant (a watch page's media URLs, a playlist's presigned
    segments) end with it: a fresh PRESIGNED_URL_EXPIRY would stop a long video mid-play
    under a link good for days, or outlive a grant about to end. Never above MAX_EXPIRY (the
    S3/R2 presign maximum); at least MIN_EXPIRY, which only a grant in its last second meets.
    """
    left = expires_at - int(time.time() if now is None else now)
    return max(MIN_EXPIRY, min(MAX_EXPIRY, left))


def verify_file_grant(
    secret: bytes, file_id: int, query: Mapping[str, str], now: float | None = None
) -> None:
    """Raises InvalidSignature or SignatureExpired unless the query grants this file."""
    raw, sig = query.get("exp", ""), query.get("sig", "")
    expires = whole_number(raw)
    if expires is None or not sig:
        raise InvalidSignature("The link is not signed or is missing signature fields")
    expected = _signature(secret, ["file-grant", str(int(file_id)), raw])
    if not _matches(expected, sig):
        raise InvalidSignature("The link signature does not match")
    if expires < (time.time() if now is None else now):
        raise SignatureExpired("The link has expired; ask for a new one")
