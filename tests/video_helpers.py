"""Helpers of the video pipeline tests: a processed library and the clips they need."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import av

from core.jobs import JobRecord
from core.library import Library
from core.video.worker import VideoWorker
from tests import media

TEST_LADDER = "120,240"  # keeps encodes fast; the rules are the same as 360/720/1080


def no_progress(_: float) -> None:
    """The progress callback of core.video.encode's functions, for a test that reads none."""


def ffmpeg_clip(path: Path, *args: str) -> Path:
    """`path` written by the ffmpeg command line with `args` (its inputs and options)."""
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args, str(path)],
        check=True,
        timeout=60,
    )
    return path


def process_all(lib: Library, limit: int = 100) -> list[JobRecord]:
    """Runs every queued job through a real worker (each encode in its subprocess)."""
    # nice 0: on a busy test machine a niced encode would wait behind everything else
    worker = VideoWorker(lib, name="test-worker", nice=0)
    done = []
    for _ in range(limit):
        job = worker.run_once()
        if job is None:
            break
        done.append(job)
    return done


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def make_hevc_mov(path: Path, seconds: float = 2, size: tuple[int, int] = (320, 240)) -> Path:
    """HEVC (libx265) + AAC in a QuickTime file, like a phone's clip."""
    fps = 24
    with av.open(str(path), "w", format="mov") as out:
        video = out.add_stream("libx265", rate=fps)
        video.width, video.height = size
        video.pix_fmt = "yuv420p"
        video.options = {"preset": "ultrafast", "x265-params": "log-level=none"}
        for i in range(int(seconds * fps)):
            frame = av.VideoFrame.from_image(media._picture(size, step=i))
            frame.pts = i
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
    return Path(path)


def hevc_encoder_available() -> bool:
    try:
        av.codec.Codec("libx265", "w")
        return True
    except Exception:
        return False


def make_audio_only_mp4(path: Path, seconds: float = 1.0) -> Path:
    """An MP4 holding only an AAC track."""
    from fractions import Fraction

    rate = 48000
    with av.open(str(path), "w", format="mp4") as out:
        sound = out.add_stream("aac", rate=rate)
        sound.layout = "mono"
        total, done = int(seconds * rate), 0
        while done < total:
            n = min(1024, total - done)
            chunk = av.AudioFrame(format="s16", layout="mono", samples=n)
            chunk.planes[0].update(media._tone(n))
            chunk.sample_rate, chunk.pts, chunk.time_base = rate, done, Fraction(1, rate)
            out.mux(sound.encode(chunk))
            done += n
        out.mux(sound.encode(None))
    return Path(path)


def corrupt_middle(path: Path, start: float = 0.3, end: float = 0.95) -> None:
    """Overwrites most of the file's body with noise: it decodes only partly."""
    data = bytearray(Path(path).read_bytes())
    a, b = int(len(data) * start), int(len(data) * end)
    data[a:b] = bytes((i * 131 + 7) % 256 for i in range(b - a))
    Path(path).write_bytes(bytes(data))


_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl"}
# sample tables whose entry count (after version and flags) says how many samples a track has
_COUNTED = {b"stts": 4, b"stsc": 4, b"stco": 4, b"stss": 4, b"ctts": 4, b"stsz": 8}


def make_zero_frame_mp4(path: Path) -> Path:
    """An MP4 (moov after mdat) whose H.264 track says its size and codec but holds no sample,
    as a recorder that stopped before its first frame leaves it: `make_mp4`'s with the video
    track's sample tables emptied (their entry counts set to 0; the audio track kept)."""
    media.make_mp4(path, seconds=1, faststart=False)
    data = bytearray(path.read_bytes())

    def walk(start: int, end: int, in_video: bool) -> None:
        at = start
        while at + 8 <= end:
            size = int.from_bytes(data[at : at + 4], "big")
            kind = bytes(data[at + 4 : at + 8])
            if size < 8:
                return
            if kind == b"trak":
                in_video = b"vide" in data[at : at + size]
            if kind in _CONTAINERS:
                walk(at + 8, at + size, in_video)
            elif in_video and kind in _COUNTED:
                field = at + 8 + _COUNTED[kind]
                data[field : field + 4] = b"\0\0\0\0"
            at += size

    walk(0, len(data), False)
    path.write_bytes(bytes(data))
    return path
