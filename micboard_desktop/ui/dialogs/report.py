"""ReportDialog: write the post-show report (pdf, html or csv) from the running show's database.

The database is read on a worker thread (SQLite in WAL mode lets it read while the engine
writes; the last second not yet committed is left out), html and csv are rendered there
too; the PDF is laid out by Qt on this thread. The file dialog opens with ``open()``, never
``exec()``: no nested event loop under qasync.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from micboard_desktop.core.control import SettingsControl
from micboard_desktop.report.load import load_report, render_text
from micboard_desktop.report.model import ReportOptions, ShowReport
from micboard_desktop.ui.dialogs.common import fit_to_screen
from micboard_desktop.ui.report_pdf import write_pdf
from micboard_desktop.ui.tasks import UiTasks

FORMATS: Final = (("PDF (A4)", "pdf"), ("HTML (prints, reads on a phone)", "html"), ("CSV", "csv"))
SPANS: Final = (("Last 12 hours", 12.0), ("Last 24 hours", 24.0), ("Everything recorded", None))


class ReportDialog(QDialog):
    """Pick a span and a format, then a file; the report is written without blocking."""

    def __init__(
        self,
        engine: SettingsControl,
        tasks: UiTasks,
        database: Path,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Post-show report")
        self._engine = engine
        self._tasks = tasks
        self._database = database
        self.written: Path | None = None
        """The last file written (tests and the status line read it)."""
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.span = QComboBox(self)
        for label, hours in SPANS:
            self.span.addItem(label, hours)
        self.format = QComboBox(self)
        for label, fmt in FORMATS:
            self.format.addItem(label, fmt)
        form.addRow("Span", self.span)
        form.addRow("Format", self.format)
        layout.addLayout(form)
        self.status = QLabel("Per channel and performer: on-air time, battery, RF, dropouts, "
                             "clips and alerts, with the markers as section heads.", self)
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        buttons = QHBoxLayout()
        self.save_button = QPushButton("Save as\u2026", self)
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.choose_file)
        close = QPushButton("Close", self)
        close.clicked.connect(self.accept)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(close)
        layout.addLayout(buttons)
        fit_to_screen(self, 480, 220)

    def choose_file(self) -> QFileDialog:
        """Open the save dialog (not modal to the app); writing starts when a file is chosen."""
        fmt = str(self.format.currentData())
        stamp = datetime.now().strftime("%Y-%m-%d")
        files = QFileDialog(self, "Save the post-show report", f"show-report-{stamp}.{fmt}")
        files.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        files.setNameFilter(f"{fmt.upper()} (*.{fmt})")
        files.setDefaultSuffix(fmt)
        files.fileSelected.connect(lambda name: self.write(Path(name)))
        files.open()
        return files

    def write(self, path: Path) -> None:
        """Write the report to ``path`` in the chosen format and span."""
        fmt = str(self.format.currentData())
        hours = self.span.currentData()
        since = datetime.now(UTC) - timedelta(hours=float(hours)) if hours else None
        limits = self._engine.config().alerts
        options = ReportOptions(
            rf_threshold_dbm=limits.rf_loss_rssi_dbm, clip_dbfs=limits.audio_peak_dbfs
        )
        self.save_button.setEnabled(False)
        self.status.setText("Reading the recording\u2026")
        self._tasks.start(
            self._produce(path, fmt, since, options),
            name="post-show report",
            done=self._written,
            failed=self._failed,
        )

    async def _produce(
        self, path: Path, fmt: str, since: datetime | None, options: ReportOptions
    ) -> tuple[Path, ShowReport, int | None]:
        report = await asyncio.to_thread(load_report, self._database, since, None, options)
        if fmt == "pdf":
            return path, report, write_pdf(report, path)  # Qt lays it out on this thread
        text = await asyncio.to_thread(render_text, report, fmt)
        await asyncio.to_thread(path.write_text, text, "utf-8")
        return path, report, None

    def _written(self, result: tuple[Path, ShowReport, int | None]) -> None:
        path, report, pages = result
        self.written = path
        self.save_button.setEnabled(True)
        extra = f", {pages} pages" if pages else ""
        self.status.setText(f"Saved {path} ({len(report.channels)} channels{extra}).")

    def _failed(self, error: BaseException) -> None:
        self.save_button.setEnabled(True)
        self.status.setText(f"The report could not be written: {error}")
