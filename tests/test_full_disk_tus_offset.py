"""A tus upload whose last PATCH cannot be stored for want of room (real small tmpfs, root only;
real HTTP over loopback; moto's S3 server for R2): the PATCH's 507 and HEAD's carry
`Upload-Offset`, the full length, as README says, on local storage and on R2.

Before, the final PATCH's 507 had no Upload-Offset on either backend, and HEAD's lost it when
the finish failed below core's translation (SQLite's "database or disk is full" as the
finish's lease was written, a bare OperationalError the route did not look at)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.library import Library
from server.entry import EmbeddedServer
from tests.conftest import make_s3_settings
from tests.faults import fill_disk, library_on_tmpfs, small_tmpfs
from tests.internals import db_of
from tests.resumable_client import MiB, create, head, padded_mp4, patch
from tests.s3_server import S3Target
from tests.server_fixtures import make_tokens, server_config
from tests.test_faults_tus_disk import png_ending_in_a_page, sent_but_the_last_byte

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def full_library(tmp_path: Path) -> Iterator[Library]:
    with library_on_tmpfs(tmp_path / "data", "16m", max_file_size=300 * MiB) as lib:
        yield lib


def test_the_last_patch_and_head_say_the_full_offset_on_local_storage(
    full_library: Library, tmp_path: Path
) -> None:
    lib = full_library
    tokens = make_tokens(lib)
    data = png_ending_in_a_page(tmp_path)
    with EmbeddedServer(lib, config=server_config(lib)) as server:
        url, offset, filler = sent_but_the_last_byte(lib, server.url, tokens.upload, data)
        last = patch(url, tokens.upload, offset, data[offset:])
        assert last.status == 507, last.body
        assert last.headers.get("Upload-Offset") == str(len(data)), last.headers
        assert last.headers.get("Tus-Resumable") == "1.0.0"
        said = head(url, tokens.upload)
        assert said.status == 507, said.headers
        assert said.headers.get("Upload-Offset") == str(len(data)), said.headers
        # the catalog's -wal cut to nothing and its room taken: HEAD's finish cannot even write
        # its lease
        with db_of(lib).engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        more = fill_disk(lib.paths.data_dir / "filler2")
        bare = head(url, tokens.upload)
        assert bare.status == 507, bare.headers
        assert bare.headers.get("Upload-Offset") == str(len(data)), bare.headers
        filler.unlink()
        (lib.paths.data_dir / "filler2").unlink()
        assert more
        done = head(url, tokens.upload)
        assert done.status == 200, done.headers
        assert "MediaDesk-File-Id" in done.headers


@pytest.fixture
def small_s3_library(tmp_path: Path, s3_bucket: S3Target) -> Iterator[Library]:
    """R2/S3 storage, its data folder (catalog, uploads, tmp) on a 12 MiB tmpfs: the finish's
    local copy of a 16 MiB file has no room."""
    with small_tmpfs(tmp_path / "data", "12m") as data_dir:
        settings = make_s3_settings(
            data_dir, s3_bucket, upload_part_size=5 * MiB, max_file_size=300 * MiB
        )
        lib = Library.open(settings)
        try:
            yield lib
        finally:
            lib.close()


def test_the_last_patch_says_the_full_offset_on_r2(
    small_s3_library: Library, tmp_path: Path
) -> None:
    lib = small_s3_library
    tokens = make_tokens(lib)
    data = padded_mp4(tmp_path / "m.mp4", 16 * MiB + 99).read_bytes()
    with EmbeddedServer(lib, config=server_config(lib)) as server:
        url = server.url + create(server.url, tokens.upload, len(data)).headers["Location"]
        offset, last = 0, None
        while offset < len(data):
            last = patch(url, tokens.upload, offset, data[offset : offset + 4 * MiB])
            if last.status != 204:
                break
            offset = int(last.headers["Upload-Offset"])
        assert last is not None
        assert last.status == 507, (offset, last.status, last.body)
        assert last.headers.get("Upload-Offset") == str(len(data)), last.headers
        said = head(url, tokens.upload)
        assert said.status == 507, said.headers
        assert said.headers.get("Upload-Offset") == str(len(data)), said.headers
