"""A closed Library is released: nothing of the process keeps it, its engine or its caches.

SQLAlchemy keeps a session factory's listeners in a class-level registry keyed weakly by the
factory's Session class, which the feed's and the catalog's listeners reach again through
their Library: until Database.dispose took them back, every Library ever closed stayed alive
(~7,500 objects each), so a process opening several (the desktop changing its storage or its
data folder, a long-lived server's maintenance and tests) only grew. aiohttp's cache of the
middleware chains it built held an ended app, and through it its Library, the same way.
"""

from __future__ import annotations

import gc
import weakref

from core.library import Library
from core.settings import Settings
from server.entry import EmbeddedServer
from tests.media_fixtures import MediaSet
from tests.server_fixtures import http_call, make_tokens, server_config


def _open_use_close(settings: Settings, media: MediaSet) -> weakref.ref[Library]:
    lib = Library.open(settings)
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        make_tokens(lib)  # token changes are in the change feed too
        lib.uploads.ingest(media.jpeg, "image")
        assert http_call(f"{server.url}/files").status == 200  # aiohttp builds its handler chain
    finally:
        server.stop()
        lib.close()
    return weakref.ref(lib)


def test_a_closed_library_and_its_server_are_released(
    backend_settings: Settings, media_dir: MediaSet
) -> None:
    gone = _open_use_close(backend_settings, media_dir)
    gc.collect()
    assert gone() is None, [type(r).__qualname__ for r in gc.get_referrers(gone())]
