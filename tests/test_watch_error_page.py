"""A watch link that no longer opens, followed in a browser, answers a small HTML page saying why
in the reader's language, under the status the API gives; API clients keep the JSON error.

A parent opening an expired, tampered or trashed video's link on a phone saw the raw
`{"error": {"code": …}}` document. A real library, a real MP4 and the live server over
loopback."""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from core.library import Library
from core.links import sign_grant
from server.entry import EmbeddedServer
from server.watch_page import page_language
from tests import media
from tests.server_fixtures import Reply, http_call

# What a phone's Safari and a desktop Firefox send for a page they navigate to
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
SENTENCES = {
    "en": {
        "expired": "This link has expired",
        "invalid": "This link is not valid",
        "gone": "This video is no longer available",
        "needs_link": "This video opens only with the link that was shared for it",
    },
    "es": {
        "expired": "Este enlace ha caducado",
        "invalid": "Este enlace no es válido",
        "gone": "Este vídeo ya no está disponible",
        "needs_link": "Este vídeo solo se abre con el enlace que se compartió",
    },
}


@pytest.fixture
def video(library: Library, tmp_path: Path) -> int:
    clip = media.make_mp4(tmp_path / "match.mp4", seconds=1)
    return library.uploads.ingest(clip, "video").id  # private: its page needs a signed link


def _expired(library: Library, file_id: int) -> str:
    query = sign_grant(library, library.get_file(file_id), 1)
    exp = int(parse_qs(query)["exp"][0])
    while time.time() <= exp + 0.05:
        time.sleep(0.1)
    return query


def _tampered(library: Library, file_id: int) -> str:
    query = sign_grant(library, library.get_file(file_id), 3600)
    fields = {k: v[0] for k, v in parse_qs(query).items()}
    return f"exp={int(fields['exp']) + 60}&sig={fields['sig']}"  # a longer life, same signature


def _page(reply: Reply) -> tuple[str, str]:
    """(lang, visible text) of an HTML answer."""
    text = reply.body.decode("utf-8")
    lang = re.search(r'<html lang="([^"]+)"', text)
    assert lang is not None, text
    body = re.sub(r"<[^>]+>", " ", text.split("<body", 1)[1])
    return lang.group(1), " ".join(body.split())


def _assert_page(reply: Reply, status: int, lang: str, case: str) -> None:
    assert reply.status == status, reply.body
    assert reply.headers["Content-Type"].startswith("text/html"), reply.headers
    assert "charset=utf-8" in reply.headers["Content-Type"]
    page_lang, text = _page(reply)
    assert page_lang == lang
    assert SENTENCES[lang][case] in text, text
    assert "{" not in text and "not_found" not in text  # no JSON, no error code shown
    assert reply.headers["X-Request-ID"]
    # like the watch page: embeddable anywhere, and it loads nothing from anywhere
    csp = reply.headers["Content-Security-Policy"]
    assert "frame-ancestors *" in csp and "default-src 'none'" in csp
    assert not re.search(r"<(script|link|img)\b", reply.body.decode())
    assert reply.headers["Referrer-Policy"] == "no-referrer"
    assert reply.headers["Cache-Control"] == "no-store"
    assert {"accept", "accept-language"} <= {
        v.strip().lower() for v in reply.headers["Vary"].split(",")
    }


@pytest.mark.parametrize("lang", ["en", "es"])
def test_a_browser_gets_a_page_saying_why_the_link_does_not_open(
    library: Library, live: EmbeddedServer, video: int, lang: str
) -> None:
    languages = {"en": "en-GB,en;q=0.9", "es": "es-ES,es;q=0.9,en;q=0.5"}[lang]
    headers = {"Accept": BROWSER, "Accept-Language": languages}

    def watch(query: str) -> Reply:
        return http_call(f"{live.url}/watch/{video}?{query}", headers=headers)

    _assert_page(watch(_expired(library, video)), 403, lang, "expired")
    _assert_page(watch(_tampered(library, video)), 403, lang, "invalid")
    _assert_page(watch("exp=1700000000&sig=00"), 403, lang, "invalid")
    _assert_page(http_call(f"{live.url}/watch/{video}", headers=headers), 401, lang, "needs_link")
    _assert_page(http_call(f"{live.url}/watch/999999", headers=headers), 404, lang, "gone")
    good = sign_grant(library, library.get_file(video), 3600)
    assert watch(good).status == 200
    library.trash(video)
    _assert_page(watch(good), 404, lang, "gone")


def test_the_first_language_the_reader_ranks_decides() -> None:
    assert page_language("en-US,en;q=0.9,es;q=0.8") == "en"
    assert page_language("es-MX") == "es"
    assert page_language("fr-FR,fr;q=0.9,es;q=0.8,en;q=0.7") == "es"
    assert page_language("es;q=0.5,en;q=0.9") == "en"
    assert page_language("ES") == "es"
    assert page_language("") == "en"
    assert page_language("de") == "en"


@pytest.mark.parametrize(
    "accept",
    [None, "*/*", "application/json", "application/json, text/html;q=0.5", "text/html;q=0"],
)
def test_api_clients_keep_the_json_error(
    library: Library, live: EmbeddedServer, video: int, accept: str | None
) -> None:
    headers = {"Accept-Language": "es-ES"}
    if accept is not None:
        headers["Accept"] = accept
    cases = [
        (f"/watch/{video}?{_tampered(library, video)}", 403, "invalid_signature"),
        (f"/watch/{video}?exp=1700000000&sig=00", 403, "invalid_signature"),
        (f"/watch/{video}", 401, "unauthorized"),
        ("/watch/999999", 404, "not_found"),
    ]
    for path, status, code in cases:
        reply = http_call(live.url + path, headers=headers)
        assert reply.status == status, reply.body
        assert reply.headers["Content-Type"].startswith("application/json")
        error = reply.json()["error"]
        assert error["code"] == code
        assert set(error) <= {"code", "message", "request_id", "details", "reason"}
        assert error["request_id"] == reply.headers["X-Request-ID"]
    expired = http_call(f"{live.url}/watch/{video}?{_expired(library, video)}", headers=headers)
    assert expired.status == 403
    assert expired.json()["error"]["code"] == "signature_expired"
