"""`mediadesk doctor` on real set-ups: what is fine, and what it tells you to fix."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pytest
from sqlalchemy import text

from core.db.engine import Database
from core.db.migrate import upgrade
from core.doctor import check_catalog, run_checks
from core.settings import Settings
from tests.conftest import make_s3_settings, make_settings
from tests.pg_server import postgres_url  # noqa: F401

pytestmark = pytest.mark.timeout(90)
ROOT = Path(__file__).resolve().parents[1]


def by_name(checks: list[Any]) -> dict[str, Any]:
    return {c.name: c for c in checks}


def test_sqlite_catalog_new_then_unmigrated_then_fine(data_dir: Path) -> None:
    settings = make_settings(data_dir)
    settings.paths.ensure()
    catalog = settings.paths.database_file
    # A data folder MediaDesk never started on said "schema at nothing, this MediaDesk needs
    # …", "Upgrade every other MediaDesk", exit status 1, and left an empty catalog file
    checks = by_name(run_checks(settings))
    assert all(c.ok for c in checks.values()), checks
    assert checks["migrations"].detail.startswith("none yet: a new catalog"), checks
    assert checks["change feed"].detail == "not checked: a new catalog"
    assert not catalog.exists()
    catalog.touch()  # an empty file (left by an older doctor) is a new catalog too
    assert by_name(run_checks(settings))["migrations"].detail.startswith("none yet"), checks
    db = Database(settings.effective_database_url)
    # Tables but no migration record said "schema at nothing", "Upgrade every other MediaDesk"
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE other_app (id INTEGER)"))
    checks = by_name(run_checks(settings))
    assert all(c.ok for c in checks.values()), checks  # a start sets up its tables beside it
    assert checks["migrations"].warning and "other_app" in checks["migrations"].detail
    assert checks["change feed"].detail == "not checked: a new catalog"
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE media_files (id INTEGER)"))
    migrations = by_name(run_checks(settings))["migrations"]
    assert not migrations.ok and "not a MediaDesk catalog" in migrations.detail, migrations
    assert "media_files" in migrations.detail and "Upgrade" not in migrations.fix
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE media_files"))
        conn.execute(text("DROP TABLE other_app"))
    upgrade(db.engine, "0020")  # an older MediaDesk's catalog: that one is upgraded
    checks = by_name(run_checks(settings))
    assert checks["catalog"].ok
    assert not checks["migrations"].ok and "migrates the catalog" in checks["migrations"].fix
    assert not checks["change feed"].ok  # not checked before the catalog is fixed
    upgrade(db.engine)
    db.dispose()
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from server.entry import main; sys.exit(main(sys.argv[1:]))",
            "doctor",
            "--json",
            "--data-dir",
            str(data_dir),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(data_dir)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True
    names = {c["name"]: c for c in report["checks"]}
    assert "polling" in names["change feed"]["detail"]
    assert names["bucket"]["ok"]


def test_postgres_and_bucket_cors_and_clock(
    data_dir: Path,
    postgres_url: str,  # noqa: F811
    s3_bucket: Any,
) -> None:
    name = f"doctor_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = postgres_url.rsplit("/", 1)[0] + f"/{name}"
    db = Database(url)
    # A new, empty database: the failed read of alembic_version aborted the transaction, and
    # listing the tables in it called the catalog unreachable (InFailedSqlTransaction)
    checks = by_name(check_catalog(db))
    assert checks["catalog"].ok and checks["migrations"].ok, checks
    assert checks["migrations"].detail.startswith("none yet: a new catalog"), checks
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE media_files (id int)"))
    migrations = by_name(check_catalog(db))["migrations"]
    assert not migrations.ok and "not a MediaDesk catalog" in migrations.detail, migrations
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE media_files"))
    upgrade(db.engine)
    db.dispose()
    settings = make_settings(
        data_dir,
        database_url=url,
        r2_endpoint_url=s3_bucket.endpoint_url,
        r2_bucket_name=s3_bucket.bucket,
        r2_access_key_id=s3_bucket.access_key_id,
        r2_secret_access_key=s3_bucket.secret_access_key,
        r2_region="us-east-1",
        cors_origins=("https://club.example",),
    )
    checks = by_name(run_checks(settings))
    assert checks["migrations"].ok and checks["bucket"].ok
    assert "LISTEN/NOTIFY" in checks["change feed"].detail and checks["change feed"].ok
    assert checks["clock"].ok  # moto answers with this machine's clock
    assert not checks["bucket CORS"].ok and "CORS rule" in checks["bucket CORS"].fix

    client = boto3.client(
        "s3",
        endpoint_url=s3_bucket.endpoint_url,
        aws_access_key_id=s3_bucket.access_key_id,
        aws_secret_access_key=s3_bucket.secret_access_key,
        region_name="us-east-1",
    )
    client.put_bucket_cors(
        Bucket=s3_bucket.bucket,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": ["https://other.example"],
                    "AllowedMethods": ["PUT", "GET"],
                    "AllowedHeaders": ["content-type"],
                    "ExposeHeaders": ["ETag"],
                }
            ]
        },
    )
    cors = by_name(run_checks(settings))["bucket CORS"]
    assert not cors.ok and "https://club.example" in cors.detail  # the origin is missing
    client.put_bucket_cors(
        Bucket=s3_bucket.bucket,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": ["https://club.example"],
                    "AllowedMethods": ["PUT", "GET"],
                    "AllowedHeaders": ["content-type"],
                    "ExposeHeaders": ["ETag"],
                }
            ]
        },
    )
    assert by_name(run_checks(settings))["bucket CORS"].ok


def test_unreachable_catalog_says_what_to_check(data_dir: Path) -> None:
    from tests.pg_server import _free_port

    url = f"postgresql+psycopg://nobody@127.0.0.1:{_free_port()}/nothing"
    checks = by_name(run_checks(make_settings(data_dir, database_url=url)))
    assert not checks["catalog"].ok and "DATABASE_URL" in checks["catalog"].fix


def _bucket_and_settings(
    data_dir: Path, s3_bucket: Any, cors_origins: tuple[str, ...]
) -> tuple[Settings, Any]:
    """Settings on the test bucket with `cors_origins`, and a boto3 client of that bucket."""
    settings = make_s3_settings(
        data_dir,
        s3_bucket,
        cors_origins=cors_origins,
    )
    client: Any = boto3.client(
        "s3",
        endpoint_url=s3_bucket.endpoint_url,
        aws_access_key_id=s3_bucket.access_key_id,
        aws_secret_access_key=s3_bucket.secret_access_key,
        region_name="us-east-1",
    )
    return settings, client


@pytest.mark.parametrize(
    ("rule", "said"),
    [
        # the tester's rule: PUT allowed, but not the content-type header, and no ETag exposed
        ({"AllowedHeaders": ["x-foo"]}, "content-type"),
        ({"AllowedHeaders": ["content-type"]}, "ETag"),  # single PUTs work, parts do not
        ({"AllowedHeaders": ["Content-Type"], "ExposeHeaders": ["ETag"]}, None),
        ({"AllowedHeaders": ["*"], "ExposeHeaders": ["etag"]}, None),
    ],
)
def test_bucket_cors_must_let_browsers_upload(
    data_dir: Path, s3_bucket: Any, rule: dict[str, Any], said: str | None
) -> None:
    settings, client = _bucket_and_settings(data_dir, s3_bucket, ("https://club.example",))
    origins = {"AllowedOrigins": ["https://club.example"], "AllowedMethods": ["PUT", "GET"]}
    client.put_bucket_cors(
        Bucket=s3_bucket.bucket, CORSConfiguration={"CORSRules": [origins | rule]}
    )
    cors = by_name(run_checks(settings))["bucket CORS"]
    if said is None:
        assert cors.ok and not cors.warning, cors
        return
    assert not cors.ok and said in cors.detail, cors
    assert '"content-type"' in cors.fix and '"ETag"' in cors.fix  # the fix says what to add


@pytest.mark.parametrize(
    ("configured", "bucket", "said"),
    [
        # compared as browsers send the Origin, on both sides
        ("https://Club.Example:443", ["https://club.example"], None),
        ("https://Fútbol-Club.es", ["https://xn--ftbol-club-ndb.es"], None),
        ("http://[0:0::1]:8080", ["http://[::1]:8080"], None),
        # the bucket compares what browsers send with its rule as written: this never matches
        ("https://club.example", ["https://club.example:443"], "https://club.example:443 as"),
        ("https://club.example", ["https://Club.Example"], "https://Club.Example as"),
        ("https://Club.Example", ["https://other.example"], "https://club.example (set as"),
    ],
)
def test_bucket_cors_origins_are_compared_as_browsers_send_them(
    data_dir: Path, s3_bucket: Any, configured: str, bucket: list[str], said: str | None
) -> None:
    settings, client = _bucket_and_settings(data_dir, s3_bucket, (configured,))
    rule = {
        "AllowedOrigins": bucket,
        "AllowedMethods": ["PUT", "GET"],
        "AllowedHeaders": ["content-type"],
        "ExposeHeaders": ["ETag"],
    }
    client.put_bucket_cors(Bucket=s3_bucket.bucket, CORSConfiguration={"CORSRules": [rule]})
    cors = by_name(run_checks(settings))["bucket CORS"]
    if said is None:
        assert cors.ok and not cors.warning, cors
        return
    assert not cors.ok and said in cors.detail, cors


def test_a_bucket_rule_no_browser_matches_is_a_warning(data_dir: Path, s3_bucket: Any) -> None:
    settings, client = _bucket_and_settings(data_dir, s3_bucket, ("https://club.example",))
    rule = {
        "AllowedOrigins": ["https://club.example", "https://media.example:443"],
        "AllowedMethods": ["PUT", "GET"],
        "AllowedHeaders": ["content-type"],
        "ExposeHeaders": ["ETag"],
    }
    client.put_bucket_cors(Bucket=s3_bucket.bucket, CORSConfiguration={"CORSRules": [rule]})
    cors = by_name(run_checks(settings))["bucket CORS"]
    assert cors.ok and cors.warning, cors  # what is configured works; that rule never matches
    assert "https://media.example:443 as https://media.example" in cors.detail, cors
