"""`mediadesk doctor` reads a bucket CORS rule's AllowedOrigins as S3 and R2 match them: one `*`
anywhere in an entry stands for any characters, and `*` alone allows every origin. Real rules
put on moto's S3 server with put_bucket_cors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.doctor import run_checks
from tests.test_team_doctor import _bucket_and_settings, by_name

pytestmark = pytest.mark.timeout(90)


@pytest.mark.parametrize(
    ("configured", "bucket", "said"),
    [
        (("https://media.club.example",), ["https://*.club.example"], None),
        (("https://a.b.club.example", "http://[::1]:8080"), ["*"], None),
        (("https://media.club.example",), ["https://media.*.example"], None),
        (("http://localhost:5173",), ["http://localhost:*"], None),
        # the configured form is compared (origin_key), as browsers send it
        (("https://Media.Club.Example:443",), ["https://*.club.example"], None),
        # a wildcard still has to match the rest of the entry
        (("https://club.example",), ["https://*.club.example"], "https://club.example"),
        (("https://media.club.example",), ["http://*.club.example"], "https://media.club"),
        (("https://media.club.example:8443",), ["https://*.club.example"], ":8443"),
        # characters glob would read as patterns are matched as written, as S3 does
        (("https://a.club.example",), ["https://?.club.example"], "https://a.club.example"),
        (("https://a.club.example",), ["https://[a].club.example"], "https://a.club.example"),
    ],
)
def test_a_bucket_rule_with_a_wildcard_allows_the_origins_it_matches(
    data_dir: Path, s3_bucket: Any, configured: tuple[str, ...], bucket: list[str], said: str | None
) -> None:
    settings, client = _bucket_and_settings(data_dir, s3_bucket, configured)
    rule = {
        "AllowedOrigins": bucket,
        "AllowedMethods": ["PUT", "GET"],
        "AllowedHeaders": ["content-type"],
        "ExposeHeaders": ["ETag"],
    }
    client.put_bucket_cors(Bucket=s3_bucket.bucket, CORSConfiguration={"CORSRules": [rule]})
    assert client.get_bucket_cors(Bucket=s3_bucket.bucket)["CORSRules"][0]["AllowedOrigins"] == (
        bucket
    )
    cors = by_name(run_checks(settings))["bucket CORS"]
    if said is None:
        assert cors.ok and not cors.warning, cors
        return
    assert not cors.ok and "origins not allowed" in cors.detail and said in cors.detail, cors


def test_only_the_rule_that_lets_browsers_upload_counts_for_its_wildcard(
    data_dir: Path, s3_bucket: Any
) -> None:
    """`*` on a GET-only rule allows no upload: the PUT rule's origins are what is compared."""
    settings, client = _bucket_and_settings(data_dir, s3_bucket, ("https://media.club.example",))
    rules = [
        {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]},
        {
            "AllowedOrigins": ["https://other.example"],
            "AllowedMethods": ["PUT"],
            "AllowedHeaders": ["*"],
            "ExposeHeaders": ["ETag"],
        },
    ]
    client.put_bucket_cors(Bucket=s3_bucket.bucket, CORSConfiguration={"CORSRules": rules})
    cors = by_name(run_checks(settings))["bucket CORS"]
    assert not cors.ok and "https://media.club.example" in cors.detail, cors
