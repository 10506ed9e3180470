"""`make run` installs only what the app needs; the PySide6 pin keeps the known-bad release out."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEV_TOOLS = ("pytest", "moto", "mypy", "schemathesis", "ruff", "flask")


def test_runtime_dependencies_hold_no_test_tools_and_skip_pyside6_6_12_0() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = [
        re.split(r"[<>=!~\[ ;]", dep, maxsplit=1)[0].lower() for dep in project["dependencies"]
    ]
    assert not [n for n in names if n.startswith(DEV_TOOLS)]
    for dep in project["dependencies"]:
        if dep.lower().startswith(("pyside6-essentials", "pyside6-addons")):
            assert "!=6.12.0" in dep.replace(" ", "")


def test_make_run_installs_the_app_without_the_dev_group() -> None:
    plan = subprocess.run(
        ["make", "-n", "-B", "run"], cwd=ROOT, capture_output=True, text=True, timeout=30
    ).stdout
    installs = [line for line in plan.splitlines() if "pip install" in line and "-e ." in line]
    assert installs and not any("--group" in line for line in installs), plan
    test_plan = subprocess.run(
        ["make", "-n", "-B", "test"], cwd=ROOT, capture_output=True, text=True, timeout=30
    ).stdout
    assert "--group dev" in test_plan


def test_an_editable_install_names_the_checkout_so_setuptools_prints_no_warning() -> None:
    """With the packages' root left implicit (a flat layout), setuptools installs `-e .`
    through an import finder and prints a "BuildBackendWarning: Editable installation ...
    be careful with folders" block on every `make run`; `package-dir` naming the checkout
    makes it the quiet .pth strategy (the condition is setuptools' `_select_strategy`)."""
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]
    assert tool["setuptools"].get("package-dir") == {"": "."}
    for package in tool["setuptools"]["packages"]["find"]["include"]:
        assert (ROOT / package.rstrip("*") / "__init__.py").is_file()  # each right under it
