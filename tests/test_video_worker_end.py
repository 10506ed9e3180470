"""A job ends when its encoder does: the worker noticed the runner's exit only at its next
cancel check (STOP_POLL, 0.4 s), after every job of every video; it now hears at once that the
runner's output is over."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from core.jobs import JobRecord
from core.library import Library
from core.video import service
from core.video import worker as worker_module
from tests import media

pytestmark = pytest.mark.timeout(90)


def test_a_job_ends_when_its_runner_does_not_at_the_next_cancel_check(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cancel check made far longer than a job: the job still ends as soon as its runner
    does (it waited out the whole check before)."""
    # an AVI's web job: an encode in the runner (an MP4's is skipped without one)
    record = library.uploads.ingest(media.make_avi(tmp_path / "a.avi", seconds=1), "video")
    for job in library.jobs.list(file_id=record.id)[0]:
        if job.kind != "web":
            library.jobs.cancel(job.id)
    monkeypatch.setattr(worker_module, "STOP_POLL", 600.0)
    worker = worker_module.VideoWorker(library, name="w", nice=0)
    done: list[JobRecord | None] = []
    runner = threading.Thread(target=lambda: done.append(worker.run_once()), daemon=True)
    runner.start()
    runner.join(60)  # a 1 s clip's job; before, the wait after its end was the whole 600 s
    assert not runner.is_alive(), "the job did not end when its runner did"
    assert done and done[0] is not None
    assert (done[0].kind, done[0].state) == ("web", "done"), (done[0].state, done[0].error)


def test_lines_on_the_runners_output_that_are_not_its_messages_lose_nothing(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever else reaches the runner's stdout (here printed at its start by a
    sitecustomize, as a library's own output would be) is not a message: bytes that are not
    UTF-8 ended the worker's reading, and a JSON string naming the reader's end marker passed
    for the end of the output; either way the job's result was lost ('The encoder exited with
    status 0')."""
    noisy = tmp_path / "noisy"
    noisy.mkdir()
    (noisy / "sitecustomize.py").write_text(
        "import sys\n"
        "sys.stdout.buffer.write(b'\\xff\\xfe not utf-8\\n\"x_ended\"\\n42\\n[1, 2]\\nnull\\n')\n"
        "sys.stdout.flush()\n"
    )
    monkeypatch.setenv("PYTHONPATH", str(noisy))
    record = library.uploads.ingest(media.make_avi(tmp_path / "a.avi", seconds=1), "video")
    for job in library.jobs.list(file_id=record.id)[0]:
        if job.kind != "web":
            library.jobs.cancel(job.id)
    done = worker_module.VideoWorker(library, name="w", nice=0).run_once()
    assert done is not None
    assert (done.kind, done.state) == ("web", "done"), (done.state, done.error)


def test_a_skipped_job_whose_cancel_came_while_it_ran_ends_cancelled(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found reprocessing videos during a storage move: a reprocess that came while a
    faststart job was deciding its skip left that job running (its skip not recorded: a cancel
    was asked), taken again as its lease lapsed, and after three attempts it failed with 'The
    worker running it stopped responding on every attempt'."""
    record = library.uploads.ingest(media.make_mp4(tmp_path / "a.mp4", seconds=1), "video")
    for job in library.jobs.list(file_id=record.id)[0]:
        if job.kind != "faststart":
            library.jobs.cancel(job.id)
    real_skip = worker_module.faststart_skip_reason

    def reprocessed_meanwhile(*args: Any) -> Any:
        service.reprocess(library, record.id)  # the reprocess's own path: cancel asked, requeued
        return real_skip(*args)

    monkeypatch.setattr(worker_module, "faststart_skip_reason", reprocessed_meanwhile)
    done = worker_module.VideoWorker(library, name="w", nice=0).run_once()
    assert done is not None and done.kind == "faststart"
    assert done.state == "cancelled", (done.state, done.error)
