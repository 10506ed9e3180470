"""`mediadesk upload`, `download`, `list`, `login`, `trash`, `restore` and `delete`: the
client from a shell."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import os
import shutil
import sys
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from core.ascii import whole_number
from core.filenames import kept_format, readable_name
from core.instants import local_minute
from core.listing import MAX_ID, MAX_LIMIT, STATUS_FILTERS, Sort
from core.mediatypes import FILE_KINDS
from server.client import credentials

if TYPE_CHECKING:
    # imported where a command talks to a server: httpx (with rich, click and pygments) costs
    # ~60 ms of CPU that the server's commands, which use catalog_id and COMMANDS, need not pay
    from server.client.api import Client, ClientError, UploadResult

COMMANDS = ("upload", "download", "list", "login", "trash", "restore", "delete")
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
        "server accepts), uploads it (direct up to the server's presign threshold, 10 MiB by "
        "default; above it presigned, and above its multipart threshold in parts on R2/S3 or "
        "through tus on local storage, resuming after a break) with a progress bar, and "
        "prints a summary. Exit status 1 when a file was refused or failed; "
        "duplicates of stored files are not failures. A server that cannot be reached "
        "part-way stops the command (the files not sent are named): exit status 2.",
    )
    up.add_argument("files", nargs="+", metavar="FILE")
    up.add_argument("--athlete", type=catalog_id, metavar="N", help="athlete id")
    up.add_argument("--public", action="store_true", help="make the files public")
    up.add_argument("--type", dest="file_type", choices=FILE_KINDS, help="default: sniffed")
    down = sub.add_parser(
        "download",
        parents=[server, token],
        help="download originals by id",
        description="Saves each file under its original name; an existing file is kept "
        "and the new one gets a ' (1)' suffix.",
    )
    down.add_argument("ids", nargs="+", type=catalog_id, metavar="ID")
    down.add_argument("-o", "--output", default=".", metavar="DIR", help="folder (default: .)")
    listing = sub.add_parser(
        "list",
        parents=[server, token],
        help="list or search files, as a table or JSON lines",
        description="Prints one page of the library's files (the ids that 'mediadesk "
        "download' takes) as a table, or with --json one JSON object per line: the records "
        "GET /files answers. --all goes on page after page to the end, printing each page as "
        "it arrives. Without a token only public files are listed. Exit status 1 when the "
        "server refuses the request.",
    )
    listing.add_argument(
        "-q", "--search", metavar="TEXT", help="text in the name, description or athlete's name"
    )
    listing.add_argument("--athlete", type=catalog_id, metavar="N", help="athlete id")
    listing.add_argument("--type", dest="file_type", choices=FILE_KINDS, help="this kind only")
    shown = listing.add_mutually_exclusive_group()
    shown.add_argument(
        "--public", dest="is_public", action="store_const", const=True, help="public files only"
    )
    shown.add_argument(
        "--private", dest="is_public", action="store_const", const=False, help="private files only"
    )
    listing.add_argument(
        "--status",
        choices=STATUS_FILTERS,
        help=f"uploads not confirmed yet are pending (default: {STATUS_FILTERS[0]})",
    )
    listing.add_argument("--trashed", action="store_true", help="list the trash")
    listing.add_argument(
        "--sort",
        type=_sort,
        metavar="ORDER",
        help=f"one of {', '.join(ORDERS)} (default: {Sort.NEWEST.value}); a leading '-' "
        "is descending: --sort -size lists the largest first",
    )
    listing.add_argument(
        "--content-type",
        metavar="MIME",
        help="this media type only, as the server names it (image/jpeg, video/mp4, ...)",
    )
    start = listing.add_mutually_exclusive_group()
    start.add_argument(
        "--offset",
        type=_offset,
        metavar="N",
        help="skip the first N files (slow deep in a big library: --cursor is not)",
    )
    start.add_argument(
        "--cursor",
        metavar="CURSOR",
        help="start where a page ended: the cursor the table's summary line offers, "
        "or the API's next_cursor",
    )
    listing.add_argument(
        "--limit",
        type=_page_size,
        metavar="N",
        help=f"files per page, 1 to {MAX_LIMIT} (default: the server's, 50; with --all the "
        "largest the server allows)",
    )
    listing.add_argument("--all", action="store_true", help="every page, to the end")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    _add_change_parsers(sub, [server, token])
    login = sub.add_parser(
        "login",
        parents=[server],
        help="save an API token for a server",
        description="Asks for the token without echoing it (reads it from standard input when "
        "that is not a terminal), checks it against the server and saves it (mode 0600) in "
        "the user's config folder.",
    )
    login.add_argument(
        "--token-stdin", action="store_true", help="read the token from standard input"
    )
    return parser


ORDERS = [s.value for s in Sort]

# the word the line of `mediadesk trash|restore|delete` says of each file (the command is the
# Client method that does it)
CHANGES = {"trash": "trashed", "restore": "restored", "delete": "deleted"}


def _add_change_parsers(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    parents: list[argparse.ArgumentParser],
) -> None:
    each = argparse.ArgumentParser(add_help=False)
    each.add_argument("ids", nargs="+", type=catalog_id, metavar="ID")
    each.add_argument(
        "--json",
        action="store_true",
        help='one JSON object per file: {"id", "ok": true, "file"} or {"id", "ok": false, '
        '"error": {"code", "message", "reason", "status"}}',
    )
    lines = (
        "One line per file on stdout; each failure in one line on stderr (not found, a "
        "token without the scope, already done). Exit status 1 when any file failed, 2 when "
        "the server cannot be reached or no token was given."
    )
    sub.add_parser(
        "trash",
        parents=[*parents, each],
        help="move files to the trash (upload scope)",
        description="Moves each file to the trash: it is no longer listed, downloaded or "
        "streamed, 'mediadesk list --trashed' lists it, and 'mediadesk restore' brings it back "
        "until the server purges the trash (MEDIADESK_TRASH_RETENTION_DAYS, 30 days). " + lines,
    )
    sub.add_parser(
        "restore",
        parents=[*parents, each],
        help="take files out of the trash (upload scope)",
        description="Takes each file out of the trash, as it was. " + lines,
    )
    delete = sub.add_parser(
        "delete",
        parents=[*parents, each],
        help="delete files for good (admin scope; needs --permanent)",
        description="Deletes each file for good, in the trash or not: its bytes, thumbnail, "
        "renditions and jobs. It cannot be undone; 'mediadesk trash' can. " + lines,
    )
    delete.add_argument(
        "--permanent",
        action="store_true",
        help="required: says that the files are to be deleted for good",
    )


def _sort(text: str) -> str:
    if text not in ORDERS:
        raise argparse.ArgumentTypeError(f"unknown order {text!r}; one of {', '.join(ORDERS)}")
    return text


def _sort_values_joined(argv: list[str]) -> list[str]:
    """`mediadesk list --sort -size` as `--sort=-size`. argparse takes a word after a '-'
    for an option ("expected one argument"), and every descending order (core.listing.Sort)
    starts with one. Any such word is joined: a wrong one is then refused as an order, with
    the orders listed, not as a missing value. Abbreviations of --sort count, as argparse's
    own ('--so', '--sor'); nothing after '--' is touched."""
    if argv[:1] != ["list"]:
        return argv
    joined: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg == "--":
            return [*joined, arg, *args]
        if len(arg) >= len("--so") and "--sort".startswith(arg):
            value = next(args, None)
            if value is not None and value.startswith("-") and not value.startswith("--"):
                joined.append(f"{arg}={value}")
                continue
            joined.append(arg)
            if value is not None:
                joined.append(value)
            continue
        joined.append(arg)
    return joined


def _whole(text: str) -> int:
    value = whole_number(text, signed=True)  # ASCII digits: int() takes "١٢" and " 12_0"
    if value is None:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}")
    return value


def _offset(text: str) -> int:
    value = _whole(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {value}")
    return value


def catalog_id(text: str) -> int:
    """argparse's type for a catalog id, of these commands and the server's (`token revoke`,
    `reprocess`): a bigger one ended in an OverflowError traceback from SQLite."""
    value = _whole(text)
    if not 1 <= value <= MAX_ID:
        raise argparse.ArgumentTypeError(f"must be an id from 1 to {MAX_ID}, not {value}")
    return value


def _page_size(text: str) -> int:
    value = _whole(text)
    if not 1 <= value <= MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"must be 1 to {MAX_LIMIT}, not {value}")
    return value


class ProgressBar:
    """One line per file on stderr: redrawn in place on a terminal, a few lines otherwise."""

    def __init__(self, name: str, out: TextIO) -> None:
        self.name = _cell(name, 32)
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
            f"{self.name} [{'#' * filled}{'-' * (BAR - filled)}] {fraction:4.0%} "
            f"{human(done)}/{human(total)}"
        )

    def finish(self, text: str) -> None:
        if self.tty:
            self.out.write(CLEAR_LINE)
        self.out.write(f"{self.name} {text}\n")
        self.out.flush()


def human(size: float) -> str:
    """Binary units, as the desktop and README give sizes (KiB, MiB, GiB)."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


def _client(args: argparse.Namespace, err: TextIO) -> Client:
    from server.client.api import Client  # httpx: only the client commands load it

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


SIGPIPE_STATUS = 141
"""Exit status when stdout's reader is gone (`mediadesk list | head`): 128 + SIGPIPE, what the
shell reports for cat or grep there, so `set -o pipefail` sees the output was cut short."""


def reader_gone(out: TextIO) -> int:
    """The reader of `out` went away: no BrokenPipeError traceback, now or when Python flushes
    stdout at exit (pointed at devnull for that), and SIGPIPE_STATUS."""
    if out is sys.stdout:
        with contextlib.suppress(OSError, ValueError):  # no file descriptor: nothing to flush
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
    return SIGPIPE_STATUS


def run(argv: list[str], out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    args = build_parser().parse_args(_sort_values_joined(argv))
    try:
        code = _run(args, out, err)
        out.flush()  # a reader gone is found here, not in a traceback at exit
        return code
    except BrokenPipeError:
        return reader_gone(out)


def _run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from server.client.api import ClientError  # httpx: only the client commands load it

    try:
        if args.command == "login":
            return _login(args, out, err)
        with _client(args, err) as client:
            if args.command == "upload":
                return _upload(client, args, out, err)
            if args.command == "list":
                return _list(client, args, out, err)
            if args.command in CHANGES:
                return _change(client, args, out, err)
            return _download(client, args, out, err)
    except ClientError as exc:
        _say(err, exc)
        return 2
    except KeyboardInterrupt:
        err.write("mediadesk: interrupted\n")
        return 130


def _say(err: TextIO, exc: ClientError) -> None:
    """A failure in one line: its message and the server's error code."""
    err.write(f"mediadesk: {exc}\n")


def _no_token(client: Client, err: TextIO) -> None:
    err.write(
        f"mediadesk: no API token for {client.base_url}: pass --token, set "
        f"MEDIADESK_TOKEN, or run 'mediadesk login --server {client.base_url}'\n"
    )


def _upload(client: Client, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from server.client.api import ClientError  # httpx: only the client commands load it

    if not client.token:
        # every file was sent whole and then refused with the server's "needs a token:
        # 'Authorization: Bearer <token>'", which says nothing to someone using this command
        _no_token(client, err)
        return 2
    client.config()  # an unreachable server or a bad token stops here, before any file
    uploaded: list[UploadResult] = []
    duplicates: list[UploadResult] = []
    refused: list[tuple[str, ClientError]] = []
    failed: list[tuple[str, ClientError]] = []
    stopped: list[str] | None = None  # the files not tried once the server could not be reached
    for position, name in enumerate(args.files):
        bar = ProgressBar(readable_name(Path(name).name), err)
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
            if exc.code == "connection_failed":
                # the server went away (after its retries): each further file waited through
                # the same retries for it, some 15 s each (an hour for a card of 200 clips),
                # as trash/restore stop here too
                stopped = args.files[position + 1 :]
                break
            continue
        if result.duplicate:
            duplicates.append(result)
            bar.finish(f"already stored as id {result.duplicate_of}")
        else:
            uploaded.append(result)
            bar.finish(f"uploaded as id {result.id} ({result.flow})")
    out.write(
        f"Uploaded {len(uploaded)}, duplicates {len(duplicates)}, refused {len(refused)}, "
        f"failed {len(failed)}\n"
    )
    for label, items in (("refused", refused), ("failed", failed)):
        for name, problem in items:
            # a path whose bytes are not UTF-8 stopped the summary with a UnicodeEncodeError
            shown = _printable(readable_name(name))
            out.write(f"  {label} {shown}: {problem.message} [{problem.code}]\n")
    if stopped is not None:
        if stopped:
            shown_rest = " ".join(_printable(readable_name(name)) for name in stopped)
            err.write(f"mediadesk: stopped; not sent: {shown_rest}\n")
        return 2  # no server, as when it cannot be reached at the start
    return 1 if refused or failed else 0


def _download(client: Client, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from server.client.api import ClientError  # httpx: only the client commands load it

    target = Path(args.output)
    # -o names a folder (a file there was a traceback): said before asking the server
    if target.exists() and not target.is_dir():
        err.write(f"mediadesk: -o {args.output}: not a folder\n")
        return 2
    client.config()  # an unreachable server stops here: one line, not one per id
    failures = 0
    # the folders -o makes, deepest first: removed again when nothing was saved in them (a
    # download that fails leaves nothing behind, README)
    made = [p for p in (target, *target.parents) if not p.exists()]
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a file in its path, no permission, a read-only disk
        err.write(f"mediadesk: -o {args.output}: {exc.strerror or exc}\n")
        return 2
    for file_id in args.ids:
        bar = ProgressBar(f"id {file_id}", err)
        try:
            path = client.download(file_id, target, progress=bar)
        except ClientError as exc:
            failures += 1
            bar.finish(f"failed: {exc}")
            continue
        except OSError as exc:  # writing here: a full disk, a folder gone (was a traceback)
            failures += 1
            bar.finish(f"failed: {exc.strerror or exc}")
            continue
        bar.finish(f"saved {readable_name(str(path))}")
        _path_line(out, path)
    if failures == len(args.ids):
        for folder in made:
            try:
                folder.rmdir()  # only while empty: never a file someone put there meanwhile
            except OSError:
                break
    return 1 if failures else 0


def _path_line(out: TextIO, path: Path) -> None:
    """`path` on a line of its own, as the file system names it, for a script to open: in a
    folder whose name is not UTF-8, its bytes (as ls and find print them). Written as text it
    was a UnicodeEncodeError after the first file, and the other ids were never fetched."""
    try:
        out.write(f"{path}\n")
    except UnicodeEncodeError:  # raised before a character is written
        buffer = getattr(out, "buffer", None)
        if buffer is None:
            out.write(f"{readable_name(str(path))}\n")
            return
        out.flush()
        buffer.write(os.fsencode(path) + b"\n")


def _change(client: Client, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """`mediadesk trash|restore|delete ID...`: each file in turn, one line each."""
    if args.command == "delete" and not args.permanent:
        # DELETE without hard_delete is the trash: a `delete` that trashed would surprise, and
        # one that deletes for good must be asked for in so many words
        err.write(
            "mediadesk delete: --permanent is required (the files are deleted for good; "
            "'mediadesk trash' moves them to the trash, where they can be restored)\n"
        )
        return 2
    if not client.token:  # each file would be refused alike, one 401 line per id
        _no_token(client, err)
        return 2
    client.config()  # an unreachable server or a bad token stops here: one line, not one per id
    from server.client.api import ClientError  # httpx: only the client commands load it

    act = getattr(client, args.command)  # CHANGES: the command is the Client method
    done = CHANGES[args.command]
    failures = 0
    for position, file_id in enumerate(args.ids):
        try:
            reply = act(file_id)
        except ClientError as exc:
            failures += 1
            err.write(f"mediadesk: {args.command} {file_id}: {exc}\n")
            if args.json:
                error = {
                    "code": exc.code,
                    "message": exc.message,
                    "reason": exc.reason,
                    "status": exc.status,
                }
                line = json.dumps({"id": file_id, "ok": False, "error": error}, ensure_ascii=False)
                out.write(line + "\n")
            out.flush()
            if exc.status is None:
                # no answer (the server went away, or the connection dropped after sending: the
                # change may have been made, `mediadesk list` tells): each further id would
                # wait through its retries for the same server
                rest = " ".join(str(i) for i in args.ids[position + 1 :])
                if rest:
                    err.write(f"mediadesk: stopped; not sent: {rest}\n")
                return 2
            continue
        # DELETE answers {"file_id", "deleted", "hard_delete", "file"}, restore the file itself
        record = reply.get("file", reply)
        if args.json:
            line = json.dumps({"id": file_id, "ok": True, "file": record}, ensure_ascii=False)
        else:
            # an id that now names another file (a restore merged into the ready file with the
            # same bytes; the id stays its alias): "restored 5 img2.jpg" hid that 5 is now 32
            merged = record.get("duplicate_of") if record.get("duplicate") else None
            into = f" as {merged}" if merged not in (None, file_id) else ""
            name = _printable(record.get("original_filename") or "")
            line = f"{done} {file_id}{into} {name}"
        out.write(line.rstrip() + "\n")
        out.flush()
    return 1 if failures else 0


def _list(client: Client, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from server.client.api import ClientError  # httpx: only the client commands load it

    config = client.config()  # an unreachable server or a bad token stops here (exit 2)
    if not client.token:
        # the server answers without one, with public files only: say so, or a script with a
        # lost token exports part of the library and looks fine
        err.write(f"mediadesk: no API token for {client.base_url}: public files only\n")
    filters = {
        "q": args.search,
        "athlete_id": args.athlete,
        "file_type": args.file_type,
        "is_public": args.is_public,
        "status": args.status,
        "trashed": args.trashed or None,
        "sort": args.sort,
        "content_type": args.content_type,
        "offset": args.offset,
        "cursor": args.cursor,
        "limit": args.limit or (config.get("list_limit_max") if args.all else None),
    }
    table = None if args.json else Table(out)
    shown, total, more = 0, 0, None
    try:
        for page in client.pages(**filters) if args.all else [client.list(**filters)]:
            for item in page["items"]:
                if table is None:
                    out.write(json.dumps(item, ensure_ascii=False) + "\n")
                else:
                    table.row(item)
            out.flush()  # a page is printed as it arrives: --all of a big library streams
            shown += len(page["items"])
            total, more = page.get("total", shown), page.get("next_cursor")
        if args.all:
            more = None  # the pages went to the end: a full last page's cursor leads nowhere
        if not shown and _names_no_one(client, args.athlete):
            _say(err, ClientError("not_found", f"No athlete with id {args.athlete}"))
            return 1
    except ClientError as exc:
        if exc.status is None:  # no answer (connection_failed): not the server's refusal
            raise
        _say(err, exc)
        return 1
    if table is not None:
        # a full page always has a next_cursor, the last one too: from a known position the
        # total says whether anything follows
        if args.cursor is None and (args.offset or 0) + shown >= total:
            more = None
        rest = f"; --all lists them all, --cursor {more} the next page" if more else ""
        if shown > total:
            # the total is the last page's: files deleted (or changed out of the filters)
            # while earlier pages were printed made it "1295 of 1294 files"
            err.write(
                f"{shown} {'file' if shown == 1 else 'files'} listed; {total} now (some were "
                f"deleted or changed meanwhile){rest}\n"
            )
        else:
            err.write(f"{shown} of {total} {'file' if total == 1 else 'files'}{rest}\n")
    return 0


def _names_no_one(client: Client, athlete: int | None) -> bool:
    """Whether an athlete id names no athlete. The server lists nothing for it, as for an
    athlete without files: a mistyped id looked like an empty library. Not asked without a
    token (GET /athletes needs one)."""
    if athlete is None or not client.token:
        return False
    return all(a["id"] != athlete for a in client.athletes()["items"])


class Table:
    """`mediadesk list`'s rows: fixed columns, sized before the first page so each page is
    printed as it arrives; the name takes what the terminal leaves (80 columns when the
    output is not a terminal)."""

    WIDTHS = {"ID": 6, "TYPE": 5, "SIZE": 10, "ATHLETE": 12, "CREATED": 16}

    def __init__(self, out: TextIO) -> None:
        self.out = out
        columns = shutil.get_terminal_size().columns if out.isatty() else 80
        # one column spare: a line that fills the last one wraps on some terminals
        fixed = sum(self.WIDTHS.values()) + len(self.WIDTHS)
        self.name_width = max(columns - 1, 80 - 1) - fixed
        self.header = False

    def row(self, item: dict[str, Any]) -> None:
        if not self.header:
            self.header = True
            self.line("ID", "NAME", "TYPE", "SIZE", "ATHLETE", "CREATED")
        size = item.get("size")
        self.line(
            str(item["id"]),
            item.get("original_filename") or "",
            item.get("file_type") or "",
            human(size) if size is not None else "-",
            item.get("athlete_name") or "-",
            local_minute(item.get("created_at")),
        )

    def line(self, fid: str, name: str, kind: str, size: str, athlete: str, made: str) -> None:
        w = self.WIDTHS
        self.out.write(
            f"{fid:>{w['ID']}} {_cell(name, self.name_width)} {_cell(kind, w['TYPE'])} "
            f"{size:>{w['SIZE']}} {_cell(athlete, w['ATHLETE'])} {made}\n"
        )


def _columns(char: str) -> int:
    """Terminal columns of one character: 2 for East Asian wide and full-width ones (CJK,
    most emoji), 0 for combining marks (they sit on the one before) and joiners, else 1. Counting
    characters instead shifted every column after a Japanese name or a decomposed accent."""
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me"):
        return 0
    if kept_format(char):  # a joiner or an emoji tag: nothing of its own on screen
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _width(text: str) -> int:
    return sum(_columns(c) for c in text)


def _printable(text: str) -> str:
    """Names are anyone's: a newline would break a line, an escape sequence drive the
    terminal, a bidi override turn what follows around. The joiners and emoji tags a stored
    name keeps (core.filenames.kept_format) are part of the name and shown as they are:
    "🏃\u200d♀️" was printed "🏃?♀️"."""
    return "".join(c if c.isprintable() or kept_format(c) else "?" for c in text)


def _cell(text: str, width: int) -> str:
    """`text` in exactly `width` terminal columns: cut with '…' where it does not fit, padded
    with spaces where it is short."""
    text = _printable(text)
    if _width(text) > width:
        kept: list[str] = []
        used = 0
        for char in text:
            used += _columns(char)
            if used > width - 1:  # a wide character that would straddle '…' goes too
                break
            kept.append(char)
        text = "".join(kept) + "…"
    return text + " " * (width - _width(text))


def _terminal(stream: TextIO | None) -> bool:
    """Whether `stream` is a terminal (not for a closed or missing one: pythonw, `<&-`)."""
    try:
        return stream is not None and stream.isatty()
    except (OSError, ValueError):
        return False


def _login(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    server = (args.server or credentials.default_server()).rstrip("/")
    if args.token_stdin or not _terminal(sys.stdin):
        # `echo $TOKEN | mediadesk login`: getpass cannot hide what no terminal echoes, and
        # without one (cron, CI, ssh without -t) it printed Python's GetPassWarning before
        # reading the pipe anyway; with one it asked the terminal and left the pipe unread
        token = sys.stdin.readline().strip() if sys.stdin is not None else ""
    else:
        try:
            token = getpass.getpass(f"API token for {server}: ").strip()  # never echoed
        except EOFError:  # Ctrl+D at the prompt, or a script's stdin at its end
            err.write("\n")
            token = ""
    if not token:
        err.write("mediadesk: no token given\n")
        return 2
    from server.client.api import Client  # httpx: only the client commands load it

    with Client(server, token, on_retry=_notice(err)) as client:
        client.config()  # a public endpoint that still refuses an unknown token (401)
    path = credentials.save_token(server, token)
    out.write(f"Saved the token for {server} in {path}\n")
    return 0
