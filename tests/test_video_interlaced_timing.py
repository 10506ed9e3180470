"""An interlaced source keeps its speed: bwdif (one frame per frame) hands its frames out on
a time base of half the source's, and the encoders took their timestamps for the source's, so
a PAL 25i camcorder clip of 2 s came out 4 s long in the web copy and every HLS rung, the
pictures at half speed against sound that kept its 2 s."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import av

from core.video import encode


def _none(_: float) -> None:
    pass


def _pictures(path: Path) -> list[float]:
    with av.open(str(path)) as c:
        return [float(f.time) for f in c.decode(c.streams.video[0]) if f.time is not None]


def _sound_end(path: Path) -> float:
    with av.open(str(path)) as c:
        frames = [f for f in c.decode(c.streams.audio[0]) if f.time is not None]
    return float(frames[-1].time) + frames[-1].samples / frames[-1].sample_rate


def test_an_interlaced_clip_keeps_its_frames_times_and_sync(tmp_path: Path) -> None:
    clip = tmp_path / "camcorder_25i.mov"
    subprocess.run(
        [
            *["ffmpeg", "-hide_banner", "-loglevel", "error", "-y"],
            *["-f", "lavfi", "-i", "testsrc2=s=352x288:r=50:d=2,interlace=scan=tff"],
            *["-f", "lavfi", "-i", "sine=d=2:r=48000"],
            *["-c:v", "libx264", "-preset", "ultrafast", "-flags", "+ildct+ilme"],
            *["-x264-params", "tff=1", "-pix_fmt", "yuv420p", "-c:a", "aac", str(clip)],
        ],
        check=True,
        timeout=60,
    )
    assert encode.probe(clip).interlaced
    source = _pictures(clip)
    assert len(source) == 50 and abs(source[-1] - 1.96) < 0.005, source[-3:]
    encode.web_rendition(clip, tmp_path, "video/x-msvideo", _none)
    encode.hls_ladder(clip, tmp_path / "hls", [144], 1, _none)
    for made in (tmp_path / "web.mp4", tmp_path / "hls" / "144" / "index.m3u8"):
        pictures = _pictures(made)
        # every frame, each at the source's time (from the output's first picture)
        assert len(pictures) == len(source), (made.name, len(pictures))
        shifted = [round(t - pictures[0], 3) for t in pictures]
        assert shifted == [round(t, 3) for t in source], (made.name, shifted[-3:])
        # the sound ends with the last picture, as in the source
        end = _sound_end(made) - pictures[0]
        assert abs(end - (_sound_end(clip) - source[0])) < 0.03, (made.name, end)
        if made.suffix == ".m3u8":  # and the playlist says the source's length
            text = made.read_text()
            durations = [float(x) for x in re.findall(r"#EXTINF:([\d.]+)", text)]
            assert abs(sum(durations) - 2.0) < 0.01, durations
