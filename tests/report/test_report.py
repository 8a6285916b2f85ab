"""The post-show report on a seeded recorded show: the numbers, and html, csv and pdf files."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from micboard_desktop.cli import main
from micboard_desktop.data.db import open_database
from micboard_desktop.data.report_reads import AlertEventRecord
from micboard_desktop.report.csv_report import COLUMNS, render_csv
from micboard_desktop.report.html import render_html
from micboard_desktop.report.model import (
    ReportOptions,
    ShowReport,
    build_report,
    pair_alerts,
    report_span,
)
from tests.report.seed import SHOW, T0, channel_id, seed_show


@pytest.fixture(scope="module", params=["loose", "packed"])
def data_dir(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    """The show with its seconds as loose rows (a live show) or packed into minutes."""
    folder = tmp_path_factory.mktemp(f"show-{request.param}")
    seed_show(folder / "micboard.db", packed=request.param == "packed")
    return folder


@pytest.fixture(scope="module")
def report(data_dir: Path) -> ShowReport:
    db = open_database(data_dir / "micboard.db")
    try:
        with db.read_session() as session, session.begin():
            span = report_span(session, None, None)
            assert span is not None
            return build_report(session, *span)
    finally:
        db.close()


def by_id(report: ShowReport, n: int):
    return next(c for c in report.channels if c.channel_id == channel_id(n))


def test_the_span_is_the_recorded_show(report: ShowReport):
    assert report.since == SHOW.since
    assert report.until == SHOW.until


def test_numbers_per_channel_follow_the_seeded_show(report: ShowReport):
    assert len(report.channels) == SHOW.channels
    quiet = by_id(report, 5)
    assert quiet.on_air_s == SHOW.minutes * 60
    assert (quiet.battery_start, quiet.battery_end, quiet.battery_used) == (90, 71, 19)
    assert (quiet.dropouts, quiet.clips, quiet.under_rf_s) == (0, 0, 0)
    assert quiet.lowest_rf_dbm == -60 - 5 - 5
    dropped = by_id(report, SHOW.dropout_channel)
    assert dropped.dropouts == 1
    assert dropped.under_rf_s == SHOW.dropout_len_s
    assert dropped.lowest_rf_dbm == -97 - 5
    (alert,) = dropped.alerts
    assert alert.rule == "rf_loss"
    assert alert.duration_s == 9
    clipping = by_id(report, SHOW.clip_channel)
    assert clipping.clips == len(SHOW.clip_runs)
    assert clipping.clipped_s == sum(d for _, d in SHOW.clip_runs)
    swapped = by_id(report, SHOW.swap_channel)
    assert [(s.before, s.after) for s in swapped.swaps] == [("80 %", "100 %")]
    assert swapped.battery_used == 9 + 9  # 90 -> 81 on the first pack, 100 -> 91 on the next
    open_alert = by_id(report, 1).alerts[0]
    assert open_alert.cleared_at is None
    assert open_alert.duration_s == 5 * 60  # counted to the end of the span
    assert {c.metric for c in quiet.charts} == {"rssi_dbm", "battery", "audio_peak_dbfs"}


def test_markers_cut_the_show_into_sections(report: ShowReport):
    assert [s.label for s in report.sections] == ["Before Act 1", "Act 1", "Act 2"]
    act1 = report.sections[1]
    assert act1.start == T0 + timedelta(seconds=120)
    assert [a.rule for a in act1.alerts] == ["rf_loss"]
    assert len(act1.swaps) == 1
    assert [a.rule for a in report.sections[2].alerts] == ["low_battery"]


def test_a_span_reads_only_its_time(data_dir: Path):
    db = open_database(data_dir / "micboard.db")
    try:
        with db.read_session() as session, session.begin():
            part = build_report(session, T0, T0 + timedelta(seconds=200))
    finally:
        db.close()
    assert by_id(part, SHOW.dropout_channel).dropouts == 0
    assert by_id(part, 5).battery_end == 90 - 3
    assert [m.label for m in part.markers] == ["Act 1"]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: Counter[str] = Counter()
        self.classes: Counter[str] = Counter()
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        for name, value in attrs:
            if name == "class" and value:
                self.classes.update(value.split())

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_is_one_self_contained_page_with_cards_charts_and_sections(report: ShowReport):
    page = render_html(report)
    parser = _Tags()
    parser.feed(page)
    parser.close()
    assert parser.tags["script"] == 0
    assert not re.search(r"""(src|href)=["']https?:""", page)  # nothing fetched
    assert parser.classes["card"] == SHOW.channels
    assert parser.tags["svg"] == SHOW.channels * 3
    assert parser.tags["section"] == 3
    text = " ".join(parser.text)
    assert "Act 2" in text
    assert "RF lost" in text
    assert "@page { size: A4" in page
    assert "max-width: 700px" in page


def test_csv_has_one_row_per_channel_alert_swap_and_marker(report: ShowReport):
    rows = list(csv.DictReader(io.StringIO(render_csv(report))))
    kinds = Counter(r["record"] for r in rows)
    assert kinds == {"show": 1, "marker": 2, "channel": 6, "swap": 1, "alert": 2}
    assert list(rows[0]) == list(COLUMNS)
    dropped = next(r for r in rows if r["record"] == "channel" and r["dropouts"] == "1")
    assert dropped["channel_id"] == channel_id(SHOW.dropout_channel)
    assert dropped["under_rf_s"] == str(SHOW.dropout_len_s)


def test_csv_cells_never_start_a_formula():
    from micboard_desktop.report.csv_report import _cell

    assert _cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert _cell("-12") == "-12"
    assert _cell(-12.5) == "-12.5"


@pytest.mark.parametrize("fmt", ["html", "csv", "pdf"])
def test_the_command_writes_each_format(fmt: str, data_dir: Path, tmp_path: Path, capsys):
    out = tmp_path / f"report.{fmt}"
    assert main(["report", "--data-dir", str(data_dir), "--format", fmt, "--output", str(out)]) == 0
    assert "6 channel(s)" in capsys.readouterr().out
    data = out.read_bytes()
    if fmt == "pdf":
        assert data.startswith(b"%PDF-")
        assert data.rstrip().endswith(b"%%EOF")
        pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
        assert 2 <= pages <= 5
    elif fmt == "html":
        assert data.startswith(b"<!DOCTYPE html>")
    else:
        assert data.startswith(b"record,channel_id")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--format", "html"], "--output"),
        (["--format", "docx", "--output", "x"], "--format"),
        (["--format", "html", "--output", "OUT", "--from", "tomorrow"], "--from"),
        (["--format", "html", "--output", "OUT", "--to", "2026-13-01"], "--to"),
        (
            [
                "--format",
                "csv",
                "--output",
                "OUT",
                "--from",
                "2026-12-07T20:00Z",
                "--to",
                "2026-12-07T19:00Z",
            ],
            "--from must be before --to",
        ),
        (["--format", "csv", "--output", "/nonexistent/dir/r.csv"], "does not exist"),
        (["--format", "csv", "--output", "DIR"], "is a folder"),
    ],
)
def test_bad_arguments_exit_2_naming_the_problem(
    args: list[str], words: str, data_dir: Path, tmp_path: Path, capsys
):
    args = [a.replace("OUT", str(tmp_path / "r.out")).replace("DIR", str(tmp_path)) for a in args]
    assert main(["report", "--data-dir", str(data_dir), *args]) == 2
    err = capsys.readouterr().err
    assert words in err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_a_folder_without_a_recorded_show_exits_2(tmp_path: Path, capsys):
    code = main(
        [
            "report",
            "--data-dir",
            str(tmp_path),
            "--format",
            "html",
            "--output",
            str(tmp_path / "r.html"),
        ]
    )
    assert code == 2
    assert "no database" in capsys.readouterr().err


def test_pairing_keeps_escalations_and_open_alerts():
    def ev(s: int, raised: bool, severity: str = "warning") -> AlertEventRecord:
        return AlertEventRecord(
            T0 + timedelta(seconds=s), raised, "k", "low_battery", severity, "c", None, "m"
        )

    until = T0 + timedelta(seconds=100)
    spans = pair_alerts(
        [ev(5, False), ev(10, True), ev(20, True, "critical"), ev(30, False), ev(40, True)],
        T0,
        until,
    )
    assert [(a.raised_at - T0).seconds for a in spans] == [0, 10, 40]
    assert [a.severity for a in spans] == ["warning", "critical", "warning"]
    assert [a.duration_s for a in spans] == [5, 20, 60]


def test_coarse_charts_read_minute_aggregates_and_keep_the_dip(data_dir: Path):
    db = open_database(data_dir / "micboard.db")
    try:
        with db.read_session() as session, session.begin():
            coarse = build_report(session, SHOW.since, SHOW.until, ReportOptions(chart_points=10))
    finally:
        db.close()
    rf = next(c for c in by_id(coarse, SHOW.dropout_channel).charts if c.metric == "rssi_dbm")
    assert len(rf.points) == 10
    assert min(p[1] for p in rf.points if p[1] is not None) == -97 - 5
