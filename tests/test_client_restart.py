"""The client's retries: a real `mediadesk serve` killed (SIGKILL) in the middle of an upload
and started again on the same port; the client's upload still ends with the file stored."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from core.library import Library
from core.settings import load_settings
from server.client import Client
from server.client.api import CHUNK, TUS_CHUNK, UploadResult
from server.openapi import build_spec

pytestmark = pytest.mark.timeout(120)
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def noise_png(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Real PNGs of noise (it does not compress): 3 MB (direct) and 12 MB (presigned)."""
    folder = tmp_path_factory.mktemp("noise")
    out = []
    for name, side in (("mid.png", 1000), ("big.png", 2000)):
        Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(
            folder / name, compress_level=0
        )
        out.append(folder / name)
    return out[0], out[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# A graceful stop's waits, shortened in the server process as tests/test_js_module.py does in
# its own: the shutdown grace a cut body is waited for (5 s) and the Retry-After the 503 asks
# (5 s). The client holds the body back meanwhile, so each was only waited out.
QUICK_STOP = (
    "import server.entry, server.errors; "
    "server.entry.SHUTDOWN_TIMEOUT = 1.0; server.errors.STOPPING_RETRY = 1; "
)


def _serve(
    data_dir: Path, port: int, settings: dict[str, str], quick_stop: bool = False
) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIADESK_")}
    env["MEDIADESK_UPLOAD_RATE_LIMIT"] = "0"
    env.update(settings)
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            (QUICK_STOP if quick_stop else "")
            + "import sys; from server.entry import main; sys.exit(main(sys.argv[1:]))",
            "serve",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "serve exited"
        try:
            with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), 0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(url)


# tus: a server whose presigned uploads are not split (local storage) with a low threshold
FLOWS = {
    "direct": {},
    "presigned": {},
    "tus": {
        "MEDIADESK_MULTIPART_THRESHOLD": str(5 << 20),
        "MEDIADESK_MULTIPART_CHUNK_SIZE": str(5 << 20),
    },
}


@pytest.mark.parametrize("size", list(FLOWS))
def test_the_client_retries_through_a_server_restart(
    size: str, tmp_path: Path, noise_png: tuple[Path, Path]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    library = Library.open(
        load_settings(environ={}, config_file=data / "settings.toml", data_dir=str(data))
    )
    token = library.tokens.create("restart", "upload")[1]
    library.close()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    procs = [_serve(data, port, FLOWS[size])]
    try:
        _wait_up(url, procs[0])
        path = noise_png[0] if size == "direct" else noise_png[1]
        total = path.stat().st_size
        seen: list[int] = []

        def progress(done: int, _total: int) -> None:
            seen.append(done)
            if len(procs) == 1 and done >= total * (0.6 if size == "tus" else 0.33):
                procs[0].kill()  # SIGKILL: no goodbye, the connection just breaks
                procs[0].wait()
                procs.append(_serve(data, port, FLOWS[size]))

        with Client(url, token, retries=10, backoff=0.25) as client:
            client.config()
            result = client.upload(path, progress=progress)
        assert len(procs) == 2, "the server was not restarted mid-upload"
        assert result.retries >= 1
        assert result.file["status"] == "ready" and result.file["size"] == total
        assert result.flow == size
        assert seen[-1] == total
        drops = [(a, b) for a, b in zip(seen, seen[1:], strict=False) if b < a]
        assert drops  # the body was sent again after the break
        if size == "tus":
            # resumed from the server's offset, not from zero: at most one chunk sent twice
            reached, resumed_at = drops[0]
            assert resumed_at >= TUS_CHUNK - CHUNK
            assert reached - resumed_at <= TUS_CHUNK
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def _stopped_mid_upload(
    tmp_path: Path, path: Path
) -> tuple[UploadResult, list[str], list[Path], int]:
    """Uploads `path` with the client while a real `mediadesk serve` is stopped gracefully
    (SIGTERM) a third of the way through the body and started again on the same port: the
    result, the client's retry notes, the files left under objects/ and tmp/ by the stopped
    server, and how many servers ran."""
    data = tmp_path / "data"
    data.mkdir()
    library = Library.open(
        load_settings(environ={}, config_file=data / "settings.toml", data_dir=str(data))
    )
    token = library.tokens.create("restart", "upload")[1]
    library.close()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    procs = [_serve(data, port, {}, quick_stop=True)]
    total = path.stat().st_size
    told: list[str] = []
    leftovers: list[Path] = []

    def progress(done: int, _total: int) -> None:
        if len(procs) == 1 and done >= total * 0.33:
            # the client holds the rest of the body while the server stops gracefully: it
            # waits for the body as long as it may, then ends the request and exits
            procs[0].terminate()
            assert procs[0].wait(60) == 0
            for folder in (data / "objects", data / "tmp"):
                leftovers.extend(p for p in folder.rglob("*") if p.is_file())
            procs.append(_serve(data, port, {}, quick_stop=True))

    try:
        _wait_up(url, procs[0])
        with Client(url, token, retries=10, backoff=0.25, on_retry=told.append) as client:
            client.config()
            result = client.upload(path, progress=progress)
        return result, told, leftovers, len(procs)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_a_signed_put_cut_by_a_graceful_stop_is_retried_after_the_restart(
    tmp_path: Path, noise_png: tuple[Path, Path]
) -> None:
    """SIGTERM while the client is still sending a signed PUT (presigned flow, local storage):
    the server waits its shutdown grace for the body, then ends the request. The client is told
    to come back (503 server_stopping, Retry-After), not that it went away itself (499
    client_closed_request, which the client does not retry); nothing of the cut body is kept,
    and the same PUT stores the file once the server is back."""
    path = noise_png[1]
    result, told, leftovers, servers = _stopped_mid_upload(tmp_path, path)
    assert servers == 2, "the server was not stopped mid-upload"
    assert result.flow == "presigned"
    assert result.file["status"] == "ready" and result.file["size"] == path.stat().st_size
    assert any("answered 503" in text for text in told), told
    assert leftovers == []  # no half-written object or temp file of the cut body


def test_a_direct_upload_cut_by_a_graceful_stop_is_retried_after_the_restart(
    tmp_path: Path, noise_png: tuple[Path, Path]
) -> None:
    """The same stop while a direct upload's multipart body is arriving: the form's reader is
    ended as the signed PUT's body is, and the client is answered 503 server_stopping (not a
    connection closed without an answer); the spooled part is dropped and the same POST stores
    the file once the server is back."""
    path = noise_png[0]
    result, told, leftovers, servers = _stopped_mid_upload(tmp_path, path)
    assert servers == 2, "the server was not stopped mid-upload"
    assert result.flow == "direct"
    assert result.file["status"] == "ready" and result.file["size"] == path.stat().st_size
    assert any("answered 503" in text for text in told), told
    assert leftovers == []  # no half-written spool file of the cut body


@pytest.mark.parametrize(
    ("path", "method"), [("/files/upload/direct", "post"), ("/signed/{key}", "put")]
)
def test_the_uploads_cut_by_a_stop_document_their_503(path: str, method: str) -> None:
    """Both answers above are in the OpenAPI document a client is generated from."""
    responses = build_spec()["paths"][path][method]["responses"]
    assert "server_stopping" in responses["503"]["description"]
