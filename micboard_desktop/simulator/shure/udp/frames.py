"""UHF-R wire encodings for the simulator (shure.md §3.1, §3.3-§3.6, §3.7).

Pure functions from rig values to the ASCII a UHF-R receiver sends. Facts used: ``* ... *``
frames, ``REPORT`` replies, the SAMPLE layout ``nn aaa bbb d eee``, battery ``1``-``5`` or
``U``, 6-digit frequencies in kHz, unbraced channel names of about 12 characters.

Unconfirmed choices (the reference leaves them open, shure.md §7.4):

* Antenna LEDs are positional (``AX``, ``XB``, ``AB``, ``XX``), lit while that antenna
  hears the pack above -90 dBm.
* The coarse RF category is ``-dBm - 5`` rounded to steps of 5 and held to 20-100
  (-25 dBm or more is 20, overload; -60 dBm is 55; the noise floor is 100).
* Audio ``eee`` is linear, 255 = full scale (``linear``) or, with ``bitmap``, a thermometer
  of eight LEDs 6 dB apart (``2^n - 1``), micboard's reading; the client must cope with both.
* A flat pack still shows one bar (the reference's range is 1-5); ``U`` while no pack is on.
* ``TX_TYPE`` is the transmitter model, ``UNKN`` while none is on; ``MUTE`` is ``ON``/``OFF``;
  ``AUDIO_GAIN`` three digits as on the other families (dB + 18); ``GROUP_CHAN`` ``--,--``
  (a manually set frequency); names are padded with spaces to 12 characters.
"""

from __future__ import annotations

import math
from typing import Final, Literal

from micboard_desktop.simulator.rig import SimChannel

AudioEncoding = Literal["linear", "bitmap"]
NAME_WIDTH: Final = 12
LED_PRESENT_DBM: Final = -90.0
"""An antenna's LED is lit while the pack's signal there is at least this strong."""
COARSE_STRONGEST: Final = 20
COARSE_WEAKEST: Final = 100
BITMAP_LEDS: Final = 8
BITMAP_STEP_DB: Final = 6.0


def frame(*tokens: str) -> str:
    """Return ``* TOKEN TOKEN ... *`` (no line terminator)."""
    return "* " + " ".join(tokens) + " *"


def name_value(name: str) -> str:
    """Return a channel name as UHF-R sends it: unbraced, cut and padded to 12 characters."""
    return name[:NAME_WIDTH].ljust(NAME_WIDTH)


def coarse_rf(dbm: float) -> int:
    """Return the coarse RF category for a level in dBm (lower is stronger)."""
    category = round((-dbm - 5) / 5) * 5
    return max(COARSE_STRONGEST, min(COARSE_WEAKEST, category))


def _two(channel: SimChannel) -> tuple[float, float]:
    """Return the channel's RSSI on antennas A and B (a missing antenna hears nothing)."""
    levels = [*channel.rssi_dbm, -120.0, -120.0]
    return levels[0], levels[1]


def antenna_leds(channel: SimChannel) -> str:
    """Return the two positional antenna LEDs (``AX``, ``XB``, ``AB`` or ``XX``)."""
    if not channel.transmitter_active:
        return "XX"
    levels = _two(channel)
    return "".join(
        letter if level >= LED_PRESENT_DBM else "X"
        for letter, level in zip("AB", levels, strict=True)
    )


def audio_raw(peak_dbfs: float, encoding: AudioEncoding = "linear") -> int:
    """Return the SAMPLE audio field 0-255 for a peak level, in either reading."""
    if encoding == "bitmap":
        leds = max(0, min(BITMAP_LEDS, BITMAP_LEDS + math.floor(peak_dbfs / BITMAP_STEP_DB)))
        return (1 << leds) - 1
    return max(0, min(255, round(255 * 10 ** (peak_dbfs / 20))))


def battery_digit(channel: SimChannel) -> str:
    """Return ``1``-``5`` for a pack that is on, ``U`` otherwise."""
    tx = channel.transmitter
    if tx is None or not tx.on:
        return "U"
    return str(max(1, tx.battery_bars))


def sample_frame(channel: SimChannel, encoding: AudioEncoding = "linear") -> str:
    """Return ``* SAMPLE ch ALL nn aaa bbb d eee *`` for the channel's current meters."""
    active = channel.transmitter_active
    # No carrier: both antennas read the weakest category, whatever the noise floor does.
    levels = _two(channel) if active else (-120.0, -120.0)
    audio = audio_raw(channel.audio_peak_dbfs, encoding) if active else 0
    return frame(
        "SAMPLE",
        str(channel.number),
        "ALL",
        antenna_leds(channel),
        f"{coarse_rf(levels[0]):03d}",
        f"{coarse_rf(levels[1]):03d}",
        battery_digit(channel),
        f"{audio:03d}",
    )


PARAMS: Final = ("CHAN_NAME", "FREQUENCY", "GROUP_CHAN", "TX_TYPE", "TX_BAT", "MUTE", "AUDIO_GAIN")
"""Every channel parameter the simulated UHF-R answers (others get silence)."""


def report_value(channel: SimChannel, param: str, name: str | None = None) -> str | None:
    """Return the value text of ``REPORT ch PARAM``; ``None`` for a parameter UHF-R lacks."""
    tx = channel.transmitter
    on = tx is not None and tx.on
    if param == "CHAN_NAME":
        return name_value(channel.name if name is None else name)
    if param == "FREQUENCY":
        return f"{channel.frequency_khz:06d}"
    if param == "GROUP_CHAN":
        return "--,--"
    if param == "TX_TYPE":
        return tx.model if on and tx is not None else "UNKN"
    if param == "TX_BAT":
        return battery_digit(channel)
    if param == "MUTE":
        return "ON" if channel.audio_muted else "OFF"
    if param == "AUDIO_GAIN":
        return f"{max(0, min(60, channel.audio_gain_db + 18)):03d}"
    return None


def report(channel: SimChannel, param: str, name: str | None = None) -> str | None:
    """Return ``* REPORT ch PARAM value *``, or ``None`` for a parameter UHF-R lacks."""
    value = report_value(channel, param, name)
    return None if value is None else frame("REPORT", str(channel.number), param, value)


KIND_PARAMS: Final[dict[str, tuple[str, ...]]] = {
    "channel_name": ("CHAN_NAME",),
    "frequency": ("FREQUENCY",),
    "transmitter": ("TX_TYPE", "TX_BAT"),
    "battery": ("TX_BAT",),
    "audio_mute": ("MUTE",),
    "audio_gain": ("AUDIO_GAIN",),
}
"""Which REPORTs a rig change of each kind triggers (unsolicited, to recent clients)."""
