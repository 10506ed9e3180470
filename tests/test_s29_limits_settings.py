"""MAX_FILE_SIZE's upper bound lives in the settings check (core.settings.validate): past a
signed 64-bit integer, what the catalog's size columns hold, a limit is a SettingsError naming
the variable and the bound, wherever it comes from (environment, settings file, a save of the
desktop's Settings: Settings.replace). The tus route then reads the setting as it is."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import SettingsError
from core.settings import MAX_FILE_SIZE_LIMIT, load_settings
from server.openapi_schemas import INT64_MAX
from tests.conftest import make_settings


def test_the_bound_is_the_documents_64_bit_one() -> None:
    assert MAX_FILE_SIZE_LIMIT == INT64_MAX == 2**63 - 1


def _refused(excinfo: pytest.ExceptionInfo[SettingsError]) -> None:
    message = str(excinfo.value)
    assert "MAX_FILE_SIZE" in message and str(MAX_FILE_SIZE_LIMIT) in message, message


@pytest.mark.parametrize("size", [2**63, 10**40])
def test_a_limit_past_64_bits_is_refused_from_every_source(data_dir: Path, size: int) -> None:
    """Any positive MAX_FILE_SIZE was taken: above 2**63-1 the tus route capped it on its own
    and every other reader (presigned size, direct uploads, the desktop) used it as given."""
    with pytest.raises(SettingsError) as env:
        load_settings(environ={"MAX_FILE_SIZE": str(size)}, config_file=data_dir / "none.toml")
    _refused(env)
    toml = data_dir / "settings.toml"
    toml.write_text(f"max_file_size = {size}\n")
    with pytest.raises(SettingsError) as from_file:
        load_settings(environ={}, config_file=toml)
    _refused(from_file)
    toml.unlink()
    with pytest.raises(SettingsError) as saved:  # the desktop's Settings save builds with this
        make_settings(data_dir).replace(max_file_size=size)
    _refused(saved)


def test_the_bound_itself_is_taken(data_dir: Path) -> None:
    s = make_settings(data_dir, max_file_size=MAX_FILE_SIZE_LIMIT)
    assert s.max_file_size == MAX_FILE_SIZE_LIMIT
    assert s.replace(max_file_size=1).max_file_size == 1
    with pytest.raises(SettingsError, match="MAX_FILE_SIZE"):
        s.replace(max_file_size=0)
