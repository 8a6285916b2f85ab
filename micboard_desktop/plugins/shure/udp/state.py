"""The live view of one UHF-R receiver: typed updates in, a Receiver out only on change.

Slow values (REPORTs and the battery digit of every SAMPLE) are kept per channel; a new
frozen :class:`Receiver` is built only when one of them really changed, so a SAMPLE every
90 ms that repeats the same battery costs no store update. The coarse RF of the SAMPLEs
changes with every step a performer takes; it is collected per antenna (the strongest,
i.e. lowest, category since the last fold) and moved into the model by :meth:`fold_coarse`,
which the coordinator calls once a second, the same pace as the engine's level folder.

What the meter bus carries (audio peak, lit antennas) is not in these snapshots' RF and
audio: the engine's level folder owns those store fields (the coordinator keeps them when
it delivers, see ``coordinator.keep_meter_fields``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from micboard_desktop.plugins.api import (
    Battery,
    Channel,
    ConnectionInfo,
    Receiver,
    ReceiverId,
    Rf,
    Transmitter,
    Transport,
    channel_id,
    clean_optional,
    receiver_id,
    restamped,
)
from micboard_desktop.plugins.shure.udp.mapping import (
    MAX_CHANNELS,
    ChannelValue,
    Field,
    Sample,
    Update,
)

MANUFACTURER: Final = "shure"
MODELS: Final = {1: "UR4S", 2: "UR4D"}
"""Model by channel count: UHF-R reports no model, so it is inferred (shure.md §3.7)."""

COARSE_HYSTERESIS: Final = 3
"""Smallest move of a coarse RF category that reaches the model (smaller ones are jitter)."""

_Coarse = tuple[int | None, ...]
_NEVER: Final = object()
"""Marker of a value never reported (``None`` is a reported unknown)."""


@dataclass(slots=True)
class _ChannelRaw:
    """What the receiver last said about one channel."""

    values: dict[Field, object] = field(default_factory=dict)
    coarse: _Coarse = ()
    """Folded coarse RF per antenna (what the model shows)."""
    window: list[int | None] = field(default_factory=list)
    """Strongest (lowest) category per antenna since the last fold."""


def _moved(shown: _Coarse, folded: _Coarse) -> bool:
    """Return True when ``folded`` differs visibly from ``shown`` (see ``fold_coarse``)."""
    if len(shown) != len(folded):
        return True
    for old, new in zip(shown, folded, strict=True):
        if old is None or new is None:
            if old is not new:
                return True
        elif abs(new - old) >= COARSE_HYSTERESIS:
            return True
    return False


def _stronger(a: int | None, b: int | None) -> int | None:
    """Return the stronger of two categories (the lower number); unknown loses."""
    if a is None:
        return b
    if b is None:
        return a
    return a if a <= b else b


class UhfrReceiverState:
    """Fold UHF-R updates into a receiver (see module docstring)."""

    def __init__(self, key: str, *, host: str, name: str | None = None) -> None:
        self.id: ReceiverId = receiver_id(MANUFACTURER, key)
        self.api_device_id = key
        self.host = host
        self.name = clean_optional(name)
        """The configured label: UHF-R reports no device name of its own (shure.md §3.7)."""
        self._channels: dict[int, _ChannelRaw] = {}
        self._dirty_channels: set[int] = set()
        self._dirty = True
        self._connection = ConnectionInfo(transport=Transport.UDP)
        self._online = False
        self._last_data: datetime | None = None
        self._last: Receiver | None = None
        self._model_settled = False

    @property
    def current(self) -> Receiver | None:
        """Return the last snapshot built, if any."""
        return self._last

    @property
    def changed(self) -> bool:
        """Return True when a snapshot would differ from the last one (cheap test)."""
        return self._dirty or bool(self._dirty_channels)

    @property
    def channel_numbers(self) -> list[int]:
        """Return the channels the receiver has answered for, in order."""
        return sorted(self._channels)

    def value(self, channel: int, name: Field) -> object:
        """Return the last value of ``name`` on ``channel`` (``None`` when never reported)."""
        raw = self._channels.get(channel)
        return None if raw is None else raw.values.get(name)

    @property
    def model(self) -> str | None:
        """Return ``UR4D`` once channel 2 answered, ``UR4S`` once settled with one channel."""
        if 2 in self._channels:
            return MODELS[2]
        if self._model_settled and self._channels:
            return MODELS[1]
        return None

    def settle_model(self) -> None:
        """Say that channels not heard by now do not exist (a UR4S never answers for 2)."""
        if not self._model_settled:
            self._model_settled = True
            self._dirty = True

    def apply(self, update: Update) -> None:
        """Record one update (the meter part of a SAMPLE travels on the MeterBus instead)."""
        if not 1 <= update.channel <= MAX_CHANNELS:
            return
        raw = self._channels.get(update.channel)
        if raw is None:
            raw = self._channels[update.channel] = _ChannelRaw()
            self._dirty_channels.add(update.channel)
            self._dirty = True  # the channel count (and so the model) may have changed
        if isinstance(update, ChannelValue):
            self._set(update.channel, raw, update.field, update.value)
            return
        self._set(update.channel, raw, Field.BATTERY_BARS, update.battery)
        self._collect(raw, update)

    def take_sample(
        self, channel: int, battery: int | None, coarse_a: int | None, coarse_b: int | None
    ) -> object:
        """Record a SAMPLE's battery and coarse RF, as :meth:`apply` does; return the old bars.

        The per-SAMPLE path (ten a second per channel) without a :class:`Sample` object;
        the bars returned are what :meth:`value` gave before (``None``: never reported).
        """
        if not 1 <= channel <= MAX_CHANNELS:
            return None
        raw = self._channels.get(channel)
        if raw is None:
            raw = self._channels[channel] = _ChannelRaw()
            self._dirty_channels.add(channel)
            self._dirty = True  # the channel count (and so the model) may have changed
        values = raw.values
        had = values.get(Field.BATTERY_BARS, _NEVER)
        if had is _NEVER or had != battery:
            values[Field.BATTERY_BARS] = battery
            self._dirty_channels.add(channel)
        window = raw.window
        if len(window) != 2:
            raw.window = [coarse_a, coarse_b]
        else:  # _stronger, inlined: the lower category wins, unknown loses
            if coarse_a is not None and (window[0] is None or coarse_a < window[0]):
                window[0] = coarse_a
            if coarse_b is not None and (window[1] is None or coarse_b < window[1]):
                window[1] = coarse_b
        return None if had is _NEVER else had

    def _set(self, channel: int, raw: _ChannelRaw, name: Field, value: object) -> None:
        if name not in raw.values or raw.values[name] != value:
            raw.values[name] = value
            self._dirty_channels.add(channel)

    @staticmethod
    def _collect(raw: _ChannelRaw, sample: Sample) -> None:
        """Keep the strongest category per antenna until the next fold."""
        window = raw.window
        if len(window) != len(sample.coarse):
            raw.window = list(sample.coarse)
            return
        for i, level in enumerate(sample.coarse):
            window[i] = _stronger(window[i], level)

    def fold_coarse(self) -> None:
        """Move the coarse RF collected since the last fold into the model (on real change).

        A move of one or two units is jitter on a scale that spans about 80 from overload to
        weak, and would cost a store update a second per receiver: it is held back
        (:data:`COARSE_HYSTERESIS`); any larger move, or a reading appearing or vanishing,
        goes through at once.
        """
        for number, raw in self._channels.items():
            if not raw.window:
                continue
            folded = tuple(raw.window)
            raw.window = []
            if _moved(raw.coarse, folded):
                raw.coarse = folded
                self._dirty_channels.add(number)

    def set_connection(
        self, connection: ConnectionInfo, *, online: bool, last_data: datetime | None = None
    ) -> None:
        """Record the connection's public state; offline keeps the last values.

        ``last_data`` (when the receiver last answered) becomes ``last_seen`` while offline:
        the age the board shows beside the last values (core/liveness.py).
        """
        if connection != self._connection or online != self._online:
            self._dirty = True
        self._connection = connection
        self._online = online
        if not online and last_data is not None:
            self._last_data = last_data

    def snapshot(self, now: datetime) -> Receiver | None:
        """Return a new Receiver when anything visible changed since the last call, else None."""
        if not self._dirty and not self._dirty_channels:
            return None
        dirty, self._dirty_channels = self._dirty_channels, set()
        self._dirty = False
        last = self._last
        before = {} if last is None else {ch.number: ch for ch in last.channels}
        channels: list[Channel] = []
        for number, raw in sorted(self._channels.items()):
            old = before.get(number)
            if old is not None and number not in dirty:
                channels.append(old)
                continue
            channels.append(restamped(self._build_channel(number, raw), old, now))
        device = (self._connection, self.model, self._online)
        if (
            last is not None
            and device == (last.connection, last.model, last.online)
            and len(channels) == len(last.channels)
            and all(a is b for a, b in zip(channels, last.channels, strict=True))
        ):
            return None
        connection, model, online = device
        self._last = Receiver(
            id=self.id,
            manufacturer=MANUFACTURER,
            api_device_id=self.api_device_id,
            connection=connection,
            model=model,
            name=self.name,
            ip=self.host,
            online=online,
            channels=tuple(channels),
            last_seen=now if online else (self._last_data or (last.last_seen if last else None)),
        )
        return self._last

    def _build_channel(self, number: int, raw: _ChannelRaw) -> Channel:
        v = raw.values
        name = v.get(Field.NAME)
        frequency = v.get(Field.FREQUENCY_KHZ)
        return Channel(
            id=channel_id(self.id, number),
            number=number,
            name=name if isinstance(name, str) else None,
            frequency_khz=frequency if isinstance(frequency, int) else None,
            transmitter=_transmitter(v),
            rf=Rf(coarse=raw.coarse),
        )


def _transmitter(v: dict[Field, object]) -> Transmitter | None:
    """Build the transmitter, or ``None`` when nothing says one is on.

    A known battery digit means a pack is talking to the receiver; a ``TX_TYPE`` of
    ``UNKN`` with ``U`` bars means it is off (shure.md §3.5, §6). A known type with ``U``
    bars is a pack whose battery is unknown: present, bars ``None``.
    """
    bars = v.get(Field.BATTERY_BARS)
    bars = bars if isinstance(bars, int) and not isinstance(bars, bool) else None
    model = v.get(Field.TX_MODEL)
    model = model if isinstance(model, str) else None
    if bars is None and model is None:
        return None
    muted = v.get(Field.MUTED)
    return Transmitter(
        model=model,
        battery=Battery(bars=bars),
        muted=muted if isinstance(muted, bool) else None,
    )
