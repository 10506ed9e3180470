"""`mediadesk token list` prints each token's whole name, its columns lined up after the longest.

The outside report: the README says the CLI shows a desktop's preview token by its stored name
mediadesk-desktop-previews@host:pid:…, so that IT can tell which desktop holds it, and the
list cut every name at 24 characters: `mediadesk-desktop-previe`.
"""

from __future__ import annotations

import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from core.tokens import process_token_name

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.timeout(120)


def _mediadesk(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("mediadesk")), "--data-dir", str(data_dir), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _columns(text: str) -> int:
    """Terminal columns: East Asian wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def test_token_list_shows_whole_names_in_aligned_columns(tmp_path: Path) -> None:
    data = tmp_path / "data"
    names = [
        process_token_name("mediadesk-desktop-previews", "pc-recepcion.club.local:48213:9f3a1c"),
        "phone",
        "カメラ担当のアップロード用トークン",  # 17 wide characters: 34 columns
    ]
    for name in names:
        made = _mediadesk(data, "token", "create", "--name", name, "--scope", "read")
        assert made.returncode == 0, made.stderr
    listed = _mediadesk(data, "token", "list")
    assert listed.returncode == 0, listed.stderr
    header, *rows = listed.stdout.splitlines()
    assert len(rows) == len(names)
    scope_at = _columns(header[: header.index("SCOPE")])
    for name, row in zip(names, rows, strict=True):
        assert name in row, row
        at = row.index(name) + len(name)
        # the scope starts in the same terminal column on every row, after one space at least
        assert row[at] == " ", row
        assert _columns(row[: row.index(" read ", at) + 1]) == scope_at, row
    # no wider than it needs: one space after the longest name
    longest = max(_columns(n) for n in names)
    assert scope_at == len("   1  ") + longest + 1
