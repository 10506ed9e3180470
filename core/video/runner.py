"""`python -m core.video.runner JSON`: one job's encode, in its own process at low priority.

A separate process keeps the GIL and the CPU of an encode away from the GUI and the API, and
lets the worker stop an encode at once (SIGKILL) without leaving a half-written derivative in
the store: the output folder is only uploaded after a clean exit. Progress and the outcome are
JSON lines on stdout.

A thumbnails job also makes the video's large poster (the watch page's, core.thumbnails.
POSTER_WIDTH) into LARGE_POSTER, one of its files, and, asked for it (`poster`: the file's
poster is of an older rendering), the video's thumbnail of the same frame into POSTER: the
worker stores that one (core.thumbnail_remake.ThumbnailRemaker.keep_poster). Posters that
cannot be made are said (`poster_error`) and fail nothing: the sprite stands, and the page
shows the thumbnail it had.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import av
import av.error

from core.thumbnails import make_posters
from core.video import encode
from core.video.failures import failure_message, failure_reason, refused_data, without_paths

POSTER = "poster.webp"  # in the output folder; never one of the job's files (its "files")
LARGE_POSTER = "poster-large.webp"  # one of the job's files, named by its result's "poster"


def _emit(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _watch_parent(parent: int) -> None:
    """The worker was killed (even with SIGKILL): stop rather than encode for nobody."""
    while True:
        if os.getppid() != parent:
            os._exit(3)
        time.sleep(0.5)


def run(job: dict[str, Any]) -> dict[str, Any]:
    src, out = Path(job["src"]), Path(job["out"])
    out.mkdir(parents=True, exist_ok=True)
    last = [0.0]

    def progress(value: float) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.25:
            last[0] = now
            _emit({"progress": round(value, 4)})

    kind = job["kind"]
    if kind == "faststart":
        return encode.faststart(src, out, job.get("content_type"), progress)
    if kind == "web":
        return encode.web_rendition(src, out, job.get("content_type"), progress)
    if kind == "hls":
        return encode.hls_ladder(
            src, out, [int(r) for r in job["ladder"]], int(job["segment_seconds"]), progress
        )
    if kind == "thumbnails":
        result = encode.scrub_thumbnails(src, out, progress)
        return _posters(src, out, bool(job.get("poster")), result)
    raise encode.BadMedia(f"Unknown job kind {kind!r}", "internal")


def _posters(src: Path, out: Path, thumbnail: bool, result: dict[str, Any]) -> dict[str, Any]:
    """`result` with the large poster made (its file and size), and POSTER when `thumbnail`."""
    try:
        thumb, large, (width, height) = make_posters(src, thumbnail)
    except Exception as exc:  # the sprite is made: the old posters stay, a reprocess tries again
        _emit({"poster_error": f"{type(exc).__name__}: {exc}"})
        return result
    (out / LARGE_POSTER).write_bytes(large)
    if thumb is not None:
        (out / POSTER).write_bytes(thumb)
    return {
        **result,
        "files": [*result["files"], LARGE_POSTER],
        "poster": {"file": LARGE_POSTER, "width": width, "height": height},
    }


def failed(exc: Exception, src: Path, out: Path) -> dict[str, Any]:
    """The message of an encode that raised `exc`: its words without a local path, and
    whether the worker tries it again (not when the original's damage caused it)."""
    places = {src: "the original", out: "the output folder"}
    damaged = damage(src) if refused_data(exc) else 0
    reason = failure_reason(exc, damaged)
    words = failure_message(exc, places)
    if reason == "undecodable_media":
        return {
            "error": f"The video is damaged: {damaged} damaged packets or pictures out of "
            f"order, and the encoder refused what could be decoded of it ({words}); the "
            "original is still served",
            "permanent": True,
            "reason": reason,
        }
    return {"error": words, "permanent": False, "reason": reason}


def damage(src: Path) -> int:
    """The packets of `src` that do not decode and its pictures whose time does not move on:
    a whole decode, so only once FFmpeg refused the encode's data (failed), to tell a damaged
    original from a fault of ours or of the machine."""
    damaged, last = 0, None
    try:
        with av.open(str(src)) as container:
            video = encode.main_video(container)
            streams = [s for s in (video, encode.main_audio(container)) if s is not None]
            for packet in container.demux(*streams):
                if packet.is_corrupt:
                    damaged += 1
                try:
                    frames = packet.decode()
                except av.error.FFmpegError:
                    damaged += 1
                    continue
                if packet.stream is not video:
                    continue
                for frame in frames:
                    if not isinstance(frame, av.VideoFrame) or frame.pts is None:
                        continue
                    if last is not None and frame.pts <= last:
                        damaged += 1
                    else:
                        last = frame.pts
    except av.error.FFmpegError:  # read at the start, not now: no sign of damage, so retried
        return 0
    return damaged


def main(argv: list[str]) -> int:
    job = json.loads(argv[1])
    src, out = Path(job["src"]), Path(job["out"])
    places = {src: "the original", out: "the output folder"}
    parent = int(job.get("parent") or os.getppid())
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    with contextlib.suppress(OSError):
        os.nice(int(job.get("nice", 10)))
    try:
        result = run(job)
    except encode.NothingToDo as exc:
        _emit({"skipped": without_paths(str(exc), places), "reason": exc.reason})
        return 0
    except encode.BadMedia as exc:
        _emit({"error": without_paths(str(exc), places), "permanent": True, "reason": exc.reason})
        return 0
    except Exception as exc:  # an FFmpeg or I/O failure: retried with a back-off, unless
        said = failed(exc, src, out)  # the original's damage caused it
        _emit(said)
        return 0 if said["permanent"] else 1
    _emit({"result": result})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
