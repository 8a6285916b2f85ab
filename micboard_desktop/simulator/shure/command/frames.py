"""Shure command-string framing, padding and meter encodings (shure.md §3.1, §3.3, §3.5).

Everything here is pure: it turns rig values into the exact ASCII a receiver puts on the
wire and splits what a client sends into commands. Confirmed facts used: ``< ... >``
frames without CR/LF, brace-padded strings, ULX-D/QLX-D RF ``dBm = raw - 128`` and AD /
SLX-D ``dBm = raw - 120`` / ``dBFS = raw - 120``, the per-family SAMPLE layouts.

Unconfirmed choices (most likely behaviour, see shure.md §7):

* ULX-D/QLX-D audio ``eee`` is read as ``dBFS = raw - 50`` and carries the *peak* level.
* ULX-D/QLX-D antenna LEDs show only the strongest antenna (``AX`` or ``XB``), never ``AB``.
* AD LED bitmaps use five thermometer LEDs (``0x1F``) plus ``0x80`` audio overload and
  ``0x20`` RF overload; the thresholds are our own.
* While no transmitter is active, audio fields are ``000`` and the RF fields carry the
  channel's noise floor (as the real AD4Q dump in shure.md §5.2 shows).
* PSM1000 input meters are ``REPORT n AUDIO_IN_LVL_L/R`` with an 11-digit linear amplitude
  whose full scale (0 dBFS) is 2**23; the scale is our assumption (shure.md §3.3).
* MXW's SAMPLE layout is not established (shure.md §3.3); the simulator sends an invented
  ``SAMPLE n ALL peak rms 000`` that has SLX-D's shape on purpose, so a client that trusts
  shape alone would take an access point for an SLX-D.
"""

from __future__ import annotations

from typing import Final

from micboard_desktop.simulator.rig import SimChannel

MAX_COMMAND_BYTES: Final = 4096
"""An incoming command longer than this without ``>`` is discarded, as a device would."""

AUDIO_OVERLOAD_DBFS: Final = -1.0
"""Peak at or above this lights the AD audio overload LED and counts as clipping."""

RF_OVERLOAD_DBM: Final = -20.0
"""RSSI above this lights the AD red RF LED (0x20) and shows ``R`` in antenna status."""

RF_PRESENT_DBM: Final = -95.0
"""RSSI below this counts as no carrier on that antenna."""

IEM_FULL_SCALE: Final = 1 << 23
"""PSM1000 meter amplitude at 0 dBFS (an assumption, see the module docstring)."""

_AUDIO_LED_THRESHOLDS: Final = (-50.0, -40.0, -30.0, -20.0, -10.0)
_RF_LED_THRESHOLDS: Final = (-95.0, -85.0, -75.0, -65.0, -55.0)


def frame(*tokens: str) -> str:
    """Return one frame ``< TOKEN TOKEN ... >`` (no line terminator, as receivers send)."""
    return "< " + " ".join(tokens) + " >"


def braced(text: str, width: int) -> str:
    """Return ``text`` cut to ``width`` and space-padded inside braces."""
    return "{" + text[:width].ljust(width) + "}"


def digits(value: int, width: int) -> str:
    """Return ``value`` zero-padded to ``width`` digits."""
    return f"{value:0{width}d}"


def clamp(value: float, low: int, high: int) -> int:
    """Round ``value`` and clamp it to ``low..high``."""
    return max(low, min(high, round(value)))


def ulx_rf_raw(dbm: float) -> int:
    """Encode RSSI for a ULX-D/QLX-D SAMPLE (``dBm = raw - 128``, 000-115)."""
    return clamp(dbm + 128, 0, 115)


def ulx_audio_raw(dbfs: float) -> int:
    """Encode audio for a ULX-D/QLX-D SAMPLE (``dBFS = raw - 50``, 000-050; unit unconfirmed)."""
    return clamp(dbfs + 50, 0, 50)


def level_raw(value: float) -> int:
    """Encode an AD/SLX-D level (``dBFS`` or ``dBm`` ``= raw - 120``, 000-120)."""
    return clamp(value + 120, 0, 120)


def audio_bitmap(peak_dbfs: float) -> int:
    """Return the AD audio LED bitmap: thermometer bits plus 0x80 on overload."""
    bits = sum(1 for t in _AUDIO_LED_THRESHOLDS if peak_dbfs >= t)
    value = (1 << bits) - 1
    if peak_dbfs >= AUDIO_OVERLOAD_DBFS:
        value |= 0x80
    return value


def rssi_bitmap(dbm: float) -> int:
    """Return the AD per-antenna RSSI LED bitmap: thermometer bits plus 0x20 on overload."""
    bits = sum(1 for t in _RF_LED_THRESHOLDS if dbm >= t)
    value = (1 << bits) - 1
    if dbm > RF_OVERLOAD_DBM:
        value |= 0x20
    return value


def antenna_char(channel: SimChannel, dbm: float) -> str:
    """Return the AD antenna status character: ``B`` receiving, ``R`` overload, ``X`` off."""
    if not channel.transmitter_active or dbm < RF_PRESENT_DBM:
        return "X"
    return "R" if dbm > RF_OVERLOAD_DBM else "B"


def carrier_rssi(channel: SimChannel, carrier: int) -> list[float]:
    """Return the per-antenna RSSI of ``carrier`` (0, or 1 for the FD-C second carrier)."""
    n = channel.antennas
    values = channel.rssi_dbm[carrier * n : (carrier + 1) * n]
    # A short list (rig written by hand) is padded with a noise floor rather than failing.
    return values + [-110.0] * (n - len(values))


def antenna_status(channel: SimChannel, carrier: int = 0) -> str:
    """Return the AD ``rfAntStats`` string, one character per antenna."""
    return "".join(antenna_char(channel, dbm) for dbm in carrier_rssi(channel, carrier))


def ulx_antenna_leds(channel: SimChannel) -> str:
    """Return ULX-D/QLX-D antenna LEDs: ``AX`` (A), ``XB`` (B) or ``XX`` (no carrier)."""
    active = channel.active_antenna
    if active is None or max(channel.rssi_dbm[:2], default=-200.0) < RF_PRESENT_DBM:
        return "XX"
    return "AX" if active % 2 == 0 else "XB"


def _audio(channel: SimChannel) -> tuple[float, float]:
    """Return (peak, rms) dBFS, silenced when no transmitter is active."""
    if not channel.transmitter_active:
        return (-120.0, -120.0)
    return (channel.audio_peak_dbfs, channel.audio_rms_dbfs)


def _ad_rf_section(channel: SimChannel, carrier: int) -> list[str]:
    """Return ``rfAntStats`` followed by bitmap/RSSI pairs for one AD carrier."""
    tokens = [antenna_status(channel, carrier)]
    for dbm in carrier_rssi(channel, carrier):
        tokens += [digits(rssi_bitmap(dbm), 2), digits(level_raw(dbm), 3)]
    return tokens


def iem_amplitude(dbfs: float) -> int:
    """Encode a PSM1000 input level as the unit's linear amplitude (0 below -120 dBFS)."""
    if dbfs <= -120.0:
        return 0
    return round(IEM_FULL_SCALE * 10 ** (min(0.0, dbfs) / 20))


def iem_level_frames(channel: SimChannel) -> str:
    """Return the P10T's two periodic input reports (left, right), each ended by CRLF."""
    index = str(channel.number)
    left = digits(iem_amplitude(channel.audio_peak_dbfs), 11)
    right = digits(iem_amplitude(channel.audio_right_peak_dbfs), 11)
    return (
        frame("REPORT", index, "AUDIO_IN_LVL_L", left)
        + "\r\n"
        + frame("REPORT", index, "AUDIO_IN_LVL_R", right)
        + "\r\n"
    )


def sample_frame(family: str, channel: SimChannel) -> str:
    """Return the SAMPLE frame for ``channel`` in ``family``'s exact layout (shure.md §3.3).

    A PSM1000 has no SAMPLE: it gets its two input reports instead (one string, two frames).
    """
    if family == "psm1000":
        return iem_level_frames(channel)
    peak, rms = _audio(channel)
    index = str(channel.number)
    if family == "mxw":  # invented layout, SLX-D-shaped on purpose (module docstring)
        return frame("SAMPLE", index, "ALL", digits(level_raw(peak), 3),
                     digits(level_raw(rms), 3), "000")
    if family in ("ulxd", "qlxd"):
        rf = max(channel.rssi_dbm[:2], default=-128.0)
        return frame(
            "SAMPLE",
            index,
            "ALL",
            ulx_antenna_leds(channel),
            digits(ulx_rf_raw(rf), 3),
            digits(ulx_audio_raw(peak), 3),
        )
    if family == "slxd":
        # SLX-D reports one combined RSSI: the strongest antenna.
        rf = max(carrier_rssi(channel, 0), default=-120.0)
        return frame(
            "SAMPLE",
            index,
            "ALL",
            digits(level_raw(peak), 3),
            digits(level_raw(rms), 3),
            digits(level_raw(rf), 3),
        )
    if family == "ad":
        quality = channel.quality if channel.transmitter_active else 255
        tokens = [
            "SAMPLE",
            index,
            "ALL",
            digits(clamp(quality, 0, 255), 3),
            digits(audio_bitmap(peak) if channel.transmitter_active else 0, 3),
            digits(level_raw(peak), 3),
            digits(level_raw(rms), 3),
            *_ad_rf_section(channel, 0),
        ]
        if channel.frequency2_khz is not None:
            tokens += _ad_rf_section(channel, 1)
        return frame(*tokens)
    raise ValueError(f"no SAMPLE layout for family {family!r}")


def split_commands(buffer: bytearray) -> list[str]:
    """Remove every complete ``< ... >`` command from ``buffer`` and return their bodies.

    Bytes before the last ``<`` of a piece are noise and dropped; a partial command stays in
    ``buffer`` for the next read. CR/LF (some clients send them) are ignored.
    """
    bodies: list[str] = []
    while True:
        end = buffer.find(b">")
        if end < 0:
            if len(buffer) > MAX_COMMAND_BYTES:
                buffer.clear()
            return bodies
        piece = bytes(buffer[:end])
        del buffer[: end + 1]
        start = piece.rfind(b"<")
        if start < 0:
            continue
        text = piece[start + 1 :].decode("ascii", errors="replace").strip()
        if text:
            bodies.append(text)


def split_lines(buffer: bytearray) -> list[str]:
    """Remove every CRLF-ended command from ``buffer`` and return their bodies (P10T style).

    A command without CRLF is not acted on: its bytes wait in ``buffer`` and end up as noise
    before the next command on the same line (only the last ``< ... >`` of a line counts).
    """
    bodies: list[str] = []
    while True:
        end = buffer.find(b"\n")
        if end < 0:
            if len(buffer) > MAX_COMMAND_BYTES:
                buffer.clear()
            return bodies
        line = bytes(buffer[:end]).rstrip(b"\r")
        del buffer[: end + 1]
        close = line.rfind(b">")
        start = line.rfind(b"<", 0, close) if close >= 0 else -1
        if start < 0:
            continue
        text = line[start + 1 : close].decode("ascii", errors="replace").strip()
        if text:
            bodies.append(text)


def tokenize(body: str) -> list[str]:
    """Split a command body on spaces, keeping ``{...}`` (which may hold spaces) as one token."""
    tokens: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch.isspace():
            i += 1
            continue
        if ch == "{":
            close = body.find("}", i)
            end = len(body) if close < 0 else close + 1
        else:
            end = i
            while end < len(body) and not body[end].isspace():
                end += 1
        tokens.append(body[i:end])
        i = end
    return tokens


def unbrace(token: str) -> str:
    """Return the text inside ``{...}`` with padding stripped (or ``token`` itself)."""
    if token.startswith("{"):
        token = token[1:-1] if token.endswith("}") else token[1:]
    return token.strip()
