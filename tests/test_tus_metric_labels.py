"""tus uploads in /metrics under the kind of file they are, not `unknown`.

tus-js-client and Uppy send only `filename` and `filetype`, never MediaDesk's `file_type`: such
an upload was counted in mediadesk_uploads_total and mediadesk_bandwidth_bytes_total as
file_type="unknown" although it was catalogued as a video, and every refused tus upload was
"unknown" too. Real server over loopback, /metrics read before and after."""

from __future__ import annotations

from pathlib import Path

from server.entry import EmbeddedServer
from tests.media_fixtures import MediaSet
from tests.resumable_client import create, patch
from tests.server_fixtures import bearer, http_call, make_tokens
from tests.test_logs import metric

UPLOADS = "mediadesk_uploads_total"
BANDWIDTH = "mediadesk_bandwidth_bytes_total"
ERRORS = "mediadesk_validation_errors_total"


def _metrics(live: EmbeddedServer, read: str) -> str:
    return http_call(f"{live.url}/metrics", headers=bearer(read)).body.decode()


def _send(live: EmbeddedServer, token: str, data: bytes, pieces: int, **metadata: str) -> object:
    """Creates a tus upload and sends `data` in `pieces` PATCHes; the last answer."""
    made = create(live.url, token, len(data), **metadata)
    assert made.status == 201, made.body
    url = live.url + made.headers["Location"]
    step = -(-len(data) // pieces)
    answer = None
    for start in range(0, len(data), step):
        answer = patch(url, token, start, data[start : start + step])
        if start + step < len(data):
            assert answer.status == 204, answer.body
    return answer


def test_a_tus_upload_without_file_type_is_counted_as_the_kind_it_was_catalogued(
    live: EmbeddedServer, media_dir: MediaSet
) -> None:
    tokens = make_tokens(live.library)
    video = media_dir.mp4.read_bytes()
    done = _send(live, tokens.upload, video, 2, filename="clip.mp4", filetype="video/mp4")
    assert done.status == 204, done.body  # type: ignore[attr-defined]
    file_id = int(done.headers["MediaDesk-File-Id"])  # type: ignore[attr-defined]
    assert live.library.get_file(file_id).file_type == "video"
    # nothing said of the kind at all: the bytes are a PNG
    png = media_dir.png.read_bytes()
    done = _send(live, tokens.upload, png, 1, filename="upload")
    assert done.status == 204, done.body  # type: ignore[attr-defined]
    text = _metrics(live, tokens.read)
    assert metric(text, UPLOADS, flow="tus", outcome="created", file_type="video") == 1
    assert metric(text, UPLOADS, flow="tus", outcome="created", file_type="image") == 1
    # every PATCH's bytes, the first half's too (sent before the bytes were looked at)
    assert metric(text, BANDWIDTH, direction="in", flow="tus", file_type="video") == len(video)
    assert metric(text, BANDWIDTH, direction="in", flow="tus", file_type="image") == len(png)
    assert 'flow="tus"' not in "".join(
        line for line in text.splitlines() if 'file_type="unknown"' in line
    )


def test_a_refused_tus_upload_is_counted_as_the_kind_it_was_sent_as(
    live: EmbeddedServer, media_dir: MediaSet, tmp_path: Path
) -> None:
    tokens = make_tokens(live.library)
    # a WAV sound named as an MP4 video (its filetype): refused once its bytes are seen
    sound = media_dir.wav.read_bytes()
    refused = _send(live, tokens.upload, sound, 1, filename="memo.mp4", filetype="video/mp4")
    assert refused.status == 400, refused.body  # type: ignore[attr-defined]
    # a HEIF picture from a phone, its type not sent: the bytes say it is an image
    heif = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(4000)
    refused = _send(live, tokens.upload, heif, 1, filename="IMG_0001")
    assert refused.status == 400, refused.body  # type: ignore[attr-defined]
    text = _metrics(live, tokens.read)
    assert metric(text, UPLOADS, flow="tus", outcome="rejected", file_type="video") == 1
    assert metric(text, UPLOADS, flow="tus", outcome="rejected", file_type="image") == 1
    assert metric(text, ERRORS, code="unsupported_type", file_type="video") == 1
    assert metric(text, ERRORS, code="unsupported_type", file_type="image") == 1
    # the refused bytes came in all the same
    assert metric(text, BANDWIDTH, direction="in", flow="tus", file_type="video") == len(sound)
    assert metric(text, BANDWIDTH, direction="in", flow="tus", file_type="image") == len(heif)
    assert metric(text, UPLOADS, flow="tus", outcome="rejected", file_type="unknown") == 0
