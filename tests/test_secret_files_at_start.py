"""Every file in secrets/ is checked when a library opens, on every storage backend.

The outside report: with R2 storage the link-signing key (secrets/url-signing.key, which signs
every private video's watch link) was checked only at its first use, so a server started over
a world-writable key, and then each watch link answered 500 with the server's local path in
`details.path`. A secret only readable by others (0644 r2_secret_access_key) was left so.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from core.errors import SettingsError
from core.library import Library
from core.settings import Settings
from core.storage.factory import SIGNING_KEY_FILE
from server.entry import EmbeddedServer
from tests import media
from tests.server_fixtures import bearer, http_call, make_tokens, server_config, upload_file

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX modes")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_an_r2_library_refuses_a_world_writable_signing_key_at_open(
    s3_settings: Settings,
) -> None:
    lib = Library.open(s3_settings)
    try:
        lib.sign_file_grant(1)  # R2 libraries make the key on first use
    finally:
        lib.close()
    key = s3_settings.paths.secrets_dir / SIGNING_KEY_FILE
    key.chmod(0o666)
    with pytest.raises(SettingsError) as caught:
        Library.open(s3_settings).close()
    assert caught.value.reason == "unsafe_permissions"
    assert _mode(key) == 0o666  # refused, not adopted


@pytest.mark.parametrize("backend", ["settings", "s3_settings"])
def test_secrets_only_readable_by_others_are_closed_and_writable_ones_refused_at_open(
    backend: str, request: pytest.FixtureRequest
) -> None:
    settings: Settings = request.getfixturevalue(backend)
    folder = settings.paths.secrets_dir
    folder.mkdir(mode=0o700, parents=True)
    r2_key = folder / "r2_secret_access_key"
    r2_key.write_text("not-used-here")
    signing_key = folder / SIGNING_KEY_FILE
    signing_key.write_bytes(b"k" * 32)
    for path in (r2_key, signing_key):
        path.chmod(0o644)  # as an older version or a hand copy left them
    Library.open(settings).close()
    assert _mode(r2_key) == 0o600
    assert _mode(signing_key) == 0o600

    r2_key.chmod(0o620)
    with pytest.raises(SettingsError) as caught:
        Library.open(settings).close()
    assert caught.value.reason == "unsafe_permissions"
    assert "r2_secret_access_key" in caught.value.message


def test_a_key_spoiled_after_start_answers_without_the_servers_local_path(
    s3_library: Library, tmp_path: Path
) -> None:
    tokens = make_tokens(s3_library)
    server = EmbeddedServer(s3_library, config=server_config(s3_library))
    server.start()
    try:
        clip = media.make_mp4(tmp_path / "a.mp4", seconds=1)
        fid = upload_file(server, tokens.upload, clip, kind="video", is_public="false")["id"]
        key = s3_library.paths.secrets_dir / SIGNING_KEY_FILE
        key.touch(mode=0o600)
        key.chmod(0o666)  # after the start-up check, before the key's first use
        for path in (f"/files/{fid}/presigned-url?kind=watch", f"/stream/{fid}/info"):
            reply = http_call(server.url + path, headers=bearer(tokens.read))
            assert reply.status == 500, (path, reply.body)
            assert reply.json()["error"]["reason"] == "unsafe_permissions"
            text = reply.body.decode()
            assert str(s3_library.paths.data_dir) not in text, text
            assert "/secrets" not in text, text
    finally:
        server.stop()


def test_a_link_in_secrets_never_has_the_file_it_names_closed(
    tmp_path: Path, settings: Settings
) -> None:
    """check_secret_files closed every file of secrets/ readable by others to 0600 through
    os.stat and os.chmod, which follow links: a link there to a file outside (as root,
    /etc/passwd) had that file made 0600, and every other user's programs stopped finding
    their user names. The link is left and what it names keeps its mode; one that others can
    read is refused, as a secret writable by others is."""
    folder = settings.paths.secrets_dir
    folder.mkdir(mode=0o700, parents=True)
    outside = tmp_path / "passwd"
    outside.write_text("root:x:0:0::/root:/bin/sh\n")
    outside.chmod(0o644)
    (folder / "linked").symlink_to(outside)
    with pytest.raises(SettingsError) as caught:
        Library.open(settings).close()
    assert _mode(outside) == 0o644
    # refused, since others can read what it names (before the fix: closed through the link)
    assert caught.value.reason == "unsafe_permissions"
    assert "link" in caught.value.message and "chmod 600" in caught.value.message
    outside.chmod(0o600)  # an admin's secret kept elsewhere, restricted: taken as it is
    Library.open(settings).close()
    assert _mode(outside) == 0o600
