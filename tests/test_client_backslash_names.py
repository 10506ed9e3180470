"""A backslash in a local file's name is stored alike by every way a file comes in.

An outside tester's report: `mediadesk upload 'back\\slash.jpg'` and the Python client stored
"slash.jpg" (the server reads "\\" as a Windows folder separator, as it must for a browser's
"C:\\photos\\a.jpg"), while the desktop's import stored "back∖slash.jpg" (U+2216 in place of
the backslash, a character of the name on Linux and macOS). The rule now has one home,
core.filenames.local_name, which the desktop and the client's direct, presigned and tus uploads
follow. A name the caller gives (original_filename=) is the caller's, read as the server reads
any name. Real files of that name, real servers over loopback (local storage with tus).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.filenames import local_name
from core.library import Library
from server.client import Client, cli
from server.entry import EmbeddedServer
from tests.media import make_jpeg
from tests.server_fixtures import library_served, make_tokens
from tests.test_client_net import MiB, big_video

pytestmark = pytest.mark.timeout(120)
STORED = "back\u2216slash"


@pytest.fixture
def tus_server(tmp_path: Path) -> Iterator[tuple[Library, EmbeddedServer]]:
    data = tmp_path / "data"
    data.mkdir()
    with library_served(data, multipart_threshold=5 * MiB, multipart_chunk_size=5 * MiB) as (
        lib,
        live,
    ):
        yield lib, live


def picture(folder: Path, name: str, shade: int) -> Path:
    folder.mkdir(parents=True)
    return make_jpeg(folder / name, size=(64, 48), color=(shade, 90, 120))


def test_every_flow_stores_a_local_backslash_as_the_desktop_does(
    tus_server: tuple[Library, EmbeddedServer], tmp_path: Path, media_dir: Any
) -> None:
    lib, live = tus_server
    direct_file = picture(tmp_path / "1", "back\\slash.jpg", 10)
    presigned_file = picture(tmp_path / "2", "back\\slash.jpg", 60)
    (tmp_path / "3").mkdir()
    tus_file = big_video(Path(media_dir.mp4), tmp_path / "3" / "back\\slash.mp4", 10 * MiB + 4096)
    assert local_name(direct_file.name) == f"{STORED}.jpg"
    with Client(live.url, make_tokens(lib).upload) as client:
        direct = client.upload(direct_file)
        presigned = client.upload(presigned_file, presigned=True)
        tus = client.upload(tus_file)
        given = client.upload(picture(tmp_path / "4", "x.jpg", 110), original_filename="a\\b.jpg")
    assert (direct.flow, presigned.flow, tus.flow) == ("direct", "presigned", "tus")
    assert direct.file["original_filename"] == f"{STORED}.jpg"
    assert presigned.file["original_filename"] == f"{STORED}.jpg"
    assert tus.file["original_filename"] == f"{STORED}.mp4"
    assert lib.get_file(tus.id).original_filename == f"{STORED}.mp4"
    assert given.file["original_filename"] == "b.jpg"  # the caller's name: the server's rule


def test_mediadesk_upload_stores_a_local_backslash_as_the_desktop_does(
    live: EmbeddedServer,
    library: Library,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config-home"))
    photo = picture(tmp_path / "files", "back\\slash.jpg", 30)
    out, err = io.StringIO(), io.StringIO()
    token = make_tokens(library).upload
    code = cli.run(["upload", str(photo), "--server", live.url, "--token", token], out, err)
    assert code == 0, err.getvalue()
    [stored] = library.list_files().items
    assert stored.original_filename == f"{STORED}.jpg"
