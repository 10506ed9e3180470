"""The disk holding a SQLite catalog goes (a USB disk pulled out, a NAS or FUSE mount gone) and
comes back at the same path: said as that disk out of reach (an outage that passes), not
"Something unexpected went wrong" with SQLite's "disk I/O error"; the library works again
without a restart; and on such a disk every commit is synced (PRAGMA synchronous=FULL).

The fault is SQLite's own exception (sqlite3.OperationalError with SQLITE_IOERR_READ) raised
by the real engine's DBAPI execute: a connection opened before the disk came back keeps
failing, as one holding its file open on the mount that went does (no FUSE mount or root
needed; tests/test_catalog_remote_disk.py has the real FUSE mounts)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import event, text

from core.db import engine as engine_module
from core.db.engine import Database
from core.errors import StorageUnavailable, catalog_unreachable, passing_outage
from core.library import Library
from desktop_app.errors import describe_error
from desktop_app.i18n import install_translations
from tests.internals import db_of


class DiskGone:
    """Fails every statement of the catalog like a disk that went: while `gone`, all of them;
    once back, those of connections opened before (their file handles are on the dead mount)."""

    def __init__(self, db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
        self.gone = False
        self.opened: set[int] = set()  # connections that were open when the disk went
        self.born: list[Any] = []
        event.listen(db.engine, "connect", lambda conn, _rec: self.born.append(conn))
        dialect = db.engine.dialect
        for name in ("do_execute", "do_execute_no_params", "do_executemany"):
            real = getattr(dialect, name)
            monkeypatch.setattr(dialect, name, self._failing(real))

    def _failing(self, real: Any) -> Any:
        def run(cursor: Any, *args: Any, **kwargs: Any) -> Any:
            if self.gone or id(cursor.connection) in self.opened:
                exc = sqlite3.OperationalError("disk I/O error")
                exc.sqlite_errorcode = sqlite3.SQLITE_IOERR_READ  # type: ignore[attr-defined]
                raise exc
            return real(cursor, *args, **kwargs)

        return run

    def go(self) -> None:
        self.gone = True
        self.opened = {id(conn) for conn in self.born}

    def come_back(self) -> None:
        self.gone = False


@pytest.fixture
def photos(tmp_path: Path) -> list[Path]:
    paths = []
    for i in range(3):
        path = tmp_path / f"p{i}.jpg"
        Image.new("RGB", (64, 48), (i * 80, 20, 30)).save(path)
        paths.append(path)
    return paths


@pytest.fixture
def english(qapp: Any) -> Iterator[None]:
    install_translations("en")
    yield
    install_translations("en")


def test_a_disk_gone_is_an_outage_said_as_that_disk_and_passes_when_it_is_back(
    library: Library, photos: list[Path], monkeypatch: pytest.MonkeyPatch, english: None
) -> None:
    db = db_of(library)
    disk = DiskGone(db, monkeypatch)
    first = library.uploads.ingest(photos[0], "image", original_filename="p0.jpg")
    library.trash(first.id)
    folder = str(Path(db.engine.url.database or "").parent)
    disk.go()
    failures = []
    for attempt in (
        lambda: library.uploads.ingest(photos[1], "image", original_filename="p1.jpg"),
        lambda: library.empty_trash(),
    ):
        with pytest.raises(StorageUnavailable) as caught:
            attempt()
        failures.append(caught.value)
    for exc in failures:
        assert exc.reason == "catalog_disk_unreachable", exc
        assert exc.details == {"folder": folder}
        assert passing_outage(exc) and catalog_unreachable(exc)  # retried, not a failed row
        said = describe_error(exc).text
        assert said == (
            f"The disk holding the library ({folder}) cannot be read or written: it was "
            "unplugged, or the network share is gone. Connect it again, then try again."
        ), said
    install_translations("es")
    spanish = describe_error(failures[0]).text
    install_translations("en")
    assert spanish == (
        f"No se puede leer ni escribir en el disco que contiene la biblioteca ({folder}): se "
        "desconectó, o la carpeta de red ya no está. Conéctalo de nuevo y vuelve a intentarlo."
    ), spanish
    disk.come_back()
    # the very next call works: the connections on the disk that went were let go
    again = library.uploads.ingest(photos[2], "image", original_filename="p2.jpg")
    assert library.get_file(again.id).original_filename == "p2.jpg"
    assert library.empty_trash() == [first.id]


def test_a_damaged_catalog_is_not_said_as_a_disk_gone(
    library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ "file is not a database" and "malformed" do not pass by themselves: left as they are."""
    db = db_of(library)
    dialect = db.engine.dialect
    real = dialect.do_execute

    def damaged(cursor: Any, *args: Any, **kwargs: Any) -> Any:
        exc = sqlite3.DatabaseError("database disk image is malformed")
        exc.sqlite_errorcode = sqlite3.SQLITE_CORRUPT  # type: ignore[attr-defined]
        raise exc

    monkeypatch.setattr(dialect, "do_execute", damaged)
    with pytest.raises(Exception) as caught:
        library.list_files()
    assert not isinstance(caught.value, StorageUnavailable)
    assert not catalog_unreachable(caught.value)
    monkeypatch.setattr(dialect, "do_execute", real)


def test_malformed_read_from_a_disk_that_went_is_the_disk_not_damage(
    library: Library, photos: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failing USB disk or FUSE mount made SQLite read back a page it had failed to write
    as "database disk image is malformed" (seen on a FUSE mount answering EIO): when the
    catalog's folder cannot be listed any more it is the disk gone, not a damaged catalog."""
    db = db_of(library)
    folder = Path(db.engine.url.database or "").parent
    dialect = db.engine.dialect
    real = dialect.do_execute

    def malformed(cursor: Any, *args: Any, **kwargs: Any) -> Any:
        exc = sqlite3.DatabaseError("database disk image is malformed")
        exc.sqlite_errorcode = sqlite3.SQLITE_CORRUPT  # type: ignore[attr-defined]
        raise exc

    monkeypatch.setattr(dialect, "do_execute", malformed)
    away = folder.with_name("away")
    folder.rename(away)  # the mount went: the folder is not there to list
    try:
        with pytest.raises(StorageUnavailable) as caught:
            library.uploads.ingest(photos[0], "image", original_filename="p0.jpg")
        assert caught.value.reason == "catalog_disk_unreachable"
    finally:
        away.rename(folder)
        monkeypatch.setattr(dialect, "do_execute", real)
    assert library.uploads.ingest(photos[0], "image", original_filename="p0.jpg").id


@pytest.mark.parametrize(("fstype", "expected"), [("fuse", 2), (None, 1)])
def test_a_catalog_on_a_share_or_mount_syncs_every_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fstype: str | None, expected: int
) -> None:
    """FULL (2) where the disk can go like a power cut; NORMAL (1) on a local disk (speed)."""
    monkeypatch.setattr(engine_module, "remote_filesystem", lambda _folder: fstype)
    monkeypatch.setattr(engine_module, "check_remote_folder", lambda *_args: None)
    db = Database(f"sqlite:///{tmp_path / 'mediadesk.sqlite3'}")
    try:
        with db.read() as first, db.write() as second:
            for session in (first, second):
                assert session.execute(text("PRAGMA synchronous")).scalar() == expected
    finally:
        db.dispose()
