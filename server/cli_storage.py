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
from core.library import Library
from core.settings import save_settings
from core.storage.factory import build_backend

COMMANDS = ("storage",)


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


def run(args: argparse.Namespace, opener: Callable[..., Library]) -> int:
    library = opener(args)
    try:
        if args.storage_command == "status":
            sys.stdout.write(
                json.dumps(
                    {
                        "active": library.settings.backend_name,
                        "files": library.backends.counts_by_backend(),
                    }
                )
                + "\n"
            )
            return 0
        return _migrate(library, args.to)
    finally:
        library.close()


def _migrate(library: Library, target: str) -> int:
    settings = library.settings
    cancel = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: cancel.set())

    def progress(done: int, total: int, name: str) -> None:
        sys.stderr.write(f"\r{done}/{total} {name[:60]:<60}")
        sys.stderr.flush()

    report = library.backends.migrate(target, build_backend(settings, target), progress, cancel)
    sys.stderr.write("\n")
    # Only a complete move makes the target active (the README's exit 0): after a failed one
    # new files would go to a store that just failed, and the files left behind are still
    # read where they are, which the old setting keeps saying.
    switch = settings.storage_backend != target or settings.backend_name != target
    if report.complete and switch:
        save_settings(settings.replace(storage_backend=target), settings.config_file)
    sys.stdout.write(
        json.dumps(
            {
                "target": target,
                "moved": report.moved,
                "skipped": report.skipped,
                "failed": [
                    {"id": f.file_id, "error": f.error, "code": f.code} for f in report.failed
                ],
                # old copies the source would not delete: maintenance deletes them later
                "leftovers": [{"backend": b, "key": k} for b, k in report.leftovers],
            }
        )
        + "\n"
    )
    return 0 if report.complete else 1
