"""Application start-up: QApplication, logging, translations, settings and library, main window."""

from __future__ import annotations

import logging
import signal
import socket
import sys
import threading
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, cast

from PySide6.QtCore import QCoreApplication, QEventLoop, QObject, QSize, QSocketNotifier, Qt
from PySide6.QtGui import QFontMetrics, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QApplication, QMessageBox, QSplashScreen

from core.errors import MediaDeskError
from core.logsetup import LogFile, make_formatter, quiet_outage_tracebacks
from core.paths import DATA_DIR_UNUSABLE
from core.secrets import UNSAFE
from core.settings import Settings, load_settings, settings_file_path
from desktop_app.errors import describe_error, error_text, setting_value_message
from desktop_app.i18n import choose_language, install_translations, set_command_line_language
from desktop_app.qt_guard import protect as protect_from_binding_bugs
from desktop_app.resources import app_icon
from desktop_app.views.file_dialogs import fit_file_dialog_columns
from desktop_app.views.focus_ring import show_focus_after_dialogs
from desktop_app.views.message_box import plain_text

if TYPE_CHECKING:
    from core.library import Library

logger = logging.getLogger(__name__)
T = TypeVar("T")


def create_application(argv: list[str] | None = None) -> QApplication:
    protect_from_binding_bugs()
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("MediaDesk")
    app.setOrganizationName("MediaDesk")
    app.setApplicationDisplayName("MediaDesk")
    app.setDesktopFileName("mediadesk")
    app.setWindowIcon(app_icon())
    fit_file_dialog_columns(app)
    show_focus_after_dialogs(app)
    return app


# Chatter that belongs in the log file, not on the console of a desktop user: the embedded
# server's access log and Qt Multimedia's FFmpeg/VA-API/audio-device reports.
QUIET_LOGGERS = ("aiohttp.access", "qt.multimedia", "qt.qpa")
# Qt Multimedia says these without a category (as "default") while it looks for a sound device:
# on a machine or container without one they came on the console at every preview.
AUDIO_PROBING = ("PulseAudioService:", "No audio device detected")


# A file's upload as the user sees it in the queue (core.ingest's "Successfully uploaded file"
# and "File validation error" lines): a line per file on the console, an ERROR per refused file
# (a text file in a dropped folder), during a drop of a thousand files. The log file keeps them.
FILE_OUTCOMES = ("created", "duplicate", "rejected")


class _ConsoleFilter(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.quiet = False  # a log file keeps what the console leaves out (setup_logging)

    def filter(self, record: logging.LogRecord) -> bool:
        if self.quiet and getattr(record, "outcome", None) in FILE_OUTCOMES:
            return False
        if record.levelno >= logging.ERROR:
            return True
        return not record.name.startswith(QUIET_LOGGERS)


def route_qt_messages() -> None:
    """Qt's own messages go through Python logging (category as the logger name): Qt
    Multimedia's stream dumps and device probing, and FFmpeg's own lines, end up in the log
    file only, a missing audio device is one line there, not a screenful on the console."""
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    from desktop_app import ffmpeg_log

    ffmpeg_log.route_through_qt()
    levels = {
        QtMsgType.QtDebugMsg: logging.DEBUG,
        QtMsgType.QtInfoMsg: logging.DEBUG,
        QtMsgType.QtWarningMsg: logging.WARNING,
        QtMsgType.QtCriticalMsg: logging.ERROR,
        QtMsgType.QtFatalMsg: logging.CRITICAL,
    }

    def handler(kind: QtMsgType, context: Any, message: str) -> None:
        category = str(getattr(context, "category", "") or "qt")
        level = levels.get(kind, logging.WARNING)
        if category == "default" and message.startswith(AUDIO_PROBING):
            category = "qt.multimedia.audio"
        elif category == "default" and message.startswith(ffmpeg_log.LINE):
            category = "qt.multimedia.ffmpeg"
        if category.startswith("qt.multimedia") and level < logging.CRITICAL:
            level = logging.DEBUG
        logging.getLogger(category).log(level, "%s", message)

    qInstallMessageHandler(handler)


def setup_logging(settings: Settings | None) -> None:
    root = logging.getLogger()
    if root.handlers:
        return
    fmt = make_formatter(settings.log_format if settings is not None else "text")
    console = logging.StreamHandler()
    console.setFormatter(fmt)
    console.setLevel(logging.INFO)  # without a log file, the console is the only record
    quiet = _ConsoleFilter()
    console.addFilter(quiet)
    root.addHandler(console)
    root.setLevel(logging.DEBUG)  # the file keeps debug lines
    for noisy in ("botocore", "boto3", "urllib3", "s3transfer", "asyncio", "PIL", "multipart"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if settings is not None:
        try:
            settings.paths.logs_dir.mkdir(parents=True, exist_ok=True)
            file = LogFile(settings.paths.logs_dir / "desktop.log")  # a full disk: said once
            file.setFormatter(fmt)
            file.setLevel(logging.DEBUG)
            root.addHandler(file)
            # README: the console stays quiet in normal use. Its INFO lines (start-up, each
            # upload) and the user's refused files, which the queue shows, are in the file
            console.setLevel(logging.WARNING)
            quiet.quiet = True
        except OSError as exc:
            logger.warning("No log file: %s", exc)
    quiet_outage_tracebacks(root)


def show_startup_error(title: str, exc: BaseException, settings_file: str = "") -> None:
    box = QMessageBox(QMessageBox.Icon.Critical, "MediaDesk", title)
    message = describe_error(exc)
    # "A setting is not valid" would repeat the title: the detail names the setting. A data
    # folder that cannot be used has a sentence of its own (which folder, why, where it is set),
    # and so has an unsafe secret file (which one, the fix; the detail adds its local path)
    reason = getattr(exc, "reason", "")
    said = setting_value_message(exc) if isinstance(exc, MediaDeskError) else None
    if reason == UNSAFE:
        detail = message.full()
    elif said is not None:
        # which setting and the kind of value it takes, in the window's language (from core's
        # details); core's English words behind Show Details…, labelled as the others are
        detail = said
        box.setDetailedText(message.technical())
    elif getattr(exc, "code", "") == "invalid_setting" and reason != DATA_DIR_UNUSABLE:
        # only core's English sentence names the setting and its fault: labelled as English
        # (bare, a Spanish dialog read as if half translated)
        detail = message.technical()
    else:
        detail = message.display()
    if settings_file:
        detail += "\n\n" + QCoreApplication.translate("Startup", "Settings file: %1").replace(
            "%1", settings_file
        )
    box.setInformativeText(detail)
    plain_text(box)  # paths and errors quoting them may hold `<`
    box.exec()


def install_excepthook() -> None:
    """Unexpected errors in slots are logged and shown as a message, never as a traceback."""

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        logger.error("Unhandled error", exc_info=(kind, exc, tb))
        if isinstance(exc, KeyboardInterrupt):
            QApplication.quit()
            return
        box = QMessageBox(QMessageBox.Icon.Warning, "MediaDesk", error_text(exc))
        plain_text(box)  # an error may quote a file name
        box.exec()

    sys.excepthook = hook


def _settings_file(data_dir: str | None = None) -> str:
    return str(settings_file_path(data_dir=data_dir or ""))


SPLASH_LOGO = 128
SPLASH_PADDING = 12  # around the message; QSplashScreen itself keeps 5 px from each edge


def splash_screen(message: str) -> QSplashScreen:
    """The start-up splash: the logo above `message`, as wide as the message needs in the
    splash's font and the user's language. The bare 128 px logo cut "Opening the library…"
    on both sides, and the message was drawn over the logo's dark blue in black."""
    splash = QSplashScreen()
    show_splash_message(splash, message)
    return splash


def show_splash_message(splash: QSplashScreen, message: str) -> None:
    """`message` (one line or more) on `splash`, made as wide and tall as it needs: the splash
    is sized for its message, and a longer one said later was cut at its edges. setPixmap
    keeps the splash centred on its screen."""
    metrics = QFontMetrics(splash.font())
    logo = app_icon().pixmap(SPLASH_LOGO, SPLASH_LOGO)
    lines = message.split("\n")
    text_width = max(metrics.horizontalAdvance(line) for line in lines)
    text_height = metrics.height() + metrics.lineSpacing() * (len(lines) - 1)
    width = max(SPLASH_LOGO, text_width + 2 * SPLASH_PADDING)
    height = SPLASH_PADDING + SPLASH_LOGO + SPLASH_PADDING + text_height + SPLASH_PADDING
    ratio = logo.devicePixelRatio()
    canvas = QPixmap(QSize(width, height) * ratio)
    canvas.setDevicePixelRatio(ratio)
    palette = splash.palette()  # the theme's window colours: its text contrasts by design
    canvas.fill(palette.color(QPalette.ColorRole.Window))
    painter = QPainter(canvas)
    painter.drawPixmap((width - SPLASH_LOGO) // 2, SPLASH_PADDING, logo)
    painter.end()
    splash.setPixmap(canvas)
    splash.showMessage(
        message,
        Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignHCenter,
        palette.color(QPalette.ColorRole.WindowText),
    )


def upgrade_message() -> str:
    """What the splash says while the catalog is migrated to this version's schema: a big
    0.1 catalog took a minute behind "Opening the library…", long enough to look hung."""
    return "\n".join(
        (
            QCoreApplication.translate(
                "Startup", "Upgrading the library for this version of MediaDesk (once)."
            ),
            QCoreApplication.translate(
                "Startup", "A big library takes a few minutes — keep MediaDesk open."
            ),
        )
    )


# What open_library's opener is handed: called on the opener's thread when the catalog is
# about to be upgraded (Library.open's on_upgrade)
Upgrading = Callable[[], None]


def open_library(
    app: QApplication, settings: Settings, opener: Callable[[Settings, Upgrading], T]
) -> T:
    """Opens the library (migrations, storage) in a thread behind a splash screen.

    The GUI thread keeps painting meanwhile, so a slow database or disk never shows a frozen,
    empty screen; the opener's exception is re-raised here. When the opener says the catalog
    is being upgraded, the splash says so: the GUI thread sees it in its loop (Qt widgets are
    the GUI thread's only).
    """
    splash = splash_screen(QCoreApplication.translate("Startup", "Opening the library…"))
    splash.show()
    outcome: dict[str, Any] = {}
    upgrading = threading.Event()

    def work() -> None:
        try:
            outcome["value"] = opener(settings, upgrading.set)
        except BaseException as exc:  # noqa: BLE001 - handed back to the GUI thread
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="open-library", daemon=True)
    worker.start()
    told = False
    while worker.is_alive():
        if upgrading.is_set() and not told:
            told = True
            show_splash_message(splash, upgrade_message())
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        worker.join(0.02)
    splash.close()
    if "error" in outcome:
        raise outcome["error"]
    return cast(T, outcome["value"])


def open_with_window_state(
    settings: Settings, upgrading: Upgrading | None = None
) -> tuple[Library, dict[str, object]]:
    """The library and the window's saved layout, both read behind the splash (open_library):
    the layout file is in the data folder too, and on a NAS or a USB disk the GUI thread
    waited for it at each start. `upgrading`: called before the catalog is upgraded."""
    from core.library import Library
    from desktop_app.views.main_window import read_window_state, window_state_file

    library = Library.open(settings, on_upgrade=upgrading)
    return library, read_window_state(window_state_file(settings))


def load_startup_settings(data_dir: str | None = None) -> Settings:
    """The settings the window opens with: R2 chosen without its keys (given only in the
    environment to `storage migrate`) opens it anyway, with a bar that leads to the Settings
    where they are entered; refused, they could never be entered there. `data_dir`: the
    folder of `mediadesk --data-dir` (its source is then "flag")."""
    overrides: dict[str, Any] = {"data_dir": data_dir} if data_dir else {}
    return load_settings(allow_incomplete_storage=True, **overrides)


# A logout or shutdown (the session's or systemd's SIGTERM), `kill PID`, a closed terminal
# (SIGHUP) and Ctrl+C in it (SIGINT): each quits the window as Quit does (README)
STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP", "SIGINT") if hasattr(signal, name)
)


def _noted(_signum: int, _frame: object) -> None:
    """Nothing to do here: the wakeup fd carries the signal to the event loop (StopSignals)."""


class StopSignals(QObject):
    """STOP_SIGNALS heard in Qt's event loop, `on_signal(signum)` called there for each.

    Python runs a handler only when Python code runs, which Qt's idle loop never does: SIGINT
    waited for the next Python slot and came as a KeyboardInterrupt (the window state lost),
    SIGTERM and SIGHUP killed the app outright. The C-level handler writes the signal's number
    to the wakeup socket at once, and its notifier wakes whichever loop runs, a modal dialog's
    included. Handlers of our own stay until `close()`: a second signal during the orderly stop
    does not kill it half-way (its queue and window state still being written)."""

    def __init__(self, on_signal: Callable[[int], None]) -> None:
        super().__init__()
        self._on_signal = on_signal
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._read)
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        # a signal the app was started to ignore stays ignored: `nohup mediadesk &` is how a
        # user keeps it past the terminal's close, and a shell ignores SIGINT for the
        # background jobs a script starts
        self._previous = {
            signum: signal.signal(signum, _noted)
            for signum in STOP_SIGNALS
            if signal.getsignal(signum) is not signal.SIG_IGN
        }

    def _read(self, *_: object) -> None:
        try:
            numbers = self._reader.recv(64)
        except (BlockingIOError, InterruptedError):
            return
        for signum in numbers:
            if signum in STOP_SIGNALS:
                self._on_signal(signum)

    def close(self) -> None:
        self._notifier.setEnabled(False)
        for signum, handler in self._previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        signal.set_wakeup_fd(self._previous_fd)
        self._reader.close()
        self._writer.close()


def run_gui(language: str | None = None, data_dir: str | None = None) -> int:
    """Starts the desktop application; returns its exit code. `language`: --language's,
    `data_dir`: --data-dir's folder."""
    set_command_line_language(language)  # the Settings window names it
    try:
        return _run_gui(language, data_dir)
    finally:
        set_command_line_language(None)  # a process that starts it again (tests) without it


def _run_gui(language: str | None, data_dir: str | None) -> int:
    app = create_application()
    try:
        settings = load_startup_settings(data_dir)
    except MediaDeskError as exc:
        setup_logging(None)
        install_translations(choose_language(language))
        if exc.reason == DATA_DIR_UNUSABLE:  # a folder, not a setting's value, is the fault
            title = QCoreApplication.translate("Startup", "MediaDesk cannot use its data folder.")
        else:
            title = QCoreApplication.translate(
                "Startup", "MediaDesk cannot start because a setting is not valid."
            )
        show_startup_error(title, exc, _settings_file(data_dir))
        return 2
    setup_logging(settings)
    route_qt_messages()
    install_translations(choose_language(language or settings.language))
    from desktop_app.views.main_window import MainWindow
    from desktop_app.views.panes import show_on_screen

    try:
        library, saved_state = open_library(app, settings, open_with_window_state)
    except Exception as exc:  # noqa: BLE001 - storage, database: shown with the cause
        logger.exception("Cannot open the library")
        show_startup_error(
            QCoreApplication.translate("Startup", "MediaDesk cannot open its library."),
            exc,
            settings.config_file,
        )
        return 2
    install_excepthook()
    window = MainWindow(library, saved_state=saved_state)
    heard: list[int] = []

    def stop(signum: int) -> None:
        name = signal.Signals(signum).name
        if heard:
            logger.info("%s while quitting: the stop goes on", name)
        else:
            logger.info("%s: quitting as Quit does, without questions", name)
        heard.append(signum)
        window.quit_unattended()

    # from the window on (before, the default: nothing of the session to save yet)
    signals = StopSignals(stop)
    show_on_screen(window)
    window.start_services()
    from core.video.worker import start_in_process

    workers = start_in_process(library)  # threads; each encode runs in a niced subprocess
    try:
        # a clean stop, as `serve`'s on each of these signals once it serves (server.cli)
        return app.exec()
    finally:
        if workers is not None:
            workers.stop()
        library.close()
        signals.close()
