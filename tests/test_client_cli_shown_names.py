"""`mediadesk list` and `trash|restore|delete` show a stored name's joiners and emoji tags.

An outside tester's report: `_printable()` turned every character str.isprintable() refuses
into "?", the format characters (Cf) among them, so "emoji 🏃‍♀️.jpg" (a runner, a zero-width
joiner, the female sign) was printed "emoji 🏃?♀️.jpg" and a Scotland flag (🏴 and tag
characters) as "🏴??????". The server keeps those on purpose where they join something
(core.filenames._KEPT_FORMAT, asked through kept_format); control characters and bidi
overrides are still escaped. A real server over loopback, real files so named.
"""

from __future__ import annotations

import io
from pathlib import Path

from core.library import Library
from server.client import cli
from server.entry import EmbeddedServer
from tests.media import make_jpeg
from tests.server_fixtures import make_tokens

RUNNER = "emoji \U0001f3c3\u200d\u2640\ufe0f.jpg"
SCOTLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f flag.jpg"
PERSIAN = "\u0646\u0627\u0645\u0647\u200c\u0647\u0627.jpg"  # a ZWNJ in its spelling


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.run(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def test_list_and_trash_print_joiners_and_tags_as_the_name_holds_them(
    live: EmbeddedServer, library: Library, tmp_path: Path
) -> None:
    ids = {}
    for shade, name in enumerate((RUNNER, SCOTLAND, PERSIAN)):
        photo = make_jpeg(tmp_path / f"{shade}.jpg", size=(32, 32), color=(shade * 80, 40, 90))
        record = library.uploads.ingest(photo, "image", original_filename=name)
        assert record.original_filename == name  # the server keeps them
        ids[name] = record.id
    tokens = make_tokens(library)
    code, out, err = run("list", "--server", live.url, "--token", tokens.read)
    assert code == 0, err
    for name in ids:
        assert f" {name} " in out, out
    assert "?" not in out
    code, out, err = run("trash", str(ids[RUNNER]), "--server", live.url, "--token", tokens.upload)
    assert code == 0, err
    assert out == f"trashed {ids[RUNNER]} {RUNNER}\n"


def test_controls_and_bidi_overrides_are_still_escaped() -> None:
    # stray joiners and tags are shown as they come: only the server decides where they join
    text = "a\x1b[31mb\u202ec\u2066d\u200be\u200d\U000e0067\n.jpg"
    assert cli._printable(text) == "a?[31mb?c?d?e\u200d\U000e0067?.jpg"


def test_a_joiner_takes_no_column_in_the_table() -> None:
    # 🏃 is wide (2), ♀ one column, the joiner and the variation selector none
    assert cli._width(RUNNER) == cli._width("emoji \U0001f3c3\u2640\ufe0f.jpg") == 13
    assert cli._cell(RUNNER, 16) == RUNNER + "   "
