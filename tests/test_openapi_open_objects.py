"""No object schema of the OpenAPI document is closed and empty: openapi-typescript turns a
bare `{"type": "object"}` (no properties, no additionalProperties) into Record<string, never>,
so the fields the README documents under it (File.extra.taken_at, Error.details.version, an
event's file) were `never` to a TypeScript client under --strict. Every object either lists
its properties or says it takes others; the ones clients read are typed."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from server.openapi import build_spec

ROOT = Path(__file__).resolve().parent.parent
JS_BIN = ROOT / "tests" / "js" / "node_modules" / ".bin"
COMPOSED = ("$ref", "oneOf", "anyOf", "allOf", "patternProperties")


def _closed_and_empty(node: Any, where: str = "#") -> list[str]:
    """Every schema of type object (alone or with null) with neither properties nor
    additionalProperties, nor a composition that gives it some."""
    found: list[str] = []
    if isinstance(node, dict):
        kinds = node.get("type")
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if (
            "object" in kinds
            and not node.get("properties")
            and "additionalProperties" not in node
            and not any(key in node for key in COMPOSED)
        ):
            found.append(where)
        for key, value in node.items():
            found += _closed_and_empty(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _closed_and_empty(value, f"{where}/{i}")
    return found


def test_no_object_schema_is_closed_and_empty() -> None:
    assert _closed_and_empty(build_spec()) == []


def test_the_checker_finds_a_bare_object() -> None:
    spec = {"a": {"type": "object"}, "b": {"type": ["object", "null"], "properties": {}}}
    spec["c"] = {"type": "object", "additionalProperties": True}
    assert _closed_and_empty(spec) == ["#/a", "#/b"]


# Each line compiles only while the documented field has a type other than `never`
TYPED_FIELDS = """
import type { components } from "./api";
type S = components["schemas"];
type IsNever<T> = [T] extends [never] ? true : false;
type Details = NonNullable<S["Error"]["error"]["details"]>;
type Report = NonNullable<NonNullable<S["Health"]["maintenance"]>["last_report"]>;
export const takenAt: IsNever<NonNullable<S["File"]["extra"]["taken_at"]>> = false;
export const version: IsNever<Details["version"]> = false;
export const missing: IsNever<NonNullable<Details["missing_parts"]>[number]> = false;
export const other: IsNever<Details["some_other_detail"]> = false;
export const eventName: IsNever<S["ChangeEvent"]["file"]["original_filename"]> = false;
export const eventUrls: IsNever<S["ChangeEvent"]["file"]["urls"]["self"]> = false;
export const before: IsNever<NonNullable<S["ChangeEvent"]["previous"]>["version"]> = false;
export const report: IsNever<Report["anything"]> = false;
export const selfUrl: string = ({} as S["File"])["urls"]["self"];
"""


@pytest.mark.timeout(120)
def test_documented_fields_are_typed_for_a_strict_typescript_client(tmp_path: Path) -> None:
    """The integrator's check: openapi-typescript of the document, then tsc --strict."""
    if not (JS_BIN / "openapi-typescript").exists() or not (JS_BIN / "tsc").exists():
        pytest.skip("tests/js/node_modules is not installed (npm ci in tests/js)")
    (tmp_path / "node_modules").symlink_to(ROOT / "tests" / "js" / "node_modules")
    (tmp_path / "package.json").write_text('{"type": "module"}')
    (tmp_path / "openapi.json").write_text(json.dumps(build_spec()))
    generated = subprocess.run(
        [str(JS_BIN / "openapi-typescript"), "openapi.json", "-o", "api.d.ts"],
        capture_output=True,
        text=True,
        timeout=90,
        cwd=tmp_path,
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    (tmp_path / "fields.ts").write_text(TYPED_FIELDS)
    options = {
        "target": "es2022",
        "module": "esnext",
        "moduleResolution": "bundler",
        "strict": True,
        "noEmit": True,
        "skipLibCheck": True,
        "types": [],
    }
    (tmp_path / "tsconfig.json").write_text(
        json.dumps({"compilerOptions": options, "files": ["fields.ts"]})
    )
    checked = subprocess.run(
        [str(JS_BIN / "tsc"), "-p", "tsconfig.json"],
        capture_output=True,
        text=True,
        timeout=90,
        cwd=tmp_path,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
