"""Text sent as a photo is refused as text, never as the language puremagic guesses.

An integrator's report: a JavaScript file sent as x.jpg was refused "Unsupported file type
(Python file)". puremagic names text by its first characters ("import " is Python to it,
"function" a MATLAB script), so the refusal said something false. Text is said to be text,
with reason unknown_content as for bytes of no known format (the desktop's sentence for it
is "not an image or video MediaDesk accepts"); text formats known by a signature of their own
that a person may take for a picture or a document (SVG, PDF) keep their names.
"""

from __future__ import annotations

import pytest

from core.errors import UnsupportedType
from core.library import Library
from core.mediatypes import sniff_bytes
from server.entry import EmbeddedServer
from tests.server_fixtures import bearer, http_call, make_tokens, multipart_body

pytestmark = pytest.mark.timeout(60)

JAVASCRIPT = b'import fs from "node:fs";\nconsole.log(fs.readdirSync("."));\n'


@pytest.mark.parametrize(
    "head",
    [
        JAVASCRIPT,
        b"function main() {\n  return 1;\n}\n",  # a "MATLAB script" to puremagic
        b"graph of the season: 12 wins\n",  # a "Graphviz DOT graph"
        "\ufeffRelevos: Ana, Luis, Marta, Sofía\n".encode(),  # UTF-8 with its BOM
        b"just some notes\n",  # nothing recognised
    ],
)
def test_text_is_refused_as_text(head: bytes) -> None:
    with pytest.raises(UnsupportedType) as refused:
        sniff_bytes(head)
    exc = refused.value
    assert exc.message.startswith("Unsupported file type (text, not an image or video); ")
    assert exc.reason == "unknown_content"
    assert exc.details["found"] == "text" and exc.details["found_mime"] == "text/plain"
    assert "found_extension" not in exc.details


def test_text_formats_with_a_signature_keep_their_names() -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"></svg>\n'
    with pytest.raises(UnsupportedType) as refused:
        sniff_bytes(svg)
    assert refused.value.details["found_mime"] == "image/svg+xml"
    with pytest.raises(UnsupportedType) as refused:
        sniff_bytes(b"%PDF-1.4\n1 0 obj\n<< >>\nendobj\n")
    assert refused.value.details["found_extension"] == "pdf"


def test_a_javascript_file_sent_as_a_jpeg_is_refused_as_text(
    live: EmbeddedServer, library: Library
) -> None:
    tokens = make_tokens(library)
    body, ctype = multipart_body(
        {"file_type": "image"}, {"file": ("x.jpg", JAVASCRIPT, "image/jpeg")}
    )
    reply = http_call(
        f"{live.url}/files/upload/direct",
        "POST",
        body,
        {**bearer(tokens.upload), "Content-Type": ctype},
    )
    assert reply.status == 400, reply.body
    error = reply.json()["error"]
    assert error["code"] == "unsupported_type" and error["reason"] == "unknown_content"
    assert error["message"].startswith("Unsupported file type (text, not an image or video)")
    assert "Python" not in reply.body.decode()
