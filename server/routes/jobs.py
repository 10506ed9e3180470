"""Processing jobs: GET /jobs, POST /jobs/{id}/cancel|retry, POST /files/{id}/reprocess."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from core.jobs import FAILURE_REASONS, KINDS, MAX_LIMIT, JobQueue, JobRecord, JobState
from core.library import Library
from core.mediatypes import FileKind
from core.video import service
from server.auth import requires
from server.params import as_id, as_int, file_id, path_id, read_optional_json
from server.presenters import job_json, reads_job_details
from server.routes.files import file_body
from server.state import TOKEN, library, run_blocking, store_blocking

routes = web.RouteTableDef()


@routes.get("/jobs")
@requires("read")
async def list_jobs(request: web.Request) -> web.Response:
    q = request.query
    items, total = await run_blocking(
        request,
        library(request).jobs.list,
        q.get("state") or None,  # core/jobs.py refuses an unknown state (400 invalid_input)
        as_id("file_id", q.get("file_id")),
        as_int("limit", q.get("limit"), 100, minimum=1, maximum=MAX_LIMIT) or 100,
        as_int("offset", q.get("offset"), 0, minimum=0) or 0,
    )
    detailed = reads_job_details(request[TOKEN])
    return web.json_response(
        {"items": [job_json(j, detailed) for j in items], "total": total},
        headers={"Cache-Control": "no-store"},
    )


@routes.get("/jobs/{job_id}")
@requires("read")
async def get_job(request: web.Request) -> web.Response:
    job = await run_blocking(request, library(request).jobs.get, path_id(request, "job_id"))
    body = job_json(job, reads_job_details(request[TOKEN]))
    return web.json_response(body, headers={"Cache-Control": "no-store"})


async def _change(request: web.Request, change: Callable[[JobQueue, int], JobRecord]) -> JobRecord:
    """`change` (cancel or retry) of the path's job, announced as the file's processing event."""
    lib = library(request)
    job_id = path_id(request, "job_id")
    await read_optional_json(request)  # NO_BODY: an object or nothing, though no field is read

    def run() -> JobRecord:
        job = change(lib.jobs, job_id)
        service.publish(lib, job.file_id, job)
        return job

    return await run_blocking(request, run)


@routes.post("/jobs/{job_id}/cancel")
@requires("admin")
async def cancel_job(request: web.Request) -> web.Response:
    job = await _change(request, JobQueue.cancel)
    return web.json_response(job.as_dict(), status=202 if job.state == JobState.RUNNING else 200)


@routes.post("/jobs/{job_id}/retry")
@requires("admin")
async def retry_job(request: web.Request) -> web.Response:
    job = await _change(request, JobQueue.retry)
    return web.json_response(job.as_dict(), status=202)


@routes.post("/files/{file_id}/reprocess")
@requires("admin")
async def reprocess(request: web.Request) -> web.Response:
    """A video's jobs queued again (202), or a photo's images made again now (200), as
    `mediadesk reprocess ID` does (server/cli_video.py); a file in the trash is a 404."""
    fid = file_id(request)
    await read_optional_json(request)
    lib = library(request)
    record = await run_blocking(request, service.reprocessable, lib, fid)
    if record.file_type == FileKind.IMAGE:
        # As quick as an upload's thumbnailing, so done before answering: nothing to poll.
        # The store's pool: it downloads the original and writes the images
        remade = await store_blocking(request, lib.thumbnail_remaker.remake, fid)
        body = {"items": [], "total": 0, "file": await file_body(request, remade)}
        return web.json_response(body)
    jobs = await run_blocking(request, service.reprocess, lib, fid)
    return web.json_response({"items": [j.as_dict() for j in jobs], "total": len(jobs)}, status=202)


def metrics_text(lib: Library) -> str:
    """Queue depth, failures and job durations, read from the catalog (every worker's)."""
    depth = lib.jobs.depth()
    runs, failures = lib.jobs.run_statistics()
    durations: dict[str, list[float]] = {}
    for kind, seconds in runs:
        durations.setdefault(kind, []).append(seconds)
    failed: dict[str, int] = {}
    # Every kind and reason from 0, so a rate or an alert on one needs no series to appear
    # first; a code that is not one of FAILURE_REASONS (none: failed before migration 0017)
    # is "unknown", so the catalog's contents never add label values.
    by_reason = {(kind, reason): 0 for kind in KINDS for reason in FAILURE_REASONS}
    for (kind, code), n in failures.items():
        failed[kind] = failed.get(kind, 0) + n
        key = (kind, code if code in FAILURE_REASONS else "unknown")
        by_reason[key] = by_reason.get(key, 0) + n
    lines = [
        "# HELP mediadesk_jobs Processing jobs in the catalog by state (queue depth: queued)",
        "# TYPE mediadesk_jobs gauge",
    ]
    lines += [f'mediadesk_jobs{{state="{state}"}} {n}' for state, n in sorted(depth.items())]
    lines += [
        "# HELP mediadesk_jobs_failed Jobs that failed for good, by kind",
        "# TYPE mediadesk_jobs_failed gauge",
    ]
    lines += [f'mediadesk_jobs_failed{{kind="{k}"}} {n}' for k, n in sorted(failed.items())]
    lines += [
        "# HELP mediadesk_jobs_failed_by_reason Jobs that failed for good, by kind and reason "
        "(the Job schema's reason codes; unknown: failed before they were recorded)",
        "# TYPE mediadesk_jobs_failed_by_reason gauge",
    ]
    lines += [
        f'mediadesk_jobs_failed_by_reason{{kind="{k}",reason="{r}"}} {n}'
        for (k, r), n in sorted(by_reason.items())
    ]
    lines += [
        "# HELP mediadesk_job_duration_seconds Run time of finished jobs (last attempt), by kind",
        "# TYPE mediadesk_job_duration_seconds summary",
    ]
    for kind, values in sorted(durations.items()):
        lines.append(f'mediadesk_job_duration_seconds_sum{{kind="{kind}"}} {sum(values):.3f}')
        lines.append(f'mediadesk_job_duration_seconds_count{{kind="{kind}"}} {len(values)}')
    return "\n".join(lines) + "\n"
