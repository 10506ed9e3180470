"""The master playlist's BANDWIDTH is RFC 8216's peak segment bit rate (section 4.3.4.2: the
largest rate of any run of consecutive segments lasting 0.5-1.5 times the target duration),
measured on the real segments. It was each segment's own bytes / duration, so a last segment of
one keyframe in 40 ms (sound running on past the last picture) said 2-5x the real peak and more
than the rung's cap (360p 1 Mb/s). Such a tail is now kept in the segment before. Each test
makes a clip with ffmpeg and runs core.video.encode.hls_ladder, as the job subprocess does."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from core.video import encode
from tests.video_helpers import ffmpeg_clip, no_progress

CAP_360 = 1_000_000  # README: ladder rungs are capped (360p 1 Mb/s)


def _rung(folder: Path) -> tuple[list[float], list[int], int]:
    """Durations, sizes in bits and target duration of a variant playlist's segments."""
    text = (folder / "index.m3u8").read_text()
    durations = [float(d) for d in re.findall(r"#EXTINF:([\d.]+),", text)]
    names = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    bits = [(folder / name).stat().st_size * 8 for name in names]
    target = re.search(r"#EXT-X-TARGETDURATION:(\d+)", text)
    assert target, text
    return durations, bits, int(target.group(1))


def _rfc_peak(durations: list[float], bits: list[int], target: int) -> float:
    """Every run of consecutive segments lasting 0.5-1.5 x the target, as the RFC says."""
    rates = [
        sum(bits[a : b + 1]) / sum(durations[a : b + 1])
        for a in range(len(durations))
        for b in range(a, len(durations))
        if 0.5 * target <= sum(durations[a : b + 1]) <= 1.5 * target
    ]
    assert rates, durations
    return max(rates)


def _bandwidth(hls: Path) -> tuple[int, int]:
    (line,) = [x for x in (hls / "master.m3u8").read_text().splitlines() if "STREAM-INF" in x]
    found = re.search(r"BANDWIDTH=(\d+),AVERAGE-BANDWIDTH=(\d+)", line)
    assert found, line
    return int(found.group(1)), int(found.group(2))


SOUND_PAST_THE_PICTURES = {
    # the tester's clip: MPEG-4 Part 2 + MP3 in AVI, 8 s; the last picture at 8.0 s (the AVI
    # has an empty frame), the sound 46 ms longer: the last segment was that one picture
    "avi_last_picture_on_a_segment_start": (
        "clip.avi",
        ["-f", "lavfi", "-i", "testsrc=size=640x480:rate=25"],
        ["-f", "lavfi", "-i", "sine=f=440", "-t", "8", "-c:v", "mpeg4", "-q:v", "5"],
        ["-c:a", "libmp3lame"],
    ),
    # pictures to 8.0 s, sound to 8.1 s: the last picture held across the 8 s segment start
    "held_picture_crosses_a_segment_start": (
        "clip.mp4",
        ["-f", "lavfi", "-i", "testsrc=size=640x480:rate=25:d=8"],
        ["-f", "lavfi", "-i", "sine=f=440:sample_rate=48000:d=8.1"],
        ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"],
    ),
}


@pytest.mark.parametrize("case", sorted(SOUND_PAST_THE_PICTURES))
def test_sound_just_past_the_pictures_makes_no_sliver_nor_inflated_bandwidth(
    tmp_path: Path, case: str
) -> None:
    name, *args = SOUND_PAST_THE_PICTURES[case]
    clip = ffmpeg_clip(tmp_path / name, *[a for part in args for a in part])
    result = encode.hls_ladder(clip, tmp_path / "hls", [360], 4, no_progress)
    durations, bits, target = _rung(tmp_path / "hls" / "360")
    # the tail stays in the last full segment, whose EXTINF still rounds to the target
    assert len(durations) == 2 and min(durations) > 3.9 and target == 4, durations
    # the playlist still covers every picture and the sound (before: [4, 4, 0.04])
    assert sum(durations) >= 8.0, durations
    bandwidth, average = _bandwidth(tmp_path / "hls")
    assert bandwidth == result["variants"][0]["bandwidth"]
    peak = _rfc_peak(durations, bits, target)
    assert peak <= bandwidth <= peak + 1, (bandwidth, peak, durations, bits)
    assert bandwidth <= CAP_360 and average <= bandwidth


def test_a_short_last_segment_counts_with_the_one_before(tmp_path: Path) -> None:
    """A tail of a few pictures (4.12 s at 25 fps with 2 s segments: [2, 2, 0.12]) is still a
    segment of its own, a keyframe in 120 ms. BANDWIDTH counts it within a run that lasts
    long enough, as the RFC says: its own rate alone overstated the peak."""
    clip = ffmpeg_clip(
        tmp_path / "tail.mp4",
        *["-f", "lavfi", "-i", "testsrc=size=640x480:rate=25:d=4.12"],
        *["-f", "lavfi", "-i", "sine=f=440:sample_rate=48000:d=4.12"],
        *["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"],
    )
    encode.hls_ladder(clip, tmp_path / "hls", [360], 2, no_progress)
    durations, bits, target = _rung(tmp_path / "hls" / "360")
    assert len(durations) == 3 and durations[-1] < 0.5 and target == 2, durations
    assert abs(sum(durations) - 4.12) < 0.002, durations
    bandwidth, average = _bandwidth(tmp_path / "hls")
    peak = _rfc_peak(durations, bits, target)
    assert peak <= bandwidth <= peak + 1, (bandwidth, peak, durations, bits)
    sliver = bits[-1] / durations[-1]
    assert bandwidth < sliver, (bandwidth, sliver)  # the sliver's own rate is not the peak
    assert abs(average - sum(bits) / sum(durations)) <= 1


def test_peak_bit_rate_follows_rfc_8216_runs() -> None:
    """The rule's edges, on figures: a sliver alone never counts; a segment longer than 1.5x
    the target (a muxer's own count) keeps its rate; a clip shorter than half the target is
    one run."""
    sliver = encode.peak_bit_rate([8_000_000, 8_000_000, 400_000], [4.0, 4.0, 0.04], 4)
    assert sliver == math.ceil(8_400_000 / 4.04)  # not 10 Mb/s, the sliver's own
    assert encode.peak_bit_rate([8_000_000, 40_000_000], [4.0, 8.0], 4) == 5_000_000
    assert encode.peak_bit_rate([100_000, 200_000], [0.2, 0.2], 4) == 750_000
    assert encode.peak_bit_rate([], [], 4) == 0
