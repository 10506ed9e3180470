"""An API token is never written whole to a log, wherever in a line it is: a User-Agent, a
Referer, an X-Request-ID (which becomes every line's request id), a request's path (as sent,
also percent-encoded), a file name quoted by a validation error. Only its listed prefix
(`token list`, the desktop's token table) stays, with the ellipsis every redaction shows."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest

from core.logsetup import REDACTED, JsonFormatter, LogFile, TextFormatter, redact_secrets
from core.tokens import PREFIX_CHARS, TOKEN_PREFIX
from tests.served import serve
from tests.server_fixtures import bearer, http_call, multipart_body

pytestmark = pytest.mark.timeout(120)

# a token as core.tokens makes one: the prefix and token_urlsafe(32)'s 43 characters
SECRET = "Ab3_xY-9QrStUvWxYz0123456789abcdefghijklmno"
TOKEN = TOKEN_PREFIX + SECRET
SHOWN = TOKEN[:PREFIX_CHARS] + REDACTED
HIDDEN = TOKEN[PREFIX_CHARS:]


def _line(log: Path, marker: str) -> str:
    """The log line holding `marker`, once it is written (an access line follows the answer)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for line in log.read_text(encoding="utf-8").splitlines():
            if marker in line:
                return line
        time.sleep(0.05)
    raise AssertionError(f"no log line with {marker!r}")


def test_a_token_anywhere_in_a_request_is_not_logged(tmp_path: Path) -> None:
    with serve(tmp_path, {}) as srv:
        token = srv.token  # made by the library at first start
        secret = token.removeprefix(TOKEN_PREFIX)
        shown, hidden = token[:PREFIX_CHARS] + REDACTED, token[PREFIX_CHARS:]
        headers = {
            # é is sent as the byte E9, escaped as \xE9 before the redaction reads the field
            "User-Agent": f"probe/1 \u00e9{token}",
            "Referer": f"https://example.com/back?from={token}&m=ref",
            "X-Request-ID": token,
        }
        http_call(f"{srv.url}/{token}?m=path", headers=headers)
        http_call(f"{srv.url}/files/mdk%5F{secret}?m=pct")
        http_call(f"{srv.url}/files/%6Ddk_{secret[:10]}%2D{secret[11:]}?m=pct2")
        body, ctype = multipart_body({"original_filename": f"{token}.bmp", "file_type": "image"})
        refused = http_call(
            f"{srv.url}/files/upload/presigned",
            "POST",
            body,
            {"Content-Type": ctype, "X-Request-ID": token, **bearer(token)},
        )
        assert refused.status == 400, refused.body
        assert refused.json()["error"]["code"] == "unsupported_type"
        path_line = _line(srv.log, "?m=path")
        pct_line = _line(srv.log, "?m=pct ")
        pct2_line = _line(srv.log, "?m=pct2")
        refusal = json.loads(_line(srv.log, "File validation error"))
        text = srv.log.read_text(encoding="utf-8")
    console = "".join(srv.stderr)
    for where in (text, console):
        assert hidden not in where
        assert secret[8:28] not in where
    access = json.loads(path_line)
    message = access["message"]
    assert f'"GET /{shown}?m=path HTTP/1.1" 404 ' in message, message
    assert f'"https://example.com/back?from={shown}&m=ref"' in message, message
    assert message.endswith(f'"probe/1 \\xE9{shown}"'), message
    assert access["request_id"] == shown
    assert f"/files/mdk%5F{secret[:8]}{REDACTED}?m=pct " in pct_line, pct_line
    assert f"/files/%6Ddk_{secret[:8]}{REDACTED}?m=pct2 " in pct2_line, pct2_line
    assert refusal["message"].endswith(f"({shown}.bmp)"), refusal
    assert refusal["request_id"] == shown


@pytest.mark.parametrize(
    ("text", "logged"),
    [
        (f"GET /{TOKEN} HTTP/1.1", f"GET /{SHOWN} HTTP/1.1"),
        (f"Bearer {TOKEN}", f"Bearer {SHOWN}"),
        (f"'{TOKEN}'", f"'{SHOWN}'"),
        # the access log's escapes come first: no word boundary before the token
        (f'"UA\\x22{TOKEN}\\x22"', f'"UA\\x22{SHOWN}\\x22"'),
        (f"\\xC3\\xA9{TOKEN}.bmp", f"\\xC3\\xA9{SHOWN}.bmp"),
        (f"x{TOKEN}", f"x{SHOWN}"),
        # as the server would decode it, in the path or the query, in any case
        (f"/mdk%5F{SECRET}", f"/mdk%5F{SECRET[:8]}{REDACTED}"),
        (f"/%6d%64%6b%5f{SECRET}", f"/%6d%64%6b%5f{SECRET[:8]}{REDACTED}"),
        (f"/mdk_%41%62{SECRET[2:]}", f"/mdk_%41%62{SECRET[2:8]}{REDACTED}"),
        (f"MDK_{SECRET}", f"MDK_{SECRET[:8]}{REDACTED}"),
        # a named credential keeps its own redaction
        (f"/stream/1?access_token={TOKEN}&m=1", f"/stream/1?access_token={REDACTED}&m=1"),
        # cut short, still more of the secret than its listed prefix
        (TOKEN[:24], TOKEN[:PREFIX_CHARS] + REDACTED),
        # what is not a token: its listed prefix, shorter runs, the prefix alone
        (f"token:laptop ({TOKEN[:PREFIX_CHARS]})", f"token:laptop ({TOKEN[:PREFIX_CHARS]})"),
        (TOKEN[:23], TOKEN[:23]),
        ("mdk_ and %6Ddk", "mdk_ and %6Ddk"),
        (f"/mdk%5F{SECRET[:8]}%20{SECRET[8:]}", f"/mdk%5F{SECRET[:8]}%20{SECRET[8:]}"),
        # file names that start like one: shorter than a secret, and not where a line ends
        ("got mdk_highlights_2026_final_cut.jpg", "got mdk_highlights_2026_final_cut.jpg"),
        ("cmdk_component_screens_v2.jpg (42 kB)", "cmdk_component_screens_v2.jpg (42 kB)"),
        # a whole secret with more after it is still a token's
        (f"{TOKEN}xyz.jpg", f"{SHOWN}.jpg"),
        (f"cut: {TOKEN[:30]}\nnext line", f"cut: {TOKEN[:PREFIX_CHARS]}{REDACTED}\nnext line"),
    ],
)
def test_token_shaped_values_are_redacted(text: str, logged: str) -> None:
    assert redact_secrets(text) == logged
    assert redact_secrets(logged) == logged  # lines redacted twice (access log fields) agree


def _record(msg: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord("server.x", logging.ERROR, __file__, 1, msg, args, info)


def _failure() -> BaseException:
    try:
        raise ValueError(f"not a file id: {TOKEN!r}")
    except ValueError as exc:
        return exc


@pytest.mark.parametrize("formatter", [TextFormatter(), JsonFormatter()])
def test_a_token_in_an_exception_or_an_argument_is_redacted_by_each_format(
    formatter: logging.Formatter,
) -> None:
    line = formatter.format(_record("Refused %s", TOKEN, exc=_failure()))
    assert HIDDEN not in line
    assert line.count(SHOWN) == 2, line


@pytest.mark.parametrize(
    "tail",
    [
        "?token=abc",  # a page's own parameter, in the Referer the access log quotes
        f"?from=1&access_token={TOKEN}",
        "?x=1&sig=0a1b",
        "?X-Amz-Signature=ab&name=Ana%20L.jpg",
        "?sig=1\\",  # a value ending in a backslash, itself escaped in JSON
    ],
)
def test_a_json_line_stays_json_when_a_quoted_value_is_redacted(tail: str, tmp_path: Path) -> None:
    """The access log quotes the Referer and User-Agent: a value redacted at their end took the
    `\\` of JSON's `\\"` with it, and the line was no longer JSON (any client could send such a
    Referer and keep its requests out of a log pipeline), on the console and in the log file."""
    message = f'127.0.0.1 "GET /health HTTP/1.1" 200 5 "https://club.example/g{tail}" "bot?sig=1"'
    record = _record("%s", message, exc=_failure())
    handler = LogFile(tmp_path / "server.log")
    handler.setFormatter(JsonFormatter())
    try:
        handler.handle(record)
        handler.flush()
    finally:
        handler.close()
    written = (tmp_path / "server.log").read_text(encoding="utf-8").splitlines()
    line = JsonFormatter().format(record)
    assert written == [line]
    parsed = json.loads(line)
    assert parsed["message"] == redact_secrets(message), line
    assert HIDDEN not in line and "0a1b" not in line and "Ana%20L" not in line, line
    assert "bot?sig=" + REDACTED in line, line
    assert SHOWN in parsed["exception"], line


def test_the_log_file_redacts_whatever_its_formatter(tmp_path: Path) -> None:
    handler = LogFile(tmp_path / "app.log")
    handler.setFormatter(logging.Formatter("%(message)s"))
    try:
        handler.handle(_record("Bad input %r", TOKEN, exc=_failure()))
        handler.flush()
    finally:
        handler.close()
    text = (tmp_path / "app.log").read_text(encoding="utf-8")
    assert HIDDEN not in text and text.count(SHOWN) == 2, text


def test_a_line_with_no_token_is_returned_as_it_is() -> None:
    line = '127.0.0.1 "GET /files?q=mdk&x=%41 HTTP/1.1" 200 5 "-" "curl/8"'
    assert redact_secrets(line) == line


@pytest.mark.parametrize(
    "text",
    [
        "could not open postgresql+psycopg://md:s3cr%21t@db.local:5432/mediadesk",
        "could not open postgresql://db.local/mediadesk?password=s3cr%21t&sslmode=require",
        "postgresql://db.local/md?sslmode=require&sslpassword=s3cr%21t",
        "postgresql://db.local/md?oauth_client_secret=s3cr%21t",
    ],
)
def test_a_database_urls_secrets_are_redacted(text: str) -> None:
    """A catalog error quotes the DATABASE_URL it could not open: its password, in the user
    part or the query, never reaches a log (README: secrets never in settings.toml nor logs)."""
    redacted = redact_secrets(text)
    assert "s3cr" not in redacted and REDACTED in redacted, redacted
    assert "db.local" in redacted, redacted


def test_a_url_without_a_password_keeps_its_user() -> None:
    line = "cloning https://github.com/x/y and postgresql://md@db.local/mediadesk"
    assert redact_secrets(line) == line
