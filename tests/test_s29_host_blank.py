"""A blank host setting is the setting left out (127.0.0.1, the house rule for every
setting), never "every address": settings.toml's `server_host = ""`, MEDIADESK_HOST=" " and
`serve --host ""` listened on 0.0.0.0 and :: (aiohttp takes "" as every interface). Listening
everywhere stays possible by writing 0.0.0.0 or :: . A name the resolver reads as a shortened
IPv4 address ("0" is 0.0.0.0, every address) is refused, asking for the address in full."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import SettingsError
from core.library import Library
from core.settings import Settings, load_settings
from server.entry import EmbeddedServer
from tests.test_serve_network_banner import _banner, _serve


@pytest.mark.parametrize(
    ("line", "env"),
    [
        ('server_host = ""', {}),
        ('mediadesk_host = ""', {}),
        ('server_host = "  "', {}),
        ("", {"MEDIADESK_HOST": " "}),
        ("", {"MEDIADESK_HOST": "\t"}),
        ("", {"MEDIADESK_HOST": ""}),
    ],
)
def test_a_blank_host_is_the_default_loopback(
    tmp_path: Path, line: str, env: dict[str, str]
) -> None:
    cfg = tmp_path / "settings.toml"
    cfg.write_text(line + "\n", encoding="utf-8")
    s = load_settings(environ=env, config_file=cfg)
    assert s.server_host == "127.0.0.1"
    assert s.server_url.startswith("http://127.0.0.1:")


def test_a_blank_host_override_and_replace_are_the_default(tmp_path: Path) -> None:
    """`serve --host ""` (an override) and the desktop's Settings save (replace) alike."""
    s = load_settings(environ={}, config_file=tmp_path / "none.toml", server_host=" ")
    assert s.server_host == "127.0.0.1"
    assert s.replace(server_host="").server_host == "127.0.0.1"
    assert Settings().replace(server_host="0.0.0.0").server_host == "0.0.0.0"
    assert Settings().replace(server_host="::").server_host == "::"


@pytest.mark.parametrize(
    ("host", "meant"),
    [("::0", "::"), ("0::0", "::"), ("0:0:0:0:0:0:0:0", "::"), ("0000::1", "::1")],
)
def test_an_address_is_kept_in_its_one_spelling(tmp_path: Path, host: str, meant: str) -> None:
    """Found by an outside security run: MEDIADESK_HOST=::0 listened on every address, but the
    banner did not say so and links named http://[::0]:PORT/, which no other device opens:
    every address was known only as written "0.0.0.0" or "::" (core.links.WILDCARDS)."""
    s = load_settings(environ={"MEDIADESK_HOST": host}, config_file=tmp_path / "none.toml")
    assert s.server_host == meant
    assert "[::0]" not in s.server_url and "0:0:0" not in s.server_url


@pytest.mark.parametrize("host", ["0", "127.1", "0x7f.1", "0x7f000001", "10.0.1", "1.2.3.4.", "0."])
def test_a_shortened_ipv4_address_is_refused(tmp_path: Path, host: str) -> None:
    with pytest.raises(SettingsError) as err:
        load_settings(environ={"MEDIADESK_HOST": host}, config_file=tmp_path / "none.toml")
    message = err.value.message
    assert message.startswith("Setting MEDIADESK_HOST: "), message
    assert "in full" in message, message


@pytest.mark.parametrize("host", ["999.1.1.1", "1.2.3.4.5", "256.0.0.1"])
def test_a_number_that_is_no_address_is_not_called_shortened(tmp_path: Path, host: str) -> None:
    """999.1.1.1 was refused as "a shortened IPv4 address": it is no address at all."""
    with pytest.raises(SettingsError) as err:
        load_settings(environ={"MEDIADESK_HOST": host}, config_file=tmp_path / "none.toml")
    message = err.value.message
    assert "is not an IP address" in message and "shortened" not in message, message


@pytest.mark.parametrize("host", ["0.0.0.0", "127.0.0.1", "host0.example", "1a.example", "x1"])
def test_full_addresses_and_names_with_letters_are_taken(tmp_path: Path, host: str) -> None:
    s = load_settings(environ={"MEDIADESK_HOST": host}, config_file=tmp_path / "none.toml")
    assert s.server_host == host


def test_serve_with_an_empty_host_option_listens_on_loopback(data_dir: Path) -> None:
    with _serve(data_dir, "") as (text, _token):
        banner = _banner(text)
        assert "running at http://127.0.0.1:" in banner, banner
        assert "all addresses" not in banner, banner
    log = (data_dir / "logs" / "server.log").read_text()
    assert "all addresses" not in log, log


def test_the_server_panels_host_takes_the_settings_rule(library: Library) -> None:
    """The desktop's Server panel hands its Host field to EmbeddedServer, past the settings'
    check: '0' listened on 0.0.0.0 (every address) while the field said otherwise."""
    with pytest.raises(SettingsError, match="shortened IPv4 address"):
        EmbeddedServer(library, host="0", port=0)
    assert EmbeddedServer(library, host=" ", port=0).config.host == "127.0.0.1"
    assert EmbeddedServer(library, host="0.0.0.0", port=0).config.host == "0.0.0.0"
