"""The HLS ladder's (and the web rendition's) timing: what the playlists say is what the
segments hold. Each test makes a tiny clip with ffmpeg and runs core.video.encode directly, as
the job subprocess does, then reads the playlists written and probes the segments with PyAV."""

from __future__ import annotations

import re
from pathlib import Path

import av

from core.video import encode
from tests.video_helpers import ffmpeg_clip, no_progress

# H.264 levels (Annex A, table A-1): the macroblocks a second each allows
MAX_MBPS = {10: 1485, 11: 3000, 12: 6000, 13: 11880, 20: 11880, 21: 19800, 22: 20250}
MAX_MBPS |= {30: 40500, 31: 108000, 32: 216000, 40: 245760, 41: 245760, 42: 522240}
MAX_MBPS |= {50: 589824, 51: 983040, 52: 2073600}


def _playlist(path: Path) -> tuple[list[float], int]:
    """The EXTINF durations of a variant playlist and its TARGETDURATION."""
    text = path.read_text()
    target = re.search(r"#EXT-X-TARGETDURATION:(\d+)", text)
    assert target, text
    return [float(d) for d in re.findall(r"#EXTINF:([\d.]+)", text)], int(target.group(1))


def _master(path: Path) -> dict[str, str]:
    """The attributes of the master playlist's (only) variant."""
    (line,) = [x for x in path.read_text().splitlines() if x.startswith("#EXT-X-STREAM-INF:")]
    return dict(re.findall(r'([A-Z-]+)=("[^"]*"|[^,]*)', line[len("#EXT-X-STREAM-INF:") :]))


def _pictures(path: Path) -> list[float]:
    """The times of every decoded picture of a file or playlist."""
    with av.open(str(path)) as c:
        return [float(f.time) for f in c.decode(c.streams.video[0]) if f.time is not None]


def _sound_end(path: Path) -> float:
    """When the sound ends, in seconds after the first picture."""
    with av.open(str(path)) as c:
        last = [f for f in c.decode(c.streams.audio[0]) if f.time is not None][-1]
        return float(last.time) + last.samples / last.sample_rate - _pictures(path)[0]


def _segment_keyframes(folder: Path) -> list[float]:
    """Each segment's first picture time, which must be a keyframe (a segment starts one)."""
    starts = []
    for seg in sorted(folder.glob("seg_*.ts")):
        with av.open(str(seg)) as c:
            first = next(c.demux(c.streams.video[0]))
            assert first.is_keyframe, seg.name
            assert first.pts is not None and first.time_base is not None
            starts.append(float(first.pts * first.time_base))
    return starts


def test_slow_motion_is_delivered_at_60_fps_with_its_real_length(tmp_path: Path) -> None:
    """A phone's 240 fps slow-motion clip (1.5 s): the ladder took it for 30 fps, so the
    playlist said 4x its length (EXTINF 1.0 + 2.0 + 3.0 = 6 s for 1.5 s of pictures, the
    tester's 5 s clip 12 s), the master FRAME-RATE=30.000 and the level a 30 fps one. Outputs
    are capped at 60 fps (every 4th frame kept) as Mux and Cloudflare Stream deliver them, the
    web rendition too, and the playlists and level say so."""
    clip = ffmpeg_clip(
        tmp_path / "slowmo.mov",
        *["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=240:d=1.5"],
        *["-f", "lavfi", "-i", "sine=sample_rate=48000:d=1.5"],
        *["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"],
    )
    assert encode.probe(clip).fps == 240
    encode.hls_ladder(clip, tmp_path / "hls", [180], 1, no_progress)
    durations, target = _playlist(tmp_path / "hls" / "180" / "index.m3u8")
    assert abs(sum(durations) - 1.5) < 0.02, durations
    assert target == 1 and max(durations) < 1.02, (durations, target)
    master = _master(tmp_path / "hls" / "master.m3u8")
    assert master["FRAME-RATE"] == "60.000", master
    pictures = _pictures(tmp_path / "hls" / "180" / "index.m3u8")
    assert len(pictures) == 90, len(pictures)
    steps = {round(b - a, 4) for a, b in zip(pictures, pictures[1:], strict=False)}
    assert steps == {round(1 / 60, 4)}, steps
    level = int(master["CODECS"].strip('"').split(",")[0][-2:], 16)
    assert MAX_MBPS[level] >= (320 // 16) * (180 // 16 + 1) * 60, master
    encode.web_rendition(clip, tmp_path, "video/quicktime", no_progress)
    web = _pictures(tmp_path / "web.mp4")
    assert len(web) == 90 and abs(web[-1] + 1 / 60 - 1.5) < 0.02, (len(web), web[-1])
    with av.open(str(tmp_path / "web.mp4")) as c:
        assert c.streams.video[0].average_rate == 60


def test_variable_frame_rate_segments_are_cut_by_time(tmp_path: Path) -> None:
    """30 fps for 2 s, then 10 fps for 3 s (a phone that slows its rate in the dark): the
    keyframes came every round(average fps x segment) frames, so the 10 fps part's segments
    ran 1.8 s with a 1 s setting (the tester's 6 s with a 4 s one), and FRAME-RATE was the
    average (18.000). Keyframes now come every segment of time; FRAME-RATE is the maximum."""
    clip = ffmpeg_clip(
        tmp_path / "vfr.mp4",
        *["-f", "lavfi", "-i", "testsrc2=size=160x90:rate=30:d=3"],
        *["-vf", "setpts='if(lt(T,2),PTS,2/TB+(PTS-2/TB)*3)'", "-fps_mode", "vfr"],
        *["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"],
    )
    source = _pictures(clip)
    assert len(source) == 90 and abs(source[-1] - (2 + 29 / 10)) < 0.01, source[-3:]
    encode.hls_ladder(clip, tmp_path / "hls", [90], 1, no_progress)
    folder = tmp_path / "hls" / "90"
    durations, target = _playlist(folder / "index.m3u8")
    assert target == 1 and max(durations) <= 1.0 + 1e-6, (durations, target)
    length = encode.probe(clip).picture_duration  # the last picture shown for 1/30 s
    assert abs(sum(durations) - length) < 0.002, (durations, length)
    starts = _segment_keyframes(folder)
    assert [round(t - starts[0], 6) for t in starts] == [0, 1, 2, 3, 4], starts
    assert _master(tmp_path / "hls" / "master.m3u8")["FRAME-RATE"] == "30.000"
    made = _pictures(folder / "index.m3u8")  # every picture, at its own time
    assert [round(t - made[0], 6) for t in made] == [round(t, 6) for t in source]


def test_sound_longer_than_the_pictures_is_covered_by_the_playlist(tmp_path: Path) -> None:
    """1 s of pictures and 2 s of sound: the playlist said 1 s (ffprobe and AVPlayer stop
    there) though its segment held the 2 s of sound, which the web rendition and the original
    play. The last picture is held until the sound ends, as in the web rendition's player."""
    clip = ffmpeg_clip(
        tmp_path / "long_sound.mp4",
        *["-f", "lavfi", "-i", "testsrc2=size=160x90:rate=30:d=1"],
        *["-f", "lavfi", "-i", "sine=sample_rate=48000:d=2"],
        *["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"],
    )
    encode.hls_ladder(clip, tmp_path / "hls", [90], 1, no_progress)
    folder = tmp_path / "hls" / "90"
    durations, target = _playlist(folder / "index.m3u8")
    assert abs(sum(durations) - 2.0) < 0.04 and target == 1, durations
    pictures = _pictures(folder / "index.m3u8")
    assert abs(pictures[-1] - pictures[0] + 1 / 30 - 2.0) < 0.04, pictures[-3:]
    assert abs(_sound_end(folder / "index.m3u8") - _sound_end(clip)) < 0.03


def test_a_plain_clip_keeps_its_length_and_sync(tmp_path: Path) -> None:
    """A guard (passes before): 2.5 s at 30 fps, the last segment a part one. The playlist
    says the source's length and the pictures keep their place after the sound's start (the
    transport stream's timeline starts at 0 for sound, pictures and decoding times alike:
    tests/test_video_hls_first_picture.py)."""
    clip = ffmpeg_clip(
        tmp_path / "plain.mp4",
        *["-f", "lavfi", "-i", "testsrc2=size=160x90:rate=30:d=2.5"],
        *["-f", "lavfi", "-i", "sine=sample_rate=48000:d=2.5"],
        *["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"],
    )
    encode.hls_ladder(clip, tmp_path / "hls", [90], 1, no_progress)
    playlist = tmp_path / "hls" / "90" / "index.m3u8"
    durations, target = _playlist(playlist)
    assert abs(sum(durations) - 2.5) < 0.002 and target == 1, durations
    assert abs(_sound_end(playlist) - _sound_end(clip)) < 0.03
    assert len(_pictures(playlist)) == 75


def test_a_two_frame_flat_clip_makes_its_ladder(tmp_path: Path) -> None:
    """Two frames of one colour at 1 fps make segments of a few TS packets, too short for
    FFmpeg's probe to know as MPEG-TS: the retiming opened them unnamed and the ladder failed
    three times with EOFError (an outside tester's 400×400 clip)."""
    clip = ffmpeg_clip(
        tmp_path / "flat.mp4",
        *("-f", "lavfi", "-i", "color=c=green:s=400x400:r=1:d=2"),
        *("-c:v", "libx264", "-pix_fmt", "yuv420p"),
    )
    encode.hls_ladder(clip, tmp_path / "hls", [360], 4, no_progress)  # the whole clip: one segment
    durations, _ = _playlist(next((tmp_path / "hls").glob("*/index.m3u8")))
    assert durations and abs(sum(durations) - 2) < 0.01, durations
