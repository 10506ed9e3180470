"""Codec names are the format's, not the decoder's (AV1 is decoded by `libdav1d`), and a
faststart copy keeps what the original's tracks are (their codec, their sample entry's tag)."""

from __future__ import annotations

import json
import subprocess
from functools import cache
from pathlib import Path

import av
import pytest

from core.video.encode import (
    BadMedia,
    NothingToDo,
    faststart,
    moov_after_mdat,
    plays_in_browsers,
    probe,
    web_rendition,
)
from core.video.failures import failure_reason
from tests.video_helpers import ffmpeg_clip, no_progress

PICTURES = ("-f", "lavfi", "-i", "testsrc=size=320x240:rate=25:duration=2")
SOUND = ("-f", "lavfi", "-i", "sine=frequency=440:duration=2")


@cache
def _cli_encoders() -> str:
    try:
        listing = subprocess.run(
            ["ffmpeg", "-hide_banner", "-encoders"], capture_output=True, text=True, timeout=30
        )
    except OSError:
        return ""
    return listing.stdout


def _encoder(*names: str) -> str:
    """The first of `names` the ffmpeg command line has; the test is skipped without one."""
    listing = _cli_encoders()
    for name in names:
        if f" {name} " in listing:
            return name
    pytest.skip(f"ffmpeg has none of the encoders {', '.join(names)}")


def _streams(path: Path) -> list[dict[str, str]]:
    shown = subprocess.run(
        [
            "ffprobe",
            *("-v", "error", "-of", "json", "-count_packets"),
            *("-show_entries", "stream=codec_name,codec_tag_string,nb_read_packets"),
            str(path),
        ],
        capture_output=True,
        check=True,
        text=True,
        timeout=30,
    )
    streams: list[dict[str, str]] = json.loads(shown.stdout)["streams"]
    return streams


def _av1(path: Path, *more: str) -> Path:
    """An AV1 clip with its moov after its mdat (the ffmpeg command line's default)."""
    encoder = _encoder("libsvtav1", "libaom-av1")
    speed = ("-preset", "12") if encoder == "libsvtav1" else ("-cpu-used", "8")
    clip = ffmpeg_clip(path, *PICTURES, *more, "-c:v", encoder, *speed, "-pix_fmt", "yuv420p")
    assert moov_after_mdat(clip) or path.suffix == ".webm"
    return clip


def test_av1_is_named_av1_and_plays_in_browsers(tmp_path: Path) -> None:
    clip = _av1(tmp_path / "av1.mp4")
    p = probe(clip)
    assert p.video_codec == "av1"  # was "libdav1d", the decoder
    assert plays_in_browsers(p, "video/mp4")
    # the web job is skipped: the original is already the best version for a browser
    out = tmp_path / "web"
    out.mkdir()
    with pytest.raises(NothingToDo) as skipped:
        web_rendition(clip, out, "video/mp4", no_progress)
    assert skipped.value.reason == "already_web_ready"
    assert not list(out.iterdir())


def test_av1_webm_with_opus_plays_in_browsers(tmp_path: Path) -> None:
    _encoder("libopus")
    clip = _av1(tmp_path / "av1.webm", *SOUND, "-c:a", "libopus")
    p = probe(clip)
    assert (p.video_codec, p.audio_codec) == ("av1", "opus")
    assert plays_in_browsers(p, "video/webm")


@pytest.mark.parametrize("sound", [False, True], ids=["video-only", "with-aac"])
def test_av1_mp4_gets_a_faststart_copy_of_every_frame(tmp_path: Path, sound: bool) -> None:
    # was KeyError: 0 without sound (demux() of no track reads them all), and with it a copy
    # of the sound alone, taken for a 0-frame video (skipped as no_video_frames)
    more = (*SOUND, "-c:a", "aac") if sound else ()
    clip = _av1(tmp_path / "av1.mp4", *more)
    out = tmp_path / "out"
    out.mkdir()
    result = faststart(clip, out, "video/mp4", no_progress)
    copy = out / result["files"][0]
    assert not moov_after_mdat(copy)
    streams = _streams(copy)
    assert [s["codec_name"] for s in streams] == (["av1", "aac"] if sound else ["av1"])
    assert streams[0]["codec_tag_string"] == "av01"
    assert streams[0]["nb_read_packets"] == "50"
    with av.open(str(copy)) as c:
        assert sum(1 for _ in c.decode(video=0)) == 50


@pytest.mark.parametrize(
    ("ext", "content_type"), [("mp4", "video/mp4"), ("mov", "video/quicktime")]
)
def test_faststart_copy_keeps_hevc_tagged_hvc1(tmp_path: Path, ext: str, content_type: str) -> None:
    # An iPhone's HEVC is `hvc1`: the copy came out `hev1`, which Safari and iOS do not play
    encoder = _encoder("libx265")
    clip = ffmpeg_clip(
        tmp_path / f"hevc.{ext}",
        *PICTURES,
        *("-c:v", encoder, "-preset", "ultrafast", "-x265-params", "log-level=none"),
        *("-tag:v", "hvc1"),
    )
    assert _streams(clip)[0]["codec_tag_string"] == "hvc1"
    out = tmp_path / "out"
    out.mkdir()
    result = faststart(clip, out, content_type, no_progress)
    streams = _streams(out / result["files"][0])
    assert [(s["codec_name"], s["codec_tag_string"]) for s in streams] == [("hevc", "hvc1")]
    assert streams[0]["nb_read_packets"] == "50"


def test_faststart_copy_of_a_tag_the_muxer_refuses_takes_the_muxers_own(tmp_path: Path) -> None:
    # MP3 in an MP4 is `mp4a`, which a QuickTime file names AAC alone: copied as it is, the
    # header was refused; the copy names it as the QuickTime muxer does, every track kept
    _encoder("libmp3lame")
    clip = ffmpeg_clip(
        tmp_path / "mp3.mp4", *PICTURES, *SOUND, "-c:v", "libx264", "-c:a", "libmp3lame"
    )
    assert [s["codec_tag_string"] for s in _streams(clip)] == ["avc1", "mp4a"]
    out = tmp_path / "out"
    out.mkdir()
    result = faststart(clip, out, "video/quicktime", no_progress)
    streams = _streams(out / result["files"][0])
    assert [s["codec_name"] for s in streams] == ["h264", "mp3"]
    assert streams[0]["codec_tag_string"] == "avc1"
    assert streams[1]["codec_tag_string"] != "mp4a"


def test_a_video_track_the_copy_cannot_hold_is_a_failure_of_the_original(tmp_path: Path) -> None:
    # ProRes in a file called an MP4 (a QuickTime file under an MP4 brand): the MP4 muxer takes
    # no ProRes track. No track copied used to demux every track, and fail with KeyError: 0
    # (reason `internal`, three attempts); with sound, the sound alone was taken for no frames
    encoder = _encoder("prores_ks")
    clip = ffmpeg_clip(
        tmp_path / "prores.mp4", *PICTURES, *SOUND, "-c:v", encoder, "-c:a", "aac", "-f", "mov"
    )
    assert moov_after_mdat(clip)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(BadMedia, match=r"\(prores\) cannot be copied") as failed:
        faststart(clip, out, "video/mp4", no_progress)
    assert failure_reason(failed.value) == "undecodable_media"
    assert not list(out.iterdir())  # no half-made copy left behind


def test_mp3_sound_is_named_mp3_not_its_decoder(tmp_path: Path) -> None:
    # FFmpeg decodes MP3 with `mp3float`: an H.264 + MP3 MP4 was taken for a sound browsers
    # do not play, and given a web job it did not need
    _encoder("libmp3lame")
    clip = ffmpeg_clip(
        tmp_path / "mp3.mp4",
        *PICTURES,
        *SOUND,
        *("-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "libmp3lame"),
    )
    p = probe(clip)
    assert (p.video_codec, p.audio_codec) == ("h264", "mp3")
    assert plays_in_browsers(p, "video/mp4")
