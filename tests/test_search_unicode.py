"""Search is Unicode-correct on SQLite and PostgreSQL: a term finds its text in any case and
with or without accents ("jose" finds "José", "ñandú" finds "Nandu": core.text.folded), also
when it is shorter than a trigram and has letters other than ASCII's, and in either Unicode
form (a name pasted from macOS comes decomposed: "n" + U+0303 for "ñ"); descriptions are
stored composed however they were sent (core.text.composed)."""

from __future__ import annotations

import sys
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, inspect, select, text

from core.catalog import Catalog
from core.db.engine import Database
from core.db.migrate import downgrade, upgrade
from core.db.models import MediaFile
from core.library import Library
from core.query import matches
from core.records import FileQuery
from core.text import folded
from tests.conftest import _upgrade_from_template, make_settings
from tests.internals import catalog_of, db_of
from tests.media_fixtures import MediaSet
from tests.pg_server import fresh_database, pg_library, postgres_url  # noqa: F401

pytestmark = pytest.mark.timeout(120)

NAMES = [
    "ÑANDÚ.jpg",
    "Zoë.jpg",
    "José Núñez.jpg",
    "Peñarol final.jpg",
    "nandu.jpg",
    "plain*[x]?.jpg",
    "Medellín.jpg",
    "Müller.jpg",
    "Façade.jpg",
    "Jose.jpg",
]


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


@pytest.fixture(params=["sqlite", "postgres"])
def any_catalog(request: pytest.FixtureRequest) -> Library:
    lib: Library = request.getfixturevalue("library" if request.param == "sqlite" else "pg_library")
    _add_named(lib, NAMES)
    return lib


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def _searched_catalogs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Library]]:
    """NAMES's catalog, and one with SPACING's names too, on each engine, made once for the
    module's tests that only search them: a catalog made for each of those 80 tests took
    most of the file's 21 s. The module's end checks that none was written to."""
    made: dict[str, Library] = {}
    try:
        for name, names in (("names", NAMES), ("spacing", NAMES + SPACING)):
            data = tmp_path_factory.mktemp("searched")
            url = {}
            if request.param == "postgres":  # a database of its own: pg_library's is emptied
                url = {
                    "database_url": fresh_database(
                        request.getfixturevalue("postgres_url"), "search"
                    )
                }
            with pytest.MonkeyPatch.context() as patch:
                # a module's fixture comes before the tests' own template one (tests/conftest.py)
                patch.setattr("core.library.upgrade", _upgrade_from_template)
                made[name] = lib = Library.open(make_settings(data, **url))
            _add_named(lib, names)
        yield made
        for name, lib in made.items():
            with db_of(lib).engine.connect() as s:
                rows = s.execute(
                    select(func.count(), func.max(MediaFile.version)).select_from(MediaFile)
                ).one()
            want = len(NAMES) + (len(SPACING) if name == "spacing" else 0)
            assert tuple(rows) == (want, 1), "a test changed a shared catalog: give it its own"
    finally:
        for lib in made.values():
            lib.close()


def _shared(catalogs: dict[str, Library], name: str) -> Library:
    """A shared catalog with no search total kept from an earlier test: each test counts
    its terms itself (the forms of a term share one kept total)."""
    lib = catalogs[name]
    catalog_of(lib)._counts.clear()
    return lib


def _add_named(lib: Library, names: list[str], start: int = 0) -> None:
    """Ready photos with these names, written straight into the catalog."""
    with db_of(lib).write() as s:
        for i, name in enumerate(names, start=start):
            s.add(
                MediaFile(
                    storage_key=f"general/2024/01/{i:032x}.jpg",
                    original_filename=name,
                    content_type="image/jpeg",
                    file_type="image",
                    size=1000 + i,
                    sha256=f"{i:064x}",
                    description="",
                    status="ready",
                )
            )


@pytest.mark.parametrize(
    ("q", "want"),
    [
        # accents typed or not, either way, in any case
        ("jose", {"José Núñez.jpg", "Jose.jpg"}),
        ("JOSÉ", {"José Núñez.jpg", "Jose.jpg"}),
        ("nandu", {"ÑANDÚ.jpg", "nandu.jpg"}),
        ("Ñandú", {"ÑANDÚ.jpg", "nandu.jpg"}),
        (nfd("ñandú"), {"ÑANDÚ.jpg", "nandu.jpg"}),
        ("medellin", {"Medellín.jpg"}),
        ("MEDELLÍN", {"Medellín.jpg"}),
        ("muller", {"Müller.jpg"}),
        ("Mül", {"Müller.jpg"}),
        ("facade", {"Façade.jpg"}),
        ("FAÇ", {"Façade.jpg"}),
        ("zoe", {"Zoë.jpg"}),
        ("penarol", {"Peñarol final.jpg"}),
        # shorter than a trigram (SQLite's LIKE folds the case of ASCII letters only)
        ("ña", {"ÑANDÚ.jpg", "Peñarol final.jpg", "nandu.jpg"}),
        ("ÑA", {"ÑANDÚ.jpg", "Peñarol final.jpg", "nandu.jpg"}),
        ("mü", {"Müller.jpg"}),
        ("ç", {"Façade.jpg"}),
        ("Ú", {"ÑANDÚ.jpg", "José Núñez.jpg", "nandu.jpg", "Müller.jpg"}),
        ("Zo", {"Zoë.jpg"}),
        ("ñan", {"ÑANDÚ.jpg", "nandu.jpg"}),
        ("ZOË", {"Zoë.jpg"}),
        (nfd("Peñarol"), {"Peñarol final.jpg"}),  # pasted from a macOS file name
        (nfd("é N"), {"José Núñez.jpg"}),
        ("*", {"plain*[x]?.jpg"}),  # GLOB's signs are plain text
        ("[x", {"plain*[x]?.jpg"}),
        ("?", {"plain*[x]?.jpg"}),
        ("ÿ", set()),
    ],
)
def test_a_term_finds_its_text_in_any_case_and_either_form(
    _searched_catalogs: dict[str, Library], q: str, want: set[str]
) -> None:
    lib = _shared(_searched_catalogs, "names")
    page = lib.list_files(FileQuery(q=q, limit=50))
    assert {r.original_filename for r in page.items} == want
    assert page.total == len(want)
    # the listing rule the desktop places live changes with says the same
    every = lib.list_files(FileQuery(limit=50)).items
    assert {r.original_filename for r in every if matches(r, FileQuery(q=q))} == want


# Spanish keyboards type "´" for an apostrophe; names that have spaces but no such accent
# are NAMES' "José Núñez.jpg" and "Peñarol final.jpg"
SPACING = ["José´s clip.jpg", "Jose´s salto.jpg"]


@pytest.mark.parametrize(
    ("q", "want"),
    [
        # a spacing accent is a character of its own: it finds itself, never a space
        ("´", set(SPACING)),
        ("jose´s", set(SPACING)),  # the letters around it fold as usual
        ("JOSÉ´S CLIP", {"José´s clip.jpg"}),
        ("΄", set(SPACING)),  # Greek tonos: the same accent in compatibility
        ("´s", set(SPACING)),  # shorter than a trigram
        ("¨", set()),
        ("¸", set()),
        ("˜", set()),
        ("¯", set()),
        # a term of lone accents folds away: it finds nothing, not everything
        ("\u0301", set()),
        (" \u0301\u0308 ", set()),
        ("jose \u0301", {"José Núñez.jpg", "Jose.jpg", *SPACING}),  # read as "jose"
    ],
)
def test_a_spacing_accent_finds_itself_and_a_lone_accent_nothing(
    _searched_catalogs: dict[str, Library], q: str, want: set[str]
) -> None:
    lib = _shared(_searched_catalogs, "spacing")
    page = lib.list_files(FileQuery(q=q, limit=50))
    assert {r.original_filename for r in page.items} == want
    assert page.total == len(want)
    every = lib.list_files(FileQuery(limit=50)).items
    assert {r.original_filename for r in every if matches(r, FileQuery(q=q))} == want


def test_every_spacing_accent_folds_to_a_character_and_folds_the_same_again() -> None:
    for c in map(chr, range(sys.maxunicode + 1)):
        if not unicodedata.decomposition(c):
            continue
        form = unicodedata.normalize("NFKD", c)
        if form[0] == " " and len(form) > 1:
            kept = folded(c)
            assert kept.strip() and kept.isprintable(), hex(ord(c))
            assert folded(kept) == kept == folded(nfd(c)), hex(ord(c))


def _found(lib: Library, q: str) -> set[str]:
    page = lib.list_files(FileQuery(q=q, limit=50))
    assert page.total == len(page.items), q
    return {r.original_filename for r in page.items}


def test_an_edit_is_found_without_its_accents_and_the_old_text_no_longer(
    any_catalog: Library,
) -> None:
    lib = any_catalog
    lib.update_file(5, {"original_filename": "Acción Güemes.jpg", "description": "Canción"})
    assert _found(lib, "accion guemes") == {"Acción Güemes.jpg"}
    assert _found(lib, "CANCION") == {"Acción Güemes.jpg"}
    assert _found(lib, "nandu") == {"ÑANDÚ.jpg"}  # its old name
    lib.update_file(5, {"description": ""})
    assert _found(lib, "cancion") == set()


def test_the_forms_of_a_term_share_one_kept_total(any_catalog: Library) -> None:
    """A search's total is kept by the term as searched (core.query.searched): "José", "jose"
    and "JOSE" list the same files, and each was counted and kept on its own. The one kept
    total follows a new file for every form."""
    lib = any_catalog
    forms = ["José", "jose", "JOSE", nfd("JOSÉ"), "  jose "]
    for q in forms:
        assert lib.list_files(FileQuery(q=q, limit=1)).total == 2, q
    kept = catalog_of(lib)._counts
    assert len(kept) == 1, list(kept)
    _add_named(lib, ["JOSÉ 2.jpg"], start=len(NAMES))
    for q in forms:
        assert lib.list_files(FileQuery(q=q, limit=1)).total == 3, q
    assert len(kept) == 1, list(kept)


def test_athlete_names_are_found_without_accents_also_after_a_rename(
    any_catalog: Library,
) -> None:
    lib = any_catalog
    athlete = lib.create_athlete("Íñigo Ibáñez")
    with db_of(lib).write() as s:  # (an edit would move the object, which these rows lack)
        row = s.get(MediaFile, 6)
        assert row is not None
        row.athlete_id = athlete.id
    for q in ("inigo", "IBANEZ", "Íñi", "ib"):
        assert _found(lib, q) >= {"plain*[x]?.jpg"}, q
    assert lib.list_files(FileQuery(q="inigo")).items[0].athlete_name == "Íñigo Ibáñez"
    lib.rename_athlete(athlete.id, "Begoña Muñoz")
    assert _found(lib, "munoz") == {"plain*[x]?.jpg"}
    assert _found(lib, "inigo") == set()


def test_a_description_sent_decomposed_is_stored_composed_and_found(
    any_catalog: Library, media_dir: MediaSet
) -> None:
    lib = any_catalog
    # every way a description is written: an edit, a direct upload, a resumable upload
    edited = lib.update_file(1, {"description": nfd("Campeón regional")})
    ingested = lib.uploads.ingest(media_dir.jpeg, "image", description=nfd("Final en Asunción"))
    resumed = lib.resumable.send_file(media_dir.png, "image", description=nfd("Señal"))
    stored = [lib.get_file(r.id).description for r in (edited, ingested, resumed)]
    assert stored == ["Campeón regional", "Final en Asunción", "Señal"]
    for q, file_id in (("Campeón", 1), ("Asunción", ingested.id), ("Señ", resumed.id)):
        assert [r.id for r in lib.list_files(FileQuery(q=q)).items] == [file_id], q


def test_a_resumable_upload_to_s3_stores_its_description_composed(
    s3_library: Library, media_dir: MediaSet
) -> None:
    # in parts to the bucket, the upload's row is written from its metadata (not by ingest)
    data = media_dir.png.read_bytes()
    meta = {"filename": "señal.png", "description": nfd("Señal")}
    state = s3_library.resumable.create(len(data), meta)
    writer = s3_library.resumable.writer(state.id, 0)
    writer.write(data)
    done = writer.close()
    assert done.file_id is not None
    assert s3_library.get_file(done.file_id).description == "Señal"


def _catalog_from_0022(url: str) -> None:
    """A catalog written before 0023: an accented athlete, names and a description."""
    engine = create_engine(url)
    upgrade(engine, "0022")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO athletes (id, name, created_at) "
                "VALUES (1, 'Íñigo Ibáñez', '2024-01-01 00:00:00')"
            )
        )
        for i, (name, description, athlete) in enumerate(
            [
                ("Ñandú final.jpg", "", None),
                ("Medellín.jpg", "Canción de cuna", None),
                ("plain.jpg", "", 1),
                ("Jose´s clip.jpg", "", None),
            ]
        ):
            conn.execute(
                text(
                    "INSERT INTO media_files (storage_key, original_filename, name_sort, "
                    "file_type, is_public, description, status, has_thumbnail, extra, "
                    "athlete_id, created_at, updated_at, version) VALUES (:k, :n, :n, 'image', "
                    "false, :d, 'ready', false, '{}', :a, '2024-01-01 00:00:00', "
                    "'2024-01-01 00:00:00', 1)"
                ),
                {"k": f"k{i}", "n": name, "d": description, "a": athlete},
            )
    engine.dispose()


def _searched(url: str, q: str) -> set[str]:
    db = Database(url)
    try:
        page = Catalog(db).query(FileQuery(q=q, limit=50))
        assert page.total == len(page.items)
        return {r.original_filename for r in page.items}
    finally:
        db.dispose()


def _migrates_and_finds(url: str) -> None:
    _catalog_from_0022(url)
    engine = create_engine(url)
    try:
        for _ in range(2):  # and again after a downgrade
            upgrade(engine)
            assert _searched(url, "nandu") == {"Ñandú final.jpg"}
            assert _searched(url, "MEDELLIN") == {"Medellín.jpg"}
            assert _searched(url, "cancion") == {"Medellín.jpg"}
            assert _searched(url, "inigo") == {"plain.jpg"}
            assert _searched(url, "Ñan") == {"Ñandú final.jpg"}
            assert _searched(url, "´") == {"Jose´s clip.jpg"}  # no name with a space
            downgrade(engine, "0022")
            columns = {c["name"] for c in inspect(engine).get_columns("media_files")}
            assert "search_name" not in columns and "original_filename" in columns
            assert "search_name" not in {c["name"] for c in inspect(engine).get_columns("athletes")}
    finally:
        engine.dispose()


def test_the_migration_folds_an_existing_sqlite_catalog_and_goes_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    _migrates_and_finds(url)
    engine = create_engine(url)
    with engine.connect() as conn:  # 0013's index of the originals is back
        hits = conn.execute(
            text("SELECT rowid FROM media_files_fts WHERE media_files_fts MATCH '\"ñandú\"'")
        ).all()
    engine.dispose()
    assert [r[0] for r in hits] == [1]


def test_the_migration_folds_an_existing_postgres_catalog_and_goes_back(
    postgres_url: str,
) -> None:
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS folds_0023"))
        conn.execute(text("CREATE DATABASE folds_0023"))
    url = postgres_url.rsplit("/", 1)[0] + "/folds_0023"
    try:
        _migrates_and_finds(url)
        engine = create_engine(url)
        with engine.connect() as conn:  # 0007's indexes of the originals are back
            indexes = set(conn.scalars(text("SELECT indexname FROM pg_indexes")))
        engine.dispose()
        assert {"ix_media_files_trgm_name", "ix_athletes_trgm_name"} <= indexes
    finally:
        with admin.connect() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS folds_0023"))
        admin.dispose()


BASE_LETTER_NAMES = ["Søren Østergaard.jpg", "Łukasz Nowak.jpg", "Ærø regatta.jpg", "Đorđe.jpg"]


@pytest.mark.parametrize(
    ("q", "want"),
    [
        ("soren", {"Søren Østergaard.jpg"}),
        ("OSTER", {"Søren Østergaard.jpg"}),
        ("øster", {"Søren Østergaard.jpg"}),
        ("lukasz", {"Łukasz Nowak.jpg"}),
        ("ŁUK", {"Łukasz Nowak.jpg"}),
        ("aero", {"Ærø regatta.jpg"}),
        ("djor", set()),  # no transliteration beyond the base letter: "đ" is "d"
        ("dorde", {"Đorđe.jpg"}),
    ],
)
def test_letters_without_a_decomposition_are_found_by_their_base_letters(
    any_catalog: Library, q: str, want: set[str]
) -> None:
    """An athletes hunt: "soren" did not find "Søren", nor "lukasz" "Łukasz" (ø, ł, đ, æ… have
    no decomposition, so dropping accents by decomposing left them)."""
    _add_named(any_catalog, BASE_LETTER_NAMES, start=len(NAMES))
    assert _found(any_catalog, q) == want
    every = any_catalog.list_files(FileQuery(limit=50)).items
    assert {r.original_filename for r in every if matches(r, FileQuery(q=q))} == want


def _refolds_from_0028(url: str) -> None:
    """A catalog whose folds an older version wrote (ø, ł kept as they are), upgraded."""
    _catalog_from_0022(url)
    engine = create_engine(url)
    try:
        upgrade(engine, "0028")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE media_files SET original_filename = :n, search_name = :f WHERE id = 1"
                ),
                {"n": "Søren Øster.jpg", "f": "søren øster.jpg"},
            )
            conn.execute(
                text("UPDATE athletes SET name = :n, search_name = :f WHERE id = 1"),
                {"n": "Łukasz Nowak", "f": "łukasz nowak"},
            )
        assert _searched(url, "soren") == set()
        upgrade(engine)
        assert _searched(url, "soren") == {"Søren Øster.jpg"}
        assert _searched(url, "lukasz") == {"plain.jpg"}  # by its athlete
        assert _searched(url, "cancion") == {"Medellín.jpg"}  # the other rows as they were
    finally:
        engine.dispose()


def test_migration_0029_refolds_the_names_holding_such_letters_on_sqlite(tmp_path: Path) -> None:
    _refolds_from_0028(f"sqlite:///{tmp_path / 'old.db'}")


def test_migration_0029_refolds_the_names_holding_such_letters_on_postgres(
    postgres_url: str,  # noqa: F811
) -> None:
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS folds_0029"))
        conn.execute(text("CREATE DATABASE folds_0029"))
    try:
        _refolds_from_0028(postgres_url.rsplit("/", 1)[0] + "/folds_0029")
    finally:
        with admin.connect() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS folds_0029 WITH (FORCE)"))
        admin.dispose()
