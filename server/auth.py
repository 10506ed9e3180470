"""Bearer-token authentication and scope checks (read < upload < admin) for every route."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from aiohttp import web
from aiohttp.typedefs import Handler

from core.ascii import secret_bytes
from core.errors import (
    InvalidSignature,
    StorageUnavailable,
    catalog_busy,
    catalog_unreachable,
    is_no_space,
    outage_level,
)
from core.events import ChangeEvent, EventKind
from core.records import FileRecord
from core.tokens import TRUSTED_THROUGH_OUTAGE, TokenInfo, TokenStore
from server.errors import ApiError
from server.nginx_conf import CHECK_HEADER
from server.params import check_query
from server.ratelimit import FailedAuthLimit, guesser, too_many
from server.state import (
    AUDIT,
    AUTH,
    FAILED_AUTH,
    LIBRARY,
    METRICS,
    NGINX_CHECK,
    THREADS,
    TOKEN,
    catalog_known_out,
    remote_address,
    run_blocking,
)

logger = logging.getLogger(__name__)

PUBLIC = "public"  # no token needed (a bad one is still refused)
SIGNED = "signed"  # the URL's signature is the credential; Authorization headers are ignored
FILE = "file"  # public files without a token, private ones with a read token (checked later)
CACHE_SECONDS = 5.0
CACHE_SIZE = 1024
# EventSource, <video> and media players cannot send headers: these GETs accept ?access_token=
# Seconds a route marked `answers_unchecked` waits for its caller's token to be checked
UNCHECKED_WAIT = 2.0
QUERY_TOKEN_PATHS = ("/events",)
QUERY_TOKEN_PREFIXES = ("/stream/",)
# Seconds between writes of the tokens' last uses (TokenStore.record_uses): `token list` shows
# a use within about this, and a note that could not be written is tried again as often
USES_SECONDS = 2.0
# Seconds a write of those notes waits for the catalog (another process's long write holds
# SQLite's lock for up to its 30 s busy timeout): stopping the server waited that long for the
# last ones, and a desktop quitting froze. A note not written is tried again, or at the stop
# dropped: when a token was last used is bookkeeping.
USES_WAIT = 2.0

H = TypeVar("H", bound=Callable[..., Awaitable[web.StreamResponse]])


def requires(
    scope: str, *, widened_by: Callable[[web.Request], str] | None = None
) -> Callable[[H], H]:
    """Marks a handler with what it needs: public, signed, file, read, upload or admin.
    `widened_by` names the scope one request needs when its parameters ask for more than the
    route's least (a hard delete: admin), so that a token short of it is refused naming the
    scope that request needs: checked one scope at a time, a read token's hard delete was told
    it needs 'upload', and once it had one, 'admin'."""

    def mark(handler: H) -> H:
        handler.__mediadesk_scope__ = scope  # type: ignore[attr-defined]
        if widened_by is not None:
            handler.__mediadesk_widened_by__ = widened_by  # type: ignore[attr-defined]
        return handler

    return mark


def answers_unchecked(handler: H) -> H:
    """Marks a public handler that answers a caller whose token cannot be checked (the catalog
    is out, or does not answer within UNCHECKED_WAIT) as an anonymous one: /health, so that a
    monitor holding a token hears that the catalog is down instead of getting its outage."""
    handler.__mediadesk_unchecked__ = True  # type: ignore[attr-defined]
    return handler


def scope_of(handler: object) -> str:
    return getattr(handler, "__mediadesk_scope__", "read")


def scope_needed(handler: object, request: web.Request) -> str:
    """The scope `request` needs of its route: scope_of's, or more by `requires`' widened_by."""
    widened_by: Callable[[web.Request], str] | None = getattr(
        handler, "__mediadesk_widened_by__", None
    )
    return scope_of(handler) if widened_by is None else widened_by(request)


class Authenticator:
    """Verifies tokens with a short cache, dropped whenever any process changes a token.

    The change feed delivers token changes (revocations) from every process sharing the
    catalog within its poll interval, so a revoked token is refused everywhere within a second;
    the generation counter keeps a verification that raced a revocation out of the cache.
    While the catalog cannot be reached, a verification younger than TRUSTED_THROUGH_OUTAGE
    stands in for the one that cannot be made.
    """

    def __init__(self, store: TokenStore) -> None:
        self.store = store
        self._cache: dict[str, tuple[TokenInfo, float, int]] = {}
        self.generation = 0

    def on_event(self, event: ChangeEvent) -> None:
        if event.kind == EventKind.TOKEN:
            self.generation += 1
            self._cache.clear()

    def cached(self, secret: str, seconds: float = CACHE_SECONDS) -> TokenInfo | None:
        """The token's verification if it was made within `seconds` (and no token changed)."""
        key = hashlib.sha256(secret.encode()).hexdigest()
        hit = self._cache.get(key)
        if hit and time.monotonic() - hit[1] < seconds and hit[2] == self.generation:
            return hit[0]
        return None

    def remember(self, secret: str, info: TokenInfo, generation: int) -> None:
        if generation != self.generation:
            return
        if len(self._cache) >= CACHE_SIZE:
            self._cache.clear()
        key = hashlib.sha256(secret.encode()).hexdigest()
        self._cache[key] = (info, time.monotonic(), generation)


async def auth_ctx(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: the token cache listens to the change feed while the app runs, and the
    tokens' last uses are written in the background; the last ones at shutdown."""
    unsubscribe = app[LIBRARY].events.subscribe(app[AUTH].on_event)
    task = asyncio.create_task(_write_uses(app), name="token-uses")
    yield
    unsubscribe()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    try:
        await app[THREADS].run(app[AUTH].store.record_uses, USES_WAIT)
    except Exception as exc:
        # the last write met the catalog's outage first: the episode's one ERROR line (said
        # as INFO, the outage had none)
        level = outage_level(exc, logging.INFO)
        cause = getattr(exc, "cause", None)
        logger.log(
            level,
            "Stopped without recording when tokens were last used: %s%s",
            exc,
            f" ({cause})" if cause else "",
        )


async def _write_uses(app: web.Application) -> None:
    store, threads = app[AUTH].store, app[THREADS]
    failing = False  # said once until the notes are written again
    while True:
        await asyncio.sleep(USES_SECONDS)
        if not store.uses_pending():
            continue
        try:
            await threads.run(store.record_uses, USES_WAIT)
        except Exception as exc:
            # kept in memory and tried again: when a token was last used is only a note, and
            # a catalog out, locked past USES_WAIT or on a full disk comes back
            if isinstance(exc, StorageUnavailable) and exc.first:
                # this write met the catalog's outage before anything else did: its failure is
                # the episode's one ERROR line (the requests after it say "failed again"). Said
                # as INFO, the outage had no ERROR line at all (a CI-like run met it).
                logger.error(
                    "The catalog cannot be reached (%s); when tokens were last used is kept "
                    "and written once it answers",
                    exc.cause or exc,
                )
            elif not failing:
                quiet = catalog_unreachable(exc) or catalog_busy(exc) or is_no_space(exc)
                logger.log(
                    logging.INFO if quiet else logging.WARNING,
                    "Could not record when tokens were last used (tried again): %s",
                    exc,
                    exc_info=not quiet,
                )
            failing = True
        else:
            failing = False


def unauthorized(message: str, code: str = "unauthorized") -> ApiError:
    return ApiError(401, code, message, headers={"WWW-Authenticate": 'Bearer realm="mediadesk"'})


def _presented_token(request: web.Request) -> str | None:
    """The token the request presents, ASCII (so the cache's and the store's hashing of it
    cannot fail: header bytes that are not UTF-8 arrive as surrogates); None without one."""
    headers = request.headers.getall("Authorization", [])
    if len(headers) > 1:
        # which one counted was the order's choice: a good one after a bad one was refused,
        # before it let in (a proxy adding its own header, a client's and a library's)
        raise unauthorized(
            f"Send one Authorization header (this request has {len(headers)})", "invalid_token"
        )
    header = headers[0] if headers else None
    if header is not None:
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise unauthorized("Send the token as 'Authorization: Bearer <token>'", "invalid_token")
        secret = value.strip()
    elif "access_token" in request.query and (
        request.path in QUERY_TOKEN_PATHS or request.path.startswith(QUERY_TOKEN_PREFIXES)
    ):
        secret = request.query["access_token"]
    else:
        return None
    if secret_bytes(secret) is None:
        raise unauthorized("The token is unknown or revoked", "invalid_token")
    return secret


async def authenticate(request: web.Request) -> TokenInfo | None:
    secret = _presented_token(request)
    if secret is None:
        return None
    auth = request.app[AUTH]
    info = auth.cached(secret)
    if info is None:
        trusted = auth.cached(secret, TRUSTED_THROUGH_OUTAGE)
        if trusted is not None and catalog_known_out(request):
            return trusted  # as record_cache.ready_record: no wait for a catalog known out
        generation = auth.generation
        try:
            info = await run_blocking(request, auth.store.verify, secret)
        except StorageUnavailable as exc:
            # the catalog cannot be reached: a recent verification stands in for this one
            info = auth.cached(secret, TRUSTED_THROUGH_OUTAGE) if catalog_unreachable(exc) else None
            if info is None:
                raise
            return info
        if info is None:
            raise unauthorized("The token is unknown or revoked", "invalid_token")
        auth.remember(secret, info, generation)
    return info


def _presents_credentials(request: web.Request, need: str) -> bool:
    """A token (header, or ?access_token= where it is read) or a signature (sig=: signed URLs
    and file grants)."""
    if "sig" in request.query:
        return True
    if need == SIGNED:
        return False  # its Authorization header is ignored
    return "Authorization" in request.headers or (
        "access_token" in request.query
        and (request.path in QUERY_TOKEN_PATHS or request.path.startswith(QUERY_TOKEN_PREFIXES))
    )


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    match = request.match_info
    need = scope_needed(match.handler, request)
    if match.http_exception is not None or request.method == "OPTIONS":
        request[TOKEN] = None
        return await handler(request)
    check_query(request)
    if not _presents_credentials(request, need):
        return await _authorised(request, handler, need)
    limit, address = request.app[FAILED_AUTH], remote_address(request)
    wait = limit.retry_after(address)
    if wait > 0:
        raise too_many(
            wait, "Too many failed authentications from this address; try again in {seconds} s"
        )
    try:
        return await _authorised(request, handler, need)
    except (ApiError, InvalidSignature) as exc:
        failed = isinstance(exc, InvalidSignature) or exc.code == "invalid_token"
        if failed and _count_failure(request, limit, address):
            request.app[METRICS].auth_blocks.inc()
            logger.warning(
                "Blocked %s for %d s after %d failed authentications within %d s",
                guesser(address),
                limit.window,
                limit.limit,
                limit.window,
            )
        raise


def _count_failure(request: web.Request, limit: FailedAuthLimit, address: str) -> bool:
    """Counts a failed authentication; True when it starts a block. A failure in what says it
    is nginx's check subrequest counts too (the header proves nothing: a client reaching the
    server without nginx sent it with every guess, and none was counted), and nginx's pass
    in full of the same request that follows is then not counted again: one per guess."""
    check = bool(request.get(NGINX_CHECK))
    # a check names the client's method in its header (the subrequest's own may differ)
    method = request.headers.get(CHECK_HEADER, "") if check else request.method
    token = request.headers.get("Authorization", "")
    checked = hashlib.sha256(
        f"{method}\n{request.raw_path}\n{token}".encode("utf-8", "surrogateescape")
    ).hexdigest()
    if check:
        return limit.failed_check(address, checked)
    if limit.repeat_of_check(address, checked):
        return False
    return limit.failed(address)


async def _authorised(request: web.Request, handler: Handler, need: str) -> web.StreamResponse:
    if need == SIGNED:
        request[TOKEN] = None
        return await handler(request)
    if need == PUBLIC and getattr(request.match_info.handler, "__mediadesk_unchecked__", False):
        try:
            info = await asyncio.wait_for(authenticate(request), UNCHECKED_WAIT)
        except StorageUnavailable:
            info = None  # the anonymous view, which says the catalog is down
        except TimeoutError:  # a hung catalog has not said yet that it is out
            secret = _presented_token(request)
            info = request.app[AUTH].cached(secret, TRUSTED_THROUGH_OUTAGE) if secret else None
        request[TOKEN] = info
    else:
        info = request[TOKEN] = await authenticate(request)
    if need not in (PUBLIC, FILE):
        check_scope(info, need)
    return await handler(request)


def check_scope(info: TokenInfo | None, need: str) -> TokenInfo:
    if info is None:
        raise unauthorized("This endpoint needs a token: 'Authorization: Bearer <token>'")
    if not info.allows(need):
        raise ApiError(
            403,
            "insufficient_scope",
            f"This needs a token with scope {need!r}; yours has {info.scope!r}",
        )
    return info


def actor_of(info: TokenInfo | None) -> str:
    return f"token:{info.name} ({info.prefix})" if info else "anonymous"


def upload_owner(request: web.Request) -> str | None:
    """Who owns the uploads this request starts, the only one that may go on with them (tus,
    presigned): its token, by id (an admin's too); None without one (a signed URL's)."""
    token = request.get(TOKEN)
    return f"token:{token.id}" if token is not None else None


def ensure_file_access(
    request: web.Request, record: FileRecord, action: str, detail: str | None = None
) -> None:
    """Public files are open; private ones need a read token and every access is audited."""
    if record.is_public:
        return
    info = check_scope(request[TOKEN], "read")
    request.app[AUDIT].add(actor_of(info), action, record.id, remote_address(request), detail)
