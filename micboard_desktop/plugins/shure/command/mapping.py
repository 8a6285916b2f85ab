"""Command strings to the model: family names, frame parsers and the receiver state.

Three steps, wire to model (shure.md §3.3-§3.5):

* **Families** (shure.md §3.4). Parameter names differ between families and a GET for a
  name the family lacks gets no answer at all, so what we *ask* must follow the family.
  What we *parse* is the union of every family's names, which also tolerates both SLX-D
  naming variants.
* **Parsers.** Every value goes through :mod:`micboard_desktop.core.sentinels`, so 255
  bars, 65535 minutes or ``UNKN`` become ``None``, never a number. A frame we cannot read
  yields nothing; :func:`parse_frame` never raises.
* **Receiver state.** The raw per-channel values live in small mutable records;
  :meth:`ReceiverState.snapshot` builds a new frozen Receiver only when something visible
  changed, so the store (and every listener behind it) sees one update per real change,
  not one per frame.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Final, TypeVar

from micboard_desktop.plugins.api import (
    Audio,
    Battery,
    Channel,
    ConnectionInfo,
    MeterSample,
    Receiver,
    ReceiverId,
    Rf,
    Transmitter,
    Transport,
    channel_id,
    clean_optional,
    receiver_id,
    sentinels,
)
from micboard_desktop.plugins.shure.command.frames import tokenize, unbrace

# -- families (what to ask) --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FamilyNames:
    """The command-string names one Shure family uses."""

    family: str
    tx_model: tuple[str, ...]
    battery: tuple[str, ...]
    """Battery parameters re-queried periodically (bars first)."""
    has_model_param: bool
    """Whether the device answers ``GET MODEL``."""


FAMILIES: Final[dict[str, FamilyNames]] = {
    "ulxd": FamilyNames(
        "ulxd", ("TX_TYPE",), ("BATT_BARS", "BATT_CHARGE", "BATT_RUN_TIME", "BATT_TYPE"), False
    ),
    "qlxd": FamilyNames(
        "qlxd", ("TX_TYPE",), ("BATT_BARS", "BATT_CHARGE", "BATT_RUN_TIME", "BATT_TYPE"), False
    ),
    "ad": FamilyNames(
        "ad",
        ("TX_MODEL",),
        ("TX_BATT_BARS", "TX_BATT_CHARGE_PERCENT", "TX_BATT_MINS", "TX_BATT_TYPE"),
        True,
    ),
    # SLX-D: firmware 1.4.7.0 says TX_MODEL, other sources TX_TYPE (shure.md §7.5); ask both.
    "slxd": FamilyNames("slxd", ("TX_MODEL", "TX_TYPE"), ("TX_BATT_BARS", "TX_BATT_MINS"), True),
}
"""Names per family code (``ulxd``, ``qlxd``, ``ad``, ``slxd``)."""

UNKNOWN_FAMILY: Final = FamilyNames(
    "unknown",
    ("TX_TYPE", "TX_MODEL"),
    ("BATT_BARS", "BATT_RUN_TIME", "TX_BATT_BARS", "TX_BATT_MINS"),
    True,
)
"""What to ask before the family is known: both spellings (unknown names just get silence)."""


def family_from_model(model: str | None) -> str | None:
    """Return the family code for a model name such as ``AD4Q-A`` or ``SLXD4D``."""
    if not model:
        return None
    upper = model.upper()
    for prefix, family in (("ULXD", "ulxd"), ("QLXD", "qlxd"), ("SLXD", "slxd"), ("AD", "ad")):
        if upper.startswith(prefix):
            return family
    return None


def names_for(family: str | None) -> FamilyNames:
    """Return the names to use for ``family`` (both spellings while it is unknown)."""
    if family is None:
        return UNKNOWN_FAMILY
    return FAMILIES.get(family, UNKNOWN_FAMILY)


def requery_commands(family: str | None) -> list[str]:
    """Return the periodic ``GET`` frames for names and battery (Micboard does this every 10 s).

    Index ``0`` fans the GET out to every channel, so the channel count need not be known.
    """
    names = names_for(family)
    return [f"< GET 0 {param} >" for param in ("CHAN_NAME", *names.tx_model, *names.battery)]


# -- parsers (frames to typed updates) ---------------------------------------------------

ULX_RF_OFFSET: Final = 128
"""ULX-D/QLX-D SAMPLE RF: dBm = raw - 128 (Shure's ULX-D document)."""
ULX_AUDIO_OFFSET: Final = 50
"""ULX-D/QLX-D SAMPLE audio: dBFS = raw - 50 (unit undocumented, shure.md §7.3)."""
LEVEL_OFFSET: Final = 120
"""AD/SLX-D levels: dBFS or dBm = raw - 120."""
AD_QUALITY_MAX: Final = 5
ANTENNA_LETTERS: Final = "ABCD"


class DeviceField(StrEnum):
    """Receiver-level values a REP can carry."""

    NAME = "name"
    MODEL = "model"
    FIRMWARE = "firmware"


class ChannelField(StrEnum):
    """Channel-level values a REP (or the slow part of a SAMPLE) can carry."""

    NAME = "name"
    FREQUENCY_KHZ = "frequency_khz"
    TX_MODEL = "tx_model"
    """``None`` (from ``UNKN``/``UNKNOWN``) means no transmitter is on."""
    BATTERY_BARS = "battery_bars"
    BATTERY_PERCENT = "battery_percent"
    BATTERY_MINUTES = "battery_minutes"
    BATTERY_TYPE = "battery_type"
    TX_MUTED = "tx_muted"
    INTERFERENCE = "interference"
    INTERFERENCE2 = "interference2"
    QUALITY = "quality"
    ANTENNA = "antenna"
    RSSI = "rssi"
    """Value ``(antenna index 1-4, dBm or None)``."""
    AUDIO_PEAK = "audio_peak"
    AUDIO_RMS = "audio_rms"


Value = str | int | float | bool | tuple[int, float | None] | None


@dataclass(frozen=True, slots=True)
class DeviceUpdate:
    """A receiver-level value from a REP."""

    field: DeviceField
    value: str | None


@dataclass(frozen=True, slots=True)
class ChannelUpdate:
    """A channel-level value from a REP."""

    channel: int
    field: ChannelField
    value: Value


@dataclass(frozen=True, slots=True)
class MeterUpdate:
    """One SAMPLE: the meter reading plus the slow values it also carries."""

    channel: int
    family: str
    """``ulxd`` (ULX-D or QLX-D layout), ``ad`` or ``slxd``."""
    sample: MeterSample
    quality: int | None = None
    """AD channel quality 0-5 (``None`` for 255 or other families)."""
    rssi2_dbm: tuple[float | None, ...] = ()
    """AD FD-C: the second carrier's per-antenna RSSI (not extra antennas)."""


@dataclass(frozen=True, slots=True)
class MeterRateReport:
    """``REP n METER_RATE nnnnn``: what the receiver meters at for this connection."""

    channel: int
    milliseconds: int | None


Update = DeviceUpdate | ChannelUpdate | MeterUpdate | MeterRateReport


def _offset(raw: str, low: int, high: int, offset: int) -> float | None:
    """Return ``raw - offset`` when ``raw`` is an integer in ``low..high``, else ``None``."""
    value = sentinels.in_range(raw, low, high)
    return None if value is None else float(value - offset)


def _table(low: int, high: int, offset: int) -> dict[str, float]:
    """Precompute the zero-padded three-digit forms receivers send (``"045"``)."""
    return {f"{v:03d}": float(v - offset) for v in range(low, high + 1)}


# Meter words arrive tens of thousands of times a second on a big rig: look the usual
# three-digit form up, and parse anything else (other padding, junk) the careful way.
_LEVELS: Final = _table(0, 120, LEVEL_OFFSET)
_ULX_RF: Final = _table(0, 115, ULX_RF_OFFSET)
_ULX_AUDIO: Final = _table(0, 50, ULX_AUDIO_OFFSET)


def level(raw: str) -> float | None:
    """AD/SLX-D level (dBFS or dBm) from 000-120."""
    found = _LEVELS.get(raw)
    return found if found is not None else _offset(raw, 0, 120, LEVEL_OFFSET)


def ulx_rf(raw: str) -> float | None:
    """ULX-D/QLX-D SAMPLE RF in dBm from 000-115."""
    found = _ULX_RF.get(raw)
    return found if found is not None else _offset(raw, 0, 115, ULX_RF_OFFSET)


def ulx_audio(raw: str) -> float | None:
    """ULX-D/QLX-D SAMPLE audio in dBFS from 000-050 (unit unconfirmed)."""
    found = _ULX_AUDIO.get(raw)
    return found if found is not None else _offset(raw, 0, 50, ULX_AUDIO_OFFSET)


def ulx_antenna(leds: str) -> str | None:
    """Active antennas from positional ULX-D LEDs: ``AX`` → A, ``XB`` → B, ``XX`` → None."""
    letters = "".join(c for c in leds.upper()[:2] if c in "AB")
    return letters or None


def ad_antenna(status: str) -> str | None:
    """Active antennas from AD status chars (``B`` blue / ``R`` red receive, ``X`` off)."""
    letters = "".join(
        ANTENNA_LETTERS[i] for i, c in enumerate(status.upper()[:4]) if c in ("B", "R")
    )
    return letters or None


def _is_digits(token: str) -> bool:
    return token.isascii() and token.isdigit()


def _word(raw: str, mapping: dict[str, bool]) -> bool | None:
    return mapping.get(raw.upper())


_TX_MUTE: Final = {"ON": True, "OFF": False}
_AD_TX_MUTE: Final = {"MUTE": True, "ON": False}  # AD inverts: ON means audio passes
_INTERFERENCE: Final = {"NONE": False, "CRITICAL": True, "DETECTED": True}

_ChannelParser = Callable[[list[str]], tuple[ChannelField, Value] | None]


def _one(field: ChannelField, convert: Callable[[str], Value]) -> _ChannelParser:
    """Return a parser for a REP with one value token."""

    def parse(values: list[str]) -> tuple[ChannelField, Value] | None:
        if len(values) != 1:
            return None
        return field, convert(values[0])

    return parse


def _rssi(values: list[str]) -> tuple[ChannelField, Value] | None:
    """``REP n RSSI a vvv``: per-antenna RSSI (AD, SLX-D)."""
    if len(values) != 2:
        return None
    index = sentinels.in_range(values[0], 1, 4)
    if index is None:
        return None
    return ChannelField.RSSI, (index, level(values[1]))


def _text(raw: str) -> str | None:
    """Return a device string: unbraced, sentinel-checked, cleaned and bounded.

    A broken device sends raw control bytes or invalid UTF-8 (decoded as U+FFFD); they
    must not reach a name (the engine's boundary cleans again, this keeps the plugin honest).
    """
    value = sentinels.text(unbrace(raw))
    return clean_optional(value)


CHANNEL_PARAMS: Final[dict[str, _ChannelParser]] = {
    "CHAN_NAME": _one(ChannelField.NAME, _text),
    "FREQUENCY": _one(ChannelField.FREQUENCY_KHZ, sentinels.frequency_khz),
    "TX_TYPE": _one(ChannelField.TX_MODEL, _text),
    "TX_MODEL": _one(ChannelField.TX_MODEL, _text),
    "BATT_BARS": _one(ChannelField.BATTERY_BARS, sentinels.battery_bars),
    "TX_BATT_BARS": _one(ChannelField.BATTERY_BARS, sentinels.battery_bars),
    "BATT_CHARGE": _one(ChannelField.BATTERY_PERCENT, sentinels.battery_percent),
    "TX_BATT_CHARGE_PERCENT": _one(ChannelField.BATTERY_PERCENT, sentinels.battery_percent),
    "BATT_RUN_TIME": _one(ChannelField.BATTERY_MINUTES, sentinels.battery_minutes),
    "TX_BATT_MINS": _one(ChannelField.BATTERY_MINUTES, sentinels.battery_minutes),
    "BATT_TYPE": _one(ChannelField.BATTERY_TYPE, _text),
    "TX_BATT_TYPE": _one(ChannelField.BATTERY_TYPE, _text),
    "TX_MUTE_STATUS": _one(ChannelField.TX_MUTED, lambda v: _word(v, _TX_MUTE)),
    "TX_MUTE_MODE_STATUS": _one(ChannelField.TX_MUTED, lambda v: _word(v, _AD_TX_MUTE)),
    "RF_INT_DET": _one(ChannelField.INTERFERENCE, lambda v: _word(v, _INTERFERENCE)),
    "INTERFERENCE_STATUS": _one(ChannelField.INTERFERENCE, lambda v: _word(v, _INTERFERENCE)),
    "INTERFERENCE_STATUS2": _one(ChannelField.INTERFERENCE2, lambda v: _word(v, _INTERFERENCE)),
    "CHAN_QUALITY": _one(ChannelField.QUALITY, lambda v: sentinels.quality(v, AD_QUALITY_MAX)),
    "ANTENNA_STATUS": _one(ChannelField.ANTENNA, ad_antenna),
    "RSSI": _rssi,
    "AUDIO_LEVEL_PEAK": _one(ChannelField.AUDIO_PEAK, level),
    "AUDIO_LEVEL_RMS": _one(ChannelField.AUDIO_RMS, level),
}
"""Channel REPs we use, over every family's names (unknown names are ignored)."""

DEVICE_PARAMS: Final[dict[str, DeviceField]] = {
    "DEVICE_ID": DeviceField.NAME,
    "MODEL": DeviceField.MODEL,
    "FW_VER": DeviceField.FIRMWARE,
}
"""Device REPs we use (they carry no channel index)."""


def parse_sample(channel: int, fields: list[str], family: str | None = None) -> MeterUpdate | None:
    """Parse the fields after ``SAMPLE n ALL`` in whichever layout they have; ``None`` if bad.

    The layout is recognised by shape (ULX-D starts with antenna letters, SLX-D has three
    numbers, AD more), so a wrong or missing ``family`` hint cannot mis-scale values.
    """
    if len(fields) == 3 and not _is_digits(fields[0]):
        if not all(_is_digits(f) for f in fields[1:]) or family in ("ad", "slxd"):
            return None
        antenna = ulx_antenna(fields[0])
        sample = MeterSample(
            audio_peak_dbfs=ulx_audio(fields[2]), rssi_dbm=(ulx_rf(fields[1]),), antenna=antenna
        )
        return MeterUpdate(channel, "ulxd", sample)
    if len(fields) == 3:
        if not all(_is_digits(f) for f in fields) or family in ("ad", "ulxd", "qlxd"):
            return None
        sample = MeterSample(
            audio_peak_dbfs=level(fields[0]),
            audio_rms_dbfs=level(fields[1]),
            rssi_dbm=(level(fields[2]),),
        )
        return MeterUpdate(channel, "slxd", sample)
    return _parse_ad_sample(channel, fields)


def _rf_section(fields: list[str]) -> tuple[str, tuple[float | None, ...], list[str]] | None:
    """Parse ``antStats (bitmap rssi)*n``; return (status, rssi per antenna, rest)."""
    if not fields:
        return None
    status = fields[0].upper()
    count = len(status)
    if not 1 <= count <= 4 or any(c not in "BRX" for c in status):
        return None
    pairs = fields[1 : 1 + 2 * count]
    if len(pairs) != 2 * count or not all(_is_digits(t) for t in pairs):
        return None
    rssi = tuple(level(pairs[2 * i + 1]) for i in range(count))
    return status, rssi, fields[1 + 2 * count :]


def _parse_ad_sample(channel: int, fields: list[str]) -> MeterUpdate | None:
    """Parse ``qual bitmap peak rms`` plus one or two RF sections (FD-C)."""
    if len(fields) < 7 or not all(_is_digits(t) for t in fields[:4]):
        return None
    first = _rf_section(fields[4:])
    if first is None:
        return None
    status, rssi, rest = first
    rssi2: tuple[float | None, ...] = ()
    if rest:
        second = _rf_section(rest)
        if second is None or second[2]:
            return None
        rssi2 = second[1]
    sample = MeterSample(
        audio_peak_dbfs=level(fields[2]),
        audio_rms_dbfs=level(fields[3]),
        rssi_dbm=rssi,
        antenna=ad_antenna(status),
    )
    quality = sentinels.quality(fields[0], AD_QUALITY_MAX)
    return MeterUpdate(channel, "ad", sample, quality=quality, rssi2_dbm=rssi2)


def parse_tokens(tokens: list[str], family: str | None = None) -> Update | None:
    """Turn one frame's tokens into an update; ``None`` for anything we do not use."""
    if len(tokens) < 2:
        return None
    verb = tokens[0].upper()
    if verb == "SAMPLE":
        if len(tokens) < 4 or tokens[2].upper() != "ALL":
            return None
        number = sentinels.in_range(tokens[1], 1, 8)
        return None if number is None else parse_sample(number, tokens[3:], family)
    if verb not in ("REP", "REPORT"):
        return None
    if not _is_digits(tokens[1]):
        field = DEVICE_PARAMS.get(tokens[1].upper())
        if field is None or len(tokens) < 3:
            return None
        return DeviceUpdate(field, _text(" ".join(tokens[2:])))
    number = sentinels.in_range(tokens[1], 0, 8)
    if number is None or len(tokens) < 3:
        return None
    param = tokens[2].upper()
    if param == "METER_RATE":
        rate = sentinels.in_range(tokens[3], 0, 65535) if len(tokens) == 4 else None
        return MeterRateReport(number, rate)
    parser = CHANNEL_PARAMS.get(param)
    if parser is None or number == 0:
        return None
    parsed = parser(tokens[3:])
    if parsed is None:
        return None
    return ChannelUpdate(number, parsed[0], parsed[1])


def parse_frame(frame: str, family: str | None = None) -> Update | None:
    """Parse one ``< ... >`` frame; ``None`` for unknown or malformed frames (never raises)."""
    try:
        return parse_tokens(tokenize(frame), family)
    except (ValueError, IndexError, KeyError):  # defensive: a device must never crash us
        return None


# -- receiver state (typed updates to the model) -----------------------------------------

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
        self._last_data: datetime | None = None
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
