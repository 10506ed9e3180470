"""FFmpeg's own HTTP client (through PyAV) probes, decodes and seeks the stream endpoints."""

from __future__ import annotations

import av
import pytest

from core.library import Library
from server.entry import EmbeddedServer
from tests.server_fixtures import make_tokens, server_config


@pytest.mark.parametrize("backend", ["library", "s3_library"])
def test_ffmpeg_reads_and_seeks_over_http(
    request: pytest.FixtureRequest, backend: str, media_dir
) -> None:
    lib: Library = request.getfixturevalue(backend)
    record = lib.uploads.ingest(media_dir.mp4, "video")
    token = make_tokens(lib).read
    with EmbeddedServer(lib, config=server_config(lib)) as server:
        url = f"{server.url}/stream/{record.id}/video"
        with av.open(url, options={"headers": f"Authorization: Bearer {token}\r\n"}) as media:
            stream = media.streams.video[0]
            assert (stream.codec_context.width, stream.codec_context.height) == (320, 240)
            assert media.duration / av.time_base == pytest.approx(2.0, abs=0.2)
            media.seek(int(1.5 / stream.time_base), stream=stream)
            frame = next(media.decode(stream))
            assert frame.time is not None and frame.time <= 1.6
            frames = 1 + sum(1 for _ in media.decode(stream))
        assert frames >= 5  # decoded on from the seek point
        with pytest.raises(av.error.HTTPUnauthorizedError):
            av.open(url)  # private file, no token
