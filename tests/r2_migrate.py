"""A local library whose files `mediadesk storage migrate --to r2` moves to a moto bucket,
run as another process would: the R2_* settings only in that command's environment, so the
libraries the tests keep open were started without the bucket."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.settings import Settings, save_settings
from server import cli
from tests.conftest import make_settings, r2_settings
from tests.s3_server import S3Target, s3_client


def saved_local(data_dir: Path, **overrides: Any) -> Settings:
    """A local library whose settings file exists (as the app or `serve` left it)."""
    settings = make_settings(data_dir, **overrides)
    save_settings(settings, settings.config_file, environ={})
    return settings


def r2_environment(bucket: S3Target) -> dict[str, str]:
    """The bucket as the environment's R2_* variables."""
    return {name.upper(): value for name, value in r2_settings(bucket).items()}


def migrate_to_r2(
    settings: Settings, env: dict[str, str], mp: pytest.MonkeyPatch, *flags: str
) -> None:
    """The CLI, another Library on the same data folder, with `env` only in its environment."""
    with mp.context() as scoped:
        for name, value in env.items():
            scoped.setenv(name, value)
        data = ["--data-dir", str(settings.paths.data_dir)]
        assert cli.run(["storage", "migrate", "--to", "r2", *flags, *data]) == 0


def bucket_keys(target: S3Target, prefix: str = "") -> set[str]:
    listed = s3_client(target).list_objects_v2(Bucket=target.bucket, Prefix=prefix)
    return {obj["Key"] for obj in listed.get("Contents", [])}
