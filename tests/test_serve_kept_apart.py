"""`mediadesk serve` on a PostgreSQL catalog kept apart from the data folder's SQLite library
(a server was started on the new database before the library was copied: see
test_catalog_kept_apart.py) says so in one WARNING line naming both catalogs and pointing at
`mediadesk doctor`, and serves on. It started silently: only doctor told. Real processes, the
tests' throwaway PostgreSQL."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest

from tests.pg_server import fresh_database, postgres_url  # noqa: F401
from tests.test_catalog_kept_apart import MEDIADESK, ROOT, WAIT, _club, _env

pytestmark = pytest.mark.timeout(120)


def _started(data: Path, env: dict[str, str]) -> list[str]:
    """What `mediadesk serve` on `data` logs until it serves; then stopped with Ctrl+C."""
    serve = subprocess.Popen(
        [MEDIADESK, "serve", "--port", "0", "--data-dir", str(data)],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert serve.stderr is not None
        said: list[str] = []
        while "Press Ctrl+C to stop." not in (line := serve.stderr.readline()):
            assert line, "".join(said)  # it ended before serving
            said.append(line.rstrip("\n"))
        serve.send_signal(signal.SIGINT)
        assert serve.wait(WAIT) == 0
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()
    return said


def test_a_start_on_a_catalog_kept_apart_warns_once_and_serves(
    tmp_path: Path,
    postgres_url: str,  # noqa: F811
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    _club(data)
    target = fresh_database(postgres_url, "served_apart")
    env = _env(DATABASE_URL=target)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    first = _started(elsewhere, env)  # no library beside it there: nothing to say
    assert not [line for line in first if "mediadesk doctor" in line], first

    said = _started(data, env)
    catalog = data / "mediadesk.sqlite3"
    told = [line for line in said if "mediadesk doctor" in line]
    assert len(told) == 1, said
    (line,) = told
    assert " WARNING " in line and target in line and str(catalog) in line, line
    assert "MediaDesk serves the other one" in line, line
