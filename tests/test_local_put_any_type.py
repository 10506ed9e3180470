"""A presign without content_type signs no Content-Type on either backend: the PUT may send
any (a browser's file.type: "", application/octet-stream), and the confirm sniffs the bytes.
This server's URL signed the name's type, so such a PUT was 403 content_type_mismatch where
R2 took it. A presign that names a type still binds its PUT to it (every spelling of it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.server_fixtures import http_call
from tests.upload_limits import Served, confirm, limited, noise_jpeg, presign

__all__ = ["limited"]


@pytest.mark.parametrize("sent", ["", "application/octet-stream", "image/jpeg"])
def test_put_of_a_presign_without_type_takes_any_type(
    limited: Served, sent: str, tmp_path: Path
) -> None:
    grant = presign(limited, original_filename="pic.jpg", file_type="image")
    assert "Content-Type" not in grant["headers"]
    data = noise_jpeg(tmp_path / "pic.jpg", 60)
    put = http_call(grant["upload_url"], "PUT", data, {"Content-Type": sent})
    assert put.status == 200, put.body
    done = confirm(limited, grant["file_id"])
    assert done.status == 200, done.body
    assert (done.json()["status"], done.json()["content_type"]) == ("ready", "image/jpeg")


def test_put_of_a_presign_with_type_is_bound_to_it(limited: Served, tmp_path: Path) -> None:
    if limited.backend == "s3":
        pytest.skip("moto's S3 server does not check signatures (R2 answers 403)")
    grant = presign(
        limited, original_filename="pic.jpg", file_type="image", content_type="image/jpeg"
    )
    assert grant["headers"]["Content-Type"] == "image/jpeg"
    data = noise_jpeg(tmp_path / "pic.jpg", 60)
    put = http_call(grant["upload_url"], "PUT", data, {"Content-Type": "application/octet-stream"})
    assert put.status == 403, put.body
    assert put.json()["error"]["code"] == "content_type_mismatch"
    put = http_call(grant["upload_url"], "PUT", data, {"Content-Type": "image/jpeg"})
    assert put.status == 200, put.body
