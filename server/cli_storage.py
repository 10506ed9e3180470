"""`mediadesk storage migrate --to r2|local` and `mediadesk storage status`."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from core import storage_migration
from core.errors import Cancelled
from core.library import Library
from core.settings import (
    ENV_NAMES,
    Settings,
    load_settings,
    r2_from_environment,
    save_settings,
    secret_location,
    without_r2_environment,
)
from core.storage.factory import build_backend
from server.cli_status import StatusLine

COMMANDS = ("storage",)
# exit status of a move stopped with Ctrl+C while copying: the shell's for SIGINT (128 + 2), as
# `serve` stopped during its start-up; 143 (128 + 15) for SIGTERM
INTERRUPTED = 130


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    storage = sub.add_parser("storage", help="show where files are, or move them to a backend")
    ssub = storage.add_subparsers(dest="storage_command", required=True, metavar="ACTION")
    ssub.add_parser("status", parents=[common], help="files per backend (JSON)")
    migrate = ssub.add_parser(
        "migrate",
        parents=[common],
        help="copy every file to a backend, verify its SHA-256, switch the catalog, then "
        "delete the source; new files go there too. Safe to stop and run again.",
    )
    migrate.add_argument("--to", required=True, choices=storage_migration.BACKENDS)
    migrate.add_argument(
        "--save-keys",
        action="store_true",
        help="also save the R2_* values given in the environment (the secret key in the "
        "secret store, never in settings.toml), so that later starts need no R2_* variables",
    )


def run(args: argparse.Namespace, opener: Callable[..., Library]) -> int:
    status = args.storage_command == "status"
    # status is what one runs to see what is wrong: missing R2 keys are its finding, not a
    # refusal to start (migrate needs the storage, and refuses with the same sentence)
    library = opener(args, allow_incomplete_storage=True) if status else opener(args)
    try:
        if status:
            settings = library.settings
            found: dict[str, Any] = {
                "active": settings.backend_name,
                "files": library.backends.counts_by_backend(),
            }
            if settings.storage_problem:
                found["problem"] = settings.storage_problem
                sys.stderr.write(f"mediadesk: {settings.storage_problem}\n")
            sys.stdout.write(json.dumps(found) + "\n")
            return 0
        return _migrate(library, args.to, args.save_keys)
    finally:
        library.close()


def _say_queued(library: Library, target: str) -> int:
    """A Ctrl+C (in the copying or in the wait for the old copies), or a source that would not
    delete, leaves old copies' deletions queued: said, or the run looks as if it had removed
    them. Returns how many (the JSON's queued_deletions), the target's notes included.

    Those notes (queued at the target before each copy, LEFT_BEHIND too) are no old copies: a
    file that failed (a full disk, the store out of reach) keeps its only bytes where it is. They
    were counted in "N old copies stay queued for deletion": after a move back onto a disk that
    filled, "60 old copies" named 60 files whose one copy stayed where it was."""
    queued = library.deferred.left_behind()
    old = sum(1 for backend, _ in queued if backend != target)
    if old:
        copies = "old copy stays" if old == 1 else "old copies stay"
        sys.stderr.write(
            f"mediadesk: {old} {copies} queued for deletion; maintenance or the next start "
            "deletes them\n"
        )
    unfinished = len(queued) - old
    if unfinished:
        files = (
            "file that did not move keeps its bytes where they are; what was copied of it"
            if unfinished == 1
            else "files that did not move keep their bytes where they are; what was copied of them"
        )
        sys.stderr.write(
            f"mediadesk: {unfinished} {files} to {target} is queued for deletion unless the move "
            "is run again, which uses it\n"
        )
    return len(queued)


def _migrate(library: Library, target: str, save_keys: bool = False) -> int:
    settings = library.settings
    cancel = threading.Event()
    heard: list[int] = []

    def stop(signum: int, _frame: object) -> None:
        heard.append(signum)
        cancel.set()

    # SIGTERM (a service manager, `kill`, a shutdown) stops as Ctrl+C does: it killed the move
    # outright, with no JSON line of what had moved and the old copies' deletions unsaid
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)

    status = StatusLine()

    def progress(step: storage_migration.MigrationStep) -> None:
        if step.removing:  # the wait for the moved files' old copies (SOURCE_KEPT_SECONDS)
            what = f"removing the old copies ({step.removing} left, {step.seconds_left} s)"
        else:
            what = step.name
        status.show(f"{step.done}/{step.total} {what}")

    def keys_first() -> None:
        if save_keys:
            _save_keys_first(settings)

    try:
        report = library.backends.migrate(
            target, build_backend(settings, target), progress, cancel, ready=keys_first
        )
    except Cancelled as exc:
        status.end()
        moved_so_far = exc.details.get("report")
        if not isinstance(moved_so_far, storage_migration.MigrationReport):
            raise
        # Stopped while copying: the files moved so far stay moved (their old copies queued
        # too), so a script gets the same JSON line as after a whole run, and the shell's
        # status for SIGINT; 2 says the move could not start, which hid what had moved.
        sys.stderr.write(f"mediadesk: interrupted: {exc.message}\n")
        _say_unsaved_part(settings, target, moved_so_far)
        _report(moved_so_far, _say_queued(library, target), interrupted=True)
        return 128 + heard[0] if heard else INTERRUPTED
    status.end()
    # Only a complete move makes the target active (the README's exit 0): after a failed one
    # new files would go to a store that just failed, and the files left behind are still
    # read where they are, which the old setting keeps saying.
    switch = settings.storage_backend != target or settings.backend_name != target
    if report.complete and (switch or save_keys):
        # the environment's values are never copied to disk unless --save-keys asks for it
        env = without_r2_environment() if save_keys else None
        save_settings(settings.replace(storage_backend=target), settings.config_file, env)
    queued = _say_queued(library, target)
    if not report.complete:
        _say_unsaved_part(settings, target, report)
    unsaved = r2_from_environment(settings) if report.complete and target == "r2" else []
    if unsaved:
        sys.stderr.write(
            f"mediadesk: R2 is now active, but {', '.join(unsaved)} came from the environment "
            "and were not saved: MediaDesk (the desktop app too) needs them at every start. "
            "To save them (the secret key in the secret store, "
            f"{secret_location(settings)}), run 'mediadesk storage migrate --to r2 --save-keys' "
            "with them set, or enter them in the desktop app's Settings (Storage).\n"
        )
    # a Ctrl+C in the wait for the old copies: every file moved, the deletions stay queued
    _report(report, queued, interrupted=cancel.is_set())
    return 0 if report.complete else 1


def _save_keys_first(settings: Settings) -> None:
    """--save-keys' values, saved once the target answered and before the first file moves:
    saved at the end, a move stopped part-way (Ctrl+C, SIGTERM, kill -9, a crash) left files on
    R2 with no keys on disk, unreadable to every later start and to the move back. The backend
    new files go to stays the one the settings file chose (what a start without R2_* or
    MEDIADESK_STORAGE_BACKEND picks): saved R2 keys under an unset choice would make R2 active
    now, and only a complete move makes the target active."""
    env = without_r2_environment()
    env.pop(ENV_NAMES["storage_backend"], None)
    folder = {"data_dir": settings.data_dir} if settings.data_dir else {}
    kept = load_settings(
        environ=env, config_file=settings.config_file, allow_incomplete_storage=True, **folder
    ).backend_name
    save_settings(settings.replace(storage_backend=kept), settings.config_file, env)


def _say_unsaved_part(
    settings: Settings, target: str, report: storage_migration.MigrationReport
) -> None:
    """A move to R2 that did not finish, with R2_* only in the environment: the files it moved
    are read from R2 by every later start, which needs them set (or saved)."""
    unsaved = r2_from_environment(settings) if target == "r2" and report.moved else []
    if unsaved:
        sys.stderr.write(
            f"mediadesk: files moved to R2 are read from there, but {', '.join(unsaved)} came "
            "from the environment and were not saved: give them to every start (the desktop "
            "app too) until the move is complete, or run it again with "
            "'mediadesk storage migrate --to r2 --save-keys'.\n"
        )


def _report(report: storage_migration.MigrationReport, queued: int, interrupted: bool) -> None:
    """The run's one JSON line on stdout."""
    sys.stdout.write(
        json.dumps(
            {
                "target": report.target,
                "moved": report.moved,
                "skipped": report.skipped,
                "failed": [
                    # reason: object_damaged, object_missing, copy_mismatch… (null when none),
                    # as the API's errors carry one; a script chooses by it, never by `error`
                    {"id": f.file_id, "error": f.error, "code": f.code, "reason": f.reason}
                    for f in report.failed
                ],
                # old copies the source would not delete: maintenance deletes them later
                "leftovers": [{"backend": b, "key": k} for b, k in report.leftovers],
                # old copies whose deletion is still queued (leftovers included)
                "queued_deletions": queued,
                # stopped with Ctrl+C: the files not listed were not tried; run it again
                "interrupted": interrupted,
            }
        )
        + "\n"
    )
