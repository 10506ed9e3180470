"""Pytest fixtures: one moto S3 server over real HTTP per session, a fresh bucket per test."""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

__all__ = ["S3Target", "delete_bucket", "moto_server", "new_bucket", "s3_bucket", "s3_client"]

_FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


@dataclass(frozen=True)
class S3Target:
    """Where a test's bucket lives and how to reach it."""

    endpoint_url: str
    bucket: str
    access_key_id: str = "testing"
    secret_access_key: str = "testing"
    region: str = "us-east-1"


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """Starts moto's S3 server on a free loopback port once; yields its endpoint URL."""
    from moto import backends
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with pytest.MonkeyPatch.context() as mp:
        # moto lists its own package folder (a listdir and ~150 isdir) at every request to
        # route it: ~17 s of the suite's CPU; the folder does not change during a run
        modules = tuple(backends.list_of_moto_modules())
        mp.setattr(backends, "list_of_moto_modules", lambda: modules)
        for name, value in _FAKE_AWS_ENV.items():
            mp.setenv(name, value)
        mp.delenv("AWS_SESSION_TOKEN", raising=False)
        mp.delenv("AWS_PROFILE", raising=False)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        try:
            yield f"http://{host}:{port}"
        finally:
            server.stop()


def s3_client(target: S3Target) -> Any:
    """A boto3 S3 client with the target's endpoint and keys."""
    return boto3.client(
        "s3",
        endpoint_url=target.endpoint_url,
        region_name=target.region,
        aws_access_key_id=target.access_key_id,
        aws_secret_access_key=target.secret_access_key,
    )


def public_domain(target: S3Target) -> str:
    """Makes the bucket readable by anyone and returns its path-style URL, which stands in for
    an R2 public domain (`R2_PUBLIC_DOMAIN`)."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{target.bucket}/*",
            }
        ],
    }
    s3_client(target).put_bucket_policy(Bucket=target.bucket, Policy=json.dumps(policy))
    return f"{target.endpoint_url}/{target.bucket}"


def new_bucket(endpoint_url: str) -> S3Target:
    """Creates a new, empty, uniquely named bucket on the S3 server at endpoint_url."""
    target = S3Target(endpoint_url=endpoint_url, bucket=f"test-{uuid.uuid4().hex[:20]}")
    s3_client(target).create_bucket(Bucket=target.bucket)
    return target


@pytest.fixture
def s3_bucket(moto_server: str) -> S3Target:
    """A new, empty, uniquely named bucket on the session's moto server."""
    return new_bucket(moto_server)


def delete_bucket(target: S3Target) -> None:
    """Empties and deletes the target's bucket, as an administrator who removed it."""
    client = s3_client(target)
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=target.bucket):
        for item in page.get("Contents", []):
            client.delete_object(Bucket=target.bucket, Key=item["Key"])
    client.delete_bucket(Bucket=target.bucket)
