"""`mediadesk upload`, `mediadesk download` and `mediadesk login`: the client from a shell."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from core.mediatypes import FILE_KINDS
from server.client import credentials
from server.client.api import Client, ClientError, UploadResult

COMMANDS = ("upload", "download", "login")
BAR = 24
REFUSALS = {400, 413, 415, 422}
CLEAR_LINE = "\r\033[K"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mediadesk", description="MediaDesk client commands.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    server = argparse.ArgumentParser(add_help=False)
    server.add_argument(
        "--server",
        metavar="URL",
        help="the MediaDesk server (default: MEDIADESK_SERVER, the one of 'mediadesk login', "
        f"or {credentials.DEFAULT_SERVER})",
    )
    token = argparse.ArgumentParser(add_help=False)
    token.add_argument(
        "--token",
        help="API token (default: MEDIADESK_TOKEN, or the one saved by 'mediadesk login')",
    )
    up = sub.add_parser(
        "upload",
        parents=[server, token],
        help="upload photos and videos",
        description="Checks each file locally (type from its content, size and types the "
        "server accepts), uploads it (presigned above 10 MiB, direct below) with a progress "
        "bar, and prints a summary. Exit status 1 when a file was refused or failed; "
        "duplicates of stored files are not failures.",
    )
    up.add_argument("files", nargs="+", metavar="FILE")
    up.add_argument("--athlete", type=int, metavar="N", help="athlete id")
    up.add_argument("--public", action="store_true", help="make the files public")
    up.add_argument("--type", dest="file_type", choices=FILE_KINDS, help="default: sniffed")
    down = sub.add_parser(
        "download",
        parents=[server, token],
        help="download originals by id",
        description="Saves each file under its original name; an existing file is kept "
        "and the new one gets a ' (1)' suffix.",
    )
    down.add_argument("ids", nargs="+", type=int, metavar="ID")
    down.add_argument("-o", "--output", default=".", metavar="DIR", help="folder (default: .)")
    login = sub.add_parser(
        "login",
        parents=[server],
        help="save an API token for a server",
        description="Asks for the token without echoing it, checks it against the server and "
        "saves it (mode 0600) in the user's config folder.",
    )
    login.add_argument(
        "--token-stdin", action="store_true", help="read the token from standard input"
    )
    return parser


class ProgressBar:
    """One line per file on stderr: redrawn in place on a terminal, a few lines otherwise."""

    def __init__(self, name: str, out: TextIO) -> None:
        self.name = name if len(name) <= 32 else name[:29] + "..."
        self.out = out
        self.tty = out.isatty()
        self.last_draw = 0.0
        self.last_quarter = -1
        self.calls = 0

    def __call__(self, done: int, total: int) -> None:
        self.calls += 1
        fraction = done / total if total else 1.0
        now = time.monotonic()
        if self.tty:
            if now - self.last_draw < 0.1 and done < total:
                return
            self.last_draw = now
            self.out.write("\r" + self.line(done, total))
        else:
            quarter = int(fraction * 4)
            if quarter == self.last_quarter:
                return
            self.last_quarter = quarter
            self.out.write(self.line(done, total) + "\n")
        self.out.flush()

    def line(self, done: int, total: int) -> str:
        fraction = done / total if total else 1.0
        filled = int(fraction * BAR)
        return (
            f"{self.name:<32} [{'#' * filled}{'-' * (BAR - filled)}] {fraction:4.0%} "
            f"{human(done)}/{human(total)}"
        )

    def finish(self, text: str) -> None:
        if self.tty:
            self.out.write(CLEAR_LINE)
        self.out.write(f"{self.name:<32} {text}\n")
        self.out.flush()


def human(size: float) -> str:
    """Binary units, as the desktop and README give sizes (KiB, MiB, GiB)."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


def _client(args: argparse.Namespace, err: TextIO) -> Client:
    server = (args.server or credentials.default_server()).rstrip("/")
    token = args.token or os.environ.get("MEDIADESK_TOKEN") or credentials.saved_token(server)
    return Client(server, token, on_retry=_notice(err))


def _notice(err: TextIO) -> Callable[[str], None]:
    """Says each retry on stderr: the waits grow to 30 s, which looked like a hang."""

    def say(text: str) -> None:
        # on a terminal the progress bar's unfinished line is cleared first; it is redrawn
        err.write(f"{CLEAR_LINE if err.isatty() else ''}mediadesk: {text}\n")
        err.flush()

    return say


def run(argv: list[str], out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    args = build_parser().parse_args(argv)
    try:
        if args.command == "login":
            return _login(args, out, err)
        with _client(args, err) as client:
            if args.command == "upload":
                return _upload(client, args, out, err)
            return _download(client, args, out, err)
    except ClientError as exc:
        err.write(f"mediadesk: {exc}\n")
        return 2
    except KeyboardInterrupt:
        err.write("mediadesk: interrupted\n")
        return 130


def _upload(client: Client, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if not client.token:
        # every file was sent whole and then refused with the server's "needs a token:
        # 'Authorization: Bearer <token>'", which says nothing to someone using this command
        err.write(
            f"mediadesk: no API token for {client.base_url}: pass --token, set "
            f"MEDIADESK_TOKEN, or run 'mediadesk login --server {client.base_url}'\n"
        )
        return 2
    client.config()  # an unreachable server or a bad token stops here, before any file
    uploaded: list[UploadResult] = []
    duplicates: list[UploadResult] = []
    refused: list[tuple[str, ClientError]] = []
    failed: list[tuple[str, ClientError]] = []
    for name in args.files:
        bar = ProgressBar(Path(name).name, err)
        try:
            result = client.upload(
                name,
                file_type=args.file_type,
                athlete_id=args.athlete,
                is_public=args.public,
                progress=bar,
            )
        except ClientError as exc:
            # refused: the file itself (its type, size, content); failed: anything else
            refusal = exc.local or exc.status in REFUSALS
            (refused if refusal else failed).append((name, exc))
            bar.finish(f"{'refused' if refusal else 'failed'}: {exc}")
            continue
        if result.duplicate:
            duplicates.append(result)
            bar.finish(f"already stored as id {result.id}")
        else:
            uploaded.append(result)
            bar.finish(f"uploaded as id {result.id} ({result.flow})")
    out.write(
        f"Uploaded {len(uploaded)}, duplicates {len(duplicates)}, refused {len(refused)}, "
        f"failed {len(failed)}\n"
    )
    for label, items in (("refused", refused), ("failed", failed)):
        for name, problem in items:
            out.write(f"  {label} {name}: {problem.message} [{problem.code}]\n")
    return 1 if refused or failed else 0


def _download(client: Client, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    client.config()  # an unreachable server stops here: one line, not one per id
    failures = 0
    target = Path(args.output)
    target.mkdir(parents=True, exist_ok=True)
    for file_id in args.ids:
        bar = ProgressBar(f"id {file_id}", err)
        try:
            path = client.download(file_id, target, progress=bar)
        except ClientError as exc:
            failures += 1
            bar.finish(f"failed: {exc}")
            continue
        bar.finish(f"saved {path}")
        out.write(f"{path}\n")
    return 1 if failures else 0


def _login(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    server = (args.server or credentials.default_server()).rstrip("/")
    if args.token_stdin:
        token = sys.stdin.readline().strip()
    else:
        token = getpass.getpass(f"API token for {server}: ").strip()  # never echoed
    if not token:
        err.write("mediadesk: no token given\n")
        return 2
    with Client(server, token, on_retry=_notice(err)) as client:
        client.config()  # a public endpoint that still refuses an unknown token (401)
    path = credentials.save_token(server, token)
    out.write(f"Saved the token for {server} in {path}\n")
    return 0
