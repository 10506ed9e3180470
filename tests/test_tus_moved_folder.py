"""A tus upload on local storage whose data folder moved (a new laptop, a backup restored at
another path, a renamed home), over real HTTP.

The catalog names the data folder holding an upload's bytes (`buffer_at`) by the host's name
and the folder's path, so the moved folder was taken for another server of a team: its HEAD
answered Upload-Offset 0 although every byte was still in `uploads/<id>.part`, and a PATCH at
the real offset was refused 409 "does not match the 0 bytes in the bucket (the bytes past them
wait on another server of the team)", with neither a bucket nor a team (found by an outside
tester). A `.part` holds the upload's first bytes whoever wrote them, so the one in this folder
is taken as far as it goes; a server without it still refuses, in words true of local storage.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.resumable_client import create, head, noise_png, patch
from tests.server_fixtures import library_served, make_tokens


def _half_sent(data_dir: Path, data: bytes) -> tuple[str, str]:
    """An upload created and half sent by a server on `data_dir`, then stopped: (its path on
    the server, the upload token)."""
    with library_served(data_dir) as (lib, server):
        token = make_tokens(lib).upload
        where = create(server.url, token, len(data), filename="match.png").headers["Location"]
        assert patch(server.url + where, token, 0, data[: len(data) // 2]).status == 204
    return where, token


def test_an_upload_goes_on_after_its_data_folder_moved(tmp_path: Path) -> None:
    data = noise_png(tmp_path / "match.png", 300).read_bytes()
    half = len(data) // 2
    where, token = _half_sent(tmp_path / "laptop", data)
    moved = tmp_path / "new-laptop"
    (tmp_path / "laptop").rename(moved)
    with library_served(moved) as (lib, server):
        answer = head(server.url + where, token)
        assert answer.status == 200 and answer.headers["Upload-Offset"] == str(half)
        done = patch(server.url + where, token, half, data[half:])
        assert done.status == 204, done.body
        record = lib.get_file(int(done.headers["MediaDesk-File-Id"]))
        assert record.sha256 == hashlib.sha256(data).hexdigest()
        assert list((moved / "uploads").iterdir()) == []


def test_a_server_without_the_bytes_refuses_in_words_true_of_local_storage(
    tmp_path: Path,
) -> None:
    """Two servers on one catalog, a data folder each (the bytes in one of them): the other
    answers the offset it can take, refuses another without a word of a bucket or a team, and
    changes nothing, so the first goes on with its bytes."""
    data = noise_png(tmp_path / "match.png", 300).read_bytes()
    half = len(data) // 2
    catalog = f"sqlite:///{tmp_path / 'catalog.sqlite3'}"
    with library_served(tmp_path / "a", database_url=catalog) as (lib, a):
        token = make_tokens(lib).upload
        where = create(a.url, token, len(data), filename="match.png").headers["Location"]
        assert patch(a.url + where, token, 0, data[:half]).status == 204
        with library_served(tmp_path / "b", database_url=catalog) as (_, b):
            assert head(b.url + where, token).headers["Upload-Offset"] == "0"
            refused = patch(b.url + where, token, half, data[half:])
            assert refused.status == 409 and refused.headers["Upload-Offset"] == "0"
            error = refused.json()["error"]
            assert error["code"] == "offset_mismatch" and error["details"]["offset"] == 0
            assert "bucket" not in error["message"] and "team" not in error["message"]
            assert "another data folder" in error["message"], error["message"]
        assert head(a.url + where, token).headers["Upload-Offset"] == str(half)
        done = patch(a.url + where, token, half, data[half:])
        assert done.status == 204, done.body
        record = lib.get_file(int(done.headers["MediaDesk-File-Id"]))
        assert record.sha256 == hashlib.sha256(data).hexdigest()
