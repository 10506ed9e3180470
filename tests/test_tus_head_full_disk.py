"""A HEAD on a complete upload that the full disk kept from being stored answered 507 with no
`Upload-Offset`: a client resuming from HEAD's offset (the tester's script, tus clients that
read it) went back to 0 and was refused 409, when an empty PATCH at the full offset was all
that was left to send. HEAD's 507 now carries the upload's offset and length (a read), and the
upload finishes from there once the disk has room.

A real full disk: the data folder (catalog included) on a small tmpfs (root only); real HTTP."""

from __future__ import annotations

import hashlib
from pathlib import Path

from core.library import Library
from server.entry import EmbeddedServer
from tests.resumable_client import head, patch
from tests.server_fixtures import make_tokens, server_config
from tests.test_faults_tus_disk import (  # noqa: F401
    full_library,
    png_ending_in_a_page,
    sent_but_the_last_byte,
)


def test_head_on_a_full_disk_answers_the_offset_of_an_upload_it_cannot_store_yet(
    full_library: Library,  # noqa: F811
    tmp_path: Path,
) -> None:
    lib = full_library
    tokens = make_tokens(lib)
    data = png_ending_in_a_page(tmp_path)
    with EmbeddedServer(lib, config=server_config(lib)) as server:
        url, offset, filler = sent_but_the_last_byte(lib, server.url, tokens.upload, data)
        assert patch(url, tokens.upload, offset, data[offset:]).status == 507
        said = head(url, tokens.upload)
        assert said.status == 507, said.headers
        assert said.headers["Upload-Offset"] == str(len(data)), said.headers
        assert said.headers["Upload-Length"] == str(len(data))
        assert said.headers["Tus-Resumable"] == "1.0.0"
        assert "MediaDesk-File-Id" not in said.headers
        filler.unlink()
        # as a client goes on from HEAD's offset: nothing left to send but the finish
        kept = int(said.headers["Upload-Offset"])
        done = patch(url, tokens.upload, kept, data[kept:])
        assert done.status == 204, done.body
        file_id = int(done.headers["MediaDesk-File-Id"])
        assert lib.get_file(file_id).sha256 == hashlib.sha256(data).hexdigest()
