"""The live server against its own OpenAPI document, fuzzed by schemathesis (bounded, reproducible).

Every documented operation gets a few generated requests, valid and invalid; every response
must be no 5xx, a documented status, the documented content type, headers and body schema.
The schema is loaded from build_spec() at collection time (schemathesis' fixture loader does not
work with pytest 9); a test checks that the server serves exactly that document.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.request import urlopen

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, Phase, settings  # noqa: E402
from hypothesis.configuration import set_hypothesis_home_dir  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from core.library import Library  # noqa: E402
from core.settings import load_settings  # noqa: E402
from server.entry import EmbeddedServer  # noqa: E402
from server.openapi import build_spec  # noqa: E402
from tests.server_fixtures import server_config  # noqa: E402

pytestmark = pytest.mark.timeout(120)
# Hypothesis caches under ./.hypothesis by default: keep the checkout clean
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "mediadesk-hypothesis")

# tus PATCH bodies (server/routes/tus.py): raw bytes, like application/octet-stream
schemathesis.openapi.media_type(
    "application/offset+octet-stream", __import__("hypothesis").strategies.binary(max_size=256)
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@dataclass(frozen=True)
class Target:
    url: str
    token: str


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory, media_dir: Any) -> Iterator[Target]:
    """A server on the local backend with a public and a private image and video, athlete 1."""
    data = tmp_path_factory.mktemp("schemathesis")
    library = Library.open(
        load_settings(environ={}, config_file=data / "settings.toml", data_dir=str(data))
    )
    library.create_athlete("Ana", 1)
    for path, kind, public in (
        (media_dir.jpeg, "image", True),
        (media_dir.png, "image", False),
        (media_dir.mp4, "video", True),
        (media_dir.webm, "video", False),
    ):
        library.uploads.ingest(Path(path), kind, is_public=public, athlete_id=1)
    token = library.tokens.create("schemathesis", "admin")[1]
    server = EmbeddedServer(library, config=server_config(library))
    server.start()
    try:
        yield Target(server.url, token)
    finally:
        server.stop()
        library.close()


schema = schemathesis.openapi.from_dict(build_spec())


def test_the_server_serves_this_document(target: Target) -> None:
    with urlopen(f"{target.url}/openapi.json", timeout=10) as reply:
        assert json.load(reply) == json.loads(json.dumps(build_spec()))


@schema.exclude(path="/events").parametrize()  # an endless stream
@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,  # the same requests on every run
    database=None,  # no .hypothesis/ folder in the checkout
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_keeps_its_contract(case: Any, target: Target) -> None:
    case.call_and_validate(
        base_url=target.url,
        headers={"Authorization": f"Bearer {target.token}"},
        checks=CHECKS,
        timeout=20,
    )
