"""`mediadesk worker [--concurrency N]` and
`mediadesk reprocess [--all] [--photos] [--all-photos] [ID…]`."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from core.errors import InvalidInput, NotFound, StorageUnavailable, is_object_damaged
from core.library import Library
from core.logsetup import quiet_credential_loggers, quiet_outage_tracebacks
from core.mediatypes import FileKind
from core.thumbnail_remake import ThumbnailRemaker
from core.video import service
from server.client.cli import catalog_id

COMMANDS = ("worker", "reprocess")

_R = TypeVar("_R")


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    worker = sub.add_parser(
        "worker",
        parents=[common],
        help="run video processing jobs (web renditions, HLS, thumbnails) until Ctrl+C",
        description="Claim and run video jobs from the catalog. Several workers on several "
        "machines can share one PostgreSQL catalog and one bucket.",
    )
    worker.add_argument(
        "--concurrency", type=int, default=1, help="jobs run at the same time (default: 1)"
    )
    worker.add_argument(
        "--nice",
        type=int,
        default=10,
        help="CPU priority of the encodes, 0-19 (default: 10, so other work comes first)",
    )
    worker.add_argument(
        "--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR")
    )
    reprocess = sub.add_parser(
        "reprocess",
        parents=[common],
        help="queue the processing jobs of videos again (after a ladder change); make "
        "photos' thumbnails and variants again; read files' metadata again",
        description="A video's id (or --all) queues its processing jobs again for the "
        "workers; its thumbnails job also reads its metadata again. A photo's id (or "
        "--photos) makes its thumbnail and stored ?w= variants again now, with today's "
        "rendering, and reads its metadata again; maintenance makes the images again in the "
        "background, a batch per run, for photos whose images an older version made. "
        "--all-photos reads every photo's metadata again (capture date with its offset, "
        "size, turn, camera), making the images again only where they are older. What a "
        "person edited (name, description, athlete, public) is never changed.",
    )
    reprocess.add_argument("ids", nargs="*", type=catalog_id, metavar="ID", help="file ids")
    reprocess.add_argument("--all", action="store_true", help="every ready video")
    reprocess.add_argument(
        "--photos",
        action="store_true",
        help="every photo whose thumbnail an older rendering made (what maintenance would "
        "make again in batches), now",
    )
    reprocess.add_argument(
        "--all-photos",
        action="store_true",
        help="every photo: its metadata read again, its images made again when older",
    )


def run(args: argparse.Namespace, open_library: Callable[[argparse.Namespace], Library]) -> int:
    if args.command == "worker":
        return _worker(args, open_library)
    return _reprocess(args, open_library)


def _worker(args: argparse.Namespace, open_library: Callable[[argparse.Namespace], Library]) -> int:
    logging.basicConfig(
        level=args.log_level,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    quiet_credential_loggers()  # --log-level DEBUG must not log bucket signatures
    quiet_outage_tracebacks()
    if not 1 <= args.concurrency <= 64:
        raise InvalidInput("--concurrency must be between 1 and 64")
    if not 0 <= args.nice <= 19:
        raise InvalidInput("--nice must be between 0 and 19")
    # the worker's runner and encoder bring PyAV (~50 ms of CPU): only `worker` loads them
    from core.video.worker import VideoWorker

    library = open_library(args)
    try:
        worker = VideoWorker(library, args.concurrency, nice=args.nice).start()
        if library.settings.maintenance_interval > 0:  # one leader among servers and workers
            library.maintenance_leader(library.settings.maintenance_interval).start()
        sys.stderr.write(f"MediaDesk worker {worker.name} running; press Ctrl+C to stop.\n")
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        while not stop.wait(1.0):  # a timed wait lets the signal handler run promptly
            pass
        worker.stop()
        sys.stderr.write(f"MediaDesk worker {worker.name} stopped.\n")
    finally:
        library.close()
    return 0


def _reprocess(
    args: argparse.Namespace, open_library: Callable[[argparse.Namespace], Library]
) -> int:
    if not args.all and not args.photos and not args.all_photos and not args.ids:
        raise InvalidInput("Name file ids or use --all (videos), --photos or --all-photos")
    library = open_library(args)
    try:
        ids = list(args.ids)
        # every id named is checked before any work (one in the trash refuses them all)
        kinds = {i: service.reprocessable(library, i).file_type for i in ids}
        photos = [i for i in ids if kinds[i] == FileKind.IMAGE]
        videos = [i for i in ids if i not in photos]
        if args.all:
            videos = library.ready_video_ids()
        remaker = library.thumbnail_remaker
        if args.photos or args.all_photos:
            photos += [i for i in remaker.stale_ids() if i not in photos]
        # photos whose images are today's: their metadata only (a header read, no decode)
        every = remaker.stale_ids(every=True) if args.all_photos else []
        reread = [i for i in every if i not in photos]
        named = set(ids)
        queued = {}
        for file_id in videos:
            jobs = _listed(named, file_id, "not queued again", partial(service.reprocess, library))
            if jobs is not None:
                queued[file_id] = [job.id for job in jobs]
        out: dict[str, Any] = {"queued": queued}
        if photos or args.photos or args.all_photos:
            told = [_listed(named, i, "not made again", remaker.remake_told) for i in photos]
            out["remade"] = [r.record.id for r in told if r is not None and r.made]
            # photos whose originals cannot be decoded keep the images they had
            undecodable = [r.record.id for r in told if r is not None and not r.made]
            if undecodable:
                out["not_made"] = undecodable
        if args.all_photos:
            out["reread"] = [i for i in reread if _reread(remaker, i)]
        sys.stdout.write(json.dumps(out, indent=2) + "\n")
    finally:
        library.close()
    return 0


def _listed(named: set[int], file_id: int, what: str, do: Callable[[int], _R]) -> _R | None:
    """`do` for one file of the run. One the command listed (--all, --photos, --all-photos)
    that was trashed or deleted since, or whose original is gone or damaged (not the recorded
    size), is said and passed over (None), as `_reread` does: another user's trash ended the
    whole run, the rest never done and no summary written. An id the user named raises, as
    its check before any work does."""
    try:
        return do(file_id)
    except (NotFound, StorageUnavailable) as exc:
        if file_id in named or not _passed_over(exc):
            raise
        sys.stderr.write(f"File {file_id} {what}: {exc.message}\n")
        return None


def _reread(remaker: ThumbnailRemaker, file_id: int) -> bool:
    """One photo of `--all-photos` read again; one deleted or trashed since the list was
    made, or whose original is gone or damaged, is said and passed over: a whole library's run
    is not ended by it."""
    try:
        remaker.reread(file_id)
    except (NotFound, StorageUnavailable) as exc:
        if not _passed_over(exc):
            raise
        sys.stderr.write(f"File {file_id} not read again: {exc.message}\n")
        return False
    return True


def _passed_over(exc: NotFound | StorageUnavailable) -> bool:
    """An error of one file that a run over many says and goes on after (an outage ends it)."""
    return isinstance(exc, NotFound) or is_object_damaged(exc)
