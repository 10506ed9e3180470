"""Asked when Settings ▸ Storage changes backend while files live on the old one; then the
background move with its progress."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QLocale, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QProgressBar,
    QProgressDialog,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from core.storage_migration import MigrationFailure
from desktop_app.controllers.settings_controller import (
    MoveFailure,
    MoveOutcome,
    SettingsController,
)
from desktop_app.errors import describe_error, error_from_record
from desktop_app.formatting import PROGRESS_FORMAT, tip_text
from desktop_app.views.message_box import plain_text

MOVE, KEEP = "move", "keep"
NAMES_SHOWN = 3  # a reason's first file names in the report; the rest behind "Show Details…"
NAME_CHARS = 48  # longer names are cut in the middle there (a name never wraps)
REPORT_TEXT_WIDTH = 460  # pixels: the progress window's width, the report shown in its place


def backend_title(name: str) -> str:
    if name == "r2":
        return QCoreApplication.translate("SettingsController", "Cloudflare R2")
    return QCoreApplication.translate("SettingsController", "this computer")


class StorageSwitchDialog(QDialog):
    """Move the files, or keep reading them where they are; `choice` after accept().

    `resume`: the backend is kept and `files` are still on `old` (a move stopped or partly
    failed, or files kept there): the same choice, asked about the files left."""

    def __init__(
        self,
        old: str,
        new: str,
        files: int,
        parent: QWidget | None = None,
        resume: bool = False,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("storage-switch")
        if resume:
            self.setWindowTitle(self.tr("Files still to move"))
            text = self.tr(
                "%Ln file(s) are still on %1, not on %2 where new files are stored. Move them now?",
                "",
                files,
            )
            move_text = self.tr("Move them to %1 now (recommended)")
            keep_text = self.tr("Leave them where they are for now")
        else:
            self.setWindowTitle(self.tr("Switch storage"))
            text = self.tr(
                "%Ln file(s) are stored on %1. New files will be stored on %2. "
                "What should happen to the files already there?",
                "",
                files,
            )
            move_text = self.tr("Move my files to the new storage (recommended)")
            keep_text = self.tr("Keep reading old files from where they are")
        layout = QVBoxLayout(self)
        self.intro = intro = QLabel(
            text.replace("%1", backend_title(old)).replace("%2", backend_title(new)), self
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.move_files = QRadioButton(move_text.replace("%1", backend_title(new)), self)
        move_hint = QLabel(
            self.tr(
                "Runs in the background. Each file is copied, checked against its SHA-256 "
                "fingerprint and only then removed from the old storage. You can stop and "
                "continue later."
            ),
            self,
        )
        self.keep_files = QRadioButton(keep_text, self)
        keep_hint = QLabel(
            self.tr(
                "Nothing is copied. Old files stay readable from %1 as long as it stays "
                "reachable with the current settings."
            ).replace("%1", backend_title(old))
            + " "
            + self.tr("You can move them later with Settings ▸ Storage ▸ Move the old files…"),
            self,
        )
        group = QButtonGroup(self)
        for button, hint in ((self.move_files, move_hint), (self.keep_files, keep_hint)):
            group.addButton(button)
            hint.setWordWrap(True)
            hint.setIndent(22)
            hint.setStyleSheet("color: palette(placeholder-text);")
            layout.addWidget(button)
            layout.addWidget(hint)
        self.move_files.setChecked(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("Save and continue"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.setMinimumWidth(520)
        self.adjustSize()

    @property
    def choice(self) -> str:
        return MOVE if self.move_files.isChecked() else KEEP


class MigrationProgress(QProgressDialog):
    """Follows a running migration; Cancel stops after the current file (resumable), or ends
    the wait for the old copies at once (their deletions stay queued for maintenance)."""

    def __init__(self, controller: SettingsController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("storage-migration-progress")
        self.controller = controller
        self._done = (0, 0)  # files done (moved or not), of how many: the label's first line
        self._not_moved = 0  # of those done: failed, or changed meanwhile and left
        self.setWindowTitle(self.tr("Moving files"))
        self.setLabelText(self.tr("Preparing…"))
        self.setCancelButtonText(self.tr("Stop"))
        self.setMinimumDuration(0)
        self.setAutoClose(False)
        self.setAutoReset(False)
        self.setWindowModality(Qt.WindowModality.NonModal)
        self.setMinimumWidth(REPORT_TEXT_WIDTH)
        # QProgressDialog widens itself to its label's text: a 255-character file name made it
        # 1825 px wide on a 1600 px screen, Stop out of reach. Names are cut to this width
        # (the whole name in the tooltip), the window kept inside the screen.
        self.label = QLabel(self)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setLabel(self.label)
        screen = self.screen()
        if screen is not None:
            self.setMaximumWidth(max(screen.availableGeometry().width(), REPORT_TEXT_WIDTH))
        bar = QProgressBar(self)
        bar.setFormat(PROGRESS_FORMAT)
        self.setBar(bar)
        controller.migrationProgress.connect(self._on_progress)
        controller.migrationRemoving.connect(self._on_removing)
        controller.migrationReported.connect(self._on_reported)
        controller.migrationFinished.connect(self._on_finished)
        self.canceled.connect(controller.cancel_migration)
        self._outcome: MoveOutcome | None = None
        self.report: MoveReport | None = None  # failures or a stop, said in their own box

    def _on_progress(self, done: int, total: int, name: str) -> None:
        self.setMaximum(max(total, 1))
        self.setValue(done)
        if done > self._done[0] and not name:
            # core's step names the file it moved and no other (MigrationStep, _move_one):
            # counting every step as moved said "Moved 6 of 6 files" when 2 had failed
            self._not_moved += 1
        self._done = (done, total)
        self.setLabelText(self._moved(self._elided(name)))
        self.label.setToolTip(tip_text(name))

    def _elided(self, name: str) -> str:
        """`name` cut in the middle to the text width of this window as first sized."""
        width = REPORT_TEXT_WIDTH - 2 * self.style().pixelMetric(
            self.style().PixelMetric.PM_LayoutLeftMargin
        )
        return QFontMetrics(self.label.font()).elidedText(name, Qt.TextElideMode.ElideMiddle, width)

    def _moved(self, then: str) -> str:
        done, total = self._done
        if self._not_moved:
            line = self.tr("%1 of %Ln file(s) done (%2 not moved)", "", total).replace(
                "%2", QLocale().toString(self._not_moved)
            )
        else:
            line = self.tr("Moved %1 of %Ln file(s)", "", total)
        return f"{line.replace('%1', QLocale().toString(done))}\n{then}"

    def _on_removing(self, left: int, seconds: int) -> None:
        """Every file moved; their old copies are kept a minute for readers of other
        processes (core/storage_migration.py SOURCE_KEPT_SECONDS): said, not sat at N of N."""
        self.label.setToolTip("")
        self.setLabelText(
            self._moved(
                # what the numbers count: "(8 left, 60 s)" said neither
                self.tr(
                    "Removing the old copies… %Ln copies left; all removed in %1 s",
                    "",
                    left,
                ).replace("%1", QLocale().toString(seconds))
            )
        )

    def _on_reported(self, outcome: MoveOutcome) -> None:
        self._outcome = outcome

    def _on_finished(self, complete: bool, moved: int, failed: int, error: str) -> None:
        # this window follows one move: kept connected, it opened its report again at the end
        # of every later move (the "files still to move" question starts another)
        c = self.controller
        c.migrationProgress.disconnect(self._on_progress)
        c.migrationRemoving.disconnect(self._on_removing)
        c.migrationReported.disconnect(self._on_reported)
        c.migrationFinished.disconnect(self._on_finished)
        outcome, self._outcome = self._outcome, None
        self.label.setToolTip("")
        self.setCancelButtonText(self.tr("Close"))
        self.canceled.disconnect()
        self.canceled.connect(self.close)
        if complete:
            self.setLabelText(self.tr("All files are in the new storage (%Ln moved).", "", moved))
        elif error or outcome is None:
            self.setLabelText(
                self.tr("The move stopped: %1\nRun it again to continue.").replace("%1", error)
            )
        else:
            # Stop hid this window already; failures need room this label does not have
            self.report = MoveReport(outcome, self.parentWidget())
            self.report.open()
            self.close()


def _retryable(failure: MoveFailure) -> bool:
    """Whether running the move again can move this file as it is: core's rule."""
    return MigrationFailure(failure.file_id, failure.error, failure.code, failure.reason).retryable


def _error_of(failure: MoveFailure) -> BaseException:
    record = {"code": failure.code, "reason": failure.reason, "message": failure.error}
    error = error_from_record(record)
    assert error is not None  # a record with a code always makes one
    return error


def _short(name: str) -> str:
    if len(name) <= NAME_CHARS:
        return name
    half = (NAME_CHARS - 1) // 2
    return f"{name[:half]}…{name[-half:]}"


class MoveReport(QMessageBox):
    """A move that left files behind, or was stopped: how many moved, and for each reason the
    failed files got (in the words of desktop_app/errors.py), how many and their first names;
    every name behind "Show Details…", so a thousand failures stay a short box."""

    def __init__(self, outcome: MoveOutcome, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("storage-migration-report")
        self.setWindowTitle(self.tr("Moving files"))
        self.setIcon(
            QMessageBox.Icon.Warning
            if outcome.failed or outcome.skipped
            else QMessageBox.Icon.Information
        )
        self.setStandardButtons(QMessageBox.StandardButton.Close)
        groups: dict[tuple[str, str | None], list[MoveFailure]] = {}
        for failure in outcome.failed:
            groups.setdefault((failure.code, failure.reason), []).append(failure)
        ordered = sorted(groups.values(), key=len, reverse=True)
        self.setText(self._headline(outcome))
        lines = []
        details = []
        for failures in ordered:
            sentence = describe_error(_error_of(failures[0])).text
            lines.append(f"• {sentence}\n{self._names(failures)}")
            details.append("\n".join([sentence, *(f"    {self._name(f)}" for f in failures)]))
        advice = self._advice(outcome)
        if advice:
            lines.append(advice)
        self.setInformativeText("\n\n".join(lines))
        if details:
            self.setDetailedText("\n\n".join(details))
        plain_text(self)  # file names are anyone's text, never markup
        # Qt sizes a message box by its text's first words: a name broke over three lines
        for name in ("qt_msgbox_label", "qt_msgbox_informativelabel"):
            label = self.findChild(QLabel, name)
            if label is not None:
                label.setMinimumWidth(REPORT_TEXT_WIDTH)

    def _headline(self, outcome: MoveOutcome) -> str:
        target = backend_title(outcome.target)
        lines = []
        if outcome.cancelled:
            lines.append(
                self.tr(
                    "The move was stopped after %Ln file(s) had been moved to %1.",
                    "",
                    outcome.moved,
                ).replace("%1", target)
            )
            if outcome.left is None:
                lines.append(
                    self.tr(
                        "The other files were not moved: they stay readable where they are. "
                        "Run the move again to continue with them."
                    )
                )
            else:
                lines.append(
                    self.tr(
                        "%Ln file(s) were not moved: they stay readable where they are. "
                        "Run the move again to continue with them.",
                        "",
                        outcome.left,
                    )
                )
        elif outcome.moved:
            lines.append(
                self.tr("%Ln file(s) were moved to %1.", "", outcome.moved).replace("%1", target)
            )
        if outcome.failed:
            lines.append(
                self.tr(
                    "%Ln file(s) could not be moved; they stay readable where they are.",
                    "",
                    len(outcome.failed),
                )
            )
        if outcome.skipped:
            lines.append(
                self.tr(
                    "%Ln file(s) changed during the move (renamed or deleted) and were left "
                    "for the next move.",
                    "",
                    outcome.skipped,
                )
            )
        return "\n".join(lines)

    def _advice(self, outcome: MoveOutcome) -> str:
        """ "Run the move again" only where it helps: never for a damaged file alone."""
        retryable = sum(1 for f in outcome.failed if _retryable(f))
        if outcome.cancelled or not retryable:
            return ""  # a stop says it already; the reasons say what else to do
        if retryable == len(outcome.failed):
            return self.tr("Run the move again to retry them.", "", retryable)
        return self.tr(
            "Running the move again retries the files that met a passing fault; the others "
            "first need what is said for them above."
        )

    def _names(self, failures: list[MoveFailure]) -> str:
        shown = ", ".join(_short(self._name(f)) for f in failures[:NAMES_SHOWN])
        more = len(failures) - NAMES_SHOWN
        if more > 0:
            shown = self.tr("%1 and %Ln more", "", more).replace("%1", shown)
        return self.tr("%Ln file(s): %1", "", len(failures)).replace("%1", shown)

    def _name(self, failure: MoveFailure) -> str:
        if failure.name:
            return failure.name
        return self.tr("file %1 (no longer in the library)").replace("%1", str(failure.file_id))
