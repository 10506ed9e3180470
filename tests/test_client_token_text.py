"""A token with white space around it works; one with characters no token has is refused
without being printed.

An outside tester's report: `MEDIADESK_TOKEN` read from an env file saved on Windows (the
token, then CR) made `mediadesk upload` say "the server at URL accepted the connection but gave
no answer (Illegal header value b'Bearer mdk_…\\r')": a frozen server blamed, and the whole
token printed on stderr (into a CI log); a token with a letter such as "ü" stopped it with
UnicodeEncodeError's traceback.
"""

from __future__ import annotations

import io

import pytest

from core.library import Library
from server.client import Client, cli
from server.entry import EmbeddedServer
from tests.server_fixtures import make_tokens

pytestmark = pytest.mark.timeout(30)


@pytest.mark.parametrize("around", ["\r", "\r\n", " ", "\t"])
def test_a_token_with_white_space_around_it_is_sent_without_it(
    live: EmbeddedServer, library: Library, around: str
) -> None:
    token = make_tokens(library).read
    with Client(live.url, f"{around}{token}{around}") as client:
        assert client.list()["total"] == 0


@pytest.mark.parametrize("stray", ["ü", "\x7f", "a b"])
def test_a_token_with_characters_no_token_has_is_refused_unsaid(stray: str) -> None:
    token = "mdk_" + "S" * 43
    out, err = io.StringIO(), io.StringIO()
    # nothing listens there: a request sent would be a connection_failed
    argv = ["list", "--server", "http://127.0.0.1:9", "--token", token + stray]
    assert cli.run(argv, out, err) == 2
    assert err.getvalue().startswith("mediadesk: The token holds characters no API token has")
    assert err.getvalue().rstrip().endswith("(invalid_token)")
    assert token not in err.getvalue()
