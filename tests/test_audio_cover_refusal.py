"""A song or voice note with its cover art (sound plus an attached picture, as iTunes and phones
write them), named .mp4 or .m4a: not a video, so refused at upload as sound only (400
unsupported_type, README "Allowed types"), never stored as a video without a thumbnail nor
encoded into a web copy or HLS of its still cover. Made with ffmpeg, uploaded over real HTTP
on loopback."""

from __future__ import annotations

import subprocess
from pathlib import Path

import av
import pytest

from core.mediatypes import VIDEO_TYPES
from server.entry import EmbeddedServer
from tests.test_upload_accepted_types import _direct, _error, strict  # noqa: F401 (a fixture)

pytestmark = pytest.mark.timeout(90)


def _ffmpeg(*args: str) -> None:
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args], check=True, timeout=60
    )


@pytest.mark.parametrize("name", ["song.mp4", "song.m4a"])
def test_sound_with_a_cover_picture_is_refused_as_sound_only(
    strict: tuple[EmbeddedServer, str],  # noqa: F811
    tmp_path: Path,
    name: str,
) -> None:
    server, token = strict
    cover_flag = av.stream.Disposition.attached_pic
    sound, cover, song = tmp_path / "sound.m4a", tmp_path / "cover.png", tmp_path / name
    _ffmpeg("-f", "lavfi", "-i", "sine=f=440:d=1:r=48000", "-c:a", "aac", str(sound))
    _ffmpeg("-f", "lavfi", "-i", "color=red:s=96x64:d=1", "-frames:v", "1", str(cover))
    _ffmpeg(
        *["-i", str(sound), "-i", str(cover), "-map", "0", "-map", "1", "-c", "copy"],
        *["-disposition:v:0", "attached_pic", str(song)],
    )
    with av.open(str(song)) as c:  # the file is what the test is about
        streams = [(t.codec_context.name, bool(t.disposition & cover_flag)) for t in c.streams]
    assert streams == [("aac", False), ("png", True)], streams
    reply = _direct(server, token, name, song.read_bytes(), file_type="video")
    error = _error(reply, 400, "unsupported_type")
    assert "MPEG-4 audio" in error["message"], error
    assert error["details"]["found_mime"] == "audio/mp4"
    assert error["details"]["allowed"] == [t.mime for t in VIDEO_TYPES if t.accepted_by_default]
    assert server.library.list_files().total == 0
