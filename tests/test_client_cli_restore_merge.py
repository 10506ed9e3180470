"""`mediadesk restore` says when the restored id was merged into another file.

An outside tester's report: a file restored from the trash whose bytes were uploaded again
meanwhile comes back as that upload (the server answers duplicate: true, duplicate_of: the
ready file, and the id stays its alias), but `mediadesk restore 5` printed "restored 5
img2.jpg", as if 5 were a file of its own again. It now prints "restored 5 as 32 img2.jpg";
--json carries the server's record, duplicate_of included. A real server over loopback.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

from core.library import Library
from server.client import Client, cli
from server.entry import EmbeddedServer
from tests.media import make_jpeg
from tests.server_fixtures import make_tokens


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.run(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def merged_pair(live: EmbeddedServer, token: str, tmp_path: Path, shade: int) -> tuple[int, int]:
    """(trashed id, ready id) of one photo uploaded, trashed, and uploaded again."""
    first = make_jpeg(tmp_path / f"img{shade}.jpg", size=(48, 32), color=(shade, 20, 200))
    again = tmp_path / "again" / f"img{shade}-again.jpg"
    again.parent.mkdir(exist_ok=True)
    shutil.copy(first, again)
    with Client(live.url, token) as client:
        old = client.upload(first).id
        client.trash(old)
        new = client.upload(again)
    assert not new.duplicate
    return old, new.id


def test_a_restore_merged_into_another_file_names_it(
    live: EmbeddedServer, library: Library, tmp_path: Path
) -> None:
    token = make_tokens(library).upload
    old, new = merged_pair(live, token, tmp_path, 10)
    code, out, err = run("restore", str(old), "--server", live.url, "--token", token)
    assert (code, err) == (0, "")
    assert out == f"restored {old} as {new} img10-again.jpg\n"

    old, new = merged_pair(live, token, tmp_path, 90)
    code, out, err = run("restore", str(old), "--json", "--server", live.url, "--token", token)
    assert (code, err) == (0, "")
    line = json.loads(out)
    assert line["id"] == old and line["ok"] is True
    assert line["file"]["duplicate"] is True and line["file"]["duplicate_of"] == new


def test_a_plain_restore_says_the_id_alone(
    live: EmbeddedServer, library: Library, tmp_path: Path
) -> None:
    token = make_tokens(library).upload
    photo = make_jpeg(tmp_path / "solo.jpg", size=(48, 32), color=(5, 5, 5))
    with Client(live.url, token) as client:
        file_id = client.upload(photo).id
        client.trash(file_id)
    code, out, _ = run("restore", str(file_id), "--server", live.url, "--token", token)
    assert (code, out) == (0, f"restored {file_id} solo.jpg\n")
