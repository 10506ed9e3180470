"""Session-wide prebuilt media: one file of every accepted type plus the usual bad inputs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests import media


@dataclass(frozen=True)
class MediaSet:
    """Paths of prebuilt files. Shared by the whole session: copy a file before changing it."""

    dir: Path
    jpeg: Path  # 640x480, EXIF make/model/DateTimeOriginal
    jpeg_rotated: Path  # 640x480 stored, EXIF orientation 6 (displays 480x640)
    png: Path  # 400x300
    webp: Path  # 400x300
    gif: Path  # 160x120, 4 frames
    mp4: Path  # 2 s, 320x240, 24 fps, H.264 + AAC, faststart
    webm: Path  # 2 s, 320x240, VP9 + Opus
    avi: Path  # 2 s, 320x240, MPEG-4 + MP3
    mov: Path  # 2 s, 320x240, H.264 + AAC
    wmv: Path  # 2 s, 320x240, WMV2 + WMA
    truncated_jpeg: Path
    png_bomb: Path
    fake_exe_jpg: Path
    wav: Path
    mkv: Path
    empty: Path

    @property
    def images(self) -> dict[str, Path]:
        return {"jpeg": self.jpeg, "png": self.png, "webp": self.webp, "gif": self.gif}


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> MediaSet:
    d = tmp_path_factory.mktemp("media")
    (d / "empty.jpg").write_bytes(b"")
    return MediaSet(
        dir=d,
        jpeg=media.make_jpeg(d / "photo.jpg"),
        jpeg_rotated=media.make_jpeg(d / "rotated.jpg", exif_orientation=6),
        png=media.make_png(d / "image.png"),
        webp=media.make_webp(d / "image.webp"),
        gif=media.make_gif(d / "anim.gif"),
        mp4=media.make_mp4(d / "clip.mp4"),
        webm=media.make_webm(d / "clip.webm"),
        avi=media.make_avi(d / "clip.avi"),
        mov=media.make_mov(d / "clip.mov"),
        wmv=media.make_wmv(d / "clip.wmv"),
        truncated_jpeg=media.make_truncated_jpeg(d / "truncated.jpg"),
        png_bomb=media.make_png_bomb(d / "bomb.png"),
        fake_exe_jpg=media.make_fake_exe_jpg(d / "holiday.jpg"),
        wav=media.make_wav(d / "sound.wav"),
        mkv=media.make_mkv(d / "clip.mkv"),
        empty=d / "empty.jpg",
    )
