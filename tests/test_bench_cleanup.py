"""The benchmark scripts leave nothing running or on disk when they fail or are terminated
(SIGTERM: a CI step's timeout, `kill PID`), and run on a catalog smaller than one page."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.resumable_client import ServeProcess, free_port

ROOT = Path(__file__).resolve().parent.parent


def group(pgid: int) -> list[int]:
    """The live processes of a process group: the bench runs in a session of its own, so these
    are the bench and what it started (a `mediadesk serve`, a listener). Read from stat, not
    cmdline: reading the cmdline of a process stuck in the kernel blocks."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def kill_group(pgid: int) -> None:
    for pid in group(pgid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def bench(
    tmp_path: Path, *args: str, path: str | None = None, sigint_ignored: bool = False
) -> subprocess.Popen[str]:
    """A bench script in a session of its own; `path` for its PATH, `sigint_ignored` to start it
    as a shell starts a background job (`bench/x.py &` in a script): SIGINT ignored."""
    env = {**os.environ, "TMPDIR": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    if path is not None:
        env["PATH"] = path
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
        if sigint_ignored
        else None,
    )


def wait_for(found: Callable[[], object], what: str) -> None:
    for _ in range(600):
        if found():
            return
        time.sleep(0.1)
    raise AssertionError(f"never saw {what}")


def test_catalog_http_runs_on_fifty_files(tmp_path: Path) -> None:
    proc = bench(tmp_path, "bench/catalog.py", "--files", "50", "--mode", "http", "--rounds", "2")
    try:
        out, _ = proc.communicate(timeout=100)
        assert proc.returncode == 0, out
        assert "worst p50 over the cases" in out
        assert "x its reference)" in out  # the ratio README promises for every benchmark
        assert "reference: plain sqlite3 LIKE '%jump%'" in out
        assert group(proc.pid) == []
    finally:
        kill_group(proc.pid)


def test_catalog_library_runs_on_fifty_files(tmp_path: Path) -> None:
    proc = bench(tmp_path, "bench/catalog.py", "--files", "50")
    out, _ = proc.communicate(timeout=100)
    assert proc.returncode == 0, out
    assert "last page" in out


def test_sigterm_to_catalog_http_stops_its_server(tmp_path: Path) -> None:
    proc = bench(
        tmp_path, "bench/catalog.py", "--files", "50", "--mode", "http", "--rounds", "1000000"
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # printed once the server answers
            if "files through HTTP" in line:
                break
        assert len(group(proc.pid)) == 2  # the bench and its `mediadesk serve`
        proc.send_signal(signal.SIGTERM)  # to the bench alone, as `kill PID` does
        proc.communicate(timeout=60)
        assert group(proc.pid) == []
        assert list(tmp_path.iterdir()) == []  # the data folder went too
    finally:
        kill_group(proc.pid)


def test_sigterm_to_feed_stops_its_listener_and_removes_its_folder(tmp_path: Path) -> None:
    proc = bench(tmp_path, "bench/feed.py", "--only", "sqlite", "--changes", "1000000")
    try:
        wait_for(lambda: len(group(proc.pid)) == 2, "the listener process")
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
        assert group(proc.pid) == []
        assert list(tmp_path.iterdir()) == []
    finally:
        kill_group(proc.pid)


def test_a_server_that_did_not_start_in_time_is_killed(tmp_path: Path) -> None:
    server = ServeProcess(tmp_path, free_port(), max_size=1024 * 1024)
    with pytest.raises(RuntimeError, match="did not start"):
        server.start(timeout=0)
    assert server.proc is not None
    assert server.proc.poll() is not None


def test_feed_counts_edits_missing_heard_twice_or_late() -> None:
    from bench.feed import order_faults

    assert order_faults([(0, 0.1), (1, 0.1), (2, 0.1)], 3) == (0, 0, 0)
    # 3 never heard, 1 heard twice, 1 heard after 2
    assert order_faults([(0, 0.1), (2, 0.1), (1, 0.1), (1, 0.1)], 4) == (1, 1, 1)


def test_sigterm_to_import_removes_its_folder(tmp_path: Path) -> None:
    # small photos, many of them: the import is still running when the signal comes
    proc = bench(tmp_path, "bench/import.py", "--count", "1500", "--width", "64", "--height", "48")
    try:
        wait_for(lambda: list(tmp_path.glob("*/card/IMG_0001.jpg")), "the photos")
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 128 + signal.SIGTERM, out
        assert list(tmp_path.iterdir()) == []
    finally:
        kill_group(proc.pid)


def test_ctrl_c_ends_a_bench_in_one_line_with_130(tmp_path: Path) -> None:
    proc = bench(
        tmp_path, "bench/catalog.py", "--files", "50", "--mode", "http", "--rounds", "1000000"
    )
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "files through HTTP" in line:
                break
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl+C in a terminal sends: the whole group
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 130, out
        assert "Traceback" not in out and "KeyboardInterrupt" not in out, out
        assert out.strip().splitlines()[-1] == (
            "catalog.py: interrupted (Ctrl+C); what it started was stopped and its folders removed"
        )
        assert group(proc.pid) == []
        assert list(tmp_path.iterdir()) == []
    finally:
        kill_group(proc.pid)


def test_sigterm_during_feeds_reference_stops_its_postgresql_at_once() -> None:
    from tests import pg_server

    if not pg_server.PG_BIN:
        pytest.skip("no PostgreSQL server here")
    # not under pytest's folder (0700): the cluster runs as `postgres` when we are root
    work = Path(tempfile.mkdtemp(prefix="mediadesk-test-feed-"))
    work.chmod(0o755)
    args = ("--only", "postgresql", "--changes", "30", "--gap-ms", "100")
    proc = bench(work, "bench/feed.py", *args)
    try:
        assert proc.stdout is not None
        seen = []
        for line in proc.stdout:  # the MediaDesk side is done: the bare NOTIFY runs now
            seen.append(line)
            if line.startswith("PostgreSQL (LISTEN/NOTIFY)"):
                break
        else:
            raise AssertionError("".join(seen))
        time.sleep(1)
        proc.send_signal(signal.SIGTERM)
        # the listening thread waited up to 30 s for a notification before it saw the stop
        out, _ = proc.communicate(timeout=15)
        assert proc.returncode == 128 + signal.SIGTERM, out
        assert group(proc.pid) == []
        assert list(work.iterdir()) == []
    finally:
        kill_group(proc.pid)
        shutil.rmtree(work, ignore_errors=True)


def test_feed_ratio_is_against_the_bare_notify() -> None:
    from bench.feed import ratio

    ours = [(i, 0.010 * (i + 1)) for i in range(100)]
    floor = [(i, 0.005 * (i + 1)) for i in range(100)]
    assert ratio(ours, floor) == "  ratio to the bare NOTIFY: p50 2.00x, p99 2.00x the time"
    assert "none" in ratio(ours, [])


def test_catalog_best_of_is_the_fastest_run_not_the_median() -> None:
    from bench.catalog import spread, timed

    # one fast run among slow ones, far enough apart that a loaded machine (a 1-ms sleep took
    # 30 ms under the whole suite) cannot blur them
    delays = iter([0.0, 0.3, 0.3, 0.3, 0.3])
    times = timed(lambda: time.sleep(next(delays)), 5)
    assert min(times) < 300 <= spread(times)[0]


def test_resumable_refuses_a_file_of_one_chunk(tmp_path: Path) -> None:
    proc = bench(tmp_path, "bench/resumable.py", "--size-mib", "100")
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert out.strip().splitlines() == [
        "--size-mib must be at least 128 (two 64 MiB tus chunks), "
        "or the kill at 50 % lands after the whole file"
    ]
    assert list(tmp_path.iterdir()) == []


def test_transcode_counts_only_an_encode_with_its_files(tmp_path: Path) -> None:
    from bench.transcode import check_encoded

    (tmp_path / "web.mp4").write_bytes(b"mp4")
    done = json.dumps({"result": {"files": ["web.mp4"]}})
    check_encoded("web", '{"progress": 0.5}\n' + done + "\n", tmp_path)
    # the runner exits 0 after each of these
    failed = json.dumps({"error": "Not a video", "permanent": True, "reason": "bad_media"})
    with pytest.raises(SystemExit, match="did not encode"):
        check_encoded("web", failed + "\n", tmp_path)
    with pytest.raises(SystemExit, match="did not encode"):
        check_encoded("web", json.dumps({"skipped": "fast start already"}) + "\n", tmp_path)
    with pytest.raises(SystemExit, match="said no result"):
        check_encoded("web", "", tmp_path)
    gone = json.dumps({"result": {"files": ["web.mp4", "hls/index.m3u8"]}})
    with pytest.raises(SystemExit, match="lacks its files"):
        check_encoded("hls", gone + "\n", tmp_path)


def test_alternating_swaps_the_order_every_round() -> None:
    from bench._common import alternating

    calls: list[str] = []
    first, second = alternating(lambda: calls.append("A"), lambda: calls.append("B"), 4)
    assert calls == ["A", "B", "B", "A", "A", "B", "B", "A"]
    assert len(first) == len(second) == 4


def test_thumbnails_prints_medians_of_rounds_taking_turns(tmp_path: Path) -> None:
    args = ("--megapixels", "0.1", "--count", "1", "--rounds", "3")
    proc = bench(tmp_path, "bench/thumbnails.py", *args)
    out, _ = proc.communicate(timeout=100)
    assert proc.returncode == 0, out
    assert "3 rounds taking turns" in out
    assert "x the time of plain Pillow (medians)" in out


def test_a_bench_started_with_sigint_ignored_stops_on_it(tmp_path: Path) -> None:
    # a script's `bench/catalog.py &`: the shell starts it with SIGINT ignored, and Python
    # leaves an inherited ignore as it is; `kill -INT` went unheard
    args = ("bench/catalog.py", "--files", "50", "--rounds", "1000000")
    proc = bench(tmp_path, *args, sigint_ignored=True)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if "50 files; one page of 100" in line:
                break
        proc.send_signal(signal.SIGINT)  # to the bench alone, as `kill -INT PID` does
        out, _ = proc.communicate(timeout=20)
        assert proc.returncode == 130, out
        assert out.strip().splitlines()[-1].startswith("catalog.py: interrupted (Ctrl+C)"), out
        assert list(tmp_path.iterdir()) == []
    finally:
        kill_group(proc.pid)


def test_resumable_without_curl_says_so_in_one_line_at_once(tmp_path: Path) -> None:
    # a PATH with the other commands it runs (cp, dd) but no curl, as on a box without it
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("cp", "dd"):
        found = shutil.which(tool)
        assert found is not None
        (tools / tool).symlink_to(found)
    proc = bench(tmp_path, "bench/resumable.py", "--size-mib", "128", path=str(tools))
    try:
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 1, out
        assert out.strip().splitlines() == ["curl is not installed: bash scripts/syslibs.sh curl"]
        assert [p.name for p in tmp_path.iterdir()] == ["bin"]  # no 128 MiB file written first
    finally:
        kill_group(proc.pid)


def catalog_kept(tmp_path: Path, keep: Path) -> subprocess.CompletedProcess[str]:
    args = ("bench/catalog.py", "--files", "50", "--rounds", "1", "--keep", str(keep))
    proc = bench(tmp_path, *args)
    out, _ = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out)


def test_catalog_refuses_a_kept_folder_whose_fill_was_stopped(tmp_path: Path) -> None:
    from bench.catalog import fill, open_library

    # what Ctrl+C after "filled 100,000 rows" left: the files committed, the Trash's rows
    # (written last) not, and no word that the fill had not finished
    keep = tmp_path / "keep"
    lib = open_library(keep)
    db_file = lib.settings.paths.database_file
    lib.close()
    fill(db_file, 50, trashed=0)
    run = catalog_kept(tmp_path, keep)
    assert run.returncode == 1, run.stdout
    assert run.stdout.strip().splitlines() == [
        f"{keep} has no bench-catalog-filled.json, which a fill writes once its last row is in: "
        "its fill was stopped (50 of 50 files, 0 of 5 in the Trash) or ran before 2026-12-07; "
        "delete it to fill it again, or name another folder"
    ]


def test_catalog_reuses_a_kept_folder_only_while_its_fill_is_whole(tmp_path: Path) -> None:
    keep = tmp_path / "keep"
    first = catalog_kept(tmp_path, keep)
    assert first.returncode == 0, first.stdout
    assert "filled 55 rows" in first.stdout
    again = catalog_kept(tmp_path, keep)
    assert again.returncode == 0, again.stdout
    assert "filled" not in again.stdout  # reused
    # the Trash emptied since (through the app, or by hand): its cases would measure nothing
    conn = sqlite3.connect(next(keep.glob("*.sqlite3")))
    conn.execute("DELETE FROM media_files WHERE deleted_at IS NOT NULL")
    conn.commit()
    conn.close()
    emptied = catalog_kept(tmp_path, keep)
    assert emptied.returncode == 1, emptied.stdout
    assert emptied.stdout.strip().splitlines() == [
        f"{keep} no longer holds what its fill wrote (50 of 50 files, 0 of 5 in the Trash): "
        "delete it to fill it again, or name another folder"
    ]
