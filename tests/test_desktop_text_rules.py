"""Static rule: a tooltip never shows user text as Qt markup.

Qt renders a tooltip that looks like markup as rich text, and file, token and athlete names and
descriptions are set by anyone with a token: `<h1><font color=red>URGENT…` would be big and
red in a staff member's tooltip. So every `setToolTip(...)` in desktop_app is given a string
literal, a `tr(...)`/`self.tr(...)` text, or `tip_text(...)` (desktop_app.formatting, the one
home for user text in a tooltip); `a if c else b` when both sides are. Anything else is listed
in ALLOWED with why it cannot hold user text. A `tr(...).replace("%1", x)` is not a tr text: x
may be a name, so it goes through tip_text or is listed.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "desktop_app"

# (file, the argument as ast.unparse writes it): why it holds no user text
ALLOWED: dict[tuple[str, str], str] = {
    (
        "desktop_app/views/server_panel.py",
        "self.tr('revoked %1').replace('%1', datetime_text(token.revoked_at))",
    ): "a date and time formatted by the app",
    (
        "desktop_app/views/jobs_dock.py",
        "self.tr('File id: %1').replace('%1', str(job.file_id))",
    ): "an integer id",
    (
        "desktop_app/views/details_panel.py",
        "self.tr('Copy %1').replace('%1', title)",
    ): "title: the field's translated label",
    (
        "desktop_app/views/main_window.py",
        "tip or self.commands.copy_link.text().replace('&', '')",
    ): "tip: a tr text or empty; else the action's own translated label",
    ("desktop_app/views/main_window.py", "tip"): "a tr text or empty (_update_link_tip)",
    (
        "desktop_app/views/settings_dialog.py",
        "media.mime",
    ): "a MIME type MediaDesk validates (core's constants)",
    (
        "desktop_app/views/status_bar.py",
        "whole",
    ): "translated counts and a size (CountsLabel.set_texts, from set_counts)",
    (
        "desktop_app/preview/dialog.py",
        "f'{text} ({shortcut})'",
    ): "the action's translated label and its key sequence",
    (
        "desktop_app/preview/image_viewer.py",
        "f'{text} ({shown})'",
    ): "the action's translated label and its key sequence",
    (
        "desktop_app/preview/player_controls.py",
        "tip",
    ): "_button's tip: every caller passes a self.tr text",
}


def _is_safe(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.IfExp):
        return _is_safe(node.body) and _is_safe(node.orelse)
    if isinstance(node, ast.Call):
        func = node.func
        name = func.id if isinstance(func, ast.Name) else None
        if isinstance(func, ast.Attribute):
            name = func.attr if func.attr == "tr" else None
        return name in ("tr", "tip_text")
    return False


def tooltip_problems(source: str, where: str) -> list[tuple[str, str, int]]:
    """(file, argument, line) of each setToolTip whose argument is not a known-safe text."""
    problems = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "setToolTip"
            and node.args
            and not _is_safe(node.args[0])
        ):
            problems.append((where, ast.unparse(node.args[0]), node.lineno))
    return problems


def _all_problems() -> list[tuple[str, str, int]]:
    return [
        problem
        for path in sorted(APP.rglob("*.py"))
        for problem in tooltip_problems(
            path.read_text(encoding="utf-8"), path.relative_to(ROOT).as_posix()
        )
    ]


def test_tooltips_get_literal_translated_or_tip_text() -> None:
    offenders = [
        f"{where}:{line}: setToolTip({arg})"
        for where, arg, line in _all_problems()
        if (where, arg) not in ALLOWED
    ]
    assert not offenders, f"user text may reach a tooltip as markup; use tip_text: {offenders}"


def test_every_allowed_exception_is_still_there() -> None:
    found = {(where, arg) for where, arg, _line in _all_problems()}
    assert not set(ALLOWED) - found, f"stale entries in ALLOWED: {set(ALLOWED) - found}"


def test_the_rule_catches_user_text_in_a_tooltip() -> None:
    bad = (
        "item.setToolTip(item.text())\n"
        "self.state.setToolTip(message.full())\n"
        "x.setToolTip(self.tr('Token %1').replace('%1', token.name))\n"
        "x.setToolTip(f'{name}')\n"
        "x.setToolTip(tip_text(name) if name else name)\n"
    )
    assert [line for _w, _a, line in tooltip_problems(bad, "bad.py")] == [1, 2, 3, 4, 5]
    good = (
        "x.setToolTip('')\n"
        "x.setToolTip(self.tr('Volume'))\n"
        "x.setToolTip(tr('Volume'))\n"
        "x.setToolTip(tip_text(name))\n"
        "x.setToolTip(self.tr('a') if on else tip_text(name))\n"
    )
    assert tooltip_problems(good, "good.py") == []
