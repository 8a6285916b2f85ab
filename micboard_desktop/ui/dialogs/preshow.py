"""PreshowDialog: "Ready for show" (issue #19, 3), every channel red, amber or green.

The user gives the show's end (a clock time, or a duration from now, each updating the
other) and a margin; the verdicts come from :func:`micboard_desktop.core.preshow.evaluate`
and follow the store live. Spares are listed apart. The check prints (QPrintDialog, or any
QPrinter, e.g. a PDF file) as one page of HTML. The last end time and margin are kept in
the window's QSettings.
"""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from typing import Final

from PySide6.QtCore import QSettings, Qt, QTime, QTimer
from PySide6.QtGui import QBrush, QFont, QTextDocument
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from micboard_desktop.core.control import SettingsControl
from micboard_desktop.core.preshow import (
    DEFAULT_MARGIN_MINUTES,
    ChannelCheck,
    Grade,
    PreshowReport,
    evaluate,
    hm,
)
from micboard_desktop.core.store import Changes
from micboard_desktop.ui import theme
from micboard_desktop.ui.bridge import StoreBridge
from micboard_desktop.ui.dialogs.common import fit_to_screen
from micboard_desktop.ui.widgets.tables import read_only_table

COLUMNS: Final = ("Ready", "Slot", "Channel", "Performer", "Receiver", "Pack left", "Reasons")
GRADE_LOOK: Final = {
    Grade.RED: theme.StatusLook("NOT READY", "\u2716", theme.RED),
    Grade.AMBER: theme.StatusLook("CHECK", "\u26a0", theme.ORANGE),
    Grade.GREEN: theme.StatusLook("READY", "\u2714", theme.GREEN),
}
"""How each grade reads (a word and a glyph besides the colour)."""
END_KEY: Final = "preshow/end"
MARGIN_KEY: Final = "preshow/margin"
MAX_DURATION: Final = 24 * 60 - 1
REFRESH_MS: Final = 1000
"""Longest the check lags behind the store while it is open."""


def end_at(clock: QTime, now: datetime) -> datetime:
    """Return the next moment at ``clock`` (local time) after ``now``: a show may cross midnight."""
    local = now.astimezone()
    end = local.replace(hour=clock.hour(), minute=clock.minute(), second=0, microsecond=0)
    if end <= local:
        end += timedelta(days=1)
    return end


def runtime_text(check: ChannelCheck) -> str:
    """Return the pack's runtime as the table shows it (``~`` marks the app's estimate)."""
    if check.runtime_minutes is None:
        return ""
    mark = "~" if check.runtime_source == "estimate" else ""
    return f"{mark}{hm(check.runtime_minutes)}"


class PreshowDialog(QDialog):
    """The pre-show check (see the module docstring)."""

    def __init__(
        self,
        bridge: StoreBridge,
        engine: SettingsControl,
        settings: QSettings,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Ready for show")
        self._bridge = bridge
        self._engine = engine
        self._settings = settings
        self.report: PreshowReport | None = None
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(REFRESH_MS)
        self._refresh_timer.timeout.connect(self.refresh)
        self.end_edit = QTimeEdit(self)
        self.end_edit.setDisplayFormat("HH:mm")
        self.end_edit.setToolTip("When the show ends (tomorrow if the time has passed today)")
        self.duration = QSpinBox(self)
        self.duration.setRange(0, MAX_DURATION)
        self.duration.setSuffix(" min")
        self.duration.setToolTip("Or how long from now the show lasts")
        self.margin = QSpinBox(self)
        self.margin.setRange(0, 240)
        self.margin.setSuffix(" min")
        self.margin.setToolTip("How long past the end every pack should still last")
        self.summary = QLabel(self)
        big = QFont(self.font())
        big.setPointSizeF(big.pointSizeF() * 1.6)
        big.setBold(True)
        self.summary.setFont(big)
        self.table = read_only_table(COLUMNS, self, stretch=6)
        body = QFont(self.font())
        body.setPointSizeF(body.pointSizeF() * 1.2)
        self.table.setFont(body)
        self.spares_label = QLabel("Spares (never red: a spare waits switched off)", self)
        self.spares_table = read_only_table(COLUMNS, self, stretch=6)
        self.spares_table.setFont(body)
        self.refresh_button = QPushButton("Check &again", self)
        self.refresh_button.clicked.connect(self.refresh)
        self.print_button = QPushButton("&Print\u2026", self)
        self.print_button.clicked.connect(self.open_print)
        close = QPushButton("&Close", self)
        close.clicked.connect(self.accept)

        when = QHBoxLayout()
        when.addWidget(QLabel("Show ends at", self))
        when.addWidget(self.end_edit)
        when.addWidget(QLabel("or lasts", self))
        when.addWidget(self.duration)
        when.addWidget(QLabel("margin", self))
        when.addWidget(self.margin)
        when.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(self.print_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(when)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 3)
        layout.addWidget(self.spares_label)
        layout.addWidget(self.spares_table, 1)
        layout.addLayout(buttons)

        self._restore()
        self.end_edit.timeChanged.connect(self._end_changed)
        self.duration.valueChanged.connect(self._duration_changed)
        self.margin.valueChanged.connect(self._margin_changed)
        bridge.changed.connect(self._on_changed)
        self.refresh()
        fit_to_screen(self, 1100, 700)

    # -- the show's end ---------------------------------------------------------------

    def _restore(self) -> None:
        saved = QTime.fromString(str(self._settings.value(END_KEY, "") or ""), "HH:mm")
        if not saved.isValid():  # first use: two hours from now, on the quarter hour
            soon = datetime.now().astimezone() + timedelta(hours=2)
            saved = QTime(soon.hour, soon.minute - soon.minute % 15)
        self.end_edit.setTime(saved)
        try:
            margin = int(str(self._settings.value(MARGIN_KEY, DEFAULT_MARGIN_MINUTES)))
        except ValueError:
            margin = DEFAULT_MARGIN_MINUTES
        self.margin.setValue(max(0, min(240, margin)))
        self._sync_duration()

    def show_end(self) -> datetime:
        """Return when the show ends, as entered."""
        return end_at(self.end_edit.time(), datetime.now().astimezone())

    def _sync_duration(self) -> None:
        left = (self.show_end() - datetime.now().astimezone()).total_seconds() / 60
        self.duration.blockSignals(True)
        self.duration.setValue(max(0, min(MAX_DURATION, round(left))))
        self.duration.blockSignals(False)

    def _end_changed(self, _time: QTime) -> None:
        self._settings.setValue(END_KEY, self.end_edit.time().toString("HH:mm"))
        self._sync_duration()
        self.refresh()

    def _duration_changed(self, minutes: int) -> None:
        end = datetime.now().astimezone() + timedelta(minutes=minutes)
        self.end_edit.blockSignals(True)
        self.end_edit.setTime(QTime(end.hour, end.minute))
        self.end_edit.blockSignals(False)
        self._settings.setValue(END_KEY, self.end_edit.time().toString("HH:mm"))
        self.refresh()

    def _margin_changed(self, minutes: int) -> None:
        self._settings.setValue(MARGIN_KEY, minutes)
        self.refresh()

    # -- the check ------------------------------------------------------------------------

    def refresh(self) -> None:
        """Check every channel again against the end entered."""
        config = self._engine.config()
        self.report = evaluate(
            self._bridge.store.snapshot(),
            now=datetime.now().astimezone(),
            show_end=self.show_end(),
            margin_minutes=self.margin.value(),
            limits_for=config.thresholds_for,
            offline_after=config.alert_holds.rx_offline_raise,
        )
        self._fill(self.table, self.report.channels)
        self._fill(self.spares_table, self.report.spares)
        self.spares_label.setVisible(bool(self.report.spares))
        self.spares_table.setVisible(bool(self.report.spares))
        look = GRADE_LOOK[self.report.grade]
        counts = " \u00b7 ".join(
            f"{self.report.count(g)} {GRADE_LOOK[g].text.lower()}"
            for g in (Grade.RED, Grade.AMBER, Grade.GREEN)
        )
        if not self.report.channels:
            self.summary.setText("No channels to check yet.")
            self.summary.setStyleSheet("")
            return
        self.summary.setText(f"{look.label}   {counts}")
        self.summary.setStyleSheet(f"color: {look.ink.name()};")

    @staticmethod
    def _fill(table: QTableWidget, checks: tuple[ChannelCheck, ...]) -> None:
        table.setRowCount(len(checks))
        for row, check in enumerate(checks):
            look = GRADE_LOOK[check.grade]
            cells = (
                look.label,
                str(check.slot) if check.slot is not None else "",
                check.name or check.channel_id,
                check.performer or "",
                check.receiver or "",
                runtime_text(check),
                check.summary,
            )
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(check.summary)  # the reasons may not fit the width
                if col == 0:
                    item.setBackground(QBrush(look.colour))
                    item.setForeground(QBrush(theme.TEXT_ON_COLOUR))
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                table.setItem(row, col, item)
        table.resizeColumnsToContents()

    def _on_changed(self, changes: Changes) -> None:
        # Levels change every poll: check again at most once a second, not per change.
        if changes and self.isVisible() and not self._refresh_timer.isActive():
            self._refresh_timer.start()

    # -- printing -------------------------------------------------------------------------

    def html(self) -> str:
        """Return the check as one HTML page (what is printed)."""
        report = self.report
        if report is None:
            return ""
        colours = {Grade.RED: "#d55e00", Grade.AMBER: "#e69f00", Grade.GREEN: "#009e73"}

        def rows(checks: tuple[ChannelCheck, ...]) -> str:
            out = []
            for c in checks:
                look = GRADE_LOOK[c.grade]
                cells = [look.label, str(c.slot or ""), c.name or c.channel_id,
                         c.performer or "", c.receiver or "", runtime_text(c), c.summary]
                tds = "".join(f"<td>{html.escape(x)}</td>" for x in cells[1:])
                out.append(f'<tr><td style="background:{colours[c.grade]};color:#000">'
                           f"<b>{html.escape(cells[0])}</b></td>{tds}</tr>")
            return "".join(out)

        head = "".join(f"<th align=left>{html.escape(c)}</th>" for c in COLUMNS)
        end = report.show_end.astimezone().strftime("%a %d %b %H:%M")
        at = report.checked_at.astimezone().strftime("%a %d %b %H:%M")
        counts = ", ".join(f"{report.count(g)} {GRADE_LOOK[g].text.lower()}"
                           for g in (Grade.RED, Grade.AMBER, Grade.GREEN))
        page = [
            "<h2>Ready for show</h2>",
            f"<p>Checked {html.escape(at)} for a show ending {html.escape(end)} "
            f"(margin {report.margin_minutes} min): <b>{html.escape(counts)}</b>.</p>",
            f"<table border=1 cellspacing=0 cellpadding=4 width=100%><tr>{head}</tr>"
            f"{rows(report.channels)}</table>",
        ]
        if report.spares:
            page.append("<h3>Spares</h3>")
            page.append(f"<table border=1 cellspacing=0 cellpadding=4 width=100%>"
                        f"<tr>{head}</tr>{rows(report.spares)}</table>")
        return "".join(page)

    def print_to(self, printer: QPrinter) -> None:
        """Print the check on ``printer`` (a PDF file when its output file name is set)."""
        self.refresh()
        document = QTextDocument()
        document.setHtml(self.html())
        document.print_(printer)

    def open_print(self) -> QPrintDialog:
        """Ask for a printer (non-blocking) and print when the user accepts."""
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        dialog = QPrintDialog(printer, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.print_to(printer))
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.show()  # never exec() under qasync
        return dialog
