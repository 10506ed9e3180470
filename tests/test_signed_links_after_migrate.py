"""A download link this server signed on local storage lives until its expiry, also after the
library moved to R2 (`storage migrate --to r2`) and the server restarted: it serves the file's
bytes from R2, with the same checks (signature, expiry, file not trashed)."""

from __future__ import annotations

import time
from urllib.parse import parse_qsl, urlencode, urlsplit

from core.library import Library
from core.settings import Settings
from core.storage.factory import SIGNING_KEY_FILE
from core.storage.signing import LocalPresigner
from server.entry import EmbeddedServer
from tests.media_fixtures import MediaSet
from tests.server_fixtures import bearer, http_call, make_tokens, server_config, upload_file


def _link(url: str, token: str, file_id: int) -> str:
    reply = http_call(f"{url}/files/{file_id}/presigned-url?expires_in=3000", headers=bearer(token))
    assert reply.status == 200, reply.body
    parts = urlsplit(reply.json()["url"])
    assert parts.path.startswith("/signed/")
    return f"{parts.path}?{parts.query}"  # to open on the restarted server (another port)


def _tampered(link: str) -> str:
    path, _, query = link.partition("?")
    fields = dict(parse_qsl(query))
    fields["sig"] = ("0" if fields["sig"][0] != "0" else "1") + fields["sig"][1:]
    return f"{path}?{urlencode(fields)}"


def test_a_local_download_link_outlives_a_move_to_r2(
    s3_settings: Settings, media_dir: MediaSet
) -> None:
    settings = s3_settings.replace(storage_backend="local")
    lib = Library.open(settings)
    tokens = make_tokens(lib)
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        kept = upload_file(server, tokens.upload, media_dir.jpeg)
        trashed = upload_file(server, tokens.upload, media_dir.png)
        link, trashed_link = (_link(server.url, tokens.read, f["id"]) for f in (kept, trashed))
        before = http_call(server.url + link)
        assert before.status == 200
    finally:
        server.stop()
    key = lib.get_file(kept["id"]).storage_key
    assert lib.backends.migrate("r2").failed == []
    lib.close()
    assert not (settings.paths.objects_dir / key).exists()  # only R2 holds the bytes now

    lib = Library.open(settings.replace(storage_backend="r2"))
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        assert lib.settings.backend_name == "r2"
        after = http_call(server.url + link)
        assert after.status == 200, after.body[:300]
        assert after.body == before.body
        part = http_call(server.url + link, headers={"Range": "bytes=10-109"})
        assert part.status == 206 and part.body == before.body[10:110]

        assert http_call(server.url + _tampered(link)).status == 403
        secret = (settings.paths.secrets_dir / SIGNING_KEY_FILE).read_bytes()
        signed_long_ago = LocalPresigner(secret, server.url, clock=lambda: time.time() - 3600)
        expired = signed_long_ago.presign_get(key, 60, file_id=kept["id"]).url
        assert http_call(expired).status == 403
        # a link names its file: one signed for this key but another file serves nothing
        misnamed = LocalPresigner(secret, server.url).presign_get(key, 60, file_id=trashed["id"])
        assert http_call(misnamed.url).status == 404

        assert http_call(server.url + trashed_link).status == 200
        lib.trash(trashed["id"])
        assert http_call(server.url + trashed_link).status == 404
    finally:
        server.stop()
        lib.close()


def test_a_file_left_on_the_local_folder_gets_links_to_this_servers_port(
    s3_settings: Settings, media_dir: MediaSet
) -> None:
    """README: MEDIADESK_PUBLIC_URL defaults to http://HOST:PORT. With R2 active, a file still
    on the local folder (the old files kept readable, a partial move back) got download links
    naming the settings' port (8765 by default), not the one the server listens on."""
    settings = s3_settings.replace(storage_backend="local")
    lib = Library.open(settings)
    kept = lib.uploads.ingest(media_dir.jpeg, "image")
    lib.close()

    lib = Library.open(settings.replace(storage_backend="r2"))
    tokens = make_tokens(lib)
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        assert server.port != settings.server_port
        download = http_call(f"{server.url}/files/{kept.id}/download", headers=bearer(tokens.read))
        assert download.status == 302, download.body
        assert download.headers["Location"].startswith(f"{server.url}/signed/")
        assert http_call(download.headers["Location"]).body == media_dir.jpeg.read_bytes()
        signed = http_call(
            f"{server.url}/files/{kept.id}/presigned-url", headers=bearer(tokens.read)
        )
        assert signed.json()["url"].startswith(f"{server.url}/signed/"), signed.json()
    finally:
        server.stop()
        lib.close()
