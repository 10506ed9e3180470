"""What the rest of MediaDesk asks of the video pipeline: queue, renditions, which bytes to play.

The one home of the rules "which jobs a new video gets", "where each derivative lives" and
"which version `/stream/{id}/video` serves" (and the link that keeps serving it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core import keys
from core.errors import InvalidInput, NotFound, not_ready
from core.events import ChangeEvent, EventKind
from core.jobs import KINDS, JobRecord, JobState, combine, current_derivatives
from core.links import sign_grant
from core.mediatypes import BY_MIME, FileKind
from core.metadata import upright_size
from core.records import MAX_ID, FileRecord, FileStatus

if TYPE_CHECKING:
    from core.library import Library

logger = logging.getLogger(__name__)

# Where jobs that finished before each job had a folder of its own wrote (a result without
# "dir"): one folder per file, overwritten in place by the next job of the kind.
SUBDIR = {"faststart": "", "web": "", "hls": "hls/", "thumbnails": "thumbs/"}
CONTENT_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".mov": "video/quicktime",
    ".vtt": "text/vtt",
    ".jpg": "image/jpeg",
    ".webp": "image/webp",
}
RENDITION_CHOICES = ("original", "web", "faststart")


def content_type_of(name: str) -> str:
    for ext, ctype in CONTENT_TYPES.items():
        if name.endswith(ext):
            return ctype
    return "application/octet-stream"


def job_dir(kind: str, job_id: int) -> str:
    """The folder of the video's folder one job writes its files under (its result's "dir").

    A folder of its own: a reprocess or a ladder change never overwrites nor removes the files
    of the job being served, so a player holding its playlists (or a range of its web
    rendition) keeps reading the bytes they describe until the replaced job's folder is
    deleted after the grace period (`superseded`)."""
    return f"{kind}-{int(job_id)}/"


def job_prefix(record: FileRecord, kind: str, result: dict[str, Any]) -> str:
    return job_prefix_at(record.storage_key, kind, result)


def job_prefix_at(storage_key: str, kind: str, result: dict[str, Any]) -> str:
    """`job_prefix` of the file stored at `storage_key` (reconcile reads keys, not records)."""
    return keys.video_prefix(storage_key) + str(result.get("dir", SUBDIR[kind]))


def stored_files(storage_key: str, job: JobRecord) -> list[str]:
    """The keys of the files a done job stored for the file at `storage_key` (its result's
    "files", as the worker uploads them)."""
    prefix = job_prefix_at(storage_key, job.kind, job.result)
    return [keys.normalise_key(prefix + str(name)) for name in job.result.get("files", [])]


def derived_key(record: FileRecord, kind: str, name: str, result: dict[str, Any]) -> str:
    """The key of the file `name` of a job of `kind` whose result is `result`."""
    return keys.normalise_key(job_prefix(record, kind, result) + name)


def superseded(record: FileRecord, job: JobRecord) -> tuple[list[str], list[str]]:
    """(prefixes, keys) a done job leaves to delete once a newer job of its kind replaced it.

    Its own folder; for a job finished before folders were per job, the shared folder of its
    kind (HLS, thumbnails) or, for the web and faststart copies that sit beside every other
    kind's files, the keys it names."""
    if "dir" in job.result or SUBDIR[job.kind]:
        return [job_prefix(record, job.kind, job.result)], []
    names = job.result.get("files", [])
    return [], [derived_key(record, job.kind, name, job.result) for name in names]


FASTSTART_TYPES = ("video/mp4", "video/quicktime")  # containers with a moov box


def kinds_for(record: FileRecord) -> tuple[str, ...]:
    """The jobs a video gets: faststart only where a moov box can come last."""
    if record.content_type in FASTSTART_TYPES:
        return KINDS
    return tuple(k for k in KINDS if k != "faststart")


def queue_new_video(lib: Library, record: FileRecord) -> list[JobRecord]:
    """Every job a newly stored video gets; nothing for images. Never fails the ingest."""
    if record.file_type != FileKind.VIDEO:
        return []
    try:
        if lib.jobs.processing_owner(record.id) is not None:
            # the same bytes as another file (for another athlete or with other flags): its
            # jobs already make this object's derivatives; a second set would redo them
            publish(lib, record.id, None)
            return []
        jobs = lib.jobs.enqueue(record.id, kinds_for(record))
    except Exception:  # the file is stored either way; `mediadesk reprocess` queues it later
        logger.exception("Could not queue the processing jobs of file %s", record.id)
        return []
    publish(lib, record.id, None)
    return jobs


def reprocessable(lib: Library, file_id: int) -> FileRecord:
    """The file a reprocess names (POST /files/{id}/reprocess, `mediadesk reprocess ID`), a
    photo's or a video's alike: one in the trash is NotFound, as the photo's remake always
    answered (core.thumbnail_remake). A trashed video's jobs were queued again: encodes of a
    file nobody can see, whose derivatives the purge then deletes."""
    record = lib.get_file(file_id)
    if record.is_trashed:
        raise NotFound(f"File {file_id} is in the trash; restore it to reprocess it")
    return record


def reprocess(lib: Library, file_id: int) -> list[JobRecord]:
    """The video's jobs queued again, and nothing more: the request answers at once whatever
    the size of the original. Its thumbnails job makes a poster of an older rendering again
    (core.thumbnail_remake.behind; core/video/worker.py), from the original it has at hand."""
    record = reprocessable(lib, file_id)
    if record.file_type != FileKind.VIDEO:
        raise InvalidInput(f"File {file_id} is not a video; only videos are processed")
    if record.status != FileStatus.READY:
        raise not_ready(file_id, record.status)
    target = file_id
    if lib.jobs.list(file_id=file_id, limit=1)[1] == 0:
        # the same bytes as another file: that file's jobs make this object's derivatives,
        # so they are the ones to redo; jobs of its own would encode the same object twice
        target = lib.jobs.processing_owner(file_id) or file_id
    jobs = lib.jobs.requeue_file(target, kinds_for(record))
    publish(lib, target, None)
    if target != file_id:
        publish(lib, file_id, None)
    return jobs


def forget(lib: Library, record: FileRecord, objects: bool = True) -> None:
    """A hard delete: workers stop, the job rows go, and every derivative unless `objects` is
    False (another file shares the object and its derivatives)."""
    if not objects and lib.jobs.hand_over(record.id) is not None:
        return  # the file that keeps the object keeps its derivatives and their jobs
    lib.jobs.forget_file(record.id)
    if objects:
        lib.delete_objects_under(keys.video_prefix(record.storage_key))


def publish(lib: Library, file_id: int, job: JobRecord | None) -> None:
    """A `processing` change event with the file's combined state (and the job that moved)."""
    state = combine(lib.jobs.latest_for_file(file_id))
    data: dict[str, Any] = {
        "id": file_id,
        "processing": state.as_dict() if state else None,
        "job": job.as_dict() if job else None,
    }
    lib.events.publish(ChangeEvent(EventKind.PROCESSING, file_id, data))


@dataclass(frozen=True)
class Served:
    """The bytes `/stream/{id}/video` sends: the original or one derivative."""

    name: str
    key: str
    content_type: str
    size: int
    etag: str
    # A stand-in: the URL asked will serve another version once queued or running jobs end
    # (the original while the web rendition is made), so caches must not keep this answer long
    interim: bool = False
    # `v` of the URL that sends exactly these bytes for as long as they exist (pinned_video):
    # the job that made a rendition, the original's SHA-256 prefix; "" when there is none
    tag: str = ""

    @property
    def waiting(self) -> bool:
        """A stand-in no browser opens (an MPEG-TS, AVI or WMV original while its web rendition
        is made): /stream/{id}/video answers 503 not_ready instead of bytes a <video> can only
        fail on (a camcorder's whole .mts fetched for nothing), and the watch page says the
        video is being prepared without loading it."""
        media = BY_MIME.get(self.content_type)
        opened = media is None or media.in_browsers
        return self.interim and self.name == "original" and not opened

    @property
    def query(self) -> str:
        """`rendition=…&v=…`: the link to hand a player. The file's own URL may send other
        bytes of the same size later (the faststart copy after the original) and media
        elements ask their next ranges without If-Range, so they would be spliced."""
        return f"rendition={self.name}" + (f"&v={self.tag}" if self.tag else "")


def version(
    jobs: list[JobRecord], kind: str, asked: str, get: Callable[[int], JobRecord]
) -> JobRecord:
    """The done job of `kind` named by a playlist's `v` (its id), among the jobs of the file
    whose `jobs` (`JobQueue.latest_for_file`) these are: the current one, or one a newer job
    replaced, whose files last until its deferred deletion (a player holding its playlists
    keeps playing what they describe). NotFound for any other id."""
    gone = NotFound(f"Version {asked} of this {kind} is not served; fetch the playlist again")
    # ASCII digits ("²" is a digit int() refuses), at most MAX_ID: no job has a bigger id and
    # the catalog cannot even be asked (SQLite overflows past 2**63, PostgreSQL's column is
    # 32-bit; int() refuses 4301 digits and more)
    if not (asked.isascii() and asked.isdigit()) or len(asked) > len(str(MAX_ID)) or not jobs:
        raise gone
    job_id = int(asked)
    if job_id > MAX_ID:
        raise gone
    job = next((j for j in jobs if j.id == job_id), None)
    if job is None:
        try:
            job = get(job_id)
        except NotFound:
            raise gone from None
    # the jobs of one file (an alias's are its file's): a grant of another opens nothing here
    if job.file_id != jobs[0].file_id or job.kind != kind or job.state != JobState.DONE:
        raise gone
    return job


def derivative_not_ready(message: str, kind: str, job: JobRecord | None) -> NotFound:
    """The 404 of a derivative (HLS ladder, scrub track, rendition) its job has not made: the
    same code as a file that is not there, which only the English told apart; a player or
    page waiting for it reads reason not_ready and the job's state (null: none was queued)."""
    return NotFound(
        message,
        reason="not_ready",
        details={
            "kind": kind,
            "state": str(job.state) if job else None,
            "job_id": job.id if job else None,
        },
    )


def waited_on(jobs: list[JobRecord]) -> JobRecord | None:
    """The web job a waiting stand-in (Served.waiting) waits on: the file's newest."""
    return max((j for j in jobs if j.kind == "web"), key=lambda j: j.id, default=None)


def choose_video(record: FileRecord, jobs: list[JobRecord], choice: str | None) -> Served:
    """Default: web rendition if one was made, else the faststart copy, else the original."""
    if choice is not None and choice not in RENDITION_CHOICES:
        raise InvalidInput(f"rendition must be one of {', '.join(RENDITION_CHOICES)}")
    done = current_derivatives(jobs)
    order = [choice] if choice else ["web", "faststart"]
    coming = any(j.kind in order and j.state in (JobState.QUEUED, JobState.RUNNING) for j in jobs)
    for name in order:
        if name == "original":
            break
        job = done.get(name)
        if job is None:
            skipped = any(j.kind == name and j.state == JobState.SKIPPED for j in jobs)
            if choice and not skipped:
                # not_ready as HLS's 404 (server/routes/hls.py): a player asking for the web
                # rendition reads the job's state, not the English
                latest = max((j for j in jobs if j.kind == name), key=lambda j: j.id, default=None)
                raise derivative_not_ready(
                    f"File {record.id} has no {name} rendition (yet)", name, latest
                )
            continue  # skipped: the original already is what that rendition would be
        # faststart while web is being made
        return _rendition(record, job, interim=coming and name != order[0])
    return _original(record, interim=coming and choice != "original")


def pinned_video(
    record: FileRecord,
    jobs: list[JobRecord],
    choice: str | None,
    asked: str,
    get: Callable[[int], JobRecord],
) -> Served:
    """The bytes `?rendition=<choice>&v=<asked>` names (Served.query): the original whose
    SHA-256 starts so, or the web or faststart copy made by job `asked` — the current one or
    one a reprocess replaced, whose files last until its deferred deletion. Never another
    version: NotFound once they are gone (a player holding the link must not be sent other
    bytes under it), InvalidInput without `rendition`."""
    if choice is None:
        raise InvalidInput("v names the version of a rendition: give rendition too")
    if choice not in RENDITION_CHOICES:
        raise InvalidInput(f"rendition must be one of {', '.join(RENDITION_CHOICES)}")
    gone = NotFound(
        f"Version {asked} of the {choice} of file {record.id} is not served; "
        f"GET /stream/{record.id}/info for the current link"
    )
    if choice == "original":
        original = _original(record, interim=False)
        if not original.tag or asked != original.tag:
            raise gone
        return original
    try:
        job = version(jobs, choice, asked, get)
    except NotFound:
        raise gone from None
    if not job.result.get("files"):
        raise gone
    return _rendition(record, job, interim=False)


def _rendition(record: FileRecord, job: JobRecord, interim: bool) -> Served:
    file_name = job.result["files"][0]
    size = int(job.result.get("sizes", {}).get(file_name, 0))
    return Served(
        job.kind,
        derived_key(record, job.kind, file_name, job.result),
        job.result.get("content_type", "video/mp4"),
        size,
        f'"{job.kind}-{job.id}-{size}"',
        interim=interim,
        tag=str(job.id),
    )


def _original(record: FileRecord, interim: bool) -> Served:
    return Served(
        "original",
        record.storage_key,
        record.content_type or "application/octet-stream",
        record.size or 0,
        f'"{(record.sha256 or record.storage_key)[:40]}"',
        interim=interim,
        tag=(record.sha256 or "")[:16],
    )


def renditions(record: FileRecord, jobs: list[JobRecord]) -> list[dict[str, Any]]:
    """original, faststart, web and one entry per HLS rung (url filled in by the server),
    each sized as shown: the original after its rotation and pixel aspect, like the others (a
    phone's portrait clip stored as landscape pixels read 320x240 beside its 240x320
    renditions, a DVD's 720x576 beside its faststart copy's 1024x576)."""
    shown = upright_size(
        record.width, record.height, record.rotation, record.extra.get("pixel_aspect")
    ) or (record.width, record.height)
    out: list[dict[str, Any]] = [
        {
            "name": "original",
            "width": shown[0],
            "height": shown[1],
            "bit_rate": record.bit_rate,
            "content_type": record.content_type,
            "path": "raw",
        }
    ]
    done = current_derivatives(jobs)
    for name in ("faststart", "web"):
        job = done.get(name)
        if job:
            out.append(
                {
                    "name": name,
                    "width": job.result.get("width"),
                    "height": job.result.get("height"),
                    "bit_rate": job.result.get("bit_rate"),
                    "content_type": job.result.get("content_type"),
                    # pinned to this job's copy: a reprocess's newer one gets a link of its own
                    "path": f"video?rendition={name}&v={job.id}",
                }
            )
    hls = done.get("hls")
    if hls:
        for v in hls.result.get("variants", []):
            out.append(
                {
                    "name": v["name"],
                    "width": v["width"],
                    "height": v["height"],
                    "bit_rate": v["bandwidth"],
                    "content_type": "application/vnd.apple.mpegurl",
                    "path": f"hls/{v['playlist']}",
                }
            )
    return out


def web_fallback(
    lib: Library, record: FileRecord, jobs: list[JobRecord] | None = None
) -> str | None:
    """Where a player finds the web rendition (a local path or a signed URL), if one was made.
    `jobs`: the file's latest jobs when the caller has read them already."""
    if jobs is None:
        jobs = lib.jobs.latest_for_file(record.id)
    web = current_derivatives(jobs).get("web")
    if web is None or not web.result.get("files"):
        return None
    key = derived_key(record, "web", web.result["files"][0], web.result)
    local = lib.object_path(key)
    if local is not None:
        return str(local)
    expiry = lib.settings.presigned_url_expiry
    return lib.sign_key(key, expiry, content_type="video/mp4")


@dataclass(frozen=True)
class LargePoster:
    """The large poster the current thumbnails job made (core/video/runner.py)."""

    key: str
    width: int
    height: int


def large_poster(record: FileRecord, jobs: list[JobRecord]) -> LargePoster | None:
    """The video's large poster, or None: not processed yet, or by a version that made none
    (the thumbnail stands in for it then; a reprocess makes it)."""
    job = current_derivatives(jobs).get("thumbnails")
    if job is None:
        return None
    made = job.result.get("poster")
    if not isinstance(made, dict) or made.get("file") not in job.result.get("files", []):
        return None
    key = derived_key(record, "thumbnails", str(made["file"]), job.result)
    return LargePoster(key, int(made["width"]), int(made["height"]))


def watch_link(lib: Library, record: FileRecord, base_url: str) -> str:
    """The /watch page of a video on the server at `base_url`; signed for a private file.

    Signed with the catalog's link key (core/url_keys.py), the one every server of it checks.
    """
    url = f"{base_url.rstrip('/')}/watch/{record.id}"
    if record.is_public:
        return url
    return f"{url}?{sign_grant(lib, record)}"


@dataclass(frozen=True)
class ScrubCue:
    start: float
    end: float
    x: int
    y: int
    w: int
    h: int


def scrub_thumbnails(
    lib: Library, record: FileRecord, jobs: list[JobRecord] | None = None
) -> tuple[list[ScrubCue], bytes] | None:
    """The cues of the scrub thumbnails track and the sprite's JPEG bytes, if they were made.
    `jobs`: the file's latest jobs when the caller has read them already."""
    if jobs is None:
        jobs = lib.jobs.latest_for_file(record.id)
    job = current_derivatives(jobs).get("thumbnails")
    if job is None:
        return None

    def read(name: str) -> bytes:
        return lib.read_object(derived_key(record, "thumbnails", name, job.result))

    try:
        text = read("thumbnails.vtt").decode("utf-8")
        sprite = read("sprite.jpg")
    except NotFound:
        return None
    return parse_vtt(text), sprite


def parse_vtt(text: str) -> list[ScrubCue]:
    cues = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        lines = [ln for ln in block.strip().splitlines() if ln]
        if len(lines) < 2 or "-->" not in lines[0] or "#xywh=" not in lines[1]:
            continue
        start, end = (_vtt_seconds(t) for t in lines[0].split("-->"))
        x, y, w, h = (int(v) for v in lines[1].split("#xywh=", 1)[1].split(","))
        cues.append(ScrubCue(start, end, x, y, w, h))
    return cues


def _vtt_seconds(text: str) -> float:
    total = 0.0
    for part in text.strip().split(":"):
        total = total * 60 + float(part)
    return total
