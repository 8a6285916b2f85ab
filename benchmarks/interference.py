"""Issue #19 item 4: interference correlation precision/recall, and intermod search time.

Correlation: seeded shows on an accelerated clock (the project's :class:`Scenario`, ticked
every 0.1 s of show time) mix true interference bursts (``burst_every``: every pack on air
in a span loses RF together) with the scenario's independent trouble: body-shadowing
dropouts, lone interference flags, packs switched off by hand, and batteries that die
(``battery_speed``). The app's view of it is rebuilt as the app builds it: slow values
(quality, the interference flag, the transmitter coming and going, battery) reach the store
when they change, RF levels once a second as the strongest level of that second (what
``engine/levels.py`` writes). The real :class:`AlertEngine` and :class:`RfWatch` run on
that store with a manual clock; their interference events are matched against the
scenario's bursts.

* A burst counts when at least ``correlation_min_channels`` packs were on air in its span
  (a one-channel burst is a dip, for the technician too).
* An event is a true positive when it started between the burst's start minus the window
  and its end plus 2 s, and names at least one of the burst's channels.
* Precision = true events / events; recall = detected bursts / countable bursts.

Intermod: third-order products of 50, 100 and 200 carriers (470-608 MHz, 25 kHz raster,
seeded) checked against every carrier, as the engine does when the carriers change.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from micboard_desktop.core.config import AppConfig, RfSettings
from micboard_desktop.core.interference import InterferenceEvent
from micboard_desktop.core.intermod import IntermodIndex
from micboard_desktop.core.model import (
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
from micboard_desktop.core.store import StateStore
from micboard_desktop.engine.alerts import AlertEngine, AlertEvent
from micboard_desktop.engine.rf_watch import RfWatch
from micboard_desktop.simulator.rig import Family, Rig, SimChannel, SimReceiver, SimTransmitter
from micboard_desktop.simulator.rigs import make_channel, make_receiver
from micboard_desktop.simulator.scenario import RfBurst, Scenario, quality_scale

Json = dict[str, Any]
DT: Final = 0.1
TARGET: Final = 0.9
QUALITY_FAMILIES: Final = frozenset({"ad", "ewdx", "spectera", "d6000"})
"""Families whose receivers report link quality (the others: RF level only)."""


class ManualClock:
    """A clock the benchmark moves; sleepers park for good (their work is called by hand)."""

    def __init__(self) -> None:
        self.t = 0.0
        self._wall = datetime(2026, 12, 7, 20, 0, tzinfo=UTC)

    def monotonic(self) -> float:
        """Return show seconds."""
        return self.t

    def now(self) -> datetime:
        """Return the wall time of the show."""
        return self._wall + timedelta(seconds=self.t)

    async def sleep(self, seconds: float) -> None:
        """Never wake: the benchmark ticks the engines itself."""
        await asyncio.get_running_loop().create_future()


def show_rig(seed: int, channels: int, low_khz: int, high_khz: int) -> Rig:
    """Return a rig of AD4Q and ULXD4Q receivers, carriers spread over ``[low, high]``."""
    rng = random.Random(seed)
    freqs = sorted(rng.sample(range(low_khz, high_khz, 25), channels))
    receivers = []
    for r in range(0, channels, 4):
        family: Family = "ad" if r % 8 == 0 else "ulxd"
        model, tx_model = ("AD4Q", "AD2") if family == "ad" else ("ULXD4Q", "ULXD2")
        chans = [
            make_channel(c + 1, f"Mic {r + c + 1}", freqs[r + c], SimTransmitter(
                tx_model, battery_type=rng.choice(["LION", "ALKA"]),
                battery_percent=float(rng.randint(40, 100))), family=family)
            for c in range(min(4, channels - r))
        ]
        receivers.append(make_receiver(family, model, f"RX {r // 4 + 1}", chans,
                                       key=f"bench-{seed}-{r}"))
    return Rig(receivers=receivers)


def _cid(receiver: SimReceiver, number: int) -> str:
    return f"sim:{receiver.name}:{number}"


@dataclass
class _AppView:
    """Rebuilds the store the way the app sees the rig (module docstring)."""

    rig: Rig
    store: StateStore
    slow: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    peak: dict[str, list[float]] = field(default_factory=dict)
    level: dict[str, tuple[float | None, ...]] = field(default_factory=dict)

    def fold_meters(self) -> None:
        for receiver in self.rig.receivers:
            for ch in receiver.channels:
                cid = _cid(receiver, ch.number)
                best = self.peak.get(cid)
                if best is None or len(best) != len(ch.rssi_dbm):
                    self.peak[cid] = list(ch.rssi_dbm)
                else:
                    self.peak[cid] = [max(a, b) for a, b in zip(best, ch.rssi_dbm, strict=True)]

    def publish(self, second: bool) -> None:
        with self.store.batch():
            for receiver in self.rig.receivers:
                changed = False
                for ch in receiver.channels:
                    cid = _cid(receiver, ch.number)
                    tx = ch.transmitter
                    key = (tx is not None and tx.on, ch.quality, ch.interference,
                           tx.battery_bars if tx is not None else None)
                    if self.slow.get(cid) != key:
                        self.slow[cid] = key
                        changed = True
                    if second:
                        folded = tuple(round(v) for v in self.peak.pop(cid, []))
                        if self.level.get(cid) != folded:
                            self.level[cid] = folded
                            changed = True
                if changed:
                    self.store.put_receiver(self._receiver(receiver))

    def _receiver(self, receiver: SimReceiver) -> Receiver:
        rid = ReceiverId(f"sim:{receiver.name}")
        return Receiver(
            id=rid, manufacturer="shure", api_device_id=receiver.name,
            connection=ConnectionInfo(Transport.TCP, ConnectionStatus.CONNECTED),
            model=receiver.model, name=receiver.name, online=True,
            channels=tuple(self._channel(receiver, ch) for ch in receiver.channels),
        )

    def _channel(self, receiver: SimReceiver, ch: SimChannel) -> Channel:
        tx = ch.transmitter
        quality = receiver.family in QUALITY_FAMILIES
        transmitter = None
        if tx is not None and tx.on:
            transmitter = Transmitter(model=tx.model, battery=Battery(bars=tx.battery_bars))
        return Channel(
            id=ChannelId(_cid(receiver, ch.number)), number=ch.number, name=ch.name,
            frequency_khz=ch.frequency_khz, transmitter=transmitter,
            rf=Rf(rssi_dbm=self.level.get(_cid(receiver, ch.number), ()),
                  quality=float(ch.quality) if quality and transmitter else None,
                  quality_max=float(quality_scale(receiver)) if quality else None,
                  interference=ch.interference),
        )


def _countable(burst: RfBurst, min_channels: int) -> bool:
    return len(burst.channels) >= min_channels


def _matches(event: InterferenceEvent, burst: RfBurst, window: float) -> bool:
    ids = {f"sim:{r}:{n}" for r, n in burst.channels}
    in_time = burst.at - window <= event.started <= burst.at + burst.seconds + 2.0
    return in_time and bool(ids & set(event.channels))


@dataclass(frozen=True)
class Mix:
    """How often each kind of trouble happens (scenario keys)."""

    name: str
    burst_every: float
    """Mean seconds between interference bursts across the rig."""
    shadow_every: float
    """Mean seconds between body-shadowing dropouts, per channel."""
    interference_every: float
    """Mean seconds between lone interference flags, per channel."""


MIXES: Final = (
    Mix("show", burst_every=120.0, shadow_every=1800.0, interference_every=3600.0),
    Mix("stress", burst_every=120.0, shadow_every=300.0, interference_every=400.0),
)
"""``show``: a hard but real show (a dropout per pack every half hour, a lone interference
flag per pack an hour, packs switched off by hand about every 15 minutes, packs going flat
at 6x speed) and a burst every 2 minutes; the targets are measured on it. ``stress``: the
simulator's demo rates (a dropout per pack every 5 minutes, a flag every 6.7), where lone
dips coincide often; reported, no target."""


async def _show(seed: int, rig: Rig, minutes: float, rf: RfSettings, mix: Mix) -> Json:
    clock = ManualClock()
    store = StateStore()
    config = AppConfig(rf=rf)
    alerts = AlertEngine(store, config, clock=clock)
    raised: list[AlertEvent] = []
    alerts.subscribe(raised.append)
    watch = RfWatch(store, alerts, config, clock=clock)
    scenario = Scenario(rig, seed, battery_speed=6.0)
    scenario.burst_every = mix.burst_every
    scenario.shadow_every = mix.shadow_every
    scenario.interference_every = mix.interference_every
    view = _AppView(rig, store)
    view.publish(second=True)
    await alerts.start()
    await watch.start()
    steps = round(minutes * 60 / DT)
    for step in range(1, steps + 1):
        scenario.tick(DT)
        clock.t = step * DT
        view.fold_meters()
        second = step % round(1 / DT) == 0
        view.publish(second)
        if step % round(0.5 / DT) == 0:
            alerts.tick()
            watch.tick()
    events = [*watch.correlator.ended(), *watch.correlator.active()]
    await watch.stop()
    await alerts.stop()
    window = rf.correlation_window
    countable = [b for b in scenario.bursts if _countable(b, rf.correlation_min_channels)]
    detected = [b for b in countable if any(_matches(e, b, window) for e in events)]
    true_events = [e for e in events if any(_matches(e, b, window) for b in scenario.bursts)]
    during = [
        e.alert for e in raised
        if e.kind.value == "raised" and e.alert.rule in ("rf_loss", "interference")
        and any(b.at <= (e.alert.raised_at - clock.now()).total_seconds() + clock.t
                <= b.at + b.seconds + 2 and e.alert.channel_id in
                {f"sim:{r}:{n}" for r, n in b.channels} for b in countable)
    ]
    return {
        "seed": seed, "channels": sum(len(r.channels) for r in rig.receivers),
        "show_minutes": minutes, "bursts": len(scenario.bursts), "countable": len(countable),
        "detected": len(detected), "events": len(events), "true_events": len(true_events),
        "channel_rf_alerts_in_bursts": len(during),
    }


def correlation(quick: bool) -> Json:
    """Run the seeded shows of every mix; return per-show counts, precision and recall."""
    rf = RfSettings()
    shows = [(1, 24, 470_000, 608_000), (2, 32, 518_000, 558_000), (3, 16, 606_000, 614_000)]
    seeds = (11,) if quick else (11, 12, 13)
    minutes = 10.0 if quick else 30.0
    out: Json = {"settings": {"window_s": rf.correlation_window,
                              "span_khz": rf.correlation_span_khz,
                              "min_channels": rf.correlation_min_channels},
                 "show_minutes": minutes, "seeds": list(seeds)}
    t0 = time.monotonic()
    for mix in MIXES:
        runs: list[Json] = []
        for seed in seeds:
            for rig_seed, channels, low, high in shows:
                rig = show_rig(rig_seed * 100 + seed, channels, low, high)
                result = asyncio.run(_show(seed, rig, minutes, rf, mix))
                result["band"] = f"{low / 1000:.0f}-{high / 1000:.0f} MHz"
                runs.append(result)
        events = sum(r["events"] for r in runs)
        countable = sum(r["countable"] for r in runs)
        out[mix.name] = {
            "runs": runs,
            "precision": round(sum(r["true_events"] for r in runs) / events, 3)
            if events else None,
            "recall": round(sum(r["detected"] for r in runs) / countable, 3)
            if countable else None,
            "events": events, "countable_bursts": countable,
            "channel_rf_alerts_in_bursts": sum(r["channel_rf_alerts_in_bursts"] for r in runs),
        }
    out["wall_s"] = round(time.monotonic() - t0, 1)
    return out


def intermod(quick: bool) -> Json:
    """Time the intermod search (index + every carrier as a victim) for 50/100/200 carriers."""
    out: Json = {}
    for n in (50, 100, 200):
        rng = random.Random(n)
        carriers = rng.sample(range(470_000, 608_000, 25), n)
        times = []
        found: list[tuple[Any, int]] = []
        for _ in range(1 if quick else 3):
            t0 = time.perf_counter()
            index = IntermodIndex(carriers)
            found = [index.nearest(v, 25) for v in carriers]
            times.append(time.perf_counter() - t0)
        out[str(n)] = {"ms": round(statistics.median(times) * 1000, 1),
                       "victims_hit": sum(1 for hit, _ in found if hit is not None),
                       "products_within_guard": sum(count for _, count in found)}
    return out


def run(quick: bool) -> Json:
    """Entry point of ``python -m benchmarks``."""
    return {"correlation": correlation(quick), "intermod": intermod(quick)}


def rows(r: Json) -> list[tuple[str, str, str, str, str]]:
    """Return the results table rows (benchmarks/report.py)."""
    c = r.get("correlation", {})
    out: list[tuple[str, str, str, str, str]] = []
    for mix in MIXES:
        m = c.get(mix.name, {})
        for figure in ("precision", "recall"):
            value = m.get(figure)
            text = "n/a" if value is None else f"{value:g}"
            if mix.name == "show":
                ok = isinstance(value, int | float) and value >= TARGET
                out.append(("interference", f"{mix.name} mix: events {figure}", text,
                            f">= {TARGET:g}", "MET" if ok else "MISSED"))
            else:
                out.append(("interference", f"{mix.name} mix: events {figure}", text, "", ""))
        out.append(("interference", f"{mix.name} mix: events / countable bursts",
                    f"{m.get('events')} / {m.get('countable_bursts')}", "", ""))
        out.append(("interference", f"{mix.name} mix: channel RF alerts in bursts",
                    str(m.get("channel_rf_alerts_in_bursts")), "", ""))
    for n, m in sorted(r.get("intermod", {}).items(), key=lambda kv: int(kv[0])):
        out.append(("interference", f"intermod search, {n} carriers", f"{m.get('ms')} ms"
                    f" ({m.get('victims_hit')} hit)", "", ""))
    return out


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run("--quick" in sys.argv), indent=1))

