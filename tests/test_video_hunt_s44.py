"""An outside tester's findings in the video pipeline, each on a clip ffmpeg makes here: an
interlaced H.264 MP4 served interlaced, a 30 + 120 fps clip delivered at an uneven 37 fps, the
first audio track played instead of the default one, a 5.1 downmix past full scale, a
camcorder's MPEG-TS refused as bytes of no known format, a 1-frame clip's cue outlasting it."""

from __future__ import annotations

import array
import re
from pathlib import Path

import av
import pytest

from core.errors import UnsupportedType
from core.library import Library
from core.mediatypes import sniff_file
from core.metadata import video_metadata
from core.video import encode
from core.video import service as video_service
from tests.conftest import make_settings
from tests.video_helpers import TEST_LADDER, ffmpeg_clip, no_progress, process_all

LAVFI = "-f", "lavfi", "-i"
X264 = "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"


def _pictures(path: Path) -> list[float]:
    with av.open(str(path)) as c:
        return [float(f.time) for f in c.decode(c.streams.video[0]) if f.time is not None]


def _sound(path: Path) -> tuple[list[float], int]:
    """The first channel of the (only) audio track, and its sample rate."""
    samples: list[float] = []
    rate = 0
    with av.open(str(path)) as c:
        for frame in c.decode(c.streams.audio[0]):
            rate = frame.sample_rate
            assert frame.format.name == "fltp"  # AAC's decoder's
            samples += array.array("f", bytes(frame.planes[0])[: frame.samples * 4])
    return samples, rate


def _frequency(path: Path) -> float:
    """The tone's frequency by its rising zero crossings, past the encoder's fade-in."""
    samples, rate = _sound(path)
    samples = samples[rate // 10 :]
    rising = sum(1 for a, b in zip(samples, samples[1:], strict=False) if a < 0 <= b)
    return rising / (len(samples) / rate)


def _peak(path: Path) -> float:
    peak = 0.0
    with av.open(str(path)) as c:
        for frame in c.decode(c.streams.audio[0]):
            assert frame.format.name == "fltp"  # AAC's decoder's
            for plane in frame.planes:
                values = array.array("f", bytes(plane)[: frame.samples * 4])
                peak = max(peak, *(abs(v) for v in values))
    return peak


def _master_frame_rate(folder: Path) -> str:
    found = re.search(r"FRAME-RATE=([\d.]+)", (folder / "master.m3u8").read_text())
    assert found, (folder / "master.m3u8").read_text()
    return found.group(1)


def _interlaced_mp4(path: Path) -> Path:
    """A 25i (50 fields a second, top field first) H.264 + AAC MP4, as an HD camcorder's."""
    return ffmpeg_clip(
        path,
        *LAVFI,
        "testsrc2=s=352x288:r=50:d=2,interlace=scan=tff",
        *LAVFI,
        "sine=d=2:r=48000",
        *("-c:v", "libx264", "-preset", "ultrafast", "-flags", "+ildct+ilme"),
        *("-x264-params", "tff=1", "-pix_fmt", "yuv420p", "-c:a", "aac"),
    )


def test_an_interlaced_h264_mp4_gets_a_deinterlaced_web_copy_and_serves_it(
    tmp_path: Path,
) -> None:
    """It was taken for one browsers play (H.264 yuv420p in MP4): the web job was skipped as
    `already_web_ready` and /stream/{id}/video served the faststart copy, combed."""
    clip = _interlaced_mp4(tmp_path / "camcorder_1080i.mp4")
    p = encode.probe(clip)
    assert p.interlaced and p.video_codec == "h264" and p.pix_fmt == "yuv420p"
    assert not encode.plays_in_browsers(p, "video/mp4")
    made = encode.web_rendition(clip, tmp_path, "video/mp4", no_progress)
    assert made["files"] == ["web.mp4"]
    with av.open(str(tmp_path / "web.mp4")) as c:
        frames = list(c.decode(c.streams.video[0]))
    assert len(frames) == 50 and not any(f.interlaced_frame for f in frames)

    data = tmp_path / "data"
    data.mkdir()
    lib = Library.open(make_settings(data, hls_ladder=TEST_LADDER, hls_segment_seconds=2))
    try:
        fid = lib.uploads.ingest(clip, "video").id
        process_all(lib)
        jobs = {j.kind: j for j in lib.jobs.latest_for_file(fid)}
        assert jobs["web"].state == "done", (jobs["web"].error, jobs["web"].result)
        served = video_service.choose_video(lib.get_file(fid), lib.jobs.list(file_id=fid)[0], None)
        assert served.name == "web"
    finally:
        lib.close()


def _joined(path: Path, tmp: Path, rates: tuple[int, int]) -> Path:
    """Two 1 s parts at `rates` joined packet for packet (ffmpeg's concat, -c copy), as an
    editor joins a normal clip and a phone's slow-motion one: its SPS says the first rate."""
    parts = []
    for rate in rates:
        part = ffmpeg_clip(
            tmp / f"part{rate}.mp4",
            *LAVFI,
            f"testsrc2=s=160x90:r={rate}:d=1",
            *X264,
            *("-video_track_timescale", "90000"),
        )
        parts.append(f"file '{part}'")
    listing = tmp / "parts.txt"
    listing.write_text("\n".join(parts) + "\n")
    return ffmpeg_clip(path, *("-f", "concat", "-safe", "0", "-i", str(listing)), "-c", "copy")


@pytest.mark.parametrize(("rates", "delivered"), [((30, 120), 60), ((30, 60), 60)])
def test_a_clip_joined_from_two_rates_is_delivered_at_the_highest_evenly(
    tmp_path: Path, rates: tuple[int, int], delivered: int
) -> None:
    """30 + 120 fps came out at 37 fps (the average, 74, halved), its frames 25 and 33 ms
    apart, FRAME-RATE=37.037; 30 + 60 said FRAME-RATE=44.628 (the average)."""
    clip = _joined(tmp_path / "joined.mp4", tmp_path, rates)
    encode.hls_ladder(clip, tmp_path / "hls", [90], 1, no_progress)
    assert float(_master_frame_rate(tmp_path / "hls")) == delivered
    encode.web_rendition(clip, tmp_path, "video/x-msvideo", no_progress)
    for made in (tmp_path / "web.mp4", tmp_path / "hls" / "90" / "index.m3u8"):
        times = _pictures(made)
        gaps = [round(b - a, 4) for a, b in zip(times, times[1:], strict=False)]
        first, second = gaps[: rates[0] - 1], gaps[rates[0] + 1 :]
        # the first part at its own rate, the second every 1/delivered s, evenly
        assert all(abs(g - 1 / rates[0]) < 0.002 for g in first), (made.name, first)
        assert all(abs(g - 1 / delivered) < 0.002 for g in second), (made.name, second)
        assert len(second) >= delivered - 3, (made.name, len(second))


def test_the_default_audio_track_is_the_one_heard(tmp_path: Path) -> None:
    """The second track (880 Hz) is the default, the first (440 Hz) not: the original and the
    faststart copy play 880 Hz, the HLS and web copies played 440."""
    clip = ffmpeg_clip(
        tmp_path / "two_tracks.mp4",
        *LAVFI,
        "testsrc2=s=160x90:r=25:d=2",
        *LAVFI,
        "sine=frequency=440:sample_rate=48000:d=2",
        *LAVFI,
        "sine=frequency=880:sample_rate=48000:d=2",
        *("-map", "0", "-map", "1", "-map", "2", *X264, "-c:a", "aac"),
        *("-disposition:a:0", "0", "-disposition:a:1", "default"),
    )
    encode.web_rendition(clip, tmp_path, "video/x-msvideo", no_progress)
    encode.hls_ladder(clip, tmp_path / "hls", [90], 1, no_progress)
    for made in (tmp_path / "web.mp4", tmp_path / "hls" / "90" / "index.m3u8"):
        assert abs(_frequency(made) - 880) < 15, made.name
    # no default flagged anywhere: the first track, as players take it
    plain = ffmpeg_clip(
        tmp_path / "no_default.mkv",
        *LAVFI,
        "sine=frequency=440:sample_rate=48000:d=1",
        *LAVFI,
        "sine=frequency=880:sample_rate=48000:d=1",
        *("-map", "0", "-map", "1", "-c:a", "libopus"),
        *("-disposition:a:0", "0", "-disposition:a:1", "0"),
    )
    with av.open(str(plain)) as c:
        assert encode.main_audio(c) is c.streams.audio[0]


def test_the_metadata_names_the_default_audio_track(tmp_path: Path) -> None:
    """A clip's audio codec and channels are the default track's, the one its copies play (a
    stereo AC-3 second, after a mono AAC commentary): they were the first track's; with no
    track flagged default, the first's, as players take it."""
    tracks = (*LAVFI, "sine=frequency=440:d=1", *LAVFI, "sine=frequency=880:d=1")
    sound = ("-c:a:0", "aac", "-ac:a:0", "1", "-c:a:1", "ac3", "-ac:a:1", "2")
    for name, default in (("two.mp4", "default"), ("two.mkv", "default"), ("none.mkv", "0")):
        clip = ffmpeg_clip(
            tmp_path / name,
            *LAVFI,
            "testsrc2=s=160x90:r=25:d=1",
            *tracks,
            *("-map", "0", "-map", "1", "-map", "2", *X264, *sound),
            *("-disposition:a:0", "0", "-disposition:a:1", default),
        )
        meta = video_metadata(clip)
        said = (meta["audio_codec"], meta["extra"]["audio_channels"])
        assert said == (("ac3", 2) if default == "default" else ("aac", 1)), name


def test_a_loud_5_1_downmix_stays_within_full_scale(tmp_path: Path) -> None:
    """A tone at half scale on each of 6 channels summed to 1.18 in stereo (FL + 0.707 FC +
    0.707 BL), hundreds of samples past full scale, clipped by every player."""
    clip = ffmpeg_clip(
        tmp_path / "surround.mp4",
        *LAVFI,
        "testsrc2=s=160x90:r=25:d=2",
        *LAVFI,
        "sine=frequency=440:sample_rate=48000:d=2",
        *X264,
        *("-af", "volume=4,pan=5.1|FL=c0|FR=c0|FC=c0|LFE=c0|BL=c0|BR=c0"),
        *("-c:a", "aac", "-ac", "6"),
    )
    assert _peak(clip) > 0.45  # the source: about half scale on each channel
    encode.web_rendition(clip, tmp_path, "video/x-msvideo", no_progress)
    encode.hls_ladder(clip, tmp_path / "hls", [90], 1, no_progress)
    for made in (tmp_path / "web.mp4", tmp_path / "hls" / "90" / "index.m3u8"):
        with av.open(str(made)) as c:
            assert c.streams.audio[0].codec_context.channels == 2
        peak = _peak(made)
        assert 0.3 < peak <= 1.0, (made.name, peak)


def test_a_one_frame_clips_cue_ends_with_the_clip(tmp_path: Path) -> None:
    clip = ffmpeg_clip(
        tmp_path / "one.mp4", *LAVFI, "testsrc2=s=160x90:r=30", "-frames:v", "1", *X264
    )
    encode.scrub_thumbnails(clip, tmp_path, no_progress)
    cues = re.findall(r"(\S+) --> (\S+)", (tmp_path / "thumbnails.vtt").read_text())
    assert cues == [("00:00:00.000", "00:00:00.033")]  # was 00:00:00.100


def _camcorder(path: Path, m2ts: bool) -> Path:
    """An MPEG-TS clip: H.264 + AC-3 in 192-byte packets (AVCHD .mts) or 188-byte ones."""
    return ffmpeg_clip(
        path,
        *LAVFI,
        "testsrc2=s=320x180:r=25:d=2",
        *LAVFI,
        "sine=frequency=440:sample_rate=48000:d=2",
        *X264,
        *("-c:a", "ac3", "-f", "mpegts", "-mpegts_m2ts_mode", "1" if m2ts else "0"),
    )


def test_an_mpeg_ts_whose_h264_allows_a_varying_rate_has_its_frame_rate(tmp_path: Path) -> None:
    """A .ts from FFmpeg or OBS (H.264 headers without a fixed rate): MediaInfo names no frame
    rate, so /stream/{id}/info said null and the desktop stepped it at 25 fps; now the rate
    of its timestamps, as ffprobe's avg_frame_rate says."""
    clip = ffmpeg_clip(tmp_path / "obs.ts", *LAVFI, "testsrc2=s=160x90:r=50:d=1", *X264)
    assert video_metadata(clip)["frame_rate"] == 50.0


def test_an_mpeg_ts_is_named_in_its_refusal_and_processed_once_allowed(tmp_path: Path) -> None:
    """It was refused as `unknown_content` whatever ALLOWED_VIDEO_TYPES said. Now it is
    video/mp2t: refused by default naming the setting, and once allowed stored with its
    metadata and given a web copy (served), HLS and scrub thumbnails."""
    mts = _camcorder(tmp_path / "00001.MTS", m2ts=True)
    ts = _camcorder(tmp_path / "broadcast.ts", m2ts=False)
    assert sniff_file(mts).mime == sniff_file(ts).mime == "video/mp2t"

    data = tmp_path / "data"
    data.mkdir()
    lib = Library.open(make_settings(data, hls_ladder=TEST_LADDER, hls_segment_seconds=2))
    try:
        with pytest.raises(UnsupportedType) as refused:
            lib.uploads.ingest(mts, "video")
        assert refused.value.reason == "not_allowed"
        assert refused.value.details["content_type"] == "video/mp2t"
        assert refused.value.details["setting"] == "ALLOWED_VIDEO_TYPES"
        assert "video/mp2t" not in lib.settings.allowed_video_types  # the seed's list stays
    finally:
        lib.close()

    allowed = ("video/mp4", "video/quicktime", "video/mp2t")
    lib = Library.open(
        make_settings(
            data, hls_ladder=TEST_LADDER, hls_segment_seconds=2, allowed_video_types=allowed
        )
    )
    try:
        record = lib.uploads.ingest(mts, "video")
        assert record.content_type == "video/mp2t"
        assert (record.width, record.height) == (320, 180)
        assert record.duration is not None and abs(record.duration - 2) < 0.2
        process_all(lib)
        jobs = {j.kind: j for j in lib.jobs.latest_for_file(record.id)}
        assert set(jobs) == {"web", "hls", "thumbnails"}  # no moov box to move
        assert all(j.state == "done" for j in jobs.values()), {
            k: (j.state, j.error) for k, j in jobs.items()
        }
        served = video_service.choose_video(
            lib.get_file(record.id), lib.jobs.list(file_id=record.id)[0], None
        )
        assert served.name == "web" and served.content_type == "video/mp4"
    finally:
        lib.close()
