"""The Python client's uploads carry their fields as the server reads them, on live servers.

A presigned upload's description goes in the presign request itself: one request, refused
before any byte is sent when the server refuses it (it was a PATCH after the confirm: a second
round-trip, and a refusal came after the file was stored). A direct upload's file name is
written as browsers write it (the WHATWG form encoding the server reads), so it is stored as a
browser's upload of that name is: httpx's own encoder stored "a<TAB>b.jpg" as "a%09b.jpg".
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.filenames import clean_filename
from core.library import Library
from core.records import MAX_DESCRIPTION
from server.client import Client, ClientError
from server.entry import EmbeddedServer
from tests.server_fixtures import make_tokens
from tests.test_form_filenames import NAMES, Pictures, direct, whatwg_quoted

pytestmark = pytest.mark.timeout(120)

DESCRIPTION = "Warm-up, lap 2 — ñandú 写真\nsecond line"


class Sent(httpx.HTTPTransport):
    """The real transport, noting each request's method, path and JSON body."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[tuple[str, str, Any]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = None
        if request.headers.get("Content-Type") == "application/json":
            body = json.loads(request.read())
        self.requests.append((request.method, request.url.path, body))
        return super().handle_request(request)

    def methods(self) -> list[str]:
        return [method for method, _, _ in self.requests]

    def presign(self) -> Any:
        [body] = [b for m, p, b in self.requests if p == "/files/upload/presigned"]
        return body


class OlderServer(Sent):
    """A server from before the presign's description field: it ignores the field (as every
    server ignores fields it does not know), so it never reaches the pending file."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/files/upload/presigned":
            body = json.loads(request.read())
            body.pop("description", None)
            headers = {k: v for k, v in request.headers.items() if k != "content-length"}
            request = httpx.Request(request.method, request.url, headers=headers, json=body)
        return super().handle_request(request)


@pytest.fixture(params=["live", "s3_live"])
def server(request: pytest.FixtureRequest) -> tuple[EmbeddedServer, Library]:
    live: EmbeddedServer = request.getfixturevalue(request.param)
    library = request.getfixturevalue("library" if request.param == "live" else "s3_library")
    return live, library


@pytest.fixture
def pictures(tmp_path: Path) -> Pictures:
    return Pictures(tmp_path)


def test_a_presigned_upload_sends_its_description_in_the_presign(
    server: tuple[EmbeddedServer, Library], pictures: Pictures
) -> None:
    live, library = server
    sent = Sent()
    with Client(live.url, make_tokens(library).upload, transport=sent) as client:
        photo = pictures.next()
        result = client.upload(photo, presigned=True, description=DESCRIPTION)
        assert result.flow == "presigned"
        assert sent.presign()["description"] == DESCRIPTION
        assert "PATCH" not in sent.methods()  # one request: no edit after the confirm
        assert result.file["description"] == DESCRIPTION
        assert client.get(result.id)["description"] == DESCRIPTION

        # the same bytes again: a duplicate keeps its own description, as a direct upload's
        # duplicate does (the edit after the confirm used to overwrite it)
        again = client.upload(photo, presigned=True, description="Something else")
        assert again.duplicate and again.file["description"] == DESCRIPTION
        assert client.get(result.id)["description"] == DESCRIPTION
        assert "PATCH" not in sent.methods()

        # no description: none is sent, and the file has none
        plain = client.upload(pictures.next(), presigned=True)
        assert "description" not in sent.requests[-3][2]  # the presign of this upload
        assert plain.file["description"] == ""


def test_a_description_the_server_refuses_fails_before_the_bytes_are_sent(
    server: tuple[EmbeddedServer, Library], pictures: Pictures
) -> None:
    live, library = server
    sent = Sent()
    before = library.counts()
    with (
        Client(live.url, make_tokens(library).upload, transport=sent) as client,
        pytest.raises(ClientError) as refused,
    ):
        client.upload(pictures.next(), presigned=True, description="x" * (MAX_DESCRIPTION + 1))
    error = refused.value
    assert (error.status, error.code, error.reason) == (
        400,
        "invalid_input",
        "description_too_long",
    )
    assert error.request_id and not error.local
    assert sent.methods() == ["GET", "POST"]  # /config and the presign: nothing was uploaded
    assert library.counts() == before


def test_an_older_server_gets_the_description_by_an_edit(
    live: EmbeddedServer, library: Library, pictures: Pictures
) -> None:
    """A server that answers the presign without the description is sent it after the
    confirm, as before."""
    older = OlderServer()
    with Client(live.url, make_tokens(library).upload, transport=older) as client:
        result = client.upload(pictures.next(), presigned=True, description=DESCRIPTION)
    assert older.methods()[-2:] == ["POST", "PATCH"]  # the confirm, then the edit
    assert result.file["description"] == DESCRIPTION


NFD_DESCRIPTION = unicodedata.normalize("NFD", "José, Zoë")  # as macOS writes names


def test_a_duplicate_with_an_nfd_description_leaves_the_stored_files_alone(
    server: tuple[EmbeddedServer, Library], pictures: Pictures
) -> None:
    """The server keeps descriptions in NFC: the client reads its NFD description in the
    presign's answer as taken, not as an older server's "" (an exact comparison sent the edit,
    and on a duplicate the confirm's id is an alias of the stored file, whose description the
    edit rewrote)."""
    live, library = server
    sent = Sent()
    with Client(live.url, make_tokens(library).upload, transport=sent) as client:
        photo = pictures.next()
        first = client.upload(photo, presigned=True, description="original text")
        again = client.upload(photo, presigned=True, description=NFD_DESCRIPTION)
        assert again.duplicate
        assert client.get(first.id)["description"] == "original text"
        assert "PATCH" not in sent.methods()

        # a new file with an NFD description: taken at presign, stored in NFC, no edit
        fresh = client.upload(pictures.next(), presigned=True, description=NFD_DESCRIPTION)
        assert fresh.file["description"] == unicodedata.normalize("NFC", NFD_DESCRIPTION)
        assert "PATCH" not in sent.methods()


def test_an_older_server_never_edits_the_file_a_duplicate_names(
    live: EmbeddedServer, library: Library, pictures: Pictures
) -> None:
    """On a server that ignores the presign's description, a duplicate's confirm answers the
    stored file under an alias id: an edit there would rewrite that file's description."""
    older = OlderServer()
    with Client(live.url, make_tokens(library).upload, transport=older) as client:
        photo = pictures.next()
        first = client.upload(photo, presigned=True, description="original text")
        assert older.methods()[-1] == "PATCH"  # a new file still gets its description
        again = client.upload(photo, presigned=True, description="Something else")
        assert again.duplicate
        assert older.methods()[-1] == "POST"  # the confirm, no edit after it
        assert client.get(first.id)["description"] == "original text"


# Names a browser's FormData can send (the server refuses raw control characters other than
# tab, CR and LF in a part header, a browser's too), and more that show the encoding:
# a tab goes raw, a backslash and a % are characters of the name.
BROWSER_NAMES = [name for name, _ in NAMES] + [
    "tab\there.jpg",
    "100%25 %41.jpg",
    'a\\b"c.jpg',
    'end with a quote".jpg',
]


BROWSER_NAME_IDS = [
    *("quote", "crlf", "backslash", "inject", "utf8", "semicolons", "semicolons-name"),
    *("tab", "percent", "backslash-quote", "last-quote"),
]


@pytest.mark.parametrize("name", BROWSER_NAMES, ids=BROWSER_NAME_IDS)
def test_a_direct_upload_stores_the_name_a_browsers_upload_stores(
    live: EmbeddedServer, library: Library, pictures: Pictures, name: str
) -> None:
    token = make_tokens(library).upload
    browser = direct(live.url, token, whatwg_quoted(name), pictures.next().read_bytes())
    with Client(live.url, token) as client:
        mine = client.upload(pictures.next(), original_filename=name)
        presigned = client.upload(pictures.next(), original_filename=name, presigned=True)
    assert mine.flow == "direct"
    stored = mine.file["original_filename"]
    assert stored == browser["original_filename"] == clean_filename(name)
    assert presigned.file["original_filename"] == stored  # every way in, one name


def test_control_characters_in_a_name_are_left_out_not_spelt(
    live: EmbeddedServer, library: Library, pictures: Pictures
) -> None:
    """Those a part header cannot carry raw go as the stored-name rule would store them (they
    are dropped), not percent-encoded ("ctl%01x.jpg") nor raw (a 400)."""
    with Client(live.url, make_tokens(library).upload) as client:
        for name in ("ctl\x01x.jpg", "nul\x00x.jpg", "esc\x1bx.jpg", "del\x7fx.jpg"):
            stored = client.upload(pictures.next(), original_filename=name).file
            assert stored["original_filename"] == clean_filename(name), name
