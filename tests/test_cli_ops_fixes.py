"""An admin's scripts read the command line's exit status and JSON: Ctrl+C during
`storage migrate`'s copying, MEDIADESK_UPGRADE_WHILE_RUNNING's value, `token revoke` of a
revoked token, and `storage migrate --save-keys` on a settings.toml in the environment's
spelling."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from PIL import Image

from core.db import schema_guard
from core.errors import SettingsError
from core.library import Library
from core.settings import Settings, load_settings, save_settings
from core.tokens import TokenInfo
from server import cli

ROOT = Path(__file__).resolve().parents[1]
FILES = 24


@pytest.mark.timeout(120)
@pytest.mark.parametrize(("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_while_copying_prints_the_json_and_exits_130(
    signum: int, status: int, s3_settings: Settings, tmp_path: Path
) -> None:
    """Ctrl+C (a real SIGINT to a real process) while files were being copied printed no JSON
    and exited 2, the status of a move that could not start; SIGTERM killed it outright (no
    JSON line, the queued deletions unsaid)."""
    settings = s3_settings.replace(storage_backend="local")
    save_settings(settings, settings.config_file)
    lib = Library.open(settings)
    try:
        for n in range(FILES):
            path = tmp_path / f"photo{n:02d}.png"
            Image.frombytes("RGB", (64, 64), os.urandom(64 * 64 * 3)).save(path)
            lib.uploads.ingest(path, "image")
    finally:
        lib.close()
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("MEDIADESK_", "R2_"))}
    command = [
        sys.executable,
        "-c",
        "import sys; from server.entry import main; sys.exit(main(sys.argv[1:]))",
        "storage",
        "migrate",
        "--to",
        "r2",
        "--data-dir",
        str(settings.paths.data_dir),
    ]
    proc = subprocess.Popen(
        command,
        cwd=ROOT,
        env=environ | {"MEDIADESK_SECRETS": "file"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stderr is not None
        seen = b""
        while f"/{FILES} ".encode() not in seen:  # the first file is copied
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
    assert "removing the old copies" not in said, said  # still in the copying phase
    assert proc.returncode == status, said
    found = json.loads(out.decode().strip().splitlines()[-1])
    assert found["interrupted"] is True, found
    assert found["target"] == "r2" and 1 <= found["moved"] < FILES, found
    # moved files' old copies are kept 60 s for other readers: all still queued
    assert found["queued_deletions"] == found["moved"], found
    assert "queued for deletion" in said and "interrupted" in said, said


def test_a_complete_move_says_it_was_not_interrupted(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    save_settings(settings, settings.config_file)
    assert cli.run(["storage", "migrate", "--to", "local", "--data-dir", settings.data_dir]) == 0
    found = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert found["interrupted"] is False and found["queued_deletions"] == 0, found


@pytest.mark.parametrize("value", ["maybe", "2", "force"])
def test_an_invalid_upgrade_while_running_stops_start_up(
    settings: Settings,
    value: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """MEDIADESK_UPGRADE_WHILE_RUNNING=maybe was taken silently as 'no'."""
    monkeypatch.setenv("MEDIADESK_UPGRADE_WHILE_RUNNING", value)
    assert cli.run(["storage", "status", "--data-dir", settings.data_dir]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mediadesk: Setting MEDIADESK_UPGRADE_WHILE_RUNNING"), err
    assert (
        f"{value!r}" in err and "expected yes or no: 1, true, yes or on; 0, false, no or off" in err
    ), err
    with pytest.raises(SettingsError):
        schema_guard.forced()


@pytest.mark.parametrize(
    ("value", "forced"),
    [("1", True), ("true", True), ("Yes", True), ("on", True), ("0", False), ("off", False)],
)
def test_upgrade_while_running_takes_the_booleans_of_every_setting(
    settings: Settings, value: str, forced: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDIADESK_UPGRADE_WHILE_RUNNING", value)
    assert load_settings(data_dir=settings.data_dir).data_dir == settings.data_dir
    assert schema_guard.forced() is forced
    monkeypatch.setenv("MEDIADESK_UPGRADE_WHILE_RUNNING", "")
    assert schema_guard.forced() is False


def _token(settings: Settings, name: str, scope: str) -> TokenInfo:
    """A token made in the catalog of `settings`, the library closed again (as a CLI run)."""
    lib = Library.open(settings)
    try:
        return lib.tokens.create(name, scope)[0]
    finally:
        lib.close()


def test_revoking_a_revoked_token_says_so(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second `token revoke ID` said "Revoked token 2" again."""
    info = _token(settings, "scanner", "upload")
    data = ["--data-dir", settings.data_dir]
    assert cli.run(["token", "revoke", str(info.id), *data]) == 0
    assert capsys.readouterr().out == f"Revoked token {info.id} (scanner)\n"
    assert cli.run(["token", "revoke", str(info.id), *data]) == 0  # idempotent
    assert capsys.readouterr().out == f"Token {info.id} (scanner) was already revoked\n"


def test_token_names_an_output_cannot_encode_are_escaped(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`token list` and `token revoke` of a token named "Ñoño" on an ASCII output (LC_ALL=C
    with PYTHONUTF8=0, a non-UTF-8 terminal) ended in a UnicodeEncodeError traceback."""
    info = _token(settings, "Ñoño 🏃", "read")
    data = ["--data-dir", settings.data_dir]
    written = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(written, encoding="ascii"))
    assert cli.run(["token", "list", *data]) == 0
    assert cli.run(["token", "revoke", str(info.id), *data]) == 0
    lines = written.getvalue().decode("ascii").splitlines()
    assert "\\xd1o\\xf1o \\U0001f3c3" in lines[1], lines
    assert lines[-1] == f"Revoked token {info.id} (\\xd1o\\xf1o \\U0001f3c3)", lines


@pytest.mark.parametrize(
    ("given", "said"),
    [
        (["--forget-missing-count", "11"], "--forget-missing-count N goes with --forget-missing"),
        (["--forget-missing", "--forget-missing-count", "-5"], "invalid count -5: must be 1"),
    ],
)
def test_a_forget_count_without_forget_missing_or_below_one_is_a_usage_error(
    settings: Settings, capsys: pytest.CaptureFixture[str], given: list[str], said: str
) -> None:
    """The refusal's "run it again with `--forget-missing-count 11`" given as the whole
    command ran maintenance, forgot nothing and exited 0; a negative count was taken too."""
    with pytest.raises(SystemExit) as stopped:
        cli.run(["maintenance", *given, "--data-dir", settings.data_dir])
    assert stopped.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and said in err.splitlines()[-1], err


def test_a_bad_serve_host_is_said_as_the_options_error(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """`serve --host "bad host"` said "Setting MEDIADESK_HOST: …", a setting never set."""
    with pytest.raises(SystemExit) as stopped:
        cli.run(["serve", "--host", "bad host", "--port", "0", "--data-dir", settings.data_dir])
    assert stopped.value.code == 2
    last = capsys.readouterr().err.splitlines()[-1]
    assert last.startswith("mediadesk serve: error: argument --host: 'bad host' is not"), last


def test_save_keys_keeps_the_settings_files_spelling(
    data_dir: Path,
    s3_bucket,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`storage migrate --save-keys` rewrote `mediadesk_port = 9123` (the environment's name in
    lower case, a documented key) as `server_port = 9123`."""
    config = data_dir / "settings.toml"
    config.write_text(
        "mediadesk_port = 9123\n"
        "max_file_size = 52428800\n"
        'mediadesk_storage_backend = "local"\n'
        "mediadesk_trash_retention_days = 45\n"
        'allowed_video_types = ["video/mp4"]\n'
    )
    for name, value in {
        "R2_ENDPOINT_URL": s3_bucket.endpoint_url,
        "R2_BUCKET_NAME": s3_bucket.bucket,
        "R2_ACCESS_KEY_ID": s3_bucket.access_key_id,
        "R2_SECRET_ACCESS_KEY": s3_bucket.secret_access_key,
        "R2_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    data = ["--data-dir", str(data_dir)]
    assert cli.run(["storage", "migrate", "--to", "r2", "--save-keys", *data]) == 0
    capsys.readouterr()
    saved = tomllib.loads(config.read_text())
    assert saved["mediadesk_port"] == 9123 and "server_port" not in saved, saved
    assert saved["mediadesk_storage_backend"] == "r2" and "storage_backend" not in saved, saved
    assert saved["mediadesk_trash_retention_days"] == 45, saved
    assert "trash_retention_days" not in saved, saved
    assert saved["max_file_size"] == 52428800 and saved["allowed_video_types"] == ["video/mp4"]
    assert saved["r2_bucket_name"] == s3_bucket.bucket and "r2_secret_access_key" not in saved
    # what the file held and the keys asked to be saved: the ~30 defaults nobody chose were
    # written too, pinning them (a later version's new default never applied)
    assert set(saved) == {
        "data_dir",  # given by --data-dir: kept, as a MEDIADESK_CONFIG_FILE elsewhere needs
        "mediadesk_port",
        "max_file_size",
        "mediadesk_storage_backend",
        "mediadesk_trash_retention_days",
        "allowed_video_types",
        "r2_endpoint_url",
        "r2_bucket_name",
        "r2_access_key_id",
        "r2_region",
    }, saved
    for name in ("R2_ENDPOINT_URL", "R2_BUCKET_NAME", "R2_ACCESS_KEY_ID", "R2_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    again = load_settings(data_dir=str(data_dir))
    assert again.server_port == 9123 and again.backend_name == "r2"
    assert again.trash_retention_days == 45
