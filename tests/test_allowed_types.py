"""ALLOWED_IMAGE_TYPES / ALLOWED_VIDEO_TYPES: checked at start-up, refused as early as known."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.errors import SettingsError
from core.library import Library
from core.settings import load_settings, save_settings
from server.client import Client, ClientError
from server.entry import EmbeddedServer
from tests.conftest import make_settings
from tests.server_fixtures import bearer, http_call, make_tokens, multipart_body, server_config

pytestmark = pytest.mark.timeout(90)
ROOT = Path(__file__).resolve().parents[1]


def test_env_lists_take_the_seed_names_and_store_standard_ones(tmp_path: Path) -> None:
    env = {"ALLOWED_VIDEO_TYPES": "video/mp4, video/mov,video/wmv", "ALLOWED_IMAGE_TYPES": ""}
    s = load_settings(environ=env, config_file=tmp_path / "none.toml", data_dir=str(tmp_path))
    assert s.allowed_video_types == ("video/mp4", "video/quicktime", "video/x-ms-wmv")
    assert "image/gif" in s.allowed_image_types  # empty variable = the default, every type


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"ALLOWED_IMAGE_TYPES": "image/jpeg,image/bmp"}, "ALLOWED_IMAGE_TYPES"),
        ({"ALLOWED_VIDEO_TYPES": "video/mp4,image/png"}, "ALLOWED_VIDEO_TYPES"),
        ({"ALLOWED_VIDEO_TYPES": "video/x-flv"}, "ALLOWED_VIDEO_TYPES"),
    ],
)
def test_unknown_or_unsupported_types_stop_start_up(
    tmp_path: Path, env: dict[str, str], named: str
) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(environ=env, config_file=tmp_path / "none.toml", data_dir=str(tmp_path))


def test_toml_lists_round_trip(tmp_path: Path) -> None:
    s = make_settings(tmp_path, allowed_image_types=["image/jpg", "image/png"])
    assert s.allowed_image_types == ("image/jpeg", "image/png")
    path = save_settings(s, tmp_path / "settings.toml")
    assert 'allowed_image_types = ["image/jpeg", "image/png"]' in path.read_text()
    again = load_settings(environ={}, config_file=path, data_dir=str(tmp_path))
    assert again.allowed_image_types == ("image/jpeg", "image/png")
    path.write_text('allowed_video_types = ["video/ogg"]\n')
    with pytest.raises(SettingsError, match="allowed_video_types|ALLOWED_VIDEO_TYPES"):
        load_settings(environ={}, config_file=path, data_dir=str(tmp_path))


def test_serve_refuses_to_start_with_a_bad_list(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEDIADESK_", "ALLOWED_"))}
    env["ALLOWED_IMAGE_TYPES"] = "image/tiff"
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from server.entry import main; sys.exit(main(sys.argv[1:]))",
            "serve",
            "--port",
            "0",
            "--data-dir",
            str(tmp_path),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "ALLOWED_IMAGE_TYPES" in result.stderr and "image/tiff" in result.stderr


@pytest.fixture
def strict(data_dir: Path) -> Iterator[EmbeddedServer]:
    lib = Library.open(
        make_settings(
            data_dir,
            allowed_image_types="image/jpeg",
            allowed_video_types="video/mp4,video/mov",
        )
    )
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    yield server
    server.stop()
    lib.close()


def _presign(server: EmbeddedServer, token: str, **fields: str) -> Any:
    body, ctype = multipart_body(fields)
    return http_call(
        f"{server.url}/files/upload/presigned",
        "POST",
        body,
        {"Content-Type": ctype, **bearer(token)},
    )


def test_refused_as_early_as_known(strict: EmbeddedServer, media_dir: Any) -> None:
    token = make_tokens(strict.library).upload
    # presign: the declared type
    refused = _presign(strict, token, original_filename="a.webm", file_type="video")
    assert refused.status == 400
    error = refused.json()["error"]
    assert error["code"] == "unsupported_type" and "ALLOWED_VIDEO_TYPES" in error["message"]
    assert error["details"]["setting"] == "ALLOWED_VIDEO_TYPES"
    ok = _presign(
        strict, token, original_filename="a.mov", file_type="video", content_type="video/mov"
    )
    assert ok.status == 201  # the seed's name for QuickTime
    # confirm: the sniffed type (declared MP4, the bytes are WebM)
    upload = _presign(strict, token, original_filename="a.mp4", file_type="video").json()
    put = http_call(
        upload["upload_url"], "PUT", media_dir.webm.read_bytes(), {"Content-Type": "video/mp4"}
    )
    assert put.status == 200
    done = http_call(
        f"{strict.url}/files/{upload['file_id']}/confirm-upload", "POST", b"", bearer(token)
    )
    assert done.status == 400 and "ALLOWED_VIDEO_TYPES" in done.json()["error"]["message"]
    # direct upload: the sniffed type
    body, ctype = multipart_body(
        {"file_type": "image"}, {"file": ("x.jpg", media_dir.png.read_bytes(), "image/jpeg")}
    )
    direct = http_call(
        f"{strict.url}/files/upload/direct", "POST", body, {"Content-Type": ctype, **bearer(token)}
    )
    assert direct.status == 400
    assert direct.json()["error"]["details"]["setting"] == "ALLOWED_IMAGE_TYPES"
    body, ctype = multipart_body(
        {"file_type": "image"}, {"file": ("x.jpg", media_dir.jpeg.read_bytes(), "image/jpeg")}
    )
    fine = http_call(
        f"{strict.url}/files/upload/direct", "POST", body, {"Content-Type": ctype, **bearer(token)}
    )
    assert fine.status == 201
    assert strict.library.list_files().total == 1


def test_an_empty_list_is_told_as_none_accepted(
    data_dir: Path, media_dir: Any, tmp_path: Path
) -> None:
    """No image type ticked (Settings ▸ Limits, or `allowed_image_types = []`): the server
    refuses every image, and /config says so (an empty list, no image extensions), so the
    Python and JS clients refuse a photo before sending it. /config listed every known image
    type, and the clients sent the photo to be refused."""
    lib = Library.open(make_settings(data_dir, allowed_image_types=[]))
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        config = http_call(f"{server.url}/config").json()
        assert config["allowed_types"] == {
            "image": [],
            "video": list(lib.settings.allowed_video_types),
        }
        assert not [m for m in config["extensions"] if m.startswith("image/")], config
        token = make_tokens(lib).upload
        body, ctype = multipart_body(
            {"file_type": "image"}, {"file": ("x.jpg", media_dir.jpeg.read_bytes(), "image/jpeg")}
        )
        direct = http_call(
            f"{server.url}/files/upload/direct",
            "POST",
            body,
            {"Content-Type": ctype, **bearer(token)},
        )
        assert (direct.status, direct.json()["error"]["reason"]) == (400, "not_allowed")
        with Client(server.url, token) as client, pytest.raises(ClientError) as refused:
            client.check(media_dir.jpeg)
        assert refused.value.code == "unsupported_type", refused.value
        assert "(accepted image types: none)" in str(refused.value), refused.value
        assert client.check(media_dir.mp4).mime == "video/mp4"
        _js_check_refuses_a_photo(server.url, Path(media_dir.jpeg))
    finally:
        server.stop()
        lib.close()


def _js_check_refuses_a_photo(url: str, photo: Path) -> None:
    """mediadesk.js's checkFile in Node (fetch, File) against the live server's /config."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node not installed")
    module = (ROOT / "server" / "static" / "mediadesk.js").as_uri()
    script = (
        f"import {{ checkFile }} from {json.dumps(module)};\n"
        f"const bytes = Uint8Array.from({json.dumps(list(photo.read_bytes()[:4096]))});\n"
        "try {\n"
        f"  await checkFile(new File([bytes], 'x.jpg'), {{ baseUrl: {json.dumps(url)} }});\n"
        "  console.log('accepted');\n"
        "} catch (err) { console.log(err.code); }\n"
    )
    run = subprocess.run(
        [node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "unsupported_type", run.stdout


def test_settings_dialog_checkboxes(qtbot: Any, settings: Any) -> None:
    pytest.importorskip("PySide6.QtWidgets")
    import tomllib

    from desktop_app.controllers.settings_controller import SettingsController
    from desktop_app.views.settings_dialog import SettingsDialog

    dialog = SettingsDialog(SettingsController(settings))
    qtbot.addWidget(dialog)
    # the seed's types checked; MPEG-TS, validated but not accepted unless named, is not
    checked = [mime for mime, box in dialog.type_boxes.items() if box.isChecked()]
    assert checked == [*settings.allowed_image_types, *settings.allowed_video_types]
    assert not dialog.type_boxes["video/mp2t"].isChecked()
    dialog.type_boxes["image/gif"].setChecked(False)
    dialog.type_boxes["video/x-ms-wmv"].setChecked(False)
    with qtbot.waitSignal(dialog.controller.saved, timeout=20000):
        dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    saved = tomllib.loads(Path(settings.config_file).read_text())
    assert saved["allowed_image_types"] == ["image/jpeg", "image/png", "image/webp"]
    assert "video/x-ms-wmv" not in saved["allowed_video_types"]
    assert dialog.controller.settings.allowed_image_types == (
        "image/jpeg",
        "image/png",
        "image/webp",
    )
    again = SettingsDialog(SettingsController(dialog.controller.settings))
    qtbot.addWidget(again)
    assert not again.type_boxes["image/gif"].isChecked()
    assert again.type_boxes["image/png"].isChecked()
