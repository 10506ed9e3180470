"""Files dragged from a real file manager onto the real MediaDesk window, over the X protocol.

Everything runs as its own process on a private Xvfb display: the openbox window manager,
pcmanfm (GTK) showing a folder of real media files, and `python -m desktop_app` with its own
data folder and local storage. xdotool selects the files in pcmanfm and drags them with real
pointer events (press on an icon, small moves, release over MediaDesk), so GTK's XDND source
and Qt's XDND target talk as they do on a desktop: GTK's text/uri-list percent-encodes names
with spaces and accents. The catalog (SQLite, opened read-only) says what was added.

Where the icons and the sidebar's rows are is found from the outside, as a user would: the
icons are the pixels that change when Ctrl+A selects them (no theme colours assumed), and the
athlete's row is where a click makes the window's title name the athlete.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops

from core.library import Library
from tests import media
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[1]
PROGRAMS = ("Xvfb", "openbox", "xdotool", "pcmanfm")
MISSING = [name for name in PROGRAMS if shutil.which(name) is None]
SCREEN = (1600, 1000)  # MediaDesk opens maximised (not resizable) on a smaller one
APP_BOX = (0, 0, 760, 760)  # x, y, width, height of MediaDesk's window
FM_BOX = (900, 60, 560, 420)  # pcmanfm's
ATHLETE = "Ana Pérez"
DROPPED = ("Final 100m – María.jpg", "relay start.png", "clip #2 (50%).mp4")
LATER = "zz finish – Ana.jpg"  # sorts after the others: adding it moves no icon

pytestmark = pytest.mark.timeout(150)

# A Qt process of our own that grabs the X screen on request (a line with a path in, "ok"
# out): no ImageMagick needed, ~50 ms a grab.
GRABBER = """
import sys
from PySide6.QtGui import QGuiApplication
app = QGuiApplication(["grab", "-platform", "xcb"])
for line in sys.stdin:
    app.primaryScreen().grabWindow(0).save(line.strip(), "PNG")
    print("ok", flush=True)
"""


def _needed() -> None:
    if not MISSING:
        return
    why = (
        f"{', '.join(MISSING)} not installed: `bash scripts/syslibs.sh xvfb xauth openbox "
        "xdotool pcmanfm` (make test does it)"
    )
    if os.environ.get("CI"):
        pytest.fail(why)  # on CI a missing program is a broken set-up, never a quiet skip
    pytest.skip(why)


def _wait(
    what: str, check: Callable[[], Any], timeout: float = 20.0, seen: Callable[[], Any] = str
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout:.0f} s waiting for {what} (saw {seen()})"
            )
        time.sleep(0.05)


def _die_with_parent() -> None:
    """In the child: SIGTERM when the test's process ends, even by pytest-timeout's exit,
    so no display, file manager or app outlives a test run."""
    ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class XSession:
    """A private X display with its processes; every process is stopped at the end."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.procs: list[subprocess.Popen[Any]] = []
        self.logs: list[Any] = []
        self.display = self._xvfb()
        home = tmp / "home"
        runtime = tmp / "runtime"
        for folder in (home, runtime):
            folder.mkdir(mode=0o700)
        self.env = {
            **{
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("QT_", "WAYLAND", "MEDIADESK_"))
            },
            "DISPLAY": self.display,
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
            "XDG_RUNTIME_DIR": str(runtime),
            "QT_QPA_PLATFORM": "xcb",
            "QT_LOGGING_RULES": "qt.multimedia*=false",
            "NO_AT_BRIDGE": "1",
        }
        self.start("openbox", ["openbox"])
        self.grabber = self.start(
            "grabber",
            [sys.executable, "-c", GRABBER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self._shots = 0

    def _xvfb(self) -> str:
        read, write = os.pipe()
        try:
            w, h = SCREEN
            self.start(
                "xvfb",
                [
                    "Xvfb",
                    "-displayfd",
                    str(write),
                    "-screen",
                    "0",
                    f"{w}x{h}x24",
                    "-nolisten",
                    "tcp",
                ],  # fmt: skip
                pass_fds=(write,),
            )
            os.close(write)
            number = b""
            deadline = time.monotonic() + 15
            while not number.endswith(b"\n") and time.monotonic() < deadline:
                chunk = os.read(read, 16)
                if not chunk:
                    break
                number += chunk
        finally:
            os.close(read)
        assert number.strip().isdigit(), "Xvfb did not say its display number"
        return f":{number.decode().strip()}"

    def start(self, name: str, argv: list[str], **kwargs: Any) -> subprocess.Popen[Any]:
        log = open(self.tmp / f"{name}.log", "w", encoding="utf-8")  # noqa: SIM115
        self.logs.append(log)
        kwargs.setdefault("stdout", log)
        proc = subprocess.Popen(
            argv,
            stderr=log,
            env=kwargs.pop("env", getattr(self, "env", None)),
            preexec_fn=_die_with_parent,
            **kwargs,
        )
        self.procs.append(proc)
        return proc

    def xdotool(self, *args: object, timeout: float = 15) -> str:
        done = subprocess.run(
            ["xdotool", *map(str, args)],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )
        return done.stdout.strip()

    def window(self, name_regex: str) -> str:
        """The id of the visible window whose title matches, waiting for it. Polled: `search
        --sync` gave up with status 1 on a busy machine (a splash window gone mid-query)."""

        def find() -> str | None:
            found = subprocess.run(
                ["xdotool", "search", "--onlyvisible", "--name", name_regex],
                env=self.env,
                capture_output=True,
                text=True,
                timeout=15,
            ).stdout.split()
            return found[0] if found else None

        return str(_wait(f"a window named {name_regex!r}", find, 60))

    def place(self, window: str, box: tuple[int, int, int, int]) -> None:
        x, y, w, h = box
        self.xdotool("windowsize", "--sync", window, w, h)
        self.xdotool("windowmove", "--sync", window, x, y)

    def title(self, window: str) -> str:
        return self.xdotool("getwindowname", window)

    def click_for_title(self, window: str, at: tuple[int, int], title: str) -> str:
        """Clicks, and gives the window's title once it changes from `title` (the click
        reached the app and selected another section) or, after 0.25 s, as it is."""
        self.xdotool("mousemove", *at, "click", 1)
        deadline = time.monotonic() + 0.25
        while (now := self.title(window)) == title and time.monotonic() < deadline:
            time.sleep(0.02)
        return now

    def title_starts(self, window: str, prefix: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self.title(window).startswith(prefix):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def show_all_files(self, window: str) -> None:
        """Home in the sidebar (it has the focus after a click there): All files."""
        self.xdotool("key", "Home")
        assert self.title_starts(window, "All files", 10), "Home did not show All files"

    def grab(self, path: Path | None = None) -> Image.Image:
        if path is None:
            self._shots += 1
            path = self.tmp / f"shot-{self._shots}.png"
        assert self.grabber.stdin is not None and self.grabber.stdout is not None
        self.grabber.stdin.write(f"{path}\n")
        self.grabber.stdin.flush()
        assert self.grabber.stdout.readline().strip() == "ok"
        with Image.open(path) as shot:
            return shot.convert("RGB")

    def settled(
        self, box: tuple[int, int, int, int], changed_from: Image.Image | None = None
    ) -> Image.Image:
        """A grab of `box` once two grabs 150 ms apart are the same (thumbnails drawn), and
        unlike `changed_from` if given (the change asked for has been drawn)."""
        x, y, w, h = box
        area = (x, y, x + w, y + h)
        last = self.grab().crop(area)

        def same() -> Image.Image | None:
            nonlocal last
            time.sleep(0.15)
            now = self.grab().crop(area)
            if ImageChops.difference(now, last).getbbox() is not None:
                last = now
                return None
            if changed_from is not None and not ImageChops.difference(now, changed_from).getbbox():
                return None
            return now

        return _wait("the file manager to show the change", same, 15)

    def drag(self, start: tuple[int, int], end: tuple[int, int], steps: int = 24) -> None:
        """Press at `start`, move in small steps to `end`, release: real XDND between apps."""
        self.xdotool("mousemove", *start)
        self.xdotool("mousedown", 1)
        (x0, y0), (x1, y1) = start, end
        for i in range(1, steps + 1):
            # the first steps are a few pixels: GTK starts the drag past its threshold
            f = (i / steps) ** 2
            self.xdotool("mousemove", round(x0 + (x1 - x0) * f), round(y0 + (y1 - y0) * f))
            time.sleep(0.03)
        for wiggle in (3, 0):  # a last motion over the target: Qt answers XdndPosition
            self.xdotool("mousemove", x1 + wiggle, y1)
            time.sleep(0.1)
        self.xdotool("mouseup", 1)

    def close(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in reversed(self.procs):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        for log in self.logs:
            log.close()


def changed_item(before: Image.Image, after: Image.Image) -> tuple[int, int]:
    """The middle of the top-left run of changed pixels (an icon that was selected or drawn),
    in the coordinates of the images."""
    mask = ImageChops.difference(before, after).convert("L").point(lambda v: 255 if v > 24 else 0)
    box = mask.getbbox()
    assert box is not None, "nothing changed in the file manager"
    top = box[1]
    band = mask.crop((0, top, mask.width, min(top + 12, mask.height)))
    columns = [x for x in range(band.width) if band.crop((x, 0, x + 1, band.height)).getbbox()]
    end = columns[0]
    for x in columns[1:]:
        if x - end > 4:
            break  # the next icon of the row
        end = x
    return (columns[0] + end) // 2, top + 8


def catalog_rows(db: Path) -> list[tuple[str, int | None, str]]:
    if not db.is_file():
        return []
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return list(
            con.execute(
                "SELECT original_filename, athlete_id, status FROM media_files"
                " WHERE deleted_at IS NULL ORDER BY id"
            )
        )
    except sqlite3.OperationalError:
        return []  # the schema is still being made
    finally:
        con.close()


def stable_rows(db: Path, count: int) -> list[tuple[str, int | None, str]]:
    """The catalog once it holds `count` ready files and has not changed for half a second
    (a file dropped by mistake shows as a row too many, not as a race)."""
    seen: list[Any] = [None, 0.0]

    def settled() -> list[tuple[str, int | None, str]] | None:
        rows = catalog_rows(db)
        now = time.monotonic()
        if rows != seen[0]:
            seen[:] = [rows, now]
            return None
        ready = [r for r in rows if r[2] == "ready"]
        return rows if len(ready) >= count and now - seen[1] > 0.5 else None

    return _wait(f"{count} files in the catalog", settled, 25, lambda: seen[0])


@pytest.fixture
def session(tmp_path: Path) -> Iterator[XSession]:
    _needed()
    x = XSession(tmp_path)
    try:
        yield x
    finally:
        x.close()


def test_files_dragged_from_pcmanfm_are_catalogued_and_filed_under_the_athlete_dropped_on(
    session: XSession, tmp_path: Path
) -> None:
    folder = tmp_path / "drag-source"
    folder.mkdir()
    media.make_jpeg(folder / DROPPED[0], color=(200, 40, 40))
    media.make_png(folder / DROPPED[1], color=(40, 160, 60))
    media.make_mp4(folder / DROPPED[2])
    data = tmp_path / "data"
    data.mkdir()
    library = Library.open(make_settings(data))
    try:
        athlete_id = library.create_athlete(ATHLETE).id
    finally:
        library.close()
    db = data / "mediadesk.sqlite3"

    session.start(
        "app",
        [sys.executable, "-m", "desktop_app", "--data-dir", str(data), "--language", "en"],
        cwd=ROOT,
        env={
            **session.env,
            "MEDIADESK_SERVER_AUTOSTART": "0",  # no port taken: tests run side by side
            "MEDIADESK_WORKERS": "0",  # no video encoding on the shared cores
        },
    )
    session.start("pcmanfm", ["pcmanfm", "--no-desktop", str(folder)])
    try:
        app = session.window(r"^All files")  # WM_NAME: without " — MediaDesk"
        fm = session.window(rf"^{folder.name}$")
        session.place(app, APP_BOX)
        session.place(fm, FM_BOX)

        # The athlete's row: where a click makes the title name the athlete, going down the
        # sidebar from below the menu bar (below the athlete is empty space). A title read
        # on a busy machine may lag a click, so the place found is then tried again from All
        # files (Home in the sidebar), waiting as long as it takes.
        ax, ay = APP_BOX[0] + 40, APP_BOX[1]
        title = session.title(app)
        found = None
        for y in range(ay + 30, ay + 300, 8):  # rows are ~16 px: each is hit once or twice
            title = session.click_for_title(app, (ax, y), title)
            if title.startswith(ATHLETE):
                found = y
                break
        assert found is not None, "no athlete row in the sidebar"
        athlete_y = None
        for y in (found + 4, found - 4, found - 12):  # within the row's top 8 px, or above
            session.show_all_files(app)
            time.sleep(0.5)  # past Qt's double-click time: a double-click would rename
            session.xdotool("mousemove", ax, y, "click", 1)
            if session.title_starts(app, ATHLETE, 5):
                athlete_y = y
                break
        assert athlete_y is not None, f"the athlete's row was not found again near y={found}"
        session.show_all_files(app)

        # 1. Every file of the folder (Ctrl+A in pcmanfm) dropped on the grid.
        fx, fy, fw, fh = FM_BOX
        session.xdotool("windowactivate", "--sync", fm)
        session.xdotool("mousemove", fx + fw - 30, fy + fh - 60, "click", 1)
        before = session.settled(FM_BOX)
        session.xdotool("key", "ctrl+a")
        after = session.settled(FM_BOX, changed_from=before)
        ix, iy = changed_item(before, after)
        grid = (APP_BOX[0] + APP_BOX[2] // 2, APP_BOX[1] + APP_BOX[3] // 3)
        session.drag((fx + ix, fy + iy), grid)
        rows = stable_rows(db, len(DROPPED))
        assert sorted(rows) == sorted((name, None, "ready") for name in DROPPED)

        # 2. One more file, dragged alone onto the athlete in the sidebar: filed there.
        session.xdotool("windowactivate", "--sync", fm)
        session.xdotool("mousemove", fx + fw - 30, fy + fh - 60, "click", 1)
        before = session.settled(FM_BOX)
        media.make_jpeg(folder / LATER, color=(220, 200, 30))
        after = session.settled(FM_BOX, changed_from=before)
        ix, iy = changed_item(before, after)
        session.drag((fx + ix, fy + iy), (ax, athlete_y))
        rows = stable_rows(db, len(DROPPED) + 1)
        assert sorted(rows) == sorted(
            [(name, None, "ready") for name in DROPPED] + [(LATER, athlete_id, "ready")]
        )
    except BaseException:
        session.grab(tmp_path / "screen-on-failure.png")
        raise
