"""Settings: validating a form, testing the storage connection in a worker, saving, restarts."""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from core import shared_settings, storage_migration
from core.errors import Cancelled, MediaDeskError
from core.library import Library
from core.paths import DATA_DIR_UNUSABLE
from core.settings import Settings, pinned_settings, save_settings
from core.storage.factory import build_backend
from desktop_app.errors import (
    ErrorMessage,
    data_dir_message,
    describe_error,
    error_text,
    technical_text,
)
from desktop_app.workers import TaskRunner

logger = logging.getLogger(__name__)

STORAGE_FIELDS = (
    "data_dir",
    "r2_endpoint_url",
    "r2_bucket_name",
    "r2_access_key_id",
    "r2_secret_access_key",
    "r2_region",
    "r2_public_domain",
    "storage_backend",
)
RESTART_FIELDS = (*STORAGE_FIELDS, "language")


def restart_kinds(fields: Iterable[str]) -> tuple[bool, bool]:
    """Whether these changed fields need a restart for the storage, and for the language: the
    notices name only what changed ("the storage and language changes" for the storage alone
    read as if the language had changed too)."""
    names = set(fields)
    return bool(names & set(STORAGE_FIELDS)), "language" in names


LIVE_FIELDS = (
    "max_file_size",
    "upload_rate_limit",
    "presigned_url_expiry",
    "trash_retention_days",
    "audit_retention_days",
    "resumable_threshold",
    "allowed_image_types",
    "allowed_video_types",
)


def check_storage(settings: Settings) -> Settings:
    """Connects to the configured storage and writes or HEADs once; raises on any failure."""
    # Built by core's factory, the one place that knows how a backend is made from settings.
    build_backend(settings, "r2" if settings.uses_r2 else "local").check()
    return settings


@dataclass(frozen=True)
class MoveFailure:
    """A file a storage move left where it was: core's MigrationFailure with the file's name."""

    file_id: int
    name: str  # "" when the file left the catalog meanwhile
    code: str
    reason: str | None
    error: str  # core's English sentence: the technical detail


@dataclass(frozen=True)
class MoveOutcome:
    """How a storage move ended, finished or stopped (`cancelled`), made in the worker."""

    target: str
    moved: int
    skipped: int
    failed: tuple[MoveFailure, ...]
    cancelled: bool = False
    left: int | None = None  # files not moved when it stopped; None: stopped before counting

    @property
    def complete(self) -> bool:
        return not self.failed and not self.skipped and not self.cancelled


def _outcome(
    library: Library,
    report: storage_migration.MigrationReport,
    cancelled: bool = False,
    stopped_of: int | None = None,
) -> MoveOutcome:
    """Worker side: the report with the failed files' names (read here, off the GUI thread).
    `stopped_of`: the run was stopped, with this many files to move (None: stopped before its
    first file was counted, or not stopped)."""
    failed = []
    for failure in report.failed:
        try:
            name = library.get_file(failure.file_id).original_filename
        except MediaDeskError:
            name = ""
        failed.append(
            MoveFailure(failure.file_id, name, failure.code, failure.reason, failure.error)
        )
    return MoveOutcome(
        report.target,
        report.moved,
        report.skipped,
        tuple(failed),
        cancelled=cancelled,
        left=None if stopped_of is None else stopped_of - report.moved,
    )


def changed_fields(old: Settings, new: Settings) -> set[str]:
    return {
        name
        for name, value in new.to_toml_dict(include_secrets=True).items()
        if old.to_toml_dict(include_secrets=True).get(name) != value
    }


class SettingsController(QObject):
    """`testFinished(ok, text)` reports the connection test; `saved` the written file.

    Both the test and the writing of the settings file run in a worker. The signals are the
    window's and every Settings window's: while one is emitted for a request, `answering` is
    that request's number (0: none), so only the Settings window that asked reacts. Every
    window reacting, a plain Save in a later window made earlier ones ask about a storage
    switch again with their stale counts, and one whose answer had been "move" moved again.
    """

    testFinished = Signal(bool, str)
    saved = Signal(object, object)  # Settings, set of changed field names
    saveFailed = Signal(object)  # ErrorMessage
    switchCounted = Signal(str, str, int)  # old backend, new backend, files to decide about
    migrationProgress = Signal(int, int, str)  # files done, total, current file name
    # then, at the end: old copies still waiting for their deletion, seconds until the last
    migrationRemoving = Signal(int, int)
    migrationFinished = Signal(bool, int, int, str)  # complete, moved, failed, error text
    # just before migrationFinished of a run that returned, or was stopped: its MoveOutcome
    migrationReported = Signal(object)
    keptChanged = Signal(object)  # the pair of backends `kept` names now, or None

    def __init__(self, settings: Settings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.runner = TaskRunner(max_threads=1, parent=self)
        self.migration_runner = TaskRunner(max_threads=1, parent=self)
        self.library: Library | None = None  # set by the main window: counts and migration
        self.migrating = False
        # the settings and the backend of the move under way (`destination`), None once it ended
        self._moving_to: tuple[Settings, str] | None = None
        self._cancel: threading.Event | None = None
        self.saved_path: Path | None = None
        self.answering = 0
        self._requests = itertools.count(1)
        # (old backend, new backend) whose old files the user chose to keep reading where they
        # are: a Save keeping that storage asks no more about them (the window-state file
        # keeps it, a UI preference), until the storage changes again or a move is asked for
        self.kept: tuple[str, str] | None = None

    def new_request(self) -> int:
        return next(self._requests)

    def _answer(self, request: int, signal: Any, *args: Any) -> None:
        self.answering = request
        try:
            signal.emit(*args)
        finally:
            self.answering = 0

    def catch_up(self) -> None:
        """Takes the runtime settings another process of this data folder saved (the library
        re-read them, core/shared_settings.py), so the dialog shows them and a save keeps them."""
        library = self.library
        if library is None:
            return
        fresh = {n: getattr(library.settings, n) for n in shared_settings.RUNTIME}
        if any(getattr(self.settings, n) != v for n, v in fresh.items()):
            self.settings = self.settings.replace(**fresh)

    def build(self, values: dict[str, Any]) -> Settings:
        """The settings with the form's values; SettingsError names a bad one."""
        # strict even when the app opened without its R2 keys: the form must not save R2
        # without them (the storage bar sends the user here to enter them)
        return self.settings.replace(allow_incomplete_storage=False, **values)

    def test_connection(self, values: dict[str, Any], request: int = 0) -> None:
        done = self.testFinished
        try:
            candidate = self.build(values)
        except Exception as exc:  # noqa: BLE001 - reported like a failed test
            self._answer(request, done, False, error_text(exc))
            return
        self.runner.submit(
            check_storage,
            candidate,
            on_result=lambda checked: self._answer(
                request,
                done,
                True,
                self.tr("Connection works: %1").replace("%1", self.describe(checked)),
            ),
            on_error=lambda exc: self._answer(request, done, False, self.test_failure_text(exc)),
        )

    def test_failure_text(self, exc: BaseException) -> str:
        """One sentence per cause the storage can tell apart (core's `reason`), else the
        general error text; the technical cause follows on its own line."""
        texts = {
            "endpoint_unreachable": self.tr(
                "The endpoint cannot be reached. Check the endpoint URL and the network."
            ),
            "endpoint_refused": self.tr(
                "The endpoint refused the request. Check the endpoint URL and the region."
            ),
            "bad_credentials": self.tr("The access key ID or the secret access key is wrong."),
            "no_permission": self.tr(
                "The keys are valid but may not use this bucket. Check their permissions."
            ),
            "access_denied": self.tr(
                "Access denied. Check the keys and their permissions on this bucket."
            ),
            "bucket_missing": self.tr(
                "The server answered, but the bucket does not exist. Check the bucket name."
            ),
        }
        text = texts.get(str(getattr(exc, "reason", "") or ""))
        if text is None:
            return error_text(exc)
        return f"{text}\n{technical_text(getattr(exc, 'message', str(exc)))}"

    def describe(self, settings: Settings, backend: str | None = None) -> str:
        """Where the files are kept (`backend`'s place, by default the one new files go to), in
        the interface language."""
        if (backend or settings.backend_name) == "r2":
            return (
                self.tr("R2 bucket %1 at %2")
                .replace("%1", settings.r2_bucket_name)
                .replace("%2", settings.r2_endpoint_url)
            )
        return self.tr("local folder %1").replace("%1", str(settings.paths.objects_dir))

    def restart_needed(self, values: dict[str, Any]) -> list[str]:
        current = self.settings.to_toml_dict(include_secrets=True)
        # a restart applies nothing to a setting the environment (or --data-dir) gives: it wins
        pinned = pinned_settings(self.settings)
        return [
            name
            for name in RESTART_FIELDS
            if name in values
            and name not in pinned
            and _normal(values[name]) != _normal(current.get(name))
        ]

    def save(self, values: dict[str, Any], request: int = 0) -> None:
        """Validates now, writes the settings file in a worker; `saved` or `saveFailed` follows."""
        try:
            new = self.build(values)
        except Exception as exc:  # noqa: BLE001 - SettingsError names the bad value
            self._answer(request, self.saveFailed, describe_error(exc))
            return
        self.runner.submit(
            self._write,
            new,
            on_result=lambda path: self._saved(new, path, request),
            on_error=lambda exc: self._answer(request, self.saveFailed, save_failure(exc)),
        )

    def _write(self, new: Settings) -> Path:
        """In the worker: the file, then a `settings` event through the change feed, so the
        server and workers sharing this data folder re-read it (core/shared_settings.py).

        Another data folder is first made ready as the next start will (DataPaths.ensure):
        one that cannot be made was saved, and MediaDesk then no longer started until
        settings.toml was edited by hand."""
        if new.paths.data_dir != self.settings.paths.data_dir:
            new.paths.ensure()
        path = save_settings(new)
        library = self.library
        if library is not None:
            shared_settings.announce(library)
        return path

    def _saved(self, new: Settings, path: Path, request: int = 0) -> None:
        changes = changed_fields(self.settings, new)
        self.settings = new
        self.saved_path = path
        self._answer(request, self.saved, new, changes)

    # ---- switching storage ----------------------------------------------------------------------
    def remember_kept(self, pair: tuple[str, str] | None) -> None:
        if pair != self.kept:
            self.kept = pair
            self.keptChanged.emit(pair)

    def files_to_switch(
        self, values: dict[str, Any], request: int = 0, ask_kept: bool = False
    ) -> None:
        """`switchCounted(from, to, files)`: how many files live on a backend the form leaves,
        or, when the form keeps the backend, how many are still on another one (a move that
        was stopped or left files behind, files kept where they were): saving the same choice
        again offers to move them, as the README and a stopped move's report say it does.

        Emitted with files = 0 when nothing is elsewhere, when the backend is kept while a
        move to it runs, when no library is attached, or when the user chose to keep reading
        the files left where they are (`kept`) unless `ask_kept` (Move the old files…).
        """
        counted = self.switchCounted
        try:
            new = self.build(values)
        except Exception:  # noqa: BLE001 - save() reports it
            self._answer(request, counted, "", "", 0)
            return
        old, target = self.settings.backend_name, new.backend_name
        library = self.library
        if library is None or (old == target and self.migrating):  # it is moving them already
            self._answer(request, counted, old, target, 0)
            return

        def answer(counts: dict[str, int]) -> None:
            elsewhere = {name: n for name, n in counts.items() if name != target and n}
            source = old
            if old == target and elsewhere:  # the files left behind: where most of them are
                source = max(elsewhere, key=elsewhere.__getitem__)
                if self.kept == (source, target) and not ask_kept:
                    elsewhere = {}  # asked and answered: keep them there
            self._answer(request, counted, source, target, sum(elsewhere.values()))

        self.runner.submit(
            library.backends.counts_by_backend,  # what a move would take, not every row
            on_result=answer,
            on_error=lambda exc: self._answer(request, self.saveFailed, describe_error(exc)),
        )

    def start_migration(self, target: str) -> None:
        """Moves every file to `target` in the background (progress, cancel, resumable)."""
        library = self.library
        if library is None or self.migrating:
            return
        self._cancel = threading.Event()
        settings, cancel = self.settings, self._cancel

        def run(report: Callable[..., None]) -> MoveOutcome:
            total: int | None = None

            def step(done: storage_migration.MigrationStep) -> None:
                nonlocal total
                total = done.total
                report(done)

            storage = build_backend(settings, target)
            try:
                result = library.backends.migrate(target, storage, step, cancel)
            except Cancelled as exc:
                # Stop: the files moved before it are done, and said so, not "cancelled"
                stopped = exc.details.get("report")
                if not isinstance(stopped, storage_migration.MigrationReport):
                    raise
                return _outcome(library, stopped, cancelled=True, stopped_of=total)
            return _outcome(library, result)

        self.migrating = True
        self._moving_to = (settings, target)
        self.migration_runner.submit(
            run,
            on_report=self._migration_step,
            on_result=self._migrated,
            on_error=self._migration_failed,
        )

    def _migration_step(self, step: storage_migration.MigrationStep) -> None:
        if step.removing:
            self.migrationRemoving.emit(step.removing, step.seconds_left)
        else:
            self.migrationProgress.emit(step.done, step.total, step.name)

    def destination(self) -> str:
        """Where the move under way takes the files (`describe`), "" when none runs."""
        if self._moving_to is None:
            return ""
        return self.describe(*self._moving_to)

    def cancel_migration(self) -> None:
        if self._cancel is not None:
            self._cancel.set()

    def _migrated(self, outcome: MoveOutcome) -> None:
        self.migrating, self._moving_to = False, None
        self.migrationReported.emit(outcome)
        self.migrationFinished.emit(outcome.complete, outcome.moved, len(outcome.failed), "")

    def _migration_failed(self, exc: BaseException) -> None:
        self.migrating, self._moving_to = False, None
        self.migrationFinished.emit(False, 0, 0, error_text(exc))


def save_failure(exc: BaseException) -> ErrorMessage:
    """Why a save failed; a data folder that cannot be used is the one just entered."""
    if isinstance(exc, MediaDeskError) and exc.reason == DATA_DIR_UNUSABLE:
        return data_dir_message(exc, chosen=True)
    return describe_error(exc)


def _normal(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
