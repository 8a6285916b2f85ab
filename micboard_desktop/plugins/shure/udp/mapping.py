"""UHF-R frames to typed values: REPORT parameters and the SAMPLE meter layout.

Wire to model (shure.md §3.3-§3.5 and §3.7):

* ``REPORT ch PARAM value``: ``CHAN_NAME`` (unbraced, about 12 characters, may contain
  spaces), ``FREQUENCY`` (6-digit kHz), ``GROUP_CHAN``, ``TX_TYPE``, ``TX_BAT`` (1-5 or
  ``U``), ``MUTE`` and ``AUDIO_GAIN``. Sentinels become ``None`` (``U`` and 255 bars,
  ``000000`` frequency, ``UNKN`` types); a value that is not even a sentinel (``TX_BAT 7``,
  a 2-digit frequency from a cut datagram) drops the whole frame instead of overwriting
  what we knew.
* ``SAMPLE ch ALL nn aaa bbb d eee``: antenna LEDs, RF per antenna as a coarse category
  (about 020 overload, 070 strong, 100 weak: *not* dBm, so it never becomes ``rssi_dbm``),
  battery bars (or ``U``) and audio 0-255. A sample whose shape does not fit is dropped.

:func:`parse_frame` never raises. UHF-R receivers have one (UR4S) or two (UR4D) channels;
any other channel number is ignored, so a garbled digit cannot invent a third channel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from micboard_desktop.plugins.api import MeterSample, clean_optional, sentinels
from micboard_desktop.plugins.shure.udp.frames import MAX_DATAGRAM_BYTES

MAX_CHANNELS: Final = 2
"""UR4D has two channels, UR4S one (shure.md §4: micboard's ``UR4S:1, UR4D:2``)."""

BATTERY_UNKNOWN: Final = frozenset({"U", "255"})
"""``TX_BAT`` / SAMPLE battery values that mean "unknown" (``U`` on UHF-R, 255 elsewhere)."""

COARSE_UNKNOWN: Final = 255
"""A coarse RF value of 255 is read as "unknown", as 255 is on every other 3-digit Shure
field (shure.md §3.5); the reference lists no sentinel for it, so this is a guard."""

AUDIO_FULL_SCALE: Final = 255
AUDIO_FLOOR_DBFS: Final = round(20 * math.log10(1 / AUDIO_FULL_SCALE), 1)
"""Where the audio scale ends (-48.1 dBFS): one step above zero; zero is shown as this."""

class _Invalid:
    """Marker: the value is neither a reading nor a sentinel; the frame must be dropped."""


INVALID: Final = _Invalid()


_AUDIO_DBFS: Final = tuple(
    AUDIO_FLOOR_DBFS if raw == 0 else round(20 * math.log10(raw / AUDIO_FULL_SCALE), 1)
    for raw in range(AUDIO_FULL_SCALE + 1)
)


def audio_dbfs(raw: str) -> float | None:
    """Return the SAMPLE audio ``eee`` (0-255) as dBFS, read as a linear amplitude.

    The reference disagrees on this field (shure.md §3.3, §7.4): micboard reads it as a
    thermometer LED bitmap (0, 1, 3, 7 ... 255, bit 7 the peak LED), omniwave, watching a
    live UR4D, as a linear level of 255 full scale (speech peaking around 20-30, values no
    bitmap has). We take the linear reading, dBFS = 20 log10(raw / 255), because it is the
    one backed by live output, and because it stays sane under the other reading: the
    bitmap values 2^n - 1 map to about -6 dB per LED, and 255 (every LED, peak lit) is
    0 dBFS, so clipping is flagged either way. Anything outside 0-255 is ``None``.
    """
    value = sentinels.in_range(raw, 0, AUDIO_FULL_SCALE)
    return None if value is None else _AUDIO_DBFS[value]


def coarse_rf(raw: str) -> int | None:
    """Return a SAMPLE RF field (``aaa``/``bbb``) as the device's category, or ``None``.

    Lower is stronger (about 20 overload, 70 strong, 100 weak). Kept as the device's own
    number, because any dBm figure made from it would be an invention.
    """
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 3:
        return None
    value = int(raw)
    return None if value >= COARSE_UNKNOWN else value


def antenna_leds(leds: str) -> str | None:
    """Return the lit antennas from the two positional LED characters (``AX`` → ``"A"``).

    Position 1 is antenna A, position 2 antenna B; ``X`` is dark. Any of ``A``, ``B`` or
    ``R`` counts as lit (micboard shows ``A``/``B`` blue and ``R`` red, shure.md §5.5).
    """
    letters = "".join("AB"[i] for i, char in enumerate(leds[:2]) if char != "X")
    return letters or None


def battery_bars(raw: str) -> int | _Invalid | None:
    """Return ``TX_BAT`` bars 0-5, ``None`` for ``U``/255, or :data:`INVALID` for junk."""
    text = raw.upper()
    if text in BATTERY_UNKNOWN:
        return None
    value = sentinels.in_range(text, 0, 5) if text.isascii() and text.isdigit() else None
    return INVALID if value is None else value


class Field(StrEnum):
    """Slow per-channel values a REPORT (or the battery digit of a SAMPLE) carries."""

    NAME = "name"
    FREQUENCY_KHZ = "frequency_khz"
    GROUP_CHANNEL = "group_channel"
    TX_MODEL = "tx_model"
    """``None`` (from ``UNKN``) means the transmitter is off or not linked."""
    BATTERY_BARS = "battery_bars"
    MUTED = "muted"
    """The receiver's ``MUTE``: the channel's audio output is muted."""
    AUDIO_GAIN = "audio_gain"
    """Raw gain digits; kept, not shown (the model has no gain field, the unit is unknown)."""


@dataclass(frozen=True, slots=True)
class ChannelValue:
    """One slow value of one channel."""

    channel: int
    field: Field
    value: str | int | bool | None


@dataclass(frozen=True, slots=True)
class Sample:
    """One ``SAMPLE``: the meter reading, the coarse RF per antenna and the battery digit."""

    channel: int
    meter: MeterSample
    coarse: tuple[int | None, int | None]
    battery: int | None


Update = ChannelValue | Sample

_MUTE: Final = {"ON": True, "OFF": False}


def _text(tokens: list[str]) -> str | None:
    """Return an unbraced string value (spaces inside kept, padding dropped), cleaned."""
    raw = " ".join(tokens)
    if raw.startswith("{"):  # no source shows UHF-R braces; accept them anyway
        raw = raw[1:-1] if raw.endswith("}") else raw[1:]
    return clean_optional(sentinels.text(raw))


def _frequency(tokens: list[str]) -> int | _Invalid | None:
    """Return ``FREQUENCY`` in kHz from 6 (or 7, zero-padded) digits; ``000000`` is unknown."""
    if len(tokens) != 1:
        return INVALID
    raw = tokens[0]
    if not (raw.isascii() and raw.isdigit()) or len(raw) not in (6, 7):
        return INVALID  # e.g. cut short: a wrong frequency is worse than an old one
    return sentinels.frequency_khz(raw)


def _report(channel: int, param: str, values: list[str]) -> ChannelValue | None:
    """Parse the value part of ``REPORT ch PARAM value``; ``None`` when unusable."""
    value: str | int | bool | _Invalid | None
    if param == "CHAN_NAME":
        return ChannelValue(channel, Field.NAME, _text(values))
    if not values:
        return None
    if param == "FREQUENCY":
        value, field = _frequency(values), Field.FREQUENCY_KHZ
    elif param == "TX_BAT":
        value = battery_bars(values[0]) if len(values) == 1 else INVALID
        field = Field.BATTERY_BARS
    elif param == "TX_TYPE":
        value, field = _text(values), Field.TX_MODEL
    elif param == "MUTE":
        value, field = _MUTE.get(values[0].upper()), Field.MUTED
    elif param == "GROUP_CHAN":
        value, field = _text(values), Field.GROUP_CHANNEL
    elif param == "AUDIO_GAIN":
        gain = sentinels.parse_int(values[0]) if len(values) == 1 else None
        value, field = INVALID if gain is None else gain, Field.AUDIO_GAIN
    else:
        return None
    if isinstance(value, _Invalid):
        return None
    return ChannelValue(channel, field, value)


def _tables() -> tuple[dict[str, float], dict[str, int | None], dict[str, str | None]]:
    """Precompute the usual zero-padded forms of the SAMPLE fields (the hot path)."""
    audio = {f"{v:03d}": _AUDIO_DBFS[v] for v in range(AUDIO_FULL_SCALE + 1)}
    coarse = {f"{v:03d}": (None if v >= COARSE_UNKNOWN else v) for v in range(256)}
    leds = {a + b: antenna_leds(a + b) for a in "ABRX" for b in "ABRX"}
    return audio, coarse, leds


# SAMPLEs arrive tens of times a second per channel: look the three-digit forms up, and
# parse anything else (other padding, junk) the careful way.
_AUDIO_TABLE, _COARSE_TABLE, _LED_TABLE = _tables()
_BARS_TABLE: Final[dict[str, int | None]] = {
    **{str(v): v for v in range(6)},
    "U": None,
    "u": None,
    "255": None,
}
_CHANNEL_TABLE: Final = {str(v): v for v in range(1, MAX_CHANNELS + 1)}


def parse_sample(channel: int, fields: list[str]) -> Sample | None:
    """Parse the fields after ``SAMPLE ch ALL``: ``nn aaa bbb d eee``; ``None`` if bad."""
    if len(fields) != 5:
        return None
    leds, rf_a, rf_b, battery, audio = fields
    if leds in _LED_TABLE:
        antenna = _LED_TABLE[leds]
    else:
        upper = leds.upper()
        if len(upper) != 2 or any(c not in "ABRX" for c in upper):
            return None
        antenna = antenna_leds(upper)
    level = _AUDIO_TABLE.get(audio)
    if level is None:
        level = audio_dbfs(audio) if len(audio) <= 3 else None
        if level is None:
            return None
    coarse: list[int | None] = []
    for raw in (rf_a, rf_b):
        if raw in _COARSE_TABLE:
            coarse.append(_COARSE_TABLE[raw])
        elif raw.isascii() and raw.isdigit() and len(raw) <= 3:
            coarse.append(coarse_rf(raw))
        else:
            return None
    if battery in _BARS_TABLE:
        bars = _BARS_TABLE[battery]
    else:
        parsed = battery_bars(battery)
        if isinstance(parsed, _Invalid):
            return None
        bars = parsed
    meter = MeterSample(audio_peak_dbfs=level, antenna=antenna)
    return Sample(channel, meter, (coarse[0], coarse[1]), bars)


FastSample = tuple[int, MeterSample, int | None, int | None, int | None]
"""What :func:`fast_sample` reads: channel, meter, coarse RF of antennas A and B, bars."""

_FAST_CHANNEL: Final = {key.encode(): value for key, value in _CHANNEL_TABLE.items()}
_FAST_LEDS: Final = {key.encode(): value for key, value in _LED_TABLE.items()}
_FAST_AUDIO: Final = {key.encode(): value for key, value in _AUDIO_TABLE.items()}
_FAST_COARSE: Final = {key.encode(): value for key, value in _COARSE_TABLE.items()}
_FAST_BARS: Final = {key.encode(): value for key, value in _BARS_TABLE.items()}
_FAST_METERS: dict[tuple[bytes, bytes], MeterSample] = {}
"""One frozen MeterSample per (LEDs, audio) form seen: at most 16 x 256, shared freely."""


def fast_sample(data: bytes, max_bytes: int = MAX_DATAGRAM_BYTES) -> FastSample | None:
    """Read a datagram that is one plain ``* SAMPLE ch ALL nn aaa bbb d eee *`` frame.

    The hot path: a metering receiver sends nothing else, ten times a second per channel.
    Only the exact forms the tables hold are taken (upper case, zero-padded, one star each
    side, nothing else in the datagram); anything else returns ``None`` and goes the
    careful way (``split_datagram`` + :func:`parse_frame`), which gives the same values for
    every datagram taken here (a property test holds the two paths together).
    """
    tokens = data.split()
    if (
        len(tokens) != 10
        or tokens[1] != b"SAMPLE"
        or tokens[0] != b"*"
        or tokens[9] != b"*"
        or tokens[3] != b"ALL"
        or len(data) > max_bytes
        or data.count(b"*") != 2
    ):
        return None
    channel = _FAST_CHANNEL.get(tokens[2])
    leds, audio = tokens[4], tokens[8]
    level = _FAST_AUDIO.get(audio)
    if channel is None or level is None or leds not in _FAST_LEDS:
        return None
    rf_a, rf_b, battery = tokens[5], tokens[6], tokens[7]
    if rf_a not in _FAST_COARSE or rf_b not in _FAST_COARSE or battery not in _FAST_BARS:
        return None
    meter = _FAST_METERS.get((leds, audio))
    if meter is None:
        meter = _FAST_METERS[(leds, audio)] = MeterSample(
            audio_peak_dbfs=level, antenna=_FAST_LEDS[leds]
        )
    return channel, meter, _FAST_COARSE[rf_a], _FAST_COARSE[rf_b], _FAST_BARS[battery]


def parse_tokens(tokens: list[str]) -> Update | None:
    """Turn one frame's tokens (verb upper-cased) into an update; ``None`` if unused."""
    if len(tokens) < 3:
        return None
    channel = _CHANNEL_TABLE.get(tokens[1])
    if channel is None:
        channel = sentinels.in_range(tokens[1], 1, MAX_CHANNELS) if tokens[1].isdigit() else None
        if channel is None:
            return None
    if tokens[0] == "SAMPLE":
        if len(tokens) < 4 or tokens[2].upper() != "ALL":
            return None
        return parse_sample(channel, tokens[3:])
    return _report(channel, tokens[2].upper(), tokens[3:])


def parse_frame(tokens: list[str]) -> Update | None:
    """Parse one frame's tokens; ``None`` for unknown or malformed frames (never raises)."""
    try:
        return parse_tokens(tokens)
    except (ValueError, IndexError, KeyError, OverflowError):  # a device must never crash us
        return None
