"""The committed .ts/.qm files are in sync with the desktop code and fully translated.

A string added with tr() but never run through `python -m desktop_app.i18n_update`, or a
Spanish entry left unfinished, shows English in a Spanish interface; these tests fail instead.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from desktop_app.i18n import LANGUAGES, SOURCE_LANGUAGE
from desktop_app.i18n_update import _tool, sources
from desktop_app.resources import TRANSLATIONS_DIR

ROOT = Path(__file__).resolve().parents[1]
TARGETS = sorted(set(LANGUAGES) - {SOURCE_LANGUAGE})
PLACEHOLDER = re.compile(r"%L?(?:n|\d)")

Key = tuple[str, str, str]  # context, source text, disambiguation


def _messages(ts: Path) -> dict[Key, ET.Element]:
    out = {}
    for context in ET.parse(ts).getroot().iter("context"):
        name = context.findtext("name") or ""
        for message in context.iter("message"):
            key = (name, message.findtext("source") or "", message.findtext("comment") or "")
            out[key] = message
    return out


def _texts(message: ET.Element) -> list[str]:
    translation = message.find("translation")
    assert translation is not None
    if message.get("numerus") == "yes":
        return [form.text or "" for form in translation.findall("numerusform")]
    return [translation.text or ""]


def _problem(message: ET.Element) -> str | None:
    translation = message.find("translation")
    if translation is None:
        return "no <translation>"
    if translation.get("type"):
        return f"type={translation.get('type')}"
    texts = _texts(message)
    if not texts or not all(t.strip() for t in texts):
        return "empty translation or plural form"
    return None


def _string(node: ast.expr | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _calls_in_code() -> tuple[dict[Key, tuple[str, bool]], list[str]]:
    """Every tr()/translate()/QT_*_NOOP text in the desktop sources, with whether it is plural.

    Read independently of lupdate, so a text lupdate silently skips still shows up here.
    """
    found: dict[Key, tuple[str, bool]] = {}
    unreadable: list[str] = []
    for rel in sources():
        tree = ast.parse((ROOT / rel).read_text(encoding="utf-8"))

        def visit(node: ast.AST, cls: str, rel: str = rel) -> None:
            if isinstance(node, ast.ClassDef):
                cls = node.name
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                args = list(node.args)
                context: str | None = None
                if name in ("tr", "QT_TR_NOOP"):
                    # Class.tr(...) outside the class: the receiver names the context.
                    receiver = func.value if isinstance(func, ast.Attribute) else None
                    own = isinstance(receiver, ast.Name) and receiver.id not in ("self", "cls")
                    context = receiver.id if own and isinstance(receiver, ast.Name) else cls
                elif name in ("translate", "QT_TRANSLATE_NOOP", "QT_TRANSLATE_NOOP3") and args:
                    context = _string(args.pop(0))
                if context is not None:
                    where = f"{rel}:{node.lineno}"
                    text = _string(args[0]) if args else None
                    if text is None:
                        unreadable.append(f"{where}: {ast.unparse(node)[:100]}")
                    else:
                        comment = (_string(args[1]) if len(args) > 1 else None) or ""
                        found[(context, text, comment)] = (where, len(args) > 2)
            for child in ast.iter_child_nodes(node):
                visit(child, cls)

        visit(tree, "")
    return found, unreadable


@pytest.mark.parametrize("language", TARGETS)
def test_every_entry_is_translated(language: str) -> None:
    messages = _messages(TRANSLATIONS_DIR / f"mediadesk_{language}.ts")
    assert messages
    bad = [f"{key}: {why}" for key, m in messages.items() if (why := _problem(m))]
    assert not bad, f"{len(bad)} untranslated entries in mediadesk_{language}.ts:\n" + "\n".join(
        bad
    )


@pytest.mark.parametrize("language", TARGETS)
def test_translations_keep_the_placeholders(language: str) -> None:
    """A translation that drops %1 or %Ln shows a wrong or missing value."""
    bad = []
    for key, message in _messages(TRANSLATIONS_DIR / f"mediadesk_{language}.ts").items():
        wanted = set(PLACEHOLDER.findall(key[1]))
        for text in _texts(message):
            # A plural form may spell out "one" instead of %Ln; the other placeholders must stay.
            missing = wanted - set(PLACEHOLDER.findall(text)) - {"%n", "%Ln"}
            if missing:
                bad.append(f"{key[1]!r} -> {text!r} lacks {sorted(missing)}")
    assert not bad, "\n".join(bad)


def test_source_language_plurals_are_filled() -> None:
    """English .ts holds only plural forms ("1 file" / "2 files"); each must be written."""
    messages = _messages(TRANSLATIONS_DIR / f"mediadesk_{SOURCE_LANGUAGE}.ts")
    bad = [f"{key}: {why}" for key, m in messages.items() if (why := _problem(m))]
    assert not bad, "\n".join(bad)
    assert all(m.get("numerus") == "yes" for m in messages.values())


def test_the_ts_files_hold_exactly_the_texts_of_the_code() -> None:
    in_code, unreadable = _calls_in_code()
    assert not unreadable, "tr() needs a literal text (lupdate cannot read these):\n" + "\n".join(
        unreadable
    )
    assert len(in_code) > 100  # the reader really walked the desktop sources
    for language in TARGETS:
        in_ts = _messages(TRANSLATIONS_DIR / f"mediadesk_{language}.ts")
        missing = sorted(set(in_code) - set(in_ts))
        stale = sorted(set(in_ts) - set(in_code))
        assert not missing, (
            f"texts in the code but not in mediadesk_{language}.ts (run "
            "`python -m desktop_app.i18n_update`, then translate):\n"
            + "\n".join(f"{in_code[k][0]}: {k}" for k in missing)
        )
        assert not stale, f"texts in mediadesk_{language}.ts no longer in the code: {stale}"
        not_plural = [
            f"{where}: {key}"
            for key, (where, counted) in in_code.items()
            if counted and in_ts[key].get("numerus") != "yes"
        ]
        # A QCoreApplication.translate() n that is not a literal is not seen by lupdate, and
        # Spanish then falls back to English for n > 1: use a QObject's tr() there.
        assert not not_plural, "counted texts lupdate did not record as plurals:\n" + "\n".join(
            not_plural
        )


def test_lupdate_finds_nothing_new(tmp_path: Path) -> None:
    """The repo's own refresh (i18n_update's lupdate call) on a copy changes no message."""
    lupdate = _tool("pyside6-lupdate")
    if not Path(lupdate).exists() and shutil.which(lupdate) is None:
        pytest.skip("pyside6-lupdate is not installed")
    for language in LANGUAGES:
        committed = TRANSLATIONS_DIR / f"mediadesk_{language}.ts"
        copy = tmp_path / committed.name
        shutil.copyfile(committed, copy)
        extra = ["-pluralonly"] if language == SOURCE_LANGUAGE else []
        subprocess.run(
            [lupdate, "-no-obsolete", *extra, "-source-language", SOURCE_LANGUAGE]
            + ["-target-language", language, *sources(), "-ts", str(copy)],
            cwd=ROOT,
            check=True,
            capture_output=True,
            timeout=120,
        )
        before, after = _messages(committed), _messages(copy)
        assert set(after) == set(before), (
            f"lupdate changes mediadesk_{language}.ts: added {sorted(set(after) - set(before))}"
            f", removed {sorted(set(before) - set(after))}"
        )
        bad = [f"{key}: {why}" for key, m in after.items() if (why := _problem(m))]
        assert not bad, "\n".join(bad)


def test_the_qm_files_are_the_compiled_ts(tmp_path: Path) -> None:
    """The app loads the .qm: a .ts edited without `lrelease` changes nothing on screen."""
    lrelease = _tool("pyside6-lrelease")
    if not Path(lrelease).exists() and shutil.which(lrelease) is None:
        pytest.skip("pyside6-lrelease is not installed")
    for language in LANGUAGES:
        built = tmp_path / f"mediadesk_{language}.qm"
        subprocess.run(
            [lrelease, str(TRANSLATIONS_DIR / f"mediadesk_{language}.ts"), "-qm", str(built)],
            check=True,
            capture_output=True,
            timeout=60,
        )
        committed = TRANSLATIONS_DIR / f"mediadesk_{language}.qm"
        assert built.read_bytes() == committed.read_bytes(), (
            f"{committed.name} is stale: run `python -m desktop_app.i18n_update`"
        )


def test_the_irreversible_question_counts_the_rest_in_spanish(qapp) -> None:  # type: ignore[no-untyped-def]
    """The one counted text lupdate used to miss: Spanish showed "…and 2 more"."""
    from desktop_app.i18n import install_translations
    from desktop_app.views.confirm import names_text

    names = [f"clip{i}.mp4" for i in range(8)]
    try:
        install_translations("es")
        assert names_text(names, shown=5).endswith("…y 3 más")
        assert names_text(names, shown=7).endswith("…y 1 más")
    finally:
        install_translations("en")
    assert names_text(names, shown=5).endswith("…and 3 more")


def test_plurals_survive_a_catalogue_rebuilt_while_the_window_runs(  # type: ignore[no-untyped-def]
    qapp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """lrelease (`python -m desktop_app.i18n_update`) rewrites a .qm in place; Qt had mapped the
    file, so a window started before showed "302 file(s) · 301 image(s)" for the rest of its
    session."""
    from PySide6.QtCore import QCoreApplication

    from desktop_app import i18n

    lrelease = _tool("pyside6-lrelease")
    if not Path(lrelease).exists() and shutil.which(lrelease) is None:
        pytest.skip("pyside6-lrelease is not installed")
    shutil.copy(TRANSLATIONS_DIR / "mediadesk_en.qm", tmp_path)
    monkeypatch.setattr(i18n, "TRANSLATIONS_DIR", tmp_path)

    def files(count: int) -> str:
        return QCoreApplication.translate("MainStatusBar", "%Ln file(s)", "", count)

    try:
        i18n.install_translations("en")
        assert files(302) == "302 files"
        # the catalogue compiled again, with other texts: the same file, other bytes
        subprocess.run(
            [
                lrelease,
                str(TRANSLATIONS_DIR / "mediadesk_es.ts"),
                "-qm",
                str(tmp_path / "mediadesk_en.qm"),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        assert files(302) == "302 files"
        assert files(1) == "1 file"
    finally:
        monkeypatch.undo()
        i18n.install_translations("en")
