"""Signed URLs of the local backend: issued, verified, tampered with and expired."""

from __future__ import annotations

import hmac
import os
import stat
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from core.errors import InvalidInput, InvalidSignature, SignatureExpired
from core.storage import signing
from core.storage.base import Presigner
from core.storage.signing import LocalPresigner, load_or_create_secret, verify_signed_request

SECRET = b"s" * 32
NOW = 1_800_000_000
KEY = "athletes/7/2025/01/abc.jpg"


def _presigner() -> LocalPresigner:
    return LocalPresigner(SECRET, "http://127.0.0.1:8765/", clock=lambda: NOW)


def _split(url: str) -> tuple[str, str, dict[str, str]]:
    parts = urlsplit(url)
    assert parts.path.startswith("/signed/")
    return parts.path, parts.path.removeprefix("/signed/"), dict(parse_qsl(parts.query, True))


def test_put_url_shape_and_grant() -> None:
    req = _presigner().presign_put(KEY, "image/jpeg", 600, content_length=123, max_size=1000)
    assert isinstance(_presigner(), Presigner)
    assert req.method == "PUT"
    assert req.headers == {"Content-Type": "image/jpeg", "Content-Length": "123"}
    assert req.url.startswith(f"http://127.0.0.1:8765/signed/{KEY}?method=PUT&expires=")
    assert req.expires_at is not None and int(req.expires_at.timestamp()) == NOW + 600
    _, key, query = _split(req.url)
    assert list(query) == ["method", "expires", "ct", "len", "max", "sig"]
    grant = verify_signed_request(SECRET, "PUT", key, query, now=NOW + 1)
    assert grant == signing.SignedGrant("PUT", KEY, NOW + 600, "image/jpeg", 123, 1000, None)


def test_the_presigner_verifies_its_own_urls_and_no_other_secrets() -> None:
    req = _presigner().presign_get(KEY, 60, content_type="image/jpeg")
    _, key, query = _split(req.url)
    assert _presigner().verify("GET", key, query, now=NOW).key == KEY
    other = LocalPresigner(b"t" * 32, "http://127.0.0.1:8765/", clock=lambda: NOW)
    with pytest.raises(InvalidSignature):
        other.verify("GET", key, query, now=NOW)
    with pytest.raises(SignatureExpired):
        _presigner().verify("GET", key, query, now=NOW + 61)


def test_get_url_carries_name_and_type() -> None:
    req = _presigner().presign_get(
        KEY, 60, download_name='Año 1 "x".jpg', content_type="image/jpeg"
    )
    _, key, query = _split(req.url)
    assert query["name"] == 'Año 1 "x".jpg' and query["ct"] == "image/jpeg"
    grant = verify_signed_request(SECRET, "get", key, query, now=NOW)
    assert grant.download_name == 'Año 1 "x".jpg'
    assert grant.content_length is None and grant.max_size is None
    assert req.headers == {}


def test_unknown_length_is_empty() -> None:
    req = _presigner().presign_put(KEY, "video/mp4", 60)
    _, key, query = _split(req.url)
    assert query["len"] == "" and query["max"] == ""
    assert "Content-Length" not in req.headers
    assert verify_signed_request(SECRET, "PUT", key, query, now=NOW).content_length is None


@pytest.mark.parametrize(
    "field, value",
    [
        ("sig", "0" * 64),
        ("ct", "text/html"),
        ("len", "999"),
        ("max", "99999999"),
        ("expires", str(NOW + 10**6)),
        ("method", "GET"),
        ("name", "evil.html"),
    ],
)
def test_tampered_fields_rejected(field: str, value: str) -> None:
    req = _presigner().presign_put(KEY, "image/jpeg", 600, content_length=5, max_size=10)
    _, key, query = _split(req.url)
    query[field] = value
    with pytest.raises(InvalidSignature):
        verify_signed_request(SECRET, query["method"], key, query, now=NOW)


def test_other_key_method_or_secret_rejected() -> None:
    _, key, query = _split(_presigner().presign_put(KEY, "image/jpeg", 600).url)
    with pytest.raises(InvalidSignature):
        verify_signed_request(SECRET, "PUT", "athletes/7/2025/01/other.jpg", query, now=NOW)
    with pytest.raises(InvalidSignature):
        verify_signed_request(SECRET, "GET", key, query, now=NOW)
    with pytest.raises(InvalidSignature):
        verify_signed_request(b"t" * 32, "PUT", key, query, now=NOW)
    with pytest.raises(InvalidSignature):
        verify_signed_request(SECRET, "PUT", "../etc/passwd", query, now=NOW)


@pytest.mark.parametrize("missing", ["sig", "method", "expires"])
def test_missing_fields_rejected(missing: str) -> None:
    _, key, query = _split(_presigner().presign_get(KEY, 600).url)
    del query[missing]
    with pytest.raises(InvalidSignature):
        verify_signed_request(SECRET, "GET", key, query, now=NOW)


def test_expiry() -> None:
    _, key, query = _split(_presigner().presign_get(KEY, 60).url)
    assert verify_signed_request(SECRET, "GET", key, query, now=NOW + 60).expires == NOW + 60
    with pytest.raises(SignatureExpired):
        verify_signed_request(SECRET, "GET", key, query, now=NOW + 61)


@pytest.mark.parametrize("expires_in", [0, -1, 604801, True, 1.5])
def test_expires_in_bounds(expires_in: object) -> None:
    with pytest.raises(InvalidInput):
        _presigner().presign_get(KEY, expires_in)  # type: ignore[arg-type]
    assert _presigner().presign_get(KEY, 604800).expires_in == 604800


def test_bad_inputs_refused() -> None:
    with pytest.raises(InvalidInput):
        _presigner().presign_put("../x.jpg", "image/jpeg", 60)
    with pytest.raises(InvalidInput):
        _presigner().presign_put(KEY, "image/jpeg\r\nX-Evil: 1", 60)
    # no type is no refusal: the URL signs none (as a bucket's), and its PUT sends any
    assert "Content-Type" not in _presigner().presign_put(KEY, "", 60).headers


def test_constant_time_compare_used(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[object, object]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(signing.hmac, "compare_digest", spy)
    _, key, query = _split(_presigner().presign_get(KEY, 60).url)
    verify_signed_request(SECRET, "GET", key, query, now=NOW)
    assert calls and calls[0][1] == query["sig"].encode("ascii")


def test_signatures_and_numbers_outside_ascii_are_refused() -> None:
    """A sig with non-ASCII characters (compare_digest raised TypeError: a 500) and other
    scripts' digits ("١٢" read as 12) are a bad signature."""
    _, key, query = _split(_presigner().presign_get(KEY, 60).url)
    for bad in ({"sig": "é" * 64}, {"sig": "\udcff"}, {"expires": "\u0661\u0662"}):
        with pytest.raises(InvalidSignature):
            verify_signed_request(SECRET, "GET", key, {**query, **bad}, now=NOW)
    grant = dict(parse_qsl(signing.sign_file_grant(SECRET, 7, 60, now=NOW)))
    signing.verify_file_grant(SECRET, 7, grant, now=NOW)
    for bad in ({"sig": "é"}, {"exp": "\u0661" * len(grant["exp"])}):
        with pytest.raises(InvalidSignature):
            signing.verify_file_grant(SECRET, 7, {**grant, **bad}, now=NOW)


def test_secret_created_once_with_private_mode(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "url-signing.key"
    first = load_or_create_secret(path)
    assert len(first) == 32
    assert load_or_create_secret(path) == first
    if os.name != "nt":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["url-signing.key"]
    path.write_bytes(b"short")
    assert load_or_create_secret(path) != b"short"


def test_a_download_link_names_its_file_and_cannot_drop_it() -> None:
    """Files with the same bytes share one key: a link names the file it was signed for, so
    the server can tell when that file (not just the object) is gone."""
    _, key, query = _split(_presigner().presign_get(KEY, 60, file_id=42).url)
    assert query["file"] == "42"
    assert verify_signed_request(SECRET, "GET", key, query, now=NOW).file_id == 42
    for forged in ({**query, "file": "43"}, {k: v for k, v in query.items() if k != "file"}):
        with pytest.raises(InvalidSignature):
            verify_signed_request(SECRET, "GET", key, forged, now=NOW)
    # a link signed before links named their file still opens (it ends within 7 days)
    _, key, older = _split(_presigner().presign_get(KEY, 60).url)
    assert "file" not in older
    assert verify_signed_request(SECRET, "GET", key, older, now=NOW).file_id is None
