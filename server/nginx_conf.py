"""nginx in front of MediaDesk: the site `mediadesk nginx-config` prints, the README shows and
tests/test_team_nginx.py and bench/stream.py run. One text, so what is documented is what is
tested and measured.

nginx sends the bytes of local-storage objects; MediaDesk still decides every request. A GET or
HEAD of an object's bytes (/stream/…/video, segments, /signed/…) first asks MediaDesk in a
header-only subrequest (auth_request, with the client's method in X-MediaDesk-Check:
server/streaming.py). MediaDesk answers 200
with the object's internal location when nginx can send exactly what MediaDesk would have
sent, or 403 when MediaDesk must answer the request itself (errors, 304/412/416, several
ranges, preconditions nginx would judge otherwise, bytes that are not on this disk): nginx then
passes the whole request on, marked IN_FULL.

What nginx sends is every header of MediaDesk's answer, taken from the check: its validators
rather than nginx's own (`etag off`, `if_modified_since off`: MediaDesk has judged If-None-Match
and If-Modified-Since against them already; nginx's If-Range compares the ETag it sends, ours),
and CORS's. When nginx's internal location fails (the object gone since the check, a range past
the end) the request goes to MediaDesk in full too: it opens the object itself and answers its
JSON 404/416. nginx never follows an X-Accel-Redirect of an answer it passes on: those would
carry the bytes' headers into an error of nginx's, or lose the ones the check gives. (Left: a
range past the end that meets a kept 200 is found so by nginx's range filter, which runs after
add_header, and nginx keeps the headers it has set in front of MediaDesk's JSON 416: the file's
Cache-Control next to MediaDesk's no-store. nginx cannot compare the range with the size
before; only a per-range check would, at the cost of the kept answers.)

nginx keeps a 200 for one caller and one shape of request until the current half-second ends:
a player's run of range requests costs MediaDesk one answer per half-second instead of one per
range (with one answer per range, MediaDesk's Python, not nginx, set the pace: 0.65x nginx
alone on 1 MiB ranges). A revoked token, a trashed file or a file made private is still refused
everywhere within a second: the half-second plus the change feed's delay.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.mediatypes import ALL_TYPES
from core.video.service import CONTENT_TYPES as DERIVATIVE_TYPES

CHECK_HEADER = "X-MediaDesk-Check"
"""Request header of nginx's check subrequest: the client's method."""

IN_FULL = "IN-FULL"
"""X-MediaDesk-Check of every request nginx passes on whole (after a check's 403, a failed check,
a file its internal location no longer finds or a range past its end, and all other routes):
MediaDesk answers it itself, never with X-Accel-Redirect. A client's own value never arrives."""

COPIED_HEADERS = (
    "Cache-Control",
    "Content-Disposition",
    "Content-Location",
    "ETag",
    "Last-Modified",
    "X-Content-Type-Options",
    "X-MediaDesk-Rendition",
    "X-MediaDesk-Width",
)
"""What nginx copies from a check's 200 onto the bytes it sends (and CORS_HEADERS). With
NGINX_OWN_HEADERS that is every header of MediaDesk's answer: a check whose answer holds another
is answered 403 (server/streaming.py), so nginx never sends less than MediaDesk would have."""

NGINX_OWN_HEADERS = ("Accept-Ranges", "Content-Length", "Content-Range", "Content-Type")
"""What nginx sets itself on the bytes it sends: its ranges, and the Content-Type of the
object's extension (a check answers 403 when that is not MediaDesk's)."""

CORS_HEADERS = ("Access-Control-Allow-Origin", "Access-Control-Expose-Headers", "Vary")
"""What every MediaDesk answer carries for CORS (server/cors.py), its check's 200 too: nginx
copies them as well, so a cross-origin player's ranges are nginx's to send."""

NGINX_TYPES: dict[str, str] = {t.ext: t.mime for t in ALL_TYPES} | {
    ext.lstrip("."): mime for ext, mime in DERIVATIVE_TYPES.items()
}
"""Extension -> Content-Type of stored objects, as nginx's internal location names them."""

# The routes that send an object's bytes (server/routes/stream.py, hls.py, signed.py); the
# others under /stream/ (info, playlists, cues) are small answers MediaDesk gives directly
BYTE_ROUTES = (
    r"^/(stream/[^/]+/(video|image|raw|hls/[^/]+/[^/]+\.(ts|m4s|mp4)|thumbnails/sprite\.jpg)"
    r"|signed/)"
)

# What a kept answer depends on: who asks (token header, or ?access_token= / a signature in the
# URI), for what (method, URI), under which conditions, and whether the range is none, one or
# several (several are MediaDesk's to answer). The range itself is nginx's. $mediadesk_tick
# changes every half-second, which bounds the reuse below nginx's one-second cache granularity.
CHECK_KEY = (
    "$mediadesk_tick $request_method $request_uri $http_authorization $http_origin "
    "$mediadesk_ranges $http_if_match $http_if_none_match $http_if_modified_since "
    "$http_if_unmodified_since $http_if_range"
)
REUSE_SECONDS = 0.5  # how long nginx reuses an answer at most ($mediadesk_tick)

_HTTP = """\
upstream mediadesk {{
    server {upstream};
    keepalive 32;                            # reuse connections: no TCP set-up per request
}}
map $msec $mediadesk_tick {{                  # the current half-second
    "~^(?<s>[0-9]+)[.][0-4]" $s.0;
    "~^(?<s>[0-9]+)"         $s.5;
}}
map $http_range $mediadesk_ranges {{ "" none; "~," many; default one; }}
map $http_x_request_id $mediadesk_request_id {{  # the caller's id when MediaDesk would keep it
    "~^[A-Za-z0-9._-]{{1,64}}$" $http_x_request_id;
    default                     $request_id;
}}
proxy_cache_path {cache_dir} levels=1:2 keys_zone=mediadesk_checks:1m
                 max_size=64m inactive=10s use_temp_path=off;
"""

_PROXY = """\
        proxy_pass http://mediadesk{uri};
        proxy_http_version 1.1;
        proxy_set_header Connection "";      # keep-alive to MediaDesk (the upstream above)
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Request-ID $mediadesk_request_id;  # one id in both logs
"""

_LOCATIONS = """\
    client_max_body_size 0;                  # MediaDesk enforces MAX_FILE_SIZE itself
    large_client_header_buffers 4 64k;       # tus Upload-Metadata: a 10,000-character description
    proxy_buffer_size 64k;                   # ...which HEAD and the creation's 201 echo back
    proxy_buffers 4 64k;
    proxy_busy_buffers_size 128k;

    location / {{
{proxy}\
        proxy_request_buffering off;         # uploads stream through
        proxy_buffering off;                 # /events streams out (X-Accel-Buffering: no too)
        proxy_read_timeout 1h;
    }}
    location ~ {byte_routes} {{  # bytes: MediaDesk decides, nginx sends
        auth_request /_mediadesk_check;
        auth_request_set $mediadesk_object $upstream_http_x_accel_redirect;
{copies_set}\
        error_page 403 = @mediadesk;         # MediaDesk answers this one itself (and PUT, OPTIONS)
        error_page 500 = @mediadesk;         # the check failed (MediaDesk down): a 502 from there
        try_files /.mediadesk-none $mediadesk_object;
    }}
    location = /_mediadesk_check {{
        internal;
{check_proxy}\
        proxy_set_header {check_header} $request_method;
        proxy_pass_request_body off;
        proxy_set_header Content-Length "";
        # with a cache on, nginx drops these on the way up; MediaDesk's answer needs them
        proxy_set_header Range $http_range;
        proxy_set_header If-Range $http_if_range;
        proxy_set_header If-Match $http_if_match;
        proxy_set_header If-None-Match $http_if_none_match;
        proxy_set_header If-Modified-Since $http_if_modified_since;
        proxy_set_header If-Unmodified-Since $http_if_unmodified_since;
        proxy_cache mediadesk_checks;
        proxy_cache_key "{key}";
        proxy_ignore_headers X-Accel-Redirect Cache-Control Expires Set-Cookie Vary;
        proxy_pass_header X-Accel-Redirect;  # read by auth_request_set above, never followed
    }}
    location @mediadesk {{                    # the request as the client sent it, uncached
{proxy_request}\
        proxy_request_buffering off;
        proxy_buffering off;
        proxy_read_timeout 1h;
    }}
    location ^~ {accel_prefix} {{               # MEDIADESK_ACCEL_REDIRECT={accel_prefix}
        internal;
        alias {objects_dir}/;
        sendfile on;
        etag off;                            # MediaDesk's ETag and Last-Modified (below), and
        if_modified_since off;               # ...its verdict on If-None-Match/-Modified-Since
        types {{
{types}
        }}
{copies_add}\
        add_header X-Request-ID $mediadesk_request_id;  # MediaDesk's own answers carry one too
        error_page 404 416 = @mediadesk;     # gone since, or a range past the end: its JSON
    }}
"""


def _var(header: str) -> str:
    return "$mediadesk_" + header.lower().replace("-", "_")


@dataclass(frozen=True)
class NginxSite:
    """The nginx side of MEDIADESK_ACCEL_REDIRECT for one MediaDesk server and data folder."""

    upstream: str = "127.0.0.1:8765"  # where `mediadesk serve` listens
    objects_dir: str = "/var/lib/mediadesk/objects"
    # The cache's keys hold each caller's Authorization header: tmpfs (/run), never a disk, in
    # a folder nginx creates for its workers only; an entry lasts 10 s after its last use.
    cache_dir: str = "/run/nginx-mediadesk-checks"
    accel_prefix: str = "/_protected/"

    def http_part(self) -> str:
        """The upstream, the maps and the check cache (http level)."""
        return _HTTP.format(upstream=self.upstream, cache_dir=self.cache_dir)

    def locations(self) -> str:
        """The locations of the server block that faces clients."""
        # a client's own check header would make MediaDesk answer its request as nginx's check
        cleared = f"        proxy_set_header {CHECK_HEADER} {IN_FULL};  # only nginx asks checks\n"
        copied = COPIED_HEADERS + CORS_HEADERS
        return _LOCATIONS.format(
            proxy=_PROXY.format(uri="") + cleared,
            check_proxy=_PROXY.format(uri="$request_uri"),
            proxy_request=_PROXY.format(uri="$request_uri") + cleared,
            check_header=CHECK_HEADER,
            byte_routes=BYTE_ROUTES,
            key=CHECK_KEY,
            copies_set="".join(
                f"        auth_request_set {_var(h)} $upstream_http_{_var(h)[11:]};\n"
                for h in copied
            ),
            copies_add="".join(f"        add_header {h} {_var(h)};\n" for h in copied),
            types="\n".join(
                f"            {mime:<34}{ext};" for ext, mime in sorted(NGINX_TYPES.items())
            ),
            accel_prefix=self.accel_prefix,
            objects_dir=self.objects_dir.rstrip("/"),
        )

    def site(self, server_name: str, certificate: str, certificate_key: str) -> str:
        """A whole site file (for /etc/nginx/sites-enabled/, inside nginx's http block)."""
        return (
            self.http_part()
            + "\nserver {\n"
            + "    listen 443 ssl http2;\n"
            + f"    server_name {server_name};\n"
            + f"    ssl_certificate     {certificate};\n"
            + f"    ssl_certificate_key {certificate_key};\n"
            + self.locations()
            + "}\n"
        )
