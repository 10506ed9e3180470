"""A file name written as an RFC 9110 quoted-string, the way Go's mime/multipart and
`curl --form-escape` write it (`\\"` for a quote, `\\\\` for a backslash), is the name the
sender meant (security review 31, finding 3): `filename="Say \\"cheese\\".jpg"` was cut at the
escaped quote (`Say \\`, a folder to the stored-name rule) and saved as `unnamed.jpg`. Browsers'
names (WHATWG: %22, a raw backslash) are read as before (tests/test_form_filenames.py), and the
stored-name rule (core/filenames.py) still applies to every name. Real HTTP over loopback."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest

from core.filenames import clean_filename
from server.entry import EmbeddedServer
from tests.server_fixtures import Tokens, direct_upload, tus_upload
from tests.test_form_filenames import Pictures

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def pictures(tmp_path: Path) -> Pictures:
    return Pictures(tmp_path)


def go_escaped(name: str) -> str:
    """Go's mime/multipart escapeQuotes (strings.NewReplacer(`\\`, `\\\\`, `"`, `\\"`))."""
    return name.replace("\\", "\\\\").replace('"', '\\"')


def go_form(name: str, data: bytes) -> tuple[bytes, str]:
    """The bytes Go's multipart.Writer sends for WriteField("file_type", "image") and
    CreateFormFile("file", name): a 60-hex-digit boundary, the first part without a CRLF
    before it, CreateFormFile's application/octet-stream."""
    boundary = secrets.token_hex(30)
    body = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file_type"\r\n\r\n'
        "image"
        f"\r\n--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{go_escaped(name)}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    body += data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


# (the name the sender picked, the name stored)
GO_NAMES = [
    ('Say "cheese".jpg', 'Say "cheese".jpg'),
    ('100%22 "final".jpg', '100%22 "final".jpg'),  # %22 is the name's own here
    ('q"; filename="evil.jpg', 'q"; filename="evil.jpg'),  # no second parameter
    ('../"etc"/passwd.jpg', "passwd.jpg"),  # folders still go
    ('..\\..\\"windows"\\win.ini.jpg', "win.ini.jpg"),
    ('"x"\u202egpj.exe', '"x"gpj.exe.jpg'),  # the bidi override still goes; the type's ext
    ('tab\t"and"\x01ctl\x1b.jpg', 'tab "and"ctl.jpg'),  # raw controls after an escaped quote
    ('".jpg', '".jpg'),
    ('\\"/..', "unnamed.jpg"),  # a folder's end and dots: never a name of dots
]


@pytest.mark.parametrize(("name", "stored"), GO_NAMES)
def test_go_names_are_stored_as_picked(
    live: EmbeddedServer, tokens: Tokens, pictures: Pictures, name: str, stored: str
) -> None:
    record = direct_upload(live.url, tokens.upload, *go_form(name, pictures.next().read_bytes()))
    assert record["original_filename"] == stored
    # every way in, one name: tus takes the name as it is, no quoting at all
    by_tus = tus_upload(
        live.url,
        tokens.upload,
        pictures.next().read_bytes(),
        {"filename": name, "filetype": "image/jpeg"},
    )
    assert by_tus["original_filename"] == stored


def test_the_testers_bytes(live: EmbeddedServer, tokens: Tokens, pictures: Pictures) -> None:
    """The report's request, byte for byte (curl --form-escape sends the same header)."""
    body = (
        b'--QB\r\nContent-Disposition: form-data; name="file_type"\r\n\r\nimage\r\n--QB\r\n'
        b'Content-Disposition: form-data; name="file"; filename="Say \\"cheese\\".jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n" + pictures.next().read_bytes() + b"\r\n--QB--\r\n"
    )
    record = direct_upload(live.url, tokens.upload, body, "multipart/form-data; boundary=QB")
    assert record["original_filename"] == 'Say "cheese".jpg'


def test_a_browser_name_ending_in_a_backslash_is_read_as_before(
    live: EmbeddedServer, tokens: Tokens, pictures: Pictures
) -> None:
    """`filename="a\\b\\"`: a browser's raw backslash before the closing quote, not an escape
    (the quoted-string reading would run past the quote)."""
    boundary = "----WebKitFormBoundaryQ1"
    body = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file_type"\r\n\r\nimage\r\n'
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="x.jpg\\"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    body += pictures.next().read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    record = direct_upload(
        live.url, tokens.upload, body, f"multipart/form-data; boundary={boundary}"
    )
    assert record["original_filename"] == "unnamed.jpg"  # "x.jpg\" is a folder: as before


def _curl_form_escape() -> bool:
    if shutil.which("curl") is None:
        return False
    help_all = subprocess.run(["curl", "--help", "all"], capture_output=True, text=True).stdout
    return "--form-escape" in help_all


@pytest.mark.skipif(not _curl_form_escape(), reason="curl without --form-escape (< 7.81)")
def test_curl_form_escape_names_are_stored_as_typed(
    live: EmbeddedServer, tokens: Tokens, pictures: Pictures
) -> None:
    for typed in ('Say "cheese".jpg', 'back\\slash "q".jpg'):
        run = subprocess.run(
            [
                "curl",
                "-s",
                "--form-escape",
                "-H",
                f"Authorization: Bearer {tokens.upload}",
                "-F",
                "file_type=image",
                "-F",
                f"file=@{pictures.next()};type=image/jpeg;filename={typed}",
                f"{live.url}/files/upload/direct",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout)["original_filename"] == clean_filename(typed), run.stdout
