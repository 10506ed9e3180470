"""Command line: `serve`, `token create|list|revoke`, `maintenance` (via server.entry.main)."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import logging.handlers
import os
import signal
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from core.db import migrate as db_migrate
from core.errors import MediaDeskError, SettingsError
from core.instants import local_minute
from core.library import Library
from core.links import WILDCARDS, only_this_machine
from core.logsetup import (
    LogFile,
    apply_format,
    make_formatter,
    quiet_credential_loggers,
    quiet_outage_tracebacks,
    reopen_log_files,
)
from core.settings import Settings, checked_host, load_settings
from core.stdio import hear_interrupts
from core.tokens import SCOPES
from server import cli_catalog, cli_doctor, cli_nginx, cli_storage, cli_video
from server.client import cli as client_cli

logger = logging.getLogger(__name__)


def _port(text: str) -> int:
    """--port 99999 ended in a traceback from bind(); argparse says it in one line instead."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}: expected a number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"invalid port {port}: must be 0 to 65535 (0: any free)")
    return port


def _host(text: str) -> str:
    """--host checked as the setting is: `serve --host "bad host"` said "Setting
    MEDIADESK_HOST: …", a setting the admin had not set. Blank leaves the setting's."""
    if text.strip():
        try:
            checked_host(text, setting=False)
        except SettingsError as exc:
            raise argparse.ArgumentTypeError(exc.message) from None
    return text


def _count(text: str) -> int:
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid count {text!r}: expected a number") from None
    if count < 1:
        raise argparse.ArgumentTypeError(f"invalid count {count}: must be 1 or more")
    return count


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir",
        metavar="FOLDER",
        help="catalog, files and settings folder (default: MEDIADESK_DATA_DIR "
        "or the user's data folder)",
    )
    parser = argparse.ArgumentParser(prog="mediadesk", description="MediaDesk server commands.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = sub.add_parser(
        "serve",
        parents=[common],
        help="run the HTTP API without the desktop window",
        description="Run the MediaDesk HTTP API in the foreground until Ctrl+C. On the first "
        "start (no API token yet) an admin token is created and printed once.",
    )
    serve.add_argument(
        "--host",
        type=_host,
        help="address to listen on (default: settings server_host, "
        "127.0.0.1; use 0.0.0.0 to listen on every interface)",
    )
    serve.add_argument(
        "--port",
        type=_port,
        help="TCP port (default: settings server_port, 8765; 0 picks a free port)",
    )
    serve.add_argument(
        "--public-url",
        help="URL clients use to reach this server, for signed "
        "URLs behind a proxy (MEDIADESK_PUBLIC_URL)",
    )
    serve.add_argument(
        "--log-level",
        default="INFO",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="default: INFO",
    )
    token = sub.add_parser("token", help="create, list or revoke API tokens")
    tsub = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    create = tsub.add_parser("create", parents=[common], help="create a token (shown once)")
    create.add_argument("--name", required=True, help="who or what uses the token")
    create.add_argument(
        "--scope", choices=SCOPES, default="read", help="read < upload < admin (default: read)"
    )
    listing = tsub.add_parser("list", parents=[common], help="list tokens (never the secrets)")
    listing.add_argument("--json", action="store_true", help="print JSON")
    revoke = tsub.add_parser("revoke", parents=[common], help="revoke a token by id")
    revoke.add_argument("id", type=client_cli.catalog_id, help="token id (see 'token list')")
    what = (
        "remove partial files of writers that are gone, delete the old keys of moved "
        "files, purge the trash, expire pending uploads, abort stale multipart "
        "uploads and check the store against the catalog; prints JSON"
    )
    maintenance = sub.add_parser(
        "maintenance",
        parents=[common],
        help=what,
        description=what[0].upper()
        + what[1:]
        + " (exit status 1 when a task failed, the store does not match the catalog "
        '(reconcile not "clean"; the JSON lists what) or the result could not be recorded).',
    )
    maintenance.add_argument(
        "--adopt-strays",
        action="store_true",
        help="also take the stored photos and videos the catalog does not know (after an older "
        "catalog was restored) back into the library, where they lie: each read as an upload "
        "(type, metadata, SHA-256, thumbnail, video jobs), named by its file name, dated by "
        "the object, under the athlete its folder names if that athlete exists; a ready "
        "file's duplicate or what an upload refuses is left and named (JSON 'adopt')",
    )
    maintenance.add_argument(
        "--forget-missing",
        action="store_true",
        help="after a restore of the catalog: delete for good (as a hard delete does, audited) "
        "the files whose object is missing from the storage, i.e. deleted after the catalog's "
        "backup was taken (run --adopt-strays first: it puts moved files' bytes back). "
        "Refused when the storage holds none of the catalog's files, or when more are missing "
        "than 10 or 1%% of the files, whichever is more (JSON 'forget')",
    )
    maintenance.add_argument(
        "--forget-missing-count",
        type=_count,
        metavar="N",
        help="with --forget-missing: forget them even past that limit, when exactly N files "
        "are missing (the count its refusal said)",
    )
    # given alone (the refusal's "run it again with --forget-missing-count N" read as the
    # whole command), maintenance ran, forgot nothing and exited 0: refused as a usage error
    maintenance.set_defaults(usage_error=maintenance.error)
    cli_video.add_parsers(sub, common)
    cli_storage.add_parsers(sub, common)
    cli_catalog.add_parsers(sub, common)
    cli_doctor.add_parsers(sub, common)
    cli_nginx.add_parsers(sub, common)
    return parser


def _data_dir(args: argparse.Namespace) -> str:
    """--data-dir's folder as a whole path (empty when not given). A save (`storage migrate`,
    `catalog copy --save`) writes it to settings.toml: `--data-dir lib` was saved as "lib",
    which a later start reading that file from another folder took for another library."""
    given = getattr(args, "data_dir", None)
    return os.path.abspath(os.path.expanduser(given)) if given else ""


def _settings(args: argparse.Namespace, **overrides: Any) -> Settings:
    """This machine's settings, or those of the folder --data-dir names."""
    if _data_dir(args):
        overrides["data_dir"] = _data_dir(args)
    return load_settings(**overrides)


def _open(args: argparse.Namespace, **overrides: Any) -> Library:
    return Library.open(_settings(args, **overrides))


def _out(text: str) -> None:
    try:
        sys.stdout.write(text + "\n")
    except UnicodeEncodeError:  # raised before a character is written
        # a token named "Ñoño" on an output whose encoding has no Ñ (a non-UTF-8 locale, or
        # LC_ALL=C with PYTHONUTF8=0): `token list` and `revoke` ended in a traceback there
        encoding = sys.stdout.encoding or "ascii"
        sys.stdout.write((text + "\n").encode(encoding, "backslashreplace").decode(encoding))
    sys.stdout.flush()


def run(argv: list[str]) -> int:
    hear_interrupts()
    if argv and argv[0] in client_cli.COMMANDS:  # the HTTP client
        return client_cli.run(argv)
    args = build_parser().parse_args(argv)
    if args.command == "maintenance" and args.forget_missing_count and not args.forget_missing:
        args.usage_error("--forget-missing-count N goes with --forget-missing")  # exits 2
    try:
        code = _run(args)
        sys.stdout.flush()  # a reader gone (`token list | head`) is found here, not at exit
        return code
    except BrokenPipeError:
        return client_cli.reader_gone(sys.stdout)
    except KeyboardInterrupt:
        # Ctrl+C before serve's own handler is installed (its first second), or in any other
        # command (hear_interrupts): one line, the shell's status for SIGINT
        sys.stderr.write("mediadesk: interrupted\n")
        return 130


def _prints_json(args: argparse.Namespace) -> bool:
    """Whether the command's stdout is one JSON document (maintenance's, storage's, catalog's
    and reprocess's always is)."""
    if args.command in ("maintenance", "reprocess", *cli_storage.COMMANDS, *cli_catalog.COMMANDS):
        return True
    listing = args.command == "token" and args.token_command == "list"
    return (listing or args.command in cli_doctor.COMMANDS) and bool(args.json)


@contextlib.contextmanager
def _warnings_as_json(args: argparse.Namespace) -> Iterator[None]:
    """A JSON command's warnings (a mistyped MEDIADESK_ variable's, said while the settings
    load) as JSON lines on stderr, as serve's JSON log mode writes them: Python's last resort
    wrote them as bare text, which a script taking both streams as JSON choked on."""
    if not _prints_json(args):
        yield
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(make_formatter("json"))
    handler.setLevel(logging.WARNING)  # what the last resort wrote, no more
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)


@contextlib.contextmanager
def _migration_notices(args: argparse.Namespace) -> Iterator[None]:
    """The catalog's upgrade and waits (core.db.migrate's NOTICE lines) on stderr for the
    commands that set up no logging of their own (token, storage, catalog, doctor...): they
    showed WARNING and above only, and a first `token list` after an upgrade of a big catalog
    looked hung for minutes, inviting the Ctrl+C that undoes the upgrade. serve and
    maintenance log them already."""
    if args.command in ("serve", "maintenance"):
        yield
        return
    handler = logging.StreamHandler(sys.stderr)
    as_json = _prints_json(args)
    handler.setFormatter(
        make_formatter("json") if as_json else logging.Formatter("mediadesk: %(message)s")
    )

    def said_here(record: logging.LogRecord) -> bool:
        # a handler on the way keeps Python's last resort from writing this logger's warnings:
        # they are written here too, unless the JSON commands' own handler does
        return bool(getattr(record, "notice", False)) or (
            not as_json and record.levelno >= logging.WARNING
        )

    handler.addFilter(said_here)
    migrate_log = db_migrate.logger
    level = migrate_log.level
    migrate_log.setLevel(logging.INFO)
    migrate_log.addHandler(handler)
    try:
        yield
    finally:
        migrate_log.removeHandler(handler)
        migrate_log.setLevel(level)


def _run(args: argparse.Namespace) -> int:
    with _warnings_as_json(args), _migration_notices(args):
        return _dispatch(args)


def _dispatch(args: argparse.Namespace) -> int:
    try:
        if args.command == "serve":
            return _serve(args)
        if args.command == "token":
            return _token(args)
        if args.command in cli_video.COMMANDS:
            return cli_video.run(args, _open)
        if args.command in cli_storage.COMMANDS:
            return cli_storage.run(args, _open)
        if args.command in cli_catalog.COMMANDS:
            return cli_catalog.run(args, _settings)
        if args.command in cli_doctor.COMMANDS:
            # missing R2 keys are a finding of the doctor (with its fix), not a refusal
            return cli_doctor.run(args, _settings(args, allow_incomplete_storage=True))
        if args.command in cli_nginx.COMMANDS:
            return cli_nginx.run(args, _settings(args))
        return _maintenance(args)
    except MediaDeskError as exc:
        sys.stderr.write(f"mediadesk: {one_line(exc.message)}\n")
        return 2


def one_line(text: str) -> str:
    """`text` on one line: a cause quoted whole may run over several (libpq's "connection
    refused" adds a tab-indented "Is the server running on that host…"), while a start-up
    error is one line, which scripts and service managers show as the reason."""
    return "; ".join(part.strip() for part in text.splitlines() if part.strip())


def _log_to_file(path: Path, log_format: str = "text") -> None:
    """Also keeps the server's log in the data folder (rotated, a few MB at most)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = LogFile(path)  # says once, not per record, when it cannot be written
    except OSError as exc:
        logger.warning("No log file: %s", exc)
        return
    handler.setFormatter(make_formatter(log_format))
    logging.getLogger().addHandler(handler)


def _wake(*events: threading.Event) -> None:
    for event in events:
        event.set()


# How long a stop waits for the requests in progress (their answers cut, their work ended) before
# the process ends without them
STOP_WAIT = 30.0


def _serve(args: argparse.Namespace) -> int:
    from core.video.worker import start_in_process
    from server.entry import LISTEN_ERRORS, EmbeddedServer, cannot_listen, first_start_token

    # SIGHUP is logrotate's postrotate `kill -HUP` (or a closed terminal): its default killed
    # the server at once, cutting downloads and streams and leaving a half-received upload in
    # tmp/. Heard from the start, as a start may take minutes (a catalog migration); the loop
    # below reopens the log files
    wake, hup = threading.Event(), threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGHUP, lambda *_: _wake(hup, wake))
    # Ctrl+C stops a start (a catalog migration of minutes) as it stops the server: a
    # KeyboardInterrupt until the handler below, even started with SIGINT ignored (`run`)
    root = logging.getLogger()
    root.setLevel(args.log_level)
    # The format is a setting: what loading the settings logs (a mistyped MEDIADESK_ variable's
    # warning) is held until the format is known, or MEDIADESK_LOG_FORMAT=json's first stderr
    # line was plain text and a shipper reading JSON lines choked on it
    held = logging.handlers.BufferingHandler(capacity=10_000)
    root.addHandler(held)
    # a refused setting leaves no settings to read it from: the environment's own word, when
    # it is one (the typo's warning came out as text before the refusal's line)
    asked = os.environ.get("MEDIADESK_LOG_FORMAT", "").strip().lower()
    log_format = asked if asked in ("text", "json") else "text"
    try:
        early: dict[str, Any] = {"data_dir": _data_dir(args)} if _data_dir(args) else {}
        log_format = load_settings(**early).log_format
    finally:  # a refused setting's warnings too, before its one line
        root.removeHandler(held)
        logging.basicConfig(
            level=args.log_level,
            stream=sys.stderr,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
        apply_format(log_format)
        for record in held.buffer:
            logging.getLogger(record.name).handle(record)
    quiet_credential_loggers()  # --log-level DEBUG must not log bucket signatures
    overrides: dict[str, Any] = {}
    if args.public_url:
        overrides["public_base_url"] = args.public_url
    if args.host:
        overrides["server_host"] = args.host
    library = _open(args, **overrides)
    log_format = library.settings.log_format
    _log_to_file(library.paths.logs_dir / "server.log", log_format)
    quiet_outage_tracebacks()  # out of descriptors: no traceback from every loop's retry
    server = workers = None
    # SIGTERM (systemd's stop, a supervisor's) from here on stops the server once it is up:
    # between "listening on" and the banner's handlers below, its default ended the process
    # with -15 and no "stopped" line (tests/test_ops_closed_fds.py met it under load)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: _wake(stop, wake))
    try:
        # --host went through the settings (a blank one is the default host, never aiohttp's
        # "" for every interface): the library's settings say where to listen
        server = EmbeddedServer(library, None, args.port)
        try:
            server.start()
        except LISTEN_ERRORS as exc:
            # A port in use (another server, a port still held) is said in one line, status 2,
            # like a catalog that cannot be opened.
            where = f"{server.config.host}:{server.config.port}"
            sys.stderr.write(f"mediadesk: cannot listen on {where}: {cannot_listen(exc)}\n")
            return 2
        # Made once the port is bound: a first start that could not listen would have used up
        # the admin token shown only once, and the next start made none.
        secret = first_start_token(library)
        workers = start_in_process(library)
        # Bound to every address, the banner names the address other devices open (the admin
        # link is opened from a phone or another computer as often as from here) and keeps the
        # loopback one, which always works on this machine
        shared, here = server.shared_url, server.url
        every = " (listening on all addresses)" if server.config.host in WILDCARDS else ""
        lines = [f"MediaDesk API running at {shared}/{every}"]
        if shared != here:
            lines.append(
                f"    {'On this machine' if only_this_machine(here) else 'Listening on'}: {here}/"
            )
        lines.append(f"    API documentation: {shared}/docs")
        if secret:
            lines += [
                "First start: an admin API token was created. It is shown only once:",
                f"    {secret}",
                "    Send it as 'Authorization: Bearer <token>', or open:",
                f"    {shared}/docs#token={secret}",
            ]
        lines.append("Press Ctrl+C to stop.")
        # human text; with JSON logs on stdout, so that stderr stays one JSON object a line
        banner = sys.stdout if log_format == "json" else sys.stderr
        # the handlers first: "Press Ctrl+C to stop." is a promise, and a Ctrl+C (a script's
        # SIGINT) right after it was a KeyboardInterrupt, exit 130 'interrupted'
        signal.signal(signal.SIGINT, lambda *_: _wake(stop, wake))
        banner.write("\n".join(lines) + "\n")
        banner.flush()
        while not stop.is_set() and server.running:
            wake.wait(1.0)
            wake.clear()
            if hup.is_set():
                # here, not in the handler: logging from a signal handler may deadlock on a
                # handler's lock the interrupted code holds
                hup.clear()
                files = reopen_log_files()
                logger.info("SIGHUP: reopening the log files (%s)", ", ".join(files) or "none")
    finally:
        # also after a Ctrl+C before the handler above was installed
        if workers is not None:
            workers.stop()
        stopped = server is None or server.stop(STOP_WAIT)
        library.close()
        if not stopped:
            # A request's blocking work (a decode, a stalled disk) still runs in a thread the
            # interpreter joins at exit: the process lived on for minutes after SIGTERM, which
            # systemd then kills with -9 anyway. Every write is a transaction or an atomic
            # rename (what kill -9 leaves is what maintenance cleans): end it here.
            logger.error("Exiting without waiting for the work still running")
            logging.shutdown()
            sys.stderr.flush()
            os._exit(1)
    return 0


def _token(args: argparse.Namespace) -> int:
    with contextlib.closing(_open(args)) as library:
        store = library.tokens
        if args.token_command == "create":
            info, secret = store.create(args.name, args.scope)
            sys.stderr.write(
                f"Created token {info.id} ({info.name}, scope {info.scope}). "
                "Store it now; it is not shown again:\n"
            )
            _out(secret)
        elif args.token_command == "list":
            tokens = store.list()
            if args.json:
                _out(json.dumps([t.as_dict() for t in tokens], indent=2))
            else:
                # Whole names, the column as wide as the longest (in terminal columns, as
                # `mediadesk list` counts them): a name cut at 24 characters dropped the
                # host:pid that tells which desktop holds a preview token.
                width = max([4, *(client_cli._width(t.name) for t in tokens)])
                _out(
                    f"{'ID':>4}  {client_cli._cell('NAME', width)} {'SCOPE':<7} {'PREFIX':<13} "
                    f"{'STATUS':<8} LAST USED"
                )
                for t in tokens:
                    used = local_minute(t.last_used_at)
                    _out(
                        f"{t.id:>4}  {client_cli._cell(t.name, width)} {t.scope:<7} {t.prefix:<13} "
                        f"{'active' if t.active else 'revoked':<8} {used}"
                    )
        else:
            # idempotent (exit 0), but a second revoke is said as such, not as a new one
            before = store.get(args.id)
            if not before.active:
                _out(f"Token {before.id} ({before.name}) was already revoked")
                return 0
            info = store.revoke(args.id)
            _out(f"Revoked token {info.id} ({info.name})")
    return 0


def _maintenance(args: argparse.Namespace) -> int:
    from core.leader import full_run
    from core.logsetup import outage_cause
    from core.maintenance import forget_missing, reconcile, run_maintenance

    # another run under way (the server's scheduled one, another `mediadesk maintenance`) is
    # waited for a few seconds, then refused in one line, exit status 2
    with contextlib.closing(_open(args)) as library, full_run(library):
        started = datetime.now(UTC)
        report = run_maintenance(library)
        adopted: dict[str, Any] = {}
        if args.adopt_strays:
            # after the tasks (deletions come due, interrupted ones finished) and before the
            # reconcile, which then lists what is left
            from core.adopt import adopt_strays

            try:
                adopted = adopt_strays(library).as_dict()
            except MediaDeskError as exc:
                report.errors.append(f"adopt_strays: {exc.message}")
        forgot: dict[str, Any] = {}
        if args.forget_missing:
            # after the adoption, which puts the moved files' bytes back: what is still
            # missing then was deleted after the catalog's backup
            try:
                forgot = forget_missing(
                    library, reconcile(library), args.forget_missing_count
                ).as_dict()
            except MediaDeskError as exc:
                report.errors.append(f"forget_missing: {exc.message}")
        try:
            found = reconcile(library)
            checked: dict[str, Any] = found.as_dict()
            summary: dict[str, Any] = found.summary()
        except MediaDeskError as exc:
            # The store out of reach: the report of what ran (purged, expired) still counts,
            # as the server's own runs keep it (core/leader.py)
            checked = summary = {"error": f"{type(exc).__name__}: {exc}"}
        printed = {"maintenance": report.as_dict()}
        if args.adopt_strays:
            printed["adopt"] = adopted
        if args.forget_missing:
            printed["forget"] = forgot
        _out(json.dumps({**printed, "reconcile": checked}, indent=2))
        recorded = True
        try:  # where `mediadesk doctor` reads it; a catalog that takes no write loses only that
            library.remember_reconcile(summary)
            library.remember_maintenance({**report.as_dict(), "reconcile": summary}, started)
        except (MediaDeskError, SQLAlchemyError) as exc:
            # SQLAlchemy's own text of a full disk runs over two lines with the statement
            why = outage_cause(exc) or (exc.message if isinstance(exc, MediaDeskError) else exc)
            logger.warning("Could not record the maintenance run in the catalog: %s", why)
            recorded = False
    # a store that does not match the catalog is an error to fix, as a failed task is; so is a
    # run whose result is not recorded (doctor and /health go on showing the last one): a cron
    # job hears it only by the status
    failed = report.errors or "error" in checked or not checked.get("clean") or not recorded
    forget_failed = forgot.get("errors") or forgot.get("refused")
    return 1 if failed or adopted.get("errors") or forget_failed else 0
