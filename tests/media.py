"""Real, small, deterministic test media (images with Pillow, videos with PyAV) and bad files."""

from __future__ import annotations

import io
import math
import struct
import wave
import zlib
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
from PIL import ExifTags, Image, ImageDraw

from core.records import FileRecord

Color = tuple[int, int, int]
Size = tuple[int, int]
BACKGROUND: Color = (30, 60, 150)
MARKER: Color = (230, 30, 30)  # drawn in the stored top-left corner of every still image


def _picture(size: Size, color: Color = BACKGROUND, step: int = 0) -> Image.Image:
    """A background, a red top-left marker and a yellow block that moves with `step`."""
    w, h = size
    im = Image.new("RGB", size, color)
    draw = ImageDraw.Draw(im)
    draw.rectangle([0, 0, max(w // 8, 1), max(h // 8, 1)], fill=MARKER)
    x = (step * max(w // 24, 1)) % max(w - w // 4, 1)
    draw.rectangle([x, h // 3, x + w // 4, 2 * h // 3], fill=(240, 200, 30))
    draw.ellipse([w // 2, h // 8, w // 2 + w // 6, h // 8 + h // 6], fill=(40, 200, 80))
    return im


def make_jpeg(
    path: Path,
    size: Size = (640, 480),
    exif_orientation: int | None = None,
    color: Color = BACKGROUND,
    camera: tuple[str, str] | None = ("MediaDesk", "TestCam 1"),
    taken_at: str | None = "2024:05:01 10:30:00",
) -> Path:
    """A JPEG with EXIF camera make/model, DateTimeOriginal and optionally an orientation."""
    exif = Image.Exif()
    if exif_orientation is not None:
        exif[ExifTags.Base.Orientation] = exif_orientation
    if camera:
        exif[ExifTags.Base.Make], exif[ExifTags.Base.Model] = camera
    if taken_at:
        exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = taken_at
    _picture(size, color).save(path, "JPEG", quality=85, exif=exif)
    return Path(path)


def make_png(
    path: Path, size: Size = (400, 300), color: Color = BACKGROUND, alpha: bool = False
) -> Path:
    im = _picture(size, color)
    if alpha:
        im.putalpha(200)
    im.save(path, "PNG")
    return Path(path)


def make_webp(
    path: Path,
    size: Size = (400, 300),
    color: Color = BACKGROUND,
    animated: bool = False,
    frames: int = 3,
) -> Path:
    images = [_picture(size, color, i) for i in range(frames if animated else 1)]
    images[0].save(
        path, "WEBP", quality=80, save_all=animated, append_images=images[1:], duration=100, loop=0
    )
    return Path(path)


def make_gif(
    path: Path,
    size: Size = (160, 120),
    animated: bool = True,
    frames: int = 4,
    color: Color = BACKGROUND,
) -> Path:
    images = [_picture(size, color, i) for i in range(frames if animated else 1)]
    images[0].save(path, "GIF", save_all=animated, append_images=images[1:], duration=100, loop=0)
    return Path(path)


def _tone(samples: int) -> bytes:
    """`samples` mono s16 samples of a 480 Hz tone at 48 kHz (a whole number of periods)."""
    period = struct.pack(
        "<100h", *(int(6000 * math.sin(2 * math.pi * i / 100)) for i in range(100))
    )
    return (period * (samples // 100 + 1))[: samples * 2]


# name -> (container, video codec, audio codec, audio rate, video codec options)
_VIDEO_SPECS: dict[str, tuple[str, str, str, int, dict[str, str]]] = {
    "mp4": ("mp4", "libx264", "aac", 48000, {"preset": "veryfast"}),
    "webm": ("webm", "libvpx-vp9", "libopus", 48000, {"deadline": "realtime", "cpu-used": "8"}),
    "avi": ("avi", "mpeg4", "libmp3lame", 44100, {}),
    "mov": ("mov", "libx264", "aac", 48000, {"preset": "veryfast"}),
    "wmv": ("asf", "wmv2", "wmav2", 44100, {}),
    "mkv": ("matroska", "mpeg4", "libmp3lame", 44100, {}),
}


def _make_video(
    path: Path,
    spec: str,
    seconds: float,
    size: Size,
    fps: int,
    audio: bool,
    rotation: int = 0,
    options: dict[str, str] | None = None,
) -> Path:
    container, vcodec, acodec, rate, vopts = _VIDEO_SPECS[spec]
    with av.open(str(path), "w", format=container, options=options or {}) as out:
        video = out.add_stream(vcodec, rate=fps)
        assert isinstance(video, av.VideoStream)
        video.width, video.height = size
        video.pix_fmt = "yuv420p"
        video.gop_size = fps  # a keyframe every second, so seeking has somewhere to land
        video.options = dict(vopts)
        if rotation:
            video.set_display_rotation(-rotation)  # PyAV counts counter-clockwise
        sound = out.add_stream(acodec, rate=rate) if audio else None
        if sound is not None:
            assert isinstance(sound, av.AudioStream)
            sound.layout, sound.bit_rate = "mono", 64000
        for i in range(max(int(seconds * fps), 1)):
            frame = av.VideoFrame.from_image(_picture(size, step=i))
            frame.pts = i
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        if sound is not None:
            total, done = int(seconds * rate), 0
            while done < total:
                n = min(1024, total - done)
                chunk = av.AudioFrame(format="s16", layout="mono", samples=n)
                chunk.planes[0].update(_tone(n))
                chunk.sample_rate, chunk.pts, chunk.time_base = rate, done, Fraction(1, rate)
                out.mux(sound.encode(chunk))
                done += n
            out.mux(sound.encode(None))
    return Path(path)


def make_mp4(
    path: Path,
    seconds: float = 2,
    size: Size = (320, 240),
    fps: int = 24,
    audio: bool = True,
    rotation: int = 0,
    faststart: bool = True,
) -> Path:
    """H.264 + AAC MP4; `rotation` (clockwise degrees) sets the display matrix like a phone."""
    opts = {"movflags": "+faststart"} if faststart else {}
    return _make_video(path, "mp4", seconds, size, fps, audio, rotation, opts)


def make_webm(
    path: Path, seconds: float = 2, size: Size = (320, 240), fps: int = 24, audio: bool = True
) -> Path:
    """VP9 + Opus WebM."""
    return _make_video(path, "webm", seconds, size, fps, audio)


def make_avi(
    path: Path, seconds: float = 2, size: Size = (320, 240), fps: int = 24, audio: bool = True
) -> Path:
    """MPEG-4 Part 2 + MP3 in AVI."""
    return _make_video(path, "avi", seconds, size, fps, audio)


def make_mov(
    path: Path, seconds: float = 2, size: Size = (320, 240), fps: int = 24, audio: bool = True
) -> Path:
    """H.264 + AAC QuickTime (ftyp brand `qt  `)."""
    return _make_video(path, "mov", seconds, size, fps, audio)


def make_wmv(
    path: Path, seconds: float = 2, size: Size = (320, 240), fps: int = 24, audio: bool = True
) -> Path:
    """WMV2 + WMA2 in an ASF container."""
    return _make_video(path, "wmv", seconds, size, fps, audio)


def make_mkv(
    path: Path, seconds: float = 1, size: Size = (160, 120), fps: int = 12, audio: bool = False
) -> Path:
    """Matroska that is not WebM (DocType `matroska`, MPEG-4 video): not accepted."""
    return _make_video(path, "mkv", seconds, size, fps, audio)


def make_wav(path: Path, seconds: float = 0.2) -> Path:
    """A RIFF/WAVE file: RIFF like AVI and WebP, but not accepted."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(48000)
        out.writeframes(_tone(int(48000 * seconds)))
    return Path(path)


def make_truncated_jpeg(path: Path, size: Size = (640, 480), keep: float = 0.5) -> Path:
    """A JPEG cut off after `keep` of its bytes: the header parses, decoding fails."""
    buf = io.BytesIO()
    _picture(size).save(buf, "JPEG", quality=90)
    data = buf.getvalue()
    Path(path).write_bytes(data[: int(len(data) * keep)])
    return Path(path)


def make_truncated(source: Path, path: Path, keep: float = 0.5) -> Path:
    """A copy of `source` cut off after `keep` of its bytes (e.g. an upload that stopped)."""
    data = Path(source).read_bytes()
    Path(path).write_bytes(data[: int(len(data) * keep)])
    return Path(path)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def make_png_bomb(path: Path, width: int = 100_000, height: int = 100_000) -> Path:
    """A ~100-byte valid PNG declaring width x height RGB pixels (a decompression bomb)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024, 9)
    data = b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat)
    Path(path).write_bytes(data + _png_chunk(b"IEND", b""))
    return Path(path)


def make_gray16_png(path: Path, size: Size = (200, 100)) -> Path:
    """A 16-bit greyscale PNG (Pillow mode I;16): black at the top row to white at the bottom,
    written by hand (a scanner's or an astronomy camera's)."""
    w, h = size
    rows = b"".join(b"\0" + struct.pack(">H", y * 65535 // (h - 1)) * w for y in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, 16, 0, 0, 0, 0)
    data = (
        b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(rows))
    )
    Path(path).write_bytes(data + _png_chunk(b"IEND", b""))
    return Path(path)


def _icc_tag(kind: bytes, body: bytes) -> bytes:
    return kind + bytes(4) + body


def adobe_rgb_icc() -> bytes:
    """An ICC v2 matrix/TRC display profile with Adobe RGB (1998)'s primaries and gamma (a
    camera's 'Adobe RGB' setting; Display P3 and ProPhoto are the same kind of profile)."""

    def xyz(x: float, y: float, z: float) -> bytes:
        return _icc_tag(b"XYZ ", struct.pack(">3i", *(round(v * 65536) for v in (x, y, z))))

    curve = _icc_tag(b"curv", struct.pack(">IH", 1, 563) + bytes(2))  # gamma 563/256 = 2.2
    name = b"Adobe RGB-like test profile\0"
    desc = _icc_tag(b"desc", struct.pack(">I", len(name)) + name + bytes(4 + 4 + 3 + 67))
    tags = [
        (b"desc", desc),
        (b"wtpt", xyz(0.9505, 1.0, 1.0891)),
        (b"rXYZ", xyz(0.6097, 0.3111, 0.0195)),
        (b"gXYZ", xyz(0.2053, 0.6257, 0.0609)),
        (b"bXYZ", xyz(0.1492, 0.0632, 0.7446)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, bodies = b"", b""
    for sig, body in tags:
        table += sig + struct.pack(">II", offset + len(bodies), len(body))
        bodies += body + bytes(-len(body) % 4)
    size = offset + len(bodies)
    header = struct.pack(">I4sI4s4s4s", size, b"", 0x02100000, b"mntr", b"RGB ", b"XYZ ")
    header += bytes(12) + b"acsp" + bytes(24)
    header += struct.pack(">I3i", 0, *(round(v * 65536) for v in (0.9642, 1.0, 0.8249)))
    header += bytes(128 - len(header))
    return header + struct.pack(">I", len(tags)) + table + bodies


def make_fake_exe_jpg(path: Path, kind: str = "elf") -> Path:
    """An executable header (ELF or DOS/PE `MZ`) saved under a .jpg name."""
    if kind == "elf":
        head = b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00\x3e\x00\x01\x00\x00\x00"
    else:
        head = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(44) + b"PE\0\0"
    Path(path).write_bytes(head + bytes(512))
    return Path(path)


def make_record(file_type: str, name: str, **extra: Any) -> FileRecord:
    """A ready file's record (id 1 unless told), for widgets shown without a library."""
    now = datetime.now(UTC)
    fields: dict[str, Any] = dict(
        id=1,
        storage_key=f"k/{name}",
        original_filename=name,
        content_type=None,
        file_type=file_type,
        size=None,
        sha256=None,
        width=None,
        height=None,
        duration=None,
        video_codec=None,
        audio_codec=None,
        frame_rate=None,
        bit_rate=None,
        rotation=None,
        extra={},
        athlete_id=None,
        athlete_name=None,
        is_public=False,
        description="",
        status="ready",
        failure_reason=None,
        has_thumbnail=False,
        created_at=now,
        updated_at=now,
        deleted_at=None,
        version=1,
    )
    fields.update(extra)
    return FileRecord(**fields)


def make_sparse_gif(path: Path, canvas: Size, frames: int) -> Path:
    """An animated GIF of `frames` one-pixel frames on a `canvas`-sized screen, written byte by
    byte (Pillow would hold every frame at the canvas's size): tiny on disk, while decoding its
    last frame composes every frame onto the whole canvas."""
    width, height = canvas
    out = bytearray(b"GIF89a")
    out += width.to_bytes(2, "little") + height.to_bytes(2, "little") + bytes([0x80, 0, 0])
    out += bytes([0, 0, 0, 255, 255, 255])  # a global table of two colours
    out += b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"  # loop for ever
    for n in range(frames):
        out += b"\x21\xf9\x04\x00\x02\x00\x00\x00"  # 20 ms, no disposal
        x, y = n % width, (n // width) % height
        out += b"\x2c" + x.to_bytes(2, "little") + y.to_bytes(2, "little")
        out += b"\x01\x00\x01\x00\x00"  # 1 x 1, no local table
        out += b"\x02\x02\x44\x01\x00"  # LZW: clear, colour 0, end
    out += b"\x3b"
    path.write_bytes(bytes(out))
    return path
