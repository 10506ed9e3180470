"""A file name whose bytes are not UTF-8 (an old USB stick's or share's b"Pe\\xf1a.jpg", an old
client's form) is read as the cp1252/Latin-1 it was written in (core.filenames.readable_name).

`mediadesk upload a.jpg <such a name> z.jpg` stopped with a UnicodeEncodeError traceback at
that file (the form, the presign's JSON and tus' base64 could not carry its surrogate escapes):
z.jpg was never sent and no summary printed. A direct upload whose multipart filename is raw
Latin-1 bytes (filename="Jos\\xe9.jpg") was stored as "Jos\\ufffd.jpg". `mediadesk download -o`
into a folder so named saved the first file and stopped printing its path. Real HTTP over
loopback, moto's S3 server, output streams that refuse what UTF-8 cannot encode (a terminal's).
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest

from core.filenames import readable_name
from core.library import Library
from server.client import Client, cli
from server.entry import EmbeddedServer
from tests.media import make_jpeg
from tests.server_fixtures import Tokens, direct_upload, make_tokens, upload_file
from tests.test_client_net import big_video, tus_server

__all__ = ["tus_server"]

pytestmark = pytest.mark.timeout(120)


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"Jos\xe9 Pe\xf1a.jpg", "José Peña.jpg"),  # Latin-1
        (b"\x80 \x93quote\x94.jpg", "€ \u201cquote\u201d.jpg"),  # cp1252's own signs
        (b"Jos\xc3\xa9.jpg", "José.jpg"),  # UTF-8 stays UTF-8
        (b"odd\x81.jpg", "odd\x81.jpg"),  # cp1252 has no 0x81: Latin-1's control
        # UTF-8 but for a few bytes: its UTF-8 part stays (a regression of 7b76472 read it all
        # as cp1252, "NiÃ±o.jpg")
        (b"Ni\xc3\xb1o\x81.jpg", "Niño\x81.jpg"),  # a stray byte
        ("Fútbol ".encode() + b"\xe9.jpg", "Fútbol é.jpg"),  # one Latin-1 letter added
        ("日本語の写".encode() + "真".encode()[:2] + b".jpg", "日本語の写\ufffd.jpg"),  # cut
        ("写".encode() + "真".encode()[:1] + b"x.jpg", "写çx.jpg"),  # a lone lead byte
    ],
)
def test_the_bytes_of_a_name(raw: bytes, text: str) -> None:
    assert readable_name(raw) == text
    assert readable_name(os.fsdecode(raw)) == text  # what os.listdir and sys.argv give


def test_text_without_surrogate_escapes_is_left_alone() -> None:
    assert readable_name("José 写真.jpg") == "José 写真.jpg"
    assert readable_name("a\ud800.jpg") == "a\ud800.jpg"  # not an escaped byte: JSON's


def strict() -> io.TextIOWrapper:
    """A stream that refuses what UTF-8 cannot encode, as sys.stdout on a UTF-8 terminal."""
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict")


def written(stream: io.TextIOWrapper) -> bytes:
    stream.flush()
    return stream.buffer.getvalue()  # type: ignore[attr-defined,no-any-return]


def named(folder: Path, raw: bytes, seed: int) -> str:
    """A JPEG at `folder`/`raw` (bytes as the file system holds them): its path as Python
    hands it over (surrogate escapes)."""
    path = os.path.join(os.fsencode(folder), raw)
    make_jpeg(Path(os.fsdecode(path)), size=(32, 24), color=(seed, 90, 40))
    return os.fsdecode(path)


def test_the_cli_uploads_such_a_name_and_goes_on(
    live: EmbeddedServer, library: Library, tmp_path: Path
) -> None:
    token = make_tokens(library).upload
    first = named(tmp_path, b"a_first.jpg", 10)
    latin = named(tmp_path, b"Jos\xe9 latin1.jpg", 20)
    refused = os.fsdecode(os.path.join(os.fsencode(tmp_path), b"Pe\xf1a notes.jpg"))
    Path(refused).write_text("not a photo\n")
    last = named(tmp_path, b"z_last.jpg", 30)
    out, err = strict(), strict()
    code = cli.run(
        ["upload", first, latin, refused, last, "--server", live.url, "--token", token], out, err
    )
    said, progress = written(out).decode(), written(err).decode()
    assert code == 1, said + progress  # the refused file
    assert "Uploaded 3, duplicates 0, refused 1, failed 0" in said
    assert f"refused {tmp_path}/Peña notes.jpg: " in said
    assert "José latin1.jpg" in progress and "Traceback" not in progress
    stored = sorted(f.original_filename for f in library.list_files().items)
    assert stored == ["José latin1.jpg", "a_first.jpg", "z_last.jpg"]


def test_a_presigned_upload_of_such_a_name(
    s3_live: EmbeddedServer, s3_library: Library, tmp_path: Path
) -> None:
    photo = named(tmp_path, b"Se\xf1al.jpg", 50)
    with Client(s3_live.url, make_tokens(s3_library).upload) as client:
        result = client.upload(photo, presigned=True)
    assert result.flow == "presigned" and result.file["original_filename"] == "Señal.jpg"


def test_a_tus_upload_of_such_a_name(
    tus_server: tuple[EmbeddedServer, str], media_dir: Any, tmp_path: Path
) -> None:
    live, token = tus_server
    video = big_video(media_dir.mp4, tmp_path / "clip.mp4")
    moved = os.fsdecode(os.path.join(os.fsencode(tmp_path), b"Gr\xfcn clip.mp4"))
    video.rename(moved)
    with Client(live.url, token) as client:
        result = client.upload(moved)
    assert result.flow == "tus" and result.file["original_filename"] == "Grün clip.mp4"


def test_a_direct_upload_of_a_latin1_form_name(
    live: EmbeddedServer, tokens: Tokens, tmp_path: Path
) -> None:
    jpeg = make_jpeg(tmp_path / "l1.jpg", size=(32, 24), color=(7, 8, 9))
    boundary = "BoUnDaRy"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file_type"\r\n\r\nimage\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="'.encode()
        + b"Jos\xe9 \x80.jpg"
        + b'"\r\nContent-Type: image/jpeg\r\n\r\n'
        + jpeg.read_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    record = direct_upload(
        live.url, tokens.upload, body, f"multipart/form-data; boundary={boundary}"
    )
    assert record["original_filename"] == "José €.jpg"


def test_the_cli_downloads_into_a_folder_so_named(
    live: EmbeddedServer, library: Library, tmp_path: Path
) -> None:
    tokens = make_tokens(library)
    ids = []
    for seed in (60, 70):
        photo = make_jpeg(tmp_path / f"p{seed}.jpg", size=(32, 24), color=(seed, 1, 2))
        ids.append(str(upload_file(live, tokens.upload, photo)["id"]))
    folder = os.fsdecode(os.path.join(os.fsencode(tmp_path), b"Fotos de Mar\xeda"))
    out, err = strict(), strict()
    code = cli.run(
        ["download", *ids, "-o", folder, "--server", live.url, "--token", tokens.read], out, err
    )
    assert code == 0, written(err)
    lines = written(out).splitlines()
    assert len(lines) == 2 and all(os.path.isfile(line) for line in lines), lines
    assert all(line.startswith(b"%s/Fotos de Mar\xeda/" % os.fsencode(tmp_path)) for line in lines)
