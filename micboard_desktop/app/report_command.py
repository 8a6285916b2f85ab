"""``micboard-desktop report``: the post-show report from a data directory's database.

Composes the pieces: the data directory's settings (thresholds), the database (read in one
transaction), the Qt-free report model and a renderer (html and csv Qt-free; pdf through
Qt's offscreen platform). The window's "Post-show report…" uses the same loader and
renderers (``report/load.py``, ``ui/report_pdf.py``).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final, TextIO

from micboard_desktop.core.errors import ConfigError, SetupError
from micboard_desktop.core.paths import app_paths
from micboard_desktop.core.timespec import parse_time
from micboard_desktop.report.load import load_report, render_text
from micboard_desktop.report.model import ReportOptions

_log = logging.getLogger(__name__)

FORMATS: Final = ("html", "pdf", "csv")


@dataclass(frozen=True, slots=True)
class ReportResult:
    """What was written."""

    path: Path
    channels: int
    pages: int | None
    """Pages of a PDF; ``None`` for html and csv."""
    since: datetime
    until: datetime


def parse_span(since: str | None, until: str | None) -> tuple[datetime | None, datetime | None]:
    """Return ``--from``/``--to`` as times; a bad one is a SetupError naming the option."""
    parsed: list[datetime | None] = []
    for option, text in (("--from", since), ("--to", until)):
        if text is None:
            parsed.append(None)
            continue
        try:
            parsed.append(parse_time(text))
        except ValueError as exc:
            raise SetupError(f"{option}: {exc}") from None
    start, end = parsed
    if start is not None and end is not None and start >= end:
        raise SetupError("--from must be before --to")
    return start, end


def check_output(output: Path) -> Path:
    """Return ``output`` if a file can be written there, else raise SetupError naming it."""
    target = output.expanduser()
    if target.is_dir():
        raise SetupError(f"--output {output} is a folder; give a file name")
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise SetupError(f"--output: the folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise SetupError(f"--output: cannot write in {parent}")
    return target


def write_report(
    database: Path,
    output: Path,
    fmt: str,
    since: datetime | None = None,
    until: datetime | None = None,
    settings_file: Path | None = None,
) -> ReportResult:
    """Build the report of ``database`` and write it to ``output`` in ``fmt`` (blocking).

    Raises:
        SetupError: no database, nothing recorded, or the output cannot be written.
        DataError: the database cannot be opened (damaged, from a newer version).
    """
    if fmt not in FORMATS:
        raise SetupError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    report = load_report(database, since, until, _options(settings_file))
    pages: int | None = None
    try:
        if fmt == "pdf":
            from micboard_desktop.ui.report_pdf import write_pdf

            pages = write_pdf(report, output)
        else:
            output.write_text(render_text(report, fmt), encoding="utf-8", newline="")
    except OSError as exc:
        raise SetupError(f"--output: cannot write {output}: {exc.strerror or exc}") from None
    if fmt == "pdf" and (not output.is_file() or output.stat().st_size == 0):
        raise SetupError(f"--output: Qt could not write the PDF {output}")
    return ReportResult(output, len(report.channels), pages, report.since, report.until)


def _options(settings_file: Path | None) -> ReportOptions:
    """Return the report's levels: the alert thresholds of the saved settings, if any."""
    if settings_file is None or not settings_file.is_file():
        return ReportOptions()
    try:
        from micboard_desktop.app.settings_file import load_settings

        limits = load_settings(settings_file).alerts
    except ConfigError as exc:  # a broken settings file must not cost the report
        _log.warning("report uses the default thresholds: %s", exc)
        return ReportOptions()
    return ReportOptions(rf_threshold_dbm=limits.rf_loss_rssi_dbm, clip_dbfs=limits.audio_peak_dbfs)


def run_report(
    data_dir: Path | None,
    since: str | None,
    until: str | None,
    fmt: str,
    output: Path,
    out: TextIO,
) -> int:
    """Run the ``report`` command; print where the report went; return 0."""
    start, end = parse_span(since, until)
    target = check_output(output)
    paths = app_paths(data_dir)
    result = write_report(paths.database, target, fmt, start, end, paths.settings)
    pages = f", {result.pages} page(s)" if result.pages is not None else ""
    out.write(f"Wrote {fmt} report of {result.channels} channel(s){pages} to {result.path}\n")
    return 0
