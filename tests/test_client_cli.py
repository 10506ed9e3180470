"""`mediadesk upload`, `download`, `list`, `login`, `trash`, `restore` and `delete` against a
live server."""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import time
import unicodedata
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from core.errors import NotFound
from core.library import Library
from core.paths import user_config_dir
from core.records import MAX_ID
from desktop_app.cli import main as mediadesk
from server.client import cli
from server.client.credentials import credentials_path, default_server, save_token, saved_token
from server.entry import EmbeddedServer
from tests.modes import mode, umask
from tests.s3_server import S3Target, delete_bucket
from tests.server_fixtures import http_call, make_tokens


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


class _Terminal(io.StringIO):
    """Standard input that is a terminal: login asks getpass (a pipe is read as the token)."""

    def isatty(self) -> bool:
        return True


def test_login_saves_the_token_privately_and_upload_uses_it(
    live: EmbeddedServer,
    library: Library,
    media_dir: Any,
    monkeypatch: pytest.MonkeyPatch,
    config_home: Path,
) -> None:
    token = make_tokens(library).upload
    monkeypatch.setattr(cli.getpass, "getpass", lambda _prompt: "mdk_not_a_real_token")
    monkeypatch.setattr(sys, "stdin", _Terminal())  # getpass asks it
    code, out, err = run("login", "--server", live.url)
    assert code == 2 and "invalid_token" in err
    assert not credentials_path().exists()

    monkeypatch.setattr(cli.getpass, "getpass", lambda _prompt: token)
    monkeypatch.setattr(sys, "stdin", _Terminal())  # getpass asks it
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


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
def test_login_under_an_open_umask_makes_every_missing_folder_owner_only(
    live: EmbeddedServer,
    library: Library,
    monkeypatch: pytest.MonkeyPatch,
    config_home: Path,
) -> None:
    """Under umask 000 the config folder's missing parents (~/.config on a fresh home) were
    made 0777: anyone could rename MediaDesk/ away and plant credentials naming their server."""
    token = make_tokens(library).upload
    monkeypatch.setattr(cli.getpass, "getpass", lambda _prompt: token)
    monkeypatch.setattr(sys, "stdin", _Terminal())  # getpass asks it
    assert not config_home.exists()
    with umask(0):
        code, _out, err = run("login", "--server", live.url)
    assert code == 0, err
    assert credentials_path().parent == config_home / "MediaDesk"
    assert mode(config_home) == 0o700
    assert mode(config_home / "MediaDesk") == 0o700
    assert mode(credentials_path()) == 0o600


def test_login_at_the_end_of_its_input_says_no_token_in_one_line(tmp_path: Path) -> None:
    """Ctrl+D at the token prompt (or a script whose stdin has ended) printed getpass's
    EOFError traceback. No terminal here: getpass reads the ended stdin, as a script's does."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIADESK_")}
    env["XDG_CONFIG_HOME"] = str(tmp_path)
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from desktop_app.cli import main; sys.exit(main())",
            "login",
            "--server",
            "http://127.0.0.1:9",
        ],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        start_new_session=True,  # no controlling terminal
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert done.stderr.endswith("mediadesk: no token given\n"), done.stderr


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
    # -o folders a failed download made are not left behind; one that existed stays
    new_dir = tmp_path / "new" / "sub"
    code = mediadesk(["download", "999999", "--server", live.url, "-o", str(new_dir)])
    assert code == 1
    assert not (tmp_path / "new").exists()
    assert out_dir.is_dir()


def test_a_long_accented_name_downloads_under_a_name_the_disk_takes(
    server: tuple[EmbeddedServer, Library],
    media_dir: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    config_home: Path,
) -> None:
    """154 characters (within the 255 the server stores) but 304 bytes of UTF-8: the download
    failed with "File name too long" (file systems take 255 bytes), twice for a name taken."""
    live, library = server
    name = "é" * 150 + ".jpg"
    record = library.uploads.ingest(Path(media_dir.jpeg), "image", original_filename=name)
    assert library.get_file(record.id).original_filename == name
    monkeypatch.setenv("MEDIADESK_TOKEN", make_tokens(library).read)
    out_dir = tmp_path / "downloads"
    for _ in range(2):
        code = mediadesk(["download", str(record.id), "--server", live.url, "-o", str(out_dir)])
        assert code == 0, capsys.readouterr()
    saved = sorted(out_dir.iterdir())
    assert len(saved) == 2 and all(
        p.read_bytes() == Path(media_dir.jpeg).read_bytes() for p in saved
    )
    assert all(p.name.startswith("éé") and p.name.endswith(".jpg") for p in saved), saved
    assert all(len(p.name.encode()) <= 255 for p in saved)


def test_download_onto_a_file_or_through_one_is_one_line(
    live: EmbeddedServer, library: Library, media_dir: Any, tmp_path: Path, config_home: Path
) -> None:
    """`-o` naming an existing file printed a traceback (FileExistsError from mkdir), exit 1.
    -o is a folder (its help, the README): a file there is refused in one line, exit 2,
    before the server is asked, and the file is left as it was."""
    stored = library.uploads.ingest(Path(media_dir.jpeg), "image")
    token = make_tokens(library).read
    here = tmp_path / "here"
    here.mkdir()
    existing = here / "existing.txt"
    existing.write_text("mine")
    argv = ["download", str(stored.id), "--server", live.url, "--token", token]
    code, out, err = run(*argv, "-o", str(existing))
    assert (code, out, err) == (2, "", f"mediadesk: -o {existing}: not a folder\n")
    code, out, err = run(*argv, "-o", str(existing / "sub"))
    assert (code, out, err) == (2, "", f"mediadesk: -o {existing / 'sub'}: Not a directory\n")
    assert existing.read_text() == "mine" and os.listdir(here) == ["existing.txt"]


def test_a_download_onto_a_full_disk_is_one_line_and_leaves_nothing(
    live: EmbeddedServer, library: Library, media_dir: Any, tmp_path: Path, config_home: Path
) -> None:
    """A disk that fills during `mediadesk download` printed a traceback (OSError from the
    write). Now the file's line says why, the next id is still tried, exit status 1, and no
    temporary file is left."""
    from tests.faults import fill_disk, small_tmpfs

    stored = library.uploads.ingest(Path(media_dir.mp4), "video")
    token = make_tokens(library).read
    with small_tmpfs(tmp_path / "small", "1m") as small:
        (small / "out").mkdir()
        fill_disk(small / "filler", chunk=4096)  # not a byte left
        argv = ["download", str(stored.id), "--server", live.url, "--token", token]
        code, out, err = run(*argv, "-o", str(small / "out"))
        assert code == 1 and out == "", err
        assert "Traceback" not in err and "No space left on device" in err, err
        assert os.listdir(small / "out") == []


def test_download_from_a_deleted_bucket_says_the_servers_sentence_at_once(
    s3_live: EmbeddedServer, s3_bucket: S3Target, media_dir: Any, tmp_path: Path, config_home: Path
) -> None:
    """The bucket's own refusal of the signed URL was all `mediadesk download` said ("HTTP 404
    Not Found (http_404)"), as if the file were gone, after retrying the server's 500 for
    15 s. Now the server's sentence and code, at once."""
    stored = s3_live.library.uploads.ingest(Path(media_dir.jpeg), "image")
    delete_bucket(s3_bucket)
    token = make_tokens(s3_live.library).read
    argv = ["download", str(stored.id), "--server", s3_live.url, "--token", token]
    code, out, err = run(*argv, "-o", str(tmp_path / "out"))
    assert (code, out) == (1, ""), err
    assert "retrying" not in err and "HTTP" not in err, err
    assert f"id {stored.id}" in err and "failed: The storage bucket does not exist" in err, err
    assert err.endswith("ask the server's administrator (storage_unavailable)\n"), err


def test_a_server_that_is_not_there_is_said_at_once_in_one_line(
    tmp_path: Path, media_dir: Any, monkeypatch: pytest.MonkeyPatch, config_home: Path
) -> None:
    """With nothing listening, `mediadesk login`, `upload` and `download` sat silent for 17 s
    (five retries with growing waits) before failing: users took it for a hang."""
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        nobody = f"http://127.0.0.1:{spare.getsockname()[1]}"  # bound, never listening
        monkeypatch.setattr(cli.getpass, "getpass", lambda _prompt: "mdk_some_token")
        monkeypatch.setattr(sys, "stdin", _Terminal())  # getpass asks it
        for argv in (
            ["login"],
            ["upload", str(media_dir.jpeg), "--token", "mdk_some_token"],
            ["download", "1", "2", "-o", str(tmp_path)],
            ["list", "--all", "--token", "mdk_some_token"],
            ["trash", "1", "2", "--token", "mdk_some_token"],
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


def _stock(library: Library, media_dir: Any) -> dict[str, int]:
    """Four files: three images and a video, two of them Ana's and public."""
    ana = library.create_athlete("Ana")
    made = {
        "long": library.uploads.ingest(
            Path(media_dir.jpeg),
            "image",
            original_filename="podium-of-the-regional-final-in-the-rain-2026.jpg",
            athlete_id=ana.id,
            is_public=True,
        ),
        "png": library.uploads.ingest(Path(media_dir.png), "image", original_filename="b.png"),
        "gif": library.uploads.ingest(Path(media_dir.gif), "image", original_filename="c.gif"),
        "webm": library.uploads.ingest(
            Path(media_dir.webm),
            "video",
            original_filename="match.webm",
            athlete_id=ana.id,
            is_public=True,
        ),
    }
    return {name: record.id for name, record in made.items()}


def _rows(out: str) -> list[str]:
    """The table's rows without its header."""
    lines = out.splitlines()
    assert lines and lines[0].split() == ["ID", "NAME", "TYPE", "SIZE", "ATHLETE", "CREATED"]
    return lines[1:]


def test_list_prints_a_table_that_fits_80_columns_and_filters_narrow_it(
    live: EmbeddedServer,
    library: Library,
    media_dir: Any,
    monkeypatch: pytest.MonkeyPatch,
    config_home: Path,
) -> None:
    """There was no way to find ids for `mediadesk download` without speaking HTTP."""
    ids = _stock(library, media_dir)
    monkeypatch.setenv("MEDIADESK_TOKEN", make_tokens(library).read)
    code, out, err = run("list", "--server", live.url)
    assert code == 0 and err == "4 of 4 files\n", err
    rows = _rows(out)
    assert [int(r.split()[0]) for r in rows] == sorted(ids.values(), reverse=True)  # newest first
    assert all(len(line) < 80 for line in out.splitlines()), out
    long = rows[-1]
    assert "podium-of-the-regional-" in long and "…" in long and "2026.jpg" not in long
    assert " image " in long and " KiB " in long and " Ana " in long

    code, out, err = run("list", "--server", live.url, "--type", "video")
    assert code == 0 and err == "1 of 1 file\n"
    assert [r.split()[:3] for r in _rows(out)] == [[str(ids["webm"]), "match.webm", "video"]]
    code, out, _ = run("list", "--server", live.url, "-q", "PODIUM", "--limit", "1")
    assert [int(r.split()[0]) for r in _rows(out)] == [ids["long"]]

    # without a token the server lists public files only: said, not silently half a library
    monkeypatch.delenv("MEDIADESK_TOKEN")
    code, out, err = run("list", "--server", live.url, "--limit", "1")
    assert code == 0 and [int(r.split()[0]) for r in _rows(out)] == [ids["webm"]]
    said, summary = err.splitlines()
    assert said == f"mediadesk: no API token for {live.url}: public files only"
    # the next page's start, for --cursor: the API's next_cursor
    more = "1 of 2 files; --all lists them all, --cursor "
    assert summary.startswith(more) and summary.endswith(" the next page"), summary
    cursor = summary.removeprefix(more).removesuffix(" the next page")
    code, out, err = run("list", "--server", live.url, "--limit", "1", "--cursor", cursor)
    assert code == 0 and [int(r.split()[0]) for r in _rows(out)] == [ids["long"]]
    assert err.splitlines()[1].startswith("1 of 2 files"), err
    code, out, err = run("list", "--server", live.url, "--limit", "1", "--offset", "1")
    assert code == 0 and [int(r.split()[0]) for r in _rows(out)] == [ids["long"]]
    assert err.endswith("\n1 of 2 files\n"), err  # the last page: no next one offered


def _columns(text: str) -> int:
    """Terminal columns: East Asian wide and full-width characters take 2, combining marks 0."""
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in ("W", "F") else 1
        for c in text
    )


def test_list_columns_line_up_under_wide_and_combining_characters(
    live: EmbeddedServer, library: Library, media_dir: Any, config_home: Path
) -> None:
    """Widths counted characters: a Japanese name (two columns a character) pushed the rest of
    its row right, past 80 columns, and a decomposed accent (no column of its own) pulled it
    left."""
    wang = library.create_athlete("王小明")
    for path, kind, name in (
        (media_dir.jpeg, "image", "競技場の写真.jpg"),
        (media_dir.png, "image", "Jose\u0301-final.png"),
        (
            media_dir.gif,
            "image",
            "決勝戦のゴール前の長い写真の名前はここで切れる.gif",
        ),
        (media_dir.webm, "video", "plain.webm"),
    ):
        library.uploads.ingest(Path(path), kind, original_filename=name, athlete_id=wang.id)
    token = make_tokens(library).read
    code, out, err = run("list", "--server", live.url, "--token", token)
    assert code == 0 and err == "4 of 4 files\n", err
    rows = _rows(out)
    assert len({_columns(row) for row in rows}) == 1 and _columns(rows[0]) < 80, out
    # each column starts at the same place: the type's, the athlete's
    for word in (" image ", " 王小明 "):
        starts = {_columns(row[: row.index(word)]) for row in rows if word in row}
        assert len(starts) == 1, (word, out)
    long = next(row for row in rows if "決勝戦" in row)
    assert "…" in long and "切れる" not in long
    assert any("-final.png" in row for row in rows)


class Pages(io.StringIO):
    """Standard output that notes the lines written at each flush: one flush per page."""

    def __init__(self) -> None:
        super().__init__()
        self.flushed: list[int] = []

    def flush(self) -> None:
        self.flushed.append(len(self.getvalue().splitlines()))


def test_list_json_lines_are_the_apis_records_and_all_follows_the_pages(
    live: EmbeddedServer, library: Library, media_dir: Any, config_home: Path
) -> None:
    ids = _stock(library, media_dir)
    token = make_tokens(library).read
    reply = http_call(
        f"{live.url}/files?sort=original_filename", headers={"Authorization": f"Bearer {token}"}
    )
    api = reply.json()["items"]
    assert len(api) == 4
    by_name = ["--server", live.url, "--token", token, "--sort=original_filename", "--json"]
    code, out, err = run("list", *by_name)
    assert code == 0 and err == ""  # nothing but the records: scripts read stdout
    assert [json.loads(line) for line in out.splitlines()] == api

    code, out, _ = run("list", *by_name, "--limit", "1")
    assert [json.loads(line) for line in out.splitlines()] == api[:1]

    pages, err_out = Pages(), io.StringIO()
    code = cli.run(["list", *by_name, "--limit", "1", "--all"], pages, err_out)
    assert code == 0, err_out.getvalue()
    assert [json.loads(line) for line in pages.getvalue().splitlines()] == api
    # printed page by page, as they came; the empty page after the last full one (its
    # next_cursor leads there) is not a page; run()'s last flush (which finds a reader gone
    # there, not in a traceback at exit) writes nothing new
    assert pages.flushed == [1, 2, 3, 4, 4]

    code, out, err = run("list", "--server", live.url, "--token", token, "--limit", "3", "--all")
    assert code == 0 and err == "4 of 4 files\n"
    assert sorted(int(r.split()[0]) for r in _rows(out)) == sorted(ids.values())


class DeletingPages(io.StringIO):
    """Standard output that deletes for good, after the first page, the files it showed."""

    def __init__(self, library: Library) -> None:
        super().__init__()
        self.library, self.deleted = library, 0

    def flush(self) -> None:
        if not self.deleted:
            for row in _rows(self.getvalue()):
                self.library.delete_permanently(int(row.split()[0]))
                self.deleted += 1


def test_list_all_never_says_more_shown_than_there_are_when_files_go_meanwhile(
    live: EmbeddedServer, library: Library, media_dir: Any, config_home: Path
) -> None:
    """Files deleted while `list --all` walked the pages: the summary said "4 of 3 files"
    (the last page's total, every file shown), as if one had been counted twice."""
    _stock(library, media_dir)
    token = make_tokens(library).read
    out, err = DeletingPages(library), io.StringIO()
    argv = ["list", "--server", live.url, "--token", token, "--limit", "2", "--all"]
    code = cli.run(argv, out, err)
    assert code == 0 and out.deleted == 2, err.getvalue()
    assert len(_rows(out.getvalue())) == 4
    assert err.getvalue() == "4 files listed; 2 now (some were deleted or changed meanwhile)\n"


def test_list_refuses_bad_option_values_before_asking(
    capsys: pytest.CaptureFixture[str], config_home: Path
) -> None:
    """The allowed values are core's (FILE_KINDS, STATUS_FILTERS, Sort, MAX_LIMIT)."""
    for bad in (
        ["--type", "audio"],
        ["--status", "done"],
        ["--sort", "size-"],
        ["--sort", "-bogus"],
        ["--sort"],
        ["--limit", "0"],
        ["--limit", "1001"],
        ["--limit", "many"],
        ["--public", "--private"],
        ["--offset", "-1"],
        ["--offset", "2", "--cursor", "abc"],  # the server takes one or the other
        ["--athlete", "-5"],  # catalog ids are core's: 1 to MAX_ID
        ["--athlete", "0"],
        ["--athlete", str(MAX_ID + 1)],
        ["--athlete", "ana"],
    ):
        with pytest.raises(SystemExit) as exit_:
            run("list", "--server", "http://127.0.0.1:9", *bad)
        assert exit_.value.code == 2, bad
        err = capsys.readouterr().err
        assert "mediadesk list: error: " in err and "Traceback" not in err, (bad, err)
        if bad[0] == "--sort" and bad[1:]:
            # the orders listed, a descending one too: not "expected one argument"
            assert f"unknown order {bad[1]!r}; one of -created_at, created_at," in err, err


def test_upload_of_a_big_duplicate_names_the_stored_file(
    server: tuple[EmbeddedServer, Library],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    config_home: Path,
) -> None:
    """A duplicate above the presign threshold (presigned, in parts on S3) was answered with a
    new alias id, and its line said "already stored as id <alias>" instead of the stored
    file's id (its duplicate_of)."""
    live, library = server
    monkeypatch.setenv("MEDIADESK_TOKEN", make_tokens(library).upload)
    big = tmp_path / "big.png"
    side = 2000  # 12 MB of noise (it does not compress): above the 10 MiB threshold
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(
        big, "PNG", compress_level=0
    )
    copy = tmp_path / "copy-of-big.png"
    shutil.copy(big, copy)
    code, out, err = run("upload", str(big), "--server", live.url)
    assert code == 0 and "Uploaded 1, duplicates 0" in out, out + err
    (stored,) = library.list_files().items
    code, out, err = run("upload", str(copy), "--server", live.url)
    assert code == 0 and "Uploaded 0, duplicates 1" in out, out + err
    assert f"already stored as id {stored.id}\n" in err.replace("\r", "\n"), err
    assert [f.id for f in library.list_files().items] == [stored.id]


def test_bad_athlete_ids_exit_2_before_anything_is_sent(
    live: EmbeddedServer,
    library: Library,
    media_dir: Any,
    capsys: pytest.CaptureFixture[str],
    config_home: Path,
) -> None:
    """`--athlete -5` (or 0) was sent: `list` asked the server and exited 1, `upload` sent
    each file and had each refused. README: a bad option value exits 2 before anything is
    sent; athlete ids are catalog ids, 1 to core's MAX_ID."""
    token = make_tokens(library).upload
    for argv in (
        ["list", "--athlete", "-5"],
        ["list", "--athlete=0"],
        ["upload", str(media_dir.jpeg), "--athlete", "-5"],
        ["upload", str(media_dir.jpeg), "--athlete", "0"],
        ["upload", str(media_dir.jpeg), "--athlete", str(MAX_ID + 1)],
    ):
        with pytest.raises(SystemExit) as exit_:
            run(*argv, "--server", live.url, "--token", token)
        assert exit_.value.code == 2, argv
        err = capsys.readouterr().err
        assert f"mediadesk {argv[0]}: error: argument --athlete: " in err, (argv, err)
        assert "Traceback" not in err
    assert library.list_files().items == []  # nothing was uploaded
    code, _, err = run("list", "--server", live.url, "--token", token, "--athlete", "1")
    assert code == 1 and "No athlete with id 1" in err, err  # a good id is asked about


def test_bad_file_ids_exit_2_before_anything_is_sent(
    live: EmbeddedServer,
    library: Library,
    media_dir: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    config_home: Path,
) -> None:
    """`mediadesk trash 0` (or -5) was sent: each id asked the server, was refused, and the
    command exited 1. File ids are catalog ids, 1 to core's MAX_ID, as --athlete's: a bad one
    exits 2 before anything is sent, the good ids beside it too."""
    stored = library.uploads.ingest(Path(media_dir.png), "image", original_filename="b.png")
    tokens = make_tokens(library)
    saved = tmp_path / "saved"
    for command, *options in (
        ("download", "-o", str(saved)),
        ("trash",),
        ("restore",),
        ("delete", "--permanent"),
    ):
        for bad in ("-5", "0", str(MAX_ID + 1)):
            argv = [command, str(stored.id), bad, *options]
            with pytest.raises(SystemExit) as exit_:
                run(*argv, "--server", live.url, "--token", tokens.admin)
            assert exit_.value.code == 2, argv
            err = capsys.readouterr().err
            assert (
                f"mediadesk {command}: error: argument ID: must be an id from 1 to {MAX_ID}, "
                f"not {int(bad)}" in err
            ), (argv, err)
            assert "Traceback" not in err
    assert not saved.exists()  # nothing downloaded
    assert not library.get_file(stored.id).is_trashed  # nor trashed, nor deleted


def test_list_takes_a_descending_sort_a_media_type_and_where_to_start(
    live: EmbeddedServer, library: Library, media_dir: Any, config_home: Path
) -> None:
    """`--sort -size` failed ("expected one argument": argparse took -size for an option),
    and GET /files' content_type, offset and cursor had no option."""
    ids = _stock(library, media_dir)
    token = make_tokens(library).read
    reply = http_call(f"{live.url}/files?sort=-size", headers={"Authorization": f"Bearer {token}"})
    api = reply.json()["items"]
    assert len(api) == 4
    every = ["--server", live.url, "--token", token, "--json"]
    for sort in (["--sort", "-size"], ["--sort=-size"], ["--so", "-size"]):
        code, out, err = run("list", *every, *sort)
        assert (code, err) == (0, ""), (sort, err)
        assert [json.loads(line) for line in out.splitlines()] == api, sort
    for order in (s for s in cli.ORDERS if s.startswith("-")):  # each of core's descending ones
        code, _, err = run("list", *every, "--sort", order, "--limit", "1")
        assert (code, err) == (0, ""), (order, err)

    code, out, _ = run("list", *every, "--content-type", "image/png")
    assert [json.loads(line)["id"] for line in out.splitlines()] == [ids["png"]]

    by_size = [*every, "--sort", "-size"]
    code, out, _ = run("list", *by_size, "--offset", "1", "--limit", "2")
    assert code == 0 and [json.loads(line) for line in out.splitlines()] == api[1:3]
    # --all goes on by cursor from the offset's page (the server refuses both together)
    code, out, err = run("list", *by_size, "--offset", "1", "--limit", "2", "--all")
    assert (code, err) == (0, "") and [json.loads(line) for line in out.splitlines()] == api[1:]


def test_list_says_a_refusal_or_an_unknown_athlete_in_one_line(
    live: EmbeddedServer, library: Library, media_dir: Any, config_home: Path
) -> None:
    _stock(library, media_dir)
    token = make_tokens(library).read
    for args, line in (
        # (--athlete 0 is refused before asking now: test_bad_athlete_ids_exit_2_before_...)
        (
            ["--cursor", "bogus"],
            "mediadesk: cursor is not one this server handed out (invalid_input)\n",
        ),
        # the server lists nothing for an id that names no athlete, as for one without files
        (["--athlete", "4242", "--json"], "mediadesk: No athlete with id 4242 (not_found)\n"),
    ):
        code, out, err = run("list", "--server", live.url, "--token", token, *args)
        assert (code, out, err) == (1, "", line)
    athlete = library.create_athlete("Bea")
    code, out, err = run(
        "list", "--server", live.url, "--token", token, "--athlete", str(athlete.id)
    )
    assert (code, out, err) == (0, "", "0 of 0 files\n")


def _ids(out: str) -> list[int]:
    return [json.loads(line)["id"] for line in out.splitlines()]


def test_trash_then_restore_through_the_mediadesk_command_and_list_the_trash(
    live: EmbeddedServer,
    library: Library,
    media_dir: Any,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    config_home: Path,
) -> None:
    """A script could upload, list and download, but trash and restore only by HTTP."""
    ids = _stock(library, media_dir)
    monkeypatch.setenv("MEDIADESK_TOKEN", make_tokens(library).upload)
    png, gif = ids["png"], ids["gif"]
    code = mediadesk(["trash", str(png), str(gif), "--server", live.url])
    captured = capsys.readouterr()
    assert (code, captured.err) == (0, ""), captured
    assert captured.out == f"trashed {png} b.png\ntrashed {gif} c.gif\n"
    assert library.get_file(png).is_trashed and library.get_file(gif).is_trashed
    code, out, _ = run("list", "--server", live.url, "--trashed", "--json")
    assert code == 0 and sorted(_ids(out)) == sorted([png, gif])
    code, out, _ = run("list", "--server", live.url, "--json")
    assert code == 0 and sorted(_ids(out)) == sorted([ids["long"], ids["webm"]])

    # a second trash is a failure, said in one line
    code, out, err = run("trash", str(png), "--server", live.url)
    assert (code, out) == (1, "")
    assert err == f"mediadesk: trash {png}: The file is already in the trash (conflict)\n"

    code, out, err = run("restore", str(png), str(gif), "--server", live.url, "--json")
    assert (code, err) == (0, ""), err
    lines = [json.loads(line) for line in out.splitlines()]
    assert [(line["id"], line["ok"], line["file"]["id"]) for line in lines] == [
        (png, True, png),
        (gif, True, gif),
    ]
    assert not any(line["file"]["is_trashed"] for line in lines)
    assert not library.get_file(png).is_trashed and not library.get_file(gif).is_trashed
    code, out, err = run("restore", str(gif), "--server", live.url, "--json")
    assert (
        code == 1 and err == f"mediadesk: restore {gif}: The file is not in the trash (conflict)\n"
    )
    assert json.loads(out) == {
        "id": gif,
        "ok": False,
        "error": {
            "code": "conflict",
            "message": "The file is not in the trash",
            "reason": "not_trashed",
            "status": 409,
        },
    }


def test_delete_for_good_needs_permanent_and_an_admin_token(
    server: tuple[EmbeddedServer, Library], media_dir: Any, config_home: Path
) -> None:
    """Deletes in the trash or not (the server's rule), the stored object too."""
    live, library = server
    tokens = make_tokens(library)
    trashed = library.uploads.ingest(Path(media_dir.png), "image", original_filename="b.png")
    kept = library.uploads.ingest(Path(media_dir.gif), "image", original_filename="c.gif")
    library.trash(trashed.id)
    every = ["--server", live.url, "--token"]
    code, out, err = run("delete", str(trashed.id), *every, tokens.admin)
    assert (code, out) == (2, "") and err.startswith("mediadesk delete: --permanent is required")
    code, out, err = run("delete", "--permanent", str(trashed.id), *every, tokens.upload)
    assert (code, out) == (1, "")
    assert err == (
        f"mediadesk: delete {trashed.id}: This needs a token with scope 'admin'; yours has "
        "'upload' (insufficient_scope)\n"
    )
    assert library.get_file(trashed.id).is_trashed  # nothing deleted so far

    code, out, err = run(
        "delete", "--permanent", str(trashed.id), str(kept.id), *every, tokens.admin, "--json"
    )
    assert (code, err) == (0, ""), err
    assert [(line["id"], line["ok"]) for line in map(json.loads, out.splitlines())] == [
        (trashed.id, True),
        (kept.id, True),
    ]
    for record in (trashed, kept):
        with pytest.raises(NotFound):
            library.get_file(record.id)
        with pytest.raises(NotFound):
            library.stat(record)
    code, out, err = run("delete", "--permanent", str(kept.id), *every, tokens.admin)
    assert (code, out) == (1, "")
    assert err == f"mediadesk: delete {kept.id}: File {kept.id} not found (not_found)\n"


def test_trash_of_an_unknown_id_fails_in_one_line_and_the_others_go_on(
    live: EmbeddedServer, library: Library, media_dir: Any, config_home: Path
) -> None:
    stored = library.uploads.ingest(Path(media_dir.png), "image", original_filename="b.png")
    token = make_tokens(library).upload
    code, out, err = run("trash", "999999", str(stored.id), "--server", live.url, "--token", token)
    assert code == 1
    assert err == "mediadesk: trash 999999: File 999999 not found (not_found)\n"
    assert out == f"trashed {stored.id} b.png\n"
    assert library.get_file(stored.id).is_trashed
    code, out, err = run("restore", "999999", "--server", live.url, "--token", token, "--json")
    assert code == 1 and json.loads(out)["error"]["status"] == 404, out


def test_trash_and_restore_refuse_a_read_only_token_or_none(
    live: EmbeddedServer, library: Library, media_dir: Any, config_home: Path
) -> None:
    stored = library.uploads.ingest(Path(media_dir.png), "image")
    tokens = make_tokens(library)
    library.trash(stored.id)
    for command in ("restore", "trash"):
        code, out, err = run(command, str(stored.id), "--server", live.url, "--token", tokens.read)
        assert (code, out) == (1, ""), err
        assert err == (
            f"mediadesk: {command} {stored.id}: This needs a token with scope 'upload'; yours "
            "has 'read' (insufficient_scope)\n"
        )
        assert library.get_file(stored.id).is_trashed  # neither restored nor changed
    # without any token nothing is sent: one line says where a token comes from
    code, out, err = run("restore", str(stored.id), "--server", live.url)
    assert (code, out) == (2, "")
    assert err.startswith(f"mediadesk: no API token for {live.url}: pass --token"), err
    assert library.get_file(stored.id).is_trashed


class _GoneReader(io.StringIO):
    """stdout whose reader went away (`| head`): every write raises as a closed pipe does."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_list_into_a_closed_pipe_exits_quietly(
    live: EmbeddedServer, library: Library, media_dir: Any, config_home: Path
) -> None:
    """`mediadesk list --json | head` ended in a BrokenPipeError traceback (and another one
    from the flush at exit): now nothing on stderr, status 141 (128 + SIGPIPE) as cat or
    grep give there."""
    _stock(library, media_dir)
    token = make_tokens(library).read
    by = ["--server", live.url, "--token", token, "--json", "--all", "--limit", "1"]
    err = io.StringIO()
    assert cli.run(["list", *by], _GoneReader(), err) == cli.SIGPIPE_STATUS
    assert err.getvalue() == ""

    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("mediadesk")), "list", *by],
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first record is written
    said = proc.stderr.read()
    assert proc.wait(60) == 141, said
    assert said == ""
