"""A recorded show, seeded: what the recorder and the alert engine would have written.

Written through the data layer's own writes (``data/writes.py``: receivers, history
buckets, events, alerts, markers) on a simulated clock, one transaction per simulated
minute, so a three-hour show of 200 channels takes a minute instead of three hours. The
values follow :func:`rssi_at` / :func:`audio_at` / :func:`battery_at` (plus seeded noise
kept in the rows, so tests read the rows back rather than trusting the formulas), with
transmitters switched off, a receiver going offline and batteries running low at known
moments (:class:`ShowPlan`), and markers every act.

The history follows engine/history.py: metered RSSI and audio every second (count 10:
a 10 Hz meter stream), battery percent and bars on change and at least once a minute.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from micboard_desktop.core.model import (
    Audio,
    Battery,
    Channel,
    ChannelId,
    ConnectionInfo,
    ConnectionStatus,
    Receiver,
    ReceiverId,
    Rf,
    Transmitter,
    Transport,
)
from micboard_desktop.data.coltypes import to_epoch
from micboard_desktop.data.db import open_database
from micboard_desktop.data.history_pack import pack_slice
from micboard_desktop.data.records import AlertRecord, EventKind, EventRecord, HistoryPoint
from micboard_desktop.data.writes import (
    ensure_manufacturers,
    insert_events,
    insert_marker,
    upsert_alerts,
    upsert_history,
    upsert_receivers,
)

SHOW_START = datetime(2026, 12, 5, 19, 0, tzinfo=UTC)
PER_RECEIVER = 4
METER_COUNT = 10


def channel_ids(channels: int) -> list[str]:
    """Return the ids of the show's channels, in board order."""
    return [f"shure:rx-{i // PER_RECEIVER:03d}:{i % PER_RECEIVER + 1}" for i in range(channels)]


def rssi_at(index: int, second: int) -> float:
    """Return the planned RSSI (dBm) of channel ``index`` at a second of the show."""
    return round(-62.0 + 8.0 * math.sin(second / 97.0 + index), 1)


def audio_at(index: int, second: int) -> float:
    """Return the planned audio peak (dBFS) of channel ``index`` at a second of the show."""
    return round(-24.0 + 12.0 * math.sin(second / 13.0 + 2 * index), 1)


def battery_at(index: int, second: int, seconds: int) -> int:
    """Return the planned battery percent: from 100 down to 30-60 % over the show."""
    floor = 30 + (index * 7) % 31
    return round(100 - (100 - floor) * second / max(1, seconds))


@dataclass(frozen=True, slots=True)
class ShowPlan:
    """What happens in the show, in seconds from its start."""

    seconds: int
    channels: int
    tx_off: dict[int, tuple[int, int]] = field(default_factory=dict)
    """Channel index -> (off from, back at)."""
    rx_offline: dict[int, tuple[int, int]] = field(default_factory=dict)
    """Receiver index -> (offline from, back at)."""
    markers: tuple[tuple[int, str], ...] = ()

    def off(self, index: int, second: int) -> bool:
        """Return True while channel ``index``'s transmitter (or its receiver) is off."""
        span = self.tx_off.get(index)
        rx = self.rx_offline.get(index // PER_RECEIVER)
        return any(s is not None and s[0] <= second < s[1] for s in (span, rx))


def plan(seconds: int, channels: int) -> ShowPlan:
    """Return the standard plan: transmitters off, a receiver away, four acts."""
    half = seconds // 2
    tx_off = {1: (seconds // 6, seconds // 6 + 120), 5 % channels: (half, half + 90)}
    rx_offline = {0: (2 * seconds // 3, 2 * seconds // 3 + 60)} if channels > PER_RECEIVER else {}
    acts = tuple((seconds * k // 4, f"Act {k + 1}") for k in range(4))
    return ShowPlan(seconds, channels, tx_off, rx_offline, acts)


def _receivers(channels: int, start: datetime) -> list[Receiver]:
    ids = channel_ids(channels)
    out = []
    for r in range(0, channels, PER_RECEIVER):
        rid = ReceiverId(ids[r].rsplit(":", 1)[0])
        chans = tuple(
            Channel(
                id=ChannelId(ids[i]), number=i - r + 1, name=f"Ch {i + 1}",
                performer=f"Performer {i + 1}", frequency_khz=470_000 + 250 * i,
                transmitter=Transmitter(model="ULXD2", battery=Battery(
                    bars=3, percent=55, minutes=200, type="LION")),
                rf=Rf(rssi_dbm=(-60.0, -62.0), antenna="A", quality=5, quality_max=5),
                audio=Audio(rms_dbfs=-30.0, peak_dbfs=-20.0), updated_at=start,
            )
            for i in range(r, min(r + PER_RECEIVER, channels))
        )
        out.append(Receiver(
            id=rid, manufacturer="shure", api_device_id=rid.split(":", 1)[1],
            connection=ConnectionInfo(Transport.TCP, ConnectionStatus.CONNECTED, start),
            model="ULXD4Q", name=f"RX {r // PER_RECEIVER + 1}", online=True, last_seen=start,
            channels=chans,
        ))
    return out


def record_show(
    path: Path, *, seconds: int, channels: int, seed: int = 1, start: datetime = SHOW_START,
    packed: bool = False,
) -> ShowPlan:
    """Write a show of ``seconds`` x ``channels`` into a new database at ``path``.

    ``packed``: the seconds end packed into their minute rows, as the recorder leaves every
    minute older than two (data/history_pack.py); otherwise they stay loose rows.
    """
    show = plan(seconds, channels)
    rng = random.Random(seed)
    ids = channel_ids(channels)
    database = open_database(path)
    try:
        with database.writer_engine.begin() as conn:
            ensure_manufacturers(conn, ["shure"], start)
            upsert_receivers(conn, _receivers(channels, start), start)
            for ts, label in show.markers:
                insert_marker(conn, start + timedelta(seconds=ts), label, start)
        written: dict[tuple[int, str], float] = {}
        for minute in range(0, seconds, 60):
            points: list[HistoryPoint] = []
            for second in range(minute, min(seconds, minute + 60)):
                when = start + timedelta(seconds=second)
                for i, cid in enumerate(ids):
                    if show.off(i, second):
                        continue
                    rssi = rssi_at(i, second) + rng.choice((0.0, 0.5))
                    peak = audio_at(i, second)
                    points.append(HistoryPoint(cid, "rssi_dbm", when, 1, rssi - 3, rssi, rssi,
                                               METER_COUNT))
                    points.append(HistoryPoint(cid, "audio_peak_dbfs", when, 1, None, peak,
                                               peak, METER_COUNT))
                    pct = battery_at(i, second, seconds)
                    for metric, value in (("battery_percent", pct), ("battery_bars", pct // 20)):
                        last = written.get((i, metric))
                        if last is None or last != value or second % 60 == 0:
                            points.append(HistoryPoint(cid, metric, when, 1, value, value,
                                                       value, 1))
                            written[(i, metric)] = value
            with database.writer_engine.begin() as conn:
                upsert_history(conn, points)
        events, alerts = _alert_rows(show, ids, start)
        with database.writer_engine.begin() as conn:
            insert_events(conn, events)
            upsert_alerts(conn, alerts)
        if packed:
            begin = to_epoch(start)
            for minute in range(0, seconds, 600):  # in slices, like the recorder
                with database.writer_engine.begin() as conn:
                    pack_slice(conn, begin + minute, begin + min(seconds + 60, minute + 600))
    finally:
        database.close()
    return show


def _alert_rows(
    show: ShowPlan, ids: list[str], start: datetime
) -> tuple[list[EventRecord], list[AlertRecord]]:
    events: list[EventRecord] = []
    alerts: list[AlertRecord] = []

    def alert(key: str, rule: str, severity: str, span: tuple[int, int], message: str,
              receiver: str, channel: str | None) -> None:
        raised, cleared = (start + timedelta(seconds=s) for s in span)
        data = {"key": key, "rule": rule}
        events.append(EventRecord(EventKind.ALERT_RAISED, raised, severity, message, "shure",
                                  receiver, channel, data=dict(data)))
        events.append(EventRecord(EventKind.ALERT_CLEARED, cleared, "info", message, "shure",
                                  receiver, channel, data=dict(data)))
        alerts.append(AlertRecord(key, rule, severity, raised, message, receiver, channel,
                                  cleared))

    for index, span in show.tx_off.items():
        cid = ids[index]
        alert(f"tx_off:{cid}", "tx_off", "warning", span, f"Ch {index + 1}: transmitter off",
              cid.rsplit(":", 1)[0], cid)
    for r, span in show.rx_offline.items():
        rid = ids[r * PER_RECEIVER].rsplit(":", 1)[0]
        alert(f"rx_offline:{rid}", "rx_offline", "critical", span, f"RX {r + 1} offline",
              rid, None)
        for at, status in ((span[0], "disconnected"), (span[1], "connected")):
            events.append(EventRecord(
                EventKind.CONNECTION_STATE, start + timedelta(seconds=at), "warning",
                f"{rid}: {status}", "shure", rid, None, rid, {"status": status}))
    events.sort(key=lambda e: e.ts)
    return events, alerts
