"""`mediadesk storage migrate --to r2 --save-keys` stopped part-way (an outside operator's
Ctrl+C after 1.6 s; SIGTERM and kill -9 in the wait for the old copies did the same): the moved
files were on R2 and no key was saved, since the keys were saved only after a complete move.
Every later start without the R2_* variables answered 500 storage_not_configured for them, and
`storage migrate --to local` without them failed for every one. The README promises "safe to
stop (Ctrl+C) and run again" and that --save-keys saves the endpoint, bucket and keys.

Now the keys are saved once the bucket answered and before the first file moves, while the
backend new files go to stays the one the settings file chose until the move is complete.
A real process, a real SIGINT once the first file has moved, moto's S3 server over HTTP."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from core.library import Library
from core.settings import load_settings, save_settings
from server import cli
from tests.conftest import make_settings
from tests.r2_migrate import r2_environment
from tests.s3_server import S3Target

ROOT = Path(__file__).resolve().parents[1]
FILES = 12


def _library_with_photos(data_dir: Path, tmp_path: Path) -> dict[int, str]:
    """A local library (its settings file as the app leaves it) of FILES photos: id -> sha."""
    settings = make_settings(data_dir)
    save_settings(settings, settings.config_file, environ={})
    shas = {}
    lib = Library.open(settings)
    try:
        for n in range(FILES):
            path = tmp_path / f"photo{n:02d}.png"
            Image.frombytes("RGB", (64, 64), os.urandom(64 * 64 * 3)).save(path)
            record = lib.uploads.ingest(path, "image")
            shas[record.id] = hashlib.sha256(path.read_bytes()).hexdigest()
    finally:
        lib.close()
    return shas


# (what is waited for on stderr, the signal sent then, the exit status)
CTRL_C_COPYING = (f"/{FILES} ", signal.SIGINT, 130)  # the first file has moved
KILLED_WAITING = ("removing the old copies", signal.SIGKILL, -signal.SIGKILL)  # all moved


def _stopped(data_dir: Path, r2_env: dict[str, str], when: tuple[str, int, int]) -> int:
    """`storage migrate --to r2 --save-keys` with R2_* only in its environment, sent a signal
    once it has said `when`: how many files it moved (its JSON line's, or all when killed)."""
    said_then, signum, status = when
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("MEDIADESK_", "R2_"))}
    command = [
        sys.executable,
        "-c",
        "import sys; from server.entry import main; sys.exit(main(sys.argv[1:]))",
        *("storage", "migrate", "--to", "r2", "--save-keys", "--data-dir", str(data_dir)),
    ]
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        env=environ | r2_env | {"MEDIADESK_SECRETS": "file"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stderr is not None
        seen = b""
        while said_then.encode() not in seen:
            c = proc.stderr.read(1)
            assert c, seen
            seen += c
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    said = (seen + err).decode()
    assert proc.returncode == status, said
    if signum == signal.SIGKILL:
        return FILES
    found = json.loads(out.decode().strip().splitlines()[-1])
    assert found["interrupted"] is True, found
    return int(found["moved"])


@pytest.mark.timeout(120)
@pytest.mark.parametrize("when", [CTRL_C_COPYING, KILLED_WAITING], ids=["ctrl-c", "kill-9"])
def test_a_move_to_r2_stopped_part_way_has_saved_the_keys_its_files_need(
    when: tuple[str, int, int],
    data_dir: Path,
    tmp_path: Path,
    s3_bucket: S3Target,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shas = _library_with_photos(data_dir, tmp_path)
    r2_env = r2_environment(s3_bucket)
    moved = _stopped(data_dir, r2_env, when)
    assert 1 <= moved <= FILES
    assert not any(name.startswith("R2_") for name in os.environ)  # this process has none

    # the keys are on disk (the secret in the secret store, not in settings.toml), and the
    # local folder still takes new files: R2 becomes active only when the move is complete
    saved = load_settings(data_dir=str(data_dir))
    assert saved.r2_configured and saved.storage_problem == "", saved
    assert saved.r2_bucket_name == s3_bucket.bucket
    assert saved.r2_secret_access_key == s3_bucket.secret_access_key
    assert saved.r2_region == "us-east-1"
    assert "r2_secret_access_key" not in Path(saved.config_file).read_text()
    assert saved.backend_name == "local"

    # a fresh start without R2_* reads every file, the moved ones from the bucket
    lib = Library.open(saved)
    try:
        expected = {"r2": moved, "local": FILES - moved}
        assert lib.backends.counts_by_backend() == {k: n for k, n in expected.items() if n}
        for file_id, sha in shas.items():
            record = lib.get_file(file_id)
            got = hashlib.sha256(b"".join(lib.open_range(record, 0, None))).hexdigest()
            assert got == sha, record
    finally:
        lib.close()

    # and the move, run again without R2_*, finishes from the saved keys; R2 is now active
    data = ["--data-dir", str(data_dir)]
    assert cli.run(["storage", "migrate", "--to", "r2", *data]) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["moved"] == FILES - moved and report["failed"] == [], report
    assert cli.run(["storage", "status", *data]) == 0
    assert json.loads(capsys.readouterr().out) == {"active": "r2", "files": {"r2": FILES}}
