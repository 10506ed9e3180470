"""MEDIADESK_LOG_FORMAT=json: every stderr line of `serve` is one JSON object, the warnings
that loading the settings logs (before the format is known) too."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.faults import ENTRY, ROOT


def test_a_settings_warning_at_start_is_json(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIADESK_")}
    env |= {"MEDIADESK_LOG_FORMAT": "json", "MEDIADESK_MAX_FILE_SIZE": "5"}  # a mistyped name
    command = [sys.executable, "-c", ENTRY, "serve", "--port", "0"]
    proc = subprocess.Popen(
        [*command, "--data-dir", str(tmp_path / "data")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # the banner: stdout, with JSON logs
            if "Press Ctrl+C" in line:
                break
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    records = [json.loads(line) for line in err.splitlines()]  # each line one object
    assert proc.returncode == 0, err
    assert any(
        "MEDIADESK_MAX_FILE_SIZE is not a MediaDesk setting" in r["message"] for r in records
    )
    assert records[0]["level"] == "WARNING"


def test_the_warning_is_json_also_when_a_setting_is_refused(tmp_path: Path) -> None:
    """A refused setting leaves no settings to read the format from: the typo's warning came
    out as plain text before the refusal's one line (regression hunter on 7cd8212)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIADESK_")}
    env |= {
        "MEDIADESK_LOG_FORMAT": "json",
        "MEDIADESK_MAX_FILE_SIZE": "5",  # a mistyped name: warned
        "MEDIADESK_HOST": "999.1.1.1",  # refused
    }
    done = subprocess.run(
        [sys.executable, "-c", ENTRY, "serve", "--port", "0", "--data-dir", str(tmp_path / "d")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    *logged, said = done.stderr.splitlines()
    assert said.startswith("mediadesk: Setting MEDIADESK_HOST"), done.stderr
    records = [json.loads(line) for line in logged]  # each line one object
    assert any("MEDIADESK_MAX_FILE_SIZE is not a MediaDesk" in r["message"] for r in records)
