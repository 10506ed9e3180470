"""Token names follow the stored names' rule (core.filenames.visible_text): no control, bidi or
zero-width characters.

The outside report: `mediadesk token create --name $'ok\\e[2K\\rFAKE ROW'` stored the ESC, and
`mediadesk token list` wrote it to the admin's terminal (a cleared line, a forged row).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from core.errors import InvalidInput
from core.library import Library

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.timeout(120)

FORGED = "ok\x1b[2K\rFAKE ROW"


def test_a_token_name_is_stored_without_control_or_invisible_characters(library: Library) -> None:
    info, _ = library.tokens.create(FORGED, "read")
    assert info.name == "ok[2K FAKE ROW"  # the line break is a space, as in athlete names
    spoof, _ = library.tokens.create("club\u202egpj.exe\u200b\x07", "read")
    assert spoof.name == "clubgpj.exe"
    assert [t.name for t in library.tokens.list()] == [info.name, spoof.name]


def test_a_name_an_older_version_stored_is_listed_without_its_escapes(library: Library) -> None:
    info, _ = library.tokens.create("ok", "read")
    with library._db.write() as s:  # as an older version stored it
        stmt = text("UPDATE api_tokens SET name = :n WHERE id = :i")
        s.execute(stmt, {"n": FORGED, "i": info.id})
    assert [t.name for t in library.tokens.list()] == ["ok[2K FAKE ROW"]


@pytest.mark.parametrize("name", ["\x1b\x07", "\u200b\u202e", " \r\n "])
def test_a_name_with_nothing_visible_is_refused(library: Library, name: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        library.tokens.create(name, "read")
    assert caught.value.reason == "token_name_length"
    assert "visible" in caught.value.message
    assert library.tokens.list() == []


def _mediadesk(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("mediadesk")), "--data-dir", str(data_dir), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_cli_never_writes_a_names_escape_to_the_terminal(tmp_path: Path) -> None:
    data = tmp_path / "data"
    made = _mediadesk(data, "token", "create", "--name", FORGED, "--scope", "read")
    assert made.returncode == 0, made.stderr
    assert "\x1b" not in made.stderr
    listed = _mediadesk(data, "token", "list")
    assert listed.returncode == 0, listed.stderr
    assert "\x1b" not in listed.stdout and "\r" not in listed.stdout
    assert "ok[2K FAKE ROW" in listed.stdout

    refused = _mediadesk(data, "token", "create", "--name", "\x1b", "--scope", "read")
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines()[-1] == (
        "mediadesk: A token name needs 1 to 100 visible characters"
    )
