"""The Python client and `mediadesk upload` store a file's name the same way in every flow.

An outside tester's report: a local file named "a%22b%0Ac.jpg" under the presign threshold
(the direct upload's form) was stored as 'a"bc.jpg': the form wrote the name as browsers do,
which cannot tell a %22 typed in the name from a quote, so the server decoded it (and dropped
the line feed it made); the same name above the threshold (presigned: JSON; tus: base64
metadata) was stored as typed. The form now also writes `filename*=UTF-8''...` (RFC
7578/5987), which the server takes over `filename`: each flow stores the stored-name rule's
reading of the exact name (core.filenames.clean_filename). A browser's own form, which sends
`filename` only, is read as before (tests/test_form_filenames*.py). Real files on disk with
those names, real servers over loopback (local storage with tus, and moto's S3).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.filenames import clean_filename, local_name
from core.library import Library
from server.client import Client, cli
from server.entry import EmbeddedServer
from tests.media import make_jpeg
from tests.server_fixtures import library_served, make_tokens
from tests.test_client_net import MiB, big_video

pytestmark = pytest.mark.timeout(120)

# stems of names as a user's files may be called; each is stored as clean_filename reads it
STEMS = {
    "pct22": "a%22b%0Ac",
    "pct-crlf": "x%0D%0Ay 100%25 %41",
    "quotes": 'it\'s "quoted" \\"too\\"',
    "semicolons": 'Final;score=3-1; name="x"; filename=y',
    "non-ascii": "ünïcödé 写真 🏃 Ñandú",
    "backslash": "folder\\a\\b",
    "ext-value": "x; filename*=UTF-8''evil",
    "newline": "line\nbreak\r\nend",
}


class Files:
    """Distinct files (the same bytes twice would be one file, named once) under given names."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.count = folder, 0

    def _place(self, name: str) -> Path:
        self.count += 1
        folder = self.folder / str(self.count)
        folder.mkdir(parents=True)
        return folder / name

    def picture(self, name: str) -> Path:
        shade = (self.count * 37 % 256, self.count * 91 % 256, 120)
        return make_jpeg(self._place(name), size=(64, 48), color=shade)

    def video(self, source: Path, name: str) -> Path:
        # just above the presign threshold (10 MiB): tus on local storage
        return big_video(source, self._place(name), size=10 * MiB + 4096)


@pytest.fixture
def files(tmp_path: Path) -> Files:
    return Files(tmp_path / "files")


@pytest.fixture
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No saved login nor token from the environment: the command takes --server and --token."""
    home = tmp_path / "config-home"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.delenv("MEDIADESK_TOKEN", raising=False)
    monkeypatch.delenv("MEDIADESK_SERVER", raising=False)
    return home


@pytest.fixture
def tus_server(tmp_path: Path) -> Iterator[tuple[EmbeddedServer, str]]:
    data = tmp_path / "data"
    data.mkdir()
    with library_served(data, multipart_threshold=5 * MiB, multipart_chunk_size=5 * MiB) as (
        lib,
        live,
    ):
        yield live, make_tokens(lib).upload


@pytest.fixture(params=["live", "s3_live"])
def server(request: pytest.FixtureRequest) -> tuple[EmbeddedServer, str]:
    live: EmbeddedServer = request.getfixturevalue(request.param)
    library: Library = request.getfixturevalue(
        "library" if request.param == "live" else "s3_library"
    )
    return live, make_tokens(library).upload


def test_direct_and_presigned_uploads_store_one_name(
    server: tuple[EmbeddedServer, str], files: Files
) -> None:
    live, token = server
    with Client(live.url, token) as client:
        for label, stem in STEMS.items():
            name = f"{stem}.jpg"
            direct = client.upload(files.picture(name))
            presigned = client.upload(files.picture(name), presigned=True)
            assert (direct.flow, presigned.flow) == ("direct", "presigned")
            assert direct.file["original_filename"] == clean_filename(local_name(name)), label
            assert presigned.file["original_filename"] == clean_filename(local_name(name)), label
            assert client.get(direct.id)["original_filename"] == clean_filename(local_name(name)), (
                label
            )


def test_a_tus_upload_stores_the_name_the_small_ones_do(
    tus_server: tuple[EmbeddedServer, str], files: Files, media_dir: Any
) -> None:
    live, token = tus_server
    with Client(live.url, token) as client:
        for label, stem in STEMS.items():
            name = f"{stem}.mp4"
            small = client.upload(files.picture(f"{stem}.jpg"))
            big = client.upload(files.video(Path(media_dir.mp4), name))
            assert (small.flow, big.flow) == ("direct", "tus")
            assert big.file["original_filename"] == clean_filename(local_name(name)), label
            assert small.file["original_filename"] == clean_filename(local_name(f"{stem}.jpg")), (
                label
            )


def test_mediadesk_upload_keeps_a_percent_escape_in_a_name(
    live: EmbeddedServer, library: Library, files: Files, config_home: Path
) -> None:
    photo = files.picture("a%22b%0Ac.jpg")
    out, err = io.StringIO(), io.StringIO()
    token = make_tokens(library).upload
    code = cli.run(["upload", str(photo), "--server", live.url, "--token", token], out, err)
    assert code == 0, err.getvalue()
    [stored] = library.list_files().items
    assert stored.original_filename == "a%22b%0Ac.jpg"


def test_a_long_given_name_is_stored_cut_by_every_flow(
    live: EmbeddedServer, library: Library, files: Files
) -> None:
    """A regression hunter's repro: a name given as original_filename, 700 emoji (2,804 bytes of
    UTF-8), written twice in the direct form (once percent-encoded) passed the server's 8 KiB
    part-header line, and the direct upload was refused as a malformed form (400) where the
    presigned flow stored its first 255 characters."""
    name = "😀" * 700 + ".jpg"
    with Client(live.url, make_tokens(library).upload) as client:
        direct = client.upload(files.picture("a.jpg"), original_filename=name)
        presigned = client.upload(files.picture("b.jpg"), original_filename=name, presigned=True)
    assert (direct.flow, presigned.flow) == ("direct", "presigned")
    assert direct.file["original_filename"] == clean_filename(name)
    assert presigned.file["original_filename"] == clean_filename(name)
    assert len(clean_filename(name)) == 255
