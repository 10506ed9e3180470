"""`python -m desktop_app.i18n_update`: refreshes the .ts sources from the code and compiles .qm."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from pathlib import Path

from desktop_app.i18n import LANGUAGES, SOURCE_LANGUAGE
from desktop_app.resources import TRANSLATIONS_DIR

logger = logging.getLogger(__name__)
PACKAGE = Path(__file__).resolve().parent
SKIP = {"screenshots.py", "sample_media.py", "i18n_update.py"}


def _tool(name: str) -> str:
    local = Path(sys.executable).with_name(name)
    return str(local) if local.exists() else (shutil.which(name) or name)


def sources() -> list[str]:
    return sorted(
        str(p.relative_to(PACKAGE.parent)) for p in PACKAGE.rglob("*.py") if p.name not in SKIP
    )


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    root = PACKAGE.parent
    files = sources()
    targets = []
    for language in LANGUAGES:
        ts = TRANSLATIONS_DIR / f"mediadesk_{language}.ts"
        extra = ["-pluralonly"] if language == SOURCE_LANGUAGE else []
        subprocess.run(
            [
                _tool("pyside6-lupdate"),
                "-no-obsolete",
                *extra,
                "-source-language",
                SOURCE_LANGUAGE,
                "-target-language",
                language,
                *files,
                "-ts",
                str(ts),
            ],
            cwd=root,
            check=True,
        )
        targets.append(str(ts))
    subprocess.run([_tool("pyside6-lrelease"), *targets], cwd=root, check=True)
    logger.info("Updated %s", ", ".join(targets))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
