"""Search is Unicode-correct on SQLite and PostgreSQL: a term finds its text in any case, also
when it is shorter than a trigram and has letters other than ASCII's, and in either Unicode
form (a name pasted from macOS comes decomposed: "n" + U+0303 for "ñ"); descriptions are
stored composed however they were sent (core.text.composed)."""

from __future__ import annotations

import unicodedata

import pytest

from core.db.models import MediaFile
from core.library import Library
from core.query import matches
from core.records import FileQuery
from tests.internals import db_of
from tests.media_fixtures import MediaSet
from tests.pg_server import pg_library, postgres_url  # noqa: F401

pytestmark = pytest.mark.timeout(120)

NAMES = [
    "ÑANDÚ.jpg",
    "Zoë.jpg",
    "José Núñez.jpg",
    "Peñarol final.jpg",
    "nandu.jpg",
    "plain*[x]?.jpg",
]


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


@pytest.fixture(params=["sqlite", "postgres"])
def any_catalog(request: pytest.FixtureRequest) -> Library:
    lib: Library = request.getfixturevalue("library" if request.param == "sqlite" else "pg_library")
    with db_of(lib).write() as s:
        for i, name in enumerate(NAMES):
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
    return lib


@pytest.mark.parametrize(
    ("q", "want"),
    [
        (
            "ña",
            {"ÑANDÚ.jpg", "Peñarol final.jpg"},
        ),  # shorter than a trigram: SQLite's LIKE folds ASCII only
        ("Ë", {"Zoë.jpg"}),
        ("Ú", {"ÑANDÚ.jpg", "José Núñez.jpg"}),
        ("ÑA", {"ÑANDÚ.jpg", "Peñarol final.jpg"}),
        ("Zo", {"Zoë.jpg"}),
        ("ñan", {"ÑANDÚ.jpg"}),
        ("ZOË", {"Zoë.jpg"}),
        (nfd("Peñarol"), {"Peñarol final.jpg"}),  # pasted from a macOS file name
        (nfd("ñ"), {"ÑANDÚ.jpg", "José Núñez.jpg", "Peñarol final.jpg"}),  # 2 code points
        (nfd("é N"), {"José Núñez.jpg"}),
        ("*", {"plain*[x]?.jpg"}),  # GLOB's signs are plain text
        ("[x", {"plain*[x]?.jpg"}),
        ("?", {"plain*[x]?.jpg"}),
        ("ÿ", set()),
    ],
)
def test_a_term_finds_its_text_in_any_case_and_either_form(
    any_catalog: Library, q: str, want: set[str]
) -> None:
    lib = any_catalog
    page = lib.list_files(FileQuery(q=q, limit=50))
    assert {r.original_filename for r in page.items} == want
    assert page.total == len(want)
    # the listing rule the desktop places live changes with says the same
    every = lib.list_files(FileQuery(limit=50)).items
    assert {r.original_filename for r in every if matches(r, FileQuery(q=q))} == want


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
