"""A Python client for MediaDesk servers: `Client(base_url, token).upload(path, progress=...)`.

Imports nothing of the server application and no Qt (only httpx and core's media-type rules),
so scripts can use it without the desktop app.
"""

from server.client.api import Client, ClientError, LocalCheck, Progress, UploadResult

__all__ = ["Client", "ClientError", "LocalCheck", "Progress", "UploadResult"]
