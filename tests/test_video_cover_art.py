"""Cover art (an attached picture, as phones' and editors' MP4/M4A/MOV files carry) in every
job: kept as the cover of the faststart copy, never taken for the film nor made a 1-frame
video track. Clips made with ffmpeg, run through core.video.encode as the job subprocess does,
checked with ffprobe."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import av
import pytest

from core.video import encode

TAGS = {
    "title": "Semifinal, half 1",
    "comment": "camera 2",
    "creation_time": "2026-05-02T18:30:00.000000Z",
}


def _none(_: float) -> None:
    pass


def _ffmpeg(*args: str) -> None:
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args], check=True, timeout=60
    )


def _streams(path: Path) -> tuple[list[dict], dict[str, str]]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
        capture_output=True,
        check=True,
        timeout=60,
        text=True,
    ).stdout
    found = json.loads(out)
    return found["streams"], found["format"].get("tags", {})


def _is_cover(stream: dict) -> bool:
    return bool(stream.get("disposition", {}).get("attached_pic"))


@pytest.fixture(scope="module")
def cover(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cover") / "cover.jpg"
    _ffmpeg("-f", "lavfi", "-i", "color=red:s=96x64:d=1", "-frames:v", "1", str(path))
    return path


@pytest.fixture(scope="module")
def film(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2 s of 25 fps H.264 with B-frames and AAC, moov after mdat (no +faststart)."""
    path = tmp_path_factory.mktemp("film") / "film.mp4"
    _ffmpeg(
        *["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:d=2"],
        *["-f", "lavfi", "-i", "sine=f=440:d=2:r=48000"],
        *["-c:v", "libx264", "-preset", "ultrafast", "-bf", "2", "-c:a", "aac", str(path)],
    )
    return path


def _with_cover(film: Path, cover: Path, path: Path, *maps: str) -> Path:
    tags = [x for k, v in TAGS.items() for x in ("-metadata", f"{k}={v}")]
    _ffmpeg("-i", str(film), "-i", str(cover), *maps, "-c", "copy", *tags, str(path))
    return path


def test_faststart_copy_keeps_the_cover_and_the_tags(
    film: Path, cover: Path, tmp_path: Path
) -> None:
    """The cover was dropped from the faststart copy (its packet has no timestamp and was
    skipped), and the title, comment and creation time with it: the copy is what browsers
    and the download serve in place of the original."""
    clip = _with_cover(
        film,
        cover,
        tmp_path / "phone.mp4",
        *["-map", "0", "-map", "1", "-disposition:v:1", "attached_pic"],
    )
    streams, tags = _streams(clip)
    assert [_is_cover(s) for s in streams] == [False, False, True] and encode.moov_after_mdat(clip)
    out = tmp_path / "out"
    out.mkdir()
    encode.faststart(clip, out, "video/mp4", _none)
    copy = out / "faststart.mp4"
    assert not encode.moov_after_mdat(copy)
    made, made_tags = _streams(copy)
    assert [(s["codec_type"], s["codec_name"], _is_cover(s)) for s in made] == [
        ("video", "h264", False),
        ("audio", "aac", False),
        ("video", "mjpeg", True),
    ]
    with av.open(str(clip)) as a, av.open(str(copy)) as b:
        pictures = [bytes(p) for c in (a, b) for p in c.demux(c.streams[2]) if p.size]
    assert len(pictures) == 2 and pictures[0] == pictures[1]
    for key, value in TAGS.items():
        assert made_tags.get(key) == value, (key, made_tags)
    assert made_tags.get("major_brand") == "isom"  # the muxer's own, not the original's copied


def test_a_mov_faststart_copy_leaves_a_cover_it_cannot_hold(
    film: Path, cover: Path, tmp_path: Path
) -> None:
    """A QuickTime file has no place for a cover: the copy is made without it (no 1-frame
    video track in its place), the film and its tags intact."""
    clip = _with_cover(
        film,
        cover,
        tmp_path / "edited.mp4",
        *["-map", "0", "-map", "1", "-disposition:v:1", "attached_pic"],
    )
    out = tmp_path / "out"
    out.mkdir()
    encode.faststart(clip, out, "video/quicktime", _none)
    made, made_tags = _streams(out / "faststart.mov")
    assert [(s["codec_type"], s["codec_name"]) for s in made] == [
        ("video", "h264"),
        ("audio", "aac"),
    ]
    assert made_tags.get("title") == TAGS["title"]


def test_renditions_are_made_of_the_film_not_its_cover(
    film: Path, cover: Path, tmp_path: Path
) -> None:
    """The web copy, the HLS ladder and the scrub sprite take the film, whichever track comes
    first: a Matroska holds a cover as a still picture's video track, ahead of the film's."""
    clip = tmp_path / "cover_first.mkv"
    _ffmpeg("-i", str(cover), "-i", str(film), "-map", "0", "-map", "1", "-c", "copy", str(clip))
    with av.open(str(clip)) as c:
        assert [s.codec_context.name for s in c.streams.video] == ["mjpeg", "h264"]
    p = encode.probe(clip)
    assert (p.video_codec, p.width, p.height) == ("h264", 320, 240), p
    encode.web_rendition(clip, tmp_path, "video/x-matroska", _none)
    encode.hls_ladder(clip, tmp_path / "hls", [120], 1, _none)
    sprite = encode.scrub_thumbnails(clip, tmp_path, _none)
    assert sprite["count"] == 2 and (sprite["width"], sprite["height"]) == (160, 120)
    for made in (tmp_path / "web.mp4", tmp_path / "hls" / "120" / "index.m3u8"):
        with av.open(str(made)) as c:
            assert len(c.streams.video) == 1
            assert sum(1 for _ in c.decode(c.streams.video[0])) == 50, made


def test_sound_with_a_cover_is_audio_only(cover: Path, tmp_path: Path) -> None:
    """An M4A-like MP4 of sound and its cover: the cover was taken for the video, and the web
    copy and the ladder made a 1-frame video of it that players chose over the sound."""
    sound = tmp_path / "voice.m4a"
    _ffmpeg("-f", "lavfi", "-i", "sine=f=440:d=2:r=48000", "-c:a", "aac", str(sound))
    clip = tmp_path / "voice_note.mp4"
    _ffmpeg(
        *["-i", str(sound), "-i", str(cover), "-map", "0", "-map", "1", "-c", "copy"],
        *["-disposition:v:0", "attached_pic", str(clip)],
    )
    streams, _ = _streams(clip)
    assert [_is_cover(s) for s in streams] == [False, True]
    assert encode.probe(clip).video_codec is None
    for job in (
        lambda: encode.web_rendition(clip, tmp_path, "video/mp4", _none),
        lambda: encode.hls_ladder(clip, tmp_path / "hls", [120], 1, _none),
        lambda: encode.scrub_thumbnails(clip, tmp_path, _none),
        lambda: encode.faststart(clip, tmp_path, "video/mp4", _none),
    ):
        with pytest.raises(encode.NothingToDo) as skipped:
            job()
        assert skipped.value.reason in ("audio_only", "already_fast_start")
    assert not (tmp_path / "web.mp4").exists() and not (tmp_path / "hls").exists()
