"""An animation's frames are bounded with its canvas: frames x width x height at most
core.images.MAX_ANIMATION_FRAME_PIXELS, else 400 corrupt_file, reason animation_too_long.

Found by an outside security run: checking an upload decodes its last frame, and reaching it
composes every frame onto the whole canvas. A 23 KB GIF of 1,000 one-pixel frames on a
4096 x 4096 canvas held a core for 53 s and a quarter of the decode budget (a 2 MB one of
100,000 frames, an hour), and was accepted; two at once stalled every other upload and
thumbnail. Real GIFs written byte by byte, real HTTP over loopback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.errors import CorruptFile
from core.images import MAX_ANIMATION_FRAME_PIXELS
from core.validation import validate_file
from server.entry import EmbeddedServer
from tests import media
from tests.server_fixtures import Tokens, bearer, http_call, multipart_body

pytestmark = pytest.mark.timeout(60)

CANVAS = (4096, 4096)
# the least frames past the bound on that canvas, and the most within it
PAST = MAX_ANIMATION_FRAME_PIXELS // (CANVAS[0] * CANVAS[1]) + 1


def test_an_animation_past_the_bound_is_refused_before_any_frame_is_decoded(
    live: EmbeddedServer, tokens: Tokens, tmp_path: Path
) -> None:
    gif = media.make_sparse_gif(tmp_path / "frames.gif", CANVAS, PAST)
    body, ctype = multipart_body(
        {"file_type": "image"}, {"file": (gif.name, gif.read_bytes(), "image/gif")}
    )
    reply = http_call(
        f"{live.url}/files/upload/direct",
        "POST",
        body,
        {**bearer(tokens.upload), "Content-Type": ctype},
    )
    assert reply.status == 400, reply.body
    error = json.loads(reply.body)["error"]
    assert (error["code"], error["reason"]) == ("corrupt_file", "animation_too_long")
    assert error["details"] == {
        "frames": PAST,
        "width": CANVAS[0],
        "height": CANVAS[1],
        "max_frame_pixels": MAX_ANIMATION_FRAME_PIXELS,
    }
    assert f"{PAST:,} frames of 4096 × 4096" in error["message"]
    listed = http_call(f"{live.url}/files", headers=bearer(tokens.read)).json()
    assert listed["total"] == 0  # nothing kept


def test_an_animation_within_the_bound_is_taken(tmp_path: Path) -> None:
    within = media.make_sparse_gif(tmp_path / "within.gif", (1024, 1024), 64)
    info = validate_file(within, "image", 10**9)
    assert (info.mime, info.width, info.height) == ("image/gif", 1024, 1024)
    with pytest.raises(CorruptFile) as refused:
        validate_file(
            media.make_sparse_gif(tmp_path / "long.gif", (1024, 1024), 1025), "image", 10**9
        )
    assert refused.value.reason == "animation_too_long"
