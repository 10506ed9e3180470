"""Start-up imports: what `mediadesk serve` and the server's other commands (doctor, maintenance,
worker, token...) import before doing anything leaves out the libraries only some commands use.

Every `mediadesk` process paid for them in CPU at each start (httpx with rich, click and
pygments: ~70 ms; pymediainfo ~30 ms; puremagic ~10 ms), and the suite starts hundreds of
these processes. Each is imported where it is used instead, with a comment saying why.
"""

from __future__ import annotations

from tests.test_layering import loaded_after

# the client commands' HTTP library and what its command-line part (httpx._main) brings; the
# MediaInfo reader (video metadata), the content sniffer (uploads) and PyAV (FFmpeg: ~50 ms)
NOT_AT_START = ("httpx", "rich", "click", "pygments", "pymediainfo", "puremagic", "av")


def test_serve_and_the_server_commands_start_without_the_client_and_media_libraries() -> None:
    # desktop_app.cli hands every server subcommand to server.entry.main (server.cli);
    # `serve` then imports server.app
    modules = loaded_after("import server.entry, server.cli, server.app")
    assert sorted(modules.intersection(NOT_AT_START)) == []


def test_the_client_package_still_offers_its_names() -> None:
    # server.client loads its api (httpx) when a name of it is asked for, not when imported
    modules = loaded_after("import server.client; server.client.Client")
    assert "httpx" in modules
    assert "httpx" not in loaded_after("import server.client.cli, server.client.credentials")


def test_the_client_commands_start_without_the_server() -> None:
    # `mediadesk list|upload|...` went through server.entry, which imported the catalog,
    # storage and web stacks (0.57 s of CPU) before handing the command to the HTTP client
    modules = loaded_after(
        "import contextlib, io, desktop_app.cli; "
        "out = contextlib.redirect_stdout(io.StringIO()); err = contextlib.redirect_stderr("
        "io.StringIO()); out.__enter__(); err.__enter__(); "
        "code = desktop_app.cli.main(['list', '--server', 'http://127.0.0.1:9', '--token', 'x']); "
        "err.__exit__(None, None, None); out.__exit__(None, None, None); "
        "assert code == 2, code"
    )
    assert "httpx" in modules  # the command ran, and failed to connect
    assert sorted(modules.intersection(("sqlalchemy", "aiohttp", "alembic", "boto3", "av"))) == []
