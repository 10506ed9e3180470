"""The PyAV work of each job kind: faststart remux, web rendition, HLS ladder, scrub sprite.

Runs inside the job subprocess (core.video.runner); every function writes only into `out_dir`
and returns a JSON-able result naming the files it made. Settings mirror what one would pass to
the ffmpeg CLI (bench/transcode.py runs both): libx264 `veryfast` CRF 23, High profile,
yuv420p, AAC 128 kb/s, closed GOPs of exactly one segment for the ladder.
"""

from __future__ import annotations

import functools
import logging
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.filter
from av.video.reformatter import Colorspace

from core.video import played_track, tonemap
from core.video.failures import JobFailure

logger = logging.getLogger(__name__)

Progress = Callable[[float], None]

WEB_VIDEO_CODECS = {"h264", "vp8", "vp9", "av1"}
WEB_AUDIO_CODECS = {"aac", "mp3", "opus", "vorbis"}
WEB_PIX_FMTS = {"yuv420p", "yuvj420p"}  # 10-bit or 4:2:2 H.264 does not play in browsers
WEB_CONTENT_TYPES = {"video/mp4", "video/webm"}
WEB_MAX_SHORT_SIDE = 1080
X264 = {"preset": "veryfast", "crf": "23", "profile": "high"}
AUDIO_BIT_RATE = 128_000
RUNG_MAX_RATE = {360: 1_000_000, 480: 1_600_000, 720: 3_000_000, 1080: 6_000_000}
THUMB_WIDTH = 160
THUMB_COLUMNS = 10
THUMB_MAX_COUNT = 100
# A gap in the sound longer than this (s) is kept as silence; shorter jitter is not heard as
# out of sync (under a frame at 25 fps) and keeps the encoder's clock sample-exact.
AUDIO_GAP_TOLERANCE = 0.04
# A tail (the last picture, or it held for the sound) running past a segment's start by less
# than this (s) stays in the segment before: RFC 8216 rounds EXTINF to the nearest second, so
# the target duration is unchanged.
HOLD_FOLD_SECONDS = Fraction(1, 2)
# FFmpeg's AVColorPrimaries / AVColorTransferCharacteristic / AVColorSpace numbers
RGB, BT709, UNSPECIFIED, BT2020 = 0, 1, 2, 9
PQ = 16  # the transfer of HDR10/HDR10+ (SMPTE ST 2084): brightness up to 10,000 nits
LIMITED, FULL = 1, 2  # AVColorRange: MPEG (TV), JPEG (PC)
# The AVColorSpace matrices FFmpeg's scale filter converts to, by its names for them
_SCALE_MATRICES = {BT709: "bt709", 4: "fcc", 5: "bt470", 6: "smpte170m", 7: "smpte240m"}
BT2020_MATRICES = {9, 10}  # non-constant and constant luminance
COMPLETE_SHARE = 0.9  # a decode that stops before this share of the duration is a failure
# Pictures a damaged source loses in its middle (packets the decoder refused: the picture
# before stays on screen in their place) fail the job past this many seconds or this share of
# the duration, whichever is less, though never for a frame or two (a short clip's 3 %): the
# renditions would silently skip that part
LOST_MAX_SECONDS = 1.0
LOST_MAX_SHARE = 0.03
LOST_UNSEEN_SECONDS = 0.1
# The highest rate the outputs are delivered at, as Mux and Cloudflare Stream do: a phone's
# 120/240 fps slow motion keeps every 2nd/4th frame, so the H.264 level stays one players take
# (720p240 needs level 5.1) and the files stay small; slowed down, it is the original's job.
MAX_OUTPUT_FPS = 60
# A source rate above this is no real frame rate (a timestamp's tick): the average is used
_MAX_SOURCE_FPS = 1000
# Containers whose clock starts anywhere (a camcorder's MPEG-TS at 1.4 s, a DVD's program
# stream): players show them from their earliest timestamp, and the outputs start there at 0
_FREE_CLOCK_FORMATS = {"mpegts", "mpegtsraw", "mpeg", "mpegvideo"}
# A first segment of at most this many pictures (a 1 fps clip's 4 s) is made without B-frames.
# With them its decoding times are squeezed in after its first picture's
# (_decode_from_first_picture), and hls.js takes a segment's last picture's duration from the
# decoding times (a lone picture's from the segment before): a 5 s clip at 1 fps played 4.5 s.
_SQUEEZED_SEGMENT_PICTURES = 8
# MPEG-TS's clock (the HLS segments'): every timestamp in it counts these
TS_CLOCK = Fraction(1, 90000)
# Picture codecs a second video track is a still of (a cover, a thumbnail) rather than the film
_STILL_CODECS = {"mjpeg", "png", "bmp", "webp", "gif", "tiff"}


class BadMedia(JobFailure):
    """The input cannot be processed; retrying will not help (`undecodable_media` unless the
    raiser knows better)."""

    reason = "undecodable_media"


class NothingToDo(Exception):
    """The job does not apply to this input: `reason`, a stable code clients translate
    (JobRecord.result["reason"]), and the message in English for logs and the API."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason  # one of core.jobs.SKIP_REASONS (not imported: the runner is light)


@dataclass(frozen=True)
class Probe:
    video_codec: str | None
    audio_codec: str | None
    width: int  # as shown: upright (rotation applied), square pixels (sample aspect applied)
    height: int
    rotation: int  # clockwise degrees the picture must turn to stand upright
    duration: float
    fps: Fraction
    pix_fmt: str | None
    time_base: Fraction = Fraction(1, 90000)
    interlaced: bool = False  # frames hold two fields (1080i): deinterlaced before scaling
    # FFmpeg's numbers for the colour primaries, transfer and matrix (2: unspecified)
    colour: tuple[int, int, int] = (UNSPECIFIED, UNSPECIFIED, UNSPECIFIED)
    video_duration: float = 0.0  # the video track's own length (0: not known)
    # The highest rate the pictures come at (FFmpeg's r_frame_rate): a variable-rate source's
    # `fps` is its average (0: not known, `fps` stands in)
    max_fps: Fraction = Fraction(0)
    # The source time shown as 0 (s): the outputs' timestamps are the source's less this
    start: Fraction = Fraction(0)

    @property
    def picture_duration(self) -> float:
        """How long the pictures last: the sound may run on after the last one."""
        return self.video_duration or self.duration

    @property
    def wide_gamut(self) -> bool:
        """BT.2020 colours (a phone's 10-bit HDR/HLG or SDR clip): converted to BT.709."""
        primaries, _, matrix = self.colour
        return primaries == BT2020 or matrix in BT2020_MATRICES

    @property
    def pq(self) -> bool:
        """HDR10/HDR10+ (a phone's or an action camera's HDR): tone-mapped to SDR when it can be."""
        return self.colour[1] == PQ

    @property
    def made_bt709(self) -> bool:
        """Every picture made of the source is BT.709 (picture_fixes): converted from BT.2020,
        or tone-mapped from PQ."""
        return self.wide_gamut or (self.pq and tone_mapper() is not None)

    @property
    def short_side(self) -> int:
        return min(self.width, self.height)

    @property
    def output_fps(self) -> Fraction:
        """The rate the renditions are made at: the source's highest, or a whole fraction of it
        at most MAX_OUTPUT_FPS (240 -> 60, 100 -> 50), so the frames kept are evenly spaced."""
        top = self.max_fps or self.fps or Fraction(30)
        return top / math.ceil(top / MAX_OUTPUT_FPS)


def _is_cover(stream: Any) -> bool:
    """An attached picture (an MP4/M4A's cover art): one untimed packet, no video to play."""
    return bool(stream.disposition & av.stream.Disposition.attached_pic)


def main_video(container: Any) -> av.VideoStream | None:
    """The film's video track: not a cover (an MP4/M4A's attached picture, which FFmpeg gives
    as a video track of one packet) nor, when there is a real one too, a still picture's track
    (a Matroska's cover). Taken for the first video track, a cover became a 1-frame video.
    Of several, the one flagged default, as players show (core.video.played_track)."""
    tracks = [s for s in container.streams.video if not _is_cover(s)]
    moving = [s for s in tracks if codec_name(s) not in _STILL_CODECS]
    return played_track(
        moving or tracks, lambda s: bool(s.disposition & av.stream.Disposition.default)
    )


def main_audio(container: Any) -> av.AudioStream | None:
    """The sound players play (core.video.played_track): the copies play what the faststart
    copy and the original play."""
    return played_track(
        container.streams.audio, lambda s: bool(s.disposition & av.stream.Disposition.default)
    )


def _highest_rate(video: av.VideoStream, average: Fraction, interlaced: bool) -> Fraction:
    """The highest rate the pictures come at: FFmpeg's guess (the codec's rate where it
    distrusts the timestamps'), or the timestamps' own rate (r_frame_rate) when that is higher.
    A 30 fps clip joined to a 120 fps one says 30 in its SPS: the guess alone, below the
    average (74), gave way to the average, and the 120 fps part came out at an uneven 37 fps.
    Neither counts above _MAX_SOURCE_FPS (a timestamp's tick) or below the average; an
    interlaced source's timestamps may count fields, twice its frames (bwdif keeps one frame
    per frame)."""
    guessed = Fraction(video.guessed_rate or 0)
    base = Fraction(video.base_rate or 0)
    candidates = [guessed]
    if not (interlaced and base == 2 * guessed):
        candidates.append(base)
    plausible = [r for r in candidates if 0 < r <= _MAX_SOURCE_FPS and r >= average]
    return max(plausible, default=average)


def _start(container: Any, streams: list[Any]) -> Fraction:
    """The source time players show as 0: the earliest of `streams` in a container whose clock
    starts anywhere; 0 otherwise (an MP4's edit lists already say where its tracks start)."""
    if not _FREE_CLOCK_FORMATS & set(container.format.name.split(",")):
        return Fraction(0)
    starts = [
        s.start_time * s.time_base for s in streams if s.start_time is not None and s.time_base
    ]
    return Fraction(min(starts)) if starts else Fraction(0)


def probe(src: Path) -> Probe:
    try:
        with av.open(str(src)) as c:
            video = main_video(c)
            audio = main_audio(c)
            duration = float(c.duration / av.time_base) if c.duration else 0.0
            if video is None:
                return Probe(None, _codec(audio), 0, 0, 0, duration, Fraction(0), None)
            rotation = 0
            interlaced = video.codec_context.field_order > 1  # AV_FIELD_TT and the like
            for frame in c.decode(video):
                rotation = (-int(round(frame.rotation or 0))) % 360
                interlaced = interlaced or frame.interlaced_frame
                break
            w, h = shown_size(video)
            if rotation in (90, 270):
                w, h = h, w
            video_duration = 0.0
            if video.duration and video.time_base:
                video_duration = float(video.duration * video.time_base)
            if not duration and not video_duration:
                # a WebM written as a stream (a browser's MediaRecorder) says no length: its
                # packets' (taken for 0, the sprite had one tile and the renditions no rate)
                duration, video_duration = _packets_end(src, video.index)
            duration = duration or video_duration
            fps = Fraction(video.average_rate or video.guessed_rate or Fraction(25))
            top = _highest_rate(video, fps, bool(interlaced))
            return Probe(
                codec_name(video),
                _codec(audio),
                w,
                h,
                rotation,
                duration,
                Fraction(fps),
                video.codec_context.pix_fmt,
                Fraction(video.time_base or Fraction(1, 90000)),
                bool(interlaced),
                (
                    int(video.codec_context.color_primaries),
                    int(video.codec_context.color_trc),
                    int(video.codec_context.colorspace),
                ),
                video_duration,
                Fraction(top),
                _start(c, [video, *([audio] if audio is not None else [])]),
            )
    except av.error.FFmpegError as exc:
        if isinstance(exc, OSError):  # the file could not be read (EIO, EACCES): not its bytes
            raise
        # FFmpeg's message ends with the file's path on this server: the job's error is shown
        # to API clients, so it says only what went wrong
        raise BadMedia(f"The video cannot be read: {exc.strerror or type(exc).__name__}") from None


def _packets_end(src: Path, video_index: int) -> tuple[float, float]:
    """(the end of every track, of the video track) in seconds, from a demux of the packets:
    each one's time plus its duration, or its track's last gap between packets when it says
    none (a MediaRecorder's blocks do not)."""
    last: dict[int, tuple[Fraction | None, Fraction, Fraction]] = {}  # before, last, its end
    with av.open(str(src)) as c:
        for packet in c.demux():
            if packet.pts is None or packet.time_base is None:
                continue
            t = Fraction(packet.pts * packet.time_base)
            end = t + Fraction((packet.duration or 0) * packet.time_base)
            previous = last.get(packet.stream.index)
            before = previous[1] if previous is not None else None
            last[packet.stream.index] = (before, t, max(end, previous[2] if previous else end))
    ends = {}
    for index, (before, t, end) in last.items():
        ends[index] = max(end, t + (t - before if before is not None else 0))
    return float(max(ends.values(), default=0)), float(ends.get(video_index, 0))


def shown_size(video: av.VideoStream) -> tuple[int, int]:
    """The stored picture's size in square pixels: an anamorphic source (a DVD's 720x576 at
    64:45) is shown wider than it is stored (1024x576). The outputs are made at this size with
    square pixels, as Mux and Cloudflare Stream do, since not every player honours a sample
    aspect (scrub sprites and posters are plain images that have none)."""
    w, h = video.codec_context.width, video.codec_context.height
    # The container's aspect (an MP4's pasp box) first, as FFmpeg's players take it
    sar = video.sample_aspect_ratio or video.codec_context.sample_aspect_ratio
    if sar and sar > 0 and sar != 1:
        w = max(1, int(round(w * sar)))
    return w, h


def codec_name(stream: Any) -> str:
    """The codec of `stream` by FFmpeg's name for the format ("av1", "h264"): the one home of
    codec names compared or reported. `codec_context.name` is the decoder's, which for AV1 is
    "libdav1d": an AV1 MP4/WebM was taken for no web codec (an H.264 copy made for nothing)
    and its faststart copy failed."""
    return str(stream.codec_context.codec.canonical_name)


def _codec(stream: Any) -> str | None:
    return codec_name(stream) if stream is not None else None


def plays_in_browsers(p: Probe, content_type: str | None) -> bool:
    return (
        (content_type or "") in WEB_CONTENT_TYPES
        and p.video_codec in WEB_VIDEO_CODECS
        and (p.audio_codec is None or p.audio_codec in WEB_AUDIO_CODECS)
        and (p.video_codec != "h264" or p.pix_fmt in WEB_PIX_FMTS)
        # browsers show both fields woven (combing): the web copy is deinterlaced
        and not p.interlaced
    )


def _need_video(p: Probe) -> None:
    if p.video_codec is None:
        raise NothingToDo("The file has no video stream (audio only)", "audio_only")
    if p.width <= 0 or p.height <= 0:
        raise NothingToDo("The video stream has no picture size", "no_picture_size")


def no_video_frames() -> NothingToDo:
    """A video track without a frame (a 0-frame MP4): every job skips it, none is retried."""
    return NothingToDo("No video frame could be decoded (0-frame video)", "no_video_frames")


# ---- faststart ----------------------------------------------------------------------------
def moov_after_mdat(path: Path) -> bool:
    """True when an MP4/MOV's top-level `moov` box comes after its `mdat` box."""
    seen_mdat = False
    size = path.stat().st_size
    with path.open("rb") as f:
        pos = 0
        while pos + 8 <= size:
            f.seek(pos)
            header = f.read(16)
            box_size = int.from_bytes(header[:4], "big")
            kind = header[4:8]
            if box_size == 1:
                box_size = int.from_bytes(header[8:16], "big")
            elif box_size == 0:
                box_size = size - pos
            if kind == b"mdat":
                seen_mdat = True
            elif kind == b"moov":
                return seen_mdat
            if box_size < 8:
                return False
            pos += box_size
    return False


def faststart_skip_reason(src: Path, content_type: str | None) -> NothingToDo | None:
    """Why a file needs no faststart copy (None: it needs one). Reads a few box headers."""
    if content_type not in ("video/mp4", "video/quicktime"):
        return NothingToDo("Only MP4 and MOV files need a faststart copy", "not_mp4_or_mov")
    if not moov_after_mdat(src):
        return NothingToDo(
            "The original already starts fast (moov before mdat)", "already_fast_start"
        )
    return None


def faststart(
    src: Path, out_dir: Path, content_type: str | None, progress: Progress
) -> dict[str, Any]:
    skip = faststart_skip_reason(src, content_type)
    if skip is not None:
        raise skip
    p = probe(src)
    _need_video(p)
    ext = "mp4" if content_type == "video/mp4" else "mov"
    target = out_dir / f"faststart.{ext}"
    total = max(src.stat().st_size, 1)
    with av.open(str(src)) as inp:
        video = main_video(inp)
        out, pairs = _open_copy(inp, target, ext, keep_tags=True)
        if out is None:
            # a sample entry the muxer refuses as the original names it (an MP3 in a MOV's
            # `mp4a`): its own names for the codecs instead
            out, pairs = _open_copy(inp, target, ext, keep_tags=False)
        assert out is not None
        if video is None or video.index not in pairs:
            # never demuxed with no track (that reads every track: KeyError on the first
            # packet) nor with the sound alone (no frames: taken for a 0-frame video)
            out.close()
            target.unlink(missing_ok=True)
            name = codec_name(video) if video is not None else "none"
            raise BadMedia(f"The video track ({name}) cannot be copied into a new {ext.upper()}")
        with out:
            frames = _mux_copy(inp, out, pairs, progress, total)
    if not frames:
        # a track of no samples: the muxer wrote no file, and the job's upload of it failed as
        # the storage's fault (storage_unavailable), three times, then again on each retry
        target.unlink(missing_ok=True)
        raise no_video_frames()
    return {
        "files": [target.name],
        "content_type": content_type,
        "width": p.width,
        "height": p.height,
        "bit_rate": _rate(target, p.duration),
    }


def _open_copy(
    inp: Any, target: Path, ext: str, keep_tags: bool
) -> tuple[Any | None, dict[int, Any]]:
    """The faststart copy's container, its header written, and its track of each input track
    (_copy_tracks). None when `keep_tags` and the muxer refuses an input's codec tag."""
    out = av.open(str(target), "w", format=ext, options={"movflags": "+faststart"})
    try:
        pairs = _copy_tracks(inp, out, keep_tags)
        # The container's own tags (title, comment, creation time, an editor's), not those
        # the muxer writes of itself
        out.metadata.update({k: v for k, v in inp.metadata.items() if k not in _MUXER_TAGS})
        if pairs:
            out.start_encoding()
    except av.error.InvalidDataError:
        out.close()
        if not keep_tags:
            raise
        return None, {}
    except BaseException:
        out.close()
        raise
    return out, pairs


def _mux_copy(inp: Any, out: Any, pairs: dict[int, Any], progress: Progress, total: int) -> int:
    """Copies the packets of the tracks in `pairs` (never empty: demux() of no track reads
    them all); the video frames copied."""
    frames = 0
    for packet in inp.demux(*[inp.streams[i] for i in pairs]):
        if packet.dts is None and not (packet.size and _is_cover(packet.stream)):
            continue
        if packet.stream.type == "video" and not _is_cover(packet.stream):
            frames += 1
        packet.stream = pairs[packet.stream.index]
        out.mux(packet)
        if packet.pos and packet.pos > 0:
            progress(min(packet.pos / total, 0.99))
    return frames


# Tags the MP4/MOV muxer writes itself: copied, they would say the original's brand and tool
_MUXER_TAGS = {"major_brand", "minor_version", "compatible_brands", "encoder"}


def _copy_tracks(inp: Any, out: Any, keep_tags: bool = True) -> dict[int, Any]:
    """The output stream of each input track the container holds, tagged as it was (language,
    title, default): every video, audio and subtitle track, not just the first of each (a
    second language and the subtitles used to be dropped). Data tracks (timecode, GPS) have no
    codec an MP4/MOV track takes; a timecode comes back from the video's `timecode` tag."""
    pairs = {}
    for stream in inp.streams:
        if stream.type not in ("video", "audio", "subtitle"):
            continue
        # An MP4's cover goes back as its cover (the muxer's `covr`, from the disposition);
        # a QuickTime file has no place for one, and as a track it would be a 1-frame video
        if _is_cover(stream) and out.format.name != "mp4":
            continue
        try:
            # opaque: the track's codec as read, for its id alone (a copy encodes nothing);
            # else PyAV looks for an encoder of the decoder's name ("libdav1d" for AV1)
            copy = out.add_stream_from_template(stream, opaque=True)
        except ValueError:  # the muxer takes no track of this codec: skipped, not failed
            continue
        if keep_tags and stream.codec_context.codec_tag.strip("\x00"):
            # PyAV clears the tag and the muxer writes its own: an iPhone's HEVC `hvc1` came
            # out `hev1`, which Safari and iOS do not play in an MP4/MOV
            copy.codec_context.codec_tag = stream.codec_context.codec_tag
        copy.metadata.update(stream.metadata)
        copy.disposition = stream.disposition
        pairs[stream.index] = copy
    return pairs


def _rate(path: Path, duration: float) -> int | None:
    return int(path.stat().st_size * 8 / duration) if duration > 0 else None


# ---- decoding upright frames --------------------------------------------------------------
def _even(n: float) -> int:
    return max(2, int(round(n / 2)) * 2)


def _even_within(n: float, most: int) -> int:
    """`n` made even, but never above `most` (the source's side): rounded to the nearest even
    number, an odd-sized source (639x479) came out a pixel larger each way (640x480)."""
    return min(_even(n), max(2, most - most % 2))


def scaled_size(p: Probe, short_side: int) -> tuple[int, int]:
    """The upright size whose short side is `short_side` (never above the source)."""
    short_side = min(short_side, p.short_side)
    if p.width <= p.height:
        return _even_within(short_side, p.width), _even_within(
            p.height * short_side / p.width, p.height
        )
    return _even_within(p.width * short_side / p.height, p.width), _even_within(
        short_side, p.height
    )


# PQ to SDR BT.709 (tone_map): a 3D table of our own through lut3d (core/video/tonemap.py), in
# every FFmpeg build. zscale + tonemap are not in PyAV's wheels (no zimg), and FFmpeg 8's
# swscale tone mapping built its curve again for every graph (6 s of CPU each, an upload's
# thumbnail included) and, without mastering metadata, left a phone's clip dim.
TONE_MAPS: list[Callable[[], list[str]]] = [tonemap.lut_chain]


def _filter_graph(template: Any, specs: list[str]) -> av.filter.Graph:
    """A configured graph of `specs` ("name=args") from a buffer of `template`'s frames."""
    graph = av.filter.Graph()
    last = graph.add_buffer(template=template)
    for spec in specs:
        name, _, args = spec.partition("=")
        node = graph.add(name, args or None)
        last.link_to(node)
        last = node
    sink = graph.add("buffersink")
    last.link_to(sink)
    graph.configure()
    return graph


@functools.cache
def tone_mapper() -> Callable[[], list[str]] | None:
    """The first of TONE_MAPS this FFmpeg has (its filters set up, its table written), found
    once a process; None, said in one warning, when it has none: PQ is then converted as any
    BT.2020 source is, and comes out dim and grey."""
    why: Exception | None = None
    for chain in TONE_MAPS:
        try:
            frame = av.VideoFrame(16, 16, "yuv420p10le")
            frame.time_base = Fraction(1, 25)
            _filter_graph(frame, chain())
        except (av.error.FFmpegError, ValueError, OSError) as exc:
            why = exc
            continue
        return chain
    logger.warning(
        "HDR10 (PQ) video cannot be tone-mapped here (%s): such videos' renditions and posters "
        "come out dim and grey",
        why,
    )
    return None


def tone_map() -> list[str] | None:
    """The filters of tone_mapper's chain, made at each use: its table file is written again
    if it went meanwhile (a temporary-files cleaner under a server up for weeks). None when no
    chain works, or when the table cannot be written now (a full disk): that picture is
    converted as BT.2020 is, and the next one tries again."""
    chain = tone_mapper()
    if chain is None:
        return None
    try:
        return chain()
    except OSError as exc:
        logger.warning("HDR10 (PQ) tone mapping is unavailable for now: %s", exc)
        return None


def picture_fixes(p: Probe) -> list[str]:
    """The FFmpeg filters a source's frames go through before anything is made of them (every
    rendition, the sprite and the poster): the one home of which sources need which.

    An interlaced source's two fields are made one frame (bwdif): kept woven, they showed as
    combing at full size and as ghosts below it. One frame per frame (the rate stays, as the
    encoders are set up for); only the frames flagged interlaced, so a progressive stretch of
    a mixed source stays sharp.

    BT.2020 numbers shown as BT.709 (what an untagged or 8-bit H.264 is taken for) came out
    washed out, so a BT.2020 source is converted to BT.709 once. HLG is read as BT.2020's SDR
    curve, which it was made to be compatible with. PQ is tone-mapped (tone_map): only
    converted, its white came out a dim grey."""
    fixes = []
    if p.interlaced:
        fixes.append("bwdif=mode=send_frame:parity=auto:deint=interlaced")
    if p.pq and (chain := tone_map()) is not None:
        fixes += chain
    elif p.wide_gamut:
        fixes.append("colorspace=all=bt709:iall=bt2020:format=yuv420p")
    return fixes


# FFmpeg's AVColorSpace numbers of the matrices swscale knows, as swscale names them
_RGB_MATRICES = {
    BT709: Colorspace.ITU709,
    4: Colorspace.FCC,
    5: Colorspace.ITU601,  # BT.470BG (PAL)
    6: Colorspace.SMPTE170M,  # NTSC, the same matrix
    7: Colorspace.SMPTE240M,
}
_SD_MAX_SHORT_SIDE = 576
BT470BG, SMPTE170M = 5, 6  # BT.601's two: PAL's (625 lines) and NTSC's (525) primaries


def output_colour(p: Probe) -> tuple[int, int, int]:
    """The colours (primaries, transfer, matrix) of every picture made of the source, as
    players should read them and the outputs are tagged: BT.709 once converted
    (Probe.made_bt709), else the source's own. A source that names no matrix is read as players
    guess (mpv, VLC): BT.709 when HD, BT.601 at or below 576 lines (PAL's primaries at 576,
    NTSC's below), for each of the three it does not name. Left untagged, the web copy and the
    rungs played as BT.709 in browsers whatever their size, while the poster (rgb_matrix) read
    an SD video as BT.601: its colours changed when play started (green 0,255,0 to 0,216,2)."""
    if p.made_bt709:
        return BT709, BT709, BT709
    primaries, trc, matrix = p.colour
    if matrix == UNSPECIFIED:
        if p.short_side > _SD_MAX_SHORT_SIDE:
            guess = (BT709, BT709, BT709)
        elif p.short_side == _SD_MAX_SHORT_SIDE:
            guess = (BT470BG, SMPTE170M, BT470BG)  # BT.601's transfer is BT.709's curve
        else:
            guess = (SMPTE170M, SMPTE170M, SMPTE170M)
        primaries = guess[0] if primaries == UNSPECIFIED else primaries
        trc = guess[1] if trc == UNSPECIFIED else trc
        matrix = guess[2]
    return primaries, trc, matrix


def rgb_matrix(p: Probe) -> Colorspace:
    """The matrix that turns the fixed frames' (picture_fixes) YUV into RGB, for the sprite and
    the poster (`to_image(src_colorspace=...)`): the one the outputs are tagged with
    (output_colour). swscale's default, BT.601 whatever the size, turned an untagged HD video's
    red dull and its green too light."""
    known = _RGB_MATRICES.get(output_colour(p)[2])
    if known is not None:
        return known
    return Colorspace.ITU709 if p.short_side > _SD_MAX_SHORT_SIDE else Colorspace.ITU601


class Upright:
    """Decoded frames fixed (picture_fixes) and turned so they stand upright (the container's
    rotation, applied): what every output, and the poster, is made of."""

    def __init__(self, stream: av.VideoStream, p: Probe) -> None:
        self.graph: av.filter.Graph | None = None
        chain = {90: ["transpose=clock"], 180: ["hflip", "vflip"], 270: ["transpose=cclock"]}
        specs = [*picture_fixes(p), *chain.get(p.rotation, [])]
        if specs:
            self.graph = _filter_graph(stream, specs)

    def __call__(self, frame: av.VideoFrame | None) -> Iterator[av.VideoFrame]:
        """The frames ready after `frame` (None: the end, the last frames a filter held)."""
        if self.graph is None:
            if frame is not None:
                yield frame
            return
        self.graph.push(frame)
        while True:
            try:
                yield self.graph.pull()  # type: ignore[misc]
            except (av.error.BlockingIOError, av.error.EOFError):
                return


class _Decoder:
    """Demuxes once and hands upright video frames and audio frames to the outputs."""

    def __init__(self, src: Path, p: Probe, progress: Progress) -> None:
        self.src, self.p, self.progress = src, p, progress
        self.last_video_time = 0.0
        # Where the last decoded picture ends (s): a 2 fps clip's last picture starts 0.5 s
        # before the end, so its start alone said 'Only 2.5 s of 3.0 s could be decoded'
        self.decoded_until = 0.0
        self.video_frames = 0
        self.errors = 0
        self.expected = 0.001
        # Time (s) between decoded pictures that none covers: where refused packets' pictures were
        self.lost = 0.0
        self._shown_until: float | None = None  # where the last decoded picture ends (s)
        self.start = p.start  # the source time that becomes 0
        self._last_pts: dict[int, int] = {}  # the last frame kept of each track, by its index

    def run(
        self,
        on_video: Callable[[av.VideoFrame], None],
        on_audio: Callable[[av.AudioFrame], None] | None,
    ) -> None:
        with av.open(str(self.src)) as c:
            video = main_video(c)
            assert video is not None  # probe found one
            video.thread_type = "AUTO"
            audio = main_audio(c) if on_audio else None
            upright = Upright(video, self.p)
            streams = [video] + ([audio] if audio is not None else [])
            self.expected = max(self.p.picture_duration, 0.001)
            for packet in c.demux(*streams):
                try:
                    frames = packet.decode()
                except av.error.FFmpegError:
                    self.errors += 1
                    continue
                for frame in frames:
                    assert isinstance(frame, av.VideoFrame | av.AudioFrame)
                    if not self._in_order(packet.stream.index, frame):
                        continue
                    if packet.stream is video:
                        assert isinstance(frame, av.VideoFrame)
                        self._from_start(frame)
                        self._decoded(frame)
                        self._pictures(upright(frame), on_video)
                    elif on_audio is not None:
                        assert isinstance(frame, av.AudioFrame)
                        self._from_start(frame)
                        on_audio(frame)
            self._pictures(upright(None), on_video)
        self.check()

    def _in_order(self, track: int, frame: av.VideoFrame | av.AudioFrame) -> bool:
        """False for a frame not after the last one kept of its track: after a damaged block
        the decoder hands out frames whose times go back, and the muxers refused them ("Invalid
        argument", the whole job failed) where the ffmpeg CLI drops them. Counted as damage."""
        if frame.pts is None:
            return True
        last = self._last_pts.get(track)
        if last is not None and frame.pts <= last:
            self.errors += 1
            return False
        self._last_pts[track] = frame.pts
        return True

    def _from_start(self, frame: av.VideoFrame | av.AudioFrame) -> None:
        """The frame timed from the source's start: an MPEG-TS original's 1.4 s became an
        empty edit at the start of the web copy (1.4 s of nothing, every time off the HLS's)."""
        if self.start and frame.pts is not None and frame.time_base:
            frame.pts -= int(round(self.start / frame.time_base))

    def _decoded(self, frame: av.VideoFrame) -> None:
        if frame.time is None:
            return
        start = end = float(frame.time)
        if frame.duration and frame.time_base:
            end += float(frame.duration * frame.time_base)
        elif self.p.fps:  # a transport stream's packets say no duration
            end += float(1 / self.p.fps)
        if self._shown_until is not None:
            self.lost += max(0.0, start - self._shown_until)
        self._shown_until = end
        self.decoded_until = max(self.decoded_until, end)

    def _pictures(
        self, frames: Iterator[av.VideoFrame], on_video: Callable[[av.VideoFrame], None]
    ) -> None:
        for turned in frames:
            if turned.time is not None:
                self.last_video_time = float(turned.time)
            self.video_frames += 1
            on_video(turned)
            if self.video_frames % 12 == 0:
                self.progress(min(self.last_video_time / self.expected, 0.99))

    def check(self) -> None:
        if self.video_frames == 0:
            raise no_video_frames()
        # Against the pictures' own length: sound that runs on after them (or starts late and
        # ends after them) is no sign of a decode that stopped early
        expected = self.p.picture_duration
        decoded = max(self.last_video_time, self.decoded_until)
        if expected > 2 and decoded < COMPLETE_SHARE * expected:
            raise BadMedia(
                f"Only {decoded:.1f} s of {expected:.1f} s could be decoded "
                f"({self.errors} damaged packets); the original is still served"
            )
        # Only with damage seen: a variable-rate source's longer pictures are no loss
        lost_max = max(min(LOST_MAX_SECONDS, LOST_MAX_SHARE * expected), LOST_UNSEEN_SECONDS)
        if self.errors and self.lost > lost_max:
            raise BadMedia(
                f"Only {expected - self.lost:.1f} s of {expected:.1f} s could be decoded: "
                f"{self.lost:.1f} s in the middle is damaged ({self.errors} damaged packets); "
                "the original is still served"
            )


class _VideoOut:
    """One H.264 (+AAC) output of a given upright size, into an MP4 or an HLS muxer."""

    def __init__(
        self,
        container: Any,
        p: Probe,
        size: tuple[int, int],
        audio_rate: int | None,
        audio_layout: str,
        options: dict[str, str],
        time_base: Fraction,
        segment_seconds: int | None = None,
    ) -> None:
        self.container = container
        self.size = size
        # The rate x264 picks the level for (and the master's FRAME-RATE): the output's highest.
        # It used to be 30 for anything above 120 fps while every frame went through.
        self.rate = p.output_fps
        top = p.max_fps or p.fps
        self._capped = self.rate < top
        # Keep the frame nearest each 1/rate slot, at its own time, as ffmpeg's -fpsmax: a
        # quarter of a source frame of slack takes a phone's timestamp jitter
        self._slack = 1 / (4 * top) if self._capped else Fraction(0)
        self.video = container.add_stream("libx264", rate=self.rate)
        # Source timestamps pass through unchanged (variable frame rates stay right)
        self.video.codec_context.time_base = time_base
        self.video.width, self.video.height = size
        self.video.pix_fmt = "yuv420p"
        # The colours the pixels are in, as players should read them (scaling keeps them)
        primaries, trc, matrix = output_colour(p)
        if matrix == RGB:
            # RGB frames (libx264rgb, a lossless screen capture) become YUV here: written with
            # BT.709's matrix and tagged so. Tagged GBR, players read the YUV planes as G/B/R.
            matrix = BT709
        self.video.codec_context.color_primaries = primaries
        self.video.codec_context.color_trc = trc
        self.video.codec_context.colorspace = matrix
        # _scale makes every frame limited range, what H.264 players expect without a tag
        self.video.codec_context.color_range = LIMITED
        self.matrix = matrix
        # Frame threads, as the ffmpeg CLI uses: PyAV's default (slice threads) makes x264 slower
        self.video.thread_type = "FRAME"
        opts = dict(X264)
        opts.update(options)
        # Segments are cut by time: a keyframe is forced at each segment's start (add_video).
        # A GOP of round(average fps x seconds) frames made a variable-rate source's segments
        # longer than the target where its rate dropped. x264's own keyframes (scenecut, keyint)
        # are kept out of the way: twice a segment of frames at the highest rate never comes.
        self.segment_seconds = segment_seconds
        if segment_seconds:
            keyint = max(2, math.ceil(self.rate * segment_seconds) * 2)
            self.video.gop_size = keyint
            opts["x264-params"] = f"keyint={keyint}:scenecut=0:open-gop=0"
            if self.rate * min(segment_seconds, p.picture_duration or segment_seconds) <= (
                _SQUEEZED_SEGMENT_PICTURES
            ):
                opts["x264-params"] += ":bframes=0"
            opts["forced-idr"] = "1"
        self.video.options = opts
        self._next_key = 0  # the segment whose keyframe comes next
        self._next_slot: Fraction | None = None  # when a capped output takes its next frame
        # the last picture and its time, sent once the next one's time gives its duration
        self._pending: tuple[av.VideoFrame, Fraction | None, int] | None = None
        time_base = self.video.codec_context.time_base
        self._duration = max(1, int(round(1 / (self.rate * time_base))))  # the last one's
        self._durations: dict[int, int] = {}  # each picture's duration sent, by its pts
        self.first: Fraction | None = None  # the first picture's time (s)
        self.end: Fraction | None = None  # when the last picture sent ends (s)
        self._graph: av.filter.Graph | None = None
        self._graph_shape: tuple[int, int, str, int, int] | None = None
        self.audio = None
        self._sound_from: int | None = None  # the first sound sample's time (1/audio_rate)
        self._last_dts: int | None = None  # a transport stream's last picture decoded (1/90 kHz)
        if audio_rate:
            self.audio = container.add_stream("aac", rate=audio_rate)
            self.audio.layout = audio_layout
            self.audio.bit_rate = AUDIO_BIT_RATE

    def _scale(self, frame: av.VideoFrame) -> av.VideoFrame:
        """The frame at the output size in yuv420p, through FFmpeg's scale filter as the ffmpeg
        CLI does: the same (bicubic) scaler, and slice threads, where `frame.reformat` runs one
        single-threaded swscale on the Python thread that also feeds every encoder."""
        w, h = self.size
        matrix, colour_range = int(frame.colorspace), int(frame.color_range)
        if matrix == UNSPECIFIED:  # an untagged source's numbers are in the guessed matrix
            matrix = self.matrix
        if (frame.width, frame.height, frame.format.name) == (w, h, "yuv420p") and (
            colour_range != FULL and matrix in (self.matrix, UNSPECIFIED)
        ):
            return frame
        shape = (frame.width, frame.height, frame.format.name, matrix, colour_range)
        if self._graph is None or self._graph_shape != shape:
            graph = av.filter.Graph()
            time_base = frame.time_base or self.video.codec_context.time_base
            # The frame's matrix and range given to the filter: without them scale took the
            # numbers for BT.601 and wrote them out as unspecified BT.601 (a BT.709 clip's
            # smaller rungs, still tagged BT.709, turned red orange) and left a full-range
            # MJPEG's numbers full range in a stream read as limited (grey 128 came out 130)
            src = graph.add(
                "buffer",
                video_size=f"{frame.width}x{frame.height}",
                pix_fmt=frame.format.name,
                time_base=str(time_base),
                pixel_aspect="1/1",
                colorspace=str(matrix),
                range=str(colour_range),
            )
            # Out in the matrix the encoder tags and limited range (an untagged source's
            # frames, given in the matrix guessed for it, are not converted)
            args = f"{w}:{h}:out_range=limited"
            if self.matrix in _SCALE_MATRICES:
                args += f":out_color_matrix={_SCALE_MATRICES[self.matrix]}"
            scale = graph.add("scale", args)
            fmt = graph.add("format", "yuv420p")
            sink = graph.add("buffersink")
            src.link_to(scale)
            scale.link_to(fmt)
            fmt.link_to(sink)
            graph.configure()
            self._graph, self._graph_shape = graph, shape
        self._graph.push(frame)
        out = self._graph.pull()
        assert isinstance(out, av.VideoFrame)
        return out

    def add_video(self, frame: av.VideoFrame) -> None:
        time_base = self.video.codec_context.time_base
        if frame.pts is None:
            self._encode(self._scale(frame), None)
            return
        # On the frame's own clock: a filter may hand frames out on another (bwdif's is half
        # the source's), and taken for the encoder's, an interlaced clip played at half speed
        clock = Fraction(frame.time_base) if frame.time_base else time_base
        t = frame.pts * clock
        pts = int(round(t / time_base))
        if self._capped:
            slack = self._slack
            if self._next_slot is not None and t < self._next_slot - slack:
                return
            slot = t if self._next_slot is None else self._next_slot
            while slot <= t + slack:
                slot += 1 / self.rate
            self._next_slot = slot
        out = self._scale(frame)
        out.pts = pts
        # how long the source shows it, for the last picture (a capped output's: its slot)
        shown = 0 if self._capped else int(round((frame.duration or 0) * clock / time_base))
        self._encode(out, t, shown)

    def _encode(self, out: av.VideoFrame, t: Fraction | None, shown: int = 0) -> None:
        """Sends the frame before `out`, now that its duration is known, and keeps `out`."""
        out.time_base = self.video.codec_context.time_base
        out.pict_type = av.video.frame.PictureType.NONE
        if t is not None:
            if self.first is None:
                self.first = t
            # a keyframe at each segment's start (ffmpeg's force_key_frames expr:gte(t,n*S)),
            # on the time the HLS muxer cuts at: from the first picture
            since = t - self.first
            if self.segment_seconds and since >= self._next_key * self.segment_seconds:
                out.pict_type = av.video.frame.PictureType.I
                self._next_key = int(since // self.segment_seconds) + 1
        self._send_pending(out.pts)
        self._pending = (out, t, shown)

    def _send_pending(self, next_pts: int | None) -> None:
        """Encodes the kept frame lasting until `next_pts`. Without a duration the muxers took
        the nominal rate's: the HLS muxer's last segment of a source slowed to 10 fps said a
        third of its length, a capped output's frames a quarter."""
        if self._pending is None:
            return
        frame, t, shown = self._pending
        self._pending = None
        if frame.pts is not None:
            if next_pts is not None and next_pts > frame.pts:
                self._duration = next_pts - frame.pts
            else:  # the last: as the source shows it, else as long as the one before
                self._duration = shown or self._duration
            # libx264 gives its packets no duration: each is found again by its picture's time
            self._durations[frame.pts] = self._duration
            if t is not None:
                self.end = t + self._duration * self.video.codec_context.time_base
        self._mux_video(self.video.encode(frame))

    def _mux_video(self, packets: list[av.Packet]) -> None:
        for packet in packets:
            if packet.pts is not None:
                packet.duration = self._durations.pop(packet.pts, 0)
            if self.segment_seconds:
                self._decode_from_first_picture(packet)
            self.container.mux(packet)

    def _decode_from_first_picture(self, packet: av.Packet) -> None:
        """Puts a transport stream's first decoding times no earlier than its first picture.
        libx264's B-frames are decoded 2 frames before they are shown, from before 0; a
        transport stream has no edit list to hide that, so the muxer moved the whole stream 2
        frames later, and hls.js, which starts its clock at the first decoding time, showed
        every picture 2 frames late: 1 s, and a 10 s clip said 11 s, at 2 fps. The first
        packets' decoding times are squeezed in after 0 instead (a quarter frame apart, as
        hls.js itself spaces the ones it has to move), each still before it is shown. The
        first is the first picture's own time, not 0: an MP4 whose pictures start at 5 s kept
        its first decoding time 2 frames before them, and hls.js showed it 2 frames late."""
        if packet.pts is None or packet.dts is None or not packet.time_base:
            return
        clock = Fraction(packet.time_base) / TS_CLOCK
        pts, dts = int(round(packet.pts * clock)), int(round(packet.dts * clock))
        last = self._last_dts
        if last is None:
            dts = max(dts, pts)
        elif dts <= last:
            step = max(1, int(1 / (4 * self.rate * TS_CLOCK)))
            dts = max(last + 1, min(last + step, pts))
        self._last_dts = dts
        duration = int(round((packet.duration or 0) * clock))
        packet.time_base = TS_CLOCK
        packet.pts, packet.dts, packet.duration = pts, dts, duration

    def hold_until(self, end: Fraction) -> None:
        """Shows the last picture until `end` (s), at the output's rate (FFmpeg's tpad
        stop_mode=clone): sound that runs on after the pictures was left out of the playlist's
        durations, which the HLS muxer takes from the video (a 4 s video with 6 s of sound
        said 4 s, and players that trust the playlist stopped there)."""
        if self._pending is None:
            return
        frame, t, _ = self._pending
        if t is None:
            return
        time_base = self.video.codec_context.time_base
        step = 1 / self.rate
        # Not for the sound's last coded frame, padded to 1024 samples (a shorter overhang is
        # not seen: the last picture stays on screen anyway)
        until = end - max(step / 2, Fraction(AUDIO_GAP_TOLERANCE))
        self._fold_tail(end)
        while t + step < until:
            t += step
            self._send_pending(int(round(t / time_base)))
            # the same frame again, sent at once: the encoder keeps its own copy of each
            frame.pts = int(round(t / time_base))
            self._encode(frame, t)
            self._send_pending(None)

    def _fold_tail(self, end: Fraction) -> None:
        """Keeps a tail of less than HOLD_FOLD_SECONDS in the segment before, with no keyframe
        at its start, so the muxer cuts none there: a last picture on a segment's start (or
        a hold crossing one) made a last segment of one picture in 40 ms of sound, which
        players fetch for nothing. The segment before gets the tail and its EXTINF still
        rounds to the target duration. `end`: when the stream ends (s), held pictures too."""
        if not self.segment_seconds or self.first is None or self._pending is None:
            return
        frame, t, _ = self._pending
        if t is None or t == self.first:  # a stream of one picture: that one is its start
            return
        if frame.pict_type == av.video.frame.PictureType.I and end - t < HOLD_FOLD_SECONDS:
            frame.pict_type = av.video.frame.PictureType.NONE
        boundary = self.first + self._next_key * self.segment_seconds
        if t < boundary < end and end - boundary < HOLD_FOLD_SECONDS:
            self._next_key += 1  # the held pictures that reach it force no keyframe

    def add_audio(self, frame: av.AudioFrame) -> None:
        """A frame from an _AudioTimeline (contiguous, timed on the video's clock)."""
        if self.audio is None:
            return
        if self._sound_from is None:
            self._sound_from = frame.pts
        self._mux_audio(self.audio.encode(frame))

    def _mux_audio(self, packets: list[av.Packet]) -> None:
        for packet in packets:
            if self.segment_seconds and self._priming(packet):
                continue
            self.container.mux(packet)

    def _priming(self, packet: av.Packet) -> bool:
        """A packet of the AAC encoder's priming alone (the 1024 samples it puts before the
        first one given). An MP4 hides them with an edit list; a transport stream has none, so
        they were played, before the first picture: players start an HLS stream at its
        earliest timestamp, and every picture came 21 ms late (frame n where the web copy
        shows n-1). Without it the first real samples lose their fade-in partner (21 ms)."""
        start = self._sound_from
        return (
            start is not None
            and packet.pts is not None
            and packet.duration is not None
            and packet.pts + packet.duration <= start
        )

    def close(self) -> None:
        if self._pending is not None and self._pending[1] is not None:
            # without sound to hold for (else hold_until folded it): the last picture's end
            _, t, shown = self._pending
            time_base = self.video.codec_context.time_base
            self._fold_tail(t + (shown or self._duration) * time_base)
        self._send_pending(None)
        self._mux_video(self.video.encode(None))
        if self.audio is not None:
            self._mux_audio(self.audio.encode(None))


class _AudioTimeline:
    """The decoded sound as the outputs' encoders take it: at their rate and layout, one
    sample-exact clock, placed on the source's timeline like the video's passed-through
    timestamps. A track that starts late (an edit list, a trimmed clip) starts late in the
    outputs too, and a hole in it is filled with silence; both used to collapse (the sound
    restarted at 0 and played ahead of the pictures)."""

    def __init__(self, rate: int, layout: str, outputs: list[_VideoOut]) -> None:
        self.rate, self.layout, self.outputs = rate, layout, outputs
        self.time_base = Fraction(1, rate)
        # rematrix_maxval: a downmix's matrix scaled so no output can pass full scale. Float
        # output is not scaled by default: a 5.1 tone at -4 dBFS on every channel summed to
        # 1.18 in stereo (FL + 0.707 FC + 0.707 BL), clipped in every player.
        self.resampler = av.AudioResampler(
            format="fltp", layout=layout, rate=rate, options={"rematrix_maxval": "1.0"}
        )
        self.next: int | None = None  # the next sample's place, in samples at `rate`

    def push(self, frame: av.AudioFrame) -> None:
        for chunk in self.resampler.resample(frame):
            self._place(chunk)

    def flush(self) -> None:
        for chunk in self.resampler.resample(None):
            self._place(chunk)

    def _place(self, chunk: av.AudioFrame) -> None:
        at = self.next
        if chunk.pts is not None and chunk.time_base:
            at = int(round(chunk.pts * chunk.time_base * self.rate))
        if self.next is None:
            self.next = at or 0
        elif at is not None and at - self.next > AUDIO_GAP_TOLERANCE * self.rate:
            self._silence(at - self.next)
        # Jitter within the tolerance, and a source that steps back, keep the clock: the
        # encoder needs timestamps that grow by exactly the samples given
        chunk.pts, chunk.time_base = self.next, self.time_base
        self.next += chunk.samples
        self._send(chunk)

    def _silence(self, samples: int) -> None:
        assert self.next is not None
        while samples > 0:
            n = min(samples, self.rate)
            quiet = av.AudioFrame(format="fltp", layout=self.layout, samples=n)
            for plane in quiet.planes:
                plane.update(bytes(plane.buffer_size))
            quiet.sample_rate, quiet.pts, quiet.time_base = self.rate, self.next, self.time_base
            self.next += n
            samples -= n
            self._send(quiet)

    def _send(self, frame: av.AudioFrame) -> None:
        for out in self.outputs:
            out.add_audio(frame)


def _audio_params(src: Path) -> tuple[int | None, str]:
    with av.open(str(src)) as c:
        sound = main_audio(c)
        if sound is None:
            return None, "stereo"
        a = sound.codec_context
        rate = a.sample_rate if a.sample_rate in (44100, 48000) else 48000
        layout = "mono" if a.channels == 1 else "stereo"
        return rate, layout


# ---- web rendition ------------------------------------------------------------------------
def web_rendition(
    src: Path, out_dir: Path, content_type: str | None, progress: Progress
) -> dict[str, Any]:
    p = probe(src)
    _need_video(p)
    if plays_in_browsers(p, content_type):
        raise NothingToDo("The original already plays in browsers", "already_web_ready")
    size = scaled_size(p, min(p.short_side, WEB_MAX_SHORT_SIDE))
    rate, layout = _audio_params(src)
    target = out_dir / "web.mp4"
    with av.open(str(target), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        enc = _VideoOut(out, p, size, rate, layout, {}, p.time_base)
        sound = _AudioTimeline(rate, layout, [enc]) if rate else None
        _Decoder(src, p, progress).run(enc.add_video, sound.push if sound else None)
        if sound is not None:
            sound.flush()
        enc.close()
    return {
        "files": [target.name],
        "content_type": "video/mp4",
        "width": size[0],
        "height": size[1],
        "bit_rate": _rate(target, p.duration),
    }


# ---- HLS ladder ---------------------------------------------------------------------------
def ladder_sizes(p: Probe, rungs: list[int]) -> list[tuple[int, tuple[int, int]]]:
    """(rung, size) for every rung at or below the source; the source size if none fits."""
    picked = sorted({r for r in rungs if r <= p.short_side})
    if not picked:
        picked = [p.short_side]
    return [(r, scaled_size(p, r)) for r in picked]


def hls_ladder(
    src: Path, out_dir: Path, rungs: list[int], segment_seconds: int, progress: Progress
) -> dict[str, Any]:
    p = probe(src)
    _need_video(p)
    rate, layout = _audio_params(src)
    outs: list[tuple[int, _VideoOut, Any]] = []
    try:
        for rung, size in ladder_sizes(p, rungs):
            folder = out_dir / str(rung)
            folder.mkdir(parents=True, exist_ok=True)
            container = av.open(
                str(folder / "index.m3u8"),
                "w",
                format="hls",
                options={
                    "hls_time": str(segment_seconds),
                    "hls_playlist_type": "vod",
                    "hls_list_size": "0",
                    "hls_segment_filename": str(folder / "seg_%05d.ts"),
                    "hls_flags": "independent_segments",
                },
            )
            cap = _max_rate(rung)
            enc = _VideoOut(
                container,
                p,
                size,
                rate,
                layout,
                {"maxrate": str(cap), "bufsize": str(cap * 2)},
                p.time_base,
                segment_seconds=segment_seconds,
            )
            outs.append((rung, enc, container))

        def on_video(frame: av.VideoFrame) -> None:
            for _, enc, _ in outs:
                enc.add_video(frame)

        sound = _AudioTimeline(rate, layout, [enc for _, enc, _ in outs]) if rate else None
        _Decoder(src, p, progress).run(on_video, sound.push if sound else None)
        if sound is not None:
            sound.flush()
            if sound.next is not None:
                for _, enc, _ in outs:
                    enc.hold_until(Fraction(sound.next, sound.rate))
        for _, enc, _ in outs:
            enc.close()
    finally:
        for _, _, container in outs:
            container.close()
    variants = []
    for rung, enc, _ in outs:
        folder = out_dir / str(rung)
        retime_playlist(folder / "index.m3u8", enc)
        peak, average = measure_playlist(folder / "index.m3u8")
        variants.append(
            {
                "name": f"{rung}p",
                "rung": rung,
                "width": enc.size[0],
                "height": enc.size[1],
                "bandwidth": peak,
                "average_bandwidth": average,
                "codecs": _codecs(folder, rate is not None),
                "playlist": f"{rung}/index.m3u8",
            }
        )
    write_master(out_dir / "master.m3u8", variants, float(p.output_fps))
    files = ["master.m3u8"]
    for rung, _, _ in outs:
        files += [f"{rung}/{f.name}" for f in sorted((out_dir / str(rung)).iterdir())]
    return {
        "files": files,
        "variants": variants,
        "segment_seconds": segment_seconds,
        "duration": p.duration,
    }


def retime_playlist(path: Path, enc: _VideoOut) -> None:
    """Writes each EXTINF as the time from its segment's first picture to the next one's, and
    the last up to the end of the pictures sent. The HLS muxer counted the last segment from
    the packets' durations in decoding order, B-frames first, and came out frames off (2 of a
    10 fps tail short); the segments' own starts and the encoder's end are exact."""
    if enc.first is None or enc.end is None:
        return
    lines = path.read_text().splitlines()
    starts: list[Fraction] = []
    for line in lines:
        if line and not line.startswith("#"):
            # named: a segment of a few TS packets (two frames of a flat colour) is too short
            # for FFmpeg's probe to know, and the whole ladder failed with EOFError
            named = "mpegts" if line.endswith(".ts") else None
            with av.open(str(path.parent / line), format=named) as c:
                first = next(c.demux(c.streams.video[0]), None)
                if first is None or first.pts is None or first.time_base is None:
                    return  # a segment without pictures: the muxer's count stands
                starts.append(first.pts * first.time_base)
    if not starts:
        return
    ends = [*starts[1:], starts[0] + (enc.end - enc.first)]
    durations = [end - start for start, end in zip(starts, ends, strict=True)]
    # RFC 8216: every EXTINF, rounded to the nearest second, at most the target
    target = max(1, *(int(d + Fraction(1, 2)) for d in durations))
    left = iter(durations)
    out = []
    for line in lines:
        if line.startswith("#EXTINF:"):
            line = f"#EXTINF:{float(next(left)):.6f},"
        elif line.startswith("#EXT-X-TARGETDURATION:"):
            line = f"#EXT-X-TARGETDURATION:{target}"
        out.append(line)
    path.write_text("\n".join(out) + "\n")


def _max_rate(rung: int) -> int:
    for height, cap in sorted(RUNG_MAX_RATE.items()):
        if rung <= height:
            return int(cap * max(rung, 120) / height) if rung < 360 else cap
    return RUNG_MAX_RATE[1080] * rung // 1080


def measure_playlist(path: Path) -> tuple[int, int]:
    """(peak, average) bit rate of a VOD playlist from its segments' real sizes, as RFC 8216
    defines them for BANDWIDTH and AVERAGE-BANDWIDTH (section 4.3.4.2)."""
    target, durations, bits = 0, [], []
    duration = None
    for line in path.read_text().splitlines():
        if line.startswith("#EXT-X-TARGETDURATION:"):
            target = int(line.split(":", 1)[1])
        elif line.startswith("#EXTINF:"):
            duration = float(line[8:].split(",", 1)[0])
        elif line and not line.startswith("#") and duration:
            bits.append((path.parent / line).stat().st_size * 8)
            durations.append(duration)
            duration = None
    total_time = sum(durations)
    average = math.ceil(sum(bits) / total_time) if total_time else 0
    return peak_bit_rate(bits, durations, target), average


def peak_bit_rate(bits: list[int], durations: list[float], target: int) -> int:
    """RFC 8216's peak segment bit rate: the largest rate of any run of consecutive segments
    lasting 0.5 to 1.5 times the target duration. Each segment's own rate overstated it up to
    5x when the last segment was a sliver (one keyframe in 40 ms of sound past the pictures)."""
    low, high = 0.5 * target, 1.5 * target
    peak = 0
    for first in range(len(durations)):
        run_bits, run_time = 0, 0.0
        for i in range(first, len(durations)):
            run_bits += bits[i]
            run_time += durations[i]
            if run_time >= low:
                peak = max(peak, math.ceil(run_bits / run_time))
                # a run past 1.5x still counts when it is the shortest from its start that
                # is long enough: a segment longer than the target holds its own rate
                if i + 1 < len(durations) and run_time + durations[i + 1] > high:
                    break
    total_time = sum(durations)
    if not peak and total_time:
        # shorter in all than half the target: the whole clip is the only run there is
        peak = math.ceil(sum(bits) / total_time)
    return peak


_SPS = re.compile(rb"\x00\x00\x01[\x27\x47\x67]")


def _codecs(folder: Path, audio: bool) -> str:
    """RFC 6381 codecs of a variant: avc1.PPCCLL from the first segment's SPS."""
    video = "avc1.640028"
    first = sorted(folder.glob("seg_*.ts"))
    if first:
        data = first[0].read_bytes()[: 512 * 1024]
        match = _SPS.search(data)
        if match:
            sps = data[match.end() : match.end() + 3]
            if len(sps) == 3:
                video = f"avc1.{sps.hex()}"
    return f"{video},mp4a.40.2" if audio else video


def write_master(path: Path, variants: list[dict[str, Any]], fps: float) -> None:
    """`fps`: the variants' highest frame rate (RFC 8216 FRAME-RATE), not an average."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:6", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for v in sorted(variants, key=lambda v: v["bandwidth"]):
        lines.append(
            f"#EXT-X-STREAM-INF:BANDWIDTH={v['bandwidth']},"
            f"AVERAGE-BANDWIDTH={v['average_bandwidth']},"
            f"RESOLUTION={v['width']}x{v['height']},"
            f'CODECS="{v["codecs"]}",FRAME-RATE={fps:.3f}'
        )
        lines.append(v["playlist"])
    path.write_text("\n".join(lines) + "\n")


# ---- scrub thumbnails ---------------------------------------------------------------------
def scrub_thumbnails(src: Path, out_dir: Path, progress: Progress) -> dict[str, Any]:
    from PIL import Image

    p = probe(src)
    _need_video(p)
    # at least 0.1 s to space the tiles by; the cues end when the clip does (a 1-frame clip's
    # cue ran to 0.100 s for 0.034 s of video)
    duration = max(p.duration, 0.1)
    interval = max(1.0, duration / THUMB_MAX_COUNT)
    count = max(1, int(duration / interval + 0.5))  # no sliver of a tile at the end
    w = min(THUMB_WIDTH, p.width)
    w -= w % 2
    h = _even(p.height * w / p.width)
    tiles: list[Image.Image] = []
    matrix = rgb_matrix(p)

    def on_video(frame: av.VideoFrame) -> None:
        t = float(frame.time or 0.0)
        if len(tiles) < count and t + 1e-3 >= len(tiles) * interval:
            tiles.append(frame.to_image(width=w, height=h, src_colorspace=matrix))

    decoder = _Decoder(src, p, progress)
    decoder.run(on_video, None)
    columns = min(THUMB_COLUMNS, len(tiles))
    rows = math.ceil(len(tiles) / columns)
    sheet = Image.new("RGB", (columns * w, rows * h))
    cues = ["WEBVTT", ""]
    length = p.duration or duration
    for i, tile in enumerate(tiles):
        x, y = (i % columns) * w, (i // columns) * h
        sheet.paste(tile, (x, y))
        start, end = i * interval, min((i + 1) * interval, length)
        if i == len(tiles) - 1:
            end = max(end, length)
        cues += [f"{_vtt_time(start)} --> {_vtt_time(end)}", f"sprite.jpg#xywh={x},{y},{w},{h}", ""]
    sheet.save(out_dir / "sprite.jpg", "JPEG", quality=80)
    (out_dir / "thumbnails.vtt").write_text("\n".join(cues))
    return {
        "files": ["sprite.jpg", "thumbnails.vtt"],
        "count": len(tiles),
        "interval": interval,
        "width": w,
        "height": h,
    }


def _vtt_time(seconds: float) -> str:
    ms = int(round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"
