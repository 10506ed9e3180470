"""Settings: defaults < TOML file < environment, and clear errors for bad values."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.errors import SettingsError
from core.settings import ENV_NAMES, Settings, load_settings, save_settings


def test_defaults_are_the_seeds(tmp_path: Path) -> None:
    s = load_settings(environ={}, config_file=tmp_path / "missing.toml")
    assert s.max_file_size == 104857600
    assert s.presigned_url_expiry == 3600
    assert s.server_host == "127.0.0.1"
    assert not s.uses_r2


def test_file_then_environment_precedence(tmp_path: Path) -> None:
    cfg = tmp_path / "settings.toml"
    cfg.write_text("max_file_size = 2000\npresigned_url_expiry = 60\nserver_port = 9000\n")
    s = load_settings(environ={"MAX_FILE_SIZE": "5000"}, config_file=cfg)
    assert s.max_file_size == 5000  # environment wins
    assert s.presigned_url_expiry == 60  # from the file
    assert s.server_port == 9000


def test_data_dir_moves_everything(tmp_path: Path) -> None:
    s = load_settings(
        environ={"MEDIADESK_DATA_DIR": str(tmp_path / "d")}, config_file=tmp_path / "none.toml"
    )
    assert s.paths.database_file.is_relative_to(tmp_path / "d")
    assert s.paths.objects_dir.is_relative_to(tmp_path / "d")
    assert s.paths.secrets_dir.is_relative_to(tmp_path / "d")
    assert s.paths.logs_dir.is_relative_to(tmp_path / "d")
    assert s.effective_database_url == f"sqlite:///{tmp_path / 'd' / 'mediadesk.sqlite3'}"


def test_r2_settings_select_s3(tmp_path: Path) -> None:
    env = {
        "R2_ACCESS_KEY_ID": "a",
        "R2_SECRET_ACCESS_KEY": "b",
        "R2_ENDPOINT_URL": "https://acc.r2.cloudflarestorage.com",
        "R2_BUCKET_NAME": "media",
    }
    s = load_settings(environ=env, config_file=tmp_path / "x.toml")
    assert s.uses_r2 and s.r2_region == "auto"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"MAX_FILE_SIZE": "lots"}, "MAX_FILE_SIZE"),
        ({"MAX_FILE_SIZE": "0"}, "MAX_FILE_SIZE"),
        ({"PRESIGNED_URL_EXPIRY": "700000"}, "PRESIGNED_URL_EXPIRY"),
        ({"MEDIADESK_PORT": "70000"}, "MEDIADESK_PORT"),
        ({"MEDIADESK_UPLOAD_BODIES": "0"}, "MEDIADESK_UPLOAD_BODIES"),
        (
            {
                "R2_ENDPOINT_URL": "ftp://x",
                "R2_BUCKET_NAME": "b",
                "R2_ACCESS_KEY_ID": "a",
                "R2_SECRET_ACCESS_KEY": "s",
            },
            "R2_ENDPOINT_URL",
        ),
        ({"R2_BUCKET_NAME": "b"}, "R2_ACCESS_KEY_ID"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        # an operator's hunt: int() took other scripts' digits, signs and "_" in numbers
        # (MAX_FILE_SIZE=١٠٠٠ was 1000) where the HLS ladder did not
        ({"MAX_FILE_SIZE": "١٠٠٠"}, "MAX_FILE_SIZE"),
        ({"MAX_FILE_SIZE": "+5"}, "MAX_FILE_SIZE"),
        ({"MAX_FILE_SIZE": "1_000"}, "MAX_FILE_SIZE"),
        ({"MEDIADESK_PORT": "８７６５"}, "MEDIADESK_PORT"),
    ],
)
def test_invalid_values_name_the_setting(tmp_path: Path, env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError) as err:
        load_settings(environ=env, config_file=tmp_path / "none.toml")
    assert named in err.value.message


def test_bad_toml_and_unknown_keys(tmp_path: Path) -> None:
    cfg = tmp_path / "settings.toml"
    cfg.write_text("max_file_size = [")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(environ={}, config_file=cfg)
    cfg.write_text("colour = 'red'\n")
    with pytest.raises(SettingsError, match="unknown setting"):
        load_settings(environ={}, config_file=cfg)


def test_settings_are_frozen_and_round_trip(tmp_path: Path) -> None:
    s = load_settings(
        environ={},
        config_file=tmp_path / "s.toml",
        server_port=9123,
        cors_origins="http://a.test, http://b.test",
        language="es",
    )
    with pytest.raises(AttributeError):
        s.server_port = 1  # type: ignore[misc]
    path = save_settings(s)
    again = load_settings(environ={}, config_file=path)
    assert again == s
    assert again.cors_origins == ("http://a.test", "http://b.test")
    assert isinstance(again, Settings)


def test_an_explicit_data_dir_beats_the_environment_for_the_settings_file(tmp_path: Path) -> None:
    # `mediadesk --data-dir B` in a process whose environment names folder A reads B's file.
    a, b = tmp_path / "a", tmp_path / "b"
    for folder, size in ((a, 1000), (b, 2000)):
        folder.mkdir()
        (folder / "settings.toml").write_text(f"max_file_size = {size}\n")
    s = load_settings(environ={"MEDIADESK_DATA_DIR": str(a)}, data_dir=str(b))
    assert s.max_file_size == 2000 and Path(s.config_file) == b / "settings.toml"
    assert load_settings(environ={"MEDIADESK_DATA_DIR": str(a)}).max_file_size == 1000


def test_upload_bodies_reach_the_server(tmp_path: Path) -> None:
    """MEDIADESK_UPLOAD_BODIES is the server's limit of bodies read at once (its threads)."""
    from server.config import ServerConfig

    s = load_settings(environ={"MEDIADESK_UPLOAD_BODIES": "3"}, config_file=tmp_path / "x.toml")
    assert ServerConfig.from_settings(s).body_threads == 3
    assert (
        ServerConfig.from_settings(
            load_settings(environ={}, config_file=tmp_path / "x.toml")
        ).body_threads
        == 16
    )


def test_settings_toml_takes_the_environments_names_in_lower_case(tmp_path: Path) -> None:
    """README: the variables' names in lower case are settings.toml keys (mediadesk_port), as
    are the names the app writes (server_port); one setting given both ways is refused."""
    cfg = tmp_path / "settings.toml"
    cfg.write_text("mediadesk_port = 9100\nmax_file_size = 2000\nmediadesk_upload_bodies = 4\n")
    s = load_settings(environ={}, config_file=cfg)
    assert (s.server_port, s.max_file_size, s.upload_bodies) == (9100, 2000, 4)
    cfg.write_text("mediadesk_port = 9100\nserver_port = 9200\n")
    with pytest.raises(SettingsError) as err:
        load_settings(environ={}, config_file=cfg)
    # the message said "'server_port' sets 'server_port' a second time": both keys now
    assert err.value.message == (
        f"Settings file {cfg}: 'mediadesk_port' and 'server_port' are the same setting "
        "(MEDIADESK_PORT); keep one of them"
    )


def test_every_environment_variable_is_in_the_readmes_settings_table() -> None:
    """The settings table is where users look for a variable: MEDIADESK_MULTIPART_CHUNK_SIZE
    and MEDIADESK_SERVER_AUTOSTART were read from the environment but missing there."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Settings", 1)[1].split("\n## ", 1)[0]
    rows = {
        name
        for line in table.splitlines()
        if line.startswith("| `")
        for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split(" | ")[0])
    }
    assert sorted(set(ENV_NAMES.values()) - rows) == []


@pytest.mark.parametrize(
    ("env", "named"),
    [
        # the resolver's idna codec raised UnicodeError at bind, after a data folder was made
        ({"MEDIADESK_HOST": "not..valid"}, "MEDIADESK_HOST"),
        ({"MEDIADESK_HOST": "a" * 64 + ".example"}, "MEDIADESK_HOST"),
        ({"MEDIADESK_HOST": ".example"}, "MEDIADESK_HOST"),
        ({"MEDIADESK_HOST": "http://0.0.0.0"}, "MEDIADESK_HOST"),
        ({"MEDIADESK_HOST": ".".join(["a" * 63] * 5)}, "MEDIADESK_HOST"),
        # str.isdigit() takes "²", int() does not: a ValueError traceback
        ({"MEDIADESK_HLS_LADDER": "360,²"}, "MEDIADESK_HLS_LADDER"),
        ({"MEDIADESK_HLS_LADDER": "360,٧٢٠"}, "MEDIADESK_HLS_LADDER"),
        ({"MEDIADESK_MAINTENANCE_INTERVAL": "-1"}, "MEDIADESK_MAINTENANCE_INTERVAL"),
        # past a year a wait overflowed: the usage thread died with OverflowError after a
        # clean start (10**11 s)
        ({"MEDIADESK_USAGE_SCAN_INTERVAL": "100000000000"}, "MEDIADESK_USAGE_SCAN_INTERVAL"),
        ({"MEDIADESK_MAINTENANCE_INTERVAL": str(10**12)}, "MEDIADESK_MAINTENANCE_INTERVAL"),
        ({"MEDIADESK_TUS_EXPIRY": str(10**12)}, "MEDIADESK_TUS_EXPIRY"),
        # above S3's and R2's largest part every part upload would be refused
        ({"MEDIADESK_UPLOAD_PART_SIZE": str(6 * 1024**3)}, "MEDIADESK_UPLOAD_PART_SIZE"),
        # an origin with a path or a query never equals a browser's Origin header
        ({"MEDIADESK_CORS_ORIGINS": "https://club.example/path"}, "MEDIADESK_CORS_ORIGINS"),
        ({"MEDIADESK_CORS_ORIGINS": "https://club.example?x=1"}, "MEDIADESK_CORS_ORIGINS"),
        ({"MEDIADESK_CORS_ORIGINS": "https://club.example#top"}, "MEDIADESK_CORS_ORIGINS"),
        ({"MEDIADESK_CORS_ORIGINS": "club.example"}, "MEDIADESK_CORS_ORIGINS"),
        ({"MEDIADESK_CORS_ORIGINS": "https://club.example:x"}, "MEDIADESK_CORS_ORIGINS"),
        ({"MEDIADESK_CORS_ORIGINS": "https://user@club.example"}, "MEDIADESK_CORS_ORIGINS"),
        # only "file" is documented: "files" kept the keyring without a word
        ({"MEDIADESK_SECRETS": "files"}, "MEDIADESK_SECRETS"),
        ({"MEDIADESK_SECRETS": "FILE"}, "MEDIADESK_SECRETS"),
        ({"MEDIADESK_SECRETS": "keyring"}, "MEDIADESK_SECRETS"),
    ],
)
def test_more_invalid_values_are_one_line_naming_the_setting(
    tmp_path: Path, env: dict[str, str], named: str
) -> None:
    with pytest.raises(SettingsError) as err:
        load_settings(environ=env, config_file=tmp_path / "none.toml")
    assert err.value.message.startswith(f"Setting {named}: "), err.value.message
    assert "\n" not in err.value.message


@pytest.mark.parametrize(
    "env",
    [
        {"MEDIADESK_HOST": "0.0.0.0"},
        {"MEDIADESK_HOST": "::"},
        {"MEDIADESK_HOST": "fe80::1%lo"},
        {"MEDIADESK_HOST": "localhost"},
        {"MEDIADESK_HOST": "media-desk.club.example."},
        {"MEDIADESK_HOST": "bücher.example"},
        {"MEDIADESK_HOST": "a" * 63 + ".example"},
        {"MEDIADESK_HLS_LADDER": "240, 480"},
        {"MEDIADESK_MAINTENANCE_INTERVAL": "0"},  # README: this process never runs it
        {"MEDIADESK_USAGE_SCAN_INTERVAL": str(365 * 24 * 3600)},
        {"MAX_FILE_SIZE": " 1000 "},  # a space around a number, as a shell's quoting leaves it
        {"MEDIADESK_TRASH_RETENTION_DAYS": "1000000"},  # README: keeps them for good
        {"MEDIADESK_CORS_ORIGINS": "https://club.example/,http://localhost:5173,*"},
        {"MEDIADESK_CORS_ORIGINS": "http://[::1]:8080,capacitor://localhost"},
        {"MEDIADESK_SECRETS": "file"},
        {"MEDIADESK_SECRETS": ""},  # empty is unset, as for every other variable
    ],
)
def test_the_documented_values_are_still_taken(tmp_path: Path, env: dict[str, str]) -> None:
    load_settings(environ=env, config_file=tmp_path / "none.toml")


@pytest.mark.parametrize(
    ("line", "named"),
    [
        ("server_port = [8765]", "MEDIADESK_PORT"),
        ("max_file_size = { size = 1 }", "MAX_FILE_SIZE"),
        ("server_autostart = [true]", "MEDIADESK_SERVER_AUTOSTART"),
        ("language = ['en']", "MEDIADESK_LANGUAGE"),
        ("server_host = { name = 'x' }", "MEDIADESK_HOST"),
        ("cors_origins = { a = 'https://x.example' }", "MEDIADESK_CORS_ORIGINS"),
        ("cors_origins = [['https://x.example']]", "MEDIADESK_CORS_ORIGINS"),
    ],
)
def test_a_list_or_table_in_settings_toml_is_the_settings_one_line(
    tmp_path: Path, line: str, named: str
) -> None:
    """`server_port = [8765]` ended in a TypeError traceback from int()."""
    cfg = tmp_path / "settings.toml"
    cfg.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(SettingsError) as err:
        load_settings(environ={}, config_file=cfg)
    assert err.value.message.startswith(f"Setting {named} has an invalid value "), err.value.message


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("mediadesk_max_file_size", "'max_file_size'"),  # the seed's name keeps no prefix
        ("MAX_FILE_SIZE", "'max_file_size'"),  # the environment's spelling
        ("presigned_url_expiri", "'presigned_url_expiry'"),  # a typo
        ("colour", "README's settings table"),  # nothing close
    ],
)
def test_an_unknown_key_in_the_settings_file_names_the_one_meant(
    tmp_path: Path, written: str, meant: str
) -> None:
    """MEDIADESK_MAX_FILE_SIZE in the environment is told "did you mean MAX_FILE_SIZE?";
    the same slip in settings.toml stopped the start with only "unknown setting"."""
    cfg = tmp_path / "settings.toml"
    cfg.write_text(f"{written} = 5\n")
    with pytest.raises(SettingsError) as err:
        load_settings(environ={}, config_file=cfg)
    assert f"unknown setting {written!r}" in err.value.message
    assert meant in err.value.message, err.value.message
