"""What `mediadesk` does before its server's modules are loaded: a SIGHUP then (logrotate's
postrotate meeting a restart) killed `serve`, and a start with stderr closed handed descriptor
2 to the next file opened (the desktop's X11 connection under Xvfb)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.faults import ROOT

# `mediadesk serve` up to the moment the server's entry point runs, which here sends itself
# a SIGHUP, as logrotate may while the server's modules load
EARLY_HUP = """
import os, signal, sys
import server.entry
def entry(argv):
    os.kill(os.getpid(), signal.SIGHUP)
    print("alive")
    return 0
server.entry.main = entry
from desktop_app.cli import main
sys.exit(main(["serve"]))
"""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIADESK_")}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    env.pop("QT_QPA_PLATFORM", None)  # offscreen under the tests: a display to Qt
    return env


def test_a_sighup_while_serve_loads_does_not_kill_it() -> None:
    done = subprocess.run(
        [sys.executable, "-c", EARLY_HUP], cwd=ROOT, env=_env(), capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stdout == "alive\n", (done.returncode, done.stderr)


def test_the_desktop_started_with_stderr_closed_still_says_why_it_stops() -> None:
    """No display: one line and exit 2, as documented; with stderr closed it was exit 1
    (sys.stderr is None), and the next file opened would have taken descriptor 2."""
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from desktop_app.cli import main; sys.exit(main([]))"],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        preexec_fn=lambda: os.close(2),
        timeout=60,
    )
    assert done.returncode == 2, done
