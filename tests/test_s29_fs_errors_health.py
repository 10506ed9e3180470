"""GET /health on a full disk (a real 16 MiB tmpfs holding the data folder, filled; root only;
real HTTP over loopback): storage.reason insufficient_storage, the code the 507 answers give,
with a sentence saying to free some space, for an admin and for other callers; no local path."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.library import Library
from server.entry import EmbeddedServer
from server.routes.meta import HEALTH_MESSAGES
from tests.conftest import make_settings
from tests.faults import fill_disk, small_tmpfs
from tests.server_fixtures import bearer, http_call, make_tokens, server_config

pytestmark = pytest.mark.timeout(60)


def test_health_on_a_full_disk_says_so_without_a_path(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "data", "16m") as data_dir:
        lib = Library.open(make_settings(data_dir))
        try:
            tokens = make_tokens(lib)
            with EmbeddedServer(lib, config=server_config(lib)) as server:
                fill_disk(data_dir / "filler")
                for who, token in (("admin", tokens.admin), ("reader", tokens.read)):
                    got = http_call(f"{server.url}/health", headers=bearer(token))
                    assert got.status == 503, (who, got)
                    storage = got.json()["storage"]
                    assert storage["reason"] == "insufficient_storage", (who, storage)
                    assert "free some space" in storage["error"], (who, storage)
                    assert str(data_dir) not in storage["error"], (who, storage)
                    assert "Errno" not in storage["error"], (who, storage)
                    if who == "reader":
                        assert storage["error"] == HEALTH_MESSAGES["insufficient_storage"]
        finally:
            lib.close()
