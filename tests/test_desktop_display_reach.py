"""`mediadesk` with a DISPLAY (or WAYLAND_DISPLAY) that nothing answers at: a stale DISPLAY in
tmux or screen, ssh without X forwarding. Qt aborted (exit 134, SIGABRT) saying "xcb-cursor0
or libxcb-cursor0 is needed… Reinstalling the application may fix this problem"; now one line
names the display and offers `mediadesk serve`, exit 2, before Qt is loaded."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop_app import cli


@contextlib.contextmanager
def _listening_unix(path: Path) -> Iterator[None]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(path))
        server.listen(1)
        yield


@contextlib.contextmanager
def _listening_x_tcp() -> Iterator[int]:
    """A listener on 127.0.0.1:6000+n (as sshd's X forwarding has), and n."""
    for number in range(40, 100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
            try:
                server.bind(("127.0.0.1", 6000 + number))
            except OSError:
                continue
            server.listen(1)
            yield number
            return
    pytest.skip("no free port among 6040-6099")


def test_an_x_display_nothing_answers_at_is_named(tmp_path: Path) -> None:
    env = {"DISPLAY": ":77"}
    said = cli.unreachable_display(env, "linux", x11_dir=str(tmp_path))
    assert said is not None and said.startswith("cannot reach the display DISPLAY=:77"), said
    assert "'mediadesk serve'" in said and "\n" not in said
    with _listening_unix(tmp_path / "X77"):
        assert cli.unreachable_display(env, "linux", x11_dir=str(tmp_path)) is None
    # a screen number, and the "unix:" host, name the same socket
    with _listening_unix(tmp_path / "X78"):
        for display in (":78.0", "unix:78"):
            found = cli.unreachable_display({"DISPLAY": display}, "linux", x11_dir=str(tmp_path))
            assert found is None, display
    # a name it cannot read is Qt's to judge: other scripts' digits were a ValueError traceback
    for display in (":²", ":١", "host:²"):
        assert cli.unreachable_display({"DISPLAY": display}, "linux", str(tmp_path)) is None


def test_a_forwarded_x_display_is_reached_over_tcp(tmp_path: Path) -> None:
    with _listening_x_tcp() as number:
        env = {"DISPLAY": f"localhost:{number}.0"}
        assert cli.unreachable_display(env, "linux", x11_dir=str(tmp_path)) is None
    started = time.monotonic()
    said = cli.unreachable_display(env, "linux", x11_dir=str(tmp_path))  # closed now
    assert said is not None and f"DISPLAY=localhost:{number}.0" in said
    assert time.monotonic() - started < 2


def test_a_wayland_display_counts_when_its_socket_answers(tmp_path: Path) -> None:
    env = {"DISPLAY": ":77", "WAYLAND_DISPLAY": "wayland-9", "XDG_RUNTIME_DIR": str(tmp_path)}
    x11 = str(tmp_path / "x11")
    said = cli.unreachable_display(env, "linux", x11_dir=x11)
    assert said is not None and "DISPLAY=:77 nor WAYLAND_DISPLAY=wayland-9" in said, said
    with _listening_unix(tmp_path / "wayland-9"):
        assert cli.unreachable_display(env, "linux", x11_dir=x11) is None
        # told to use X only, Qt never tries the Wayland display
        only_x = {**env, "QT_QPA_PLATFORM": "xcb"}
        assert cli.unreachable_display(only_x, "linux", x11_dir=x11) is not None


def test_other_platforms_and_qt_platforms_are_not_checked(tmp_path: Path) -> None:
    env = {"DISPLAY": ":77"}
    x11 = str(tmp_path)
    assert cli.unreachable_display({**env, "QT_QPA_PLATFORM": "offscreen"}, "linux", x11) is None
    assert cli.unreachable_display(env, "darwin", x11_dir=x11) is None
    assert cli.unreachable_display({}, "linux", x11_dir=x11) is None  # no_display's to say


def test_the_command_stops_before_qt_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    number = next(n for n in range(7700, 7800) if not Path(f"/tmp/.X11-unix/X{n}").exists())
    monkeypatch.setenv("DISPLAY", f":{number}")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.setenv("MEDIADESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(cli.sys, "platform", "linux")
    # had the check let it through, the window must not open on the test's display
    monkeypatch.setattr("desktop_app.app.run_gui", lambda **_: 0)
    assert cli.main([]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"mediadesk: cannot reach the display DISPLAY=:{number}"), err
    assert err.endswith("run 'mediadesk serve' for the server without a window\n"), err
    assert err.count("\n") == 1


def test_a_resolver_that_does_not_answer_leaves_the_display_to_qt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """getaddrinfo takes no timeout: a resolver out of reach held the start for the system's
    retries before a word. Past the connect timeout the name is Qt's to judge, as it was
    before this check (a stand-in getaddrinfo that hangs: the system's cannot be made to)."""
    released = threading.Event()
    real = socket.getaddrinfo

    def hanging(host: str, *args: object, **kwargs: object) -> object:
        if host == "x.slow-resolver.invalid":
            released.wait(10)
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", hanging)
    try:
        env = {"DISPLAY": "x.slow-resolver.invalid:10.0"}
        assert cli.unreachable_display(env, "linux", x11_dir=str(tmp_path)) is None
    finally:
        released.set()
