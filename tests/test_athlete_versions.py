"""An athlete's rename names the version it read, so one made meanwhile elsewhere is refused.

In team mode two desktops (or a desktop and the HTTP API) share one catalog, and a rename
wrote its name over whatever another client had renamed the athlete to since it was read: a
lost update nobody was told of. Athletes now carry a `version` (migration 0030), one more with
each rename; `Catalog.rename_athlete` refuses a stale one on the locked row (409 conflict,
reason stale_version, details naming the current version and name), and
`PATCH /athletes/{id}` takes it as a body `version` or as If-Match with the athlete's ETag
(`"athlete-<version>"`, never a file's), 412 precondition_failed for If-Match, as files do.
Without either the last rename wins, as scripts expect. Core on SQLite and PostgreSQL, real
HTTP over loopback, the migration on both engines.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import create_engine, func, inspect, select, text

from core.db.migrate import downgrade, upgrade
from core.db.models import ChangeLog
from core.errors import Conflict
from core.events import EventKind
from core.feed import since
from core.library import Library
from server.client import Client, ClientError
from server.entry import EmbeddedServer
from tests.internals import db_of
from tests.pg_server import pg_library, postgres_url  # noqa: F401
from tests.server_fixtures import Reply, bearer, http_call, make_tokens

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(params=["sqlite", "postgres"])
def lib(request: pytest.FixtureRequest) -> Library:
    library: Library = request.getfixturevalue(
        "library" if request.param == "sqlite" else "pg_library"
    )
    return library


def _name(library: Library, athlete_id: int) -> tuple[str, int]:
    [athlete] = [a for a in library.athletes() if a.id == athlete_id]
    return athlete.name, athlete.version


# ---- core -----------------------------------------------------------------------------------
def test_a_rename_naming_a_stale_version_is_refused_not_written_over(lib: Library) -> None:
    ana = lib.create_athlete("Ana García")
    assert ana.version == 1 and ana.as_dict()["version"] == 1
    other = Library.open(lib.settings)  # another desktop of the team, same catalog
    try:
        shown = next(a for a in lib.athletes() if a.id == ana.id)  # what the dialog showed
        renamed = other.rename_athlete(ana.id, "Ana Gil")  # meanwhile, elsewhere
        assert (renamed.name, renamed.version) == ("Ana Gil", 2)
        with pytest.raises(Conflict) as refused:
            lib.rename_athlete(ana.id, "Ana Torres", shown.version)
        assert refused.value.reason == "stale_version"
        assert refused.value.details == {"version": 2, "athlete_id": ana.id, "name": "Ana Gil"}
        assert _name(lib, ana.id) == ("Ana Gil", 2)  # theirs kept
        assert _name(other, ana.id) == ("Ana Gil", 2)

        # at the version it is at now, the rename goes through and moves it on
        assert lib.rename_athlete(ana.id, "Ana Torres", 2).version == 3
        # without a version the last rename wins (scripts written before versions)
        assert other.rename_athlete(ana.id, "Ana T.").version == 4
        # the same name again changes nothing, its version included
        assert other.rename_athlete(ana.id, "Ana T.").version == 4
        assert lib.rename_athlete(ana.id, "Ana T.", 4).version == 4
        assert _name(lib, ana.id) == ("Ana T.", 4)
    finally:
        other.close()


def test_of_renames_naming_one_version_at_once_exactly_one_is_written(lib: Library) -> None:
    """Checked on the locked row: two renames that both read version 1 both wrote on
    PostgreSQL (READ COMMITTED) had the check been made on a plain read."""
    ana = lib.create_athlete("Ana García")
    others = [Library.open(lib.settings) for _ in range(3)]
    start = threading.Barrier(len(others) + 1)
    outcomes: list[str] = []

    def rename(library: Library, name: str) -> None:
        start.wait()
        try:
            library.rename_athlete(ana.id, name, 1)
            outcomes.append(name)
        except Conflict as exc:
            outcomes.append(str(exc.reason))

    try:
        threads = [
            threading.Thread(target=rename, args=(library, f"Ana {i}"))
            for i, library in enumerate([lib, *others])
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        winners = [o for o in outcomes if o != "stale_version"]
        assert len(outcomes) == 4 and len(winners) == 1, outcomes
        assert _name(lib, ana.id) == (winners[0], 2)
    finally:
        for library in others:
            library.close()


def test_the_feed_carries_the_athletes_new_version(lib: Library) -> None:
    """The live feed (team mode: every desktop's sidebar, the server's /events) tells the
    version each rename moved the athlete to, in the record and on the change."""
    with db_of(lib).read() as s:  # PostgreSQL's log holds the earlier tests' changes
        start = s.scalar(select(func.coalesce(func.max(ChangeLog.id), 0)))
    ana = lib.create_athlete("Ana García")
    lib.rename_athlete(ana.id, "Ana Gil", 1)
    changes = [e for e in since(db_of(lib), start) if e.kind == EventKind.ATHLETE]
    assert [(e.data["name"], e.data["version"], e.version) for e in changes] == [
        ("Ana García", 1, 1),
        ("Ana Gil", 2, 2),
    ]


def test_athlete_changes_logged_before_versions_are_replayed_with_one(lib: Library) -> None:
    """A client resuming /events (Last-Event-ID) from before the upgrade got the athlete
    records the log held then, without the `version` the StreamEvent schema requires (an
    OpenAPI hunt). Migration 0030 gave every athlete version 1: so do they."""
    with db_of(lib).write() as s:
        s.add(
            ChangeLog(
                kind=EventKind.ATHLETE,
                entity="athlete",
                entity_id=7,
                origin="an-older-mediadesk",
                data={"id": 7, "name": "Old Row", "file_count": 0, "trash_count": 0},
            )
        )
        s.flush()
        start = s.scalar(select(func.max(ChangeLog.id))) - 1
    (old,) = [e for e in since(db_of(lib), start) if e.kind == EventKind.ATHLETE]
    assert old.as_dict()["file"] == {
        "id": 7,
        "name": "Old Row",
        "file_count": 0,
        "trash_count": 0,
        "version": 1,
    }


# ---- HTTP -----------------------------------------------------------------------------------
def _patch(server: EmbeddedServer, token: str, athlete_id: int, body: Any, **headers: str) -> Reply:
    sent = {**bearer(token), "Content-Type": "application/json"}
    sent.update({k.replace("_", "-"): v for k, v in headers.items()})
    return http_call(
        f"{server.url}/athletes/{athlete_id}", "PATCH", json.dumps(body).encode(), sent
    )


def _stale(reply: Reply, status: int, code: str, details: dict[str, Any]) -> str:
    assert reply.status == status, (reply.status, reply.body)
    error = reply.json()["error"]
    assert (error["code"], error["reason"]) == (code, "stale_version"), error
    assert error["details"] == details, error
    return str(error["message"])


def test_patch_athletes_takes_a_version_or_if_match(live: EmbeddedServer) -> None:
    tokens = make_tokens(live.library)
    created = http_call(
        f"{live.url}/athletes",
        "POST",
        json.dumps({"name": "Ana García"}).encode(),
        {**bearer(tokens.upload), "Content-Type": "application/json"},
    )
    assert created.status == 201, created.body
    ana = created.json()
    aid = ana["id"]
    assert ana["version"] == 1 and created.headers["ETag"] == '"athlete-1"'
    listed = http_call(f"{live.url}/athletes", headers=bearer(tokens.read)).json()["items"]
    assert listed == [ana]

    ok = _patch(live, tokens.upload, aid, {"name": "Ana Gil", "version": 1})
    assert ok.status == 200, ok.body
    assert (ok.json()["name"], ok.json()["version"]) == ("Ana Gil", 2)
    assert ok.headers["ETag"] == '"athlete-2"'

    now = {"version": 2, "athlete_id": aid, "name": "Ana Gil"}
    # a body version renamed past: 409, and nothing written
    _stale(_patch(live, tokens.upload, aid, {"name": "Ana T.", "version": 1}), 409, "conflict", now)
    # If-Match with an old ETag, a file's tag of the same number, a weak tag: 412
    for tag in ('"athlete-1"', '"2"', 'W/"athlete-2"', '"athlete-1", "athlete-3"'):
        message = _stale(
            _patch(live, tokens.upload, aid, {"name": "Ana T."}, If_Match=tag),
            412,
            "precondition_failed",
            now,
        )
        assert '"athlete-2"' in message, message
    # a stale If-Match is its 412 whatever the body says; once it holds, the body's 409
    _stale(
        _patch(live, tokens.upload, aid, {"name": "Ana T.", "version": 2}, If_Match='"athlete-1"'),
        412,
        "precondition_failed",
        now,
    )
    _stale(
        _patch(live, tokens.upload, aid, {"name": "Ana T.", "version": 1}, If_Match='"athlete-2"'),
        409,
        "conflict",
        now,
    )
    assert _name(live.library, aid) == ("Ana Gil", 2)
    bad = _patch(live, tokens.upload, aid, {"name": "Ana T."}, If_Match="2")
    assert bad.status == 400 and "athlete-2" in bad.json()["error"]["message"], bad.body

    listed_tags = _patch(
        live, tokens.upload, aid, {"name": "Ana T."}, If_Match='"athlete-1", "athlete-2"'
    )
    assert listed_tags.status == 200 and listed_tags.headers["ETag"] == '"athlete-3"'
    assert _patch(live, tokens.upload, aid, {"name": "Ana U."}, If_Match="*").status == 200
    # neither: the last rename wins, as before versions
    last = _patch(live, tokens.upload, aid, {"name": "Ana V."})
    assert last.status == 200 and last.json()["version"] == 5
    # the form's spelling of the version, as the seed's forms send fields
    form = http_call(
        f"{live.url}/athletes/{aid}",
        "PATCH",
        urlencode({"name": "Ana W.", "version": "4"}).encode(),
        {**bearer(tokens.upload), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert form.status == 409 and form.json()["error"]["details"]["version"] == 5, form.body
    assert _name(live.library, aid) == ("Ana V.", 5)

    with Client(live.url, tokens.upload, retries=0) as md:
        with pytest.raises(ClientError) as refused:
            md.rename_athlete(aid, "Ana X.", version=4)
        assert (refused.value.status, refused.value.reason) == (409, "stale_version")
        assert refused.value.details["name"] == "Ana V."
        assert md.rename_athlete(aid, "Ana X.", version=5)["version"] == 6


def test_the_document_tells_the_rename_s_version_and_if_match(live: EmbeddedServer) -> None:
    spec = http_call(f"{live.url}/openapi.json").json()
    rename = spec["paths"]["/athletes/{athlete_id}"]["patch"]
    assert "If-Match" in {p["name"] for p in rename["parameters"]}
    assert {"200", "409", "412"} <= set(rename["responses"])
    assert "ETag" in rename["responses"]["200"]["headers"]
    schemas = spec["components"]["schemas"]
    assert "version" in schemas["Athlete"]["required"]
    assert schemas["AthleteRename"]["properties"]["version"]["type"] == "integer"


# ---- migration 0030 -------------------------------------------------------------------------
def _versions_from_0029(url: str) -> None:
    """A catalog of the version before (athletes without versions), upgraded and back."""
    engine = create_engine(url)
    try:
        upgrade(engine, "0029")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO athletes (id, name, search_name, created_at) VALUES "
                    "(1, 'Ana García', 'ana garcia', '2024-01-01 00:00:00'), "
                    "(2, 'Luis Gil', 'luis gil', '2024-01-01 00:00:00')"
                )
            )
        for stamped_back in (False, True):
            if stamped_back:  # safe to run again
                with engine.begin() as conn:
                    conn.execute(text("UPDATE alembic_version SET version_num = '0029'"))
            upgrade(engine)
            with engine.connect() as conn:
                rows = conn.execute(text("SELECT id, version FROM athletes ORDER BY id")).all()
            assert [tuple(r) for r in rows] == [(1, 1), (2, 1)]
        with engine.begin() as conn:  # a new athlete starts at 1 too, whoever writes it
            conn.execute(
                text(
                    "INSERT INTO athletes (id, name, created_at) "
                    "VALUES (3, 'Eva Ruiz', '2024-01-01 00:00:00')"
                )
            )
            assert conn.execute(text("SELECT version FROM athletes WHERE id = 3")).scalar() == 1
        downgrade(engine, "0029")
        columns = {c["name"] for c in inspect(engine).get_columns("athletes")}
        assert "version" not in columns and "name" in columns
        with engine.connect() as conn:  # the rows stay
            assert conn.execute(text("SELECT count(*) FROM athletes")).scalar() == 3
    finally:
        engine.dispose()


def test_migration_0030_gives_every_athlete_a_version_on_sqlite(tmp_path: Path) -> None:
    _versions_from_0029(f"sqlite:///{tmp_path / 'old.db'}")


def test_migration_0030_gives_every_athlete_a_version_on_postgres(
    postgres_url: str,  # noqa: F811
) -> None:
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS athletes_0030"))
        conn.execute(text("CREATE DATABASE athletes_0030"))
    try:
        _versions_from_0029(postgres_url.rsplit("/", 1)[0] + "/athletes_0030")
    finally:
        with admin.connect() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS athletes_0030 WITH (FORCE)"))
        admin.dispose()
