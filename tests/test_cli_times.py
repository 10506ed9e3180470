"""Times in command line listings are the reader's local time, to the minute, the one way
(core.instants.local_minute): `mediadesk token list` printed a token's last use in UTC ISO
while `mediadesk list` printed a file's upload in local time, so on a machine three hours
behind UTC a token seemed used three hours after the upload it made."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.instants import local_minute

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.timeout(120)


def _mediadesk(data_dir: Path, *args: str, tz: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("mediadesk")), *args, "--data-dir", str(data_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "TZ": tz},
    )


def test_token_list_shows_the_last_use_in_local_time(tmp_path: Path) -> None:
    data = tmp_path / "data"
    made = _mediadesk(data, "token", "create", "--name", "phone", "--scope", "upload", tz="UTC")
    assert made.returncode == 0, made.stderr
    used = datetime(2026, 3, 29, 1, 30)  # the catalog keeps UTC, naive
    with sqlite3.connect(data / "mediadesk.sqlite3") as conn:
        assert (
            conn.execute("UPDATE api_tokens SET last_used_at = ?", (used.isoformat(" "),)).rowcount
            == 1
        )
    # POSIX TZ "BRT+3" is three hours behind UTC, and needs no tz database
    listed = _mediadesk(data, "token", "list", tz="BRT+3")
    assert listed.returncode == 0, listed.stderr
    row = next(line for line in listed.stdout.splitlines() if "phone" in line)
    assert row.rstrip().endswith("2026-03-28 22:30"), row


def test_local_minute_reads_datetimes_and_api_text_alike() -> None:
    moment = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    shown = (moment.astimezone()).strftime("%Y-%m-%d %H:%M")
    assert local_minute(moment) == shown
    assert local_minute(moment.replace(tzinfo=None)) == shown  # naive is UTC
    assert local_minute("2026-03-29T01:30:00Z") == shown
    assert local_minute("2026-03-28T22:30:00-03:00") == shown
    assert local_minute(moment + timedelta(seconds=59)) == shown
    assert local_minute(None) == local_minute("") == "-"
    assert local_minute("not a time") == "not a time"
