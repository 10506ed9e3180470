"""The encodes keep what the source shows: its display aspect (anamorphic pixels), its A/V
timing, its tracks and its pictures (interlaced fields). Each test makes a tiny clip and runs
core.video.encode directly, as the job subprocess does."""

from __future__ import annotations

import hashlib
import io
import re
import subprocess
from fractions import Fraction
from pathlib import Path

import av
from av.video.reformatter import Colorspace
from PIL import Image

from core.mediatypes import BY_MIME
from core.thumbnails import make_thumbnail
from core.video import encode
from tests import media
from tests.video_helpers import ffmpeg_clip, no_progress


def _anamorphic(path: Path, fmt: str, codec: str, rotation: int = 0) -> Path:
    """180x144 stored pixels that are 64:45 wide (a DVD's 16:9): shown 256x144."""
    with av.open(str(path), "w", format=fmt) as out:
        video = out.add_stream(codec, rate=12)
        assert isinstance(video, av.VideoStream)
        video.width, video.height, video.pix_fmt = 180, 144, "yuv420p"
        video.codec_context.sample_aspect_ratio = Fraction(64, 45)
        if rotation:
            video.set_display_rotation(-rotation)  # PyAV counts counter-clockwise
        for i in range(12):
            frame = av.VideoFrame.from_image(media._picture((180, 144), step=i))
            frame.pts = i
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
    return path


def _shown(path: Path) -> tuple[int, int, float]:
    """Stored width and height of the first video stream and the aspect it is shown at."""
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        sar = s.sample_aspect_ratio or s.codec_context.sample_aspect_ratio or Fraction(1)
        return s.width, s.height, s.width * float(sar) / s.height


def test_anamorphic_video_keeps_its_display_aspect_everywhere(tmp_path: Path) -> None:
    for name, fmt, codec, rotation, aspect in (
        ("dvd.avi", "avi", "mpeg4", 0, 16 / 9),
        ("phone.mp4", "mp4", "libx264", 90, 9 / 16),
    ):
        clip = _anamorphic(tmp_path / name, fmt, codec, rotation)
        p = encode.probe(clip)
        assert (p.width, p.height) == ((256, 144) if rotation == 0 else (144, 256)), name
        out = tmp_path / f"out-{name}"
        out.mkdir()
        web = encode.web_rendition(clip, out, "video/x-msvideo", no_progress)
        width, height, shown = _shown(out / "web.mp4")
        assert abs(shown - aspect) / aspect < 0.03, (name, width, height, shown)
        assert (web["width"], web["height"]) == (width, height)
        assert width * 9 == height * 16 if rotation == 0 else width * 16 == height * 9
        hls = encode.hls_ladder(clip, out / "hls", [120], 1, no_progress)
        (variant,) = hls["variants"]
        width, height, shown = _shown(out / "hls" / "120" / "seg_00000.ts")
        assert abs(shown - aspect) / aspect < 0.03, (name, width, height, shown)
        assert (variant["width"], variant["height"]) == (width, height)
        sprite = encode.scrub_thumbnails(clip, out, no_progress)
        assert abs(sprite["width"] / sprite["height"] - aspect) / aspect < 0.03, (name, sprite)
        poster = Image.open(io.BytesIO(make_thumbnail(clip, BY_MIME["video/mp4"])))
        assert abs(poster.width / poster.height - aspect) / aspect < 0.03, (name, poster.size)


def _late_audio(path: Path) -> Path:
    """2 s of video from 0 and a tone from 0.512 s to 1.024 s and again from 1.536 s to
    2.048 s: a sound track that starts late (an edit list) and has a hole in the middle."""
    rate, piece = 48000, 24576  # whole AAC frames, so the encoder keeps the timestamps given
    with av.open(str(path), "w", format="mp4") as out:
        video = out.add_stream("libx264", rate=12)
        assert isinstance(video, av.VideoStream)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        sound = out.add_stream("aac", rate=rate)
        assert isinstance(sound, av.AudioStream)
        sound.layout = "mono"
        for i in range(24):
            frame = av.VideoFrame.from_image(media._picture((64, 48), step=i))
            frame.pts = i
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        for start in (piece, 3 * piece):
            for done in range(0, piece, 1024):
                chunk = av.AudioFrame(format="s16", layout="mono", samples=1024)
                chunk.planes[0].update(media._tone(1024))
                chunk.sample_rate, chunk.time_base = rate, Fraction(1, rate)
                chunk.pts = start + done
                out.mux(sound.encode(chunk))
        out.mux(sound.encode(None))
    return path


def _audio_span(path: Path) -> tuple[float, float]:
    """Where the sound starts and ends, in seconds after the first picture."""
    with av.open(str(path)) as c:
        first_picture = next(
            float(f.time) for f in c.decode(c.streams.video[0]) if f.time is not None
        )
    with av.open(str(path)) as c:
        times = [
            (float(f.time), f.samples / f.sample_rate)
            for f in c.decode(c.streams.audio[0])
            if f.time is not None
        ]
    return times[0][0] - first_picture, sum(times[-1]) - first_picture


def test_audio_that_starts_late_or_pauses_stays_in_sync(tmp_path: Path) -> None:
    clip = _late_audio(tmp_path / "late.mp4")
    source_start, source_end = _audio_span(clip)
    # (the encoder's priming, a frame of 1024 samples, is decoded as sound before 0.512)
    assert abs(source_start - 0.512) < 0.03 and abs(source_end - 2.048) < 0.03
    encode.web_rendition(clip, tmp_path, "video/x-msvideo", no_progress)
    encode.hls_ladder(clip, tmp_path / "hls", [48], 1, no_progress)
    for made in (tmp_path / "web.mp4", tmp_path / "hls" / "48" / "index.m3u8"):
        start, end = _audio_span(made)
        # as in the source, within the re-encode's own priming frame (21 ms)
        assert abs(start - source_start) < 0.03, (made.name, start, source_start)
        assert abs(end - source_end) < 0.03, (made.name, end, source_end)


def _tracks(path: Path) -> list[tuple[str, str, str, bool, int, str]]:
    """Each audio-visual track: kind, codec, language, default, and its packets' count and
    digest (a remux keeps the same packets)."""
    found = []
    with av.open(str(path)) as c:
        for stream in c.streams:
            if stream.type not in ("video", "audio", "subtitle"):
                continue
            with av.open(str(path)) as again:
                packets = [bytes(p) for p in again.demux(again.streams[stream.index]) if p.size]
            found.append(
                (
                    stream.type,
                    stream.codec_context.name,
                    stream.metadata.get("language", ""),
                    bool(stream.disposition & av.stream.Disposition.default),
                    len(packets),
                    hashlib.sha256(b"".join(packets)).hexdigest(),
                )
            )
    return found


def test_faststart_copy_keeps_every_track_the_container_holds(tmp_path: Path) -> None:
    """Two languages of sound, mov_text subtitles, and a timecode (data) track the copy
    cannot carry as such: the copy has every audio-visual track, tagged as before."""
    subs = tmp_path / "subs.srt"
    subs.write_text("1\n00:00:00,000 --> 00:00:00,800\nHola\n")
    clip = tmp_path / "multi.mp4"
    lavfi = ["-f", "lavfi", "-i"]
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y"]
        + [*lavfi, "testsrc=size=64x48:rate=12:d=1", *lavfi, "sine=f=440:d=1"]
        + [*lavfi, "sine=f=880:d=1", "-i", str(subs)]
        + ["-map", "0", "-map", "1", "-map", "2", "-map", "3"]
        + ["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-c:s", "mov_text"]
        + ["-metadata:s:a:0", "language=eng", "-metadata:s:a:1", "language=spa"]
        + ["-metadata:s:s:0", "language=spa", "-timecode", "00:00:10:00", str(clip)],
        check=True,
        timeout=60,
    )
    assert encode.moov_after_mdat(clip)
    with av.open(str(clip)) as c:
        assert [s.type for s in c.streams] == ["video", "audio", "audio", "subtitle", "data"]
    out = tmp_path / "out"
    out.mkdir()
    encode.faststart(clip, out, "video/mp4", no_progress)
    copy = out / "faststart.mp4"
    assert not encode.moov_after_mdat(copy)
    assert _tracks(copy) == _tracks(clip)


def _combed_and_whole(path: Path) -> tuple[int, int]:
    """Frames FFmpeg's idet filter finds interlaced (either field first), and progressive."""
    err = subprocess.run(
        ["ffmpeg", "-hide_banner", "-i", str(path), "-vf", "idet", "-f", "null", "-"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stderr
    found = re.search(r"Multi frame detection: TFF:\s*(\d+) BFF:\s*(\d+) Progressive:\s*(\d+)", err)
    assert found, err
    tff, bff, progressive = map(int, found.groups())
    return tff + bff, progressive


def test_interlaced_video_is_deinterlaced_and_progressive_is_not(tmp_path: Path) -> None:
    """A 25i clip (top field first, as a 1080i camcorder's) comes out as whole frames in the
    web rendition and the HLS rung; a progressive clip is not touched."""
    moving = ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=50:d=1.2"]
    clip = ffmpeg_clip(
        tmp_path / "i25.mp4",
        *moving,
        *["-vf", "interlace=scan=tff", "-c:v", "libx264", "-preset", "ultrafast"],
        *["-flags", "+ildct+ilme", "-x264-params", "tff=1", "-pix_fmt", "yuv420p"],
    )
    combed, whole = _combed_and_whole(clip)
    assert combed > whole  # the clip is what it should be
    assert encode.probe(clip).interlaced
    encode.web_rendition(clip, tmp_path, "video/x-msvideo", no_progress)
    encode.hls_ladder(clip, tmp_path / "hls", [240], 1, no_progress)
    for made in (tmp_path / "web.mp4", tmp_path / "hls" / "240" / "index.m3u8"):
        combed, whole = _combed_and_whole(made)
        assert whole > combed, (made.name, combed, whole)
        with av.open(str(made)) as c:
            frames = sum(1 for _ in c.decode(c.streams.video[0]))
        assert frames == 30, (made.name, frames)  # every frame, the last one too
    progressive = media.make_mp4(tmp_path / "p.mp4", seconds=1, size=(64, 48), audio=False)
    assert not encode.probe(progressive).interlaced


def test_bt2020_hlg_video_comes_out_as_bt709_colours_tagged(tmp_path: Path) -> None:
    """A phone's 10-bit HLG clip (BT.2020 primaries and matrix): its numbers, shown as BT.709
    by every player of an 8-bit H.264, came out washed out (the yellow bar 38 levels off)."""
    bars = "smptebars=size=320x180"
    clip = ffmpeg_clip(
        tmp_path / "hlg.mov",
        *["-f", "lavfi", "-i", f"{bars}:rate=12:d=0.5"],
        *["-vf", "colorspace=all=bt2020:iall=bt709:format=yuv420p10"],
        *["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=none"],
        *["-pix_fmt", "yuv420p10le", "-color_primaries", "bt2020"],
        *["-color_trc", "arib-std-b67", "-colorspace", "bt2020nc", "-tag:v", "hvc1"],
    )
    with av.open(bars, format="lavfi") as c:
        truth = next(c.decode(c.streams.video[0])).to_image(src_colorspace=Colorspace.ITU709)
    encode.web_rendition(clip, tmp_path, "video/quicktime", no_progress)
    encode.hls_ladder(clip, tmp_path / "hls", [90, 180], 1, no_progress)  # 90: through scale
    encode.scrub_thumbnails(clip, tmp_path, no_progress)
    shown = {}
    hls = tmp_path / "hls"
    for made in (tmp_path / "web.mp4", hls / "180" / "index.m3u8", hls / "90" / "index.m3u8"):
        with av.open(str(made)) as c:
            frame = next(c.decode(c.streams.video[0]))
        assert frame.format.name == "yuv420p"
        tags = (frame.color_primaries, frame.color_trc, frame.colorspace)
        assert tags == (encode.BT709,) * 3, (made.name, tags)
        shown[str(made.relative_to(tmp_path))] = frame.to_image(
            src_colorspace=Colorspace.ITU709, width=truth.width, height=truth.height
        )
    shown["sprite"] = Image.open(tmp_path / "sprite.jpg").convert("RGB").resize(truth.size)
    for i in range(7):  # the middle of each bar
        spot = (int(truth.width * (i + 0.5) / 7), truth.height // 4)
        want = truth.getpixel(spot)
        for name, image in shown.items():
            got = image.getpixel(spot)
            assert max(abs(a - b) for a, b in zip(want, got, strict=True)) <= 8, (
                name,
                spot,
                want,
                got,
            )


def test_sound_longer_than_the_pictures_is_not_a_partial_decode(tmp_path: Path) -> None:
    """An AVI whose sound runs on after its last picture (1.5 s of video, 3 s of sound; the
    tester's clip with late audio was one): the whole video decodes, so the jobs succeed.
    They failed as 'Only 1.5 s of 3.0 s could be decoded', measured against the sound's end."""
    clip = ffmpeg_clip(
        tmp_path / "long_sound.avi",
        *["-f", "lavfi", "-i", "testsrc=size=64x48:rate=12:d=1.5"],
        *["-f", "lavfi", "-i", "sine=d=3", "-c:v", "mpeg4", "-c:a", "libmp3lame"],
    )
    assert encode.probe(clip).duration > 2.9
    encode.web_rendition(clip, tmp_path, "video/x-msvideo", no_progress)
    encode.scrub_thumbnails(clip, tmp_path, no_progress)
    with av.open(str(tmp_path / "web.mp4")) as c:
        assert [s.type for s in c.streams] == ["video", "audio"]
        assert sum(1 for _ in c.decode(c.streams.video[0])) == 18


def test_a_low_frame_rate_clip_is_decoded_to_its_end(tmp_path: Path) -> None:
    """A 2 fps, 3 s clip (a slideshow, a time-lapse): its last picture starts at 2.5 s and is
    shown until 3 s. Its web copy, HLS and scrub track failed for good as 'Only 2.5 s of 3.0 s
    could be decoded (0 damaged packets)', the last picture's start taken for the decode's end."""
    clip = ffmpeg_clip(
        tmp_path / "slides.avi",
        *["-f", "lavfi", "-i", "testsrc=size=64x48:rate=2:d=3", "-c:v", "mpeg4"],
    )
    assert encode.probe(clip).duration > 2.9
    encode.web_rendition(clip, tmp_path, "video/x-msvideo", no_progress)
    encode.hls_ladder(clip, tmp_path / "hls", [48], 2, no_progress)
    encode.scrub_thumbnails(clip, tmp_path, no_progress)
    with av.open(str(tmp_path / "web.mp4")) as c:
        assert sum(1 for _ in c.decode(c.streams.video[0])) == 6


def test_of_two_cameras_the_enabled_one_is_the_video(tmp_path: Path) -> None:
    """An MP4 of two video tracks whose second is the enabled (default) one, as Chromium plays
    it from the original: its HLS, poster and details were the first track's (another picture,
    another size). With none flagged default, the first, as players take it."""
    from core.metadata import video_metadata

    for name, default in (("two_cams.mp4", "default"), ("none.mkv", "0")):
        clip = ffmpeg_clip(
            tmp_path / name,
            *["-f", "lavfi", "-i", "testsrc2=s=64x48:r=10:d=1"],
            *["-f", "lavfi", "-i", "testsrc2=s=96x54:r=10:d=1"],
            *["-map", "0", "-map", "1", "-c:v", "libx264", "-pix_fmt", "yuv420p"],
            *["-disposition:v:0", "0", "-disposition:v:1", default],
        )
        want = (96, 54) if default == "default" else (64, 48)
        p = encode.probe(clip)
        assert (p.width, p.height) == want, name
        meta = video_metadata(clip)
        assert (meta["width"], meta["height"]) == want, name
        out = tmp_path / f"hls-{name}"
        encode.hls_ladder(clip, out, [want[1]], 1, no_progress)
        assert _shown(out / str(want[1]) / "seg_00000.ts")[:2] == want, name
        poster = Image.open(io.BytesIO(make_thumbnail(clip, BY_MIME["video/mp4"])))
        assert poster.width * want[1] == poster.height * want[0], (name, poster.size)


def test_an_odd_sized_video_is_never_enlarged(tmp_path: Path) -> None:
    """A 63x47 picture (an odd size, as a cropped export or a 853x479 screen capture): its web
    copy and its one HLS rung were made 64x48, a pixel larger each way, though renditions are
    never upscaled; they are 62x46 now, the even size within it."""
    clip = ffmpeg_clip(
        tmp_path / "odd.mp4",
        *["-f", "lavfi", "-i", "testsrc2=s=64x48:r=10:d=1"],
        *["-vf", "format=yuv444p,crop=63:47,setsar=1"],
        *["-c:v", "libx264", "-pix_fmt", "yuv444p"],
    )
    p = encode.probe(clip)
    assert (p.width, p.height) == (63, 47)
    web = encode.web_rendition(clip, tmp_path, "video/mp4", no_progress)
    assert (web["width"], web["height"]) == (62, 46)
    assert _shown(tmp_path / "web.mp4")[:2] == (62, 46)
    hls = encode.hls_ladder(clip, tmp_path / "hls", [360], 1, no_progress)
    assert [(v["width"], v["height"]) for v in hls["variants"]] == [(62, 46)]
