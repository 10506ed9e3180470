"""A saved DATABASE_URL keeps every secret part out of settings.toml, and `mediadesk doctor`
shows none of them (security review 31, finding 1).

Only `postgresql://user:pw@host/db` had its password moved to the secret store: a password given
as a query parameter (`?password=`, `?sslpassword=`, which SQLAlchemy's psycopg dialect hands to
libpq) was written to settings.toml in clear by save_settings (the Settings dialog's and
`storage migrate`'s save) and printed by `mediadesk doctor`'s catalog line; a raw '@' in the
password made doctor print the password's end as the host. Real settings files, real
`mediadesk doctor` processes, a throwaway PostgreSQL."""

from __future__ import annotations

import dataclasses
import os
import stat
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest
from sqlalchemy.engine import make_url

from core.errors import SettingsError
from core.secrets import shown_database_url, split_database_secrets
from core.settings import Settings, load_settings, save_settings
from tests.pg_server import fresh_database, postgres_url  # noqa: F401

pytestmark = pytest.mark.timeout(90)
ROOT = Path(__file__).resolve().parents[1]
SECRET = "S3cretPw"
BASE = "postgresql+psycopg://md@127.0.0.1:55432/other"

# (URL, the secrets it holds as written): every form libpq takes a secret in through SQLAlchemy
SECRET_URLS = [
    (f"postgresql+psycopg://md:{SECRET}@127.0.0.1:55432/md", [SECRET]),
    (f"postgresql+psycopg:///md?host=127.0.0.1&user=md&password={SECRET}", [SECRET]),
    (f"postgresql+psycopg://md@h/md?password={SECRET}&sslmode=require", [SECRET]),
    (f"postgresql+psycopg://md@h/md?sslmode=verify-full&sslpassword={SECRET}", [SECRET]),
    (f"postgresql+psycopg://md@h/md?pass%77ord={SECRET}", [SECRET]),  # SQLAlchemy decodes names
    (f"postgresql+psycopg://md@h/md?oauth_client_secret={SECRET}", [SECRET]),
    (f"postgresql+psycopg://md:{SECRET}@h/md?sslpassword=Key{SECRET}", [SECRET, f"Key{SECRET}"]),
    (f"postgresql+psycopg://md:p%40ss{SECRET}@h/md", [f"p%40ss{SECRET}"]),  # '@' encoded
]
IDS = ["userinfo", "query", "query-first", "sslpassword", "encoded-name", "oauth", "both", "at"]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _load(folder: Path, environ: dict[str, str] | None = None) -> Settings:
    return load_settings(
        environ=environ or {}, config_file=folder / "settings.toml", data_dir=str(folder)
    )


@pytest.mark.parametrize(("url", "secrets"), SECRET_URLS, ids=IDS)
def test_every_secret_of_a_saved_url_goes_to_the_secret_store(
    data_dir: Path, url: str, secrets: list[str]
) -> None:
    settings = _load(data_dir)
    # the repro's way: dataclasses.replace, as the Settings dialog builds what it saves
    target = save_settings(dataclasses.replace(settings, database_url=url), environ={})
    text = target.read_text(encoding="utf-8")
    assert SECRET not in text, text
    assert "database_url" in text
    stored = sorted((data_dir / "secrets").glob("database_*"))
    assert stored and all(_mode(p) == 0o600 for p in stored)
    assert all(any(s in p.read_text() for p in stored) for s in secrets)
    loaded = _load(data_dir)
    assert make_url(loaded.database_url) == make_url(url)
    # saved again as loaded (the dialog's next save): the file and the store stay as they are
    save_settings(loaded, environ={})
    assert target.read_text(encoding="utf-8") == text
    assert make_url(_load(data_dir).database_url) == make_url(url)
    # another URL without secrets: none is left to put back on it
    save_settings(dataclasses.replace(settings, database_url=BASE), environ={})
    assert list((data_dir / "secrets").glob("database_*")) == []
    assert _load(data_dir).database_url == BASE


def test_a_query_password_in_an_older_settings_file_works_and_moves_on_save(
    data_dir: Path,
) -> None:
    target = data_dir / "settings.toml"
    url = f"postgresql+psycopg:///md?host=h&password={SECRET}&port=5433"
    target.write_text(f'database_url = "{url}"\nserver_port = 9001\n', encoding="utf-8")
    settings = _load(data_dir)
    assert settings.database_url == url
    save_settings(settings.replace(language="es"), environ={})
    assert SECRET not in target.read_text(encoding="utf-8")
    assert 'database_url = "postgresql+psycopg:///md?host=h&port=5433"' in target.read_text()
    assert make_url(_load(data_dir).database_url) == make_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://md:pw@rd@127.0.0.1:55432/md",  # SQLAlchemy: host "rd@127.0.0.1"
        "postgresql+psycopg://md:pw@rd:x@127.0.0.1:55432/md",  # port "x@127.0.0.1:55432"
        "postgresql+psycopg://127.0.0.1?password=pw@rd",  # user "127.0.0.1?password=pw"
    ],
    ids=["at-in-password", "at-and-colon", "query-without-database"],
)
def test_a_raw_at_is_refused_naming_the_fix_and_nothing_is_written(
    data_dir: Path, url: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        _load(data_dir, {"DATABASE_URL": url})
    said = caught.value.message
    assert "%40" in said and "DATABASE_URL" in said
    assert "pw@rd" not in said and "rd@" not in said and url not in said
    settings = _load(data_dir)
    with pytest.raises(SettingsError):
        save_settings(dataclasses.replace(settings, database_url=url), environ={})
    assert not (data_dir / "settings.toml").exists()
    assert not (data_dir / "secrets").exists() or not list((data_dir / "secrets").iterdir())
    assert shown_database_url(url) == "postgresql+psycopg://***"


AGREEMENT = [
    "postgresql+psycopg://md:pw@h:5432/db",
    "postgresql+psycopg://md:p/w:x?y@h/db?sslmode=require",  # '/', ':' and '?' raw in it
    "postgresql+psycopg://md:@h/db",
    "postgresql+psycopg://:pw@h/db",
    "postgresql+psycopg://md@x:pw@h/db",  # SQLAlchemy's user is "md@x"
    "postgresql+psycopg://md:pw@[::1]:5432/db?password=q&password=r",
    "postgresql+psycopg:///db?host=/run/postgresql&password=a%26b&application_name=x",
    "postgresql+psycopg://h/db?PASSWORD=x",
    "postgresql+psycopg://md:pw@h/db?",
    "sqlite:////tmp/a@b/c.sqlite3?mode=ro",
]


@pytest.mark.parametrize("url", AGREEMENT)
def test_the_secrets_are_those_sqlalchemy_hands_to_the_driver(url: str) -> None:
    """The URL is cut where SQLAlchemy reads it (its grammar, copied in core/secrets.py)."""
    bare, password, query = split_database_secrets(url)
    full, kept = make_url(url), make_url(bare)
    assert (unquote(password) or None) == (full.password or None)
    assert not kept.password
    secret_keys = {k for k in full.query if "password" in k.lower() or "secret" in k.lower()}
    assert set(kept.query) == set(full.query) - secret_keys
    assert {k for k, _ in (p.split("=", 1) for p in query.split("&") if p)} == secret_keys
    for part in ("drivername", "username", "host", "port", "database"):
        assert getattr(kept, part) == getattr(full, part), part
    shown = shown_database_url(url)
    assert not full.password or full.password not in shown, shown
    assert all(f"{k}=***" in shown for k in secret_keys), shown


def _doctor(data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MEDIADESK_")}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from server.entry import main; sys.exit(main(sys.argv[1:]))",
            "doctor",
            "--data-dir",
            str(data_dir),
        ],
        cwd=ROOT,
        env=environ | {"MEDIADESK_SECRETS": "file"} | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_doctor_shows_no_secret_of_the_catalog_url(
    data_dir: Path,
    postgres_url: str,  # noqa: F811
) -> None:
    database = fresh_database(postgres_url, "dbsecrets")  # the server trusts loopback
    base, name = database.rsplit("/", 1)
    user_host = base.split("://", 1)[1]  # mediadesk@127.0.0.1:port
    user, host_port = user_host.split("@", 1)
    host, port = host_port.split(":")
    url = (
        f"postgresql+psycopg://{user}:User{SECRET}@{host_port}/{name}"
        f"?sslpassword=Key{SECRET}&password=Query{SECRET}"
    )
    # saved through the Settings dialog's save: doctor reads it from the file and the store
    settings = _load(data_dir)
    save_settings(dataclasses.replace(settings, database_url=url), environ={})
    assert SECRET not in (data_dir / "settings.toml").read_text()
    run = _doctor(data_dir)
    out = run.stdout + run.stderr
    catalog = next(line for line in out.splitlines() if "catalog:" in line)
    assert "reachable" in catalog and f"{host_port}/{name}" in catalog, out
    assert "User" not in catalog and SECRET not in out, out
    assert "?sslpassword=***&password=***" in catalog and ":***@" in catalog
    # from the environment, a database that is not there: the failed line hides them too
    gone = f"postgresql+psycopg:///{name}?host={host}&port=1&user={user}&password=Query{SECRET}"
    run = _doctor(data_dir, DATABASE_URL=gone)
    out = run.stdout + run.stderr
    assert run.returncode == 1 and "FAIL  catalog:" in out and "password=***" in out, out
    assert SECRET not in out, out
    # a raw '@' in the password: one line naming the fix, none of the password's pieces
    raw = f"postgresql+psycopg://{user}:pw@rd{SECRET}@{host_port}/{name}"
    run = _doctor(data_dir, DATABASE_URL=raw)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "%40" in run.stderr and SECRET not in run.stdout + run.stderr
