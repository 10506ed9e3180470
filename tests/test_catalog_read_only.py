"""A SQLite catalog that cannot be written for a while (a disk remounted read-only, rights or
attributes changed): the file is made immutable with `chattr +i`, the real cause SQLite meets
("attempt to write a readonly database"; root only, as these tests run here and in CI).

While it lasts every write answers 500 storage_unavailable, reason catalog_read_only, never
internal_error, and /health says so; once the file can be written again the running server
writes again at once, with no restart; `mediadesk serve` and `maintenance` refuse in one line,
exit status 2. No error answer names a local path (its details are for the log)."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from core.library import Library
from server.entry import EmbeddedServer
from server.errors import UNAVAILABLE_MESSAGES
from tests.faults import ROOT, immutable
from tests.internals import db_of
from tests.server_fixtures import (
    Reply,
    bearer,
    http_call,
    make_tokens,
    multipart_body,
    server_config,
)


def _catalog(library: Library) -> list[Path]:
    """The catalog file and its -wal (there while the catalog is open), as an outage hits them."""
    database = Path(db_of(library).engine.url.database or "")
    return [p for p in (database, Path(f"{database}-wal")) if p.exists()]


def _jpeg(seed: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (seed * 40 % 256, 90, 30)).save(out, "JPEG")
    return out.getvalue()


def _direct(url: str, token: str, seed: int) -> Reply:
    body, ctype = multipart_body(
        {"file_type": "image"}, {"file": (f"p{seed}.jpg", _jpeg(seed), "image/jpeg")}
    )
    return http_call(
        f"{url}/files/upload/direct", "POST", body, {**bearer(token), "Content-Type": ctype}
    )


def _json(url: str, method: str, path: str, token: str, ask: dict[str, Any]) -> Reply:
    headers = {**bearer(token), "Content-Type": "application/json"}
    return http_call(f"{url}{path}", method, json.dumps(ask).encode(), headers)


def _presign(url: str, token: str) -> Reply:
    ask = {"original_filename": "s.jpg", "file_type": "image", "content_type": "image/jpeg"}
    return _json(url, "POST", "/files/upload/presigned", token, ask)


def _tus(url: str, token: str, data: bytes) -> Reply:
    headers = {
        **bearer(token),
        "Tus-Resumable": "1.0.0",
        "Upload-Length": str(len(data)),
        "Upload-Metadata": "filename " + base64.b64encode(b"t.jpg").decode(),
        "Content-Type": "application/offset+octet-stream",
    }
    return http_call(f"{url}/files/upload/tus", "POST", data, headers)


def _writes(url: str, token: str, file_id: int, seed: int) -> dict[str, Reply]:
    """One of each kind of write a client makes, by name."""
    grant = _presign(url, token)
    done: dict[str, Reply] = {
        "direct upload": _direct(url, token, seed),
        "PATCH": _json(url, "PATCH", f"/files/{file_id}", token, {"description": f"d{seed}"}),
        "presign": grant,
        "tus creation": _tus(url, token, _jpeg(seed + 1)),
    }
    return done


@pytest.mark.parametrize("backend", ["library", "s3_library"])
def test_a_read_only_catalog_is_said_so_and_the_server_writes_again_once_it_is_not(
    backend: str, request: pytest.FixtureRequest
) -> None:
    """Before: presign, tus, confirm and hard delete answered 500 internal_error with a
    traceback in the log, /health said the database was fine, and once the file could be
    written again every write kept failing until a restart (the pool kept the connections
    SQLite had opened read-only)."""
    library: Library = request.getfixturevalue(backend)
    tokens = make_tokens(library)
    data_dir = str(library.settings.paths.data_dir)
    server = EmbeddedServer(library, config=server_config(library))
    server.start()
    try:
        url, token = server.url, tokens.admin
        first = _direct(url, token, 1)
        assert first.status == 201, first.body
        file_id = first.json()["id"]
        # a signed upload granted before the outage, confirmed during it
        waiting = _presign(url, token).json()
        put = http_call(waiting["upload_url"], "PUT", _jpeg(7), {"Content-Type": "image/jpeg"})
        assert put.status in (200, 201, 204), put.body
        with immutable(*_catalog(library)):
            answers = _writes(url, token, file_id, 10)
            answers["confirm"] = http_call(
                f"{url}/files/{waiting['file_id']}/confirm-upload", "POST", b"", bearer(token)
            )
            answers["hard delete"] = http_call(
                f"{url}/files/{file_id}?hard_delete=true", "DELETE", headers=bearer(token)
            )
            answers["direct upload, upload token"] = _direct(url, tokens.upload, 20)
            for what, reply in answers.items():
                error = reply.json().get("error", {})
                assert (reply.status, error.get("code"), error.get("reason")) == (
                    500,
                    "storage_unavailable",
                    "catalog_read_only",
                ), (what, reply.status, reply.body)
                assert error["message"] == UNAVAILABLE_MESSAGES["catalog_read_only"], what
                assert data_dir not in reply.body.decode(), (what, reply.body)
            health = http_call(f"{url}/health", headers=bearer(token))
            assert health.status == 503, health.body
            part = health.json()["database"]
            # the admin reads the catalog's own sentence, other tokens the one without a path
            assert part["reason"] == "catalog_read_only" and not part["ok"], part
            assert "cannot be written" in part["error"], part
            health = http_call(f"{url}/health", headers=bearer(tokens.upload))
            assert health.json()["database"] == {
                "ok": False,
                "error": UNAVAILABLE_MESSAGES["catalog_read_only"],
                "reason": "catalog_read_only",
            }
            # reads go on meanwhile
            assert http_call(f"{url}/files/{file_id}", headers=bearer(token)).status == 200
        # writable again: the very next writes work, no restart, no wait
        for what, reply in _writes(url, token, file_id, 30).items():
            assert reply.status in (200, 201), (what, reply.status, reply.body)
        confirmed = http_call(
            f"{url}/files/{waiting['file_id']}/confirm-upload", "POST", b"", bearer(token)
        )
        assert confirmed.status in (200, 201), confirmed.body
        gone = http_call(f"{url}/files/{file_id}?hard_delete=true", "DELETE", headers=bearer(token))
        assert gone.status in (200, 204), gone.body
        health = http_call(f"{url}/health", headers=bearer(token))
        assert health.status == 200 and health.json()["database"] == {"ok": True}, health.body
    finally:
        server.stop()


def test_a_catalog_disk_gone_answers_without_its_folder(
    library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The 500 catalog_disk_unreachable carried details.folder, the server's data folder, to
    any token; the log keeps it under the request id."""
    from tests.test_catalog_disk_gone import DiskGone

    disk = DiskGone(db_of(library), monkeypatch)
    tokens = make_tokens(library)
    folder = str(Path(db_of(library).engine.url.database or "").parent)
    server = EmbeddedServer(library, config=server_config(library))
    server.start()
    try:
        assert _direct(server.url, tokens.upload, 1).status == 201
        disk.go()
        reply = _direct(server.url, tokens.upload, 2)
        disk.come_back()
    finally:
        server.stop()
    error = reply.json()["error"]
    assert (reply.status, error["reason"]) == (500, "catalog_disk_unreachable"), reply.body
    assert folder not in reply.body.decode() and "details" not in error, reply.body


def _mediadesk(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MEDIADESK_")}
    environ.pop("DATABASE_URL", None)
    command = [str(Path(sys.executable).with_name("mediadesk")), "--data-dir", str(data), *args]
    return subprocess.run(
        command, cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("command", [("serve", "--port", "0"), ("maintenance",)])
def test_start_up_on_a_catalog_file_that_cannot_be_written_is_one_line(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    """Both printed SQLAlchemy's traceback ("attempt to write a readonly database") and exited
    with status 1; a read-only data folder was already refused in one line, exit status 2."""
    data = tmp_path / "data"
    assert _mediadesk(data, "token", "list").returncode == 0  # made, then closed cleanly
    catalog = data / "mediadesk.sqlite3"
    with immutable(*[p for p in (catalog, Path(f"{catalog}-wal")) if p.exists()]):
        done = _mediadesk(data, *command)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    # serve's own start-up log lines (INFO) come first; then the refusal, its last line
    assert [line for line in done.stderr.splitlines() if " WARNING " in line] == []
    assert done.stderr.splitlines()[-1] == (
        f"mediadesk: The catalog file {catalog} cannot be written (read-only disk, or no "
        "permission to write there): make it writable or choose another data folder"
    ), done.stderr
