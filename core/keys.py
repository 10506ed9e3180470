"""The one module that builds and normalises storage keys (seed layout) and derivative keys."""

from __future__ import annotations

import posixpath
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from core.errors import InvalidInput

THUMBNAIL_PREFIX = "_derived/thumbnails/"
VARIANT_PREFIX = "_derived/variants/"
VIDEO_PREFIX = "_derived/video/"
# Every key MediaDesk writes starts with one of these (originals, derivatives; resumable and
# multipart uploads go to their original's key): a bucket may be shared with other
# applications, and what lies outside them is theirs (reconcile and the multipart clean-up
# leave it alone)
MEDIA_PREFIXES = ("athletes/", "general/")
DERIVED_PREFIX = "_derived/"
OWN_PREFIXES = (*MEDIA_PREFIXES, DERIVED_PREFIX)
_SAFE_KEY = re.compile(r"^[A-Za-z0-9._/-]+$")
# media_key's two shapes; a name of letters, digits, "_" and "-" with one extension
_MEDIA_KEY = re.compile(
    r"^(?:athletes/(?P<athlete>[1-9][0-9]{0,17})|general)"
    r"/(?P<year>[1-9][0-9]{3})/(?P<month>0[1-9]|1[0-2])/(?P<name>[A-Za-z0-9_-]+\.[A-Za-z0-9]+)$"
)


def media_key(
    athlete_id: int | None, ext: str, when: datetime | None = None, unique: str | None = None
) -> str:
    """`athletes/{athlete_id}/{YYYY}/{MM}/{uuid}.{ext}` or `general/{YYYY}/{MM}/{uuid}.{ext}`."""
    when = when or datetime.now(UTC)
    name = f"{unique or uuid.uuid4().hex}.{ext.lstrip('.').lower()}"
    date = f"{when.year:04d}/{when.month:02d}"
    if athlete_id is None:
        return f"general/{date}/{name}"
    if int(athlete_id) <= 0:
        raise InvalidInput("athlete_id must be a positive integer")
    return f"athletes/{int(athlete_id)}/{date}/{name}"


@dataclass(frozen=True)
class MediaKey:
    """What a key in media_key's layout says: the athlete folder it is in, the month it was
    stored in, and its file name."""

    athlete_id: int | None
    year: int
    month: int
    name: str

    def month_span(self) -> tuple[datetime, datetime]:
        """The first instant of its month and of the next (UTC, as media_key dates keys)."""
        start = datetime(self.year, self.month, 1, tzinfo=UTC)
        if (self.year, self.month) == (9999, 12):
            return start, datetime.max.replace(tzinfo=UTC)
        following = datetime(self.year + self.month // 12, self.month % 12 + 1, 1, tzinfo=UTC)
        return start, following


def parse_media_key(key: str) -> MediaKey | None:
    """The parts of a key in media_key's layout, or None for any other key."""
    found = _MEDIA_KEY.match(key)
    if found is None:
        return None
    athlete = found["athlete"]
    return MediaKey(
        int(athlete) if athlete else None, int(found["year"]), int(found["month"]), found["name"]
    )


def is_own_key(key: str) -> bool:
    """Whether `key` is in a folder MediaDesk writes (OWN_PREFIXES)."""
    return key.startswith(OWN_PREFIXES)


def rekey_for_athlete(key: str, athlete_id: int | None) -> str:
    """The key a file moves to when its athlete changes: same date folder and file name."""
    parts = normalise_key(key).split("/")
    if parts[0] == "athletes":
        year, month, name = parts[2], parts[3], parts[4]
    else:
        year, month, name = parts[1], parts[2], parts[3]
    date = f"{year}/{month}"
    if athlete_id is None:
        return f"general/{date}/{name}"
    return f"athletes/{int(athlete_id)}/{date}/{name}"


def renamed_key(key: str) -> str:
    """The key under a new unguessable file name, same folder and extension: where an object
    goes when the address it had was handed out (a public domain link) and must stop working."""
    folder, _, name = normalise_key(key).rpartition("/")
    ext = name.rsplit(".", 1)[1] if "." in name else ""
    fresh = f"{uuid.uuid4().hex}.{ext}" if ext else uuid.uuid4().hex
    return f"{folder}/{fresh}" if folder else fresh


def thumbnail_key(key: str) -> str:
    stem = normalise_key(key).rsplit(".", 1)[0]
    return f"{THUMBNAIL_PREFIX}{stem}.webp"


def variant_key(key: str, width: int) -> str:
    stem = normalise_key(key).rsplit(".", 1)[0]
    return f"{VARIANT_PREFIX}{stem}.w{int(width)}.webp"


def derivative_keys(key: str) -> list[str]:
    """Fixed derivative keys of a media key (variants are found by prefix)."""
    return [thumbnail_key(key)]


def variant_prefix(key: str) -> str:
    stem = normalise_key(key).rsplit(".", 1)[0]
    return f"{VARIANT_PREFIX}{stem}."


def video_prefix(key: str) -> str:
    """Folder of a video's renditions, HLS ladder and scrub thumbnails.

    Named by the key's unique file name (not its folder), so it stays put when the file moves
    to another athlete's folder.
    """
    name = normalise_key(key).rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return f"{VIDEO_PREFIX}{name}/"


def video_owner_name(derived_key: str) -> str | None:
    """The unique file name a key under VIDEO_PREFIX belongs to (for reconcile)."""
    if not derived_key.startswith(VIDEO_PREFIX):
        return None
    return derived_key[len(VIDEO_PREFIX) :].split("/", 1)[0] or None


def normalise_key(key: str) -> str:
    """A clean relative key; refuses traversal, absolute paths, backslashes and odd characters."""
    if not key or "\\" in key or "\x00" in key or key.startswith("/"):
        raise InvalidInput(f"Invalid storage key {key!r}")
    clean = posixpath.normpath(key)
    if (
        clean != key.rstrip("/")
        or clean.startswith("..")
        or "/../" in f"/{clean}/"
        or clean in (".", "")
        or not _SAFE_KEY.match(clean)
    ):
        raise InvalidInput(f"Invalid storage key {key!r}")
    return clean


def url_path(key: str) -> str:
    """A key as the path of a URL: percent-quoted, its slashes kept as path separators (public
    bucket URLs, our signed URLs, nginx's internal redirects)."""
    return quote(key, safe="/")


def public_object_url(domain: str, key: str) -> str:
    """The address of an object under a bucket's public domain (an R2 custom domain or r2.dev)."""
    return f"{domain.rstrip('/')}/{url_path(key)}"
