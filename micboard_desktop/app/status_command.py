"""``micboard-desktop status``: print the real-time connection table from the database."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from micboard_desktop.core.paths import app_paths
from micboard_desktop.core.text_clean import clean_text
from micboard_desktop.data.records import ConnectionRecord, JsonValue

_COLOURS = {
    "connected": "\033[32m",
    "connecting": "\033[33m",
    "disconnected": "\033[31m",
    "error": "\033[1;31m",
    "stopped": "\033[2m",
}
_RESET = "\033[0m"


def _age(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "-"
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"


def format_table(
    rows: Sequence[ConnectionRecord], *, colour: bool, detail: bool, now: datetime
) -> str:
    """Render connection rows as an aligned text table (ANSI colour when ``colour``)."""
    header = ["MANUFACTURER", "DEVICE", "TRANSPORT", "STATE", "SINCE", "RECONNECTS", "LAST ERROR"]
    if detail:
        header[-1:-1] = ["ERRORS", "LAST MESSAGE"]
    table = [header]
    for row in rows:
        cells = [
            clean_text(row.manufacturer),
            clean_text(row.receiver_id or row.connection_id),
            row.transport.value,
            row.state.value,
            _age(row.since, now),
            str(row.reconnects),
            # Rows written by an older build may hold raw device text: clean on the way out too.
            clean_text(row.last_error or "-", 80),
        ]
        if detail:
            cells[-1:-1] = [str(row.error_count), _age(row.last_message_at, now)]
        table.append(cells)
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    lines: list[str] = []
    for n, cells in enumerate(table):
        padded = [c.ljust(widths[i]) for i, c in enumerate(cells)]
        if colour and n > 0:
            state_col = header.index("STATE")
            code = _COLOURS.get(cells[state_col], "")
            padded[state_col] = f"{code}{padded[state_col]}{_RESET}"
        lines.append("  ".join(padded).rstrip())
    return "\n".join(lines)


METRICS_KEY = "engine.metrics"  # written by the running engine every few seconds


async def _load(
    database: Path, manufacturer: str | None, state: str | None
) -> tuple[list[ConnectionRecord], JsonValue]:
    from micboard_desktop.app.startup import open_database_off_loop
    from micboard_desktop.data.repository import Repository

    db = await open_database_off_loop(database)
    repo = Repository(db)
    try:
        rows = await repo.list_connections(manufacturer=manufacturer, state=state)
        metrics = await repo.get_config(METRICS_KEY)
        return rows, metrics
    finally:
        await repo.stop()


def format_metrics(metrics: JsonValue) -> str:
    """Render the engine's published metrics as indented lines."""
    if not isinstance(metrics, dict) or not metrics:
        return "Engine metrics: none published yet (is the engine running?)"
    lines = ["Engine metrics:"]
    for key, value in metrics.items():
        if isinstance(value, dict):
            inner = ", ".join(f"{k} {v}" for k, v in value.items()) or "-"
            lines.append(f"  {key.replace('_', ' ')}: {inner}")
        else:
            lines.append(f"  {key.replace('_', ' ')}: {'-' if value is None else value}")
    return "\n".join(lines)


def run_status(
    *,
    data_dir: Path | None,
    manufacturer: str | None,
    state: str | None,
    detail: bool,
    out: TextIO,
) -> int:
    """Print the connection table; return 0 (an empty table is not an error)."""
    database = app_paths(data_dir).database
    if not database.exists():
        print(f"No connections recorded yet (no database at {database}).", file=out)
        return 0
    rows, metrics = asyncio.run(_load(database, manufacturer, state))
    if not rows:
        print("No connections match.", file=out)
    else:
        colour = out.isatty() and "NO_COLOR" not in os.environ
        print(format_table(rows, colour=colour, detail=detail, now=datetime.now(UTC)), file=out)
    if detail:
        print(format_metrics(metrics), file=out)
    return 0
