"""Fold command-string updates into an immutable :class:`~micboard_desktop.core.model.Receiver`.

The raw per-channel values live in small mutable records; :meth:`ReceiverState.snapshot`
builds a new frozen Receiver only when something visible changed, so the store (and every
listener behind it) sees one update per real change, not one per frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TypeVar

from micboard_desktop.core.model import (
    Audio,
    Battery,
    Channel,
    ConnectionInfo,
    Receiver,
    ReceiverId,
    Rf,
    Transmitter,
    Transport,
    channel_id,
    receiver_id,
)
from micboard_desktop.plugins.shure.families import family_from_model
from micboard_desktop.plugins.shure.parsers import (
    AD_QUALITY_MAX,
    ChannelField,
    ChannelUpdate,
    DeviceField,
    DeviceUpdate,
    MeterUpdate,
    Update,
)

MANUFACTURER = "shure"
MAX_CHANNELS = 8
_MISSING = object()
_K = TypeVar("_K")
_V = TypeVar("_V")


@dataclass(slots=True)
class _ChannelRaw:
    """What the receiver last said about one channel."""

    values: dict[ChannelField, object] = field(default_factory=dict)
    rssi: dict[int, float | None] = field(default_factory=dict)


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _float(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _bool(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


class ReceiverState:
    """The live view of one receiver reached by command strings."""

    def __init__(self, api_device_id: str, *, host: str | None = None) -> None:
        self.id: ReceiverId = receiver_id(MANUFACTURER, api_device_id)
        self.api_device_id = api_device_id
        self.host = host
        self.family: str | None = None
        self.meter_layout: str | None = None
        """SAMPLE layout seen (``ulxd`` stands for ULX-D or QLX-D, shure.md §3.3)."""
        self._device: dict[DeviceField, str | None] = {}
        self._channels: dict[int, _ChannelRaw] = {}
        self._connection = ConnectionInfo(transport=Transport.TCP)
        self._online = False
        self._last: Receiver | None = None
        self._dirty = True
        """A receiver-level value changed since the last snapshot (most frames change nothing)."""
        self._dirty_channels: set[int] = set()
        """Channels whose values changed since the last snapshot (only these are rebuilt)."""
        self.ignored = 0
        """Updates that carried nothing we use."""

    @property
    def current(self) -> Receiver | None:
        """Return the last snapshot built, if any."""
        return self._last

    def apply(self, update: Update) -> None:
        """Record one update (meter values stay out: they travel on the MeterBus)."""
        if isinstance(update, DeviceUpdate):
            if self._device.get(update.field, _MISSING) != update.value:
                self._dirty = True
            self._device[update.field] = update.value
            if update.field is DeviceField.MODEL:
                self._set_family(family_from_model(update.value) or self.family)
        elif isinstance(update, ChannelUpdate):
            raw = self._channel(update.channel)
            if raw is None:
                return
            if update.field is ChannelField.RSSI and isinstance(update.value, tuple):
                index, dbm = update.value
                self._set(update.channel, raw.rssi, index, dbm)
            else:
                self._set(update.channel, raw.values, update.field, update.value)
        elif isinstance(update, MeterUpdate):
            raw = self._channel(update.channel)
            if raw is None:
                return
            self.meter_layout = update.family
            if self.family is None and update.family != "ulxd":
                self._set_family(update.family)  # ULX-D and QLX-D share a layout; do not guess
            if update.family == "ad":
                self._set(update.channel, raw.values, ChannelField.QUALITY, update.quality)
        else:
            self.ignored += 1

    def _set(self, channel: int, values: dict[_K, _V], key: _K, value: _V) -> None:
        if key not in values or values[key] != value:
            values[key] = value
            self._dirty_channels.add(channel)

    def _set_family(self, family: str | None) -> None:
        if family != self.family:
            self.family = family
            self._dirty = True
            self._dirty_channels.update(self._channels)  # the quality scale follows the family

    def possible_families(self) -> frozenset[str] | None:
        """Return the families this receiver can be, or ``None`` while nothing tells."""
        if self.family is not None:
            return frozenset({self.family})
        if self.meter_layout == "ulxd":
            return frozenset({"ulxd", "qlxd"})  # one SAMPLE layout for both (shure.md §3.3)
        return None if self.meter_layout is None else frozenset({self.meter_layout})

    def set_connection(self, connection: ConnectionInfo, *, online: bool) -> None:
        """Record the connection's public state; ``online`` False keeps the last values."""
        if connection != self._connection or online != self._online:
            self._dirty = True
        self._connection = connection
        self._online = online

    def snapshot(self, now: datetime) -> Receiver | None:
        """Return a new Receiver when anything visible changed since the last call, else None.

        Only channels whose values changed are built again; the others keep their objects
        (and their ``updated_at``).
        """
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
            built = self._build_channel(number, raw)
            if old is not None and replace(built, updated_at=old.updated_at) == old:
                channels.append(old)
            else:
                channels.append(replace(built, updated_at=now))
        device = (
            self._connection,
            self._device.get(DeviceField.MODEL),
            self._device.get(DeviceField.NAME),
            self._device.get(DeviceField.FIRMWARE),
            self._online,
        )
        if (
            last is not None
            and device == (last.connection, last.model, last.name, last.firmware, last.online)
            and len(channels) == len(last.channels)
            and all(a is b for a, b in zip(channels, last.channels, strict=True))
        ):
            return None
        connection, model, name, firmware, online = device
        self._last = Receiver(
            id=self.id,
            manufacturer=MANUFACTURER,
            api_device_id=self.api_device_id,
            connection=connection,
            model=model,
            name=name,
            ip=self.host,
            firmware=firmware,
            online=online,
            channels=tuple(channels),
            last_seen=now if online else (last.last_seen if last else None),
        )
        return self._last

    def _channel(self, number: int) -> _ChannelRaw | None:
        if not 1 <= number <= MAX_CHANNELS:
            self.ignored += 1
            return None
        raw = self._channels.get(number)
        if raw is None:
            raw = self._channels[number] = _ChannelRaw()
            self._dirty_channels.add(number)  # a new (still empty) channel is visible
        return raw

    def _build_channel(self, number: int, raw: _ChannelRaw) -> Channel:
        v = raw.values
        rssi: tuple[float | None, ...] = ()
        if raw.rssi:
            rssi = tuple(raw.rssi.get(i) for i in range(1, max(raw.rssi) + 1))
        quality = _int(v.get(ChannelField.QUALITY))
        interference = _bool(v.get(ChannelField.INTERFERENCE))
        if v.get(ChannelField.INTERFERENCE2) is True:
            interference = True  # FD-C: either carrier hit counts
        rf = Rf(
            rssi_dbm=rssi,
            antenna=_str(v.get(ChannelField.ANTENNA)),
            quality=None if quality is None else float(quality),
            quality_max=float(AD_QUALITY_MAX) if self.family == "ad" else None,
            interference=interference,
        )
        audio = Audio(
            rms_dbfs=_float(v.get(ChannelField.AUDIO_RMS)),
            peak_dbfs=_float(v.get(ChannelField.AUDIO_PEAK)),
        )
        return Channel(
            id=channel_id(self.id, number),
            number=number,
            name=_str(v.get(ChannelField.NAME)),
            frequency_khz=_int(v.get(ChannelField.FREQUENCY_KHZ)),
            transmitter=_transmitter(v),
            rf=rf,
            audio=audio,
        )


def _transmitter(v: dict[ChannelField, object]) -> Transmitter | None:
    """Build the transmitter, or ``None`` when the receiver says none is on."""
    battery = Battery(
        bars=_int(v.get(ChannelField.BATTERY_BARS)),
        percent=_int(v.get(ChannelField.BATTERY_PERCENT)),
        minutes=_int(v.get(ChannelField.BATTERY_MINUTES)),
        type=_str(v.get(ChannelField.BATTERY_TYPE)),
    )
    if ChannelField.TX_MODEL in v:
        model = _str(v[ChannelField.TX_MODEL])
        if model is None:
            return None  # TX_TYPE/TX_MODEL UNKN(OWN): switched off or not linked
    else:
        model = None
        if battery == Battery():
            return None  # nothing says a transmitter is there
    return Transmitter(model=model, battery=battery, muted=_bool(v.get(ChannelField.TX_MUTED)))
