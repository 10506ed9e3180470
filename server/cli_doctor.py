"""`mediadesk doctor [--json]`: checks the catalog, the bucket, the change feed and the clock."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from core.doctor import run_checks
from core.settings import Settings

COMMANDS = ("doctor",)


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    doctor = sub.add_parser(
        "doctor",
        parents=[common],
        help="check the set-up (catalog, bucket and CORS, live feed, clock) and say what to fix",
        description="Checks what this machine's settings point at: the catalog is reachable and "
        "migrated, the bucket is reachable and has a CORS rule, changes travel between "
        "processes, and the clock agrees with the bucket's. Exit status 1 when something "
        "needs fixing, 2 when the data folder cannot be used (said in one line, as every "
        "command does). Changes nothing but one test entry in the change log.",
    )
    doctor.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace, settings: Settings) -> int:
    checks = run_checks(settings)
    failed = [c for c in checks if not c.ok]
    if args.json:
        sys.stdout.write(
            json.dumps({"ok": not failed, "checks": [c.as_dict() for c in checks]}, indent=2) + "\n"
        )
    else:
        for check in checks:
            mark = ("warn" if check.warning else "ok  ") if check.ok else "FAIL"
            sys.stdout.write(f"{mark}  {check.name}: {check.detail}\n")
            if check.fix:
                sys.stdout.write(f"      fix: {check.fix}\n")
        sys.stdout.write(
            "All good.\n" if not failed else f"{len(failed)} thing(s) to fix (see above).\n"
        )
    return 1 if failed else 0
