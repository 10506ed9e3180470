"""A file grant (`exp=…&sig=…`) names the file it was made for, not whichever file holds its id
later. Putting an older backup of the data folder back (stop, copy the folder back: README's
way) makes the catalog hand out again the ids it gave after that backup: a grant made for the
old file 2 (/stream/2/info's links, a signed watch link, a watch page's poster) opened the NEW
private file 2 with 200 and its bytes.

The real sequence: a library on a data folder, its server over loopback, uploads over HTTP, the
folder copied while stopped and copied back; nothing mocked."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from server.entry import EmbeddedServer
from tests import media
from tests.server_fixtures import (
    Tokens,
    bearer,
    http_call,
    library_served,
    make_tokens,
    upload_file,
)


def _links(server: EmbeddedServer, tokens: Tokens, file_id: int) -> dict[str, str]:
    """Every signed link the API hands out for a private file, as paths on the server: /info's
    links, and for a video its watch link."""
    reply = http_call(f"{server.url}/stream/{file_id}/info", headers=bearer(tokens.read))
    assert reply.status == 200, reply.body
    info: dict[str, Any] = reply.json()
    links = {name: info[name] for name in ("stream_url", "raw_url", "thumbnail_url")}
    if info["file_type"] == "video":
        asked = f"{server.url}/files/{file_id}/presigned-url?kind=watch"
        watch = http_call(asked, headers=bearer(tokens.read))
        assert watch.status == 200, watch.body
        parts = urlsplit(watch.json()["url"])
        links["watch"] = f"{parts.path}?{parts.query}"
    assert all("sig=" in url for url in links.values()), links
    return links


def _upload(server: EmbeddedServer, tokens: Tokens, path: Path, kind: str) -> int:
    return int(upload_file(server, tokens.upload, path, kind)["id"])


def test_a_grant_made_before_a_restore_opens_nothing_of_the_file_given_its_id_after(
    tmp_path: Path,
) -> None:
    data, backup = tmp_path / "data", tmp_path / "backup"
    data.mkdir()
    with library_served(data) as (lib, server):
        _upload(server, make_tokens(lib), media.make_jpeg(tmp_path / "kept.jpg"), "image")
    shutil.copytree(data, backup, symlinks=True)  # last week's backup, taken stopped

    with library_served(data) as (lib, server):
        tokens = make_tokens(lib)
        clip = _upload(server, tokens, media.make_mp4(tmp_path / "a.mp4", seconds=1), "video")
        dark = media.make_jpeg(tmp_path / "a.jpg", color=(9, 9, 9))
        photo = _upload(server, tokens, dark, "image")
        old = {clip: _links(server, tokens, clip), photo: _links(server, tokens, photo)}
        for links in old.values():  # they open while the file is the one they were made for
            for url in links.values():
                assert http_call(server.url + url).status == 200, url

    shutil.rmtree(data)
    shutil.copytree(backup, data, symlinks=True)  # the backup put back

    with library_served(data) as (lib, server):
        tokens = make_tokens(lib)
        red = media.make_jpeg(tmp_path / "b.jpg", color=(200, 9, 9))
        made = {
            _upload(server, tokens, media.make_mp4(tmp_path / "b.mp4", seconds=2), "video"),
            _upload(server, tokens, red, "image"),
        }
        assert made == {clip, photo}  # the ids handed out again, to other private files
        answers = {}
        for file_id, links in old.items():
            for name, url in links.items():
                reply = http_call(server.url + url, headers={"Accept": "application/json"})
                code = reply.json()["error"]["code"] if reply.status >= 400 else "the file"
                answers[f"{file_id} {name}"] = (reply.status, code)
        # as a grant that was tampered with: 403 invalid_signature, no byte of the file
        assert answers == {name: (403, "invalid_signature") for name in answers}
        for file_id in made:  # the new files' own grants open them
            for url in _links(server, tokens, file_id).values():
                assert http_call(server.url + url).status == 200, url
