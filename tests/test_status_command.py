"""``status`` reads what the engine stored and prints it, plain when piped."""

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from micboard_desktop.app.status_command import format_table
from micboard_desktop.core.model import ConnectionStatus, Transport
from micboard_desktop.core.paths import app_paths
from micboard_desktop.data.db import open_database
from micboard_desktop.data.records import ConnectionRecord
from micboard_desktop.data.repository import Repository

NOW = datetime(2026, 11, 26, 20, 0, tzinfo=UTC)
ROWS = [
    ConnectionRecord(
        connection_id="shure:10.0.0.5:2202",
        manufacturer="shure",
        transport=Transport.TCP,
        state=ConnectionStatus.CONNECTED,
        receiver_id="shure:10.0.0.5:2202",
        since=NOW - timedelta(minutes=5),
    ),
    ConnectionRecord(
        connection_id="sennheiser:https://10.0.0.9",
        manufacturer="sennheiser",
        transport=Transport.SSE,
        state=ConnectionStatus.ERROR,
        since=NOW - timedelta(seconds=30),
        reconnects=3,
        error_count=4,
        last_error="authentication failed",
    ),
]


async def store_rows(data_dir: Path) -> None:
    paths = app_paths(data_dir).ensure()
    repo = Repository(open_database(paths.database))
    for row in ROWS:
        repo.queue_connection_state(row)
    await repo.flush()
    await repo.stop()


def status(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "micboard_desktop", "status", *args],
        capture_output=True, text=True, timeout=60,
    )


async def test_status_prints_stored_connections_plain_when_piped(tmp_path: Path):
    await store_rows(tmp_path)
    result = status("--data-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "\033[" not in result.stdout
    lines = result.stdout.strip().splitlines()
    assert lines[0].split()[:4] == ["MANUFACTURER", "DEVICE", "TRANSPORT", "STATE"]
    assert any("shure:10.0.0.5:2202" in line and "connected" in line for line in lines)
    assert any("authentication failed" in line and " 3 " in line for line in lines)


async def test_status_filters_by_manufacturer_and_state(tmp_path: Path):
    await store_rows(tmp_path)
    only_shure = status("--data-dir", str(tmp_path), "--manufacturer", "shure").stdout
    assert "sennheiser" not in only_shure
    assert "shure" in only_shure
    errors = status("--data-dir", str(tmp_path), "--status", "error").stdout
    assert "sennheiser" in errors
    assert "10.0.0.5" not in errors


def test_status_without_a_database_says_so(tmp_path: Path):
    result = status("--data-dir", str(tmp_path / "empty"))
    assert result.returncode == 0
    assert "No connections recorded yet" in result.stdout
    assert not (tmp_path / "empty" / "micboard.db").exists()


def test_colour_and_detail_columns():
    text = format_table(ROWS, colour=True, detail=True, now=NOW)
    assert "\033[32mconnected" in text
    assert "\033[1;31merror" in text
    assert "LAST MESSAGE" in text.splitlines()[0]
    assert "5m" in text


def test_detail_prints_the_engines_published_metrics():
    from micboard_desktop.app.status_command import format_metrics

    text = format_metrics(
        {"poll_success_rate": {"shure": 1.0}, "messages_per_second": 52.5, "cache_hit_rate": None}
    )
    assert "poll success rate: shure 1.0" in text
    assert "messages per second: 52.5" in text
    assert "cache hit rate: -" in text
    assert "none published" in format_metrics(None)


def test_device_text_cannot_drive_the_terminal():
    """A reason phrase or id with escape sequences prints as plain text (issue #15, 9)."""
    hostile = ConnectionRecord(
        connection_id="sennheiser:https://10.0.0.7\x1b[2J",
        manufacturer="sennheiser",
        transport=Transport.SSE,
        state=ConnectionStatus.ERROR,
        since=NOW,
        last_error="HTTP 500 \x1b]0;owned\x07Evil\ud800\r\nforged line",
    )
    text = format_table([*ROWS, hostile], colour=False, detail=True, now=NOW)
    text.encode("utf-8")  # no lone surrogate reaches the terminal
    assert "\x1b" not in text
    assert "\x07" not in text
    assert "\r" not in text
    assert len(text.splitlines()) == 4  # the header and three rows: no forged line
    assert text.splitlines()[-1].endswith("HTTP 500 ]0;ownedEvil  forged line")
