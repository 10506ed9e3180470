"""mediadesk.js in Node.js: what it cannot do there it says before sending anything.

An integrator's report: in Node (fetch, no XMLHttpRequest) uploadFile asked for a presigned
URL, which left a pending file on the server, then failed with a bare ReferenceError where its
PUT made an XMLHttpRequest, not the MediaDeskError every failure is promised as. The module
now checks what a function needs before its first request and rejects with a MediaDeskError
(`unsupported_environment`, `details.missing`, status null). Real Node, the real module file,
the real server over loopback.
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
import { readFileSync } from "node:fs";
const md = await import(MODULE);
const [base, token, photo] = process.argv.slice(1);
const said = (err) => ({
  mediadesk: err instanceof md.MediaDeskError, name: err?.name, code: err?.code ?? null,
  status: err?.status ?? null, details: err?.details ?? null, fileId: err?.fileId ?? null,
  message: String(err?.message),
});
const out = { xhr: typeof XMLHttpRequest };
const file = new File([readFileSync(photo)], "node.jpg", { type: "image/jpeg" });
try {
  await md.uploadFile(file, { baseUrl: base, token, athleteId: 3 });
  out.upload = "resolved";
} catch (err) {
  out.upload = said(err);
}
try {
  await md.resumeUpload(file, 1, { baseUrl: base, token });
  out.resume = "resolved";
} catch (err) {
  out.resume = said(err);
}
// a runtime without fetch either: the read helpers say so the same way
delete globalThis.fetch;
try {
  await md.playbackUrl(1, { baseUrl: base, token });
  out.playback = "resolved";
} catch (err) {
  out.playback = said(err);
}
console.log(JSON.stringify(out));
"""


def run_node(base: str, token: str, photo: Path) -> dict[str, Any]:
    node = shutil.which("node")
    assert node is not None
    script = SCRIPT.replace("MODULE", json.dumps(MODULE))
    run = subprocess.run(
        [node, "--input-type=module", "-e", script, base, token, str(photo)],
        capture_output=True,
        text=True,
        timeout=45,
    )
    assert run.returncode == 0, run.stderr
    return dict(json.loads(run.stdout.strip().splitlines()[-1]))


def test_upload_in_node_rejects_before_any_request(
    live: EmbeddedServer, library: Library, media_dir: Any
) -> None:
    tokens = make_tokens(library)
    out = run_node(live.url, tokens.upload, Path(media_dir.jpeg))
    assert out["xhr"] == "undefined"  # the environment the report is about
    for name, missing in (
        ("upload", ["XMLHttpRequest"]),
        ("resume", ["XMLHttpRequest"]),
        ("playback", ["fetch"]),
    ):
        err = out[name]
        assert err != "resolved", name
        assert err["mediadesk"] and err["name"] == "MediaDeskError", err
        assert err["code"] == "unsupported_environment" and err["status"] is None, err
        assert err["details"] == {"missing": missing}, err
        assert err["fileId"] is None and "nothing was sent" in err["message"], err
    # no upload was begun: no pending file left behind, nothing stored
    assert library.list_files(status=None).total == 0
    assert library.list_files(status=None, trashed=True).total == 0
