"""A mistyped MEDIADESK_ variable's warning: said also when another variable's value is
refused, and, from a command printing JSON, as a JSON line on stderr (serve's JSON log
mode's shape), never as bare text beside the JSON document."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.faults import ENTRY, ROOT

pytestmark = pytest.mark.timeout(90)

TYPO = "MEDIADESK_PROT is not a MediaDesk setting and is ignored; did you mean MEDIADESK_PORT?"


def _mediadesk(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MEDIADESK_")}
    return subprocess.run(
        [sys.executable, "-c", ENTRY, *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_typo_is_said_beside_a_refused_value(tmp_path: Path) -> None:
    done = _mediadesk(
        "doctor",
        env={
            "MEDIADESK_DATA_DIR": str(tmp_path / "data"),
            "MEDIADESK_PORT": "abc",
            "MEDIADESK_PROT": "1",
        },
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [  # was the refusal alone
        TYPO,
        "mediadesk: Setting MEDIADESK_PORT has an invalid value 'abc': expected a whole number",
    ]


@pytest.mark.parametrize(
    "command",
    [
        ("doctor", "--json"),
        ("maintenance",),
        ("token", "list", "--json"),
        ("storage", "status"),
        ("reprocess", "--all"),
    ],
    ids=" ".join,
)
def test_a_json_command_gives_its_warnings_as_json_lines(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    done = _mediadesk(
        *command, env={"MEDIADESK_DATA_DIR": str(tmp_path / "data"), "MEDIADESK_PROT": "1"}
    )
    assert done.returncode == 0, done.stderr
    json.loads(done.stdout)  # one document
    records = [json.loads(line) for line in done.stderr.splitlines()]  # was the bare sentence
    assert [(r["level"], r["message"]) for r in records] == [("WARNING", TYPO)]


def test_a_json_command_refused_says_the_typo_as_json_then_its_one_line(tmp_path: Path) -> None:
    done = _mediadesk(
        "doctor",
        "--json",
        env={
            "MEDIADESK_DATA_DIR": str(tmp_path / "data"),
            "MEDIADESK_PORT": "abc",
            "MEDIADESK_PROT": "1",
        },
    )
    assert done.returncode == 2, done.stderr
    warning, refusal = done.stderr.splitlines()
    assert json.loads(warning)["message"] == TYPO
    assert refusal.startswith("mediadesk: Setting MEDIADESK_PORT has an invalid value")
    assert done.stdout == ""


def test_text_commands_keep_the_plain_sentence(tmp_path: Path) -> None:
    done = _mediadesk(
        "token", "list", env={"MEDIADESK_DATA_DIR": str(tmp_path / "data"), "MEDIADESK_PROT": "1"}
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [TYPO]
