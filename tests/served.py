"""`mediadesk serve` in a subprocess on a free port, read from its banner (URL and the first
admin token), with every console log record kept: for tests of what the process logs."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Served:
    url: str
    port: int
    token: str
    log: Path
    proc: subprocess.Popen[str]
    stderr: list[str]  # the console log, every record


@contextmanager
def serve(
    data: Path,
    env_extra: dict[str, str],
    preexec: Callable[[], None] | None = None,
    args: tuple[str, ...] = (),
) -> Iterator[Served]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEDIADESK_", "ALLOWED_"))}
    env["MEDIADESK_USAGE_SCAN_INTERVAL"] = "0"
    env["MEDIADESK_LOG_FORMAT"] = "json"  # the banner then goes to stdout
    env.update(env_extra)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from server.entry import main; sys.exit(main(sys.argv[1:]))",
            "serve",
            "--port",
            "0",
            "--data-dir",
            str(data),
            *args,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=preexec,
    )
    err: list[str] = []
    reader = threading.Thread(
        target=lambda: err.extend(iter(proc.stderr.readline, "")),  # type: ignore[union-attr]
        daemon=True,
    )
    reader.start()
    try:
        assert proc.stdout is not None
        banner = ""
        while "Press Ctrl+C" not in banner:
            line = proc.stdout.readline()
            assert line, banner + "".join(err)
            banner += line
        url = re.search(r"running at (http://\S+)/", banner).group(1)  # type: ignore[union-attr]
        token = re.search(r"(mdk_\S+)", banner).group(1)  # type: ignore[union-attr]
        yield Served(
            url, int(url.rsplit(":", 1)[1]), token, data / "logs" / "server.log", proc, err
        )
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0, "".join(err[-30:])
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(10)
