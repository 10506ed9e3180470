"""One frozen settings object: defaults < settings.toml in the user config folder < environment."""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import errno
import ipaddress
import logging
import os
import re
import secrets
import socket
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from core.ascii import whole_number
from core.errors import SettingsError, UnsupportedType
from core.fsmodes import PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, make_dirs
from core.mediatypes import BY_MIME, IMAGE_TYPES, VIDEO_TYPES, FileKind, canonical_mime
from core.paths import (
    CANNOT_READ,
    DATA_DIR_UNUSABLE,
    DataDirSource,
    DataPaths,
    check_data_dir,
    default_paths,
)
from core.secrets import (
    DATABASE_PASSWORD,
    DATABASE_QUERY_SECRETS,
    SECRET_FIELDS,
    SECRETS_ENV,
    SecretStore,
    check_database_url,
    check_secrets_mode,
    join_database_secrets,
    split_database_secrets,
)

logger = logging.getLogger(__name__)

MIN_EXPIRY = 1
MAX_EXPIRY = 7 * 24 * 3600
MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PART_SIZE = 5 * 1024**3  # S3's and R2's largest part
# The longest period a seconds setting takes: waits and timedeltas past it overflowed (a
# usage scan interval of 10**11 s ended its thread with OverflowError after a clean start)
MAX_INTERVAL = 365 * 24 * 3600
# MAX_FILE_SIZE's bound: the catalog's size columns (and SQL parameters) are signed 64-bit, so a
# larger limit let a longer upload reach them and fail there (tus: a 500). The OpenAPI
# document's INT64_MAX (server.openapi_schemas) is the same number.
MAX_FILE_SIZE_LIMIT = 2**63 - 1
# The seed: "use presigned URLs for files over 10 MB", direct uploads below (clients follow it)
PRESIGN_THRESHOLD = 10 * 1024 * 1024

# setting name -> environment variable (the seed's names first)
ENV_NAMES: dict[str, str] = {
    "r2_access_key_id": "R2_ACCESS_KEY_ID",
    "r2_secret_access_key": "R2_SECRET_ACCESS_KEY",
    "r2_endpoint_url": "R2_ENDPOINT_URL",
    "r2_bucket_name": "R2_BUCKET_NAME",
    "r2_public_domain": "R2_PUBLIC_DOMAIN",
    "r2_region": "R2_REGION",
    "storage_backend": "MEDIADESK_STORAGE_BACKEND",
    "max_file_size": "MAX_FILE_SIZE",
    "presigned_url_expiry": "PRESIGNED_URL_EXPIRY",
    "database_url": "DATABASE_URL",
    "data_dir": "MEDIADESK_DATA_DIR",
    "server_host": "MEDIADESK_HOST",
    "server_port": "MEDIADESK_PORT",
    "server_autostart": "MEDIADESK_SERVER_AUTOSTART",
    "public_base_url": "MEDIADESK_PUBLIC_URL",
    "cors_origins": "MEDIADESK_CORS_ORIGINS",
    "upload_rate_limit": "MEDIADESK_UPLOAD_RATE_LIMIT",
    "upload_bodies": "MEDIADESK_UPLOAD_BODIES",
    "trash_retention_days": "MEDIADESK_TRASH_RETENTION_DAYS",
    "audit_retention_days": "MEDIADESK_AUDIT_RETENTION_DAYS",
    "multipart_threshold": "MEDIADESK_MULTIPART_THRESHOLD",
    "multipart_chunk_size": "MEDIADESK_MULTIPART_CHUNK_SIZE",
    "upload_part_size": "MEDIADESK_UPLOAD_PART_SIZE",
    "tus_expiry": "MEDIADESK_TUS_EXPIRY",
    "tus_lease_seconds": "MEDIADESK_TUS_LEASE_SECONDS",
    "resumable_threshold": "MEDIADESK_RESUMABLE_THRESHOLD",
    "language": "MEDIADESK_LANGUAGE",
    "maintenance_interval": "MEDIADESK_MAINTENANCE_INTERVAL",
    "workers": "MEDIADESK_WORKERS",
    "hls_ladder": "MEDIADESK_HLS_LADDER",
    "hls_segment_seconds": "MEDIADESK_HLS_SEGMENT_SECONDS",
    "job_lease_seconds": "MEDIADESK_JOB_LEASE_SECONDS",
    "job_max_attempts": "MEDIADESK_JOB_MAX_ATTEMPTS",
    "allowed_image_types": "ALLOWED_IMAGE_TYPES",
    "allowed_video_types": "ALLOWED_VIDEO_TYPES",
    "storage_warn_bytes": "MEDIADESK_STORAGE_WARN_BYTES",
    "usage_scan_interval": "MEDIADESK_USAGE_SCAN_INTERVAL",
    "log_format": "MEDIADESK_LOG_FORMAT",
    "accel_redirect": "MEDIADESK_ACCEL_REDIRECT",
    "trusted_proxies": "MEDIADESK_TRUSTED_PROXIES",
    "header_timeout": "MEDIADESK_HEADER_TIMEOUT",
}


# Loopback: other devices reach the server only when the host is set to an address (or to
# 0.0.0.0 / :: for every one). A blank host is this default, as an empty value is the setting
# left out everywhere, never aiohttp's "" (every interface).
DEFAULT_HOST = "127.0.0.1"

# Seconds a connection has for a complete request head (MEDIADESK_HEADER_TIMEOUT): nginx
# allows 60, Go servers commonly 5-10; enough for a phone on bad Wi-Fi to send its headers.
HEADER_TIMEOUT = 10


@dataclass(frozen=True)
class Settings:
    """Every setting MediaDesk reads, validated once at start-up."""

    r2_access_key_id: str = ""
    r2_secret_access_key: str = field(default="", repr=False)  # core/secrets.py keeps it
    r2_endpoint_url: str = ""
    r2_bucket_name: str = ""
    r2_public_domain: str = ""
    r2_region: str = "auto"
    # Where new files go: "" picks R2 when it is configured, else the local folder; "local"
    # keeps R2 credentials (to read files still in the bucket) while writing locally.
    storage_backend: str = ""
    max_file_size: int = 104857600
    presigned_url_expiry: int = 3600
    database_url: str = ""
    data_dir: str = ""
    server_host: str = DEFAULT_HOST
    server_port: int = 8765
    server_autostart: bool = True
    public_base_url: str = ""
    cors_origins: tuple[str, ...] = ()
    upload_rate_limit: int = 60  # uploads per minute per token or address; 0 disables
    # big upload bodies the server reads at once, each with a thread of its own (a signed PUT
    # past it gets 503 server_busy; a tus PATCH goes through aiohttp instead)
    upload_bodies: int = 16
    trash_retention_days: int = 30
    # audit entries (GET /audit) older than this are deleted by maintenance; 0 = kept for good
    audit_retention_days: int = 365
    multipart_threshold: int = 64 * 1024 * 1024
    multipart_chunk_size: int = 8 * 1024 * 1024
    upload_part_size: int = 16 * 1024 * 1024  # presigned and tus parts on R2/S3 (equal sizes)
    tus_expiry: int = 24 * 3600  # an unfinished tus upload is removed after this long
    # a tus upload whose writing server stops renewing its hold this long (killed, on another
    # machine) is taken by another server of the team (core/resumable.py)
    tus_lease_seconds: int = 60
    resumable_threshold: int = 16 * 1024 * 1024  # desktop uploads above this go in parts
    language: str = ""  # "" = system locale, else "en" or "es"
    maintenance_interval: int = 3600
    workers: int = 1  # in-process video workers of the app and `mediadesk serve`; 0 = none
    hls_ladder: tuple[str, ...] = ("360", "720", "1080")  # rungs by the picture's short side
    hls_segment_seconds: int = 4
    job_lease_seconds: int = 30
    job_max_attempts: int = 3
    # The seed's ALLOWED_*_TYPES: a subset of what MediaDesk validates, stored canonically
    allowed_image_types: tuple[str, ...] = tuple(
        t.mime for t in IMAGE_TYPES if t.accepted_by_default
    )
    allowed_video_types: tuple[str, ...] = tuple(
        t.mime for t in VIDEO_TYPES if t.accepted_by_default
    )
    storage_warn_bytes: int = 0  # the status bar warns above this many stored bytes; 0 = never
    usage_scan_interval: int = 3600  # seconds between listings of the bucket or folder
    log_format: str = "text"  # text | json (one JSON object a line)
    # behind nginx: local-storage streams end in X-Accel-Redirect to this internal location
    accel_redirect: str = ""
    # proxies (addresses or networks) whose X-Forwarded-For names the client: nginx in front
    trusted_proxies: tuple[str, ...] = ()
    # seconds a connection has to send a complete request head (not its body); 0 = no limit
    header_timeout: int = HEADER_TIMEOUT
    config_file: str = field(default="", compare=False)
    # Set by the entry points that must open anyway when the R2 keys are missing (the desktop
    # app, `storage status`, `doctor`): storage_problem then says what is missing, and the R2
    # backend answers storage_unavailable instead of the start-up being refused.
    allow_incomplete_storage: bool = field(default=False, compare=False, repr=False)
    # Where data_dir came from (load_settings knows): a data folder that cannot be used is
    # refused naming the place to fix it, not "--data-dir or MEDIADESK_DATA_DIR" for a value
    # the Settings dialog wrote to settings.toml.
    data_dir_source: DataDirSource = field(default=DataDirSource(), compare=False, repr=False)

    # --- derived -----------------------------------------------------------------------------
    @property
    def paths(self) -> DataPaths:
        return default_paths(
            self.data_dir or None,
            str(Path(self.config_file).parent) if self.config_file else None,
            self.data_dir_source,
        )

    def allowed_types(self, kind: str) -> tuple[str, ...]:
        return self.allowed_image_types if kind == FileKind.IMAGE else self.allowed_video_types

    def check_allowed(self, mime: str) -> None:
        """UnsupportedType (400) naming the setting when ALLOWED_*_TYPES leaves this type out."""
        media = BY_MIME.get(canonical_mime(mime) or "")
        if media is None:
            return  # not a type we validate at all: the validator says so in its own words
        allowed = self.allowed_types(media.kind)
        if media.mime not in allowed:
            setting = ENV_NAMES[f"allowed_{media.kind}_types"]
            raise UnsupportedType(
                f"{media.mime} is not accepted here (check {setting}: "
                f"{', '.join(allowed) or 'none'})",
                reason="not_allowed",
                details={"setting": setting, "allowed": list(allowed), "content_type": media.mime},
            )

    @property
    def uses_r2(self) -> bool:
        # storage_backend "r2" without its keys stays R2 (allow_incomplete_storage): new files
        # must fail there, never land in the local folder unnoticed
        return self.storage_backend != "local" and (
            self.r2_configured or self.storage_backend == "r2"
        )

    @property
    def storage_problem(self) -> str:
        """What keeps R2 from working (missing keys and how to fix it), or ""."""
        return storage_gap(self)[0]

    @property
    def r2_configured(self) -> bool:
        """R2 credentials are present (new files may still go to the local folder)."""
        return bool(self.r2_bucket_name and self.r2_endpoint_url)

    @property
    def backend_name(self) -> str:
        """The backend new files are written to: "r2" or "local"."""
        return "r2" if self.uses_r2 else "local"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.paths.database_file}"

    @property
    def public_origin(self) -> str:
        """MEDIADESK_PUBLIC_URL without a trailing slash, or "" when unset: the origin every
        link handed to others starts with (signed links, watch pages, the desktop's Copy
        link), since the address the server is bound to may not be reachable from elsewhere."""
        return self.public_base_url.rstrip("/")

    @property
    def server_url(self) -> str:
        if self.public_origin:
            return self.public_origin
        host = self.server_host
        if host in ("0.0.0.0", "::"):
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.server_port}"

    @property
    def storage_description(self) -> str:
        if self.storage_problem:
            return f"R2, not usable: {self.storage_problem}"
        if self.uses_r2:
            return f"R2 bucket {self.r2_bucket_name} at {self.r2_endpoint_url}"
        return f"local folder {self.paths.objects_dir}"

    def replace(self, **changes: Any) -> Settings:
        return validate(dataclasses.replace(self, **changes))

    def to_toml_dict(self, include_secrets: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name in INTERNAL_FIELDS or (f.name in SECRET_FIELDS and not include_secrets):
                continue
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out


def _coerce(name: str, raw: Any, kind: Any) -> Any:
    text: Any = str(raw).strip() if not isinstance(raw, list | tuple) else raw
    try:
        # settings.toml can give a list or a table anywhere: int() of one raised TypeError
        if isinstance(raw, dict) or (
            isinstance(raw, list | tuple) and kind not in ("tuple[str, ...]",)
        ):
            raise ValueError
        if kind in (int, "int"):
            if isinstance(raw, bool):
                raise ValueError
            if isinstance(raw, int):
                return raw
            # ASCII digits only, as every number the API and tus read (core.ascii): int() took
            # "١٠٠٠" (Arabic-Indic digits), "+5" and "1_000" where MEDIADESK_HLS_LADDER did not
            number = whole_number(text, signed=True)
            if number is None:
                raise ValueError
            return number
        if kind in (bool, "bool"):
            if isinstance(raw, bool):
                return raw
            low = str(text).lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if kind in ("tuple[str, ...]",):
            items = raw if isinstance(raw, list | tuple) else str(text).split(",")
            if any(isinstance(i, bool) or not isinstance(i, str | int) for i in items):
                raise ValueError
            return tuple(str(i).strip() for i in items if str(i).strip())
        return str(text)
    except ValueError:
        env = ENV_NAMES.get(name, name)
        expected = _EXPECTED.get(str(getattr(kind, "__name__", kind)), str(kind))
        raise SettingsError(
            f"Setting {env} has an invalid value {raw!r}: expected {expected}",
            details={"setting": env, "expected": str(getattr(kind, "__name__", kind))},
        ) from None


# What a value of each kind is, in the words a person fixing the setting needs ("expected
# bool" named no accepted word)
_EXPECTED = {
    "int": "a whole number",
    "bool": "yes or no: 1, true, yes or on; 0, false, no or off",
    "tuple[str, ...]": "a comma-separated list",
}


def validate(s: Settings) -> Settings:
    """Checks every value; raises SettingsError naming the setting and the problem."""

    bad = _setting_error
    if not 0 < s.max_file_size <= MAX_FILE_SIZE_LIMIT:
        raise bad(
            "max_file_size", f"must be a positive number of bytes, at most {MAX_FILE_SIZE_LIMIT}"
        )
    if not MIN_EXPIRY <= s.presigned_url_expiry <= MAX_EXPIRY:
        raise bad("presigned_url_expiry", f"must be between {MIN_EXPIRY} and {MAX_EXPIRY} seconds")
    s = dataclasses.replace(s, server_host=checked_host(s.server_host))
    if not 0 < s.server_port < 65536:
        raise bad("server_port", "must be a TCP port between 1 and 65535")
    if s.trash_retention_days < 0:
        raise bad(
            "trash_retention_days",
            "cannot be negative (0: trashed files are deleted for good at the next maintenance)",
        )
    if s.audit_retention_days < 0:
        raise bad("audit_retention_days", "cannot be negative (0 keeps every entry)")
    if s.upload_rate_limit < 0:
        raise bad("upload_rate_limit", "cannot be negative")
    if not 1 <= s.upload_bodies <= 1024:
        raise bad("upload_bodies", "must be between 1 and 1024")
    for name in ("multipart_chunk_size", "upload_part_size"):
        if not MIN_PART_SIZE <= getattr(s, name) <= MAX_PART_SIZE:
            raise bad(name, "must be from 5 MiB to 5 GiB (R2 and S3 require it)")
    if s.resumable_threshold < 0:
        raise bad("resumable_threshold", "cannot be negative")
    if not 60 <= s.tus_expiry <= MAX_INTERVAL:
        raise bad("tus_expiry", f"must be between 60 and {MAX_INTERVAL} seconds (a year)")
    if not 5 <= s.tus_lease_seconds <= 3600:
        raise bad("tus_lease_seconds", "must be between 5 and 3600 seconds")
    if s.multipart_threshold < s.multipart_chunk_size:
        raise bad("multipart_threshold", "must be at least the multipart chunk size")
    if not 0 <= s.maintenance_interval <= MAX_INTERVAL:
        raise bad(
            "maintenance_interval",
            f"must be 0 (this process never runs it) to {MAX_INTERVAL} seconds (a year)",
        )
    if not 0 <= s.workers <= 64:
        raise bad("workers", "must be between 0 and 64")
    rungs = [whole_number(r) for r in s.hls_ladder]
    if not rungs or not all(r is not None and 16 <= r <= 4320 for r in rungs):
        raise bad("hls_ladder", "must be short-side heights from 16 to 4320, e.g. 360,720,1080")
    if not 2 <= s.hls_segment_seconds <= 10:
        raise bad("hls_segment_seconds", "must be between 2 and 10 seconds")
    if not 5 <= s.job_lease_seconds <= 3600:
        raise bad("job_lease_seconds", "must be between 5 and 3600 seconds")
    if not 1 <= s.job_max_attempts <= 20:
        raise bad("job_max_attempts", "must be between 1 and 20")
    if s.storage_backend not in ("", "local", "r2"):
        raise bad("storage_backend", "must be empty (automatic), 'local' or 'r2'")
    problem, missing = storage_gap(s)
    if problem and not s.allow_incomplete_storage:
        raise SettingsError(problem, reason=STORAGE_INCOMPLETE, details={"missing": missing})
    if s.language not in ("", "en", "es"):
        raise bad("language", "must be empty (system locale), 'en' or 'es'")
    for name in ("r2_endpoint_url", "r2_public_domain", "public_base_url"):
        value = getattr(s, name)
        if value:
            parsed = urlparse(value)
            if parsed.scheme not in ("http", "https") or not parsed.netloc:
                raise bad(name, f"{value!r} is not an http(s) URL")
    for origin in s.cors_origins:
        if origin != "*" and origin_key(origin) is None:
            raise bad(
                "cors_origins",
                f"{origin!r} is not an origin like https://host:port (no path or query: "
                "a browser's Origin has none, so it would never match; a host name needs "
                "labels of 1 to 63 characters, and one with ß, ς or a joiner its xn-- form)",
            )
    if s.database_url and not s.database_url.startswith(("sqlite", "postgresql")):
        raise bad("database_url", "only sqlite:/// and postgresql+psycopg:// URLs are supported")
    check_database_url(s.database_url)
    for proxy in s.trusted_proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise bad("trusted_proxies", f"{proxy!r} is not an address or network") from None
    if not 0 <= s.header_timeout <= 3600:
        raise bad("header_timeout", "must be between 0 (no limit) and 3600 seconds")
    if s.accel_redirect and not (
        s.accel_redirect.startswith("/") and s.accel_redirect.endswith("/")
    ):
        raise bad("accel_redirect", "must be an internal location like /_protected/")
    if s.storage_warn_bytes < 0:
        raise bad("storage_warn_bytes", "cannot be negative (0 turns the warning off)")
    if not 0 <= s.usage_scan_interval <= MAX_INTERVAL:
        raise bad(
            "usage_scan_interval",
            f"must be 0 (the store listing off) to {MAX_INTERVAL} seconds (a year)",
        )
    if s.log_format not in ("text", "json"):
        raise bad("log_format", "must be 'text' or 'json'")
    allowed: dict[str, tuple[str, ...]] = {}
    for kind in FileKind:
        name = f"allowed_{kind}_types"
        canonical = []
        for raw in getattr(s, name):
            mime = canonical_mime(raw)
            if mime is None:
                raise bad(name, f"{raw!r} is not a type MediaDesk can validate")
            if BY_MIME[mime].kind != kind:
                raise bad(name, f"{raw!r} is not among the {kind} types")
            if mime not in canonical:
                canonical.append(mime)
        allowed[name] = tuple(canonical)
    if any(getattr(s, n) != v for n, v in allowed.items()):
        s = dataclasses.replace(  # the seed's spellings kept as standard names
            s,
            allowed_image_types=allowed["allowed_image_types"],
            allowed_video_types=allowed["allowed_video_types"],
        )
    return s


HOST_NOT_VALID = "host_not_valid"
"""SettingsError's reason for a host the server cannot listen on as written (_host_problem);
details: `host` as given, `problem` (HOST_SHORTENED, HOST_NOT_ADDRESS, HOST_NOT_NAME) and, for a
shortened address, `reads_as`, what the resolver makes of it ("" when nothing)."""
HOST_SHORTENED = "shortened"  # 127.1, 0: an IPv4 address with numbers left out
HOST_NOT_ADDRESS = "not_an_address"  # 999.1.1.1, 1.2.3.4.5: numbers, but no address
HOST_NOT_NAME = "not_a_name"  # neither an IP address nor a host name (not..valid, a space)


def checked_host(host: str, setting: bool = True) -> str:
    """The host the server listens on for `host` as given (a setting, `serve --host`, the
    desktop's Server panel): blank is the default, 127.0.0.1, as an empty value is the setting
    left out (aiohttp's "" is every address); SettingsError (reason HOST_NOT_VALID) when it
    cannot be listened on as written (_host_problem). `setting`: the message names
    MEDIADESK_HOST; without it (a host typed in the desktop's Server panel) it names none: the
    panel's tooltip sent the user to a setting never set."""
    host = host.strip() or DEFAULT_HOST
    problem = _host_problem(host)
    if problem is not None:
        text, details = problem
        raise SettingsError(
            f"Setting {ENV_NAMES['server_host']}: {text}" if setting else text,
            reason=HOST_NOT_VALID,
            details={"host": host, **details},
        )
    with contextlib.suppress(ValueError):
        # an address in its one spelling: "::0" and "0:0:0:0:0:0:0:0" are "::", every address,
        # which the banner and the links (core.links.WILDCARDS) know only as written so; they
        # named "http://[::0]:8765/signed/…", which no other device can open
        return str(ipaddress.ip_address(host))
    return host


def _setting_error(name: str, problem: str) -> SettingsError:
    return SettingsError(f"Setting {ENV_NAMES.get(name, name)}: {problem}")


def _host_problem(host: str) -> tuple[str, dict[str, str]] | None:
    """Why the server cannot listen on `host` (core's English words and HOST_NOT_VALID's
    details), or None: an IP literal, or a name the resolver's IDNA encoding takes (labels of
    1 to 63 letters, digits, "-" or "_"). The resolver raised UnicodeError at bind, after the
    data folder was made."""
    with contextlib.suppress(ValueError):
        ipaddress.ip_address(host)
        return None
    if _NUMERIC_LABEL.fullmatch(host.removesuffix(".").rsplit(".", 1)[-1]):
        # The resolver (inet_aton) reads "0" as 0.0.0.0, every address, and "127.1" as
        # 127.0.0.1: what such a name binds to is not what it says.
        try:
            reads_as = socket.inet_ntoa(socket.inet_aton(host))
        except OSError:
            reads_as = ""
            try:  # "1.2.3.4.", "0.": an address with the root's dot, which the resolver takes
                socket.inet_aton(host.removesuffix("."))
            except OSError:  # 999.1.1.1, 1.2.3.4.5: no address at all, shortened or not
                return (
                    f"{host!r} is not an IP address (four numbers from 0 to 255, e.g. 127.0.0.1)",
                    {"problem": HOST_NOT_ADDRESS},
                )
        meant = f", which the resolver reads as {reads_as}" if reads_as else ""
        return (
            f"{host!r} is a shortened IPv4 address{meant}: write the address in full "
            "(four numbers, e.g. 127.0.0.1, or 0.0.0.0 for every address)",
            {"problem": HOST_SHORTENED, "reads_as": reads_as},
        )
    try:
        name = host.encode("idna").decode("ascii")
    except UnicodeError:
        name = ""
    labels = name.removesuffix(".").split(".")
    if not name or len(name.removesuffix(".")) > 253 or not all(map(_LABEL.fullmatch, labels)):
        return (
            f"{host!r} is not an IP address or a host name (labels of 1 to 63 characters)",
            {"problem": HOST_NOT_NAME},
        )
    return None


_LABEL = re.compile(r"[A-Za-z0-9_-]{1,63}")
# A last label the resolver takes as a number (decimal, octal or 0x hexadecimal): the name is
# then an IPv4 address to it, as the URL standard's "ends in a number" rule says for browsers.
_NUMERIC_LABEL = re.compile(r"[0-9]+|0[xX][0-9A-Fa-f]*")


_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_key(origin: str) -> str | None:
    """`origin` as a browser serialises its Origin header, or None when it is not one
    (scheme://host[:port], with at most a trailing "/"). Scheme and host lower-case, no
    default port, a host name in its ASCII (IDNA) form, an IPv6 literal in its shortest form:
    browsers send https://club.example for https://Club.Example:443, https://xn--ftbol-7ua.es
    for https://fútbol.es and http://[::1] for http://[0:0::1], so a configured origin is
    compared (server/cors.py, core/doctor.py) in this form, never as written."""
    if "?" in origin or "#" in origin:
        return None
    try:
        parsed = urlparse(origin.strip())  # raises ValueError on a bracketed non-IPv6 host
        port = parsed.port  # raises ValueError on a port that is not a number
    except ValueError:
        return None
    host = parsed.hostname  # lower-case, without an IPv6 literal's brackets
    if not (
        parsed.scheme
        and host
        and parsed.path in ("", "/")
        and not parsed.params
        and "@" not in parsed.netloc
    ):
        return None
    scheme = parsed.scheme.lower()
    if ":" in host:
        if "%" in host:
            return None  # a zone (fe80::1%eth0): browsers refuse such a URL
        try:
            netloc = f"[{ipaddress.ip_address(host).compressed}]"
        except ValueError:
            return None
    else:
        name = _ascii_host(host)
        if name is None:
            return None
        netloc = name
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{netloc}:{port}"
    return f"{scheme}://{netloc}"


# Python's idna codec is IDNA 2003, which maps these to other letters (ß to ss) where browsers
# (UTS #46, non-transitional) keep them: the two forms differ, so no answer would be right
_IDNA_DEVIATIONS = frozenset("\u00df\u03c2\u200c\u200d")


def _ascii_host(host: str) -> str | None:
    """`host` as browsers put it in an Origin (punycode labels), or None if it has none."""
    if _IDNA_DEVIATIONS & set(host):
        return None
    try:
        # ASCII labels pass as they are (only their length is checked), others are punycoded
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return None


STORAGE_INCOMPLETE = "storage_incomplete"
"""SettingsError's reason when R2 is chosen or partly set but its endpoint, bucket or keys are
missing (keys given only in the environment are never saved by `storage migrate`)."""
R2_FIELDS = ("r2_endpoint_url", "r2_bucket_name", "r2_access_key_id", "r2_secret_access_key")
STORAGE_FIX = (
    "Set them in the environment, or save them once: run 'mediadesk storage migrate --to r2 "
    "--save-keys' with them set, or enter them in the desktop app's Settings (Storage)"
)


def storage_gap(s: Settings) -> tuple[str, list[str]]:
    """(the problem with how to fix it, the missing variables), or ("", []): the one home of
    the rule that R2 needs its endpoint, bucket and both keys."""
    values = {n: getattr(s, n) for n in R2_FIELDS}
    missing = [ENV_NAMES[n] for n, v in values.items() if not v]
    if s.storage_backend == "r2" and not (s.r2_bucket_name and s.r2_endpoint_url):
        head = "Setting MEDIADESK_STORAGE_BACKEND: 'r2' needs the R2 endpoint, bucket and keys"
    elif any(values.values()) and missing:
        head = "R2 storage is partly configured"
    else:
        return "", []
    return f"{head}; missing: {', '.join(missing)}. {STORAGE_FIX}", missing


def r2_from_environment(settings: Settings, environ: Mapping[str, str] | None = None) -> list[str]:
    """The R2 variables the environment gives that the settings file and the secret store do
    not hold (save_settings never copies the environment's values): without them in the
    environment, the next start would miss them."""
    env = os.environ if environ is None else environ
    from_env = _env_values(env)
    path = Path(settings.config_file or settings.paths.settings_file)
    in_file = _read_file(path)
    store = _secret_store({"data_dir": settings.data_dir})
    unsaved = []
    for name in (n for n in ENV_NAMES if n.startswith("r2_")):
        if name not in from_env:
            continue
        kept = store.get(name) if name in SECRET_FIELDS else in_file.get(name)
        if kept != from_env[name]:
            unsaved.append(ENV_NAMES[name])
    return unsaved


def secret_location(settings: Settings) -> str:
    """Where this data folder's secrets are kept (system keyring or its secrets folder)."""
    return _secret_store({"data_dir": settings.data_dir}).location


def without_r2_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment minus R2_*: save_settings given it saves the R2 values the settings hold
    (the secret key into the secret store), as `storage migrate --save-keys` asks."""
    env = os.environ if environ is None else environ
    r2 = {ENV_NAMES[n] for n in ENV_NAMES if n.startswith("r2_")}
    return {k: v for k, v in env.items() if k not in r2}


def settings_file_path(env: Mapping[str, str] | None = None, data_dir: str = "") -> Path:
    """The settings file: MEDIADESK_CONFIG_FILE, else settings.toml in the config folder
    (inside MEDIADESK_DATA_DIR when that is set)."""
    env = os.environ if env is None else env
    configured = env.get("MEDIADESK_CONFIG_FILE")
    if configured:
        return Path(configured)
    return default_paths(data_dir or env.get("MEDIADESK_DATA_DIR") or None).settings_file


# fields that are no setting: never read from or written to settings.toml
INTERNAL_FIELDS = ("config_file", "allow_incomplete_storage", "data_dir_source")

# settings.toml keys: the fields' names, and the environment's names in lower case
FILE_ALIASES = {env.lower(): name for name, env in ENV_NAMES.items() if env.lower() != name}


_TYPES: dict[str, Any] = {f.name: f.type for f in fields(Settings)}


def _read_file(path: Path) -> dict[str, Any]:
    """The settings a settings file sets itself, by field name and coerced ({} when absent)."""
    return _read_file_keys(path)[0]


def _read_file_keys(path: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """_read_file's values, and field name -> the key the file spells it with."""
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return {}, {}  # none yet; a file standing for a folder on its way is check_data_dir's
    except PermissionError as exc:
        # only a folder on its way can refuse a stat: naming the file blamed one that may not
        # exist for its folder's fault
        folder = _folder_in_the_way(path)
        held = f", which holds the settings file {path},"
        raise cannot_read(folder, exc, "folder", note=held) from None
    except OSError as exc:
        # a link looping to itself, an I/O error: the file is what is wrong, not a folder nor
        # who runs MediaDesk (it was blamed on a readable folder, with "Run MediaDesk as root")
        raise SettingsError(
            f"The settings file {path} cannot be read: {exc.strerror or exc}. Fix or remove it",
            details={"path": str(path), "errno": errno.errorcode.get(exc.errno or 0, "")},
        ) from None
    if stat.S_ISDIR(mode):
        # is_file() took it for no file at all: every setting in it was silently the default
        raise SettingsError(
            f"The settings file {path} is a folder, not a file: remove or rename that folder, "
            "or point MEDIADESK_CONFIG_FILE at a file",
            details={"path": str(path)},
        )
    if not stat.S_ISREG(mode):
        return {}, {}  # /dev/null means no settings; a FIFO would hold the start for good
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        # another user's file (an unreadable MEDIADESK_CONFIG_FILE): a traceback of 30 lines,
        # exit status 1, from every command
        raise cannot_read(path, exc, "settings file") from None
    try:
        raw = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"Settings file {path} is not valid TOML: {exc}") from None
    values: dict[str, Any] = {}
    keys: dict[str, str] = {}
    for key, value in raw.items():
        # the environment's name in lower case is a key too (mediadesk_port = server_port)
        name = FILE_ALIASES.get(key, key)
        if name not in _TYPES or name in INTERNAL_FIELDS:
            meant = _file_key_meant(key)
            hint = f"; did you mean {meant!r}?" if meant else " (see the README's settings table)"
            raise SettingsError(f"Settings file {path}: unknown setting {key!r}{hint}")
        if name in keys:
            # "'server_port' sets 'server_port' a second time" named one key twice and never
            # the line that was really in the way
            raise SettingsError(
                f"Settings file {path}: {keys[name]!r} and {key!r} are the same setting "
                f"({ENV_NAMES.get(name, name)}); keep one of them"
            )
        keys[name] = key
        values[name] = _coerce(name, value, _TYPES[name])
    return values, keys


def cannot_read(
    path: Path, exc: OSError, what: str, source: DataDirSource | None = None, note: str = ""
) -> SettingsError:
    """The one line for a file or folder of the settings this user may not read: the path,
    the system's words, whose it is and what to do. `source`: `path` is the data folder, set
    there (its refusal is then DATA_DIR_UNUSABLE, which the desktop words itself)."""
    owner_uid: int | None = None
    where = path
    for probe in (path, *path.parents):  # the nearest one this user may look at
        try:
            owner_uid = probe.stat().st_uid
        except OSError:
            continue
        where = probe
        break
    user_uid = os.geteuid() if hasattr(os, "geteuid") else None
    owner = _who(owner_uid)
    run_as = f"as {owner}, who owns {where}" if owner else "as the user who owns it"
    # names, "" where the system has none ("user id N" is worded by each edge, in its language)
    details: dict[str, object] = {
        "path": str(path),
        "errno": errno.errorcode.get(exc.errno or 0, ""),
        "error": exc.strerror or str(exc),
        "owner": _user_name(owner_uid),
        "owner_uid": owner_uid,
        "user": _user_name(user_uid),
        "user_uid": user_uid,
    }
    reason = None
    if source is not None:
        reason = DATA_DIR_UNUSABLE
        details |= {"cause": CANNOT_READ, "folder": str(where)}
        details |= {"source": source.kind, "settings_file": source.settings_file}
    return SettingsError(
        f"The {what} {path}{note} cannot be read: {exc.strerror or exc}. Run MediaDesk {run_as}, "
        "or give this user access to it",
        reason=reason,
        details=details,
    )


def _user_name(uid: int | None) -> str:
    """The system's name for the user `uid`; "" when it has none."""
    if uid is None:
        return ""
    with contextlib.suppress(ImportError, KeyError):
        import pwd

        return pwd.getpwuid(uid).pw_name
    return ""


def _who(uid: int | None) -> str:
    """The user `uid` as core's English sentences name it."""
    return _user_name(uid) or ("" if uid is None else f"user id {uid}")


def _folder_in_the_way(path: Path) -> Path:
    """The folder on `path`'s way this user may not enter: the parent of the first step whose
    stat it refuses."""
    for step in (*reversed(path.parents), path):
        try:
            step.stat()
        except PermissionError:
            return step.parent
        except OSError:
            break
    return path.parent


def _check_access(data_dir: Path, source: DataDirSource) -> None:
    """Refuses an existing data folder this user may not enter or list: its settings file, its
    secrets and its catalog would fail next, and the first of them was blamed."""
    try:
        os.listdir(data_dir)
    except FileNotFoundError:
        return  # made later (DataPaths.ensure says why it cannot be)
    except NotADirectoryError:
        return  # check_data_dir's
    except OSError as exc:
        raise cannot_read(data_dir, exc, "data folder", source) from None


def _env_values(env: Mapping[str, str]) -> dict[str, Any]:
    """The settings the environment sets, coerced."""
    return {
        name: _coerce(name, env[env_name], _TYPES[name])
        for name, env_name in environment_overrides(env).items()
    }


UPGRADE_WHILE_RUNNING = "MEDIADESK_UPGRADE_WHILE_RUNNING"
"""Environment only, like MEDIADESK_SECRETS: a permission for one upgrade, never saved."""


def upgrade_while_running(environ: Mapping[str, str] | None = None) -> bool:
    """Whether MEDIADESK_UPGRADE_WHILE_RUNNING lets a catalog upgrade run under live processes
    (core/db/schema_guard.py): a boolean like every other setting's, checked at each start, so
    a value such as "maybe" stops start-up instead of meaning "no" without a word."""
    env = os.environ if environ is None else environ
    raw = env.get(UPGRADE_WHILE_RUNNING, "")
    return bool(raw.strip()) and bool(_coerce(UPGRADE_WHILE_RUNNING, raw, "bool"))


# Every MEDIADESK_* variable read anywhere besides ENV_NAMES' settings (tests/test_env_names.py
# checks the code names no other): a misspelt one is said at start, not ignored without a word
OTHER_ENV_NAMES = frozenset(
    {
        UPGRADE_WHILE_RUNNING,
        SECRETS_ENV,
        "MEDIADESK_CONFIG_FILE",  # settings_file_path
        "MEDIADESK_TOKEN",  # the command-line client's token
        "MEDIADESK_SERVER",  # the command-line client's server
    }
)
_ENV_PREFIX = "MEDIADESK_"
_told_unknown: set[str] = set()


def unknown_environment(env: Mapping[str, str]) -> dict[str, str | None]:
    """MEDIADESK_* variables set in `env` that MediaDesk does not read -> the name meant, when
    one is close (the seed's MAX_FILE_SIZE given the prefix too), else None."""
    known = set(ENV_NAMES.values()) | OTHER_ENV_NAMES
    unknown: dict[str, str | None] = {}
    for name in env:
        if not name.startswith(_ENV_PREFIX) or name in known:
            continue
        bare = name[len(_ENV_PREFIX) :]
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.8)
        unknown[name] = bare if bare in known else (close[0] if close else None)
    return unknown


def _file_key_meant(key: str) -> str | None:
    """The settings.toml key meant by an unknown `key`, when one is close: the seed's
    settings keep their names without the prefix (`mediadesk_max_file_size` is
    `max_file_size`), as the environment's warning says of the prefixed variable name."""
    keys = sorted((set(_TYPES) - set(INTERNAL_FIELDS)) | set(FILE_ALIASES))
    lowered = key.strip().lower()
    bare = lowered.removeprefix(_ENV_PREFIX.lower())
    if lowered in keys or bare in keys:
        return lowered if lowered in keys else bare
    close = difflib.get_close_matches(lowered, keys, n=1, cutoff=0.8)
    return close[0] if close else None


def _tell_unknown(env: Mapping[str, str]) -> None:
    for name, meant in unknown_environment(env).items():
        if name in _told_unknown:
            continue  # settings are loaded many times a run: said once
        _told_unknown.add(name)
        hint = f"; did you mean {meant}?" if meant else " (see the README's settings table)"
        logger.warning("%s is not a MediaDesk setting and is ignored%s", name, hint)


def load_settings(
    environ: Mapping[str, str] | None = None,
    config_file: str | Path | None = None,
    **overrides: Any,
) -> Settings:
    """Defaults, then the TOML file, then environment variables, then explicit overrides."""
    env = os.environ if environ is None else environ
    # First: a value refused below (MEDIADESK_PORT=abc) hid a mistyped name's warning beside it
    _tell_unknown(env)
    types = _TYPES
    values: dict[str, Any] = {}
    # An explicit folder (--data-dir) beats the environment, as every other override does.
    data_dir = overrides.get("data_dir") or env.get("MEDIADESK_DATA_DIR") or ""
    if config_file is None:
        config_file = settings_file_path(env, data_dir)
    path = Path(config_file)
    if data_dir:
        # Known before the file (which cannot move it): a folder this user may not enter was
        # reported as its settings.toml being unreadable, a file that may not even exist
        _check_access(default_paths(data_dir).data_dir, _data_dir_source(path, {}, env, overrides))
    file_values = _read_file(path)
    values.update(file_values)
    values.update(_env_values(env))
    for key, value in overrides.items():
        values[key] = _coerce(key, value, types[key]) if value is not None else None
    values = {k: v for k, v in values.items() if v is not None}
    source = _data_dir_source(path, file_values, env, overrides)
    check_secrets_mode(env)
    upgrade_while_running(env)
    check_data_dir(default_paths(values.get("data_dir") or None).data_dir, source)
    _check_access(default_paths(values.get("data_dir") or None).data_dir, source)
    _load_secrets(path, values, file_values)
    return validate(Settings(config_file=str(path), data_dir_source=source, **values))


def _data_dir_source(
    path: Path, file_values: Mapping[str, Any], env: Mapping[str, str], overrides: Mapping[str, Any]
) -> DataDirSource:
    """Which of load_settings' layers gave data_dir (the last one that sets it wins)."""
    if overrides.get("data_dir"):
        return DataDirSource("flag")
    if env.get(ENV_NAMES["data_dir"]):
        return DataDirSource("env")
    if file_values.get("data_dir"):
        return DataDirSource("file", str(path))
    return DataDirSource()


def environment_overrides(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Setting name -> the environment variable that sets it, for the settings the environment
    gives: they win over settings.toml at every start, so a value saved for them never applies
    (save_settings keeps the file's own value under them)."""
    env = os.environ if environ is None else environ
    return {name: env_name for name, env_name in ENV_NAMES.items() if env.get(env_name, "") != ""}


DATA_DIR_FLAG = "--data-dir"


def pinned_settings(settings: Settings, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Setting name -> what fixes it for this run: the environment variables of
    environment_overrides, and "--data-dir" for a data folder the command line gave (it beats
    MEDIADESK_DATA_DIR). Settings cannot change them: the next start takes them from there."""
    pinned = environment_overrides(environ)
    if settings.data_dir_source.kind == "flag":
        pinned["data_dir"] = DATA_DIR_FLAG
    return pinned


def _secret_store(values: Mapping[str, Any]) -> SecretStore:
    return SecretStore(default_paths(values.get("data_dir") or None).secrets_dir)


def _load_secrets(path: Path, values: dict[str, Any], file_values: Mapping[str, Any]) -> None:
    """Fills secrets from the secret store; moves any found in settings.toml out of it."""
    store = _secret_store(values)
    leaked = [name for name in SECRET_FIELDS if file_values.get(name)]
    for name in leaked:
        store.set(name, str(file_values[name]))
    if leaked:
        _rewrite_without(path, leaked)
        logger.warning("Moved %s out of %s into %s", ", ".join(leaked), path, store.location)
    for name in SECRET_FIELDS:
        if not values.get(name):
            stored = store.get(name)
            if stored:
                values[name] = stored
    # settings.toml keeps a saved DATABASE_URL without its secrets: put them back, unless the
    # environment (or an override) brought a URL of its own.
    url = values.get("database_url") or ""
    if url and url == file_values.get("database_url"):
        values["database_url"] = join_database_secrets(
            url, store.get(DATABASE_PASSWORD), store.get(DATABASE_QUERY_SECRETS)
        )


def _rewrite_without(path: Path, names: list[str]) -> None:
    """settings.toml minus the given keys, written atomically and fsynced."""
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    lines = [f"{k} = {_toml_value(v)}" for k, v in raw.items() if k not in names]
    _write_atomic(path, "\n".join(lines) + "\n")


def _write_atomic(target: Path, text: str) -> None:
    """Written whole or not at all, fsynced, and 0600 whatever the umask: it names the catalog,
    the bucket and the key id, and is read only by MediaDesk running as this user."""
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    if os.name != "nt":
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def save_settings(
    settings: Settings, path: str | Path | None = None, environ: Mapping[str, str] | None = None
) -> Path:
    """Writes what the user chose to the settings file (atomically, 0600); secrets go to the
    secret store.

    A value the environment sets (and `settings` still holds) came from the environment, not
    from this save: the file keeps its own value for it, or none, and the environment stays an
    override read at each start. Otherwise `storage migrate` or the Settings dialog, run with
    DATABASE_URL or R2_* in the environment, would copy them (passwords included) to disk.
    """
    env = os.environ if environ is None else environ
    target = Path(path or settings.config_file or settings.paths.settings_file)
    make_dirs(target.parent, PRIVATE_DIR_MODE)
    from_env = _env_values(env)
    # a key the user wrote in the environment's spelling (mediadesk_port) keeps it: both are
    # documented keys, and a save (the app's Settings, `storage migrate`) changes values only
    in_file, spelled = _read_file_keys(target)
    store = _secret_store({"data_dir": settings.data_dir})

    def chosen(name: str) -> tuple[bool, Any]:
        """(write it?, value): the settings' value, or the file's own one under the env's."""
        value = getattr(settings, name)
        if name in from_env and _normal(from_env[name]) == _normal(value):
            return name in in_file, in_file.get(name)
        return True, value

    lines = []
    for key in settings.to_toml_dict():  # never the secrets
        write, value = chosen(key)
        if not write or (key not in in_file and _normal(value) == _DEFAULTS.get(key, MISSING)):
            # the second: nobody chose it. Written, it pinned the default (a later version's
            # new default never applied; a team's file no longer told its choices apart)
            continue
        if key == "database_url":
            value = _keep_database_secrets(str(value or ""), in_file.get(key), store, target)
        value = list(value) if isinstance(value, tuple) else value
        lines.append(f"{spelled.get(key, key)} = {_toml_value(value)}")
    for name in SECRET_FIELDS:
        write, value = chosen(name)
        if write:  # the environment's key is never copied into the store
            store.set(name, value or "")
    _write_atomic(target, "\n".join(lines) + "\n")
    return target


def _keep_database_secrets(url: str, in_file: Any, store: SecretStore, target: Path) -> str:
    """`url` as settings.toml keeps it: without its password and secret query parameters,
    which go to the secret store (SettingsError for a URL whose secrets cannot be told apart).
    A secret the URL does not hold stays stored while the URL is the file's one (it is what
    loading puts back), and is removed for another URL."""
    bare, *secrets_in_url = split_database_secrets(url)
    try:
        old_bare, *secrets_in_file = split_database_secrets(str(in_file or ""))
    except SettingsError:  # an unreadable URL written by hand: replaced by this one
        old_bare, secrets_in_file = "", ["", ""]
    kinds = zip(
        (DATABASE_PASSWORD, DATABASE_QUERY_SECRETS), secrets_in_url, secrets_in_file, strict=True
    )
    for name, secret, was_in_file in kinds:
        if secret:
            store.set(name, secret)
            if was_in_file:
                logger.warning(
                    "Moved the database password out of %s into %s", target, store.location
                )
        elif bare != old_bare:
            store.delete(name)  # another URL, without one: none to put back
    return bare


def _normal(value: Any) -> Any:
    """A value as validate() would store it (ALLOWED_*_TYPES in their canonical spellings)."""
    if isinstance(value, tuple | list):
        return tuple(canonical_mime(str(v)) or v for v in value)
    return value


# Each setting's default, as `_normal` compares: save_settings writes none the file lacks
_DEFAULTS = {f.name: _normal(f.default) for f in fields(Settings) if f.default is not MISSING}


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
