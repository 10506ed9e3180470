"""mediadesk.js's URL helpers refuse a missing file id as shareUrl does, with a TypeError.

An integrator's report: `streamUrl(undefined)` answered ".../stream/undefined/video" and
`watchUrl(null)` ".../watch/null" (a typo'd variable, a record without its id), URLs that failed
only later, at the server, as a 404; `shareUrl(id)` threw a clear TypeError. streamUrl,
watchUrl, playbackUrl, shareUrl and resumeUpload now check the id (or the record's `file_id` /
`id`) before building anything. Real Node, the real module file, the real server over loopback
(so a helper that sent its request anyway would meet the server's 404, not a TypeError).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from core.library import Library
from server.entry import EmbeddedServer
from tests.server_fixtures import make_tokens

pytestmark = [
    pytest.mark.skipif(shutil.which("node") is None, reason="node not installed"),
    pytest.mark.timeout(60),
]

MODULE = (Path(__file__).parent.parent / "server" / "static" / "mediadesk.js").as_uri()

SCRIPT = """
const md = await import(MODULE);
const [base, token] = process.argv.slice(1);
const opts = { baseUrl: base, token };
const file = new File([new Uint8Array(8)], "x.jpg", { type: "image/jpeg" });
const helpers = {
  streamUrl: (id) => md.streamUrl(id, opts),
  watchUrl: (id) => md.watchUrl(id, opts),
  playbackUrl: (id) => md.playbackUrl(id, opts),
  shareUrl: (id) => md.shareUrl(id, opts),
  resumeUpload: (id) => md.resumeUpload(file, id, opts),
};
// resumeUpload needs XMLHttpRequest, which Node lacks: a stand-in that is never reached
globalThis.XMLHttpRequest = function () { throw new Error("XMLHttpRequest used"); };
const said = async (call) => {
  try {
    return { value: await call() };
  } catch (err) {
    return { type: err?.constructor?.name, code: err?.code ?? null, message: String(err?.message) };
  }
};
const bad = {
  undefined: undefined, null: null, empty: "", nan: NaN, zero: 0, word: "abc",
  record_without_id: { file_type: "video", is_public: true },
  record_null_id: { id: null, file_type: "image", is_public: false },
};
const out = { refused: {}, kept: {} };
for (const [helper, call] of Object.entries(helpers)) {
  for (const [label, id] of Object.entries(bad)) {
    out.refused[`${helper} ${label}`] = await said(() => call(id));
  }
}
for (const id of [7, "7", { id: 7, file_type: "video" }, { file_id: 7, file_type: "video" }]) {
  const at = { baseUrl: base };
  out.kept[JSON.stringify(id)] = [md.streamUrl(id, at), md.watchUrl(id, at)];
}
console.log(JSON.stringify(out));
"""


def run_node(base: str, token: str) -> dict[str, Any]:
    node = shutil.which("node")
    assert node is not None
    script = SCRIPT.replace("MODULE", json.dumps(MODULE))
    run = subprocess.run(
        [node, "--input-type=module", "-e", script, base, token],
        capture_output=True,
        text=True,
        timeout=45,
    )
    assert run.returncode == 0, run.stderr
    return dict(json.loads(run.stdout.strip().splitlines()[-1]))


def test_every_url_helper_refuses_a_missing_id_with_a_type_error(
    live: EmbeddedServer, library: Library
) -> None:
    out = run_node(live.url, make_tokens(library).upload)
    for case, answer in out["refused"].items():
        helper = case.split()[0]
        assert answer.get("type") == "TypeError", (case, answer)
        if case.startswith("shareUrl") and "record" not in case:
            continue  # shareUrl's own refusal of what is not a record, as before
        assert answer["message"].startswith(
            f"{helper} needs a file id or the file as the server answered it, not "
        ), (case, answer)
    said = out["refused"]
    assert said["streamUrl undefined"]["message"].endswith(", not undefined")
    assert said["watchUrl word"]["message"].endswith(', not "abc"')
    assert said["playbackUrl record_null_id"]["message"].endswith(", not a file with id null")
    for id_, (stream, watch) in out["kept"].items():
        assert stream == f"{live.url}/stream/7/video", id_
        assert watch == f"{live.url}/watch/7", id_
