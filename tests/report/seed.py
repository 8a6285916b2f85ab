"""A small recorded show written straight into a database, for the report tests.

Six channels, twenty minutes of one-second RF and audio buckets, battery every minute, two
markers, an RF-loss alert on channel 2, clipping on channel 3 and a battery swap on channel 4:
every number the report prints can be computed by hand from :data:`SHOW`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from micboard_desktop.core.model import Receiver
from micboard_desktop.data.db import open_database
from micboard_desktop.data.records import HistoryPoint
from micboard_desktop.data.repository import Repository
from micboard_desktop.data.schema import BatterySwapRow
from tests.core.builders import make_channel, make_receiver

T0 = datetime(2026, 12, 7, 19, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Show:
    """The seeded show's facts."""

    channels: int = 6
    minutes: int = 20
    dropout_channel: int = 2
    dropout_at_s: int = 300
    dropout_len_s: int = 8
    clip_channel: int = 3
    clip_runs: tuple[tuple[int, int], ...] = ((400, 3), (900, 2))
    swap_channel: int = 4
    swap_at_s: int = 600
    markers: tuple[tuple[int, str], ...] = ((120, "Act 1"), (720, "Act 2"))

    @property
    def since(self) -> datetime:
        return T0

    @property
    def until(self) -> datetime:
        return T0 + timedelta(minutes=self.minutes)


SHOW = Show()


def channel_id(n: int) -> str:
    """Return the id of seeded channel ``n`` (1-based; two channels per receiver)."""
    return f"shure:rx{(n + 1) // 2}:{(n - 1) % 2 + 1}"


def receivers(show: Show = SHOW) -> list[Receiver]:
    """Return the seeded receivers with named channels."""
    out = []
    for r in range(1, show.channels // 2 + 1):
        rid = f"shure:rx{r}"
        receiver = make_receiver(rid, name=f"RF {r}")
        chans = tuple(make_channel(rid, k, name=f"Mic {2 * (r - 1) + k}") for k in (1, 2))
        out.append(replace(receiver, channels=chans))
    return out


def battery_at(n: int, second: int, show: Show = SHOW) -> float:
    """Return channel ``n``'s battery percent at ``second`` (a fresh pack after the swap)."""
    if n == show.swap_channel and second >= show.swap_at_s:
        return 100.0 - (second - show.swap_at_s) // 60
    return 90.0 - second // 60


def points(show: Show = SHOW) -> list[HistoryPoint]:
    """Return every history bucket of the show."""
    rows: list[HistoryPoint] = []
    for n in range(1, show.channels + 1):
        cid = channel_id(n)
        for s in range(show.minutes * 60):
            ts = T0 + timedelta(seconds=s)
            rf = -60.0 - n
            if n == show.dropout_channel and 0 <= s - show.dropout_at_s < show.dropout_len_s:
                rf = -97.0
            rows.append(HistoryPoint(cid, "rssi_dbm", ts, 1, rf - 5, rf + 3, rf, 10))
            peak = -20.0
            if n == show.clip_channel and any(0 <= s - a < d for a, d in show.clip_runs):
                peak = -0.5
            rows.append(HistoryPoint(cid, "audio_peak_dbfs", ts, 1, None, peak, peak - 3, 10))
            if s % 60 == 0 or (n == show.swap_channel and s == show.swap_at_s):
                value = battery_at(n, s, show)
                rows.append(HistoryPoint(cid, "battery_percent", ts, 1, value, value, value, 1))
    return rows


async def _seed(path: Path, show: Show, packed: bool) -> None:
    repo = Repository(open_database(path), commit_interval=3600)
    await repo.start()
    try:
        for rx in receivers(show):
            repo.queue_receiver(rx)
        repo.queue_history(points(show))
        cid = channel_id(show.dropout_channel)
        key = f"rf_loss:{cid}"
        raised = T0 + timedelta(seconds=show.dropout_at_s + 2)
        cleared = T0 + timedelta(seconds=show.dropout_at_s + show.dropout_len_s + 3)
        for kind, when, severity in (
            ("alert_raised", raised, "critical"),
            ("alert_cleared", cleared, "info"),
        ):
            repo.queue_event(
                kind,
                "RF lost",
                severity=severity,
                channel_id=cid,
                receiver_id=cid[:-2],
                data={"key": key, "rule": "rf_loss"},
                ts=when,
            )
        open_key = f"low_battery:{channel_id(1)}"
        repo.queue_event(
            "alert_raised",
            "Battery low",
            severity="warning",
            channel_id=channel_id(1),
            data={"key": open_key, "rule": "low_battery"},
            ts=T0 + timedelta(minutes=15),
        )
        await repo.flush()
        for at, label in show.markers:
            await repo.add_marker(T0 + timedelta(seconds=at), label)
        swap_at = T0 + timedelta(seconds=show.swap_at_s)

        def add_swap(conn: object) -> None:
            conn.execute(  # type: ignore[attr-defined]
                insert(BatterySwapRow).values(
                    ts=swap_at,
                    channel_id=channel_id(show.swap_channel),
                    channel_name="Mic 4",
                    performer=None,
                    reason="charge_jump",
                    before_percent=80,
                    after_percent=100,
                )
            )

        await repo._write(add_swap)
        if packed:  # as the recorder leaves an older show: seconds inside minute rows
            await repo.pack_history(show.since, show.until + timedelta(minutes=1))
    finally:
        await repo.stop()


def seed_show(path: Path, show: Show = SHOW, *, packed: bool = False) -> Path:
    """Write the show into a new database at ``path`` (seconds packed or loose)."""
    asyncio.run(_seed(path, show, packed))
    return path
