"""Over real HTTP with real images: asked widths snap to a fixed ladder (a bounded number of
stored variants per image, the served width said in X-MediaDesk-Width), public images are
cached for good only under a versioned URL (`?v=` content tag), and the watch link's origin
is MEDIADESK_PUBLIC_URL whatever the Host header says."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from core import keys
from core.library import Library
from core.thumbnails import VARIANT_WIDTHS
from server.entry import EmbeddedServer
from tests.conftest import make_settings
from tests.internals import storage_of
from tests.media import make_jpeg
from tests.server_fixtures import (
    bearer,
    http_call,
    make_tokens,
    server_config,
    upload_file,
)

pytestmark = pytest.mark.timeout(120)

YEAR = "public, max-age=31536000, immutable"
SHORT = "public, max-age=300"


def test_any_asked_width_is_served_from_a_bounded_ladder(
    live: EmbeddedServer, tmp_path: Path
) -> None:
    tokens = make_tokens(live.library)
    photo = make_jpeg(tmp_path / "wide.jpg", size=(2000, 1500))
    fid = upload_file(live, tokens.upload, photo, is_public="true")["id"]
    asked = [1, 159, 160, 161, *range(300, 331), 999, 1999, 2000, 3000, 4096]
    served: dict[int, int] = {}
    for w in asked:  # anonymous, as the reviewer's loop
        reply = http_call(f"{live.url}/stream/{fid}/image?w={w}")
        assert reply.status == 200, reply.body
        with Image.open(io.BytesIO(reply.body)) as im:
            width = im.size[0]
        assert reply.headers["X-MediaDesk-Width"] == str(width)
        assert reply.headers["Content-Location"] == f"/stream/{fid}/image?w={width}"
        served[w] = width
    # the smallest rung that covers the ask; the original's own width at or above it
    assert served[1] == served[159] == served[160] == 160
    assert served[161] == served[300] == served[320] == 320
    assert served[321] == served[330] == 480
    assert served[999] == 1280
    assert served[1999] == served[2000] == served[3000] == served[4096] == 2000
    assert 320 in VARIANT_WIDTHS  # the grid's and the README's thumbnail width

    record = live.library.get_file(fid)
    stored = list(storage_of(live.library).list_keys(keys.variant_prefix(record.storage_key)))
    assert sorted(s.key for s in stored) == sorted(
        keys.variant_key(record.storage_key, w) for w in (160, 320, 480, 1280, 2000)
    )


def test_a_turned_photo_s_ladder_is_of_its_shown_width(
    live: EmbeddedServer, tmp_path: Path
) -> None:
    """Stored 900x600 with EXIF orientation 6, shown 600x900: the ladder and the width said
    are the shown ones (w=600 answered 640, and w=700 or 2000 answered 900, for 600 pixels)."""
    tokens = make_tokens(live.library)
    photo = make_jpeg(tmp_path / "portrait.jpg", size=(900, 600), exif_orientation=6)
    fid = upload_file(live, tokens.upload, photo)["id"]
    for asked, want in ((400, 480), (600, 600), (700, 600), (2000, 600)):
        reply = http_call(f"{live.url}/stream/{fid}/image?w={asked}", headers=bearer(tokens.read))
        assert reply.status == 200, reply.body
        with Image.open(io.BytesIO(reply.body)) as im:
            assert im.size[0] == want and im.size[1] > im.size[0]
        assert reply.headers["X-MediaDesk-Width"] == str(want), asked
        assert reply.headers["Content-Location"] == f"/stream/{fid}/image?w={want}"


def test_public_images_are_cached_for_good_only_under_a_versioned_url(
    live: EmbeddedServer, tmp_path: Path
) -> None:
    tokens = make_tokens(live.library)
    photo = make_jpeg(tmp_path / "p.jpg", size=(800, 600))
    answer = upload_file(live, tokens.upload, photo, is_public="true")
    fid = answer["id"]
    tag = live.library.get_file(fid).content_tag
    assert tag and tag.startswith(answer["sha256"][:16])  # and the rendering's generation
    urls = http_call(f"{live.url}/files/{fid}").json()["urls"]
    assert urls["thumbnail"] == f"/files/{fid}/thumbnail?v={tag}"
    assert urls["stream"] == f"/stream/{fid}/image?v={tag}"
    assert urls["raw"] == f"/stream/{fid}/raw?v={tag}"
    info = http_call(f"{live.url}/stream/{fid}/info").json()
    assert info["thumbnail_url"] == urls["thumbnail"] and info["raw_url"] == urls["raw"]

    unversioned = [
        f"/stream/{fid}/image",
        f"/stream/{fid}/image?w=320",
        f"/files/{fid}/thumbnail",
        f"/stream/{fid}/raw",
        f"/stream/{fid}/image?v=0000000000000000",  # a stale tag: the current bytes, briefly
    ]
    for path in unversioned:
        reply = http_call(live.url + path)
        assert reply.status == 200, (path, reply.body)
        assert reply.headers["Cache-Control"] == SHORT, path
    resized_url = f"/stream/{fid}/image?w=300&v={tag}"
    versioned = [urls["thumbnail"], urls["stream"], urls["raw"], resized_url]
    for path in versioned:
        reply = http_call(live.url + path)
        assert reply.status == 200, (path, reply.body)
        assert reply.headers["Cache-Control"] == YEAR, path
    resized = http_call(live.url + resized_url)
    assert resized.headers["Content-Location"] == f"/stream/{fid}/image?w=320&v={tag}"

    # made private: what a shared cache kept of the unversioned link was never immutable,
    # and the file's own answers are private now
    changed = http_call(
        f"{live.url}/files/{fid}",
        "PATCH",
        json.dumps({"is_public": False}).encode(),
        {"Content-Type": "application/json", **bearer(tokens.upload)},
    )
    assert changed.status == 200, changed.body
    live.library.get_file(fid)  # read back before asking again
    assert http_call(f"{live.url}/files/{fid}/thumbnail").status in (401, 403, 404)
    mine = http_call(f"{live.url}/files/{fid}/thumbnail", headers=bearer(tokens.read))
    assert mine.status == 200 and mine.headers["Cache-Control"].startswith("private")
    assert "immutable" not in mine.headers["Cache-Control"]


@pytest.fixture
def public_url_live(tmp_path: Path) -> Iterator[EmbeddedServer]:
    data = tmp_path / "pub"
    data.mkdir()
    library = Library.open(make_settings(data, public_base_url="https://media.example.org/"))
    server = EmbeddedServer(library, config=server_config(library))
    server.start()
    yield server
    server.stop()
    library.close()


def test_the_watch_link_names_the_public_url_whatever_the_host_header(
    public_url_live: EmbeddedServer, live: EmbeddedServer, media_dir
) -> None:
    for server, origin in ((public_url_live, "https://media.example.org"), (live, live.url)):
        tokens = make_tokens(server.library)
        fid = upload_file(server, tokens.upload, media_dir.mp4, kind="video")["id"]
        for host in ({}, {"Host": "evil.example"}):
            reply = http_call(
                f"{server.url}/files/{fid}/presigned-url?kind=watch",
                headers={**bearer(tokens.read), **host},
            )
            assert reply.status == 200, reply.body
            url = reply.json()["url"]
            # no public URL: the bound address (tests/test_link_origin.py has the whole rule)
            assert url.startswith(f"{origin}/watch/{fid}?"), url
