"""A video job's work folders: tmp/jobs is 0750 like the rest of tmp/ (README, *Data folder*),
whatever the umask; under 0000 it was 0777, so nginx's group (core/fsmodes.py) could write in it."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from typing import Any

import pytest

from core.library import Library
from core.video.worker import work_folder
from tests.modes import umask


@pytest.fixture
def open_umask() -> Iterator[None]:
    with umask(0):
        yield


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
@pytest.mark.usefixtures("open_umask")
def test_the_jobs_folder_is_0750_under_an_open_umask(
    library: Library,
    media_dir: Any,
) -> None:
    image = library.uploads.ingest(media_dir.png, "image")
    library.jobs.enqueue(image.id, ("faststart",))
    job = library.jobs.claim("a-worker")
    assert job is not None
    folder = work_folder(library, job)
    assert stat.S_IMODE(folder.parent.stat().st_mode) == 0o750
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
