"""Clients generated from the live server's /openapi.json run every seed flow.

openapi-python-client (PyPI) and openapi-typescript + openapi-fetch (npm) generate into a
temporary folder once per module; nothing generated is kept. Each client then does: presigned
upload + PUT + confirm, a direct upload of a real file, list with filters, get, patch, soft
delete, restore, stream info, presigned-url and the download redirect.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx
import pytest

from core.library import Library
from core.settings import load_settings
from server.entry import EmbeddedServer
from tests import media
from tests.server_fixtures import direct_upload, multipart_body, server_config

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parent.parent
JS_BIN = ROOT / "tests" / "js" / "node_modules" / ".bin"
GENERATOR = Path(sys.executable).parent / "openapi-python-client"
EXPIRY = 900  # the live server's PRESIGNED_URL_EXPIRY


@dataclass(frozen=True)
class Live:
    url: str
    token: str
    athlete_id: int


@pytest.fixture(scope="module")
def live_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    data = tmp_path_factory.mktemp("generated-clients")
    library = Library.open(
        # not the 3600 default: a client that sends the server's expiry itself is caught
        load_settings(
            environ={"PRESIGNED_URL_EXPIRY": str(EXPIRY)},
            config_file=data / "settings.toml",
            data_dir=str(data),
        )
    )
    athlete = library.create_athlete("Ana")
    token = library.tokens.create("generated", "admin")[1]
    server = EmbeddedServer(library, config=server_config(library))
    server.start()
    try:
        yield Live(server.url, token, athlete.id)
    finally:
        server.stop()
        library.close()


# ---------------------------------------------------------------------------------------------
# openapi-python-client


@pytest.fixture(scope="module")
def pyclient(live_api: Live, tmp_path_factory: pytest.TempPathFactory) -> Any:
    if not GENERATOR.exists():
        pytest.skip("openapi-python-client is not installed (dev group)")
    out = tmp_path_factory.mktemp("pygen")
    package = out / "mediadesk_generated"
    run = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--url",
            f"{live_api.url}/openapi.json",
            "--output-path",
            str(package),
            "--meta",
            "none",
        ],
        capture_output=True,
        text=True,
        timeout=90,
        cwd=out,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    # Only what this generator has no class for may be skipped: binary media responses
    # (returned raw) and tus (spoken by tus clients, application/offset+octet-stream)
    log = run.stdout + run.stderr
    warnings = [line for line in log.splitlines() if line.startswith("WARNING")]
    assert warnings, "expected the binary responses to be reported"
    for line in warnings:
        assert "thumbnail" in line or "/stream/" in line or "/files/upload/tus" in line, log
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module("mediadesk_generated")
    finally:
        sys.path.remove(str(out))
        for name in [m for m in sys.modules if m.startswith("mediadesk_generated")]:
            del sys.modules[name]


def test_every_generated_python_module_imports(pyclient: Any) -> None:
    import pkgutil

    api = importlib.import_module("mediadesk_generated.api")
    names = [m.name for m in pkgutil.walk_packages(api.__path__, "mediadesk_generated.api.")]
    for name in names:
        importlib.import_module(name)
    for op in ("uploads.create_presigned_upload", "uploads.confirm_upload", "files.list_files"):
        assert f"mediadesk_generated.api.{op}" in names


def test_python_client_runs_every_seed_flow(pyclient: Any, live_api: Live, tmp_path: Path) -> None:
    # Own media (the TypeScript flow uploads other bytes, so nothing here is a duplicate)
    jpeg_path = media.make_jpeg(tmp_path / "py.jpg", color=(10, 60, 120))
    mp4_path = media.make_mp4(tmp_path / "py.mp4", size=(192, 144))
    api = importlib.import_module("mediadesk_generated.api")
    models = importlib.import_module("mediadesk_generated.models")
    types = importlib.import_module("mediadesk_generated.types")
    for sub in ("uploads", "files", "streaming", "service"):
        importlib.import_module(f"mediadesk_generated.api.{sub}")
    uploads, files, streaming = api.uploads, api.files, api.streaming
    from mediadesk_generated.api.files import (  # type: ignore[import-not-found]
        delete_file,
        download_file,
        get_file,
        get_presigned_url,
        list_files,
        restore_file,
        update_file,
    )
    from mediadesk_generated.api.service import get_config  # type: ignore[import-not-found]
    from mediadesk_generated.api.streaming import get_stream_info  # type: ignore[import-not-found]
    from mediadesk_generated.api.uploads import (  # type: ignore[import-not-found]
        confirm_upload,
        create_presigned_upload,
        upload_direct,
    )

    del uploads, files, streaming
    client = pyclient.AuthenticatedClient(base_url=live_api.url, token=live_api.token)

    config = get_config.sync(client=client)
    assert isinstance(config, models.ClientConfig)
    assert "image/jpeg" in config.allowed_types.image

    # 1. presigned: ask, PUT the bytes where told, confirm
    jpeg = jpeg_path.read_bytes()
    form = models.PresignedUploadForm.from_dict(
        {
            "original_filename": "generated.jpg",
            "file_type": "image",
            "athlete_id": live_api.athlete_id,
        }
    )
    presigned = create_presigned_upload.sync(client=client, body=form)
    assert isinstance(presigned, models.PresignedUpload), presigned
    put = httpx.put(
        presigned.upload_url, content=jpeg, headers=presigned.headers.additional_properties
    )
    assert put.status_code in (200, 201), put.text
    confirmed = confirm_upload.sync(presigned.file_id, client=client)
    assert isinstance(confirmed, models.File), confirmed
    assert confirmed.status.value == "ready" and confirmed.size == len(jpeg)
    assert confirmed.athlete_id == live_api.athlete_id

    # 2. direct upload of a real MP4
    with open(mp4_path, "rb") as fh:
        body = models.DirectUploadForm(
            file=types.File(payload=fh, file_name="clip.mp4", mime_type="video/mp4"),
            file_type=models.DirectUploadFormFileType.VIDEO,
            is_public=True,
        )
        direct = upload_direct.sync_detailed(client=client, body=body)
    assert direct.status_code == 201, direct.content
    video = direct.parsed
    assert isinstance(video, models.File) and video.file_type.value == "video"
    assert video.duration and video.duration > 1

    # 3. list with filters, get, patch
    page = list_files.sync(
        client=client, file_type=models.ListFilesFileType.IMAGE, athlete_id=live_api.athlete_id
    )
    assert isinstance(page, models.FilePage)
    assert confirmed.id in [f.id for f in page.items]
    assert {f.file_type.value for f in page.items} == {"image"}
    got = get_file.sync(video.id, client=client)
    assert isinstance(got, models.File) and got.original_filename == "clip.mp4"
    edited = update_file.sync(
        video.id, client=client, body=models.FileUpdate.from_dict({"description": "Final"})
    )
    assert isinstance(edited, models.File) and edited.description == "Final"
    assert edited.version == got.version + 1

    # 4. soft delete, then restore
    deleted = delete_file.sync(video.id, client=client)
    assert isinstance(deleted, models.Deleted) and deleted.deleted and not deleted.hard_delete
    trash = list_files.sync(client=client, trashed=True)
    assert isinstance(trash, models.FilePage) and video.id in [f.id for f in trash.items]
    restored = restore_file.sync(video.id, client=client)
    assert isinstance(restored, models.File) and not restored.is_trashed

    # 5. stream info, presigned URL, download redirect
    info = get_stream_info.sync(video.id, client=client)
    assert isinstance(info, models.StreamInfo) and info.supports_range
    signed = get_presigned_url.sync(video.id, client=client, expires_in=60)
    assert isinstance(signed, models.SignedUrl)
    fetched = httpx.get(signed.url if "://" in signed.url else live_api.url + signed.url)
    assert fetched.content == mp4_path.read_bytes()
    redirect = download_file.sync_detailed(video.id, client=client)
    assert redirect.status_code == 302 and redirect.headers["Location"]

    # errors come back as the shared Error model
    missing = get_file.sync(999_999, client=client)
    assert isinstance(missing, models.Error) and missing.error.code == "not_found"


# ---------------------------------------------------------------------------------------------
# openapi-typescript + openapi-fetch

TS_FLOW = r"""
import createClient from "openapi-fetch";
import { readFileSync } from "node:fs";
import type { paths } from "./api";

const [base, token, athleteId, jpegPath, mp4Path] = process.argv.slice(2);
const client = createClient<paths>({
  baseUrl: base, headers: { Authorization: `Bearer ${token}` },
});
const out: Record<string, unknown> = {};
const must = <T,>(r: { data?: T; error?: unknown; response: Response }): T => {
  if (r.data === undefined) throw new Error(`${r.response.status} ${JSON.stringify(r.error)}`);
  return r.data;
};

const config = must(await client.GET("/config"));
out.config = config.allowed_types.image.includes("image/jpeg");

// 1. presigned
const jpeg = readFileSync(jpegPath);
const up = must(await client.POST("/files/upload/presigned", {
  body: { original_filename: "ts.jpg", file_type: "image", athlete_id: Number(athleteId) },
}));
const put = await fetch(up.upload_url, { method: "PUT", body: jpeg, headers: up.headers });
out.put = put.status;
const ready = must(await client.POST("/files/{file_id}/confirm-upload", {
  params: { path: { file_id: up.file_id } },
}));
out.confirmed = [ready.status, ready.size === jpeg.length];

// 2. direct upload (multipart: the body is a FormData)
const mp4 = readFileSync(mp4Path);
const video = must(await client.POST("/files/upload/direct", {
  body: { file: "", file_type: "video", is_public: true },
  bodySerializer() {
    const form = new FormData();
    form.append("file", new Blob([mp4], { type: "video/mp4" }), "ts.mp4");
    form.append("file_type", "video");
    form.append("is_public", "true");
    return form;
  },
}));
out.direct = [video.file_type, video.is_public, (video.duration ?? 0) > 1];

// 3. list with filters, get, patch
const page = must(await client.GET("/files", {
  params: { query: { file_type: "image", athlete_id: Number(athleteId) } },
}));
out.listed = page.items.map((f) => f.id).includes(ready.id)
  && page.items.every((f) => f.file_type === "image");
const got = must(await client.GET("/files/{file_id}", { params: { path: { file_id: video.id } } }));
const edited = must(await client.PATCH("/files/{file_id}", {
  params: { path: { file_id: video.id } }, body: { description: "TS" },
}));
out.edited = [edited.description, edited.version === got.version + 1];

// 4. soft delete, restore
const one = { params: { path: { file_id: video.id } } };
const del = must(await client.DELETE("/files/{file_id}", one));
const trash = must(await client.GET("/files", { params: { query: { trashed: true } } }));
const restored = must(await client.POST("/files/{file_id}/restore", {
  params: { path: { file_id: video.id } },
}));
out.trash = [del.deleted, trash.items.map((f) => f.id), restored.is_trashed];

// 5. info, presigned-url, download redirect
const info = must(await client.GET("/stream/{file_id}/info", one));
const signed = must(await client.GET("/files/{file_id}/presigned-url", {
  params: { path: { file_id: video.id }, query: { expires_in: 60 } },
}));
const body = await (await fetch(new URL(signed.url, base))).arrayBuffer();
out.info = [info.supports_range, body.byteLength === mp4.length];
const redirect = await client.GET("/files/{file_id}/download", {
  params: { path: { file_id: video.id } }, redirect: "manual",
});
out.redirect = [redirect.response.status, Boolean(redirect.response.headers.get("location"))];

const missing = await client.GET("/files/{file_id}", { params: { path: { file_id: 999999 } } });
out.missing = [missing.response.status, missing.error?.error.code];
out.videoId = video.id;
console.log(JSON.stringify(out));
"""


# The two Node APIs the flow uses (@types/node is not among the test clients)
NODE_TYPES = """
declare module "node:fs" {
  export function readFileSync(path: string): Uint8Array<ArrayBuffer>;
}
declare const process: { argv: string[] };
"""


@pytest.fixture(scope="module")
def ts_project(live_api: Live, tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (JS_BIN / "openapi-typescript").exists() or shutil.which("node") is None:
        pytest.skip("npm test clients not installed (cd tests/js && npm ci)")
    out = tmp_path_factory.mktemp("tsgen")
    (out / "node_modules").symlink_to(ROOT / "tests" / "js" / "node_modules")
    (out / "package.json").write_text('{"type": "module"}')
    run = subprocess.run(
        [str(JS_BIN / "openapi-typescript"), f"{live_api.url}/openapi.json", "-o", "api.d.ts"],
        capture_output=True,
        text=True,
        timeout=90,
        cwd=out,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    (out / "flow.ts").write_text(TS_FLOW)
    (out / "node.d.ts").write_text(NODE_TYPES)
    (out / "tsconfig.json").write_text(
        json.dumps(
            {
                "compilerOptions": {
                    "target": "es2022",
                    "module": "esnext",
                    "moduleResolution": "bundler",
                    "strict": True,
                    "noEmit": True,
                    "skipLibCheck": True,
                    "types": [],
                    "lib": ["es2022", "dom"],
                },
                "files": ["flow.ts", "node.d.ts"],
            }
        )
    )
    return out


def test_typescript_types_check_the_flow(ts_project: Path) -> None:
    """The generated `paths` types accept every call of the flow (tsc, strict)."""
    run = subprocess.run(
        [str(JS_BIN / "tsc"), "-p", "tsconfig.json"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ts_project,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_typescript_client_runs_every_seed_flow(
    ts_project: Path, live_api: Live, tmp_path: Path
) -> None:
    jpeg_path = media.make_jpeg(tmp_path / "ts.jpg", color=(150, 30, 30))
    mp4_path = media.make_mp4(tmp_path / "ts.mp4", size=(240, 160))
    run = subprocess.run(
        [
            str(JS_BIN / "tsx"),
            "flow.ts",
            live_api.url,
            live_api.token,
            str(live_api.athlete_id),
            str(jpeg_path),
            str(mp4_path),
        ],
        capture_output=True,
        text=True,
        timeout=90,
        cwd=ts_project,
        env={**os.environ, "NODE_NO_WARNINGS": "1"},
    )
    assert run.returncode == 0, run.stdout + run.stderr
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["config"] is True
    assert out["put"] in (200, 201)
    assert out["confirmed"] == ["ready", True]
    assert out["direct"] == ["video", True, True]
    assert out["listed"] is True
    assert out["edited"] == ["TS", True]
    deleted, trash_ids, still_trashed = out["trash"]
    assert deleted is True and out["videoId"] in trash_ids and still_trashed is False
    assert out["info"] == [True, True]
    assert out["redirect"] == [302, True]
    assert out["missing"] == [404, "not_found"]


def _signed_call(fn: Any, url: str) -> tuple[str, dict[str, str]]:
    """The key and query of a /signed/… URL as the generated function's arguments: each query
    name is a parameter of it (the generator adds `_` to a name Python keeps, like len)."""
    parts = urlsplit(url)
    accepted = inspect.signature(fn).parameters
    kwargs = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        python_name = name if name in accepted else f"{name}_"
        assert python_name in accepted, (name, list(accepted))
        kwargs[python_name] = value
    return unquote(parts.path.removeprefix("/signed/")), kwargs


def test_python_client_puts_and_gets_a_signed_url(
    pyclient: Any, live_api: Live, tmp_path: Path
) -> None:
    """put_signed_object and get_signed_object take the signed URL's query (the spec lists it):
    a presigned upload and a signed download through the generated client succeed."""
    from mediadesk_generated.api.files import get_presigned_url  # type: ignore[import-not-found]
    from mediadesk_generated.api.signed import (  # type: ignore[import-not-found]
        get_signed_object,
        put_signed_object,
    )
    from mediadesk_generated.api.uploads import (  # type: ignore[import-not-found]
        confirm_upload,
        create_presigned_upload,
    )

    models = importlib.import_module("mediadesk_generated.models")
    types = importlib.import_module("mediadesk_generated.types")
    jpeg = media.make_jpeg(tmp_path / "signed.jpg", color=(90, 200, 40)).read_bytes()
    client = pyclient.AuthenticatedClient(base_url=live_api.url, token=live_api.token)
    form = models.PresignedUploadForm.from_dict(
        {"original_filename": "signed.jpg", "file_type": "image", "size": len(jpeg)}
    )
    presigned = create_presigned_upload.sync(client=client, body=form)
    assert isinstance(presigned, models.PresignedUpload), presigned
    key, query = _signed_call(put_signed_object.sync_detailed, presigned.upload_url)
    assert {"method", "expires", "sig", "ct"} <= query.keys()

    # The generator sends every binary body as application/octet-stream: the PUT must carry
    # the Content-Type it is signed for (the presign's `headers`), set on the way out
    def signed_type(request: httpx.Request) -> None:
        request.headers.update(presigned.headers.additional_properties)

    signer = pyclient.Client(
        base_url=live_api.url, httpx_args={"event_hooks": {"request": [signed_type]}}
    )
    put = put_signed_object.sync_detailed(
        key, client=signer, body=types.File(payload=jpeg), **query
    )
    assert put.status_code == 200, put.content
    confirmed = confirm_upload.sync(presigned.file_id, client=client)
    assert isinstance(confirmed, models.File) and confirmed.size == len(jpeg)

    signed = get_presigned_url.sync(confirmed.id, client=client, expires_in=60)
    assert isinstance(signed, models.SignedUrl)
    key, query = _signed_call(get_signed_object.sync_detailed, signed.url)
    anonymous = pyclient.Client(base_url=live_api.url)
    got = get_signed_object.sync_detailed(key, client=anonymous, **query)
    assert got.status_code == 200, got.content
    assert got.content == jpeg


def test_python_client_without_expires_in_gets_the_servers_expiry(
    pyclient: Any, live_api: Live, tmp_path: Path
) -> None:
    """A generated client that leaves expires_in out sends none: the link lives the server's
    PRESIGNED_URL_EXPIRY, not a default the document wrote (3600 once, whatever the setting)."""
    from mediadesk_generated.api.files import get_presigned_url  # type: ignore[import-not-found]

    client = pyclient.AuthenticatedClient(base_url=live_api.url, token=live_api.token)
    jpeg = media.make_jpeg(tmp_path / "expiry.jpg", color=(200, 30, 160))
    body, ctype = multipart_body(
        {"file_type": "image"}, {"file": (jpeg.name, jpeg.read_bytes(), "image/jpeg")}
    )
    record = direct_upload(live_api.url, live_api.token, body, ctype)
    signed = get_presigned_url.sync(record["id"], client=client)
    assert signed.expires_in == EXPIRY


def test_python_client_enums_have_names_for_every_value(pyclient: Any) -> None:
    """Values that are not identifiers (`-size`, tus's `1.0.0`) get names from the document's
    x-enum-varnames, not VALUE_0…: the descending sorts are <FIELD>_DESC."""
    from core.records import Sort

    models = importlib.import_module("mediadesk_generated.models")
    sorts = {member.value: member.name for member in models.ListFilesSort}
    assert sorts["-size"] == "SIZE_DESC" and sorts["size"] == "SIZE"
    assert sorts["created_at"] == "CREATED_AT"  # the names a client already had are kept
    assert set(sorts) == {s.value for s in Sort}
    assert not [name for name in sorts.values() if name.startswith("VALUE_")], sorts
    for name in dir(models):
        enum = getattr(models, name)
        if isinstance(enum, type) and issubclass(enum, Enum):
            assert not [m.name for m in enum if m.name.startswith("VALUE_")], name
