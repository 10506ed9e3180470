"""Asked when Settings ▸ Storage changes backend while files live on the old one; then the
background move with its progress."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QProgressBar,
    QProgressDialog,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.controllers.settings_controller import SettingsController
from desktop_app.formatting import PROGRESS_FORMAT

MOVE, KEEP = "move", "keep"


def backend_title(name: str) -> str:
    if name == "r2":
        return QCoreApplication.translate("SettingsController", "Cloudflare R2")
    return QCoreApplication.translate("SettingsController", "this computer")


class StorageSwitchDialog(QDialog):
    """Move the files, or keep reading them where they are; `choice` after accept()."""

    def __init__(self, old: str, new: str, files: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("storage-switch")
        self.setWindowTitle(self.tr("Switch storage"))
        layout = QVBoxLayout(self)
        self.intro = intro = QLabel(
            self.tr(
                "%Ln file(s) are stored on %1. New files will be stored on %2. "
                "What should happen to the files already there?",
                "",
                files,
            )
            .replace("%1", backend_title(old))
            .replace("%2", backend_title(new)),
            self,
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.move_files = QRadioButton(
            self.tr("Move my files to the new storage (recommended)"), self
        )
        move_hint = QLabel(
            self.tr(
                "Runs in the background. Each file is copied, checked against its SHA-256 "
                "fingerprint and only then removed from the old storage. You can stop and "
                "continue later."
            ),
            self,
        )
        self.keep_files = QRadioButton(self.tr("Keep reading old files from where they are"), self)
        keep_hint = QLabel(
            self.tr(
                "Nothing is copied. Old files stay readable from %1 as long as it stays "
                "reachable with the current settings."
            ).replace("%1", backend_title(old)),
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
        self._done = (0, 0)  # files moved, of how many: the label's first line
        self.setWindowTitle(self.tr("Moving files"))
        self.setLabelText(self.tr("Preparing…"))
        self.setCancelButtonText(self.tr("Stop"))
        self.setMinimumDuration(0)
        self.setAutoClose(False)
        self.setAutoReset(False)
        self.setWindowModality(Qt.WindowModality.NonModal)
        self.setMinimumWidth(460)
        bar = QProgressBar(self)
        bar.setFormat(PROGRESS_FORMAT)
        self.setBar(bar)
        controller.migrationProgress.connect(self._on_progress)
        controller.migrationRemoving.connect(self._on_removing)
        controller.migrationFinished.connect(self._on_finished)
        self.canceled.connect(controller.cancel_migration)

    def _on_progress(self, done: int, total: int, name: str) -> None:
        self.setMaximum(max(total, 1))
        self.setValue(done)
        self._done = (done, total)
        self.setLabelText(self._moved(name))

    def _moved(self, then: str) -> str:
        done, total = self._done
        return (
            self.tr("Moved %1 of %2 files\n%3")
            .replace("%1", str(done))
            .replace("%2", str(total))
            .replace("%3", then)
        )

    def _on_removing(self, left: int, seconds: int) -> None:
        """Every file moved; their old copies are kept a minute for readers of other
        processes (core/storage_migration.py SOURCE_KEPT_SECONDS): said, not sat at N of N."""
        self.setLabelText(
            self._moved(
                self.tr("Removing the old copies… (%Ln left, %1 s)", "", left).replace(
                    "%1", str(seconds)
                )
            )
        )

    def _on_finished(self, complete: bool, moved: int, failed: int, error: str) -> None:
        if complete:
            text = self.tr("All files are in the new storage (%Ln moved).", "", moved)
        elif error:
            text = self.tr("The move stopped: %1\nRun it again to continue.").replace("%1", error)
        else:
            text = self.tr(
                "%Ln file(s) could not be moved; they stay readable where they are. "
                "Run the move again to retry.",
                "",
                failed,
            )
        self.setLabelText(text)
        self.setCancelButtonText(self.tr("Close"))
        self.canceled.disconnect()
        self.canceled.connect(self.close)
