"""The default storage backend: objects are files under one folder, written atomically."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import logging
import os
import shutil
import uuid
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from stat import S_ISDIR, S_ISLNK, S_ISREG
from typing import BinaryIO

from core import partials
from core.errors import (
    NO_SPACE_REASON,
    Conflict,
    InsufficientStorage,
    InvalidInput,
    MediaDeskError,
    NotFound,
    StorageUnavailable,
    is_no_space,
    object_missing,
    storage_error,
)
from core.filenames import temp_name
from core.fsmodes import make_dirs, set_file_mode
from core.keys import THUMBNAIL_PREFIX, VARIANT_PREFIX, normalise_key
from core.mediatypes import is_whole_webp
from core.storage.base import ObjectStat, ProgressCallback

logger = logging.getLogger(__name__)

CHUNK = 1024 * 1024
# What os.link answers where the file system makes no hard link to that file: another mount
# (EXDEV), a share or FUSE mount that refuses them (EPERM, ENOTSUP), FAT (EPERM), a file
# with the most links it can have (EMLINK). The object is then copied byte by byte.
_NO_LINK = frozenset(
    {errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS}
)
PART_SUFFIX = ".part"
# Objects made again from their original: an image's thumbnail and its ?w= variants. Written
# atomically like every object (a kill leaves the old one or the new one, never half of one),
# but not fsynced: on a slow disk (a share, a FUSE mount) a photo's import paid two more
# fsyncs (the thumbnail and its folder) for bytes the original can give again. What a power
# cut can leave of one is an empty, zero-filled or cut-short file (a new file's data not yet
# written back): one that is not a whole WebP reads as missing (`_stat_object`), so a variant
# or a photo's thumbnail is made again rather than served as a picture nobody sees. The
# original and everything else stay fsynced before they are named.
REMADE_PREFIXES = (THUMBNAIL_PREFIX, VARIANT_PREFIX)


def is_temp_name(name: str) -> bool:
    """True for the `.{name}.{uuid}.part` files an unfinished write leaves behind."""
    return name.startswith(".") and name.endswith(PART_SUFFIX)


def normalise_prefix(prefix: str) -> str:
    """A listing prefix: "" (everything) or a clean key start, keeping a trailing slash."""
    if not prefix:
        return ""
    clean = normalise_key(prefix)
    return f"{clean}/" if prefix.endswith("/") else clean


def remade(key: str) -> bool:
    """True for the keys of REMADE_PREFIXES (written without fsync, damaged read as missing)."""
    return normalise_key(key).startswith(REMADE_PREFIXES)


def _whole_webp(path: Path, size: int) -> bool:
    """The remade object at `path` is a whole WebP (its header read, 12 bytes)."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except OSError:
        return True  # unreadable now: the read that follows reports it as what it is
    return is_whole_webp(head, size)


def fsync_dir(folder: Path) -> None:
    """Makes a rename in `folder` durable (a no-op where folders cannot be opened)."""
    if os.name == "nt":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_error(exc: OSError, what: str, root: Path | None = None) -> MediaDeskError:
    """What a failed read of a local object means, for every read path (stat, open, copy, the
    server's own open before sendfile): only a missing object is NotFound. Any other OS error —
    the objects folder replaced by a file, unreadable, an I/O error — is the storage's
    (StorageUnavailable: 500 `storage_unavailable`), never a 404 that hides it.

    A key that runs through another object ("a/b" when "a" is a file) is missing too: that is
    a NotADirectoryError below a folder `root` that is itself a folder."""
    if isinstance(exc, FileNotFoundError) or (
        isinstance(exc, NotADirectoryError) and root is not None and _is_folder(root)
    ):
        return object_missing(f"No object {what} in local storage")
    return storage_error(exc, f"Cannot read {what}")


def probe(path: Path, message: str) -> os.stat_result | None:
    """What is at `path` before a write or delete there: None when nothing is (missing, or a
    parent that is a file). Any other failure of the file system (a folder whose permissions
    were removed, a read-only or failing mount) is the storage's, reported as `fs_errors` does.

    Not pathlib's exists()/is_dir(): on Python 3.11 they swallow ENOENT/ENOTDIR only and let
    PermissionError out, which the server can only answer as 500 `internal_error`."""
    try:
        return os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise storage_error(exc, message) from exc


def _holds_folder(path: Path, message: str) -> bool:
    st = probe(path, message)
    return st is not None and S_ISDIR(st.st_mode)


@contextlib.contextmanager
def fs_errors(message: str) -> Iterator[None]:
    """The one mapping of a failed file-system call on the data folder to the domain error:
    `message: <strerror>` as StorageUnavailable (500 `storage_unavailable`), a full disk as
    InsufficientStorage (507). Domain errors raised inside pass through unchanged."""
    try:
        yield
    except OSError as exc:
        raise storage_error(exc, message) from exc


def _is_folder(path: Path) -> bool:
    try:
        return S_ISDIR(os.stat(path).st_mode)
    except OSError:
        return False


def _copy_chunks(
    read: Callable[[int], bytes], out: BinaryIO, progress: ProgressCallback | None
) -> None:
    while chunk := read(CHUNK):
        out.write(chunk)
        if progress is not None:
            progress(len(chunk))


class LocalStorage:
    """A flat key/value store in a folder; `local_path` lets the server use sendfile."""

    name = "local"

    def __init__(self, root: Path, tmp_dir: Path | None = None) -> None:
        self.root = Path(root)
        self.tmp_dir = Path(tmp_dir) if tmp_dir is not None else None
        # Where the owner locks of our partial files live (never inside the object tree).
        self.registry = self.tmp_dir or self.root.with_name(f"{self.root.name}.tmp")

    def _temp_name(self, name: str) -> str:
        """`.{name}.own-{token}.{uuid}.part`: hidden, and naming the process that writes it."""
        partials.register(self.registry)
        return temp_name(name, f".{partials.tag()}.{uuid.uuid4().hex}{PART_SUFFIX}")

    # --- paths --------------------------------------------------------------------------------
    def _path(self, key: str) -> Path:
        clean = normalise_key(key)
        if is_temp_name(clean.rsplit("/", 1)[-1]):
            raise InvalidInput(f"Invalid storage key {key!r}: reserved for temporary files")
        return self.root.joinpath(*clean.split("/"))

    def _key(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def _file(self, key: str) -> Path:
        return self._stat_object(key)[0]

    def _stat_object(self, key: str, whole: bool = True) -> tuple[Path, os.stat_result]:
        """The object's path and stat; NotFound when there is none, StorageUnavailable when
        the folder cannot be read (read_error). With `whole`, a remade object that is not a
        whole WebP is none (its header read); listings pass False: a deletion by prefix must
        still find a damaged variant, and a listing of every object must not open each one."""
        path = self._path(key)
        try:
            st = path.stat()
        except OSError as exc:
            raise self._read_error(exc, key) from exc
        if not S_ISREG(st.st_mode) or (whole and remade(key) and not _whole_webp(path, st.st_size)):
            raise object_missing(f"No object {key!r} in local storage")
        return path, st

    def _open(self, key: str) -> BinaryIO:
        """The object opened for reading (closed by the caller); errors as `_stat_object`. A
        remade object's header is checked on this handle, not by opening it twice."""
        path = self._stat_object(key, whole=False)[0]
        try:
            handle = open(path, "rb")  # noqa: SIM115 - closed by the caller
        except OSError as exc:
            raise self._read_error(exc, key) from exc
        if remade(key):
            try:
                whole = is_whole_webp(handle.read(12), os.fstat(handle.fileno()).st_size)
                handle.seek(0)
            except OSError as exc:
                handle.close()
                raise self._read_error(exc, key) from exc
            if not whole:
                handle.close()
                raise object_missing(f"No object {key!r} in local storage")
        return handle

    def _read_error(self, exc: OSError, key: str) -> MediaDeskError:
        return read_error(exc, repr(key), self.root)

    def _prune(self, folder: Path) -> None:
        """Removes empty folders from `folder` up to (not including) the root."""
        root = self.root.resolve()
        while folder.resolve() != root and root in folder.resolve().parents:
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent

    def _discard(self, tmp: Path) -> None:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        self._prune(tmp.parent)

    # --- writing ------------------------------------------------------------------------------
    def _create_temp(self, key: str, path: Path) -> tuple[Path, BinaryIO]:
        """Creates the parent folders and the temp file (again if a delete pruned them)."""
        try:
            tmp = path.with_name(self._temp_name(path.name))
        except OSError as exc:
            raise storage_error(exc, f"Cannot write {key!r}") from exc
        for attempt in (1, 2):
            try:
                make_dirs(path.parent)
                out = open(tmp, "xb")  # noqa: SIM115 - closed by the caller
                set_file_mode(out.fileno())  # 0640, not the umask's choice (core/fsmodes.py)
                return tmp, out
            except FileNotFoundError:
                if attempt == 2:
                    raise StorageUnavailable(f"Cannot create folder for {key!r}") from None
            except (FileExistsError, NotADirectoryError):
                raise Conflict(f"Key {key!r} runs through an existing object") from None
            except OSError as exc:
                raise storage_error(exc, f"Cannot write {key!r}") from exc
        raise AssertionError("unreachable")

    def _write_atomic(
        self,
        key: str,
        fill: Callable[[BinaryIO], None],
        commit: Callable[[], AbstractContextManager[object]] | None = None,
    ) -> ObjectStat:
        path = self._path(key)
        if _holds_folder(path, f"Cannot write {key!r}"):
            raise Conflict(f"Key {key!r} is a folder of other objects")
        durable = not remade(key)
        tmp, out = self._create_temp(key, path)
        try:
            with out:
                fill(out)
                out.flush()
                if durable:
                    os.fsync(out.fileno())
            with commit() if commit is not None else contextlib.nullcontext():
                os.replace(tmp, path)
        except _ReadError as exc:
            self._discard(tmp)
            raise exc.source from None
        except OSError as exc:
            self._discard(tmp)
            raise storage_error(exc, f"Cannot write {key!r}") from exc
        except BaseException:
            self._discard(tmp)
            raise
        if durable:
            fsync_dir(path.parent)
        return self.stat(key)

    def put_stream(
        self,
        key: str,
        stream: BinaryIO,
        content_type: str,
        progress: ProgressCallback | None = None,
        *,
        commit: Callable[[], AbstractContextManager[object]] | None = None,
    ) -> ObjectStat:
        """`commit`: held while the written bytes take the key's place (an exception from it
        drops them), so that a check of whether they may replace the object holds when they
        do, not only when the body began (a signed PUT, core/ingest.py `receive_put`)."""

        def read(size: int) -> bytes:
            try:
                return stream.read(size)
            except OSError as exc:  # the source failed, not the disk: re-raised as it is
                raise _ReadError(exc) from exc

        return self._write_atomic(key, lambda out: _copy_chunks(read, out, progress), commit)

    def put_file(
        self, key: str, path: Path, content_type: str, progress: ProgressCallback | None = None
    ) -> ObjectStat:
        try:
            source = open(path, "rb")  # noqa: SIM115 - closed below
        except FileNotFoundError:
            raise NotFound(f"File {path} does not exist") from None
        with source:
            return self.put_stream(key, source, content_type, progress)

    def put_bytes(self, key: str, data: bytes, content_type: str) -> ObjectStat:
        return self.put_stream(key, io.BytesIO(data), content_type)

    def adopt_file(self, key: str, path: Path) -> ObjectStat:
        """Moves a finished, fsynced file into place: a rename on the same file system (a big
        resumable upload is then written once, not twice), else a copy. The source is gone."""
        target = self._path(key)
        if probe(target, f"Cannot write {key!r}") is not None:
            raise Conflict(f"Key {key!r} already exists")
        try:
            make_dirs(target.parent)
            set_file_mode(path)
            os.rename(path, target)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise storage_error(exc, f"Cannot write {key!r}") from exc
            stat = self.put_file(key, path, "")
            Path(path).unlink(missing_ok=True)
            return stat
        fsync_dir(target.parent)
        return self.stat(key)

    # --- reading ------------------------------------------------------------------------------
    def stat(self, key: str) -> ObjectStat:
        return self._object_stat(key)

    def _object_stat(self, key: str, whole: bool = True) -> ObjectStat:
        _path, st = self._stat_object(key, whole)
        validator = f"{st.st_size}-{st.st_mtime_ns}-{st.st_ino}".encode()
        etag = '"' + hashlib.blake2b(validator, digest_size=16).hexdigest() + '"'
        modified = datetime.fromtimestamp(st.st_mtime_ns / 1e9, UTC)
        return ObjectStat(normalise_key(key), st.st_size, etag, modified, None)

    def exists(self, key: str) -> bool:
        """True for an object, False for none; a folder that cannot be read raises."""
        try:
            self._stat_object(key)
        except NotFound:
            return False
        return True

    def open_range(
        self, key: str, start: int = 0, end: int | None = None, chunk_size: int = 256 * 1024
    ) -> Iterator[bytes]:
        """Opens at once (NotFound / InvalidInput raise here); the iterator then reads lazily."""
        if start < 0 or (end is not None and end < start) or chunk_size <= 0:
            raise InvalidInput(f"Invalid byte range {start}-{end}")
        handle = self._open(key)
        size = os.fstat(handle.fileno()).st_size
        if start >= size and not (start == 0 and end is None):
            handle.close()
            raise InvalidInput(f"Range {start}-{end} not satisfiable", details={"size": size})
        last = size - 1 if end is None else min(end, size - 1)
        return _read_range(handle, start, last - start + 1, chunk_size, repr(key))

    def download_to(self, key: str, path: Path, progress: ProgressCallback | None = None) -> None:
        target = Path(path)
        with fs_errors(f"Cannot copy {key!r} to {target}"):  # the owner lock: a data folder
            tmp = target.with_name(self._temp_name(target.name))
        src = self._open(key)
        try:
            with src, open(tmp, "xb") as out:
                _copy_chunks(src.read, out, progress)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except OSError as exc:
            raise storage_error(exc, f"Cannot copy {key!r} to {target}") from exc
        finally:
            with contextlib.suppress(OSError):  # the error above is the one to report
                tmp.unlink(missing_ok=True)
        fsync_dir(target.parent)

    def list_keys(self, prefix: str = "") -> Iterator[ObjectStat]:
        prefix = normalise_prefix(prefix)
        start = self.root.joinpath(*prefix.split("/")[:-1]) if "/" in prefix else self.root
        keys: list[str] = []

        def failed(exc: OSError) -> None:
            # a folder pruned while we walk holds no object; the objects folder unreadable
            # or a file must not read as an empty store
            error = read_error(exc, "folder", self.root)
            if not isinstance(error, NotFound):
                raise error from exc

        for folder, dirs, files in os.walk(start, onerror=failed):
            dirs.sort()
            for name in files:
                full = Path(folder, name)
                if is_temp_name(name):
                    continue
                try:
                    if S_ISLNK(os.lstat(full).st_mode):
                        continue
                except OSError as exc:  # gone meanwhile: skipped; unreadable: the storage's
                    failed(exc)
                    continue
                key = self._key(full)
                try:
                    normalise_key(key)
                except InvalidInput:
                    logger.debug("Skipping %s: not a valid storage key", full)
                    continue
                if key.startswith(prefix):
                    keys.append(key)
        for key in sorted(keys):
            with contextlib.suppress(NotFound):
                yield self._object_stat(key, whole=False)

    def strays(self) -> list[str]:
        """What the objects folder holds that `list_keys` skips because it cannot be an
        object: symlinks, special files, names that are no valid key (one that is not UTF-8
        among them). Reconcile reports them; nothing here deletes them. Named by their path
        under the folder, undecodable bytes written as \\xNN."""
        found: list[str] = []

        def failed(exc: OSError) -> None:
            error = read_error(exc, "folder", self.root)
            if not isinstance(error, NotFound):
                raise error from exc

        for folder, dirs, files in os.walk(self.root, onerror=failed):
            # a symlink to a folder is listed among the folders, and never walked into
            for name in [*files, *dirs]:
                full = Path(folder, name)
                if is_temp_name(name):
                    continue
                try:
                    mode = os.lstat(full).st_mode
                except OSError as exc:
                    failed(exc)
                    continue
                if S_ISDIR(mode):
                    continue
                key = self._key(full)
                try:
                    valid = normalise_key(key) == key
                except InvalidInput:
                    valid = False
                if S_ISLNK(mode) or not S_ISREG(mode) or not valid:
                    found.append(os.fsencode(key).decode("utf-8", "backslashreplace"))
        return sorted(found)

    def local_path(self, key: str) -> Path | None:
        return self._path(key)

    # --- changing -----------------------------------------------------------------------------
    def delete(self, key: str) -> None:
        path = self._path(key)
        if _holds_folder(path, f"Cannot delete {key!r}"):
            return
        try:
            path.unlink()
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as exc:
            raise storage_error(exc, f"Cannot delete {key!r}") from exc
        self._prune(path.parent)

    def delete_many(self, keys: Sequence[str]) -> None:
        for key in keys:  # an unlink is cheap: there is no request to save
            self.delete(key)

    def delete_prefix(self, prefix: str) -> int:
        if not normalise_prefix(prefix):
            raise InvalidInput("Refusing to delete every object: the prefix is empty")
        count = 0
        for item in list(self.list_keys(prefix)):
            self.delete(item.key)
            count += 1
        return count

    # content_type: a file on disk keeps none (its row's type is served, as put_stream's)
    def copy(self, src: str, dst: str, *, content_type: str | None = None) -> ObjectStat:
        """A hard link where the file system makes one, else the bytes copied. A link is a
        real copy: an object is never written in place (every write of a key renames a new
        file onto it, `_write_atomic`, `move`, `adopt_file`), so neither name ever sees a
        change made through the other. It costs no room and no time, whatever the size: a
        confirm copies the upload to its own key before its row names that key, and deletes
        the old one only after (core/ingest.py `_confirm_checked`), so a kill between them
        leaves both and the confirm can run again."""
        source, target = self._file(src), self._path(dst)
        if source == target:
            return self.stat(dst)
        if self._link(source, target, dst):
            return self.stat(dst)
        with self._open(src) as handle:
            return self._write_atomic(dst, lambda out: shutil.copyfileobj(handle, out, CHUNK))

    def _link(self, source: Path, target: Path, dst: str) -> bool:
        """`source` linked at `target` (a temp name renamed onto it: a kill leaves the old
        object or the new one, and a partial file the sweep removes), the folder fsynced;
        False where the file system makes no hard link (another mount below the root, a share,
        FAT, too many links): the caller copies the bytes."""
        if _holds_folder(target, f"Cannot write {dst!r}"):
            raise Conflict(f"Key {dst!r} is a folder of other objects")
        with fs_errors(f"Cannot write {dst!r}"):  # the owner lock: a data folder
            tmp = target.with_name(self._temp_name(target.name))
        for attempt in (1, 2):
            try:
                make_dirs(target.parent)
                os.link(source, tmp)
                break
            except FileNotFoundError:
                if probe(source, f"Cannot write {dst!r}") is None:  # deleted meanwhile
                    raise object_missing(f"No object for {dst!r}'s copy in local storage") from None
                if attempt == 2:  # the folder pruned again by a delete beside it
                    raise StorageUnavailable(f"Cannot create folder for {dst!r}") from None
            except (FileExistsError, NotADirectoryError):
                raise Conflict(f"Key {dst!r} runs through an existing object") from None
            except OSError as exc:
                if exc.errno in _NO_LINK:
                    logger.debug("Copying %s to %s without a link: %s", source, dst, exc)
                    self._prune(target.parent)
                    return False
                raise storage_error(exc, f"Cannot write {dst!r}") from exc
        try:
            os.replace(tmp, target)
        except OSError as exc:
            self._discard(tmp)
            if isinstance(exc, IsADirectoryError):
                raise Conflict(f"Key {dst!r} is a folder of other objects") from None
            raise storage_error(exc, f"Cannot write {dst!r}") from exc
        # rename(2) between two links of one file does nothing and succeeds (POSIX): a key
        # already linked to the source (moved to another athlete and back within the old key's
        # grace) kept the temp name, a stray partial holding the bytes until a restart swept it
        self._discard(tmp)
        fsync_dir(target.parent)
        return True

    def move(self, src: str, dst: str, *, content_type: str | None = None) -> ObjectStat:
        source, target = self._file(src), self._path(dst)
        if source == target:
            return self.stat(dst)
        if _holds_folder(target, f"Cannot move {src!r} to {dst!r}"):
            raise Conflict(f"Key {dst!r} is a folder of other objects")
        try:
            make_dirs(target.parent)
            os.replace(source, target)
        except (FileExistsError, NotADirectoryError):
            raise Conflict(f"Key {dst!r} runs through an existing object") from None
        except OSError as exc:
            raise storage_error(exc, f"Cannot move {src!r} to {dst!r}") from exc
        fsync_dir(target.parent)
        fsync_dir(source.parent)
        self._prune(source.parent)
        return self.stat(dst)

    # --- health -------------------------------------------------------------------------------
    def check(self) -> None:
        root = self.root
        found = probe(root, f"Cannot reach storage folder {root}")
        if found is not None and not S_ISDIR(found.st_mode):
            raise StorageUnavailable(f"Storage folder {root} is not a folder")
        try:
            make_dirs(root)
        except OSError as exc:
            raise StorageUnavailable(f"Cannot create storage folder {root}: {exc}") from exc
        with fs_errors(f"Storage folder {root} is not writable"):  # the owner lock
            probe_file = root / self._temp_name("check")
        try:
            with open(probe_file, "xb") as out:
                out.write(b"ok")
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            if is_no_space(exc):  # not an outage that passes: /health says what to do, no path
                raise InsufficientStorage(
                    "The disk holding the storage folder is full: free some space on it",
                    reason=NO_SPACE_REASON,
                ) from exc
            raise StorageUnavailable(f"Storage folder {root} is not writable: {exc}") from exc
        finally:
            with contextlib.suppress(OSError):
                probe_file.unlink(missing_ok=True)

    def abort_stale_multipart(self, older_than_seconds: int, keep: Collection[str] = ()) -> int:
        """Removes the partial files of writers that are gone, whatever their age.

        (The age and `keep` are for the S3 backend's multipart uploads; here ownership
        decides.)
        """
        return len(self.sweep_partials())

    def sweep_partials(self, dry_run: bool = False) -> list[Path]:
        """Removes partial files (object tree, temp folder) whose writer is dead; or lists them."""
        candidates: list[Path] = []
        message = "Cannot look for partial files"
        if _holds_folder(self.root, message):
            for folder, _dirs, files in os.walk(self.root):
                candidates += [Path(folder, n) for n in files if is_temp_name(n)]
        if self.tmp_dir is not None:
            with fs_errors(message):
                candidates += partials.tmp_candidates(self.tmp_dir)
        removed = partials.sweep(self.registry, candidates, dry_run=dry_run)
        for path in [] if dry_run else removed:
            if path.is_relative_to(self.root):
                self._prune(path.parent)
        return removed


class _ReadError(OSError):
    """Wraps an OSError raised by the source stream, so it is not reported as a disk error."""

    def __init__(self, source: OSError) -> None:
        super().__init__(str(source))
        self.source = source


def _read_range(
    handle: BinaryIO, start: int, length: int, chunk_size: int, what: str
) -> Iterator[bytes]:
    with handle:
        handle.seek(start)
        while length > 0:
            try:
                chunk = handle.read(min(chunk_size, length))
            except OSError as exc:  # EIO halfway: the storage's fault, as read_error says
                raise read_error(exc, what) from exc
            if not chunk:
                return
            length -= len(chunk)
            yield chunk
