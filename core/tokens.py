"""API tokens for the HTTP server: created, listed, revoked and verified; only hashes are stored."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import threading
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from core import feed
from core.db import schema_guard
from core.db.engine import Database
from core.db.models import ApiToken, utcnow
from core.errors import CatalogUpgraded, InvalidInput, NotFound
from core.filenames import visible_text
from core.records import from_columns, iso
from core.token_format import PREFIX_CHARS, TOKEN_PREFIX

SCOPES = ("read", "upload", "admin")
"""Ordered: each scope includes the ones before it."""

logger = logging.getLogger(__name__)

# A token's last use is noted at most once a minute, in memory: `verify` is on every
# authenticated request's path, and a write there waited for the catalog's write lock (behind a
# slow import or edit on a slow disk, tens of seconds) before a read could answer. The server
# writes the notes a moment later off that path (record_uses, server/auth.py).
LAST_USED_RESOLUTION = timedelta(minutes=1)

# Seconds a server goes on trusting a token it verified while the catalog cannot be reached:
# monitoring (/metrics, /health) and open clients ride out a short outage (a restart, a
# failover) instead of being refused with it. Revoking a token needs the catalog, so during
# an outage only a revocation made just before it and not yet heard could be missed; the
# bound keeps that window to minutes. A token never verified is refused (catalog_unreachable).
# A file record read within it serves streams for as long (server/record_cache.py), one window
# for both: a stream needs the token and the record, and a trash or a change to private made
# just before the outage and not yet heard is the same few-minute risk as that revocation.
TRUSTED_THROUGH_OUTAGE = 300.0

# pg_advisory_xact_lock key of the first-start token's count and insert (ensure_initial_token):
# the one-key space, beside core/feed.py's and core/leader.py's
FIRST_TOKEN_LOCK = 0x4D444B54
_LOCK_FIRST_TOKEN = text(f"SELECT pg_advisory_xact_lock({FIRST_TOKEN_LOCK})")
_ACTIVE_COUNT = select(func.count(ApiToken.id)).where(ApiToken.revoked_at.is_(None))


# A token a process makes for its own use (the desktop's previews) is named
# "<purpose>@<host>:<pid>:<random>", its maker's feed origin: no field of a token says whose it
# is, and its name is all the catalog keeps. A process killed (kill -9, a power cut) never
# revokes it; whoever starts next with the same purpose does, once the catalog's presence
# (schema_guard.others_alive: a lock that dies with its process, on any machine of a team) no
# longer shows that host:pid. The random part tells this process's own token from one of an
# earlier process that had the same pid.
PROCESS_TOKEN_MARK = "@"
_HOST_PID = re.compile(r"[^\s:]+:\d+")  # as others_alive names a process it can identify


def process_token_name(purpose: str, origin: str) -> str:
    return f"{purpose}{PROCESS_TOKEN_MARK}{origin}"


def process_token_owner(name: str, purpose: str) -> str | None:
    """The origin (host:pid:random) that made a token named by `process_token_name`, else None."""
    head, mark, origin = name.partition(PROCESS_TOKEN_MARK)
    return origin if mark and head == purpose and origin.count(":") == 2 else None


def _clean_name(name: str) -> str:
    """A token's name under the stored names' rule (core.filenames.visible_text, as athlete
    names): `token list` prints it to an admin's terminal, where an ESC or a carriage return in
    it redrew the screen. Each run of spaces and line breaks is one space."""
    return " ".join(visible_text(" ".join((name or "").split())).split())


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def check_scope(scope: str) -> str:
    value = (scope or "").strip().lower()
    if value not in SCOPES:
        raise InvalidInput(f"scope must be one of {', '.join(SCOPES)}, not {scope!r}")
    return value


def scope_allows(have: str, need: str) -> bool:
    """True when a token of scope `have` may do what needs scope `need`."""
    return have in SCOPES and need in SCOPES and SCOPES.index(have) >= SCOPES.index(need)


@dataclass(frozen=True)
class TokenInfo:
    """A token without its secret."""

    id: int
    name: str
    prefix: str
    scope: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def allows(self, need: str) -> bool:
        return self.active and scope_allows(self.scope, need)

    @classmethod
    def from_row(cls, row: ApiToken) -> TokenInfo:
        info = from_columns(cls, row)
        # a name an older version stored with its control characters is never shown with them
        return replace(info, name=_clean_name(info.name))

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "prefix": self.prefix,
            "scope": self.scope,
            "created_at": iso(self.created_at),
            "last_used_at": iso(self.last_used_at),
            "revoked_at": iso(self.revoked_at),
            "active": self.active,
        }


class TokenStore:
    """The API tokens of one catalog database; thread-safe (each call is one transaction)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        feed.install(db)  # token changes are logged for the other processes' caches
        self._uses: dict[int, datetime] = {}  # token id -> its latest use not yet written
        self._uses_lock = threading.Lock()

    def create(self, name: str, scope: str) -> tuple[TokenInfo, str]:
        """A new token and its secret; the secret is shown once and never stored."""
        clean = _clean_name(name)
        if not clean or len(clean) > 100:
            raise InvalidInput(
                "A token name needs 1 to 100 visible characters", reason="token_name_length"
            )
        scope = check_scope(scope)
        with self.db.write() as s:
            return _insert(s, clean, scope)

    def create_for_process(self, purpose: str, scope: str) -> tuple[TokenInfo, str]:
        """A token this process owns; `revoke_orphans(purpose)` revokes it once it has ended."""
        return self.create(process_token_name(purpose, feed.origin_of(self.db)), scope)

    def revoke_orphans(self, purpose: str, legacy_names: tuple[str, ...] = ()) -> list[TokenInfo]:
        """Revokes the active `purpose` tokens of processes that no longer run; returns them.

        Kept: this process's own, and those of a process the catalog's presence still shows. A
        process that shows no host:pid (no /proc/locks to read, a PostgreSQL client that does
        not name itself) could be any owner, so then none goes.
        `legacy_names`: the fixed names of such tokens before they named their owner; no owner
        can be told, so they go only when no other process has the catalog open.
        """
        mine = feed.origin_of(self.db)
        with self.db.read() as s:
            others = set(schema_guard.others_alive(s.connection()))
        # A sibling Database of this process has an origin of its own: this host:pid is alive
        alive = others | {mine.rpartition(":")[0]}
        unknown = any(not _HOST_PID.fullmatch(other) for other in others)
        orphans = []
        for token in self.list(include_revoked=False):
            owner = process_token_owner(token.name, purpose)
            if owner is None:
                dead = token.name in legacy_names and not others
            else:
                dead = not unknown and owner.rpartition(":")[0] not in alive
            if dead:
                orphans.append(self.revoke(token.id))
        if orphans:
            logger.info("Revoked %d %s token(s) of ended processes", len(orphans), purpose)
        return orphans

    def list(self, include_revoked: bool = True) -> list[TokenInfo]:
        stmt = select(ApiToken).order_by(ApiToken.id)
        if not include_revoked:
            stmt = stmt.where(ApiToken.revoked_at.is_(None))
        with self.db.read() as s:
            return [TokenInfo.from_row(r) for r in s.scalars(stmt)]

    def get(self, token_id: int) -> TokenInfo:
        with self.db.read() as s:
            row = s.get(ApiToken, token_id)
            if row is None:
                raise NotFound(f"Token {token_id} not found")
            return TokenInfo.from_row(row)

    def revoke(self, token_id: int) -> TokenInfo:
        """Revokes a token (idempotent).

        The same transaction writes a change-feed row: every process sharing the catalog drops
        its cached verification of this token as soon as it hears of it (core/feed.py).
        """
        with self.db.write() as s:
            row = s.get(ApiToken, token_id)
            if row is None:
                raise NotFound(f"Token {token_id} not found")
            if row.revoked_at is None:
                row.revoked_at = utcnow()
            info = TokenInfo.from_row(row)
        return info

    def verify(self, secret: str) -> TokenInfo | None:
        """The active token with this secret, or None; notes its use for `record_uses` (a
        read only: no request waits for a write)."""
        if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
            return None
        digest = hash_token(secret)
        with self.db.read() as s:
            row = s.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
            if (
                row is None
                or row.revoked_at is not None
                or not hmac.compare_digest(row.token_hash, digest)
            ):
                return None
            info = TokenInfo.from_row(row)
        now = utcnow()
        if info.last_used_at is None or now - info.last_used_at > LAST_USED_RESOLUTION:
            with self._uses_lock:
                self._uses[info.id] = now
        return info

    def uses_pending(self) -> bool:
        return bool(self._uses)

    def record_uses(self, wait: float | None = None) -> None:
        """Writes the uses `verify` noted, one transaction for all; never moves a last use back
        (another server sharing the catalog may have written a later one). Notes that cannot be
        written (the catalog out or locked, a full disk) are kept for the next call and the
        error raised; a catalog upgraded under this server, which writes nothing more, drops
        them. `wait`: as Database.write's."""
        with self._uses_lock:
            batch, self._uses = self._uses, {}
        if not batch:
            return
        try:
            with self.db.write(wait) as s:
                for token_id, used in sorted(batch.items()):
                    row = s.get(ApiToken, token_id)
                    if row is not None and (row.last_used_at is None or row.last_used_at < used):
                        row.last_used_at = used
        except CatalogUpgraded:
            logger.debug("Did not record the use of %d tokens: catalog upgraded", len(batch))
        except BaseException:
            with self._uses_lock:
                for token_id, used in batch.items():
                    if token_id not in self._uses or self._uses[token_id] < used:
                        self._uses[token_id] = used
            raise

    def ensure_initial_token(self, name: str = "first start") -> str | None:
        """Creates an admin token when no active token exists; returns its secret, else None.

        The count and the insert are one write transaction, held against every process that
        shares the catalog: servers of a team started together on a new catalog each counted
        none, each made one and each printed a first-start admin secret. On SQLite the write
        transaction holds the database's write lock from its start (BEGIN IMMEDIATE); on
        PostgreSQL a transaction-level advisory lock, released at commit, so the next holder's
        count sees this one's token. A catalog with a token is only read: a start never waits
        behind another process's long write for nothing."""
        with self.db.read() as s:
            if s.scalar(_ACTIVE_COUNT):
                return None
        with self.db.write() as s:
            if s.get_bind().dialect.name == "postgresql":
                s.execute(_LOCK_FIRST_TOKEN)
            if s.scalar(_ACTIVE_COUNT):
                return None
            _, secret = _insert(s, _clean_name(name), "admin")
        return secret


def _insert(s: Session, name: str, scope: str) -> tuple[TokenInfo, str]:
    """A new token in `s`'s write transaction and its secret; the secret is never stored."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        name=name, token_hash=hash_token(secret), prefix=secret[:PREFIX_CHARS], scope=scope
    )
    s.add(row)
    s.flush()
    return TokenInfo.from_row(row), secret
