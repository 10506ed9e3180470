"""Server options, read from the settings once and passed to create_app."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from core.settings import HEADER_TIMEOUT, Settings

FORM_OVERHEAD = 64 * 1024
"""Bytes a multipart form may add around the file part before Content-Length means 413."""


@dataclass(frozen=True)
class ServerConfig:
    """How the HTTP server behaves; independent of where it listens."""

    host: str = "127.0.0.1"
    port: int = 8765
    cors_origins: tuple[str, ...] = ()
    upload_rate_limit: int = 60  # uploads per minute per token or address; 0 disables
    # failed authentications per client address within the window before it is blocked for
    # the window (server/ratelimit.py FailedAuthLimit); 0 turns it off
    auth_failure_limit: int = 20
    auth_failure_window: float = 60.0  # seconds
    maintenance_interval: int = 3600  # seconds; 0 disables the schedule
    heartbeat_interval: float = 15.0  # seconds between SSE comments
    executor_workers: int = 16
    # big upload bodies read at once, each by a thread of its own (server/rawbody.py, signed
    # PUTs); more tus bodies go through aiohttp, more signed PUTs get 503 (MEDIADESK_UPLOAD_BODIES)
    body_threads: int = 16
    private_max_age: int = 3600
    public_max_age: int = 31536000
    form_overhead: int = FORM_OVERHEAD
    # peers whose X-Forwarded-For is believed (nginx in front, MEDIADESK_TRUSTED_PROXIES)
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    header_timeout: float = HEADER_TIMEOUT  # seconds for a request head (server/protocol.py)
    accel_redirect: str = ""  # nginx internal location for local-storage bytes ("" = off)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        host: str | None = None,
        port: int | None = None,
        **overrides: object,
    ) -> ServerConfig:
        values: dict[str, object] = {
            "host": host if host is not None else settings.server_host,
            "port": port if port is not None else settings.server_port,
            "cors_origins": tuple(settings.cors_origins),
            "upload_rate_limit": settings.upload_rate_limit,
            "body_threads": settings.upload_bodies,
            "maintenance_interval": settings.maintenance_interval,
            "accel_redirect": settings.accel_redirect,
            "trusted_proxies": tuple(
                ipaddress.ip_network(p, strict=False) for p in settings.trusted_proxies
            ),
            "header_timeout": float(settings.header_timeout),
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
