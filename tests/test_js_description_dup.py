"""mediadesk.js uploadFile never edits the stored file a duplicate upload names, in headless
Chromium on local storage and moto's S3.

The server keeps descriptions in NFC; the module compared the presign's answer with the text it
sent exactly, so an NFD description (a macOS name) was sent again by a PATCH after the confirm.
On a duplicate the confirm's id is an alias of the stored file: the PATCH rewrote that file's
description.
"""

from __future__ import annotations

import functools
import unicodedata
from pathlib import Path

import pytest

from core.library import Library
from server.entry import EmbeddedServer
from tests.browser import Tab, chromium_path
from tests.server_fixtures import bearer, http_call, make_tokens
from tests.test_form_filenames import Pictures
from tests.test_js_module import _methods, _upload, backend  # noqa: F401

pytestmark = [
    pytest.mark.skipif(chromium_path() is None, reason="Chromium not installed"),
    pytest.mark.timeout(120),
]

NFD_DESCRIPTION = unicodedata.normalize("NFD", "José, Zoë")  # as macOS writes names


async def test_a_duplicate_upload_keeps_the_stored_files_description(
    backend: tuple[EmbeddedServer, Library],  # noqa: F811
    tmp_path: Path,
) -> None:
    live, library = backend
    tokens = make_tokens(library)
    pictures = Pictures(tmp_path)

    def described(file_id: int) -> str:
        answer = http_call(f"{live.url}/files/{file_id}", headers=bearer(tokens.read))
        return str(answer.json()["description"])

    async with Tab(chromium_path() or "") as browser:
        await browser.goto(f"{live.url}/upload-demo")
        up = functools.partial(_upload, browser, live.url, mime="image/jpeg", token=tokens.upload)
        photo = pictures.next()
        first = await up(photo, "lap.jpg", description="original text")
        assert "error" not in first, first

        # NFD: the server took it (answered in NFC), so no edit, and none of the stored file
        again = await up(photo, "lap again.jpg", description=NFD_DESCRIPTION)
        assert "error" not in again, again
        assert again["stored"]["duplicate"] is True
        assert "PATCH" not in _methods(again), again["calls"]
        assert described(first["stored"]["id"]) == "original text"

        # a new file with an NFD description: taken at presign, stored in NFC, no edit
        fresh = await up(pictures.next(), "fresh.jpg", description=NFD_DESCRIPTION)
        assert fresh["stored"]["description"] == unicodedata.normalize("NFC", NFD_DESCRIPTION)
        assert "PATCH" not in _methods(fresh)

        # a server from before the presign's field: a new file gets its description by an
        # edit, a duplicate never (its id is the stored file's alias)
        other = pictures.next()
        older = await up(other, "old.jpg", description="original text", older_server=True)
        assert _methods(older)[-1] == "PATCH"
        older_again = await up(other, "old again.jpg", description="Else", older_server=True)
        assert older_again["stored"]["duplicate"] is True
        assert "PATCH" not in _methods(older_again), older_again["calls"]
        assert described(older["stored"]["id"]) == "original text"
