"""A served MediaDesk SIGKILLed during a burst of hard deletes
(`DELETE /files/{id}?hard_delete=true`) of files not in the trash. One delete is caught
between its object's deletion and its row's:
that file was left listed as ready without its bytes (the raw stream 404 "No object in any
storage", reconcile's rows_without_objects, `mediadesk maintenance` exiting 1), in listings,
/usage and the desktop grid until deleted again by hand, while maintenance finished nothing.
Now the delete moves the file to the trash and claims it in the catalog before any byte goes,
as the trash's emptying does: killed, the file is in the trash under a claim, and once the
claim's lease is over maintenance finishes the deletion (finished_deletions).

No timing luck: the served child's store stalls right after it deleted the caught file's
object, prints "stalled", and is killed there. Real HTTP over loopback, local storage and
moto's S3 server."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from core.db.models import utcnow
from core.errors import Conflict, StorageUnavailable
from core.library import CLAIM_LEASE, Library
from core.maintenance import reconcile, run_maintenance
from core.records import FileRecord
from core.settings import Settings, save_settings
from tests.faults import ROOT, start_serve
from tests.internals import storage_of
from tests.server_fixtures import bearer, http_call, make_tokens

pytestmark = pytest.mark.timeout(120)

# A served library whose store stalls right after deleting the object named by argv[2].
SERVED = """
import sys, time
from pathlib import Path
from core.library import Library
from core.settings import load_settings
from server.entry import EmbeddedServer
from tests.internals import storage_of
from tests.server_fixtures import server_config
data_dir, stall_key = sys.argv[1], sys.argv[2]
config = Path(data_dir, "settings.toml")
lib = Library.open(load_settings(environ={}, config_file=config, data_dir=data_dir))
storage = storage_of(lib)
real = storage.delete

def stalled(key, *args, **kwargs):
    done = real(key, *args, **kwargs)
    if key == stall_key:
        print("stalled", flush=True)
        time.sleep(90)
    return done

storage.delete = stalled
server = EmbeddedServer(lib, config=server_config(lib))
server.start()
print(server.url, flush=True)
time.sleep(90)
"""

BURST = 6


def _png(shade: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (shade, 90, 200 - shade)).save(out, "PNG")
    return out.getvalue()


def _delete(url: str, token: str, file_id: int) -> None:
    with contextlib.suppress(OSError):  # the server is killed before some answer
        http_call(f"{url}/files/{file_id}?hard_delete=true", "DELETE", headers=bearer(token))


def _burst_killed(data_dir: Path, token: str, ids: list[int], stall_key: str) -> None:
    """The hard deletes of `ids` sent at once to a served child, SIGKILLed once the delete of
    the file stored at `stall_key` deleted that object."""
    child = subprocess.Popen(
        [sys.executable, "-c", SERVED, str(data_dir), stall_key],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    try:
        url = child.stdout.readline().strip()
        assert url.startswith("http"), url
        for file_id in ids:
            threading.Thread(target=_delete, args=(url, token, file_id), daemon=True).start()
        assert child.stdout.readline().strip() == "stalled"
    finally:
        child.kill()
        child.wait(15)


@pytest.mark.parametrize("store", ["local", "s3"])
def test_a_server_killed_mid_hard_delete_leaves_no_listed_file_without_its_bytes(
    request: pytest.FixtureRequest, store: str, tmp_path: Path
) -> None:
    settings: Settings = request.getfixturevalue("settings" if store == "local" else "s3_settings")
    save_settings(settings, settings.config_file)  # what the child opens
    lib = Library.open(settings)
    try:
        token = make_tokens(lib).admin
        files: list[FileRecord] = []
        for shade in range(BURST + 1):
            source = tmp_path / f"f{shade}.png"
            source.write_bytes(_png(shade * 20))
            files.append(lib.uploads.ingest(source, "image"))
    finally:
        lib.close()
    kept, doomed = files[0], files[1:]
    caught = doomed[BURST // 2]
    _burst_killed(settings.paths.data_dir, token, [f.id for f in doomed], caught.storage_key)

    lib = Library.open(settings)
    try:
        assert not storage_of(lib).exists(caught.storage_key)  # killed after its bytes went
        live = [r.id for r in lib.list_files().items]
        # was: the caught file listed as ready, its bytes gone (reconcile rows_without_objects)
        assert caught.id not in live, live
        assert kept.id in live
        assert lib.get_file(caught.id).is_trashed
        with pytest.raises(Conflict) as refused:  # its deletion is not over: not restorable
            lib.restore(caught.id)
        assert refused.value.reason == "being_deleted"
        # once the claim's lease is over, maintenance finishes the deletion
        report = run_maintenance(lib, now=utcnow() + CLAIM_LEASE + timedelta(minutes=1))
        assert report.errors == []
        # (the others of the burst: deleted, or killed before their bytes went, in the trash)
        assert caught.id in report.finished_deletions, report.as_dict()  # was: []
        check = reconcile(lib)
        assert check.clean, check.as_dict()  # was: rows_without_objects [caught]
        assert caught.id not in [row[0] for row in lib.stored_keys()]
    finally:
        lib.close()

    server = start_serve(settings.paths.data_dir)
    try:
        listed = http_call(f"{server.url}/files/?limit=100", headers=bearer(token))
        assert listed.status == 200
        ids = [item["id"] for item in listed.json()["items"]]
        assert kept.id in ids and caught.id not in ids
        for file_id in ids:  # every file listed streams its bytes
            raw = http_call(f"{server.url}/stream/{file_id}/raw", headers=bearer(token))
            assert raw.status == 200, (file_id, raw.status, raw.body)
        raw = http_call(f"{server.url}/stream/{kept.id}/raw", headers=bearer(token))
        assert raw.body == _png(0)
        gone = http_call(f"{server.url}/stream/{caught.id}/raw", headers=bearer(token))
        assert gone.status == 404
    finally:
        server.stop()


def test_a_hard_delete_refused_by_the_store_leaves_the_file_live(
    any_library: Library, media_dir: Any
) -> None:
    """A failure that is not a crash, before any byte went: the file as it was, not trashed.
    (A DELETE the store answered with a refusal, the object then confirmed stored; one that
    got no answer: tests/test_hard_delete_timeout.py.)"""
    record = any_library.uploads.ingest(media_dir.png, "image")
    storage = storage_of(any_library)
    real = storage.delete

    def refused(key: str) -> None:
        raise StorageUnavailable("Cannot delete: permission denied")

    storage.delete = refused  # type: ignore[method-assign]
    try:
        with pytest.raises(Exception):  # noqa: B017 - whichever error the store's gives
            any_library.delete_permanently(record.id)
    finally:
        storage.delete = real  # type: ignore[method-assign]
    again = any_library.get_file(record.id, include_trashed=False)
    assert not again.is_trashed
    assert b"".join(any_library.open_range(again, 0, None)) == media_dir.png.read_bytes()
    with pytest.raises(Conflict) as answer:  # live and unmarked: a restore says not_trashed
        any_library.restore(record.id)
    assert answer.value.reason == "not_trashed"
    any_library.delete_permanently(record.id)  # and a hard delete now goes through
    assert any_library.stored_keys() == []
