"""`mediadesk upload`, `download` and `login` against a live server."""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import stat
import time
from pathlib import Path
from typing import Any

import pytest

from core.library import Library
from core.paths import user_config_dir
from desktop_app.cli import main as mediadesk
from server.client import cli
from server.client.credentials import credentials_path, default_server, save_token, saved_token
from server.entry import EmbeddedServer
from tests.server_fixtures import make_tokens


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.run(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(params=["local", "s3"])
def server(request: pytest.FixtureRequest) -> tuple[EmbeddedServer, Library]:
    """A live server and its library, on the local folder and on S3 (moto)."""
    if request.param == "local":
        return request.getfixturevalue("live"), request.getfixturevalue("library")
    return request.getfixturevalue("s3_live"), request.getfixturevalue("s3_library")


@pytest.fixture
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "config-home"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.delenv("MEDIADESK_TOKEN", raising=False)
    monkeypatch.delenv("MEDIADESK_SERVER", raising=False)
    return home


def test_upload_summary_and_exit_status(
    server: tuple[EmbeddedServer, Library],
    media_dir: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    config_home: Path,
) -> None:
    live, library = server
    monkeypatch.setenv("MEDIADESK_TOKEN", make_tokens(library).upload)
    athlete = library.create_athlete("Ana")
    copy = tmp_path / "copy-of-photo.jpg"
    shutil.copy(media_dir.jpeg, copy)
    fake = tmp_path / "notes.jpg"
    fake.write_text("a text file with a photo's name\n")
    code, out, err = run(
        "upload",
        str(media_dir.jpeg),
        str(media_dir.mp4),
        str(copy),
        str(fake),
        "--server",
        live.url,
        "--athlete",
        str(athlete.id),
        "--public",
    )
    assert code == 1, out + err  # a refused file is a failure
    assert "Uploaded 2, duplicates 1, refused 1, failed 0" in out
    assert "refused " + str(fake) in out and "unsupported_type" in out
    assert "100%" in err and "uploaded as id" in err and "already stored as id" in err
    files = library.list_files(athlete_id=athlete.id).items
    assert sorted(f.original_filename for f in files) == ["clip.mp4", "photo.jpg"]
    assert all(f.is_public for f in files)

    # duplicates alone are not failures
    code, out, _ = run(
        "upload",
        str(copy),
        str(media_dir.jpeg),
        "--server",
        live.url,
        "--athlete",
        str(athlete.id),
        "--public",
    )
    assert code == 0 and "Uploaded 0, duplicates 2, refused 0, failed 0" in out


def test_upload_without_a_token_says_where_a_token_comes_from(
    live: EmbeddedServer, library: Library, media_dir: Any, config_home: Path
) -> None:
    """Without --token, MEDIADESK_TOKEN or a login, every file was sent whole and then failed
    with the server's "needs a token: 'Authorization: Bearer <token>'". Now nothing is sent and
    one line names the three ways to give one."""
    before = library.counts()
    code, out, err = run("upload", str(media_dir.png), "--server", live.url)
    assert code == 2 and out == "", out
    assert err == (
        f"mediadesk: no API token for {live.url}: pass --token, set MEDIADESK_TOKEN, or run "
        f"'mediadesk login --server {live.url}'\n"
    )
    assert library.counts() == before


def test_login_saves_the_token_privately_and_upload_uses_it(
    live: EmbeddedServer,
    library: Library,
    media_dir: Any,
    monkeypatch: pytest.MonkeyPatch,
    config_home: Path,
) -> None:
    token = make_tokens(library).upload
    monkeypatch.setattr(cli.getpass, "getpass", lambda _prompt: "mdk_not_a_real_token")
    code, out, err = run("login", "--server", live.url)
    assert code == 2 and "invalid_token" in err
    assert not credentials_path().exists()

    monkeypatch.setattr(cli.getpass, "getpass", lambda _prompt: token)
    code, out, err = run("login", "--server", live.url)
    assert code == 0, err
    path = credentials_path()
    assert path.is_relative_to(config_home)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert token not in out + err  # never echoed
    # the saved server and token are used when none is given
    code, out, err = run("upload", str(media_dir.gif))
    assert code == 0, out + err
    assert "Uploaded 1," in out


def test_download_through_the_mediadesk_command(
    server: tuple[EmbeddedServer, Library],
    media_dir: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    config_home: Path,
) -> None:
    live, library = server
    record = library.uploads.ingest(Path(media_dir.webm), "video", original_filename="match.webm")
    monkeypatch.setenv("MEDIADESK_TOKEN", make_tokens(library).read)
    out_dir = tmp_path / "downloads"
    code = mediadesk(["download", str(record.id), "--server", live.url, "-o", str(out_dir)])
    assert code == 0, capsys.readouterr()
    saved = out_dir / "match.webm"
    assert saved.read_bytes() == Path(media_dir.webm).read_bytes()
    assert str(saved) in capsys.readouterr().out
    assert [p.name for p in out_dir.iterdir()] == ["match.webm"]  # no temporary file left
    code = mediadesk(["download", "999999", "--server", live.url, "-o", str(out_dir)])
    assert code == 1
    assert "not_found" in capsys.readouterr().err


def test_a_server_that_is_not_there_is_said_at_once_in_one_line(
    tmp_path: Path, media_dir: Any, monkeypatch: pytest.MonkeyPatch, config_home: Path
) -> None:
    """With nothing listening, `mediadesk login`, `upload` and `download` sat silent for 17 s
    (five retries with growing waits) before failing: users took it for a hang."""
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        nobody = f"http://127.0.0.1:{spare.getsockname()[1]}"  # bound, never listening
        monkeypatch.setattr(cli.getpass, "getpass", lambda _prompt: "mdk_some_token")
        for argv in (
            ["login"],
            ["upload", str(media_dir.jpeg), "--token", "mdk_some_token"],
            ["download", "1", "2", "-o", str(tmp_path)],
        ):
            started = time.monotonic()
            code, out, err = run(*argv, "--server", nobody)
            took = time.monotonic() - started
            assert code == 2 and out == "", (argv, out, err)
            # the backoff alone was 15.5 s; this is a refusal answered by the kernel at once
            assert took < 5, (argv, took)
            lines = err.splitlines()
            assert len(lines) == 1 and "Traceback" not in err, err
            assert lines[0].startswith(f"mediadesk: GET {nobody}/config: "), err
            assert "refused" in lines[0] and "connection_failed" in lines[0], err


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
def test_a_token_saved_in_the_old_folder_is_still_found_and_moved_on_the_next_save(
    config_home: Path,
) -> None:
    """`mediadesk login` kept tokens in ~/.config/mediadesk, the desktop its settings in
    ~/.config/MediaDesk: two folders for one product. Tokens now live in the one folder core
    names (core.paths.user_config_dir); a file saved the old way is read, and moved when a
    token is saved next."""
    old = config_home / "mediadesk" / "credentials.json"
    old.parent.mkdir(parents=True, mode=0o700)
    old.write_text(
        json.dumps({"servers": {"http://old:8765": "mdk_old"}, "default_server": "http://old:8765"})
    )
    old.chmod(0o600)
    assert credentials_path() == user_config_dir() / "credentials.json"
    assert credentials_path().parent == config_home / "MediaDesk"
    assert default_server() == "http://old:8765" and saved_token("http://old:8765") == "mdk_old"

    assert save_token("http://new:8765", "mdk_new") == credentials_path()
    assert not old.exists() and not old.parent.exists()  # moved, nothing left behind
    assert stat.S_IMODE(credentials_path().stat().st_mode) == 0o600
    assert (
        saved_token("http://old:8765") == "mdk_old" and saved_token("http://new:8765") == "mdk_new"
    )
    assert default_server() == "http://new:8765"
