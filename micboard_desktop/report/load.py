"""Open a database file and build its report in one read transaction (blocking: a thread).

Used by the ``report`` command and by the window's "Post-show report…" (on a worker thread;
SQLite in WAL mode lets it read while the engine writes).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from micboard_desktop.core.errors import SetupError
from micboard_desktop.data.db import open_database
from micboard_desktop.report.model import ReportOptions, ShowReport, build_report, report_span


def load_report(
    database: Path,
    since: datetime | None = None,
    until: datetime | None = None,
    options: ReportOptions | None = None,
) -> ShowReport:
    """Return the report of ``database`` over ``[since, until)`` (missing ends: as recorded).

    Raises:
        SetupError: there is no database file, or nothing was recorded in it.
        DataError: the database cannot be opened (damaged, or from a newer version).
    """
    if not database.is_file():
        raise SetupError(f"no database at {database} (give the --data-dir of a recorded show)")
    db = open_database(database)
    try:
        with db.read_session() as session, session.begin():
            span = report_span(session, since, until)
            if span is None:
                raise SetupError(f"nothing was recorded in {database}")
            return build_report(session, span[0], span[1], options)
    finally:
        db.close()


def render_text(report: ShowReport, fmt: str) -> str:
    """Return the report as ``html`` or ``csv`` text (the pdf is drawn by Qt in ``ui/``)."""
    if fmt == "html":
        from micboard_desktop.report.html import render_html

        return render_html(report)
    if fmt == "csv":
        from micboard_desktop.report.csv_report import render_csv

        return render_csv(report)
    raise ValueError(f"no text renderer for {fmt!r}")
