"""POST /files/{id}/upload/renew's part_numbers, alike for every upload: out of range is 400
invalid_input also for a single PUT (one part: [99] was taken and ignored there), and a part
named twice is 400 too (it was taken, while the confirm refuses repeated part numbers)."""

from __future__ import annotations

import json

import pytest

from tests.server_fixtures import Reply, bearer, http_call
from tests.upload_limits import Served, limited, presign

__all__ = ["limited"]


def _renew(served: Served, file_id: int, numbers: list[int]) -> Reply:
    return http_call(
        f"{served.url}/files/{file_id}/upload/renew",
        "POST",
        json.dumps({"part_numbers": numbers}).encode(),
        {**bearer(served.tokens.upload), "Content-Type": "application/json"},
    )


@pytest.mark.parametrize("numbers", [[99], [2], [1, 1]])
def test_single_put_refuses_parts_it_has_not(limited: Served, numbers: list[int]) -> None:
    grant = presign(limited, original_filename="q.jpg", file_type="image", size=4000)
    reply = _renew(limited, grant["file_id"], numbers)
    assert reply.status == 400, reply.body
    assert reply.json()["error"]["code"] == "invalid_input"


def test_single_put_renews_its_one_part(limited: Served) -> None:
    grant = presign(limited, original_filename="q.jpg", file_type="image", size=4000)
    reply = _renew(limited, grant["file_id"], [1])
    assert reply.status == 200, reply.body
    assert reply.json()["upload_url"]


def test_parts_named_twice_are_refused(limited: Served) -> None:
    if limited.backend == "local":
        pytest.skip("uploads in parts go straight to a bucket")
    grant = presign(
        limited, original_filename="q.jpg", file_type="image", size=4000, multipart=True
    )
    assert _renew(limited, grant["file_id"], [1]).status == 200
    for numbers in ([1, 1], [2]):
        reply = _renew(limited, grant["file_id"], numbers)
        assert reply.status == 400, reply.body
        assert reply.json()["error"]["code"] == "invalid_input"


def test_a_trashed_upload_answers_not_found_whatever_it_names(limited: Served) -> None:
    """A pending upload moved to the trash: renew answered 404 for {} but 400 'between 1 and
    1' when part_numbers named a part, since the range was read before renew's own check."""
    grant = presign(limited, original_filename="q.jpg", file_type="image", size=4000)
    gone = http_call(
        f"{limited.url}/files/{grant['file_id']}", "DELETE", headers=bearer(limited.tokens.admin)
    )
    assert gone.status == 200, gone.body
    for numbers in ([], [2]):
        reply = _renew(limited, grant["file_id"], numbers)
        assert reply.status == 404, (numbers, reply.body)
        assert reply.json()["error"]["code"] == "not_found"
