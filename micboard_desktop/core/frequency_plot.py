"""What the frequency view draws: carriers, intermod products and interference spans.

:func:`frequency_plot` turns the store's snapshot and the engine's
:class:`~micboard_desktop.core.interference.RfPicture` into plain values along the frequency
axis, so the Qt view (``ui/views/frequency.py``) only draws, and all that decides what is shown
is tested without Qt:

* a :class:`Stem` per channel with a frequency (whose receiver is monitored): its RF level
  (the strongest antenna, ``None`` when the device gives none), its status, whether our
  transmitter is in the air, and whether the carrier is *foreign* (RF on our frequency with
  our transmitter off);
* a :class:`ProductMark` per third-order product that lands within the guard distance of a
  channel in use, naming the carriers that make it;
* a :class:`Span` per interference event, the open ones and those that ended a little while
  ago.

A replay has no RF picture (carriers and intermod are not recorded): the stems then come from
the replayed store as always, the products are searched here from the replayed frequencies,
foreign carriers are judged from the levels alone, and the summary says that interference
events are not shown. RF levels always come from the store's channel values.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Final

from micboard_desktop.core.interference import InterferenceEvent, RfPicture
from micboard_desktop.core.intermod import MAX_FREQUENCY_KHZ, Hit, ProductKind, nearest_per_victim
from micboard_desktop.core.liveness import monitored
from micboard_desktop.core.model import Channel, ChannelKind, ChannelStatus, Receiver
from micboard_desktop.core.status import DEFAULT_THRESHOLDS, StatusThresholds, channel_status
from micboard_desktop.core.store import Snapshot

FLOOR_DBM: Final = -100.0
"""Bottom of the level axis: a stem with no level stands here."""
TOP_DBM: Final = -20.0
"""Top of the level axis unless a carrier is stronger still."""
ENDED_SHOWN_S: Final = 300.0
"""Ended interference events stay shaded (dimmer) this long after they end."""
SPAN_PAD_KHZ: Final = 100
"""Shading reaches this far past an event's outer carriers (a one-carrier span stays visible)."""
MIN_VIEW_KHZ: Final = 2000
"""The narrowest frequency range shown (a single carrier is not a hairline)."""
VIEW_MARGIN: Final = 0.04
"""Room left each side of the outermost item, as a share of the range."""
REPLAY_NOTE: Final = (
    "Replay: interference events are not recorded; intermod is computed from the replayed "
    "frequencies"
)


class StemKind(StrEnum):
    """What a stem on the axis is."""

    CARRIER = "carrier"
    """Our transmitter is in the air."""
    FOREIGN = "foreign"
    """RF on our frequency while our transmitter is off: somebody else's signal."""
    IDLE = "idle"
    """Our frequency, nothing of ours in the air (transmitter off, receiver gone, RF muted)."""


@dataclass(frozen=True, slots=True)
class Stem:
    """One channel on the frequency axis."""

    channel_id: str
    label: str
    frequency_khz: int
    level_dbm: float | None
    """The strongest antenna's level; ``None``: the device reports none (or is gone)."""
    status: ChannelStatus
    kind: StemKind
    in_event: bool = False
    """An open interference event names this channel."""
    spare: bool = False

    @property
    def frequency_mhz(self) -> float:
        """Return the frequency in MHz (the axis unit)."""
        return self.frequency_khz / 1000

    @property
    def height_dbm(self) -> float:
        """Return where the stem's head is drawn (the floor when there is no level)."""
        return FLOOR_DBM if self.level_dbm is None else max(FLOOR_DBM, self.level_dbm)

    @property
    def tooltip(self) -> str:
        """Return the words shown when the pointer rests on the stem."""
        level = "no RF level reported" if self.level_dbm is None else f"{self.level_dbm:.0f} dBm"
        what = {
            StemKind.CARRIER: "transmitter in the air",
            StemKind.FOREIGN: "FOREIGN CARRIER: RF with our transmitter off",
            StemKind.IDLE: "nothing of ours in the air",
        }[self.kind]
        lines = [self.label, f"{self.frequency_mhz:.3f} MHz \u00b7 {level}",
                 f"{self.status.value.replace('_', ' ')} \u00b7 {what}"]
        if self.in_event:
            lines.append("in an interference event now")
        if self.spare:
            lines.append("spare")
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Label:
    """The name written above one frequency (channels sharing it are named together)."""

    frequency_khz: int
    text: str
    status: ChannelStatus
    """The most urgent status among the channels on this frequency."""
    kind: StemKind
    """Foreign wins over carrier, carrier over idle."""

    @property
    def frequency_mhz(self) -> float:
        """Return the frequency in MHz."""
        return self.frequency_khz / 1000


@dataclass(frozen=True, slots=True)
class ProductMark:
    """A third-order product landing near a channel in use."""

    frequency_khz: int
    victim_khz: int
    victims: tuple[str, ...]
    """Names of the channels on the victim frequency."""
    formula: str
    kind: ProductKind
    sources: tuple[str, ...]
    """Names of the channels whose carriers make the product (frequency when unnamed)."""
    distance_khz: int
    count: int
    """How many products land within the guard of the victim (this is the nearest)."""

    @property
    def frequency_mhz(self) -> float:
        """Return the product's frequency in MHz."""
        return self.frequency_khz / 1000

    @property
    def tooltip(self) -> str:
        """Return the words shown when the pointer rests on the mark."""
        victims = ", ".join(self.victims)
        lines = [
            f"Intermod {self.formula} = {self.frequency_mhz:.3f} MHz",
            f"{self.distance_khz} kHz from {victims} ({self.victim_khz / 1000:.3f} MHz)",
            f"made by {', '.join(self.sources)}",
        ]
        if self.count > 1:
            lines.append(f"{self.count} products near this channel; the nearest is shown")
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Span:
    """An interference event along the axis."""

    event_id: int
    low_khz: int
    high_khz: int
    active: bool
    channels: tuple[str, ...]
    """Names of the channels the event names, in the order they joined."""
    text: str

    @property
    def draw_mhz(self) -> tuple[float, float]:
        """Return the shaded range in MHz (padded so edge carriers sit inside it)."""
        return (self.low_khz - SPAN_PAD_KHZ) / 1000, (self.high_khz + SPAN_PAD_KHZ) / 1000


@dataclass(frozen=True, slots=True)
class FrequencyPlot:
    """Everything the frequency view draws at one moment."""

    stems: tuple[Stem, ...] = ()
    labels: tuple[Label, ...] = ()
    products: tuple[ProductMark, ...] = ()
    spans: tuple[Span, ...] = ()
    x_range_mhz: tuple[float, float] | None = None
    """Where the axis should start and end; ``None``: nothing to draw."""
    y_range_dbm: tuple[float, float] = (FLOOR_DBM, TOP_DBM)
    guard_khz: int = 0
    live: bool = True
    """False when there was no RF picture (a replay): products searched here, no events."""
    summary: str = ""


KIND_RANK: Final = {StemKind.FOREIGN: 0, StemKind.CARRIER: 1, StemKind.IDLE: 2}
STATUS_RANK: Final = {status: i for i, status in enumerate((
    ChannelStatus.RF_LOSS, ChannelStatus.CRITICAL_BATTERY, ChannelStatus.INTERFERENCE,
    ChannelStatus.LOW_BATTERY, ChannelStatus.AUDIO_PEAK, ChannelStatus.MUTED, ChannelStatus.OK,
    ChannelStatus.RX_OFFLINE, ChannelStatus.TX_OFF,
))}
"""Which status a shared label takes: what needs a hand first, idle last."""


def frequency_plot(
    snapshot: Snapshot,
    picture: RfPicture,
    *,
    limits_for: Callable[[str], StatusThresholds] = lambda _code: DEFAULT_THRESHOLDS,
    guard_khz: int = 25,
    span_khz: int = 0,
    foreign_dbm: float = -80.0,
) -> FrequencyPlot:
    """Return what the frequency view draws for ``snapshot`` and ``picture``.

    ``guard_khz``, ``span_khz`` and ``foreign_dbm`` (the ``[rf]`` settings) are only used
    when the picture is empty, as in a replay; a live picture carries its own intermod hits
    and foreign carriers.
    """
    live = bool(picture.carriers)
    active_ids = {cid for event in picture.active for cid in event.channels}
    stems = _stems(snapshot, limits_for, active_ids,
                   set(picture.foreign) if live else None, foreign_dbm)
    names = {s.channel_id: s.label for s in stems}
    by_frequency: dict[int, list[str]] = {}
    for stem in stems:
        by_frequency.setdefault(stem.frequency_khz, []).append(stem.label)
    if live:
        guard = picture.guard_khz
        counts = dict(picture.intermod_counts)
        found = [(hit, counts.get(hit.victim_khz, 1)) for hit in picture.intermod]
    else:
        guard = guard_khz
        carriers = tuple(sorted({s.frequency_khz for s in stems if s.kind is StemKind.CARRIER}))
        victims = tuple(sorted({s.frequency_khz for s in stems if not s.spare}))
        found = list(local_intermod(carriers, victims, guard, span_khz))
    products = tuple(_mark(hit, count, by_frequency) for hit, count in found
                     if hit.victim_khz in by_frequency)
    spans = _spans(picture, names) if live else ()
    labels = _labels(stems)
    return FrequencyPlot(
        stems=stems,
        labels=labels,
        products=products,
        spans=spans,
        x_range_mhz=_x_range(stems, products, spans),
        y_range_dbm=_y_range(stems),
        guard_khz=guard,
        live=live,
        summary=_summary(stems, products, spans, live),
    )


def best_level(channel: Channel) -> float | None:
    """Return the strongest antenna's level in dBm (``None`` for none or garbage)."""
    levels = [v for v in channel.rf.rssi_dbm
              if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)]
    return float(max(levels)) if levels else None


def channel_name(channel: Channel) -> str:
    """Return the channel's name as the board shows it."""
    name = channel.name or f"Channel {channel.number}"
    return f"IEM {name}" if channel.kind is ChannelKind.IEM and "IEM" not in name else name


def _valid_frequency(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_FREQUENCY_KHZ:
        return value
    return None


def _in_air(receiver: Receiver, channel: Channel) -> bool:
    if not receiver.online:
        return False
    if channel.kind is ChannelKind.IEM:
        return channel.iem is not None and not channel.iem.rf_muted
    return channel.transmitter is not None


def _stems(
    snapshot: Snapshot,
    limits_for: Callable[[str], StatusThresholds],
    in_event: set[str],
    foreign: set[str] | None,
    foreign_dbm: float,
) -> tuple[Stem, ...]:
    stems: list[Stem] = []
    for receiver in snapshot.receivers.values():
        if not monitored(receiver):
            continue  # stopped by the user: nothing of it is known now
        limits = limits_for(receiver.manufacturer)
        for channel in receiver.channels:
            frequency = _valid_frequency(channel.frequency_khz)
            if frequency is None:
                continue  # DECT, or not reported yet: not on this axis
            cid = str(channel.id)
            level = best_level(channel) if receiver.online else None
            status = channel_status(channel, receiver_online=receiver.online, limits=limits,
                                    estimate=snapshot.estimates.get(channel.id))
            if foreign is not None:
                is_foreign = cid in foreign
            else:
                is_foreign = (receiver.online and channel.kind is ChannelKind.MIC
                              and channel.transmitter is None and level is not None
                              and level >= foreign_dbm)
            kind = (StemKind.FOREIGN if is_foreign
                    else StemKind.CARRIER if _in_air(receiver, channel) else StemKind.IDLE)
            stems.append(Stem(cid, channel_name(channel), frequency, level, status, kind,
                              in_event=cid in in_event, spare=channel.id in snapshot.spares))
    stems.sort(key=lambda s: (s.frequency_khz, s.channel_id))
    return tuple(stems)


def _labels(stems: Sequence[Stem]) -> tuple[Label, ...]:
    groups: dict[int, list[Stem]] = {}
    for stem in stems:
        groups.setdefault(stem.frequency_khz, []).append(stem)
    labels = []
    for frequency, group in sorted(groups.items()):
        # The one needing a hand leads the name: a shared label names it first.
        ordered = sorted(group, key=lambda s: (KIND_RANK[s.kind], STATUS_RANK[s.status]))
        first = ordered[0]
        text = first.label if len(group) == 1 else f"{first.label} +{len(group) - 1}"
        if first.kind is StemKind.FOREIGN:
            text = f"? FOREIGN {text}"
        labels.append(Label(frequency, text, first.status, first.kind))
    return tuple(labels)


def _mark(hit: Hit, count: int, by_frequency: dict[int, list[str]]) -> ProductMark:
    def named(frequency: int) -> str:
        found = by_frequency.get(frequency)
        return " / ".join(found) if found else f"{frequency / 1000:.3f} MHz"

    product = hit.product
    return ProductMark(
        frequency_khz=product.frequency_khz,
        victim_khz=hit.victim_khz,
        victims=tuple(by_frequency.get(hit.victim_khz, ())),
        formula=product.formula,
        kind=product.kind,
        sources=tuple(named(f) for f in product.sources),
        distance_khz=hit.distance_khz,
        count=max(1, count),
    )


def _spans(picture: RfPicture, names: dict[str, str]) -> tuple[Span, ...]:
    def span(event: InterferenceEvent, active: bool) -> Span:
        channels = tuple(names.get(cid, cid) for cid in event.channels)
        state = "INTERFERENCE" if active else "ended"
        return Span(event.id, event.low_khz, event.high_khz, active, channels,
                    f"{state} {event.span_text}: {', '.join(channels)}")

    ended = [e for e in picture.ended
             if e.ended is not None and picture.now - e.ended <= ENDED_SHOWN_S]
    # Ended first: the view draws in order, so an open event's shading lies on top.
    return (*(span(e, False) for e in reversed(ended)),
            *(span(e, True) for e in picture.active))


def _x_range(
    stems: Sequence[Stem], products: Sequence[ProductMark], spans: Sequence[Span]
) -> tuple[float, float] | None:
    points = [s.frequency_khz for s in stems] + [p.frequency_khz for p in products]
    for span in spans:
        points += [span.low_khz - SPAN_PAD_KHZ, span.high_khz + SPAN_PAD_KHZ]
    if not points:
        return None
    low, high = min(points), max(points)
    margin = max((high - low) * VIEW_MARGIN, (MIN_VIEW_KHZ - (high - low)) / 2, 0)
    return (low - margin) / 1000, (high + margin) / 1000


def _y_range(stems: Sequence[Stem]) -> tuple[float, float]:
    levels = [s.level_dbm for s in stems if s.level_dbm is not None]
    top = max([TOP_DBM, *(level + 5 for level in levels)])
    return FLOOR_DBM, math.ceil(top / 10) * 10


def _summary(
    stems: Sequence[Stem], products: Sequence[ProductMark], spans: Sequence[Span], live: bool
) -> str:
    on_air = sum(1 for s in stems if s.kind is StemKind.CARRIER)
    parts = [f"{on_air} carrier{'s' if on_air != 1 else ''} in the air"]
    foreign = sum(1 for s in stems if s.kind is StemKind.FOREIGN)
    if foreign:
        parts.append(f"{foreign} FOREIGN carrier{'s' if foreign != 1 else ''}")
    hit = len({p.victim_khz for p in products})
    parts.append(f"intermod near {hit} frequenc{'ies' if hit != 1 else 'y'}" if hit
                 else "no intermod near a channel")
    active = sum(1 for s in spans if s.active)
    if active:
        parts.append(f"{active} INTERFERENCE event{'s' if active != 1 else ''}")
    if not live:
        parts.append(REPLAY_NOTE)
    return "  \u00b7  ".join(parts)


@lru_cache(maxsize=8)
def local_intermod(
    carriers: tuple[int, ...], victims: tuple[int, ...], guard_khz: int, span_khz: int = 0
) -> tuple[tuple[Hit, int], ...]:
    """Return the nearest product within the guard and the count, per victim that has one.

    The engine's search (core/intermod.py ``nearest_per_victim``), for a replay:
    remembered for the last carrier sets, as a replay's frequencies seldom change.
    """
    if guard_khz <= 0 or len(carriers) < 2:
        return ()
    found = nearest_per_victim(carriers, victims, guard_khz, span_khz)
    return tuple(found[v] for v in victims if v in found)


def spread(positions: Iterable[float], gap: float, low: float, high: float) -> list[float]:
    """Return label positions at least ``gap`` apart, each as near its own position as can be.

    ``positions`` must be sorted. Crowded labels form clusters centred on their members'
    mean, kept inside ``[low, high]``; when even that is too narrow they share it evenly.
    """
    wanted = list(positions)
    n = len(wanted)
    if n == 0:
        return []
    gap = max(0.0, gap)
    if high - low < gap * (n - 1):
        if n == 1:
            return [(low + high) / 2]
        step = (high - low) / (n - 1)
        return [low + i * step for i in range(n)]
    clusters: list[_Cluster] = []
    for i, want in enumerate(wanted):
        clusters.append(_Cluster(i, 1, min(max(want, low), high)))
        while len(clusters) > 1 and clusters[-2].end(gap) > clusters[-1].start + 1e-9:
            last = clusters.pop()
            merged = clusters[-1]
            merged.count += last.count
            members = wanted[merged.first:merged.first + merged.count]
            merged.start = sum(members) / merged.count - gap * (merged.count - 1) / 2
            # Kept inside the axis; a cluster pushed left may now meet the one before.
            merged.start = min(max(merged.start, low), high - gap * (merged.count - 1))
    out: list[float] = []
    for cluster in clusters:
        out += [cluster.start + k * gap for k in range(cluster.count)]
    return out


class _Cluster:
    """Labels packed ``gap`` apart from ``start``: ``wanted[first:first + count]``."""

    __slots__ = ("count", "first", "start")

    def __init__(self, first: int, count: int, start: float) -> None:
        self.first, self.count, self.start = first, count, start

    def end(self, gap: float) -> float:
        """Return where the next label after this cluster may go at the earliest."""
        return self.start + self.count * gap
