"""Builds the configured storage backend and its presigner from the settings."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, cast

from core.errors import SettingsError
from core.settings import STORAGE_INCOMPLETE, Settings
from core.storage.base import Presigner, Storage
from core.storage.local import LocalStorage
from core.storage.routing import RoutingStorage, Unusable
from core.storage.signing import LocalPresigner, load_or_create_secret

if TYPE_CHECKING:
    from core.storage.s3 import S3Storage

logger = logging.getLogger(__name__)

SIGNING_KEY_FILE = "url-signing.key"


def build_r2(settings: Settings) -> S3Storage:
    # imported here, not above: boto3 takes a fifth of a second of every start, and most
    # processes (local storage, the CLI) never build a bucket store
    from core.storage.s3 import S3Storage

    return S3Storage(
        bucket=settings.r2_bucket_name,
        endpoint_url=settings.r2_endpoint_url,
        access_key_id=settings.r2_access_key_id,
        secret_access_key=settings.r2_secret_access_key,
        region=settings.r2_region or "auto",
        multipart_threshold=settings.multipart_threshold,
        multipart_chunk_size=settings.multipart_chunk_size,
        public_domain=settings.r2_public_domain,
    )


def build_local(settings: Settings) -> LocalStorage:
    return LocalStorage(settings.paths.objects_dir, settings.paths.tmp_dir)


class UnusableStorage(Unusable):
    """R2 whose endpoint, bucket or keys are missing (Settings.storage_problem): the catalog
    still opens and every read or write of a file answers storage_unavailable saying what is
    missing, rather than MediaDesk refusing to start (and to open its Settings)."""

    _refuse = Unusable.refuse
    put_file = put_stream = put_bytes = open_range = download_to = stat = exists = _refuse
    delete = delete_prefix = delete_many = copy = move = list_keys = check = _refuse
    abort_stale_multipart = create_multipart = upload_part = list_parts = _refuse
    complete_multipart = abort_multipart = _refuse

    def local_path(self, key: str) -> Path | None:
        return None


def build_backend(settings: Settings, name: str) -> Storage:
    """One backend by name ("local" or "r2"), from the settings' values for it."""
    if name == "r2":
        if settings.storage_problem:
            raise SettingsError(settings.storage_problem, reason=STORAGE_INCOMPLETE)
        if not settings.r2_configured:
            raise SettingsError("R2 storage is not configured (endpoint, bucket and keys)")
        return build_r2(settings)
    if name == "local":
        return build_local(settings)
    raise SettingsError(f"Unknown storage backend {name!r}: use local or r2")


def build_storage(settings: Settings) -> tuple[RoutingStorage, Presigner]:
    """The active backend (R2 when chosen and configured, else the local folder) for writes,
    with every configured backend behind it for reading files that live elsewhere."""
    backends: dict[str, Storage] = {"local": build_local(settings)}
    problem = settings.storage_problem
    if problem:
        backends["r2"] = cast(Storage, UnusableStorage(problem))
    elif settings.r2_configured:
        backends["r2"] = build_r2(settings)
    routing = RoutingStorage(settings.backend_name, backends)
    logger.info("Storage: %s", settings.storage_description)
    if settings.uses_r2 and not problem:
        from core.storage.s3 import S3Presigner

        return routing, S3Presigner(backends["r2"])  # type: ignore[arg-type]
    secret = load_or_create_secret(settings.paths.secrets_dir / SIGNING_KEY_FILE)
    return routing, LocalPresigner(secret, settings.server_url)
