"""Builds the configured storage backend and its presigner from the settings."""

from __future__ import annotations

import logging

from core.settings import Settings
from core.storage.base import Presigner, Storage
from core.storage.local import LocalStorage
from core.storage.s3 import S3Presigner, S3Storage
from core.storage.signing import LocalPresigner, load_or_create_secret

log = logging.getLogger(__name__)

SIGNING_KEY_FILE = "url-signing.key"


def build_storage(settings: Settings) -> tuple[Storage, Presigner]:
    """S3/R2 when a bucket and endpoint are configured, else the local objects folder."""
    if settings.uses_r2:
        s3 = S3Storage(
            bucket=settings.r2_bucket_name,
            endpoint_url=settings.r2_endpoint_url,
            access_key_id=settings.r2_access_key_id,
            secret_access_key=settings.r2_secret_access_key,
            region=settings.r2_region or "auto",
            multipart_threshold=settings.multipart_threshold,
            multipart_chunk_size=settings.multipart_chunk_size,
            public_domain=settings.r2_public_domain,
        )
        log.info("Storage: %s", settings.storage_description)
        return s3, S3Presigner(s3)
    paths = settings.paths
    local = LocalStorage(paths.objects_dir, paths.tmp_dir)
    secret = load_or_create_secret(paths.secrets_dir / SIGNING_KEY_FILE)
    log.info("Storage: %s", settings.storage_description)
    return local, LocalPresigner(secret, settings.server_url)
