"""MediaDesk's version: one rule for `mediadesk --version`, /health, OpenAPI and the About box."""

from __future__ import annotations

import functools
import tomllib
from importlib import metadata
from pathlib import Path

PACKAGE = "mediadesk"
# A checkout's project file: the version's one home (README's release steps bump it there)
_CHECKOUT_PROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
# Neither a checkout nor an installed package: no number to tell
DEVELOPMENT = "(development)"


@functools.cache
def version() -> str:
    """The checkout's pyproject.toml, else the installed package's metadata. An editable
    install's metadata keeps the number it was installed with until it is installed again,
    while the code it runs is the checkout's; a second number written in the code (the
    OpenAPI document said "0.1.0" whatever pyproject.toml said) went stale the same way."""
    try:
        project = tomllib.loads(_CHECKOUT_PROJECT.read_text(encoding="utf-8")).get("project", {})
    except (OSError, UnicodeError, tomllib.TOMLDecodeError):
        project = {}  # an installed package: no pyproject.toml beside it
    if project.get("name") == PACKAGE and isinstance(project.get("version"), str):
        return str(project["version"])
    try:
        return metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        return DEVELOPMENT
