"""Every rendition starts at the original's first picture, on the original's timeline.

Each clip shows a different grey in each of its first frames and a tone that starts at 1 s.
The times compared are the ones players show: an MP4 is played on its own timestamps (edit
lists applied, as browsers and FFmpeg do), an MPEG-TS (the original camcorder file, the HLS
segments) from its earliest timestamp, sound or picture, where hls.js (the watch page's
player) and FFmpeg-based players put 0."""

from __future__ import annotations

import array
from pathlib import Path

import av

from core.video import encode
from tests.video_helpers import ffmpeg_clip, no_progress

_GREYS = "color=black:s=320x240:r=25:d=2,format=yuv420p,geq=lum='mod(N*20\\,200)+20':cb=128:cr=128"
_TONE = "aevalsrc='if(gte(t\\,1)\\,0.5*sin(2*PI*440*t)\\,0)':s=48000:d=2"


def _greys_and_tone(path: Path, *output: str) -> Path:
    """2 s at 25 fps with B-frames (libx264's 2 frames of delay) and AAC sound."""
    return ffmpeg_clip(
        path,
        *["-f", "lavfi", "-i", _GREYS, "-f", "lavfi", "-i", _TONE],
        *["-c:v", "libx264", "-preset", "veryfast", "-bf", "2", "-c:a", "aac", *output],
    )


def _is_ts(path: Path) -> bool:
    return path.suffix in (".m3u8", ".ts", ".mts")


def _shown(path: Path) -> tuple[list[tuple[float, int]], float]:
    """The first 4 pictures (time shown, mean grey) and when the tone is first heard."""
    with av.open(str(path)) as c:
        pictures = []
        for frame in c.decode(c.streams.video[0]):
            grey = frame.reformat(format="gray").planes[0]
            # each row's visible bytes only: a row's padding past the width (PyAV 18.1.1 pads a
            # 160-pixel row to 192 bytes) counted as black darkened the small rung's mean
            data, step, width = bytes(grey), grey.line_size, frame.width
            seen = b"".join(data[y * step : y * step + width] for y in range(frame.height))
            pictures.append((float(frame.time), round(sum(seen) / len(seen))))
            if len(pictures) == 4:
                break
    with av.open(str(path)) as c:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=48000)
        first_sound, onset = None, None
        for frame in c.decode(c.streams.audio[0]):
            first_sound = float(frame.time) if first_sound is None else first_sound
            for chunk in resampler.resample(frame):
                samples = array.array("h", bytes(chunk.planes[0])[: chunk.samples * 2])
                loud = next((i for i, s in enumerate(samples) if abs(s) > 3000), None)
                if loud is not None:
                    onset = float(chunk.time) + loud / 48000
                    break
            if onset is not None:
                break
    assert first_sound is not None and onset is not None, path
    # A transport stream's timeline starts at its earliest timestamp, sound or picture
    zero = min(pictures[0][0], first_sound) if _is_ts(path) else 0.0
    return [(round(t - zero, 4), grey) for t, grey in pictures], onset - zero


def _renditions(clip: Path, out: Path, content_type: str) -> list[Path]:
    encode.web_rendition(clip, out, "video/x-msvideo", no_progress)  # made even if it plays
    encode.hls_ladder(clip, out / "hls", [120, 240], 1, no_progress)
    made = [out / "web.mp4", out / "hls" / "120" / "index.m3u8", out / "hls" / "240" / "index.m3u8"]
    if encode.faststart_skip_reason(clip, content_type) is None:
        made.append(out / encode.faststart(clip, out, content_type, no_progress)["files"][0])
    return made


def _same_timeline(clip: Path, made: list[Path]) -> None:
    pictures, onset = _shown(clip)
    for path in made:
        got, heard = _shown(path)
        # the same pictures (1 grey level of the re-encode's rounding) at the same times (an
        # MP4's edit list counts in its movie's milliseconds)
        pairs = list(zip(got, pictures, strict=True))
        assert all(abs(a - b) <= 0.001 for (a, _), (b, _) in pairs), (path.name, got, pictures)
        assert all(abs(a - b) <= 1 for (_, a), (_, b) in pairs), (path.name, got, pictures)
        # and the sound where it was against them (no A/V shift; AAC's pre-echo aside)
        assert abs(heard - onset) < 0.005, (path.name, heard, onset)


def test_an_mp4_with_b_frames_keeps_its_first_picture_at_0_everywhere(tmp_path: Path) -> None:
    """The HLS segments started 21 ms late on the players' clock (frame 0 at 0.0213, frame
    n where the web copy shows n-1): the AAC encoder's priming (1024 samples before the first
    real one), which an MP4 hides with an edit list, is played in a transport stream and came
    before the first picture. The segments' raw timestamps start at 0, decoding times too
    (libx264's B-frame delay no longer moves the stream: tests/test_video_hls_first_picture.py);
    the first picture is the original's first either way."""
    clip = _greys_and_tone(tmp_path / "match.mp4")
    pictures, _ = _shown(clip)
    assert pictures[0][0] == 0.0 and len({grey for _, grey in pictures}) == 4
    _same_timeline(clip, _renditions(clip, tmp_path, "video/mp4"))


def test_a_camcorder_mts_that_starts_at_1_4_s_starts_at_0_in_the_web_copy(
    tmp_path: Path,
) -> None:
    """An MPEG-TS original (a camcorder's .mts) starts its clock at 1.4 s, as ffmpeg writes
    them: players show it from 0. The web copy kept the 1.4 s as an empty edit (1.48 s of
    nothing before the first picture in a browser, and every time 1.48 s off the HLS one)."""
    clip = _greys_and_tone(tmp_path / "camcorder.mts", "-f", "mpegts")
    with av.open(str(clip)) as c:
        assert c.start_time is not None and c.start_time / av.time_base > 1.3
    _same_timeline(clip, _renditions(clip, tmp_path, "video/mp2t"))
