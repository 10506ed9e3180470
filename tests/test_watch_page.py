"""The watch page shows a video's name as it was given, whatever placeholder-like text it holds.

The page was filled with chained str.replace: a name holding `__CONFIG__` or `__POSTER__`
had the player's config (its signed links) or the poster's link pasted into the <title>.
A real library, a real MP4 and the live server over loopback."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from core.library import Library
from server.entry import EmbeddedServer
from tests import media
from tests.server_fixtures import bearer, http_call, make_tokens


def test_a_name_holding_the_page_placeholders_is_shown_as_given(
    library: Library, live: EmbeddedServer, tmp_path: Path
) -> None:
    name = "clip __CONFIG__ __POSTER__ __TITLE__ <b> & co.mp4"
    clip = media.make_mp4(tmp_path / "clip.mp4", seconds=1)
    record = library.uploads.ingest(clip, "video", original_filename=name, is_public=True)
    page = http_call(f"{live.url}/watch/{record.id}", headers=bearer(make_tokens(library).read))
    assert page.status == 200, page.body
    text = page.body.decode()
    title = re.search(r"<title>(.*?)</title>", text, re.S)
    assert title is not None
    assert html.unescape(title.group(1)) == f"{record.original_filename} · MediaDesk"
    assert record.original_filename == name
    config = re.search(r"const config = (\{.*?\});", text)
    assert config is not None and json.loads(config.group(1))["file_id"] == record.id
    poster = re.search(r'poster="([^"]*)"', text)
    assert poster is not None
    assert "__" not in poster.group(1)
    if record.has_thumbnail:
        assert html.unescape(poster.group(1)).startswith(f"/files/{record.id}/thumbnail")
    assert "__CONFIG__" not in text.replace(html.escape(record.original_filename), "")


def test_the_players_labels_follow_the_browsers_language(
    library: Library, live: EmbeddedServer, tmp_path: Path
) -> None:
    """The page was `lang="en"` with English button names whatever the phone's language (the
    error pages beside it already spoke Spanish); a public page is cached, so it varies."""
    clip = media.make_mp4(tmp_path / "clip.mp4", seconds=1)
    record = library.uploads.ingest(clip, "video", is_public=True)
    said = {}
    for language in ("es-ES,es;q=0.9,en;q=0.5", "en-GB", "fr"):
        page = http_call(f"{live.url}/watch/{record.id}", headers={"Accept-Language": language})
        assert page.status == 200, page.body
        assert "Accept-Language" in page.headers.get("Vary", ""), page.headers
        text = page.body.decode()
        lang = re.search(r'<html lang="([a-z]+)">', text)
        play = re.search(r'id="play"[^>]*aria-label="([^"]+)"', text)
        config = re.search(r"const config = (\{.*?\});", text)
        assert lang is not None and play is not None and config is not None
        said[language] = (lang.group(1), play.group(1), json.loads(config.group(1))["labels"])
    assert said["es-ES,es;q=0.9,en;q=0.5"][:2] == ("es", "Reproducir")
    assert said["es-ES,es;q=0.9,en;q=0.5"][2]["pause"] == "Pausa"
    assert said["en-GB"][:2] == said["fr"][:2] == ("en", "Play")


def test_a_video_without_a_poster_has_no_poster_attribute(
    library: Library, live: EmbeddedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`poster=""` made Chromium fetch the page itself again as the picture."""
    from core import ingest
    from core.errors import InvalidInput

    def no_frame(*_args: object, **_kwargs: object) -> bytes:
        raise InvalidInput("no frame to show")

    monkeypatch.setattr(ingest, "make_thumbnail", no_frame)
    clip = media.make_mp4(tmp_path / "clip.mp4", seconds=1)
    record = library.uploads.ingest(clip, "video", is_public=True)
    assert not record.has_thumbnail
    page = http_call(f"{live.url}/watch/{record.id}")
    assert page.status == 200, page.body
    video = re.search(r"<video[^>]*>", page.body.decode())
    assert video is not None and "poster" not in video.group(0), video
