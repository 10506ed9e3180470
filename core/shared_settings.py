"""Settings changes reach the other processes of a data folder through the change feed.

Settings live in one file per data folder (settings.toml, with the environment over it), not in
the catalog: on PostgreSQL every machine keeps its own. Processes that share a data folder
(the app, `mediadesk serve`, `mediadesk worker` on one machine) share that file, so when the
app saves it, it announces a `settings` event through the feed; every process that hears it
(any origin but the announcer) re-reads its own settings file the way it did at start-up and
applies the RUNTIME fields that changed. A process with another data folder re-reads an
unchanged file: nothing happens. Fields outside RUNTIME (storage, catalog, addresses, public
URL, workers, language) need a restart, as in the app's Settings dialog.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from core.events import ChangeEvent, EventKind
from core.settings import Settings, load_settings

if TYPE_CHECKING:
    from core.library import Library

logger = logging.getLogger(__name__)

KIND = EventKind.SETTINGS

RUNTIME = (
    "max_file_size",
    "allowed_image_types",
    "allowed_video_types",
    "presigned_url_expiry",
    "trash_retention_days",
    "audit_retention_days",
    "tus_expiry",
    "storage_warn_bytes",
)
"""Read by a running server, worker or app at each use: a new value works at once."""


def announce(lib: Library) -> None:
    """Tells every process of the catalog that this settings file changed (after saving it)."""
    lib.events.publish(ChangeEvent(KIND, None, data={"settings_file": lib.settings.config_file}))


def load_again(current: Settings) -> Settings:
    """This process's settings read again from the same file, folder and environment the way
    they were at start-up (what another process saved since included)."""
    overrides: dict[str, Any] = {"data_dir": current.data_dir} if current.data_dir else {}
    if current.allow_incomplete_storage:  # an app opened without its R2 keys still follows
        overrides["allow_incomplete_storage"] = True
    return load_settings(os.environ, config_file=current.config_file or None, **overrides)


def reread(lib: Library) -> dict[str, Any]:
    """Loads this process's settings file again; applies and returns the RUNTIME changes."""
    current = lib.settings
    fresh = load_again(current)
    changes = {n: getattr(fresh, n) for n in RUNTIME if getattr(fresh, n) != getattr(current, n)}
    if changes:
        lib.apply_settings(**changes)
        logger.info("Settings changed elsewhere: %s", ", ".join(sorted(changes)))
    return changes


def follow(lib: Library) -> Callable[[], None]:
    """Re-reads the settings on every other process's `settings` event; returns unsubscribe."""
    own = lib.feed.origin

    def on_event(event: ChangeEvent) -> None:
        if event.kind != KIND or event.origin == own:
            return
        try:
            reread(lib)
        except Exception:  # a half-edited or invalid file: keep the settings in use
            logger.exception("Could not re-read the settings after a change elsewhere")

    return lib.events.subscribe(on_event)
