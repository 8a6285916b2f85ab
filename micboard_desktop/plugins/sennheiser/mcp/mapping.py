"""MCP lines to typed values, in the app's units (sennheiser.md §4.3, §4.4, §5).

Units (docs/contract.md §5): an RF percent is 0 % = 0 dBµV and 100 % = 40 dBµV, so
``rssi_dbm = percent * 0.4 - 107`` (dBµV - 107 on 50 Ω); an AF percent is 0 % = -50 dB and
100 % = full scale, so ``dBFS = percent / 2 - 50``. Values above 100 % are legal (§4.3) and
kept; a meter value that is not a number, or is far outside what a device can send, is
``None``. A slow value that cannot be read (``Bat 55``, ``Frequency 12``) drops its line
whole: a garbled datagram must never overwrite a good value with an unknown one.

What is doubtful is read defensively: the EM ``States`` bits contradict their own examples
(§4.3, §8 item 6), so EM mute comes from the ``Msg`` words and the ``AF`` mute bits, never
from ``States``; the SR ``AF`` line is read as its first four values whatever follows (the
document's example has a fifth, §4.4).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from micboard_desktop.plugins.api import MAX_NAME_CHARS, clean_optional, sentinels
from micboard_desktop.plugins.sennheiser.mcp.frames import DeviceError, parse_error

MAX_PERCENT: Final = 250
"""Highest RF/AF percent believed (">100 % possible", §4.3; far beyond is junk)."""
BATTERY_STEPS: Final = frozenset({0, 30, 70, 100})
"""The only battery values an EM reports (§4.3); ``?`` means no battery telegram."""
MIN_KHZ: Final = 100_000
MAX_KHZ: Final = 3_000_000
"""Frequencies believed, in kHz (every G3/G4 band lies well inside)."""
WARNINGS: Final = frozenset(
    {"AF_Peak", "Low_Battery", "TX_Mute", "Low_RF_Signal", "RF_Mute", "RX_Mute"}
)
"""The ``Msg`` words of §4.3/§4.4; others are dropped."""


def rf_dbm(percent: float | None) -> float | None:
    """Return dBm for an MCP RF percent (100 % = 40 dBµV; dBµV - 107 on 50 Ω)."""
    return None if percent is None else round(percent * 0.4 - 107.0, 1)


def af_dbfs(percent: float | None) -> float | None:
    """Return dBFS for an MCP AF percent (0 % = -50 dB, 100 % = full scale)."""
    return None if percent is None else round(percent / 2.0 - 50.0, 1)


_SMALL_INTS: Final = {str(v): v for v in range(1000)}
"""The plain decimal forms every cyclic value takes (the hot path looks them up)."""


def _in_range(raw: str, low: int, high: int) -> int | None:
    """Return ``sentinels.in_range(raw, low, high)``, looking plain decimals up first."""
    value = _SMALL_INTS.get(raw)
    if value is None:
        return sentinels.in_range(raw, low, high)  # other forms: " 5", "+5", "007", junk
    return value if low <= value <= high else None


def _percent(raw: str) -> int | None:
    return _in_range(raw, 0, MAX_PERCENT)


def _flag(raw: str) -> bool | None:
    value = _in_range(raw, 0, 1)
    return None if value is None else value == 1


@dataclass(frozen=True, slots=True)
class Antenna:
    """``RF1``/``RF2``: the RF percent range of the last cycle and whether it was active."""

    number: int
    low: int | None
    high: int | None
    active: bool | None


@dataclass(frozen=True, slots=True)
class RfNow:
    """EM ``RF``: current RF percent, active antenna (1/2), pilot received."""

    percent: int | None
    antenna: int | None
    pilot: bool | None


@dataclass(frozen=True, slots=True)
class EmAudio:
    """EM ``AF``: peak percent and the mute bits (bit1 TX mute)."""

    peak: int | None
    mute_bits: int | None


@dataclass(frozen=True, slots=True)
class SrAudio:
    """SR ``AF``: peak percent of the left and right inputs."""

    left: int | None
    right: int | None


@dataclass(frozen=True, slots=True)
class Bat:
    """EM ``Bat``: 0/30/70/100 percent; ``present`` False for ``?`` (no battery telegram)."""

    present: bool
    percent: int | None


@dataclass(frozen=True, slots=True)
class Warnings:
    """``Msg``: the warning words (empty for ``OK``)."""

    words: frozenset[str]


@dataclass(frozen=True, slots=True)
class States:
    """``States a b``: kept raw; only the SR's first value (RF mute now) is used."""

    first: int | None
    second: int | None


@dataclass(frozen=True, slots=True)
class ConfigIndex:
    """``Config n``: bumped on every configuration change (re-read then)."""

    index: int


@dataclass(frozen=True, slots=True)
class Setting:
    """A configuration attribute: ``Name``, ``Frequency``, ``Mute``, ``Mode``."""

    key: str
    value: str | int | bool | None


@dataclass(frozen=True, slots=True)
class PushEcho:
    """The device repeating our ``Push`` (a positive acknowledgement, §4.2)."""


Update = Antenna | RfNow | EmAudio | SrAudio | Bat | Warnings | States | ConfigIndex | Setting
Line = Update | PushEcho | DeviceError


def parse_line(tokens: list[str]) -> Line | None:
    """Return what one line says, or ``None`` for a line we do not use or cannot read."""
    keyword, args = tokens[0], tokens[1:]
    parser = _PARSERS.get(keyword)
    if parser is not None:
        return parser(args)
    return parse_error(tokens)


PARSE_CACHE_LINES: Final = 2048
"""Most lines remembered by :func:`parse_text` (then it starts afresh): a bound, so junk
from the network cannot grow it."""
PARSE_CACHE_CHARS: Final = 48
"""Longest line remembered: every cyclic line is shorter, a name may not be."""
_PARSED: dict[str, Line | None] = {}
_MISS: Final = object()


def parse_text(line: str) -> Line | None:
    """Return :func:`parse_line` of a line's text, remembered: a cyclic block repeats itself.

    ``parse_line`` is a pure function of the text and its results are frozen, so a
    remembered result is the one a fresh parse would give.
    """
    parsed = _PARSED.get(line, _MISS)
    if parsed is not _MISS:
        return parsed  # type: ignore[return-value]
    result = parse_line(line.split())
    if len(line) <= PARSE_CACHE_CHARS:
        if len(_PARSED) >= PARSE_CACHE_LINES:
            _PARSED.clear()
        _PARSED[line] = result
    return result


def _antenna(number: int) -> Callable[[list[str]], Antenna | None]:
    def parse(args: list[str]) -> Antenna | None:
        if len(args) < 3:
            return None
        return Antenna(number, _percent(args[0]), _percent(args[1]), _flag(args[2]))

    return parse


def _rf(args: list[str]) -> RfNow | None:
    if len(args) < 3:
        return None
    return RfNow(_percent(args[0]), _in_range(args[1], 1, 2), _flag(args[2]))


def _af(args: list[str]) -> EmAudio | SrAudio | None:
    # EM: peak, hold, mute bits (3 values); SR: peak L, peak R, hold L, hold R (4 or 5).
    if len(args) >= 4:
        return SrAudio(_percent(args[0]), _percent(args[1]))
    if len(args) == 3:
        return EmAudio(_percent(args[0]), _in_range(args[2], 0, 15))
    return None


def _bat(args: list[str]) -> Bat | None:
    if not args:
        return None
    if args[0] == "?":
        return Bat(False, None)
    value = _SMALL_INTS.get(args[0])
    if value is None:
        value = sentinels.parse_int(args[0])
    # Anything but the four steps is a garbled line, not news: never overwrite a good value.
    return Bat(True, value) if value in BATTERY_STEPS else None


def _msg(args: list[str]) -> Warnings:
    return Warnings(frozenset(w for w in args if w in WARNINGS))


def _states(args: list[str]) -> States | None:
    if not args:
        return None
    second = _in_range(args[1], 0, 255) if len(args) > 1 else None
    return States(_in_range(args[0], 0, 255), second)


def _config(args: list[str]) -> ConfigIndex | None:
    value = _in_range(args[0], 0, 999) if args else None
    return None if value is None else ConfigIndex(value)


def _name(args: list[str]) -> Setting:
    # A name may hold blanks; cleaned here, at the plugin boundary.
    return Setting("Name", clean_optional(" ".join(args).strip() or None, MAX_NAME_CHARS))


def _frequency(args: list[str]) -> Setting | None:
    if not args:
        return None
    value = sentinels.frequency_khz(args[0])
    if value is None or not MIN_KHZ <= value <= MAX_KHZ:
        return None  # no G3/G4 band is there: a cut or garbled line, not an unknown frequency
    return Setting("Frequency", value)


def _mute(args: list[str]) -> Setting | None:
    flag = _flag(args[0]) if args else None
    return None if flag is None else Setting("Mute", flag)


def _mode(args: list[str]) -> Setting | None:
    flag = _flag(args[0]) if args else None
    return None if flag is None else Setting("Mode", flag)


def _push(args: list[str]) -> PushEcho:
    return PushEcho()


_PARSERS: Final[dict[str, Callable[[list[str]], Line | None]]] = {
    "RF1": _antenna(1),
    "RF2": _antenna(2),
    "RF": _rf,
    "AF": _af,
    "Bat": _bat,
    "Msg": _msg,
    "States": _states,
    "Config": _config,
    "Name": _name,
    "Frequency": _frequency,
    "Mute": _mute,
    "Mode": _mode,
    "Push": _push,
}
