"""Settings ▸ Storage: a failed connection test names its cause and never moves the layout;
the API upload limit is editable."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("PySide6.QtWidgets")

import botocore.exceptions as bx  # noqa: E402

from core.errors import StorageUnavailable  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.storage.s3 import S3Storage, explain  # noqa: E402
from desktop_app.controllers.settings_controller import SettingsController  # noqa: E402
from desktop_app.views.settings_dialog import SettingsDialog  # noqa: E402
from tests.s3_server import S3Target  # noqa: E402

TIMEOUT = 20000


@pytest.fixture
def dialog(qtbot, settings: Settings) -> SettingsDialog:  # type: ignore[no-untyped-def]
    widget = SettingsDialog(SettingsController(settings))
    qtbot.addWidget(widget)
    return widget


def _fill(dialog: SettingsDialog, endpoint: str, bucket: str) -> None:
    dialog.r2_radio.setChecked(True)
    dialog.endpoint.setText(endpoint)
    dialog.bucket.setText(bucket)
    dialog.access_key.setText("testing")
    dialog.secret_key.setText("testing")
    dialog.region.setText("us-east-1")


def _test(qtbot, dialog: SettingsDialog) -> tuple[bool, str]:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(dialog.controller.testFinished, timeout=TIMEOUT) as done:
        dialog.test_button.click()
    return done.args[0], done.args[1]


def test_a_missing_bucket_is_not_called_unreachable(qtbot, dialog, s3_bucket: S3Target) -> None:  # type: ignore[no-untyped-def]
    _fill(dialog, s3_bucket.endpoint_url, "no-such-bucket-here")
    ok, text = _test(qtbot, dialog)
    assert not ok and text.startswith("The server answered, but the bucket does not exist")


def test_an_unreachable_endpoint_says_so(qtbot, dialog) -> None:  # type: ignore[no-untyped-def]
    _fill(dialog, "http://127.0.0.1:9", "media")
    ok, text = _test(qtbot, dialog)
    assert not ok and text.startswith("The endpoint cannot be reached")


def test_core_reasons_for_each_cause(s3_bucket: S3Target) -> None:
    def storage(endpoint: str, bucket: str) -> S3Storage:
        return S3Storage(bucket, endpoint, "testing", "testing", region="us-east-1")

    with pytest.raises(StorageUnavailable) as missing:
        storage(s3_bucket.endpoint_url, "absent-bucket").check()
    assert missing.value.reason == "bucket_missing"
    with pytest.raises(StorageUnavailable) as unreachable:
        storage("http://127.0.0.1:9", "b").check()
    assert unreachable.value.reason == "endpoint_unreachable"
    storage(s3_bucket.endpoint_url, s3_bucket.bucket).check()  # a good bucket passes

    # moto accepts any key, so the answers R2 gives are built as botocore reports them.
    def client_error(code: str, status: int) -> bx.ClientError:
        return bx.ClientError(
            {
                "Error": {"Code": code, "Message": code},
                "ResponseMetadata": {"HTTPStatusCode": status},
            },
            "ListObjectsV2",
        )

    assert (
        explain(client_error("InvalidAccessKeyId", 403), "x", "b", "e").reason == "bad_credentials"
    )
    assert (
        explain(client_error("SignatureDoesNotMatch", 403), "x", "b", "e").reason
        == "bad_credentials"
    )
    assert explain(client_error("AccessDenied", 403), "x", "b", "e").reason == "no_permission"
    assert explain(client_error("NoSuchBucket", 404), "x", "b", "e").reason == "bucket_missing"


def test_the_form_and_the_button_never_move_when_a_long_error_arrives(qtbot, dialog) -> None:  # type: ignore[no-untyped-def]
    _fill(dialog, "http://127.0.0.1:9", "media")
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.resize(dialog.width(), dialog.minimumSizeHint().height())  # as small as it goes
    qtbot.wait(50)
    before = (dialog.endpoint.geometry(), dialog.test_button.geometry(), dialog.size())
    dialog._on_test(False, "The endpoint cannot be reached. " + "A very long cause. " * 40)
    qtbot.wait(50)
    after = (dialog.endpoint.geometry(), dialog.test_button.geometry(), dialog.size())
    assert after == before
    assert dialog.endpoint.height() >= dialog.endpoint.sizeHint().height()
    assert "A very long cause" in dialog.test_result.toolTip()


def test_the_upload_rate_limit_is_editable(qtbot, dialog) -> None:  # type: ignore[no-untyped-def]
    assert dialog.rate_limit.value() == dialog.controller.settings.upload_rate_limit
    dialog.rate_limit.setValue(0)
    assert dialog.rate_limit.text() == "No limit"
    with qtbot.waitSignal(dialog.controller.saved, timeout=TIMEOUT) as saved:
        dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    settings, changes = saved.args
    assert settings.upload_rate_limit == 0 and "upload_rate_limit" in changes


def test_trash_and_audit_retention_are_editable(qtbot, dialog) -> None:  # type: ignore[no-untyped-def]
    """Both were in settings.toml or the environment only: the desktop could not tell how long
    the trash keeps a file."""
    s = dialog.controller.settings
    assert (dialog.trash_days.value(), dialog.audit_days.value()) == (
        s.trash_retention_days,
        s.audit_retention_days,
    )
    dialog.trash_days.setValue(7)
    dialog.audit_days.setValue(0)
    assert dialog.audit_days.text() == "Forever"  # 0 keeps every entry (README)
    with qtbot.waitSignal(dialog.controller.saved, timeout=TIMEOUT) as saved:
        dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    settings, changes = saved.args
    assert (settings.trash_retention_days, settings.audit_retention_days) == (7, 0)
    assert {"trash_retention_days", "audit_retention_days"} <= changes
    assert "trash_retention_days = 7" in Path(settings.config_file).read_text()


def test_a_retention_past_the_calendar_is_kept_as_it_is(qtbot, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    """README: a number of days reaching past the calendar keeps trashed files for good; a
    field capped below it would save a shorter retention with any other change."""
    dialog = SettingsDialog(SettingsController(settings.replace(trash_retention_days=1000000)))
    qtbot.addWidget(dialog)
    assert dialog.trash_days.value() == 1000000
    assert dialog.values()["trash_retention_days"] == 1000000
