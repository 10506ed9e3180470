"""A WebM written as a stream (a browser's MediaRecorder, which mediadesk.js uploads; ffmpeg to
a pipe): a Matroska segment of unknown size, with no Duration and no Cues. MediaInfo calls
every such file truncated; it is whole when it ends at the end of an element."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from core.errors import CorruptFile
from core.metadata import streamed_matroska_duration
from core.validation import validate_file
from core.video.encode import probe, scrub_thumbnails
from tests import media
from tests.video_helpers import no_progress

BIG = 50 * 1024 * 1024
SECONDS = 3


def _streamed_webm(path: Path) -> Path:
    """VP8 + Opus written to a pipe: the muxer cannot go back to write sizes, a Duration or
    Cues. The inputs' own ends stop it (an output -t would be written as a Duration)."""
    try:
        with path.open("wb") as out:
            subprocess.run(
                [
                    *("ffmpeg", "-hide_banner", "-loglevel", "error"),
                    *("-f", "lavfi", "-i", f"testsrc=size=320x240:rate=25:duration={SECONDS}"),
                    *("-f", "lavfi", "-i", f"sine=frequency=440:duration={SECONDS}"),
                    *("-c:v", "libvpx", "-c:a", "libopus", "-f", "webm", "pipe:1"),
                ],
                stdout=out,
                check=True,
                timeout=60,
            )
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"ffmpeg cannot write a VP8 + Opus WebM here: {exc}")
    data = path.read_bytes()
    assert data[:4] == b"\x1a\x45\xdf\xa3"
    # the segment's size is "unknown" (all ones) and there is no Duration element (0x4489)
    assert b"\x18\x53\x80\x67\x01\xff\xff\xff\xff\xff\xff\xff" in data
    # (the ID with a float's size after it: the ID's two bytes alone turned up once in a
    # random UID of the header, and the clip was taken for one with a Duration)
    header = data[: data.index(b"\x1f\x43\xb6\x75")]
    assert b"\x44\x89\x84" not in header and b"\x44\x89\x88" not in header
    return path


def test_a_streamed_webm_is_accepted_with_its_length(tmp_path: Path) -> None:
    clip = _streamed_webm(tmp_path / "live.webm")
    info = validate_file(clip, "video", BIG)  # was CorruptFile "The video is truncated"
    assert (info.mime, info.width, info.height) == ("video/webm", 320, 240)
    assert (info.video_codec, info.audio_codec) == ("vp8", "opus")
    # no Duration element: the length is the span of its blocks
    assert info.duration == pytest.approx(SECONDS, abs=0.05)
    assert info.bit_rate == pytest.approx(clip.stat().st_size * 8 / info.duration, rel=0.01)


@pytest.mark.parametrize("keep", [0.5, 0.95, 0.999])
def test_a_streamed_webm_cut_short_is_still_refused(tmp_path: Path, keep: float) -> None:
    clip = _streamed_webm(tmp_path / "live.webm")
    cut = media.make_truncated(clip, tmp_path / "cut.webm", keep)
    assert streamed_matroska_duration(cut) is None
    with pytest.raises(CorruptFile, match="truncated"):
        validate_file(cut, "video", BIG)


def test_a_streamed_webm_cut_in_an_element_header_is_refused(tmp_path: Path) -> None:
    clip = _streamed_webm(tmp_path / "live.webm")
    data = clip.read_bytes()
    cluster = data.rindex(b"\x1f\x43\xb6\x75")  # the last cluster's ID, its size cut off
    cut = tmp_path / "cut.webm"
    cut.write_bytes(data[: cluster + 5])
    with pytest.raises(CorruptFile, match="truncated"):
        validate_file(cut, "video", BIG)


def test_a_streamed_webms_jobs_know_its_length(tmp_path: Path) -> None:
    clip = _streamed_webm(tmp_path / "live.webm")
    p = probe(clip)
    assert p.duration == pytest.approx(SECONDS, abs=0.05)  # was 0.0
    assert p.video_duration == pytest.approx(SECONDS, abs=0.05)
    out = tmp_path / "sprite"
    out.mkdir()
    result = scrub_thumbnails(clip, out, no_progress)
    assert result["count"] == SECONDS  # a tile a second; was 1 for the whole clip
