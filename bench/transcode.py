"""Benchmark: MediaDesk's web rendition + full HLS ladder against the ffmpeg CLI, same settings.

A 60 s 1080p MPEG-4 Part 2 + MP3 AVI (a camcorder file a browser cannot play) is made with
ffmpeg's test sources, then encoded twice in this run:

- MediaDesk: the job processes the workers run (`python -m core.video.runner`, web then hls),
  without the niceness the app gives them so both sides get the CPU alike;
- ffmpeg (Debian's CLI): the same encodes in two commands with the same settings — libx264
  veryfast CRF 23 High yuv420p, AAC 128 kb/s 48 kHz, faststart MP4; for the ladder one decode
  split to 360p/720p/1080p, closed GOPs of one 4 s segment, the same rate caps, VOD playlists.

The two sides run interleaved (web by MediaDesk, web by ffmpeg, ladder by MediaDesk, ladder
by ffmpeg; the next round starts with ffmpeg) so that a shared machine's changing load falls on
both alike (run in blocks, the side that ran while the load was higher looked slower: an
earlier 1.7× slower web rendition did not reproduce, see the README). Each process's CPU
seconds (user + system, from `wait4`) are printed too: unlike wall time they hardly move with
other processes' load.

Prints each round, wall time (median and best of the rounds), CPU time, the ratios (ffmpeg /
MediaDesk: ≥ 0.9 is the goal), each process's peak RSS and the load average. Needs `ffmpeg`
(`bash scripts/syslibs.sh ffmpeg`). Usage:
`.venv/bin/python bench/transcode.py [--seconds 60] [--height 1080] [--rounds 3]`
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import exit_on_sigterm, run_main  # noqa: E402
from core.video.encode import RUNG_MAX_RATE, X264, ladder_sizes, probe  # noqa: E402

LADDER = [360, 720, 1080]
SEGMENT = 4


Run = tuple[float, float, int]  # wall seconds, CPU seconds (user + system), peak RSS MiB


def run(cmd: list[str], cwd: Path | None = None, stdout: IO[bytes] | None = None) -> Run:
    """Wall seconds, CPU seconds and peak RSS (MiB) of one process (its stdout into `stdout`)."""
    start = time.perf_counter()
    # stderr to a file, not a pipe read after the end: an encoder that writes more than a
    # pipe holds (64 KiB of warnings) would block on it and never end
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            stdout=stdout if stdout is not None else subprocess.DEVNULL,
            stderr=log,
            env=os.environ.copy(),
        )
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:  # SIGTERM or Ctrl-C: the encoder must not go on alone
            proc.kill()
            proc.wait()
            raise
        elapsed = time.perf_counter() - start
        if status != 0:
            log.seek(0)
            err = log.read().decode(errors="replace")[-2000:]
            raise SystemExit(f"{cmd[0]} failed ({status}):\n{err}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024


def make_clip(path: Path, seconds: int, height: int) -> None:
    width = height * 16 // 9
    subprocess.run(
        [
            "ffmpeg", "-y", "-loglevel", "error",
            "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate=30",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
            "-t", str(seconds),
            "-c:v", "mpeg4", "-q:v", "3", "-c:a", "libmp3lame", "-b:a", "192k",
            str(path),
        ],
        check=True,
    )  # fmt: skip


def mediadesk(kind: str, src: Path, out: Path) -> Run:
    spec = {
        "kind": kind,
        "src": str(src),
        "out": str(out),
        "content_type": "video/x-msvideo",
        "ladder": [str(r) for r in LADDER],
        "segment_seconds": SEGMENT,
        "parent": os.getpid(),
        "nice": 0,
    }
    with tempfile.TemporaryFile() as said:
        timing = run([sys.executable, "-m", "core.video.runner", json.dumps(spec)], ROOT, said)
        said.seek(0)
        messages = said.read().decode(errors="replace")
    check_encoded(kind, messages, out)
    return timing


def check_encoded(kind: str, messages: str, out: Path) -> None:
    """The runner's exit status does not say an encode worked: it exits 0 after a permanent
    failure (bad media), a skip, or a result, and the worker reads which from its JSON lines
    (core/video/worker.py). A failed encode is often fast: it would have counted as a fast run.
    Only a result whose every file is there, not empty, is one."""
    result = None
    for line in messages.splitlines():
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if "error" in message or "skipped" in message:
            raise SystemExit(f"MediaDesk's {kind} job did not encode: {line.strip()}")
        if "result" in message:
            result = message["result"]
    if result is None:
        raise SystemExit(f"MediaDesk's {kind} job said no result:\n{messages[-2000:]}")
    missing = [
        f for f in result["files"] if not (out / f).is_file() or (out / f).stat().st_size == 0
    ]
    if not result["files"] or missing:
        raise SystemExit(f"MediaDesk's {kind} job lacks its files {missing or result['files']}")


def x264_args() -> list[str]:
    return [
        "-c:v", "libx264", "-preset", X264["preset"], "-crf", X264["crf"],
        "-profile:v", X264["profile"], "-pix_fmt", "yuv420p",
    ]  # fmt: skip


def ffmpeg_web(src: Path, out: Path, width: int, height: int) -> Run:
    out.mkdir(parents=True, exist_ok=True)
    return run(
        [
            "ffmpeg", "-y", "-loglevel", "error", "-i", str(src),
            "-vf", f"scale={width}:{height}", *x264_args(),
            "-c:a", "aac", "-b:a", "128k", "-ar", "48000",
            "-movflags", "+faststart", str(out / "web.mp4"),
        ]
    )  # fmt: skip


def ffmpeg_hls(src: Path, out: Path, sizes: list[tuple[int, tuple[int, int]]]) -> Run:
    n = len(sizes)
    split = f"[0:v]split={n}" + "".join(f"[v{i}]" for i in range(n))
    scales = ";".join(f"[v{i}]scale={w}:{h}[o{i}]" for i, (_, (w, h)) in enumerate(sizes))
    gop = 30 * SEGMENT
    cmd = ["ffmpeg", "-y", "-loglevel", "error", "-i", str(src)]
    cmd += ["-filter_complex", f"{split};{scales}"]
    for i in range(n):
        cmd += ["-map", f"[o{i}]", "-map", "0:a"]
    cmd += x264_args()
    cmd += ["-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0"]
    cmd += ["-x264-params", f"keyint={gop}:min-keyint={gop}:scenecut=0:open-gop=0"]
    for i, (rung, _) in enumerate(sizes):
        cap = RUNG_MAX_RATE.get(rung, RUNG_MAX_RATE[1080])
        cmd += [f"-maxrate:v:{i}", str(cap), f"-bufsize:v:{i}", str(cap * 2)]
    cmd += ["-c:a", "aac", "-b:a", "128k", "-ar", "48000"]
    cmd += ["-f", "hls", "-hls_time", str(SEGMENT), "-hls_playlist_type", "vod"]
    cmd += ["-hls_flags", "independent_segments", "-hls_list_size", "0"]
    cmd += ["-hls_segment_filename", str(out / "%v" / "seg_%05d.ts")]
    cmd += ["-master_pl_name", "master.m3u8"]
    cmd += ["-var_stream_map", " ".join(f"v:{i},a:{i}" for i in range(n))]
    cmd += [str(out / "%v" / "index.m3u8")]
    out.mkdir(parents=True, exist_ok=True)
    return run(cmd)


def size_of(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    exit_on_sigterm()
    if not shutil.which("ffmpeg"):
        raise SystemExit("ffmpeg is not installed: bash scripts/syslibs.sh ffmpeg")
    work = Path(tempfile.mkdtemp(prefix="mediadesk-bench-transcode-"))
    try:
        src = work / "camcorder.avi"
        make_clip(src, args.seconds, args.height)
        os.sync()  # the clip's dirty pages are written now, not during the first encode
        p = probe(src)
        sizes = ladder_sizes(p, LADDER)
        print(f"source: {args.seconds} s {p.width}x{p.height} MPEG-4 + MP3 AVI, "
              f"{src.stat().st_size / 1e6:.1f} MB; ladder {[r for r, _ in sizes]}; "
              f"load average {load()}")  # fmt: skip

        def side(name: str, kind: str, out: Path, clip: Path = src) -> Run:
            if name == "mediadesk":
                return mediadesk(kind, clip, out)
            if kind == "web":
                return ffmpeg_web(clip, out, p.width, p.height)
            return ffmpeg_hls(clip, out, sizes)

        # Untimed warm-up of both sides on a 5 s clip: the first timed encode of a run was much
        # slower than the same encode in later rounds (it was MediaDesk's web rendition, which
        # the old block order always ran first: the "1.7× slower" web rendition)
        warm = work / "warm.avi"
        make_clip(warm, 5, args.height)
        for name in ("mediadesk", "ffmpeg"):
            side(name, "web", work / "warm" / name, warm)
        shutil.rmtree(work / "warm")

        runs: dict[tuple[str, str], list[Run]] = {}
        output: dict[str, int] = {}
        for round_ in range(args.rounds):
            order = ("mediadesk", "ffmpeg") if round_ % 2 == 0 else ("ffmpeg", "mediadesk")
            for kind in ("web", "hls"):
                for name in order:
                    out = work / name / kind
                    runs.setdefault((name, kind), []).append(side(name, kind, out))
                    output[name] = output.get(name, 0) + size_of(out)
                    shutil.rmtree(out)
        output = {n: b // args.rounds for n, b in output.items()}

        def median(name: str, kind: str, field: int) -> float:
            return statistics.median(r[field] for r in runs[(name, kind)])

        for round_ in range(args.rounds):  # each round's pair ran minutes apart at most
            md_w = [runs[("mediadesk", k)][round_][0] for k in ("web", "hls")]
            ff_w = [runs[("ffmpeg", k)][round_][0] for k in ("web", "hls")]
            print(f"round {round_ + 1}: web {md_w[0]:.1f} s vs {ff_w[0]:.1f} s, ladder "
                  f"{md_w[1]:.1f} s vs {ff_w[1]:.1f} s (MediaDesk vs ffmpeg): "
                  f"{sum(ff_w) / sum(md_w):.2f}x")  # fmt: skip
        head = ("", "web s", "hls s", "total s", "best s", "CPU s", "peak RSS MiB", "output MB")
        print("{:10} {:>8} {:>8} {:>8} {:>8} {:>8} {:>13} {:>10}".format(*head))
        totals = {}
        for name in ("mediadesk", "ffmpeg"):
            web, hls = median(name, "web", 0), median(name, "hls", 0)
            best = min(r[0] for r in runs[(name, "web")]) + min(r[0] for r in runs[(name, "hls")])
            cpu = median(name, "web", 1) + median(name, "hls", 1)
            rss = max(r[2] for k in ("web", "hls") for r in runs[(name, k)])
            totals[name] = (web, hls, cpu, best)
            print(
                f"{name:10} {web:8.1f} {hls:8.1f} {web + hls:8.1f} {best:8.1f} {cpu:8.1f} "
                f"{rss:13d} {output[name] / 1e6:10.1f}"
            )
        md, ff = totals["mediadesk"], totals["ffmpeg"]
        print(f"speed: {(ff[0] + ff[1]) / (md[0] + md[1]):.2f}x ffmpeg's wall time, medians "
              f"(web {ff[0] / md[0]:.2f}x, ladder {ff[1] / md[1]:.2f}x; goal >= 0.9); "
              f"best runs {ff[3] / md[3]:.2f}x; CPU time {ff[2] / md[2]:.2f}x; "
              f"{args.rounds} round(s), load average now {load()}")  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    run_main(main)
