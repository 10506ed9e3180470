"""The `mediadesk` command: the desktop app, or the server's serve|token|maintenance subcommands."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from core.ascii import whole_number
from core.stdio import hear_interrupts, reopen_closed_std_streams

SERVER_COMMANDS = {
    "serve": "run the HTTP server without the desktop window",
    "token": "create, list or revoke API tokens",
    "maintenance": "clean expired uploads, stale parts and the trash",
    "doctor": "check the catalog, bucket, live feed and clock of this set-up",
    "worker": "run video processing jobs (renditions, HLS, thumbnails)",
    "reprocess": "process videos again, make photos' images again, read metadata again",
    "upload": "upload files to a MediaDesk server (progress, summary)",
    "download": "download files from a MediaDesk server by id",
    "list": "list or search the files of a MediaDesk server",
    "trash": "move files of a MediaDesk server to the trash by id",
    "restore": "take files of a MediaDesk server out of the trash by id",
    "delete": "delete files of a MediaDesk server for good by id (--permanent)",
    "login": "save an API token for a MediaDesk server",
    "storage": "show where files are stored, or move them to local or R2",
    "catalog": "copy: copy the catalog into a new database (SQLite to PostgreSQL); "
    "record-schema: record its schema after its alembic_version was emptied",
    "nginx-config": "print an nginx site that sends the bytes after MediaDesk's checks",
}
_GLOBAL_WITH_VALUE = ("--data-dir", "--language")
X11_SOCKET_DIR = "/tmp/.X11-unix"
# An X server over TCP (ssh -X's localhost:10) answers at once; one that is gone, or a host
# that drops the packets, must not hold up the start for long
_CONNECT_TIMEOUT = 1.0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mediadesk",
        description="MediaDesk: photos and videos of athletes on local disk or Cloudflare R2. "
        "Without a subcommand the desktop application starts.",
        epilog="Run 'mediadesk SUBCOMMAND --help' for the options of a subcommand.",
    )
    parser.add_argument(
        "--data-dir", metavar="FOLDER", help="keep the catalog, files and settings in FOLDER"
    )
    parser.add_argument(
        "--language",
        choices=("en", "es"),
        help="language of the window (default: settings, then system locale)",
    )
    parser.add_argument(
        "--version",
        action=_PrintVersion,
        help="print MediaDesk's version and the newest catalog schema it knows, and exit",
    )
    sub = parser.add_subparsers(dest="command", title="subcommands", metavar="SUBCOMMAND")
    for name, text in SERVER_COMMANDS.items():
        sub.add_parser(name, help=text, add_help=False)
    return parser


class _PrintVersion(argparse.Action):
    """`mediadesk --version`: after an upgrade, which MediaDesk runs and which catalog schema
    it migrates a catalog to. Read when asked, from
    the migration scripts' text: no Qt, no catalog, no Alembic."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        sys.stdout.write(version_line() + "\n")
        parser.exit()


def version_line() -> str:
    from core.db.migrate import script_heads
    from core.version import version

    return f"mediadesk {version()} (catalog schema {', '.join(sorted(script_heads()))})"


def split_command(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """Global options before the first server subcommand, and the subcommand with its own."""
    args = list(argv)
    index = 0
    while index < len(args):
        token = args[index]
        if token in SERVER_COMMANDS:
            return args[:index], args[index:]
        if token in _GLOBAL_WITH_VALUE:
            index += 2
            continue
        index += 1
    return args, []


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `mediadesk`."""
    # Before anything opens a file: started with `2>&-`, the desktop's first file (under
    # Xvfb, its X11 connection) took descriptor 2, and what a library printed to stderr went
    # into the X protocol; the app hung with no window work and no log line
    reopen_closed_std_streams()
    args = list(sys.argv[1:] if argv is None else argv)
    global_args, server_args = split_command(args)
    try:
        options = build_parser().parse_args(global_args)
    except KeyboardInterrupt:  # Ctrl+C this early (a loaded machine takes a while here)
        sys.stderr.write("mediadesk: interrupted\n")
        return 130
    data_dir = os.path.abspath(os.path.expanduser(options.data_dir)) if options.data_dir else ""
    if server_args:
        if server_args[0] == "serve" and hasattr(signal, "SIGHUP"):
            # logrotate's HUP while the server's modules load (its handler comes with them):
            # it killed `serve` in its first half second
            signal.signal(signal.SIGHUP, signal.SIG_IGN)
        if data_dir:
            # The server's subcommands read the folder as `mediadesk serve` always has, from
            # the environment (their messages name both --data-dir and MEDIADESK_DATA_DIR)
            os.environ["MEDIADESK_DATA_DIR"] = data_dir
        try:
            from server.client import cli as client_cli

            if server_args[0] in client_cli.COMMANDS:
                # the HTTP client's commands need nothing of the server: through server.entry
                # they imported the catalog, storage and web stacks first (0.57 s against 0.1)
                hear_interrupts()
                return client_cli.run(server_args)
            from server.entry import main as server_main

            return int(server_main(server_args) or 0)
        except KeyboardInterrupt:  # Ctrl+C while the server's modules load (a second or two)
            sys.stderr.write("mediadesk: interrupted\n")
            return 130
    missing = no_display(os.environ, sys.platform)
    if missing:
        sys.stderr.write(f"mediadesk: {missing}\n")
        return 2
    unreachable = unreachable_display(os.environ, sys.platform)
    if unreachable:
        sys.stderr.write(f"mediadesk: {unreachable}\n")
        return 2
    from desktop_app.app import run_gui

    # The window gets the folder as the flag it is, not in os.environ: the start-up error and
    # Settings name --data-dir, not a MEDIADESK_DATA_DIR the user never set. The desktop's
    # child processes (video encodes, the SQLite probe) are handed their paths, not settings.
    return run_gui(language=options.language, data_dir=data_dir or None)


def no_display(env: Mapping[str, str], platform: str) -> str | None:
    """Why the window cannot open, or None. Started over SSH or on a server, Qt aborted (exit
    134, a core dump) after advice that did not apply: "xcb-cursor0 is needed", "Reinstalling
    the application may fix this problem"."""
    if not platform.startswith(("linux", "freebsd")):
        return None  # Windows and macOS always have their own display
    chosen = env.get("QT_QPA_PLATFORM", "")
    if chosen and not chosen.startswith(("xcb", "wayland")):
        return None  # offscreen, vnc, eglfs…: Qt needs no display server for those
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return None
    return (
        "no display to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is set): start "
        "it from a desktop session, or run 'mediadesk serve' for the server without a window"
    )


def unreachable_display(
    env: Mapping[str, str], platform: str, x11_dir: str = X11_SOCKET_DIR
) -> str | None:
    """Why none of the displays set can be reached, or None (one can, or none is set). A stale
    DISPLAY (tmux or screen kept it from another session, ssh without X forwarding) made Qt
    abort (exit 134) with the same wrong advice as no display at all. Only a socket connect,
    no X library: Qt's own attempt is what aborts."""
    if not platform.startswith(("linux", "freebsd")):
        return None
    chosen = [name.strip() for name in env.get("QT_QPA_PLATFORM", "").split(";") if name.strip()]
    uses_x = not chosen or any(name.startswith("xcb") for name in chosen)
    uses_wayland = not chosen or any(name.startswith("wayland") for name in chosen)
    if uses_wayland and env.get("WAYLAND_SOCKET"):
        return None  # a connection handed over by the compositor: nothing to look up
    tried = []
    display = env.get("DISPLAY", "") if uses_x else ""
    if display:
        if _x_reachable(display, x11_dir, abstract=platform.startswith("linux")):
            return None
        tried.append(f"DISPLAY={display}")
    wayland = env.get("WAYLAND_DISPLAY", "") if uses_wayland else ""
    if wayland:
        if _wayland_reachable(wayland, env.get("XDG_RUNTIME_DIR", "")):
            return None
        tried.append(f"WAYLAND_DISPLAY={wayland}")
    if not tried:
        return None
    return (
        f"cannot reach the display {' nor '.join(tried)}: nothing answers there (left from "
        "another session, or ssh without X forwarding?); start it from a desktop session, or "
        "run 'mediadesk serve' for the server without a window"
    )


def _x_reachable(display: str, x11_dir: str, abstract: bool) -> bool:
    """Whether an X server answers at `display` ([host]:number[.screen]) as libxcb reaches
    it: no host or "unix", the local socket; a path, that socket; else TCP port 6000 + n. A
    name it cannot read counts as reachable: Qt says what is wrong with it."""
    host, colon, rest = display.rpartition(":")
    number = rest.partition(".")[0]
    # ASCII digits (core.ascii): ":²" passed str.isdigit() and failed int() (a traceback)
    if not colon or whole_number(number) is None or host.endswith(":"):  # (host::n is DECnet)
        return True
    host = host.rpartition("/")[2] if host.startswith(("tcp/", "inet/", "inet6/")) else host
    if host.startswith("/"):
        return _connects_unix(host)
    if host in ("", "unix"):
        path = f"{x11_dir}/X{int(number)}"
        # Linux's X servers listen on an abstract socket of the same name too, the one libxcb
        # tries first (a sandbox may see it without the file)
        names = [f"\0{path}", path] if abstract else [path]
        return any(_connects_unix(name) for name in names)
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return _connects_tcp(host, 6000 + int(number))


def _wayland_reachable(name: str, runtime_dir: str) -> bool:
    """Whether a compositor answers at WAYLAND_DISPLAY: a path, or a name in XDG_RUNTIME_DIR
    (without which libwayland finds no socket at all)."""
    if name.startswith("/"):
        return _connects_unix(name)
    return bool(runtime_dir) and _connects_unix(os.path.join(runtime_dir, name))


def _connects_unix(path: str) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as unix:
            unix.settimeout(_CONNECT_TIMEOUT)
            unix.connect(path)
    except (OSError, ValueError):  # refused, absent, not allowed; a name with a NUL byte
        return False
    return True


def _connects_tcp(host: str, port: int) -> bool:
    try:  # a name, an IPv4 or an IPv6 address
        addresses = _resolved(host, port)
    except (OSError, ValueError, UnicodeError):  # an unknown host; a bad name
        return False
    if addresses is None:
        return True  # the resolver did not answer in time: Qt's own attempt is the judge
    for family, kind, proto, _name, address in addresses:
        try:
            with socket.socket(family, kind, proto) as tcp:
                tcp.settimeout(_CONNECT_TIMEOUT)
                tcp.connect(address)
        except OSError:  # refused, timed out: the next address
            continue
        return True
    return False


def _resolved(host: str, port: int) -> list[tuple[Any, ...]] | None:
    """getaddrinfo bounded by _CONNECT_TIMEOUT (None past it): it takes no timeout, and a
    resolver out of reach held the start for the system's (5 s × tries × servers) before
    a window or a word. The thread is left to finish on its own: it holds nothing."""
    found: list[list[tuple[Any, ...]] | BaseException] = []
    done = threading.Event()

    def resolve() -> None:
        try:
            found.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            found.append(exc)
        done.set()

    threading.Thread(target=resolve, name="mediadesk-display-lookup", daemon=True).start()
    if not done.wait(_CONNECT_TIMEOUT):
        return None
    if isinstance(found[0], BaseException):
        raise found[0]
    return found[0]
