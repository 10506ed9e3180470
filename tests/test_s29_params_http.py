"""The list's trashed and its alias trash given together, yes/no words in a query, and tus
size headers past a signed 64-bit integer: clean 4xx answers over HTTP, never a guess or 500."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from core.settings import Settings
from server.params import INT64_MAX
from tests.conftest import make_settings
from tests.server_fixtures import Tokens, bearer

pytestmark = pytest.mark.timeout(60)

TUS = "/files/upload/tus"


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    # the largest limit there is: a MAX_FILE_SIZE past what the catalog's columns hold is a
    # SettingsError now (core.settings; tests/test_s29_limits_settings.py)
    return make_settings(data_dir, max_file_size=INT64_MAX)


async def test_trashed_and_its_alias_together_are_refused(api: Any, tokens: Tokens) -> None:
    """`?trashed=1&trash=0` read trashed and dropped trash without a word."""
    for query in ("trashed=1&trash=0", "trash=1&trashed=1"):
        resp = await api.get(f"/files?{query}", headers=bearer(tokens.read))
        assert resp.status == 400, await resp.text()
        error = (await resp.json())["error"]
        assert error["code"] == "invalid_input"
        assert "'trashed'" in error["message"] and "'trash'" in error["message"]
    for query in (
        "trash=1",
        "trashed=YES",
        "trashed=%20off%20&is_public=On",
        "trashed=",
        # an empty value is the parameter left out: not a second one given
        "trashed=&trash=1",
        "trash=%20&trashed=yes",
    ):
        resp = await api.get(f"/files?{query}", headers=bearer(tokens.read))
        assert resp.status == 200, (query, await resp.text())
    # a bad value is said under the name the client wrote
    resp = await api.get("/files?trash=maybe", headers=bearer(tokens.read))
    assert resp.status == 400
    assert (await resp.json())["error"]["message"].startswith("trash must be"), await resp.text()


async def test_tus_sizes_past_64_bits_are_a_clean_refusal(api: Any, tokens: Tokens) -> None:
    """Upload-Length 2**63 reached the catalog and answered 500 when MAX_FILE_SIZE was above
    it (no longer a setting that loads); with the largest limit, it is a 413 like any length
    past the limit, and the limit advertised is the bound."""
    tus = {**bearer(tokens.upload), "Tus-Resumable": "1.0.0"}
    options = await api.options(TUS, headers={"Tus-Resumable": "1.0.0"})
    assert int(options.headers["Tus-Max-Size"]) == INT64_MAX
    for length in (str(INT64_MAX + 1), str(10**30)):
        resp = await api.post(TUS, headers={**tus, "Upload-Length": length})
        assert resp.status == 413, await resp.text()
        assert (await resp.json())["error"]["code"] == "too_large"
        assert resp.headers["Tus-Resumable"] == "1.0.0"
    created = await api.post(TUS, headers={**tus, "Upload-Length": "10"})
    assert created.status == 201, await created.text()
    location = urlsplit(created.headers["Location"]).path
    octets = {"Content-Type": "application/offset+octet-stream"}
    for offset in (str(10**30),):
        resp = await api.patch(
            location, headers={**tus, **octets, "Upload-Offset": offset}, data=b"x"
        )
        assert resp.status == 409, await resp.text()
        assert (await resp.json())["error"]["code"] == "offset_mismatch"
