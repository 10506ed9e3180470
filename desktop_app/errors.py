"""Turns exceptions into readable messages in the interface language.

Core errors carry a stable `code` (refined by a `reason` and machine-readable `details`) and an
English `message` meant for developers and logs. The user reads a full translated sentence
chosen by the code, reason and details, never by the English text. The English message stays
available as the technical detail, always labelled as such: behind "Show Details…", or as a
labelled second line where it is the point (which setting, which storage failure).

A failure kept on disk (the upload queue) is kept as its code, reason and details
(`error_record`), so that it reads in the interface language of the next start too.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QCoreApplication, QLocale

from core.db.migrate import CATALOG_NEWER, UPGRADE_BLOCKED
from core.errors import (
    NO_SPACE_FOR_CHANGE,
    OBJECT_MISSING,
    SOURCE_CHANGED,
    Conflict,
    InsufficientStorage,
    MediaDeskError,
    StorageUnavailable,
    catalog_down,
    catalog_unreachable,
    is_no_space,
    no_room,
    no_space,
)
from core.mediatypes import BY_MIME
from core.metadata import MAX_PIXELS, MAX_VIDEO_SIDE
from core.paths import (
    BROKEN_LINK,
    CANNOT_READ,
    DATA_DIR_UNUSABLE,
    IS_FILE,
    SUBFOLDER_FILE,
    UNDER_FILE,
)
from core.secrets import UNSAFE
from core.settings import HOST_NOT_ADDRESS, HOST_NOT_VALID, HOST_SHORTENED
from desktop_app.formatting import number_text, path_text, size_text

logger = logging.getLogger(__name__)
MIB = 1024 * 1024

# Codes whose English detail is what the user needs to act (the setting, the storage failure).
DETAIL_MATTERS = {"invalid_setting", "storage_unavailable", "invalid_input", "corrupt_file"}


@dataclass(frozen=True)
class ErrorMessage:
    """`text`: full sentences in the interface language; `detail`: the technical cause."""

    text: str
    detail: str = ""
    detail_matters: bool = False  # shown as a second line, not only on demand
    detail_translated: bool = False  # Qt's own text, not core's English (technical_text)
    title: str = ""  # the box's title, what failed ("Changes not saved"); "" the app's name

    def display(self) -> str:
        """What a message box or a result label shows."""
        if self.detail and self.detail_matters:
            return f"{self.text}\n{self.technical()}"
        return self.text

    def full(self) -> str:
        """The text with the labelled detail (tooltips, logs)."""
        return f"{self.text}\n{self.technical()}" if self.detail else self.text

    def technical(self) -> str:
        """The detail, labelled: core's English message, or Qt's text (detail_translated)."""
        return technical_text(self.detail, self.detail_translated)

    def __str__(self) -> str:
        return self.display()


def technical_text(detail: str, translated: bool = False) -> str:
    """A technical detail (English, from core or the system) labelled as one. `translated`: a
    detail already in the interface language (Qt's own text, from its translations), whose
    label must not call it English."""
    if not detail:
        return ""
    if translated:
        label = QCoreApplication.translate(
            "Errors", "Technical detail: %1", "a detail already in the interface language"
        )
    else:
        label = QCoreApplication.translate("Errors", "Technical detail: %1")
    return label.replace("%1", detail)


def _sentences() -> dict[str, str]:
    """One sentence per core error code: what happened and, where possible, what to do."""
    return {
        "invalid_input": QCoreApplication.translate("Errors", "Some of the values are not valid."),
        "unsupported_type": QCoreApplication.translate(
            "Errors",
            "This type of file is not supported. MediaDesk accepts JPEG, PNG, WebP and GIF "
            "photos and MP4, MOV, AVI, WMV and WebM videos.",
        ),
        "type_mismatch": QCoreApplication.translate(
            "Errors",
            "The content of the file does not match its type (for example, a photo with a "
            "video's name).",
        ),
        "too_large": QCoreApplication.translate(
            "Errors", "The file is larger than the maximum file size set in Settings."
        ),
        "empty_file": QCoreApplication.translate("Errors", "The file is empty (0 bytes)."),
        "corrupt_file": QCoreApplication.translate(
            "Errors", "The file is damaged or incomplete and cannot be read."
        ),
        "not_found": QCoreApplication.translate(
            "Errors", "The file no longer exists. Someone may have deleted it."
        ),
        "conflict": QCoreApplication.translate(
            "Errors",
            "The file changed in the meantime, so the action was not done. Check it and try again.",
        ),
        "size_mismatch": QCoreApplication.translate(
            "Errors",
            "The uploaded file does not have the announced size: the upload is incomplete.",
        ),
        "upload_not_received": QCoreApplication.translate(
            "Errors", "The file has not been uploaded yet."
        ),
        "storage_unavailable": QCoreApplication.translate(
            "Errors",
            "The storage cannot be reached. Check the connection and the storage settings.",
        ),
        "insufficient_storage": QCoreApplication.translate(
            "Errors",
            "There is not enough free space to store the file. Free some space on the disk "
            "(or raise the storage quota) and try again.",
        ),
        "invalid_signature": QCoreApplication.translate("Errors", "The link is not valid."),
        "signature_expired": QCoreApplication.translate(
            "Errors", "The link has expired. Ask for a new one."
        ),
        "invalid_setting": QCoreApplication.translate("Errors", "A setting is not valid."),
        "cancelled": QCoreApplication.translate("Errors", "The operation was cancelled."),
        # resumable uploads (core/resumable.py)
        "offset_mismatch": QCoreApplication.translate(
            "Errors", "The upload and the server disagree on how much was sent. Try again."
        ),
        "upload_gone": QCoreApplication.translate(
            "Errors", "This upload expired or was refused. Start it again."
        ),
        "upload_locked": QCoreApplication.translate(
            "Errors", "This upload is being sent by someone else right now. Try again shortly."
        ),
        "checksum_mismatch": QCoreApplication.translate(
            "Errors", "Part of the file arrived damaged and was discarded. Try again."
        ),
    }


def _naming(text: str, place: str) -> str:
    """`text` with its " (%1)" naming `place`, or without the brackets when core's details
    named none (a PostgreSQL catalog's lock has no file; a move's failure keeps only codes)."""
    return text.replace("%1", place) if place else text.replace(" (%1)", "")


def _catalog_read_only(details: dict[str, Any]) -> str:
    """The catalog's folder, or its file (or -wal, -shm), cannot be written: core's details say
    which (`folder` or `path`). An outage that passes (CATALOG_OUT_REASONS): once the place can
    be written, writes work again without a restart and the upload queue, which paused its rows
    on it, goes on by itself; reads go on meanwhile."""
    file = str(details.get("path") or "")
    if file:
        return QCoreApplication.translate(
            "Errors",
            "MediaDesk cannot write its catalog file (%1): a read-only disk, or no permission "
            "to write it. Make that file writable. The library can still be browsed meanwhile; "
            "once the file can be written, changes can be saved again and queued uploads go on "
            "by themselves, without restarting MediaDesk.",
        ).replace("%1", file)
    folder = str(details.get("folder") or "")
    text = QCoreApplication.translate(
        "Errors",
        "MediaDesk cannot write in the folder that holds its catalog (%1): a read-only disk, or "
        "no permission to write there. Make the folder writable, or choose another data folder. "
        "The library can still be browsed meanwhile; once the folder can be written, changes "
        "can be saved again and queued uploads go on by themselves, without restarting "
        "MediaDesk.",
    )
    return _naming(text, folder)


def _schema_unrecorded(details: dict[str, Any]) -> str:
    """A catalog holding MediaDesk's tables whose migration record was emptied or dropped
    (core.db.migrate.Unrecorded): the start refuses it, and the storage sentence sent users to
    storage settings that were fine. Its details say only whether the tables are this
    version's; only then is the fix `mediadesk catalog record-schema`. Other tables have other
    fixes (that version's command, a backup, a catalog made new), which core's English detail
    names and the sentence points to rather than guess among them."""
    happened = QCoreApplication.translate(
        "Errors",
        "MediaDesk's catalog no longer records which version its tables are at (its "
        "alembic_version table was emptied or deleted), so MediaDesk can neither set it up nor "
        "upgrade it, and did not open it. Nothing was changed.",
    )
    if details.get("current") is True:
        fix = QCoreApplication.translate(
            "Errors",
            "Its tables are those of this version: close every MediaDesk using this catalog, "
            "then run `mediadesk catalog record-schema` (with the same --data-dir or "
            "DATABASE_URL); it checks the tables again and records their version, changing "
            "nothing else. Or restore the catalog from a backup.",
        )
    else:
        fix = QCoreApplication.translate(
            "Errors",
            "Its tables are not those of this version: the technical detail below says what "
            "can be done with them.",
        )
    return f"{happened} {fix}"


def setting_value_message(exc: MediaDeskError) -> str | None:
    """A setting given a value of the wrong kind ("abc" for a port): which setting and the kind
    it takes, from core's details (`setting`, `expected`: settings._coerce); None for other
    errors, whose English detail is shown labelled."""
    details = exc.details or {}
    setting, expected = details.get("setting"), details.get("expected")
    if exc.code != "invalid_setting" or not isinstance(setting, str) or expected is None:
        return None
    kinds = {
        "int": QCoreApplication.translate("Errors", "a whole number"),
        "bool": QCoreApplication.translate(
            "Errors", "yes or no: 1, true, yes or on; 0, false, no or off"
        ),
        "tuple[str, ...]": QCoreApplication.translate("Errors", "a comma-separated list"),
    }
    kind = kinds.get(str(expected))
    if kind is None:
        return QCoreApplication.translate(
            "Errors", "The setting %1 has a value MediaDesk cannot read."
        ).replace("%1", setting)
    return (
        QCoreApplication.translate(
            "Errors", "The setting %1 has a value MediaDesk cannot read: it must be %2."
        )
        .replace("%1", setting)
        .replace("%2", kind)
    )


# The name of the file a duplicate refusal names (details.duplicate_of), looked up by the
# desktop off the GUI thread (`with_duplicate_name`): core's refusal carries only its id
DUPLICATE_NAME = "duplicate_of_name"


def with_duplicate_name(exc: BaseException, name_of: Callable[[int], str]) -> BaseException:
    """A duplicate refusal with the other file's name added (`name_of(id)`, a catalog read:
    call it in a worker); any other error, or a name not found, as it was."""
    if not (isinstance(exc, Conflict) and exc.reason == "duplicate"):
        return exc
    other = exc.details.get("duplicate_of")
    if not isinstance(other, int) or DUPLICATE_NAME in exc.details:
        return exc
    try:
        name = name_of(other)
    except (MediaDeskError, OSError):
        return exc  # gone meanwhile, or the catalog out: the number still says which
    named = type(exc)(exc.message, details={**exc.details, DUPLICATE_NAME: name}, reason=exc.reason)
    named.__cause__ = exc
    return named


def _known_message(exc: MediaDeskError) -> str | None:
    """A precise sentence for the errors the desktop app meets every day, chosen by the
    machine-readable `reason` and `details` core attaches (never by matching English text)."""
    reason = exc.reason
    if reason == "stale_version" and isinstance(exc.details.get("athlete_id"), int):
        # an athlete's rename (core.catalog.stale_athlete): the file sentence sent the user
        # looking for a file, and the name now is what the user needs to decide
        return QCoreApplication.translate(
            "Errors",
            "Someone else renamed this athlete to “%1” while you were renaming it, so your "
            "name was not saved.",
        ).replace("%1", str(exc.details.get("name") or ""))
    if reason == "stale_version":
        return QCoreApplication.translate(
            "Errors",
            "Someone else changed this file while you were editing it, so your changes were "
            "not saved. Check the current values and save again.",
        )
    if exc.code == "invalid_setting" and reason == UNSAFE:
        return _unsafe_secret(exc.details or {})
    if exc.code == "invalid_setting" and reason == HOST_NOT_VALID:
        return _host_not_valid(exc.details or {})
    if (value := setting_value_message(exc)) is not None:
        return value
    if exc.code == "conflict" and reason == "athlete_exists":
        # two names cannot be the same (another desktop may have just added it): said as the
        # file sentence, it sent the user looking for a file that never changed
        name = str(exc.details.get("name") or "")
        return QCoreApplication.translate(
            "Errors", "An athlete named “%1” already exists. Choose another name."
        ).replace("%1", name)
    if exc.code == "conflict" and reason == "duplicate":
        return _duplicate(exc.details or {})
    if exc.code == "conflict" and reason == SOURCE_CHANGED:
        # an upload in parts started over once already (core's send_file): what writes to the
        # file is still at it
        if exc.details.get("how") == "grew":
            return QCoreApplication.translate(
                "Errors",
                "The file grew while it was uploading, again after the upload started over: it "
                "is still being recorded or copied. Upload it again once it is complete.",
            )
        return QCoreApplication.translate(
            "Errors",
            "The file changed while it was uploading, again after the upload started over: a "
            "program is still writing to it. Upload it again once it is no longer changing.",
        )
    if exc.code == "storage_unavailable" and reason == "bucket_missing":
        # a fault of the set-up, not an outage nor a missing file: waiting does not help
        return QCoreApplication.translate(
            "Errors",
            "The storage bucket does not exist: it was deleted, or its name is wrong in the "
            "storage settings. Check the bucket name in Settings ▸ Storage.",
        )
    if exc.code == "storage_unavailable" and reason == "object_damaged":
        # the bytes themselves are wrong: neither a retry nor the storage settings help
        return QCoreApplication.translate(
            "Errors",
            "The stored copy of this file is damaged: it is not the size or the content the "
            "catalog records (a bad restore or a disk fault). Restore the file from a backup.",
        )
    if exc.code == "storage_unavailable" and reason == "storage_not_configured":
        # lasting until a restart with the settings of the storage the files were moved to
        return QCoreApplication.translate(
            "Errors",
            "This file is on a storage MediaDesk was started without (its files were moved "
            "there from another window or computer). Close MediaDesk and start it again with "
            "that storage's settings: save them once with `mediadesk storage migrate "
            "--save-keys`, or in Settings ▸ Storage.",
        )
    if exc.code == "storage_unavailable" and reason == "storage_throttled":
        # 503 SlowDown, 429: the store is reached and the set-up is right; "check the
        # connection and the storage settings" sent users to settings that were fine
        return QCoreApplication.translate(
            "Errors",
            "The storage is busy and asks for fewer requests right now. It serves again by "
            "itself: the connection and the storage settings are fine.",
        )
    if exc.code == "storage_unavailable" and reason == "storage_server_error":
        return QCoreApplication.translate(
            "Errors",
            "The storage service is failing right now (an error on its side, not in "
            "MediaDesk's storage settings). It usually serves again by itself.",
        )
    if exc.code == "storage_unavailable" and reason == "catalog_unreachable":
        # the database, not the bucket: the storage's sentence sent users to settings that
        # were right. An outage that passes (CATALOG_OUT_REASONS), as catalog_read_only's
        return QCoreApplication.translate(
            "Errors",
            "MediaDesk cannot reach its catalog (the database): its server is stopped or "
            "restarting, or the network to it is down. Check the database server and the "
            "network, not the storage settings. Once the catalog answers again, changes can be "
            "saved again and queued uploads go on by themselves, without restarting MediaDesk.",
        )
    if exc.code == "storage_unavailable" and reason == "catalog_refused":
        # a set-up fault: waiting does not help, only the catalog's settings do
        return QCoreApplication.translate(
            "Errors",
            "The database server of MediaDesk's catalog refused its sign-in: a wrong password, "
            "user or database name in DATABASE_URL, or a password changed on that server. "
            "Waiting does not help: correct DATABASE_URL or ask the database's administrator. "
            "Once the sign-in is right, MediaDesk works again without a restart.",
        )
    if exc.code == "storage_unavailable" and reason == "catalog_read_only":
        return _catalog_read_only(exc.details or {})
    if exc.code == "storage_unavailable" and reason == "catalog_busy":
        # a lock another program holds: neither the storage settings nor a restart help, and
        # it passes once that program lets go (CATALOG_OUT_REASONS, as catalog_unreachable's)
        path = str(exc.details.get("path") or "")
        text = QCoreApplication.translate(
            "Errors",
            "Another program is holding MediaDesk's catalog locked (%1): a database browser or "
            "backup tool left open, a script, or another MediaDesk busy on the same data "
            "folder. Close it or wait for it to finish; changes can then be saved again and "
            "queued uploads go on by themselves, without restarting MediaDesk.",
        )
        return _naming(text, path)
    if exc.code == "storage_unavailable" and reason == "catalog_disk_unreachable":
        # an outage that passes once the disk is back (the catalog's connections are opened
        # again), not "something unexpected" with SQLite's "disk I/O error"
        # (a storage move's failure keeps the code and reason only: core's MigrationFailure)
        folder = str(exc.details.get("folder") or "")
        text = QCoreApplication.translate(
            "Errors",
            "The disk holding the library (%1) cannot be read or written: it was unplugged, or "
            "the network share is gone. Connect it again, then try again.",
        )
        return _naming(text, folder)
    if exc.code == "storage_unavailable" and reason == "storage_read_only":
        # the local folder refuses the write itself: "the storage cannot be reached, check the
        # connection" sent a user of a folder on this machine looking at the network
        path = str(exc.details.get("path") or "")
        text = QCoreApplication.translate(
            "Errors",
            "MediaDesk may not write in its storage folder (%1): the disk is read-only "
            "(remounted after a disk error, or a memory card's lock switch) or MediaDesk lost "
            "the permission to write there. Make it writable, then try again; the library can "
            "still be browsed meanwhile.",
        )
        return _naming(text, path)
    if exc.code == "storage_unavailable" and reason == "catalog_damaged":
        # a restore of a copy cut short: "the storage cannot be reached" sent the user to the
        # connection and the storage settings, and no waiting or setting mends the file
        return QCoreApplication.translate(
            "Errors",
            "MediaDesk's catalog file is damaged (a copy that did not finish, a restore cut "
            "short). Put a whole copy of it back from a backup, then start MediaDesk again.",
        )
    if exc.code == "storage_unavailable" and reason == "catalog_not_a_file":
        return QCoreApplication.translate(
            "Errors",
            "There is a folder where MediaDesk's catalog file should be. Move that folder "
            "away, or choose another data folder.",
        )
    if exc.code == "storage_unavailable" and reason == "catalog_schema_unrecorded":
        return _schema_unrecorded(exc.details or {})
    if exc.code == "not_found" and reason == OBJECT_MISSING:
        # a storage move's, an export's, a preview's (download_failure reads the server's
        # reason): the catalog still lists the file, its bytes are gone; "Someone may have
        # deleted it" sent the user to look for a deletion that never happened
        return QCoreApplication.translate(
            "Errors",
            "The stored copy of this file is missing, though the catalog still lists it "
            "(deleted outside MediaDesk, or a bad restore). Restore it from a backup; "
            "`mediadesk maintenance` lists such files.",
        )
    if exc.code == "checksum_mismatch" and reason == "copy_mismatch":
        # a storage move's copy, read back from the target: not an upload's part
        return QCoreApplication.translate(
            "Errors",
            "The copy at the new storage did not match the original, so the file stayed where "
            "it is. Running the move again retries it.",
        )
    if exc.code == "insufficient_storage" and exc.message == NO_SPACE_FOR_CHANGE:
        # a full disk met saving a change (as_change, or a server's 507 for one): "to store
        # the file" sent the user who moved a file to the trash looking for an upload
        return QCoreApplication.translate(
            "Errors",
            "There is not enough free space to save the change. Free some space on the disk "
            "(or raise the storage quota) and try again.",
        )
    if exc.code == "storage_unavailable" and reason == CATALOG_NEWER:
        # a start after going back to an older version: "check the connection and the storage
        # settings" sent the club to its network and bucket
        return QCoreApplication.translate(
            "Errors",
            "A newer version of MediaDesk has upgraded this library, and this version cannot "
            "open it. Start the newer version (or a later one). Nothing was changed.",
        )
    if exc.code == "storage_unavailable" and reason == UPGRADE_BLOCKED:
        running = exc.details.get("processes")
        names = ", ".join(str(p) for p in running) if isinstance(running, list) else ""
        text = QCoreApplication.translate(
            "Errors",
            "This version of MediaDesk must upgrade the library first, but other MediaDesk "
            "programs are using it (%1). Close them (on every computer sharing it), then start "
            "MediaDesk again. Nothing was changed.",
        )
        return _naming(text, names)
    if exc.code == "catalog_upgraded":
        # not an outage: waiting does not help, only running the newer version does
        return QCoreApplication.translate(
            "Errors",
            "A newer version of MediaDesk upgraded this library while this window was open. "
            "Nothing more can be changed here: close MediaDesk and start the newer version. "
            "You can still browse and play files.",
        )
    if reason == "migration_running":
        return QCoreApplication.translate(
            "Errors",
            "Another move of this library's files to a new storage is running (in another "
            "window, or on another computer sharing the catalog). Try again once it has "
            "finished.",
        )
    if reason == "already_trashed":
        return QCoreApplication.translate("Errors", "The file is already in the trash.")
    if reason == "not_trashed":
        return QCoreApplication.translate("Errors", "The file is not in the trash.")
    if reason == "being_deleted":
        return QCoreApplication.translate(
            "Errors",
            "The file is being deleted for good (the trash is being emptied, perhaps on "
            "another computer) and can no longer be restored.",
        )
    if exc.code == "corrupt_file" and reason == "image_too_large":
        return _too_many_pixels(exc.details)
    if exc.code == "corrupt_file" and reason == "animation_too_long":
        return _animation_too_long(exc.details)
    if exc.code == "corrupt_file" and reason == "video_too_large":
        width, height = exc.details.get("width"), exc.details.get("height")
        side = exc.details.get("max_side")  # core.metadata.MAX_VIDEO_SIDE, as the server says
        return (
            QCoreApplication.translate(
                "Errors",
                "The video's picture (%1 × %2) is larger than MediaDesk takes: at most "
                "8192 × 4352 pixels (8K), and %3 on a side.",
            )
            .replace("%1", str(width) if isinstance(width, int) else "?")
            .replace("%2", str(height) if isinstance(height, int) else "?")
            .replace("%3", str(side if isinstance(side, int) else MAX_VIDEO_SIDE))
        )
    if exc.code == "corrupt_file" and reason == "image_damaged":
        return QCoreApplication.translate(
            "Errors", "The image is damaged or cut short: it cannot be read whole."
        )
    if exc.code == "too_large":
        limit = exc.details.get("max_size")
        if isinstance(limit, int):
            return QCoreApplication.translate(
                "Errors",
                "The file is larger than the limit of %1. You can raise the limit in "
                "Settings ▸ Limits.",
            ).replace("%1", _limit_text(limit))
    if exc.code == "unsupported_type" and reason == "not_allowed":
        content_type = exc.details.get("content_type")
        setting = exc.details.get("setting")
        if isinstance(content_type, str) and isinstance(setting, str):
            return (
                QCoreApplication.translate(
                    "Errors",
                    "This library does not accept %1 files: the setting %2 leaves them out.",
                )
                .replace("%1", content_type)
                .replace("%2", setting)
            )
    if exc.code == "unsupported_type" and reason == "unknown_content":
        # Nothing recognised in it (a text file, a document): "This type of file (unknown
        # content)" read like a damaged file; it is simply not a photo or video we take
        accepted = _type_names(exc.details.get("allowed"))
        if accepted:
            return QCoreApplication.translate(
                "Errors",
                "This file is not an image or video of a type MediaDesk accepts. This library "
                "accepts %1 files.",
            ).replace("%1", accepted)
        return QCoreApplication.translate(
            "Errors",
            "This file is not an image or video of a type MediaDesk accepts: JPEG, PNG, WebP "
            "and GIF photos and MP4, MOV, AVI, WMV and WebM videos.",
        )
    if exc.code == "unsupported_type":
        # Named by its extension, else its MIME type: the same in every language, where
        # `found` is libmagic's English description
        extension, mime = exc.details.get("found_extension"), exc.details.get("found_mime")
        what = extension.upper() if isinstance(extension, str) else mime
        if isinstance(what, str):
            accepted = _type_names(exc.details.get("allowed"))
            if accepted:  # what this library accepts (its ALLOWED_* settings)
                return (
                    QCoreApplication.translate(
                        "Errors",
                        "This type of file (%1) is not supported. This library accepts %2 files.",
                    )
                    .replace("%1", what)
                    .replace("%2", accepted)
                )
            return QCoreApplication.translate(
                "Errors",
                "This type of file (%1) is not supported. MediaDesk accepts JPEG, PNG, WebP and "
                "GIF photos and MP4, MOV, AVI, WMV and WebM videos.",
            ).replace("%1", what)
    if reason == "empty_filename":
        return QCoreApplication.translate("Errors", "The file name cannot be empty.")
    if reason == "description_too_long":
        return QCoreApplication.translate(
            "Errors", "The description is too long (at most 10,000 characters)."
        )
    if reason == "token_name_length":
        return QCoreApplication.translate(
            "Errors", "A token name needs 1 to 100 visible characters."
        )
    return None


# How the accepted types are named to people (their stored extensions, as users know them)
_TYPE_NAMES = {"jpg": "JPEG", "webp": "WebP", "webm": "WebM", "ts": "MPEG-TS"}


def _too_many_pixels(details: dict[str, object]) -> str:
    """A photo refused before decoding (core.metadata.too_many_pixels), its size when known."""
    limit, width, height = details.get("max_pixels"), details.get("width"), details.get("height")
    megapixels = str((limit if isinstance(limit, int) else MAX_PIXELS) // 1_000_000)
    if isinstance(width, int) and isinstance(height, int):
        return (
            QCoreApplication.translate(
                "Errors", "The image is larger than %1 megapixels (%2 × %3) and cannot be opened."
            )
            .replace("%1", megapixels)
            .replace("%2", str(width))
            .replace("%3", str(height))
        )
    return QCoreApplication.translate(
        "Errors", "The image is larger than %1 megapixels and cannot be opened."
    ).replace("%1", megapixels)


def _animation_too_long(details: dict[str, object]) -> str:
    """An animation of more frames than its canvas allows (core.images.refuse_over_budget)."""
    frames, width, height = details.get("frames"), details.get("width"), details.get("height")
    limit = details.get("max_frame_pixels")
    if not (
        isinstance(frames, int)
        and isinstance(width, int)
        and isinstance(height, int)
        and isinstance(limit, int)
        and width * height > 0
    ):
        return QCoreApplication.translate(
            "Errors", "The animation has more frames than MediaDesk checks at its size."
        )
    return (
        QCoreApplication.translate(
            "Errors",
            "The animation has %1 frames of %2 × %3 pixels: more than MediaDesk checks (at "
            "most %4 frames of this size).",
        )
        .replace("%1", number_text(frames))
        .replace("%2", str(width))
        .replace("%3", str(height))
        .replace("%4", number_text(limit // (width * height)))
    )


def _type_names(allowed: object) -> str:
    """ "JPEG, PNG, MP4" for core's details.allowed (MIME types); "" when there are none."""
    if not isinstance(allowed, list):
        return ""
    names = []
    for mime in allowed:
        media = BY_MIME.get(str(mime))
        if media is not None:
            names.append(_TYPE_NAMES.get(media.ext, media.ext.upper()))
    return ", ".join(names)


def _limit_text(limit: int) -> str:
    """In MiB when whole, as the settings dialog shows the limit; else like other sizes."""
    if limit % MIB == 0:
        return f"{QLocale().toString(limit // MIB)} MiB"
    return size_text(limit)


def _duplicate(details: dict[str, Any]) -> str:
    """An edit refused by the duplicate rule (core.library's _refuse_duplicate): nobody changed
    the file meanwhile, as the generic conflict sentence would have it. The other file by its
    name (the grid shows names, never numbers: the number alone sent the user hunting for it
    by its id) and its number; for no athlete (core's details.athlete_id None) said so, where
    "for this athlete" named an athlete nobody had chosen."""
    other, holder = details.get("duplicate_of"), details.get(DUPLICATE_NAME)
    nobody = "athlete_id" in details and details["athlete_id"] is None
    if not isinstance(other, int):
        if nobody:
            return QCoreApplication.translate(
                "Errors",
                "Another file without an athlete already holds the same photo or video with "
                "this visibility: nothing was changed.",
            )
        return QCoreApplication.translate(
            "Errors",
            "Another file already holds the same photo or video for this athlete with "
            "this visibility: nothing was changed.",
        )
    if not isinstance(holder, str) or not holder:
        if nobody:
            text = QCoreApplication.translate(
                "Errors",
                "Another file without an athlete already holds the same photo or video with "
                "this visibility (file %1): nothing was changed.",
            )
        else:
            text = QCoreApplication.translate(
                "Errors",
                "Another file already holds the same photo or video for this athlete with this "
                "visibility (file %1): nothing was changed.",
            )
        return text.replace("%1", str(other))
    if nobody:
        text = QCoreApplication.translate(
            "Errors",
            "Another file without an athlete already holds the same photo or video with this "
            "visibility, “%2” (file %1): nothing was changed.",
        )
    else:
        text = QCoreApplication.translate(
            "Errors",
            "Another file already holds the same photo or video for this athlete with this "
            "visibility, “%2” (file %1): nothing was changed.",
        )
    return text.replace("%1", str(other)).replace("%2", holder)


def _host_not_valid(details: dict[str, Any]) -> str:
    """A host the server cannot listen on as written (core.settings' HOST_NOT_VALID), typed
    in the Server panel or Settings: "A setting is not valid" named neither the field nor what
    it takes, and only core's English detail named a MEDIADESK_HOST the user never set."""
    host, problem = str(details.get("host") or ""), details.get("problem")
    reads_as = str(details.get("reads_as") or "")
    if problem == HOST_SHORTENED and reads_as:
        text = QCoreApplication.translate(
            "Errors",
            "“%1” is not a valid address: it is an IP address with numbers left out, which "
            "would be read as %2. Write it in full, like 127.0.0.1, or enter a host name.",
        ).replace("%2", reads_as)
    elif problem == HOST_SHORTENED:
        text = QCoreApplication.translate(
            "Errors",
            "“%1” is not a valid address: it is an IP address with numbers left out. Write it "
            "in full, like 127.0.0.1, or enter a host name.",
        )
    elif problem == HOST_NOT_ADDRESS:
        text = QCoreApplication.translate(
            "Errors",
            "“%1” is not a valid address: an IP address is four numbers from 0 to 255, like "
            "127.0.0.1. Enter one like that, or a host name.",
        )
    else:
        text = QCoreApplication.translate(
            "Errors",
            "“%1” is not a valid address: enter an IP address like 127.0.0.1, or a host name "
            "(letters, digits and hyphens, in parts of 1 to 63 characters separated by dots).",
        )
    return text.replace("%1", host)


# getaddrinfo's failures (socket.gaierror, errno negative): no such name, and no answer now
_NAME_UNKNOWN = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}
_LOOKUP_FAILED = {socket.EAI_AGAIN, socket.EAI_FAIL}


def listen_host_message(exc: BaseException, host: str) -> ErrorMessage | None:
    """Why the server cannot listen on `host` when the name could not be looked up (a
    socket.gaierror), naming it: "A file or network operation failed" left "Name or service
    not known" to the English tooltip. None for any other failure."""
    if not isinstance(exc, socket.gaierror) or exc.errno not in _NAME_UNKNOWN | _LOOKUP_FAILED:
        return None
    if exc.errno in _NAME_UNKNOWN:
        text = QCoreApplication.translate(
            "Errors",
            "No computer named “%1” can be found. Check how it is written, or enter an IP "
            "address such as 127.0.0.1 (this computer only) or 0.0.0.0 (the network).",
        )
    else:
        text = QCoreApplication.translate(
            "Errors",
            "The name “%1” could not be looked up: the network's name server does not answer. "
            "Check the connection, or enter an IP address such as 127.0.0.1 (this computer "
            "only) or 0.0.0.0 (the network).",
        )
    return ErrorMessage(text.replace("%1", host), exc.strerror or str(exc))


def _os_error(exc: OSError) -> ErrorMessage:
    if isinstance(exc, socket.gaierror) and exc.errno in _NAME_UNKNOWN | _LOOKUP_FAILED:
        # (no host to name here: `listen_host_message` names it where it is known)
        return ErrorMessage(
            QCoreApplication.translate(
                "Errors",
                "A computer's name could not be found. Check how it is written and the "
                "network connection.",
            ),
            exc.strerror or str(exc),
        )
    cause = exc.strerror or str(exc) or type(exc).__name__
    where = path_text(exc.filename) if exc.filename else ""
    detail = f"{cause} ({where})" if where else cause
    if exc.errno == errno.EADDRINUSE:
        return ErrorMessage(
            QCoreApplication.translate(
                "Errors", "The port is already used by another program. Choose another port."
            ),
            detail,
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return ErrorMessage(
            QCoreApplication.translate("Errors", "This computer has no network address like that."),
            detail,
        )
    if isinstance(exc, PermissionError):
        text = (
            QCoreApplication.translate("Errors", "MediaDesk is not allowed to use %1.").replace(
                "%1", where
            )
            if where
            else QCoreApplication.translate("Errors", "MediaDesk is not allowed to do this.")
        )
        return ErrorMessage(text, cause)
    if isinstance(exc, FileNotFoundError):
        text = (
            QCoreApplication.translate("Errors", "%1 does not exist.").replace("%1", where)
            if where
            else QCoreApplication.translate("Errors", "The file or folder does not exist.")
        )
        return ErrorMessage(text, cause)
    if isinstance(exc, TimeoutError):
        return ErrorMessage(
            QCoreApplication.translate("Errors", "The operation took too long and was stopped."),
            detail,
        )
    return ErrorMessage(
        QCoreApplication.translate("Errors", "A file or network operation failed."),
        detail,
        detail_matters=True,
    )


def _skip_sentences() -> dict[str, str]:
    """One sentence per core.jobs.SKIP_REASONS code: why a video job did not apply."""
    return {
        "audio_only": QCoreApplication.translate("Errors", "The file has no picture (sound only)."),
        "no_picture_size": QCoreApplication.translate("Errors", "The video has no picture size."),
        "not_mp4_or_mov": QCoreApplication.translate(
            "Errors", "Only MP4 and MOV files need a fast-start copy."
        ),
        "already_fast_start": QCoreApplication.translate(
            "Errors", "The original already starts playing at once."
        ),
        "no_video_frames": QCoreApplication.translate(
            "Errors", "No picture of the video could be read."
        ),
        "already_web_ready": QCoreApplication.translate(
            "Errors", "The original already plays in browsers."
        ),
    }


def _failure_sentences() -> dict[str, str]:
    """One sentence per core.jobs.FAILURE_REASONS code: why a video job failed."""
    return {
        "undecodable_media": QCoreApplication.translate(
            "Errors",
            "The video cannot be decoded: the file is damaged, cut short or in a format "
            "MediaDesk cannot read.",
        ),
        "encoder_failed": QCoreApplication.translate(
            "Errors", "The video converter (FFmpeg) failed while making this version."
        ),
        "original_missing": QCoreApplication.translate(
            "Errors", "The original file is missing from the storage."
        ),
        "storage_unavailable": QCoreApplication.translate(
            "Errors",
            "The storage could not be read or written. Check that it is connected, then retry.",
        ),
        "insufficient_storage": QCoreApplication.translate(
            "Errors", "There is not enough free disk space. Free some space, then retry."
        ),
        "interrupted": QCoreApplication.translate(
            "Errors",
            "The processing stopped before finishing every time it was tried (the program "
            "doing it stopped or stopped responding). Retry it.",
        ),
        "internal": QCoreApplication.translate(
            "Errors", "Something went wrong inside MediaDesk. The details are in the log file."
        ),
    }


def job_reason(job: Any) -> ErrorMessage:
    """Why a video job was skipped or failed, in the user's language: the sentence of its
    reason code (core.jobs.JobRecord.reason), with core's English message as the technical
    detail of a failure; a failure recorded before the codes reads as that message, labelled."""
    reason = getattr(job, "reason", None) or ""
    error = getattr(job, "error", None) or ""
    sentence = _skip_sentences().get(reason)
    if sentence is not None:
        return ErrorMessage(sentence)
    sentence = _failure_sentences().get(reason)
    if sentence is not None:
        return ErrorMessage(sentence, error)
    return ErrorMessage(technical_text(error))


def job_reason_text(job: Any) -> str:
    return job_reason(job).text


def _data_dir_cause(details: dict[str, Any]) -> str:
    """Why the data folder cannot be used, by core's cause code (core/paths.py)."""
    folder = str(details.get("folder") or details.get("path") or "")
    cause = details.get("cause")
    if cause == IS_FILE:
        return QCoreApplication.translate("Errors", "it is a file, not a folder")
    if cause == UNDER_FILE:
        return QCoreApplication.translate("Errors", "it is inside %1, which is a file").replace(
            "%1", folder
        )
    if cause == SUBFOLDER_FILE:
        return QCoreApplication.translate("Errors", "%1 is a file, not a folder").replace(
            "%1", folder
        )
    if cause == BROKEN_LINK:
        return (
            QCoreApplication.translate("Errors", "%1 is a link to %2, which does not exist")
            .replace("%1", folder)
            .replace("%2", str(details.get("target") or ""))
        )
    if cause == CANNOT_READ:
        # the folder exists: "not allowed to create" it was wrong, and the fix is whose it is
        return (
            QCoreApplication.translate(
                "Errors",
                "the user %1 may not read it: run MediaDesk as %2, who owns %3, or give %1 "
                "access to it",
            )
            .replace("%1", _who(details, "user"))
            .replace("%2", _who(details, "owner"))
            .replace("%3", folder)
        )
    code = details.get("errno")
    if code in ("EACCES", "EPERM"):
        text = QCoreApplication.translate("Errors", "MediaDesk is not allowed to create %1")
    elif code == "EROFS":
        text = QCoreApplication.translate("Errors", "%1 is on a read-only disk")
    elif code == "ENOSPC":
        text = QCoreApplication.translate("Errors", "the disk of %1 is full")
    else:
        text = QCoreApplication.translate("Errors", "%1 cannot be created")
    return text.replace("%1", folder)


def _who(details: dict[str, Any], role: str) -> str:
    """A user core's details name ("owner", "user"): the system's name, else its number."""
    if name := details.get(role):
        return str(name)
    uid = details.get(f"{role}_uid")
    if uid is None:
        return "?"
    if role == "user":  # the sentence says "the user %1" itself
        return str(uid)
    return QCoreApplication.translate("Errors", "user id %1").replace("%1", str(uid))


def _unsafe_secret(details: dict[str, Any]) -> str:
    """A key in the data folder's secrets/ that someone else could have put or changed there
    (core.secrets.check_private): which one, and the fix `mediadesk doctor` names too. Core
    gives the file's name only, never its local path (the detail has it)."""
    name = str(details.get("name") or "")
    if "owner" in details:
        text = QCoreApplication.translate(
            "Errors",
            "The secret “%1” in the data folder's secrets folder belongs to another user, so it "
            "may have been planted. Give it back to the user MediaDesk runs as (chown) and "
            "restrict it (chmod 600 for a file, 700 for the secrets folder), or remove it: a "
            "new key is made, and links signed with the old one stop working.",
        )
    else:
        text = QCoreApplication.translate(
            "Errors",
            "The secret “%1” in the data folder's secrets folder can be changed by other users, "
            "so it may have been replaced. Check it, then restrict it (chmod 600 for a file, "
            "700 for the secrets folder), or remove it.",
        )
    return text.replace("%1", name)


def data_dir_message(exc: MediaDeskError, *, chosen: bool = False) -> ErrorMessage:
    """A data folder that cannot be used (core's reason data_dir_unusable): which folder, why,
    and where its value is set, so the user knows what to change. `chosen`: the folder was
    just entered in Settings, not yet saved anywhere. The technical detail is only the system's
    own words for a failed mkdir: core's English sentence says no more than this one."""
    details = exc.details or {}
    sentence = (
        QCoreApplication.translate("Errors", "The data folder %1 cannot be used: %2.")
        .replace("%1", str(details.get("path") or ""))
        .replace("%2", _data_dir_cause(details))
    )
    source = "chosen" if chosen else details.get("source")
    where = {
        "chosen": QCoreApplication.translate("Errors", "Choose another folder."),
        "file": QCoreApplication.translate(
            "Errors", "It is set as data_dir in the settings file %1: correct or remove that line."
        ).replace("%1", str(details.get("settings_file") or "")),
        "env": QCoreApplication.translate(
            "Errors", "It is set by the environment variable MEDIADESK_DATA_DIR."
        ),
        "flag": QCoreApplication.translate("Errors", "It was given with --data-dir."),
    }.get(
        str(source or ""),
        QCoreApplication.translate(
            "Errors",
            "It is the default folder of your user account: choose another one with "
            "MEDIADESK_DATA_DIR or --data-dir.",
        ),
    )
    return ErrorMessage(f"{sentence} {where}", str(details.get("error") or ""))


def describe_error(exc: BaseException) -> ErrorMessage:
    """The translated sentence and the technical detail of an exception."""
    if isinstance(exc, MediaDeskError) and exc.reason == DATA_DIR_UNUSABLE:
        return data_dir_message(exc)
    if isinstance(exc, MediaDeskError):
        known = _known_message(exc)
        if known is not None:
            detail = "" if exc.code == "too_large" else exc.message
            # a storage failure's detail names the bucket and the endpoint to check
            return ErrorMessage(known, detail, exc.code == "storage_unavailable")
        sentence = _sentences().get(exc.code)
        if sentence is None:
            return ErrorMessage(
                QCoreApplication.translate("Errors", "Something went wrong."),
                exc.message,
                detail_matters=True,
            )
        return ErrorMessage(sentence, exc.message, exc.code in DETAIL_MATTERS)
    if is_no_space(exc):
        # SQLite's "database or disk is full" reaches here as it is (the server translates it
        # at its edge to 507): a full disk, said as one, not "something unexpected" with a
        # traceback per file of an import
        full = describe_error(no_space())
        return ErrorMessage(full.text, str(exc), full.detail_matters)
    if isinstance(exc, OSError):
        return _os_error(exc)
    if catalog_unreachable(exc):
        # the database driver's own error of a dropped or refused connection, unwrapped: the
        # same passing outage as core's catalog_down(), not "something unexpected"
        down = describe_error(catalog_down())
        return ErrorMessage(down.text, str(exc), down.detail_matters)
    logger.error("Unexpected error", exc_info=exc)
    return ErrorMessage(
        QCoreApplication.translate(
            "Errors", "Something unexpected went wrong. The details are in the log file."
        ),
        str(exc) or type(exc).__name__,
        detail_matters=True,
    )


def as_change(exc: BaseException) -> BaseException:
    """A full disk met while saving a change (a move to or from the trash, a restore, an edit,
    a deletion, an athlete's name, a job asked for) said as one, as the server's 507 says it
    (server.errors._for_request): core's no_space() names "the file" wherever it is met. Any
    other error as it was. Not for what saves a file's bytes (an upload, an export)."""
    if not no_room(exc) or (
        isinstance(exc, InsufficientStorage) and exc.message == NO_SPACE_FOR_CHANGE
    ):
        return exc
    change = InsufficientStorage(NO_SPACE_FOR_CHANGE)
    change.__cause__ = exc
    return change


def retry_in(exc: BaseException) -> int | None:
    """The seconds a failure says to wait before trying again, when it carries them
    (StorageUnavailable.retry_after: a store throttling or failing inside, with its own
    Retry-After or the quiet window core keeps; a store or catalog found out of reach a moment
    ago); None when it says nothing."""
    return exc.retry_after if isinstance(exc, StorageUnavailable) else None


def describe_failure(exc: BaseException) -> ErrorMessage:
    """`describe_error`, with when to try again for a failure that says it (`retry_in`): what
    the user is told of an action that failed (a passing outage). Not for work that goes on by
    itself (an upload row waiting), whose line would tell the user to do what it does."""
    message = describe_error(exc)
    seconds = retry_in(exc)
    if seconds is None:
        return message
    wait = QCoreApplication.translate("Errors", "Try again in %1 s.").replace(
        "%1", number_text(seconds)
    )
    return dataclasses.replace(message, text=f"{message.text} {wait}")


def error_text(exc: BaseException) -> str:
    """The sentence, with the technical detail as a second line where it is the point."""
    return describe_error(exc).display()


# ---- failures kept on disk ----------------------------------------------------------------------
def _error_classes() -> dict[str, type[MediaDeskError]]:
    found: dict[str, type[MediaDeskError]] = {}
    todo: list[type[MediaDeskError]] = [MediaDeskError]
    while todo:
        cls = todo.pop()
        found.setdefault(cls.code, cls)
        todo.extend(cls.__subclasses__())
    return found


def error_record(exc: BaseException) -> dict[str, Any] | None:
    """What a failure is made of, as JSON: enough for `describe_error` to say it again in
    another language. None for errors that are neither core's nor the system's."""
    if isinstance(exc, MediaDeskError):
        try:
            details = json.loads(json.dumps(exc.details, default=str))
        except (TypeError, ValueError):
            details = {}
        return {"code": exc.code, "reason": exc.reason, "details": details, "message": exc.message}
    if isinstance(exc, OSError):
        return {
            "errno": exc.errno,
            "strerror": exc.strerror or str(exc),
            "filename": None if exc.filename is None else str(exc.filename),
        }
    return None


def error_from_record(record: dict[str, Any] | None) -> BaseException | None:
    """The failure `error_record` kept (None when the record is not one)."""
    if not isinstance(record, dict):
        return None
    if isinstance(record.get("code"), str):
        code = record["code"]
        cls = _error_classes().get(code, MediaDeskError)
        details = record.get("details")
        reason = record.get("reason")
        exc = cls(
            str(record.get("message") or ""),
            details=details if isinstance(details, dict) else None,
            reason=reason if isinstance(reason, str) else None,
        )
        if exc.code != code:
            exc.code = code  # a code this version does not know: the generic sentence
        return exc
    if "errno" in record:
        number, text = record.get("errno"), str(record.get("strerror") or "")
        if not isinstance(number, int):
            return OSError(text)
        filename = record.get("filename")
        return OSError(number, text, filename) if filename else OSError(number, text)
    return None


def server_error(body: bytes) -> MediaDeskError | None:
    """The error our server's JSON answer carries (`{"error": {code, reason, details,
    message}}`), None for any other body (a proxy's page, a signed storage URL's XML)."""
    try:
        answer = json.loads(body or b"null")
    except ValueError:
        return None
    found = error_from_record(answer.get("error")) if isinstance(answer, dict) else None
    return found if isinstance(found, MediaDeskError) else None


def download_failure(
    status: int, unreachable: bool, detail: str, body: bytes = b""
) -> ErrorMessage:
    """Why a download the app made itself (a photo's preview) failed, in the user's language.
    Qt's own text quotes the URL, whose access_token the user could copy: `detail` is that text
    with its secrets hidden, kept as the technical detail only. Qt has it in the interface
    language already (its qtbase translations), so its label does not call it English. `body`:
    the answer's own bytes; our server's JSON error is said as a video's preview says it
    (describe_error): a 404 `object_missing` is the stored copy missing, not a file someone
    deleted. Another 404 reads as the missing file; a code with no sentence of its own (a 401)
    as its status number."""
    said = server_error(body) if status else None
    if said is not None and (_known_message(said) is not None or said.code in _sentences()):
        text = describe_error(said).text
    elif status == 404:
        text = _sentences()["not_found"]
    elif unreachable:
        text = QCoreApplication.translate(
            "Errors",
            "The server cannot be reached. Check that it is running and that this computer "
            "is connected, then try again.",
        )
    elif status:
        text = QCoreApplication.translate(
            "Errors", "The file could not be downloaded: the server answered with error %1."
        ).replace("%1", str(status))
    else:
        text = QCoreApplication.translate("Errors", "The file could not be downloaded.")
    return ErrorMessage(text, detail, detail_translated=True)
