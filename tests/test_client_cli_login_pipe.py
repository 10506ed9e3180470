"""`echo $TOKEN | mediadesk login --server URL` reads the piped token, without warnings.

An outside tester's report: without a terminal (a script under cron or CI, ssh without -t)
getpass printed Python's "GetPassWarning: Can not control echo on the terminal." and
"Warning: Password input may be echoed." lines before it read the pipe. A standard input that
is no terminal is now read as --token-stdin reads it: the token's line, nothing printed but the
saved path. A real `mediadesk login` process, without a controlling terminal, against a real
server over loopback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from core.library import Library
from server.entry import EmbeddedServer
from tests.server_fixtures import make_tokens


def login(url: str, home: Path, given: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIADESK_")}
    env["XDG_CONFIG_HOME"] = str(home)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from desktop_app.cli import main; sys.exit(main())",
            *("login", "--server", url),
        ],
        input=given,
        capture_output=True,
        text=True,
        env=env,
        start_new_session=True,  # no controlling terminal, as under cron or CI
        timeout=60,
    )


def test_a_piped_token_is_read_and_saved_without_warnings(
    live: EmbeddedServer, library: Library, tmp_path: Path
) -> None:
    token = make_tokens(library).read
    done = login(live.url, tmp_path, f"{token}\n")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.startswith(f"Saved the token for {live.url} in ")
    saved = Path(done.stdout.rsplit(" in ", 1)[1].strip())
    assert token in saved.read_text()


def test_a_piped_unknown_token_is_refused_in_one_line(live: EmbeddedServer, tmp_path: Path) -> None:
    done = login(live.url, tmp_path, "mdk_not-a-token\n")
    assert done.returncode == 2
    assert "Warning" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("mediadesk: "), done.stderr
