"""The storage interface, its result types, and presigning as a separate capability."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

ProgressCallback = Callable[[int], None]
"""Called with the number of bytes transferred since the previous call."""


@dataclass(frozen=True)
class ObjectStat:
    key: str
    size: int
    etag: str
    last_modified: datetime
    content_type: str | None = None


@dataclass(frozen=True)
class OpenedObject:
    """A stored object opened for one response: its stat and local file, its bytes on demand."""

    key: str
    stat: ObjectStat
    local_path: Path | None
    _storage: Storage = field(repr=False, compare=False)

    def open_range(
        self, start: int, end: int | None, chunk_size: int = 256 * 1024
    ) -> Iterator[bytes]:
        return self._storage.open_range(self.key, start, end, chunk_size)

    def read_all(self) -> bytes:
        return b"".join(self._storage.open_range(self.key, 0, None))


@dataclass(frozen=True)
class PresignedRequest:
    """What a client needs to perform a signed request."""

    url: str
    method: str
    headers: dict[str, str] = field(default_factory=dict)
    expires_in: int = 0
    expires_at: datetime | None = None


@dataclass(frozen=True)
class PartInfo:
    """One part of a multipart upload that the store already holds."""

    part_number: int
    size: int
    etag: str


@runtime_checkable
class MultipartStorage(Protocol):
    """Stores that take an object in numbered parts (S3 and R2); resumable uploads need it."""

    def create_multipart(self, key: str, content_type: str) -> str:
        """Starts a multipart upload; returns the store's upload id."""
        ...

    def upload_part(
        self, key: str, upload_id: str, part_number: int, stream: BinaryIO, size: int
    ) -> str:
        """Sends `size` bytes read from `stream` as one part; returns its ETag."""
        ...

    def list_parts(self, key: str, upload_id: str) -> list[PartInfo]:
        """NotFound when the upload is unknown (finished or aborted)."""
        ...

    def complete_multipart(self, key: str, upload_id: str, parts: list[PartInfo]) -> ObjectStat: ...

    def abort_multipart(self, key: str, upload_id: str) -> None:
        """Aborting an unknown upload is not an error."""
        ...


@runtime_checkable
class Storage(Protocol):
    """A flat key/value object store."""

    name: str

    def put_file(
        self, key: str, path: Path, content_type: str, progress: ProgressCallback | None = None
    ) -> ObjectStat: ...

    def put_stream(
        self,
        key: str,
        stream: BinaryIO,
        content_type: str,
        progress: ProgressCallback | None = None,
    ) -> ObjectStat: ...

    def put_bytes(self, key: str, data: bytes, content_type: str) -> ObjectStat: ...

    def open_range(
        self, key: str, start: int = 0, end: int | None = None, chunk_size: int = 256 * 1024
    ) -> Iterator[bytes]:
        """Bytes start..end inclusive (end None = to the end), in chunks."""
        ...

    def download_to(
        self, key: str, path: Path, progress: ProgressCallback | None = None
    ) -> None: ...

    def stat(self, key: str) -> ObjectStat:
        """NotFound when missing."""
        ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Deleting a missing key is not an error."""
        ...

    def delete_prefix(self, prefix: str) -> int: ...

    def delete_many(self, keys: Sequence[str]) -> None:
        """`delete` of each key, as few requests as the store allows (a bucket takes 1,000
        keys per request): emptying a large trash was one request per object."""
        ...

    def copy(self, src: str, dst: str, *, content_type: str | None = None) -> ObjectStat:
        """`content_type`: the copy's, where the store keeps one (a bucket serves it); None
        keeps the source's."""
        ...

    def move(self, src: str, dst: str, *, content_type: str | None = None) -> ObjectStat:
        """As `copy`, and the source goes."""
        ...

    def list_keys(self, prefix: str = "") -> Iterator[ObjectStat]: ...

    def local_path(self, key: str) -> Path | None:
        """The file on disk for sendfile, when the backend has one."""
        ...

    def check(self) -> None:
        """Raises StorageUnavailable with the exact cause when the store cannot be used."""
        ...

    def abort_stale_multipart(self, older_than_seconds: int, keep: Collection[str] = ()) -> int:
        """Aborts multipart uploads started before the cutoff, but for the upload ids in
        `keep` (uploads still in progress that the catalog knows)."""
        ...


@runtime_checkable
class Presigner(Protocol):
    """Signs requests that a client performs without our credentials."""

    def presign_put(
        self,
        key: str,
        content_type: str,
        expires_in: int,
        content_length: int | None = None,
        max_size: int | None = None,
    ) -> PresignedRequest: ...

    def presign_get(
        self,
        key: str,
        expires_in: int,
        download_name: str | None = None,
        content_type: str | None = None,
        file_id: int | None = None,
        by_publicity: bool = False,
    ) -> PresignedRequest:
        """`by_publicity`: the link goes to a caller without a token, who may have the file
        only while it is public; a presigner that can take its links back when the file is
        made private marks it so, one that cannot (a bucket's) signs it as any other."""
        ...


@runtime_checkable
class PartPresigner(Protocol):
    """Signs the PUT of one part of a multipart upload (S3 and R2)."""

    def presign_part(
        self, key: str, upload_id: str, part_number: int, expires_in: int
    ) -> PresignedRequest: ...
