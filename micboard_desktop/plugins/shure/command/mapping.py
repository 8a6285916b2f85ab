"""Command strings to typed updates: one frame in, one update (or nothing) out.

Every value goes through :mod:`micboard_desktop.core.sentinels` (or the family modules
:mod:`.psm` and :mod:`.mxw`), so 255 bars, 65535 minutes or ``UNKN`` become ``None``,
never a number. What we *parse* is the union of every family's names (shure.md §3.4),
which also tolerates both SLX-D naming variants and PSM1000's ``CHAN NAME`` spelling; a
parameter only one family has carries that family as a clue for :mod:`.state`. A frame
we cannot read yields nothing; :func:`parse_frame` never raises. What to *ask* each family
is :mod:`.families`; folding updates into a receiver is :mod:`.state`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Final

from micboard_desktop.plugins.api import MeterSample, clean_optional, sentinels
from micboard_desktop.plugins.shure.command import mxw, psm
from micboard_desktop.plugins.shure.command.families import FAMILY_PARAMS, MXW, PSM1000
from micboard_desktop.plugins.shure.command.frames import tokenize, unbrace

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
    """``DEVICE_ID`` (PSM1000: ``DEVICE_NAME``), shown as the receiver name."""
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
    RUN_TIME_CODE = "run_time_code"
    """Raw ``BATT_RUN_TIME`` 0-65535: its sentinels differ between ULX-D/QLX-D and MXW
    (shure.md §3.5) and the family may be settled only after the value arrived, so the
    receiver state reads it with the family it ends up with."""
    BATTERY_HEALTH = "battery_health"
    TX_STATUS = "tx_status"
    """MXW :class:`~.mxw.TxStatus` (``None`` for ``UNKNOWN``)."""
    TX_AVAILABLE = "tx_available"
    BUTTON = "button"
    RF_POWER_MW = "rf_power_mw"
    RF_MUTED = "rf_muted"
    GROUP_CHANNEL = "group_channel"
    """PSM1000 preset ``(group, channel)``; ``None`` for ``--,--``."""
    INPUT_GAIN = "input_gain"
    """PSM1000 ``AUDIO_IN_LVL``, the input gain *setting* (encoding not established: text)."""


Value = str | int | float | bool | tuple[int, float | None] | tuple[int, int] | None


@dataclass(frozen=True, slots=True)
class DeviceUpdate:
    """A receiver-level value from a REP."""

    field: DeviceField
    value: str | None
    family: str | None = None
    """The family the parameter names, when only one has it (shure.md §3.4)."""


@dataclass(frozen=True, slots=True)
class ChannelUpdate:
    """A channel-level value from a REP."""

    channel: int
    field: ChannelField
    value: Value
    family: str | None = None
    """The family the parameter names, when only one has it (shure.md §3.4)."""


@dataclass(frozen=True, slots=True)
class IemLevelUpdate:
    """One PSM1000 input meter report (``AUDIO_IN_LVL_L``/``_R``), already in dBFS."""

    channel: int
    right: bool
    """False for the left (or mono) input, True for the right."""
    dbfs: float | None


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


Update = DeviceUpdate | ChannelUpdate | MeterUpdate | MeterRateReport | IemLevelUpdate


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
    "BATT_RUN_TIME": _one(ChannelField.RUN_TIME_CODE, mxw.run_time_code),
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
    # MXW (shure.md §3.4); BATT_CHARGE and BATT_RUN_TIME are shared with ULX-D above.
    "BATT_HEALTH": _one(ChannelField.BATTERY_HEALTH, sentinels.battery_percent),
    "TX_STATUS": _one(ChannelField.TX_STATUS, mxw.tx_status),
    "TX_AVAILABLE": _one(ChannelField.TX_AVAILABLE, mxw.available),
    "BUTTON_STS": _one(ChannelField.BUTTON, mxw.button),
    # PSM1000 (shure.md §3.4)
    "RF_TX_LVL": _one(ChannelField.RF_POWER_MW, psm.rf_power_mw),
    "RF_MUTE": _one(ChannelField.RF_MUTED, psm.rf_muted),
    "GROUP_CHAN": _one(ChannelField.GROUP_CHANNEL, psm.group_channel),
    "AUDIO_IN_LVL": _one(ChannelField.INPUT_GAIN, _text),
}
"""Channel REPs we use, over every family's names (unknown names are ignored)."""

FAMILY_CHANNEL_PARAMS: Final[dict[str, dict[str, _ChannelParser]]] = {
    PSM1000: {"FREQUENCY": _one(ChannelField.FREQUENCY_KHZ, psm.frequency_khz)},
}
"""Parameters a family encodes its own way (the PSM1000 frequency's width is doubtful)."""

IEM_LEVELS: Final = {"AUDIO_IN_LVL_L": False, "AUDIO_IN_LVL_R": True}
"""PSM1000 input meters: parameter -> is it the right input."""

DEVICE_PARAMS: Final[dict[str, DeviceField]] = {
    "DEVICE_ID": DeviceField.NAME,
    "DEVICE_NAME": DeviceField.NAME,
    "MODEL": DeviceField.MODEL,
    "FW_VER": DeviceField.FIRMWARE,
}
"""Device REPs we use (they carry no channel index)."""


def parse_sample(channel: int, fields: list[str], family: str | None = None) -> MeterUpdate | None:
    """Parse the fields after ``SAMPLE n ALL`` in whichever layout they have; ``None`` if bad.

    The layout is recognised by shape (ULX-D starts with antenna letters, SLX-D has three
    numbers, AD more), so a wrong or missing ``family`` hint cannot mis-scale values. An
    MXW or PSM1000 SAMPLE is dropped: no layout is established for them (shure.md §3.3).
    """
    if family in (MXW, PSM1000):
        return None
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
    if verb not in ("REP", "REPORT"):  # REPORT: PSM1000 (and UHF-R), shure.md §3.1
        return None
    if not _is_digits(tokens[1]):
        param = tokens[1].upper()
        field = DEVICE_PARAMS.get(param)
        if field is None or len(tokens) < 3:
            return None
        return DeviceUpdate(field, _text(" ".join(tokens[2:])), FAMILY_PARAMS.get(param))
    number = sentinels.in_range(tokens[1], 0, 8)
    if number is None or len(tokens) < 3:
        return None
    param = tokens[2].upper()
    values = tokens[3:]
    if param == "CHAN" and values and values[0].upper() == "NAME":
        param, values = "CHAN_NAME", values[1:]  # PSM1000's document spells it "CHAN NAME"
    if param == "METER_RATE":
        rate = sentinels.in_range(values[0], 0, 65535) if len(values) == 1 else None
        return MeterRateReport(number, rate)
    right = IEM_LEVELS.get(param)
    if right is not None:
        if number == 0 or len(values) != 1:
            return None
        return IemLevelUpdate(number, right, psm.level_dbfs(values[0]))
    own = FAMILY_CHANNEL_PARAMS.get(family) if family is not None else None
    parser = (own.get(param) if own else None) or CHANNEL_PARAMS.get(param)
    if parser is None or number == 0:
        return None
    parsed = parser(values)
    if parsed is None:
        return None
    return ChannelUpdate(number, parsed[0], parsed[1], FAMILY_PARAMS.get(param))


def parse_frame(frame: str, family: str | None = None) -> Update | None:
    """Parse one ``< ... >`` frame; ``None`` for unknown or malformed frames (never raises)."""
    try:
        return parse_tokens(tokenize(frame), family)
    except (ValueError, IndexError, KeyError):  # defensive: a device must never crash us
        return None


# -- fast path for meter frames ------------------------------------------------------------
#
# A big rig sends about ten thousand SAMPLEs a second over this protocol, nearly all of them
# in the exact form the receivers print: upper-case words and zero-padded three-digit values.
# :func:`parse_meter_frame` reads that form with table look-ups and hands anything else to
# :func:`parse_frame` (a differential test holds the two to the same answers).


class Fallback(Enum):
    """What :func:`parse_meter_frame` says when the frame needs the general parser."""

    GENERAL = "general"


_MISS: Final = float("nan")
"""Look-up default for the tables below, checked by identity (no table holds a NaN)."""
_CHANNELS: Final = {str(n): n for n in range(1, 9)}
"""``SAMPLE n``/``REPORT n`` channel numbers in the form receivers print them."""


def _table3(high: int, offset: int) -> dict[str, float | None]:
    """Map every three-digit word to ``raw - offset``, or ``None`` beyond ``high``."""
    return {f"{v:03d}": float(v - offset) if v <= high else None for v in range(1000)}


_LEVEL3: Final = _table3(120, LEVEL_OFFSET)
"""Three-digit words as :func:`level` reads them (its table plus the out-of-range ones)."""
_ULX_RF3: Final = _table3(115, ULX_RF_OFFSET)
_ULX_AUDIO3: Final = _table3(50, ULX_AUDIO_OFFSET)
_QUALITY3: Final = {f"{v:03d}": v if v <= AD_QUALITY_MAX else None for v in range(1000)}
_SHORT_DIGITS: Final = frozenset(f"{v:0{w}d}" for w in (1, 2, 3) for v in range(10**w))
"""Digit words of one to three characters (the AD bitmaps), for a membership test."""


def _patterns(letters: str, sizes: range) -> list[str]:
    """Return every word of ``sizes`` characters drawn from ``letters``."""
    words = [""]
    out: list[str] = []
    for size in range(1, max(sizes) + 1):
        words = [w + c for w in words for c in letters]
        if size in sizes:
            out += words
    return out


_ULX_LEDS: Final = {w: ulx_antenna(w) for w in _patterns("ABX", range(2, 3))}
"""ULX-D/QLX-D antenna LEDs as receivers print them, to the antenna they name."""
_AD_STATUS: Final = {w: (len(w), ad_antenna(w)) for w in _patterns("BRX", range(1, 5))}
"""AD ``antStats`` words (one to four antennas) to (antenna count, active antennas)."""
_DROPPED_SAMPLES: Final = (MXW, PSM1000)

SampleFields = tuple[int, str, MeterSample, int | None, tuple[float | None, ...]]
"""A SAMPLE as :class:`MeterUpdate`'s fields, without building one per sample."""


def parse_meter_frame(
    frame: str, family: str | None = None
) -> MeterUpdate | IemLevelUpdate | Fallback | None:
    """Parse a meter frame in its usual form; :attr:`Fallback.GENERAL` for anything else.

    Gives exactly what :func:`parse_frame` gives for the frames it takes (``None`` included:
    an MXW or PSM1000 SAMPLE is dropped), and never raises.
    """
    found = read_meter_frame(frame, family)
    return MeterUpdate(*found) if isinstance(found, tuple) else found


def read_meter_frame(
    frame: str, family: str | None = None
) -> SampleFields | IemLevelUpdate | Fallback | None:
    """Do :func:`parse_meter_frame`'s work, a SAMPLE coming out as :data:`SampleFields`."""
    if "{" in frame or not frame.startswith("<") or not frame.endswith(">"):
        return Fallback.GENERAL
    tokens = frame[1:-1].split()
    count = len(tokens)
    if count < 4:
        return Fallback.GENERAL
    verb = tokens[0]
    if verb != "SAMPLE":
        if count == 4 and (verb == "REPORT" or verb == "REP"):
            return _iem_level(tokens)
        return Fallback.GENERAL
    if family in _DROPPED_SAMPLES:
        return None  # whatever its shape (parse_sample drops it)
    number = _CHANNELS.get(tokens[1])
    if number is None or tokens[2] != "ALL":
        return Fallback.GENERAL
    if count == 6:
        return _three_fields(number, tokens, family)
    if count >= 10:
        return _ad_fields(number, tokens)
    return Fallback.GENERAL


def _iem_level(tokens: list[str]) -> IemLevelUpdate | Fallback:
    """``REPORT n AUDIO_IN_LVL_L/R v`` (PSM1000 input meters) in its usual form."""
    right = IEM_LEVELS.get(tokens[2])
    number = _CHANNELS.get(tokens[1])
    if right is None or number is None:
        return Fallback.GENERAL
    return IemLevelUpdate(number, right, psm.level_dbfs(tokens[3]))


def _three_fields(
    number: int, tokens: list[str], family: str | None
) -> SampleFields | Fallback | None:
    """ULX-D/QLX-D (``AX rrr aaa``) or SLX-D (``ppp rrr fff``) SAMPLE fields."""
    first, second, third = tokens[3], tokens[4], tokens[5]
    if first in _ULX_LEDS:
        rf = _ULX_RF3.get(second, _MISS)
        audio = _ULX_AUDIO3.get(third, _MISS)
        if rf is _MISS or audio is _MISS:
            return Fallback.GENERAL
        if family in ("ad", "slxd"):
            return None
        # Positional: a frozen dataclass builds measurably faster so (peak, rms, rssi, antenna).
        sample = MeterSample(audio, None, (rf,), _ULX_LEDS[first])
        return number, "ulxd", sample, None, ()
    peak = _LEVEL3.get(first, _MISS)
    rms = _LEVEL3.get(second, _MISS)
    rf = _LEVEL3.get(third, _MISS)
    if peak is _MISS or rms is _MISS or rf is _MISS:
        return Fallback.GENERAL
    if family in ("ad", "ulxd", "qlxd"):
        return None
    return number, "slxd", MeterSample(peak, rms, (rf,)), None, ()


def _ad_fields(number: int, tokens: list[str]) -> SampleFields | Fallback:
    """AD ``qual bitmap peak rms`` plus one or two clean RF sections (FD-C)."""
    quality = _QUALITY3.get(tokens[3], -1)
    peak = _LEVEL3.get(tokens[5], _MISS)
    rms = _LEVEL3.get(tokens[6], _MISS)
    if quality == -1 or peak is _MISS or rms is _MISS or tokens[4] not in _LEVEL3:
        return Fallback.GENERAL
    if len(tokens) == 12:  # the usual receiver: one carrier, two antennas, no loop needed
        status = _AD_STATUS.get(tokens[7])
        rssi_a = _LEVEL3.get(tokens[9], _MISS)
        rssi_b = _LEVEL3.get(tokens[11], _MISS)
        if (
            status is not None
            and status[0] == 2
            and rssi_a is not _MISS
            and rssi_b is not _MISS
            and tokens[8] in _SHORT_DIGITS
            and tokens[10] in _SHORT_DIGITS
        ):
            return number, "ad", MeterSample(peak, rms, (rssi_a, rssi_b), status[1]), quality, ()
    first = _rf_fast(tokens, 7)
    if first is None:
        return Fallback.GENERAL
    end, rssi, antenna = first
    rssi2: tuple[float | None, ...] = ()
    if end != len(tokens):
        second = _rf_fast(tokens, end)
        if second is None or second[0] != len(tokens):
            return Fallback.GENERAL
        rssi2 = second[1]
    return number, "ad", MeterSample(peak, rms, rssi, antenna), quality, rssi2


def _rf_fast(
    tokens: list[str], start: int
) -> tuple[int, tuple[float | None, ...], str | None] | None:
    """Read a clean ``antStats (bitmap rssi)*n`` at ``start``: (end, rssi, antenna) or None."""
    status = _AD_STATUS.get(tokens[start])
    if status is None:
        return None
    antennas, antenna = status
    end = start + 1 + 2 * antennas
    if end > len(tokens):
        return None
    rssi: list[float | None] = []
    for i in range(start + 1, end, 2):
        value = _LEVEL3.get(tokens[i + 1], _MISS)
        if value is _MISS or tokens[i] not in _SHORT_DIGITS:
            return None
        rssi.append(value)
    return end, tuple(rssi), antenna
