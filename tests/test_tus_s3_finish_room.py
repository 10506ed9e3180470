"""Finishing a tus upload on R2/S3 checks the object from a local copy of it (validation, its
hash, its thumbnail: core/ingest.py confirm), so a data folder without room for the whole
file cannot finish it, although the upload itself buffered at most one part. That answer must
be a clear 507 that keeps the upload: HEAD says its offset (the full length), and once the disk
has room HEAD (or an empty PATCH) catalogues the object already whole in the bucket, with
nothing left behind in tmp/ or uploads/.

Real parts: the data folder (catalog included) on a small tmpfs (root only), moto's S3
server, real HTTP."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.library import Library
from server.entry import EmbeddedServer
from tests.conftest import make_s3_settings
from tests.faults import small_tmpfs
from tests.resumable_client import MiB, create, head, padded_mp4, patch
from tests.s3_server import S3Target
from tests.server_fixtures import make_tokens, server_config

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def small_s3_library(tmp_path: Path, s3_bucket: S3Target) -> Iterator[Library]:
    """R2/S3 storage, its data folder (catalog, uploads, tmp) on a 12 MiB tmpfs."""
    with small_tmpfs(tmp_path / "data", "12m") as data_dir:
        lib = Library.open(
            make_s3_settings(
                data_dir,
                s3_bucket,
                upload_part_size=5 * MiB,
                max_file_size=300 * MiB,
            )
        )
        try:
            yield lib
        finally:
            lib.close()


def test_a_finish_without_local_room_for_the_file_is_507_and_kept(
    small_s3_library: Library, tmp_path: Path
) -> None:
    lib = small_s3_library
    tokens = make_tokens(lib)
    data = padded_mp4(tmp_path / "m.mp4", 16 * MiB + 99).read_bytes()
    data_dir = lib.paths.data_dir
    with EmbeddedServer(lib, config=server_config(lib)) as server:
        url = server.url + create(server.url, tokens.upload, len(data)).headers["Location"]
        offset, last = 0, None
        while offset < len(data):  # the parts go to the bucket: one at most is on the disk
            last = patch(url, tokens.upload, offset, data[offset : offset + 4 * MiB])
            if last.status != 204:
                break
            offset = int(last.headers["Upload-Offset"])
        assert last is not None
        assert last.status == 507, (offset, last.status, last.body)
        assert last.json()["error"]["code"] == "insufficient_storage"
        said = head(url, tokens.upload)
        assert said.status == 507, said.headers
        assert said.headers["Upload-Offset"] == str(len(data)), said.headers
        assert not list((data_dir / "tmp").iterdir())  # the copy that did not fit is gone
        subprocess.run(["mount", "-o", "remount,size=64m", str(data_dir)], check=True)
        done = head(url, tokens.upload)
        assert done.status == 200, done.headers
        file_id = int(done.headers["MediaDesk-File-Id"])
        assert lib.get_file(file_id).sha256 == hashlib.sha256(data).hexdigest()
        assert not list((data_dir / "uploads").iterdir())
