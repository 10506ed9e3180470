"""The origin of the absolute links this process hands out (watch pages, local signed links),
the content tag the links to a file's bytes and images carry, and what a file grant names.

One rule for all of them, so that a watch link and a download link answered to the same request
name the same server. A request's Host header is the client's to write: a link that took it as
it came would send the next person who opens it (a player, a recipient of a shared link) wherever
the first client liked, so it is believed only when it names this machine.
"""

from __future__ import annotations

import hashlib
import ipaddress
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from core.listing import FileStatus
from core.mediatypes import FileKind

if TYPE_CHECKING:
    from core.records import FileRecord

# A server bound to one of these listens on every address: none of them can be opened from
# elsewhere, so the link names an address the client actually reached.
WILDCARDS = frozenset({"0.0.0.0", "::"})
LIMITED_BROADCAST = ipaddress.IPv4Address("255.255.255.255")
DISCARD_PORT = 9  # any port does for the broadcast probe: a UDP connect() sends nothing
# Documentation addresses (RFC 5737, RFC 3849), which no network answers: a UDP connect() to
# one sends nothing, yet picks the address a packet to the internet would leave from (the
# default route's source), which is this machine's address on its network
ROUTE_PROBES = {socket.AF_INET: "203.0.113.1", socket.AF_INET6: "2001:db8::1"}


@dataclass(frozen=True)
class Arrival:
    """Where a request was sent: its Host header as written, and the local address of the
    socket it arrived on (an address of this machine the client reached)."""

    host: str
    local_address: str


def versioned_link(path: str, record: FileRecord) -> str:
    """`path` (no query yet) with the file's content tag, when it has one: such a URL names
    these bytes for good, so the server lets it be cached for good (server/caching.py). The
    API's `urls` and the desktop's Copy link both carry it, so they hand out the same link."""
    tag = record.content_tag
    return f"{path}?v={tag}" if tag else path


GRANT_SUBJECT = "mediadesk-file-grant-subject-v1"


class GrantKeys(Protocol):
    """What signs and checks file grants with the catalog's link key (core.library.Library):
    an HMAC over the number it is given and the expiry."""

    def sign_file_grant(self, file_id: int, expires_in: int | None = None) -> str: ...

    def verify_file_grant(self, file_id: int, query: Mapping[str, str]) -> None: ...


def grant_subject(record: FileRecord) -> int:
    """The number a file grant (`exp=…&sig=…`) is signed for: one made of the file's id and
    its bytes' SHA-256, never the id alone. An id can come to name another file: put an older
    backup of the data folder back and the catalog hands out again the ids it gave after that
    backup, so a grant of the bare id opened whatever private file was uploaded next under it.
    Checked against what the id names now, a grant made for other bytes does not match (403
    invalid_signature, as a tampered one). The SHA-256 rather than the content tag (`?v=`): a
    reprocess gives a file a new tag, and must not end the links handed out for it. An alias
    id's record carries its file's SHA-256 under the alias id, so its grants stay its own."""
    named = f"{GRANT_SUBJECT}:{int(record.id)}:{record.sha256 or ''}"
    return int.from_bytes(hashlib.sha256(named.encode("ascii")).digest(), "big")


def sign_grant(keys: GrantKeys, record: FileRecord, expires_in: int | None = None) -> str:
    """`exp=…&sig=…` opening this file's media URLs while it holds these bytes; every grant is
    signed here (the API's, the watch links, the desktop's Copy link)."""
    return keys.sign_file_grant(grant_subject(record), expires_in)


def check_grant(keys: GrantKeys, record: FileRecord, query: Mapping[str, str]) -> None:
    """InvalidSignature or SignatureExpired unless `query` holds a grant signed by sign_grant
    for this file as it is now (its id and its bytes); every grant is checked here."""
    keys.verify_file_grant(grant_subject(record), query)


def share_path(record: FileRecord) -> str | None:
    """The permanent link (a path on the server) of a file anyone may open: public, ready and
    not in the trash. A video's is its player page, any other file's its stream URL with the
    content tag (an image shows in a browser; a kind without a player of its own is served
    raw). As the web's shareUrl() gives: a signed download would be saved rather than shown,
    and would expire although the file is public. None for a file that needs a signed link."""
    if not record.is_public or record.is_trashed or record.status != FileStatus.READY:
        return None
    if record.file_type == FileKind.VIDEO:
        return f"/watch/{record.id}"
    kind = "image" if record.file_type == FileKind.IMAGE else "raw"
    return versioned_link(f"/stream/{record.id}/{kind}", record)


def only_this_machine(url: str) -> bool:
    """Whether `url` names this machine's loopback address (a server bound to 127.0.0.1, as by
    default): a link on it opens nowhere else, whoever it is pasted to."""
    try:
        host = (urlsplit(url).hostname or "").rstrip(".").lower()
    except ValueError:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def origin(host: str, port: int) -> str:
    if ":" in host:  # IPv6; a link-local address's zone is escaped as RFC 6874 asks
        host = f"[{host.replace('%', '%25')}]"
    return f"http://{host}:{port}"


def link_origin(
    public: str, bound: tuple[str, int] | None, unbound: str, arrival: Arrival | None
) -> str:
    """MEDIADESK_PUBLIC_URL (`public`) when set; else, with no server here, `unbound` (the
    settings' address); else the bound address when it is a concrete one. Bound to a wildcard,
    the request's Host when it names this machine (its host name, `localhost` or one of its
    addresses) with the bound port, otherwise the address the request arrived on; without a
    request (the desktop's own use, its player) the loopback address. A link handed to other
    devices takes shareable_origin."""
    if public:
        return public
    if bound is None:
        return unbound
    host, port = bound
    if host not in WILDCARDS:
        return origin(host, port)
    if arrival is None:
        return origin(_loopback(host), port)
    named = _this_machine(arrival.host, port, _families(host))
    if named:
        return origin(named, port)
    return origin(_unmapped(arrival.local_address) or _loopback(host), port)


def shareable_origin(bound: tuple[str, int] | None, public: str) -> str:
    """The origin of a link that leaves this computer (the desktop's Copy link, the commands
    the Server panel offers): MEDIADESK_PUBLIC_URL (`public`) when set; else the bound address
    when it is a concrete one. Bound to a wildcard, the server serves the network, and the
    link names this machine's address on it (link_origin's loopback opens nowhere else); with
    no network (offline), the loopback address. "" with no server bound here."""
    if public:
        return public
    if bound is None:
        return ""
    host, port = bound
    if host not in WILDCARDS:
        return origin(host, port)
    for family in _families(host):
        address = network_address(family)
        if address:
            return origin(address, port)
    return origin(_loopback(host), port)


def network_address(family: socket.AddressFamily) -> str:
    """This machine's address on its network in `family` (the default route's source), or ""
    without one: offline, or only a link-local address, whose zone names an interface of this
    machine and means nothing to another."""
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.connect((ROUTE_PROBES[family], DISCARD_PORT))
            found = ipaddress.ip_address(str(probe.getsockname()[0]).split("%")[0])
    except (OSError, ValueError):
        return ""
    if found.is_loopback or found.is_unspecified or found.is_link_local:
        return ""
    return str(found)


def _families(wildcard: str) -> list[socket.AddressFamily]:
    """The address families a server bound to `wildcard` answers: asyncio binds "::" to IPv6
    alone (IPV6_V6ONLY), "0.0.0.0" to IPv4 alone, "" to both."""
    return {"::": [socket.AF_INET6], "0.0.0.0": [socket.AF_INET]}.get(
        wildcard, [socket.AF_INET, socket.AF_INET6]
    )


def _loopback(wildcard: str) -> str:
    """The loopback address a server bound to `wildcard` answers on: "::" listens on IPv6
    alone, where 127.0.0.1 is refused."""
    return "::1" if wildcard == "::" else "127.0.0.1"


def _this_machine(header: str, port: int, served: list[socket.AddressFamily]) -> str:
    """The host the Host header names when it is this machine on `port` in a family the bound
    socket serves (`served`), else "": an address of this machine in the other family names a
    socket nobody listens on (an IPv4-mapped one counts as neither: no link should name it).
    A name (localhost, the host name) is taken only when IPv4 is served: every machine's names
    resolve to an IPv4 address, not all to an IPv6 one, and a client may try the IPv4 one alone."""
    try:
        parts = urlsplit(f"//{header.strip()}")
        named_port = parts.port or 80
        name = (parts.hostname or "").rstrip(".")
    except ValueError:  # a port that is not a number, a broken bracket
        return ""
    if not name or named_port != port:
        return ""
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        own = socket.gethostname().lower()
        names = {"localhost", own, own.split(".")[0]}
        return name if socket.AF_INET in served and name in names else ""
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    if family not in served or getattr(address, "ipv4_mapped", None):
        return ""
    return str(address) if _assigned_here(address) else ""


def _assigned_here(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Binding a socket to an address succeeds only when one of this machine's interfaces has
    it (no interface list in the standard library; no packets are sent). A broadcast address
    binds too (Linux takes the limited one and every interface's own): those the kernel
    knows, it refuses as a destination without SO_BROADCAST, which a connect() asks without
    sending anything; a link to one points at no machine."""
    address = getattr(address, "ipv4_mapped", None) or address  # ::ffff:0.0.0.0 is 0.0.0.0
    if address.is_unspecified or address.is_multicast or address == LIMITED_BROADCAST:
        return False
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.bind((str(address), 0))
            if address.version == 4:
                probe.connect((str(address), DISCARD_PORT))
    except OSError:
        return False
    return True


def _unmapped(address: str) -> str:
    """A dual-stack socket reports an IPv4 client's arrival as ::ffff:a.b.c.d."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return address
    mapped = getattr(ip, "ipv4_mapped", None)
    return str(mapped) if mapped else address
