"""`mediadesk doctor` meeting the store in an outage: out of reach (silent, refusing),
throttling (503 SlowDown) or failing inside (500). The bucket line said the right cause, but
its fix was always the storage settings' ("Check R2_ENDPOINT_URL, R2_BUCKET_NAME and the R2
token"), sending an administrator to change settings that were right, where README promises
that only set-up problems point to the settings. Now the fix follows the failure's reason
(core.errors: STORE_OUT_REASONS pass by themselves, SETUP_FAULT_REASONS stay until someone
acts). Real HTTP over loopback: moto behind tests.faults' ErringStore (answers S3 errors) and
CuttableProxy (refuses, hangs)."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from core.doctor import check_storage
from core.errors import STORE_OUT_REASONS
from core.settings import Settings
from core.storage import s3
from core.storage.s3 import Timeouts
from tests.faults import ENTRY, ROOT, CuttableProxy, ErringStore
from tests.s3_server import S3Target

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(autouse=True)
def _short_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    # the check's timeouts, shortened (production: 3 s to connect, 4 s for an answer)
    monkeypatch.setattr(s3, "PROBE", Timeouts(connect=1, read=1, attempts=1))


def _through(settings: Settings, url: str) -> Settings:
    return dataclasses.replace(settings, r2_endpoint_url=url)


def _bucket(settings: Settings) -> Any:
    checks = {c.name: c for c in check_storage(settings)}
    return checks["bucket"]


def _says_try_again_later(fix: str) -> None:
    assert "try again later" in fix and "status page" in fix, fix
    assert "R2_BUCKET_NAME" not in fix and "token" not in fix, fix


def _hang(proxy: CuttableProxy) -> None:
    proxy.stall()


def _refuse(proxy: CuttableProxy) -> None:
    proxy.cut()


@pytest.mark.parametrize(
    ("outage", "said"),
    [(_hang, "did not answer in time"), (_refuse, "cannot reach")],
    ids=["hang", "refuse"],
)
def test_a_store_out_of_reach_says_try_again_later(
    s3_settings: Settings,
    s3_bucket: S3Target,
    outage: Callable[[CuttableProxy], None],
    said: str,
) -> None:
    proxy = CuttableProxy.in_front_of(s3_bucket.endpoint_url)
    try:
        settings = _through(s3_settings, proxy.url)
        assert _bucket(settings).ok
        outage(proxy)
        bucket = _bucket(settings)
        assert not bucket.ok and said in bucket.detail, bucket
        _says_try_again_later(bucket.fix)
        assert "network" in bucket.fix, bucket.fix
    finally:
        proxy.close()


@pytest.fixture
def erring(s3_bucket: S3Target) -> Iterator[ErringStore]:
    proxy = ErringStore(s3_bucket.endpoint_url)
    try:
        yield proxy
    finally:
        proxy.close()


@pytest.mark.parametrize(
    ("status", "code", "said"),
    [
        (503, "SlowDown", "throttling"),
        (429, "TooManyRequests", "throttling"),
        (500, "InternalError", "failing on its side"),
    ],
)
def test_a_throttling_or_failing_store_says_try_again_later(
    s3_settings: Settings, erring: ErringStore, status: int, code: str, said: str
) -> None:
    settings = _through(s3_settings, erring.url)
    erring.fail(status, code)
    bucket = _bucket(settings)
    assert not bucket.ok and str(status) in bucket.detail, bucket
    _says_try_again_later(bucket.fix)
    assert said in bucket.fix, bucket.fix
    erring.restore()
    assert _bucket(settings).ok


def test_a_set_up_fault_still_points_to_the_settings(s3_settings: Settings) -> None:
    missing = dataclasses.replace(s3_settings, r2_bucket_name="no-such-bucket-here")
    bucket = _bucket(missing)
    assert not bucket.ok and "does not exist" in bucket.detail, bucket
    assert bucket.fix.startswith("Check R2_ENDPOINT_URL, R2_BUCKET_NAME"), bucket.fix
    assert "try again" not in bucket.fix


def test_every_passing_store_outage_has_its_own_fix() -> None:
    from core.doctor import STORE_OUT_FIXES

    assert set(STORE_OUT_FIXES) == set(STORE_OUT_REASONS)
    assert all("try again later" in fix for fix in STORE_OUT_FIXES.values())


def test_doctor_prints_the_outage_fix(
    data_dir: Path, s3_bucket: S3Target, erring: ErringStore
) -> None:
    """The command itself, as an administrator runs it (a fresh process: the production
    probe timeouts do not matter to a store that answers at once)."""
    erring.fail(503, "SlowDown")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEDIADESK_", "R2_"))}
    env |= {
        "R2_ENDPOINT_URL": erring.url,
        "R2_BUCKET_NAME": s3_bucket.bucket,
        "R2_ACCESS_KEY_ID": s3_bucket.access_key_id,
        "R2_SECRET_ACCESS_KEY": s3_bucket.secret_access_key,
        "MEDIADESK_CONFIG_FILE": str(data_dir / "settings.toml"),
    }
    done = subprocess.run(
        [sys.executable, "-c", ENTRY, "doctor", "--data-dir", str(data_dir)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if "bucket:" in line)
    assert "503" in lines[at], lines
    assert lines[at + 1].strip().startswith("fix: The store is throttling"), lines
    _says_try_again_later(lines[at + 1])
