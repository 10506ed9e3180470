"""validate_file on real media: metadata of every accepted type, and each bad input's error."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Literal

import pymediainfo
import pytest
from PIL import Image

from core.errors import (
    CorruptFile,
    EmptyFile,
    InvalidInput,
    TooLarge,
    TypeMismatch,
    UnsupportedType,
)
from core.metadata import MediaInfo
from core.validation import validate_file
from tests import media
from tests.media_fixtures import MediaSet

BIG = 50 * 1024 * 1024


@pytest.mark.parametrize(
    ("name", "mime", "ext", "size"),
    [
        ("jpeg", "image/jpeg", "jpg", (640, 480)),
        ("png", "image/png", "png", (400, 300)),
        ("webp", "image/webp", "webp", (400, 300)),
        ("gif", "image/gif", "gif", (160, 120)),
    ],
)
def test_images(media_dir: MediaSet, name: str, mime: str, ext: str, size: tuple[int, int]) -> None:
    path = getattr(media_dir, name)
    info = validate_file(path, "image", BIG)
    assert (info.mime, info.kind, info.ext) == (mime, "image", ext)
    assert (info.width, info.height) == size
    assert info.size == path.stat().st_size
    assert info.rotation == 0 and info.duration is None and info.video_codec is None


def test_jpeg_exif(media_dir: MediaSet) -> None:
    info = validate_file(media_dir.jpeg, "image", BIG)
    assert info.extra["camera_make"] == "MediaDesk"
    assert info.extra["camera_model"] == "TestCam 1"
    assert info.extra["taken_at"] == "2024-05-01T10:30:00"  # no OffsetTimeOriginal: local
    rotated = validate_file(media_dir.jpeg_rotated, "image", BIG)
    assert (rotated.width, rotated.height, rotated.rotation) == (640, 480, 90)
    assert rotated.display_size == (480, 640)
    assert rotated.extra["exif_orientation"] == 6


def test_animated_gif(media_dir: MediaSet) -> None:
    info = validate_file(media_dir.gif, "image", BIG)
    assert info.extra["animated"] is True and info.extra["frames"] == 4


def test_a_photo_with_a_second_embedded_image_is_not_animated(tmp_path: Path) -> None:
    """An MPO (a phone's Ultra HDR photo with its gain map, a 3D camera's pair) was catalogued
    animated with 2 frames: its second image is not a frame."""
    path = tmp_path / "ultrahdr.jpg"
    photo = Image.new("RGB", (320, 240), (200, 120, 40))
    photo.save(path, "MPO", save_all=True, append_images=[Image.new("RGB", (160, 120))])
    assert Image.open(path).format == "MPO"
    info = validate_file(path, "image", BIG)
    assert (info.mime, info.width, info.height) == ("image/jpeg", 320, 240)
    assert info.extra["format"] == "MPO"
    assert "animated" not in info.extra and "frames" not in info.extra


@pytest.mark.parametrize("name", ["mp4", "avi", "wmv"])
def test_a_video_named_without_its_extension_reads_as_the_same_file(
    media_dir: MediaSet, tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An upload's `<id>.part` (or a spool file) is read by MediaInfo under a name with the
    sniffed container's extension (a name it does not know costs 40 ms on 1 GiB) and gives
    the same metadata as the file under its own name; nothing of that name is left behind."""
    source = getattr(media_dir, name)
    part = tmp_path / "0a1b2c3d4e5f60718293a4b5c6d7e8f9.part"
    shutil.copyfile(source, part)
    seen: list[tuple[str, bytes]] = []
    parse = pymediainfo.MediaInfo.parse  # (core.metadata imports it where a video is read)

    def noting(path: Any, **kwargs: Any) -> Any:
        seen.append((str(path), Path(path).read_bytes()))  # through the name given
        return parse(path, **kwargs)

    monkeypatch.setattr(pymediainfo.MediaInfo, "parse", noting)
    assert validate_file(part, "video", BIG) == validate_file(source, "video", BIG)
    assert [n.rsplit(".", 1)[1] for n, _ in seen] == [name, name]
    assert all(data == part.read_bytes() for _, data in seen)
    assert seen[1][0] == str(source)  # a file named right is read as it is
    assert sorted(p.name for p in tmp_path.iterdir()) == [part.name]
    assert not Path(seen[0][0]).parent.exists()  # the link's own folder is gone


# Reads a video by its own name and as an upload's `<id>.part`, in a folder named outside ASCII,
# and a "video" MediaInfo cannot open (a folder), in a process started under the locale given.
_READ_IN_LOCALE = """
import json, shutil, sys
from pathlib import Path
from core.errors import CorruptFile
from core.metadata import video_metadata
from core.validation import validate_file
source, folder = Path(sys.argv[1]), Path(sys.argv[2])
folder.mkdir()
named = folder / "Vídeo José.mp4"
part = folder / "0a1b2c3d4e5f60718293a4b5c6d7e8f9.part"
shutil.copyfile(source, named)
shutil.copyfile(source, part)
(folder / "carpeta.mp4").mkdir()
out = {}
for key, read in (
    ("named", lambda: validate_file(named, "video", 50 * 1024 * 1024)),
    ("part", lambda: validate_file(part, "video", 50 * 1024 * 1024)),
    ("folder", lambda: video_metadata(folder / "carpeta.mp4")),
):
    try:
        info = read()
        out[key] = [info.width, info.height, info.video_codec]
    except CorruptFile as exc:
        out[key] = exc.message
print(json.dumps(out))
"""


def _read_in_locale(source: Path, folder: Path, **env: str) -> dict[str, Any]:
    run = subprocess.run(
        [sys.executable, "-c", _READ_IN_LOCALE, str(source), str(folder)],
        cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, "LANG": env.get("LC_ALL", ""), **env},
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=True,
    )
    result: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    return result


def _assert_read(result: dict[str, Any], folder: Path) -> None:
    assert result["named"] == [320, 240, "h264"]
    assert result["part"] == [320, 240, "h264"]
    # a file MediaInfo cannot open is said without this computer's own path
    assert result["folder"] == "The video cannot be read (MediaInfo could not open it)"
    assert str(folder) not in result["folder"]


def test_a_video_in_a_folder_named_outside_ascii_reads_under_the_c_locale(
    media_dir: MediaSet, tmp_path: Path
) -> None:
    """LANG=C LC_ALL=C and a data folder like '.../Médias José': MediaInfo turned the name into
    bytes through the C library's locale and could not open it, so every video was refused as
    corrupt_file "An error occured while opening <server path> with libmediainfo"."""
    folder = tmp_path / "Médias José"
    _assert_read(_read_in_locale(media_dir.mp4, folder, LC_ALL="C"), folder)


@pytest.fixture(scope="module")
def turkish_locale(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A LOCPATH folder holding tr_TR.UTF-8, made with localedef (not installed here)."""
    localedef = shutil.which("localedef")
    if localedef is None:
        pytest.skip("localedef is not installed: no tr_TR.UTF-8 locale can be made")
    folder = tmp_path_factory.mktemp("locales")
    made = subprocess.run(
        [localedef, "-i", "tr_TR", "-f", "UTF-8", str(folder / "tr_TR.UTF-8")],
        capture_output=True,
        text=True,
    )
    if not (folder / "tr_TR.UTF-8").is_dir():
        pytest.skip(f"localedef could not make tr_TR.UTF-8: {made.stderr.strip()}")
    return folder


def test_a_video_reads_under_a_turkish_locale(
    media_dir: MediaSet, tmp_path: Path, turkish_locale: Path
) -> None:
    """LC_ALL=tr_TR.UTF-8: MediaInfo folds its option names with towlower(), 'Info_Version'
    became 'ınfo_version' (dotless i) and every video was refused as corrupt_file "Could not
    determine library version"; `doctor`'s video reader check said the same."""
    folder = tmp_path / "Médias José"
    env = {"LOCPATH": str(turkish_locale), "LC_ALL": "tr_TR.UTF-8"}
    _assert_read(_read_in_locale(media_dir.mp4, folder, **env), folder)
    doctor = subprocess.run(
        [
            sys.executable,
            "-c",
            "from core.doctor import check_mediainfo; c = check_mediainfo(); print(c.ok, c.detail)",
        ],
        cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, "LANG": "tr_TR.UTF-8", **env},
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=True,
    )
    assert doctor.stdout.startswith("True libmediainfo "), doctor.stdout


@pytest.mark.parametrize(
    ("name", "mime", "ext", "video_codec", "audio_codec"),
    [
        ("mp4", "video/mp4", "mp4", "h264", "aac"),
        ("webm", "video/webm", "webm", "vp9", "opus"),
        ("avi", "video/x-msvideo", "avi", "mpeg4", "mp3"),
        ("mov", "video/quicktime", "mov", "h264", "aac"),
        ("wmv", "video/x-ms-wmv", "wmv", "wmv2", "wma"),
    ],
)
def test_videos(
    media_dir: MediaSet, name: str, mime: str, ext: str, video_codec: str, audio_codec: str
) -> None:
    info = validate_file(getattr(media_dir, name), "video", BIG)
    assert (info.mime, info.kind, info.ext) == (mime, "video", ext)
    assert (info.width, info.height) == (320, 240)
    assert info.duration == pytest.approx(2.0, abs=0.1)
    assert (info.video_codec, info.audio_codec) == (video_codec, audio_codec)
    assert info.frame_rate == pytest.approx(24.0)
    assert info.bit_rate and info.bit_rate > 0
    assert info.rotation == 0
    assert info.extra["audio_channels"] == 1 and info.extra["container"]


def test_video_without_audio_and_rotated(tmp_path: Path) -> None:
    path = media.make_mp4(tmp_path / "phone.mp4", seconds=1, audio=False, rotation=90)
    info = validate_file(path, "video", BIG)
    assert info.audio_codec is None and "audio_format" not in info.extra
    assert info.rotation == 90 and info.display_size == (240, 320)
    assert isinstance(info, MediaInfo) and info.as_dict()["rotation"] == 90


def test_type_comes_from_content(media_dir: MediaSet, tmp_path: Path) -> None:
    disguised = tmp_path / "photo.mp4"
    disguised.write_bytes(media_dir.png.read_bytes())
    info = validate_file(disguised, "image", BIG)
    assert (info.mime, info.ext) == ("image/png", "png")


@pytest.mark.parametrize("name", ["fake_exe_jpg", "wav", "mkv"])
def test_unsupported(media_dir: MediaSet, name: str) -> None:
    kind = "image" if name == "fake_exe_jpg" else "video"
    with pytest.raises(UnsupportedType):
        validate_file(getattr(media_dir, name), kind, BIG)


def test_truncated_jpeg(media_dir: MediaSet) -> None:
    with pytest.raises(CorruptFile):
        validate_file(media_dir.truncated_jpeg, "image", BIG)


@pytest.mark.parametrize("name", ["png", "webp", "gif"])
def test_truncated_images(media_dir: MediaSet, tmp_path: Path, name: str) -> None:
    source = getattr(media_dir, name)
    with pytest.raises(CorruptFile):
        validate_file(media.make_truncated(source, tmp_path / source.name, 0.6), "image", BIG)


def test_png_bomb_is_refused_fast(media_dir: MediaSet) -> None:
    started = time.perf_counter()
    with pytest.raises(CorruptFile, match="larger than 100 megapixels"):
        validate_file(media_dir.png_bomb, "image", BIG)
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize("action", ["ignore", "error"])
def test_image_over_pixel_limit(tmp_path: Path, action: Literal["ignore", "error"]) -> None:
    """120 MP: above MAX_PIXELS, below Pillow's hard error; refused whatever the warning filter."""
    bomb = media.make_png_bomb(tmp_path / "big.png", 12_000, 10_000)
    with warnings.catch_warnings():
        warnings.simplefilter(action, Image.DecompressionBombWarning)
        with pytest.raises(CorruptFile, match="larger than 100 megapixels"):
            validate_file(bomb, "image", BIG)


@pytest.mark.parametrize("name", ["mp4", "webm", "avi", "mov", "wmv"])
@pytest.mark.parametrize("keep", [0.5, 0.95])
def test_truncated_videos(media_dir: MediaSet, tmp_path: Path, name: str, keep: float) -> None:
    source = getattr(media_dir, name)
    cut = media.make_truncated(source, tmp_path / source.name, keep)
    with pytest.raises(CorruptFile):
        validate_file(cut, "video", BIG)


def test_truncated_mp4_without_faststart(tmp_path: Path) -> None:
    """The moov atom is at the end: a cut file has no usable tracks at all."""
    full = media.make_mp4(tmp_path / "full.mp4", seconds=1, faststart=False)
    with pytest.raises(CorruptFile):
        validate_file(media.make_truncated(full, tmp_path / "cut.mp4", 0.8), "video", BIG)


def test_garbage_after_video_header(media_dir: MediaSet, tmp_path: Path) -> None:
    path = tmp_path / "broken.avi"
    path.write_bytes(media_dir.avi.read_bytes()[:16] + bytes(range(256)) * 8)
    with pytest.raises(CorruptFile):
        validate_file(path, "video", BIG)


def test_declared_kind_must_match(media_dir: MediaSet) -> None:
    with pytest.raises(TypeMismatch):
        validate_file(media_dir.mp4, "image", BIG)
    with pytest.raises(TypeMismatch):
        validate_file(media_dir.jpeg, "video", BIG)
    with pytest.raises(InvalidInput):
        validate_file(media_dir.jpeg, "document", BIG)


def test_empty(media_dir: MediaSet) -> None:
    with pytest.raises(EmptyFile):
        validate_file(media_dir.empty, "image", BIG)


def test_size_limit(media_dir: MediaSet) -> None:
    size = media_dir.jpeg.stat().st_size
    assert validate_file(media_dir.jpeg, "image", size).size == size
    with pytest.raises(TooLarge) as caught:
        validate_file(media_dir.jpeg, "image", size - 1)
    assert caught.value.details == {"size": size, "max_size": size - 1}
