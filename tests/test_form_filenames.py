"""A direct upload stores the name the sender meant, as tus and presigned uploads do.

Browsers, curl and urllib3 write a multipart file name by the WHATWG HTML form encoding: a
quote goes as %22, CR as %0D and LF as %0A, nothing is backslash-escaped, other bytes are raw
UTF-8. Read by RFC 2616 quoted-string rules instead, `it's %22quoted%22.jpg` was stored as is
and `..\\..\\windows\\win.ini.jpg` lost its backslashes (`windowswin.ini.jpg`). Real HTTP over
loopback, raw bodies as Chromium and curl send them (and curl itself)."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from core.storage.disposition import ascii_fallback
from server.entry import EmbeddedServer
from tests.media import make_jpeg
from tests.server_fixtures import (
    Tokens,
    bearer,
    direct_upload,
    http_call,
    presigned_upload,
    tus_upload,
)

pytestmark = pytest.mark.timeout(120)

# (the name a user picked, the name every way in stores)
NAMES = [
    ('it\'s "quoted".jpg', 'it\'s "quoted".jpg'),
    ("a\r\nSet-Cookie: evil=1\r\nX: .jpg", "a Set-Cookie: evil=1 X: .jpg"),
    ("..\\..\\windows\\win.ini.jpg", "win.ini.jpg"),
    ('q"; filename="evil.jpg', 'q"; filename="evil.jpg'),
    ("ünïcödé 写真 🏃 100%.jpg", "ünïcödé 写真 🏃 100%.jpg"),
    # browsers send ; and = raw in the quotes: aiohttp's reading of the part gave up on the
    # whole header (no name: 400 "Every form part needs a name")
    ("Final;score=3-1; Madrid.jpg", "Final;score=3-1; Madrid.jpg"),
    ('a; name="x"; b=c.jpg', 'a; name="x"; b=c.jpg'),
]


@pytest.fixture
def served(live: EmbeddedServer, tokens: Tokens) -> tuple[EmbeddedServer, Tokens]:
    return live, tokens


class Pictures:
    """Distinct JPEGs (the same bytes twice would be one file, named once)."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.count = folder, 0

    def next(self) -> Path:
        self.count += 1
        shade = (self.count * 37 % 256, self.count * 91 % 256, 120)
        return make_jpeg(self.folder / f"p{self.count}.jpg", size=(64, 48), color=shade)


@pytest.fixture
def pictures(tmp_path: Path) -> Pictures:
    return Pictures(tmp_path)


def browser_form(disposition_filename: str, data: bytes) -> tuple[bytes, str]:
    """A form as Chromium's FormData sends it; `disposition_filename` is put verbatim after
    `filename=` (already encoded by the caller)."""
    boundary = f"----WebKitFormBoundary{uuid.uuid4().hex[:16]}"
    body = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="file_type"\r\n\r\nimage\r\n'
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="file"; filename={disposition_filename}\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    body += data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def whatwg_quoted(name: str) -> str:
    """The WHATWG multipart/form-data encoding of a file name, in its quotes."""
    return '"' + name.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A") + '"'


def direct(url: str, token: str, disposition_filename: str, data: bytes) -> dict[str, Any]:
    return direct_upload(url, token, *browser_form(disposition_filename, data))


def by_tus(url: str, token: str, name: str, data: bytes) -> dict[str, Any]:
    return tus_upload(url, token, data, {"filename": name, "filetype": "image/jpeg"})


def by_presign(url: str, token: str, name: str, data: bytes) -> dict[str, Any]:
    ask = {"original_filename": name, "file_type": "image", "content_type": "image/jpeg"}
    return presigned_upload(url, token, data, {**ask, "size": len(data)})


@pytest.mark.parametrize(
    ("name", "stored"),
    NAMES,
    ids=["quote", "crlf", "backslash", "inject", "utf8", "semicolons", "name-inside"],
)
def test_direct_tus_and_presign_store_the_same_name(
    served: tuple[EmbeddedServer, Tokens], pictures: Pictures, name: str, stored: str
) -> None:
    server, tokens = served
    token = tokens.upload
    names = {
        "direct": direct(server.url, token, whatwg_quoted(name), pictures.next().read_bytes())[
            "original_filename"
        ],
        "tus": by_tus(server.url, token, name, pictures.next().read_bytes())["original_filename"],
        "presign": by_presign(server.url, token, name, pictures.next().read_bytes())[
            "original_filename"
        ],
    }
    assert names == dict.fromkeys(names, stored)


def test_filename_star_wins_and_backslashes_are_not_escapes(
    served: tuple[EmbeddedServer, Tokens], pictures: Pictures
) -> None:
    """RFC 5987 filename* (a few clients add it for non-ASCII names) is decoded and preferred;
    a backslash before a character keeps both (no quoted-pair reading)."""
    server, tokens = served
    star = "\"fallback.jpg\"; filename*=UTF-8''%E5%86%99%E7%9C%9F%20%22q%22.jpg"
    record = direct(server.url, tokens.upload, star, pictures.next().read_bytes())
    assert record["original_filename"] == '写真 "q".jpg'
    bad_star = "\"plain.jpg\"; filename*=UTF-8''%FF%FE.jpg"  # not UTF-8: the plain name
    record = direct(server.url, tokens.upload, bad_star, pictures.next().read_bytes())
    assert record["original_filename"] == "plain.jpg"
    record = direct(server.url, tokens.upload, '"a\\bc.jpg"', pictures.next().read_bytes())
    assert record["original_filename"] == "bc.jpg"  # "a\" is a folder, as by tus and presign
    record = direct(server.url, tokens.upload, '"100%25 %41.jpg"', pictures.next().read_bytes())
    assert record["original_filename"] == "100%25 %41.jpg"  # only %22, %0D and %0A are escapes


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_names_are_stored_as_typed(
    served: tuple[EmbeddedServer, Tokens], pictures: Pictures
) -> None:
    server, tokens = served
    for typed, stored in NAMES[0], NAMES[2]:
        path = pictures.next()
        run = subprocess.run(
            [
                "curl",
                "-s",
                "-H",
                f"Authorization: Bearer {tokens.upload}",
                "-F",
                "file_type=image",
                "-F",
                f"file=@{path};type=image/jpeg;filename={typed}",
                f"{server.url}/files/upload/direct",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout)["original_filename"] == stored, run.stdout


def test_a_file_part_without_a_usable_name_is_told_so(
    served: tuple[EmbeddedServer, Tokens], pictures: Pictures
) -> None:
    """A `file` part whose only name is a filename* that cannot be read is still the file
    (named "unnamed", with its type's extension); a `file` part with no name at all (curl -F
    'file=<photo.jpg' sends the bytes as a text field) is told what is missing, not that its
    bytes are not UTF-8."""
    server, tokens = served
    body, ctype = browser_form("x", pictures.next().read_bytes())
    body = body.replace(b"; filename=x\r\n", b"; filename*=UTF-8''%FF%FEbad.jpg\r\n")
    reply = http_call(
        f"{server.url}/files/upload/direct",
        "POST",
        body,
        {**bearer(tokens.upload), "Content-Type": ctype},
    )
    assert reply.status == 201, reply.body
    record = reply.json()
    assert record["original_filename"] == "unnamed.jpg"
    body, ctype = browser_form("x", pictures.next().read_bytes())
    body = body.replace(b"; filename=x\r\n", b"\r\n")  # the part has a name only
    reply = http_call(
        f"{server.url}/files/upload/direct",
        "POST",
        body,
        {**bearer(tokens.upload), "Content-Type": ctype},
    )
    assert reply.status == 400, reply.body
    error = reply.json()["error"]
    assert (
        error["code"] == "invalid_input" and "no 'file' part with a file name" in error["message"]
    )


def test_field_names_are_read_as_browsers_write_them(
    served: tuple[EmbeddedServer, Tokens], pictures: Pictures
) -> None:
    """A part's field name is read by the same rules as its file name (the WHATWG encoding):
    the fields still count when a quoted file name holds `;` and `=`, and a name with a quote
    (%22), a backslash or a semicolon is the name the sender meant (aiohttp kept %22 and ate
    the backslash), as an error about that field tells."""
    server, tokens = served
    body, ctype = browser_form(whatwg_quoted("Final;score=3-1; Madrid.jpg"), b"")
    boundary = ctype.split("boundary=", 1)[1]
    data = pictures.next().read_bytes()
    fields = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="is_public"\r\n\r\ntrue\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="description"\r\n\r\n'
        "Final; 3-1\r\n"
    ).encode()
    body = fields + body.replace(b"\r\n\r\n\r\n--", b"\r\n\r\n" + data + b"\r\n--")
    reply = http_call(
        f"{server.url}/files/upload/direct",
        "POST",
        body,
        {**bearer(tokens.upload), "Content-Type": ctype},
    )
    assert reply.status == 201, reply.body
    record = reply.json()
    assert record["original_filename"] == "Final;score=3-1; Madrid.jpg"
    assert record["is_public"] is True and record["description"] == "Final; 3-1"
    assert record["size"] == len(data)
    for sent, meant in [
        ('"no%22te\\x;y=z"', 'no"te\\x;y=z'),
        ("plain", "plain"),
    ]:
        body, ctype = browser_form('"p.jpg"', pictures.next().read_bytes())
        boundary = ctype.split("boundary=", 1)[1]
        bad = (
            f"--{boundary}\r\nContent-Disposition: form-data; name={sent}\r\n\r\n".encode()
            + b"\xff\xfe\r\n"
        )
        reply = http_call(
            f"{server.url}/files/upload/direct",
            "POST",
            bad + body,
            {**bearer(tokens.upload), "Content-Type": ctype},
        )
        assert reply.status == 400, reply.body
        assert reply.json()["error"]["message"] == f"The field {meant!r} is not valid UTF-8"


def test_raw_control_characters_in_a_browser_file_name_are_dropped(
    served: tuple[EmbeddedServer, Tokens], pictures: Pictures
) -> None:
    """Chromium escapes only CR, LF and the quote: other control bytes (ESC, \\x01, DEL, a
    tab) arrive raw in the part's Content-Disposition, where aiohttp refuses them in a header
    value. The upload is stored under the name every way in stores (no control characters; a
    tab is a space), and the file's bytes, which hold such bytes too, are kept as sent."""
    server, tokens = served
    for raw, stored in [
        ('"a\x01b\x1b[31mc.jpg"', "ab[31mc.jpg"),
        ('"del\x7f\x00 tab\t.jpg"', "del tab .jpg"),
    ]:
        data = pictures.next().read_bytes()
        assert any(b < 0x20 for b in data)
        record = direct(server.url, tokens.upload, raw, data)
        assert record["original_filename"] == stored
        assert record["size"] == len(data)
        got = http_call(f"{server.url}/stream/{record['id']}/raw", headers=bearer(tokens.upload))
        assert got.status == 200 and got.body == data
        assert (
            by_tus(server.url, tokens.upload, raw.strip('"'), pictures.next().read_bytes())[
                "original_filename"
            ]
            == stored
        )


JOINED = [
    "\U0001f468\u200d\U0001f469\u200d\U0001f467 familia.jpg",  # one emoji, joined by ZWJ
    "\u0646\u0627\u0645\u0647\u200c\u0647\u0627.jpg",  # Persian, a ZWNJ in its spelling
    "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f scotland.jpg",
]


@pytest.mark.parametrize("name", JOINED, ids=["zwj-family", "zwnj-persian", "tag-flag"])
def test_joined_emoji_and_zwnj_spellings_are_stored_and_served_as_sent(
    served: tuple[EmbeddedServer, Tokens], pictures: Pictures, name: str
) -> None:
    """Every format character was dropped: the family stored as three people, the Persian
    word in another spelling, the Scotland flag as a black flag."""
    server, tokens = served
    token = tokens.upload
    stored = [
        direct(server.url, token, whatwg_quoted(name), pictures.next().read_bytes()),
        by_tus(server.url, token, name, pictures.next().read_bytes()),
        by_presign(server.url, token, name, pictures.next().read_bytes()),
    ]
    assert [file["original_filename"] for file in stored] == [name] * 3
    shown = http_call(f"{server.url}/stream/{stored[0]['id']}/image", headers=bearer(tokens.read))
    assert shown.status == 200
    assert shown.headers["Content-Disposition"].endswith(quote(name, safe="!#$&+-.^_`|~"))


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_saves_an_accented_name_without_its_accents_not_with_underscores(
    served: tuple[EmbeddedServer, Tokens], pictures: Pictures, tmp_path: Path
) -> None:
    """`curl -OJ` reads only `filename=`, the ASCII fallback: a Spanish club's "José Peña
    año.jpg" was saved as "Jos_ Pe_a a_o.jpg"; now its letters without their accents. Names
    with no plain letters (写真) still get "_"; `filename*` keeps the whole name for browsers."""
    server, tokens = served
    path = pictures.next()
    record = direct(server.url, tokens.upload, '"José Peña año 写真.jpg"', path.read_bytes())
    saved = tmp_path / "saved"
    saved.mkdir()
    run = subprocess.run(
        [
            "curl",
            "-s",
            "-f",
            "-L",
            "-O",
            "-J",
            "--output-dir",
            str(saved),
            "-H",
            f"Authorization: Bearer {tokens.read}",
            f"{server.url}/files/{record['id']}/download",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert [p.name for p in saved.iterdir()] == ["Jose Pena ano __.jpg"]
    assert (saved / "Jose Pena ano __.jpg").read_bytes() == path.read_bytes()


@pytest.mark.parametrize(
    ("name", "fallback"),
    [
        ("José Peña año.jpg", "Jose Pena ano.jpg"),
        ("Jose\u0301 Pen\u0303a.jpg", "Jose Pena.jpg"),  # as macOS writes names: decomposed
        ("\u2024\u2024.jpg", "__.jpg"),  # ONE DOT LEADER: NFKD made it "...jpg"
        ("\uff0e\uff0e", "__"),  # FULLWIDTH FULL STOP: ".."
        ("\u2025hidden.jpg", "_hidden.jpg"),  # TWO DOT LEADER: "..hidden.jpg"
        ("\ufe52jpg.jpg", "_jpg.jpg"),  # SMALL FULL STOP: a hidden ".jpg.jpg"
        ("a\uff0f..\uff0f..\uff0fevil.jpg", "a_.._.._evil.jpg"),  # FULLWIDTH SOLIDUS: "/"
        ("\u2100.jpg", "_.jpg"),  # ACCOUNT OF: "a/c"
        ("\u0301\u0301", "_"),  # accents alone: never an empty name
        (".\u0301.", "__"),
        ("\ufb01nal.jpg", "_nal.jpg"),
    ],
)
def test_the_ascii_fallback_is_never_a_folder_a_hidden_file_or_empty(
    name: str, fallback: str
) -> None:
    assert ascii_fallback(name) == fallback
