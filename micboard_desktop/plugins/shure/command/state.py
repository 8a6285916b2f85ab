"""The live view of one command-string receiver: typed updates in, a frozen Receiver out.

The raw per-channel values live in small mutable records; :meth:`ReceiverState.snapshot`
builds a new frozen Receiver only when something visible changed, so the store (and every
listener behind it) sees one update per real change, not one per frame. The family is
settled here from the clues the updates carry (:mod:`.families`); it decides how a value
reads (MXW's runtime codes, shure.md §3.5) and what a channel is (a PSM1000 channel is an
in-ear link with no transmitter pack, shure.md §3.4).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, TypeVar

from micboard_desktop.plugins.api import (
    Audio,
    Battery,
    Channel,
    ChannelId,
    ChannelKind,
    ConnectionInfo,
    Iem,
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
from micboard_desktop.plugins.shure.command import families, mxw
from micboard_desktop.plugins.shure.command.families import MXW, PSM1000
from micboard_desktop.plugins.shure.command.mapping import (
    AD_QUALITY_MAX,
    ChannelField,
    ChannelUpdate,
    DeviceField,
    DeviceUpdate,
    IemLevelUpdate,
    MeterUpdate,
    Update,
)

MANUFACTURER: Final = "shure"
MAX_CHANNELS: Final = 8
_MISSING = object()
_K = TypeVar("_K")
_V = TypeVar("_V")

_TX_VALUES: Final = (
    ChannelField.TX_MODEL,
    ChannelField.BATTERY_BARS,
    ChannelField.BATTERY_PERCENT,
    ChannelField.BATTERY_MINUTES,
    ChannelField.RUN_TIME_CODE,
    ChannelField.BATTERY_HEALTH,
    ChannelField.BUTTON,
)
"""What an MXW microphone reported that no longer holds once it is unavailable."""


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

    def __init__(
        self,
        api_device_id: str,
        *,
        host: str | None = None,
        family: str | None = None,
        label: str | None = None,
    ) -> None:
        self.id: ReceiverId = receiver_id(MANUFACTURER, api_device_id)
        self.api_device_id = api_device_id
        self.host = host
        self.family: str | None = None
        self.family_strength = 0
        """How sure :attr:`family` is (:data:`families.HINT` down to ``LAYOUT``; 0 unknown)."""
        self.label = clean_optional(label)
        """The configured name, shown until the device reports its own."""
        self.meter_layout: str | None = None
        """SAMPLE layout seen (``ulxd`` stands for ULX-D or QLX-D, shure.md §3.3)."""
        self._device: dict[DeviceField, str | None] = {}
        self._channels: dict[int, _ChannelRaw] = {}
        self._connection = ConnectionInfo(transport=Transport.TCP)
        self._online = False
        self._last_data: datetime | None = None
        self._last: Receiver | None = None
        self._dirty = True
        """A receiver-level value changed since the last snapshot (most frames change nothing)."""
        self._dirty_channels: set[int] = set()
        """Channels whose values changed since the last snapshot (only these are rebuilt)."""
        self._rereads: list[int] = []
        self._channel_ids: dict[int, ChannelId] = {}
        """Channel ids by number for :attr:`_ids_of` (built once, not per snapshot)."""
        self._ids_of = self.id
        self.ignored = 0
        """Updates that carried nothing we use."""
        self.note_family(family, families.HINT)

    @property
    def current(self) -> Receiver | None:
        """Return the last snapshot built, if any."""
        return self._last

    def note_family(self, family: str | None, strength: int) -> bool:
        """Take ``family`` when this clue is stronger than what settled it; True if it changed."""
        if family is None or strength <= self.family_strength:
            return False
        self.family_strength = strength
        if family == self.family:
            return False
        self.family = family
        self._dirty = True
        self._dirty_channels.update(self._channels)  # scales and channel kinds follow it
        return True

    @property
    def changed(self) -> bool:
        """Return True when :meth:`snapshot` may have something new (False: it returns None)."""
        return self._dirty or bool(self._dirty_channels)

    @property
    def rereads_pending(self) -> bool:
        """Return True when :meth:`take_rereads` has channels to hand out."""
        return bool(self._rereads)

    def take_rereads(self) -> list[int]:
        """Return (and forget) the channels whose microphone came back and must be re-read."""
        out, self._rereads = self._rereads, []
        return out

    def details(self, number: int) -> dict[str, object]:
        """Return what a channel reported that the model has no field for (diagnostics)."""
        raw = self._channels.get(number)
        if raw is None:
            return {}
        wanted = (
            ChannelField.GROUP_CHANNEL,
            ChannelField.INPUT_GAIN,
            ChannelField.BATTERY_HEALTH,
            ChannelField.BUTTON,
            ChannelField.TX_AVAILABLE,
            ChannelField.TX_STATUS,
        )
        return {str(k): raw.values[k] for k in wanted if k in raw.values}

    def apply(self, update: Update) -> None:
        """Record one update (meter values stay out: they travel on the MeterBus)."""
        if isinstance(update, ChannelUpdate):
            self._apply_channel(update)
        elif isinstance(update, MeterUpdate):
            self.apply_sample(update.channel, update.family, update.quality)
        elif isinstance(update, IemLevelUpdate):
            if self._channel(update.channel) is not None:  # a streaming P10T shows its channels
                self.note_family(PSM1000, families.PARAMETER)
        elif isinstance(update, DeviceUpdate):
            if self._device.get(update.field, _MISSING) != update.value:
                self._dirty = True
            self._device[update.field] = update.value
            if update.field is DeviceField.MODEL:
                self.note_family(families.family_from_model(update.value), families.MODEL)
            self.note_family(update.family, families.PARAMETER)
        else:
            self.ignored += 1

    def apply_sample(self, number: int, layout: str, quality: int | None) -> None:
        """Record what a SAMPLE says besides its meters: its layout and (AD) the quality.

        Runs for every SAMPLE (thousands a second on a big rig), hence the plain arguments
        and the inlined checks; they do what ``_channel``, ``note_family`` and ``_set`` would.
        """
        raw = self._channels.get(number)
        if raw is None:
            raw = self._channel(number)
            if raw is None:
                return
        self.meter_layout = layout
        # ULX-D and QLX-D share a layout: do not guess. A layout is the weakest clue, so
        # note_family would return at once when anything settled the family already.
        if layout != "ulxd" and self.family_strength < families.LAYOUT:
            self.note_family(layout, families.LAYOUT)
        if layout == "ad":
            values = raw.values
            if values.get(ChannelField.QUALITY, _MISSING) != quality:
                values[ChannelField.QUALITY] = quality
                self._dirty_channels.add(number)

    def _apply_channel(self, update: ChannelUpdate) -> None:
        raw = self._channel(update.channel)
        if raw is None:
            return
        self.note_family(update.family, families.PARAMETER)
        if update.field is ChannelField.RSSI and isinstance(update.value, tuple):
            index, dbm = update.value
            if isinstance(dbm, float) or dbm is None:
                self._set(update.channel, raw.rssi, index, dbm)
            return
        if update.field is ChannelField.TX_MODEL:
            tx_family = families.family_from_model(_str(update.value))
            self.note_family(tx_family, families.PARAMETER)
        if update.field is ChannelField.TX_AVAILABLE:
            before = raw.values.get(ChannelField.TX_AVAILABLE)
            if update.value is False:
                for key in _TX_VALUES:  # a microphone that left says nothing true any more
                    if raw.values.pop(key, _MISSING) is not _MISSING:
                        self._dirty_channels.add(update.channel)
            elif update.value is True and before is False:
                self._rereads.append(update.channel)  # Shure: re-read after NO -> YES
        self._set(update.channel, raw.values, update.field, update.value)

    def _set(self, channel: int, values: dict[_K, _V], key: _K, value: _V) -> None:
        if key not in values or values[key] != value:
            values[key] = value
            self._dirty_channels.add(channel)

    def possible_families(self) -> frozenset[str] | None:
        """Return the families this receiver can be, or ``None`` while nothing tells."""
        if self.family is not None:
            return frozenset({self.family})
        if self.meter_layout == "ulxd":
            return frozenset({"ulxd", "qlxd"})  # one SAMPLE layout for both (shure.md §3.3)
        return None if self.meter_layout is None else frozenset({self.meter_layout})

    def set_connection(
        self, connection: ConnectionInfo, *, online: bool, last_data: datetime | None = None
    ) -> None:
        """Record the connection's public state; ``online`` False keeps the last values.

        ``last_data`` is when the receiver last sent anything: once offline it becomes
        ``last_seen``, the age the board shows beside the last values (core/liveness.py).
        """
        if connection != self._connection or online != self._online:
            self._dirty = True
        self._connection = connection
        self._online = online
        if not online and last_data is not None:
            self._last_data = last_data

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
            channels.append(restamped(self._build_channel(number, raw), old, now))
        device = (
            self._connection,
            self._device.get(DeviceField.MODEL),
            self._device.get(DeviceField.NAME) or self.label,
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
            last_seen=now if online else (self._last_data or (last.last_seen if last else None)),
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
        if self._ids_of != self.id:
            self._channel_ids, self._ids_of = {}, self.id
        cid = self._channel_ids.get(number)
        if cid is None:
            cid = self._channel_ids[number] = channel_id(self.id, number)
        name = _str(v.get(ChannelField.NAME))
        if self.family == PSM1000:
            # An in-ear transmitter: no pack to watch, its RF and inputs instead. The inputs'
            # slow values come from the meter fold (engine/levels.py), not from here.
            iem = Iem(
                rf_power_mw=_int(v.get(ChannelField.RF_POWER_MW)),
                rf_muted=_bool(v.get(ChannelField.RF_MUTED)),
            )
            return Channel(
                id=cid,
                number=number,
                name=name,
                frequency_khz=_int(v.get(ChannelField.FREQUENCY_KHZ)),
                kind=ChannelKind.IEM,
                iem=iem,
            )
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
        transmitter = _mxw_transmitter(v) if self.family == MXW else _transmitter(v)
        return Channel(
            id=cid,
            number=number,
            name=name,
            frequency_khz=_int(v.get(ChannelField.FREQUENCY_KHZ)),
            transmitter=transmitter,
            rf=rf,
            audio=audio,
        )


def _battery(
    v: dict[ChannelField, object], minutes: int | None, charging: bool | None = None
) -> Battery:
    return Battery(
        bars=_int(v.get(ChannelField.BATTERY_BARS)),
        percent=_int(v.get(ChannelField.BATTERY_PERCENT)),
        minutes=minutes,
        type=_str(v.get(ChannelField.BATTERY_TYPE)),
        charging=charging,
    )


def _transmitter(v: dict[ChannelField, object]) -> Transmitter | None:
    """Build a ULX-D/QLX-D/AD/SLX-D transmitter, or ``None`` when the receiver says none is on."""
    minutes = _int(v.get(ChannelField.BATTERY_MINUTES))
    if minutes is None:
        # BATT_RUN_TIME arrives as a raw code: 65533-65535 are states here (shure.md §3.5),
        # and 65532 (45 days, wall power on MXW) is no runtime either: the family may be
        # learnt only after the value came.
        minutes = mxw.minutes(_int(v.get(ChannelField.RUN_TIME_CODE)))
    battery = _battery(v, minutes)
    if ChannelField.TX_MODEL in v:
        model = _str(v[ChannelField.TX_MODEL])
        if model is None:
            return None  # TX_TYPE/TX_MODEL UNKN(OWN): switched off or not linked
    else:
        model = None
        if battery == Battery():
            return None  # nothing says a transmitter is there
    return Transmitter(model=model, battery=battery, muted=_bool(v.get(ChannelField.TX_MUTED)))


_MXW_MUTED: Final = {
    mxw.TxStatus.ACTIVE: False,
    mxw.TxStatus.MUTE: True,
    mxw.TxStatus.STANDBY: True,  # standby passes no audio: as good as muted on stage
}


def _mxw_transmitter(v: dict[ChannelField, object]) -> Transmitter | None:
    """Build an MXW microphone: on the charger it is a charging pack, never a live mic."""
    status = v.get(ChannelField.TX_STATUS)
    code = _int(v.get(ChannelField.RUN_TIME_CODE))
    docked = status is mxw.TxStatus.ON_CHARGER
    external = docked or mxw.on_external_power(code)
    minutes = mxw.minutes(code)
    charging = True if external else (False if isinstance(status, mxw.TxStatus) else None)
    battery = _battery(v, minutes, charging)  # built whole: dataclasses.replace is slow
    model = _str(v.get(ChannelField.TX_MODEL))
    if not docked:
        if v.get(ChannelField.TX_AVAILABLE) is False:
            return None  # out of range or switched off
        if ChannelField.TX_STATUS in v and status is None:
            return None  # TX_STATUS UNKNOWN: no microphone on air (and none docked)
        if ChannelField.TX_MODEL in v and model is None:
            return None  # TX_TYPE UNKNOWN: no microphone linked
        if ChannelField.TX_MODEL not in v and _battery(v, minutes) == Battery():
            return None  # nothing says a microphone is there
    muted = None if docked or not isinstance(status, mxw.TxStatus) else _MXW_MUTED[status]
    return Transmitter(model=model, battery=battery, muted=muted)
