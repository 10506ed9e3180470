"""A tus creation refused 507 on a full disk (the catalog, on the same disk, could not record
the upload) left the empty `uploads/<id>.part` it had made just before: it survived a restart
and waited for the maintenance a minute later, although the refusal says nothing is kept and
its answer has no Location to reach it. The refusal now removes it, with and without a body.

A real full disk: the data folder (catalog included) on a small tmpfs (root only); real HTTP."""

from __future__ import annotations

from core.library import Library
from server.entry import EmbeddedServer
from tests.faults import fill_disk
from tests.resumable_client import OCTETS, TUS, create
from tests.server_fixtures import bearer, http_call, make_tokens, server_config
from tests.test_faults_tus_disk import _empty_wal, full_library  # noqa: F401


def test_a_creation_the_full_disk_refuses_leaves_no_file_in_uploads(
    full_library: Library,  # noqa: F811
) -> None:
    lib = full_library
    tokens = make_tokens(lib)
    uploads = lib.paths.data_dir / "uploads"
    with EmbeddedServer(lib, config=server_config(lib)) as server:
        assert create(server.url, tokens.upload, 3000, filename="a.jpg").status == 201
        before = set(uploads.iterdir())
        _empty_wal(lib)  # the catalog's next write needs new room
        fill_disk(lib.paths.data_dir / "filler")
        refused = create(server.url, tokens.upload, 3000, filename="t.jpg")
        assert refused.status == 507, refused.body
        assert refused.json()["error"]["code"] == "insufficient_storage"
        assert "Location" not in refused.headers
        assert set(uploads.iterdir()) == before
        with_body = http_call(
            f"{server.url}/files/upload/tus",
            "POST",
            b"\xff\xd8\xff" + bytes(997),
            {**bearer(tokens.upload), **TUS, **OCTETS, "Upload-Length": "3000"},
        )
        assert with_body.status == 507, with_body.body
        assert set(uploads.iterdir()) == before
