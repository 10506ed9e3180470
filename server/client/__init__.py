"""A Python client for MediaDesk servers: `Client(base_url, token).upload(path, progress=...)`.

Imports nothing of the server application and no Qt (only httpx and core's media-type rules),
so scripts can use it without the desktop app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from server.client.api import Client, ClientError, LocalCheck, Progress, UploadResult

__all__ = ["Client", "ClientError", "LocalCheck", "Progress", "UploadResult"]


def __getattr__(name: str) -> Any:  # noqa: V103 (Python calls it: PEP 562)
    # Loaded when first asked for: httpx (with rich, click and pygments) costs ~60 ms of CPU
    # that `mediadesk serve` and the server's commands, which import server.client.cli for
    # its parser types, would pay at every start
    if name in __all__:
        from server.client import api

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
