"""A file that changes while the client sends it (cut, grown, rewritten) is not stored, and the
upload says so: ClientError `conflict` with reason `source_changed`, as the desktop's sender.

An outside tester's report: `mediadesk upload` of a recording cut while it was sent through tus
(local storage, files above the multipart threshold) PATCHed empty chunks for ever, thousands a
second, its progress bar frozen and the files after it never tried; a presigned PUT or a direct
upload of a file cut or grown meanwhile stopped the command with h11's LocalProtocolError
traceback, no summary. Real servers over loopback (local and moto's S3), real files changed by
the progress callback while their bytes go.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.errors import SOURCE_CHANGED
from core.library import Library
from server.client import Client, ClientError
from server.entry import EmbeddedServer
from tests.server_fixtures import make_tokens
from tests.test_client_bucket_words import s3_settings  # noqa: F401 - parts of 5 MiB
from tests.test_client_interrupted_tus import tus_server  # noqa: F401
from tests.test_client_net import MiB, big_video

pytestmark = pytest.mark.timeout(60)


class PatchCount(httpx.HTTPTransport):
    """Stops a client that keeps PATCHing (the endless loop) instead of the test's timeout."""

    def __init__(self) -> None:
        super().__init__()
        self.patches = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PATCH":
            self.patches += 1
            assert self.patches < 40, "the client keeps PATCHing a file that was cut"
        return super().handle_request(request)


def change_once(path: Path, how: str) -> Callable[[int, int], None]:
    """A progress callback that changes `path` at its first call: its bytes are then going."""
    done: list[bool] = []

    def progress(sent: int, total: int) -> None:
        if done:
            return
        done.append(True)
        if how == "shrank":
            os.truncate(path, 300 * 1024)
        else:
            with open(path, "ab") as fh:
                fh.write(os.urandom(512 * 1024))

    return progress


def test_a_tus_upload_of_a_file_cut_while_it_is_sent_stops_and_ends_it(
    tus_server: tuple[Library, EmbeddedServer, Path], tmp_path: Path, media_dir: Any
) -> None:
    lib, live, data = tus_server
    video = big_video(Path(media_dir.mp4), tmp_path / "recording.mp4", 10 * MiB + 4096)
    transport = PatchCount()
    with Client(live.url, make_tokens(lib).upload, transport=transport) as client:
        with pytest.raises(ClientError) as caught:
            client.upload(video, progress=change_once(video, "shrank"))
        assert client.list()["total"] == 0
    assert (caught.value.code, caught.value.reason) == ("conflict", SOURCE_CHANGED)
    assert caught.value.details["how"] == "shrank"
    assert "recording.mp4 shrank while it was being sent" in caught.value.message
    assert transport.patches <= 3
    # ended on the server (tus DELETE), as after Ctrl+C: it can never be resumed
    uploads = data / "uploads"
    assert not (uploads.exists() and list(uploads.glob("*.part")))


@pytest.mark.parametrize(
    ("flow", "how"), [("presigned", "shrank"), ("presigned", "grew"), ("direct", "shrank")]
)
def test_a_put_or_form_of_a_file_that_changes_is_refused_without_a_traceback(
    live: EmbeddedServer, library: Library, tmp_path: Path, media_dir: Any, flow: str, how: str
) -> None:
    video = big_video(Path(media_dir.mp4), tmp_path / "clip.mp4", 1 * MiB)
    with Client(live.url, make_tokens(library).upload) as client:
        with pytest.raises(ClientError) as caught:
            client.upload(video, presigned=flow == "presigned", progress=change_once(video, how))
        assert client.list()["total"] == 0
    assert (caught.value.code, caught.value.reason) == ("conflict", SOURCE_CHANGED)
    assert caught.value.details["how"] == how
    assert caught.value.status is None and not caught.value.local


def test_parts_of_a_file_cut_while_they_are_sent_are_not_confirmed(
    s3_live: EmbeddedServer, s3_library: Library, tmp_path: Path, media_dir: Any
) -> None:
    video = big_video(Path(media_dir.mp4), tmp_path / "match.mp4", 6 * MiB)
    with Client(s3_live.url, make_tokens(s3_library).upload) as client:
        with pytest.raises(ClientError) as caught:
            client.upload(video, presigned=True, progress=change_once(video, "shrank"))
        assert client.list()["total"] == 0
    assert (caught.value.code, caught.value.reason) == ("conflict", SOURCE_CHANGED)
    assert caught.value.details["how"] == "shrank"


def test_a_pipe_is_refused_before_anything_is_read_or_sent(media_dir: Any) -> None:
    """`mediadesk upload <(…)` (a pipe: no size to declare, no second read) stopped with
    io.UnsupportedOperation's traceback after its head was read, and a FIFO without a writer
    hung the command; refused at once now, without asking a server."""
    read, write = os.pipe()
    try:
        os.write(write, Path(media_dir.jpeg).read_bytes()[:16384])
        os.close(write)
        client = Client("http://127.0.0.1:9", "token")  # nothing listens there: never asked
        with client, pytest.raises(ClientError) as caught:
            client.upload(f"/dev/fd/{read}")
        assert (caught.value.code, caught.value.local) == ("unreadable", True)
        assert "not a regular file" in caught.value.message
        assert os.read(read, 4) == Path(media_dir.jpeg).read_bytes()[:4]  # nothing read
    finally:
        os.close(read)
