"""The SSCv1 address trees of the simulated families, read from the shared rig on every ask.

Families: EW-DX, Digital 6000 EM 6000, SpeechLine DW (``/mates/txN/bat_*`` only) and the
chargers of :mod:`.chargers` (CHG 70N, L 6000).

:func:`value` answers one address or raises :class:`Refused` with the error code a device
would send: 404 for an address the family lacks, 424 for ``/mates/txn/…`` while the
transmitter is absent or off (sennheiser.md §3.3, §3.5, §7 item 4).
"""

from __future__ import annotations

from typing import Any, Final

from micboard_desktop.simulator.faults import HOSTILE_TEXT
from micboard_desktop.simulator.rig import SimChannel, SimReceiver
from micboard_desktop.simulator.sennheiser.ssc1 import chargers

VENDOR: Final = "Sennheiser electronic GmbH & Co. KG"


class Refused(Exception):
    """An address answered with an error code instead of a value."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _channel(rx: SimReceiver, key: str) -> SimChannel:
    if not key.startswith(("rx", "tx")) or not key[2:].isdigit():
        raise Refused(404)
    ch = rx.channel(int(key[2:]))
    if ch is None:
        raise Refused(404)
    return ch


def _active_antenna(ch: SimChannel) -> int:
    antenna = ch.active_antenna
    return 0 if antenna is None else antenna + 1


def ewdx_tx_type(model: str) -> str:
    """Return the short transmitter type EW-DX reports (``"SKM"``, ``"SK"``)."""
    return "SKM" if "SKM" in model.upper() else "SK"


def _device(rx: SimReceiver, path: tuple[str, ...], hostile: bool) -> Any:
    table: dict[tuple[str, ...], Any] = {
        ("identity", "product"): rx.model,
        ("identity", "serial"): rx.serial,
        ("identity", "version"): rx.firmware,
        ("identity", "vendor"): VENDOR,
        ("name",): HOSTILE_TEXT if hostile else rx.name,
    }
    if rx.family in ("ewdx", "chg70n"):
        table[("location",)] = ""
    if path not in table:
        raise Refused(404)
    return table[path]


def _ewdx_rx(ch: SimChannel, path: tuple[str, ...], hostile: bool) -> Any:
    tx_on = ch.transmitter_active
    if path == ("name",):
        return HOSTILE_TEXT if hostile else ch.name[:8].upper()
    if path == ("frequency",):
        return ch.frequency_khz
    if path == ("mute",):
        return ch.audio_muted
    if path == ("warnings",):
        words = [] if tx_on else ["NoLink"]
        if tx_on and ch.audio_peak_dbfs > -1.0:
            words.append("AfPeak")
        return words
    raise Refused(404)


def _ewdx_tx(ch: SimChannel, path: tuple[str, ...]) -> Any:
    tx = ch.transmitter
    if tx is None or not tx.on:
        raise Refused(424)
    rechargeable = tx.battery_type in ("LION", "BA70", "Battery")
    table: dict[tuple[str, ...], Any] = {
        ("battery", "gauge"): round(tx.battery_percent),
        ("battery", "type"): "Battery" if rechargeable else "Primary Cell",
        ("battery", "lifetime"): (tx.battery_minutes or 0) if rechargeable else 0,
        ("warnings",): ["LowBattery"] if tx.battery_percent < 20 else [],
        ("type",): ewdx_tx_type(tx.model),
        ("version",): "1.2.3",
        ("mute",): tx.muted,
    }
    if path not in table:
        raise Refused(404)
    return table[path]


def _ewdx_meter(ch: SimChannel, path: tuple[str, ...]) -> Any:
    tx_on = ch.transmitter_active
    table: dict[tuple[str, ...], Any] = {
        ("rssi",): round(max(ch.rssi_dbm), 1) if ch.rssi_dbm else -120.0,
        ("rsqi",): max(0, min(100, ch.quality)) if tx_on else 0,
        ("divi",): _active_antenna(ch),
        ("af",): round(ch.audio_peak_dbfs, 1) if tx_on else -120.0,
    }
    if path not in table:
        raise Refused(404)
    return table[path]


D6000_BATTERY: Final = ((85.0, "100%"), (50.0, "70%"), (15.0, "30%"))
"""Charge floors of the `skx/battery` steps (the real thresholds are not published)."""


def d6000_battery(ch: SimChannel) -> list[str]:
    """Return ``skx/battery``: ``[state, "h:mm"]``, or ``[]`` without a transmitter (§3.6)."""
    tx = ch.transmitter
    if tx is None or not tx.on:
        return []
    state = next((word for floor, word in D6000_BATTERY if tx.battery_percent >= floor), "low")
    minutes = tx.battery_minutes
    time = "-:--" if minutes is None else f"{minutes // 60}:{minutes % 60:02d}"
    return [state, time]


def _d6000_rx(ch: SimChannel, path: tuple[str, ...], hostile: bool) -> Any:
    tx = ch.transmitter if ch.transmitter_active else None
    if path == ("name",):
        return HOSTILE_TEXT if hostile else ch.name
    if path == ("carrier",):
        return ch.frequency_khz
    if path == ("audio_mute",):
        return ch.audio_muted
    if path == ("active_warnings",):
        words = [] if tx is not None else ["NoLink"]
        if tx is not None and tx.battery_percent < 10:
            words.append("LowBattery")
        return words
    if path == ("skx", "battery"):
        return d6000_battery(ch)
    if path == ("skx", "type"):
        return "" if tx is None else [tx.model, 470_200, 558_000]
    raise Refused(404)


def _byte(value: float) -> int:
    return max(0, min(255, round(value)))


def d6000_row(ch: SimChannel) -> list[int]:
    """Return one ``/mm`` row: ``[RF1, RF1_PEAK, RF2, RF2_PEAK, DIV1, DIV2, LQI, AF, AF_PEAK]``."""
    if not ch.transmitter_active:
        return [0, 0, 0, 0, 0, 0, 0, 0, 0]
    rf = [_byte(255 + 2 * level) for level in [*ch.rssi_dbm, -127.5, -127.5][:2]]
    active = _active_antenna(ch)
    af = _byte((ch.audio_peak_dbfs + 128) * 2 - 1)
    clip = 1 if ch.audio_peak_dbfs >= -0.5 else 0
    return [rf[0], 0, rf[1], 0, int(active == 1), int(active == 2), _byte(ch.quality), af, clip]


SPEECHLINE_SECONDS_PER_MINUTE: Final = 60


def _speechline_tx(rx: SimReceiver, ch: SimChannel, path: tuple[str, ...]) -> Any:
    """SpeechLine DW ``/mates/txN/bat_*`` (§3.7): flat names, lifetime in seconds.

    The rack receiver reports bars and no gauge; the MCR reports a gauge and no bars (as
    the reference lists them). Lifetime is reported for rechargeable packs only (0 else).
    """
    tx = ch.transmitter
    if tx is None or not tx.on:
        raise Refused(424)
    mcr = "MCR" in rx.model.upper()
    minutes = tx.battery_minutes if tx.rechargeable and tx.battery_minutes is not None else 0
    table: dict[tuple[str, ...], Any] = {
        ("bat_lifetime",): minutes * SPEECHLINE_SECONDS_PER_MINUTE,
        ("bat_health",): tx.battery_health_percent,
        ("bat_cycles",): tx.battery_cycles,
    }
    if mcr:
        table[("bat_gauge",)] = round(tx.battery_percent)
    else:
        table[("bat_bars",)] = tx.battery_bars
    if path not in table:
        raise Refused(404)
    return table[path]


def value(
    rx: SimReceiver, path: tuple[str, ...], *, hostile: bool = False, flat_accu: bool = False
) -> Any:
    """Return the value at ``path`` or raise :class:`Refused` with the device's error code.

    ``flat_accu``: an L 6000 keeps ``accu_parameter`` at the top level (see :mod:`.chargers`).
    """
    if not path:
        raise Refused(404)
    head, rest = path[0], path[1:]
    if head == "device":
        return _device(rx, rest, hostile)
    if rx.family == "ewdx":
        if head.startswith("rx"):
            return _ewdx_rx(_channel(rx, head), rest, hostile)
        if head == "mates" and rest:
            return _ewdx_tx(_channel(rx, rest[0]), rest[1:])
        if head == "m" and rest:
            return _ewdx_meter(_channel(rx, rest[0]), rest[1:])
    elif rx.family == "d6000":
        if head.startswith("rx"):
            return _d6000_rx(_channel(rx, head), rest, hostile)
        if head == "mm" and not rest:
            return [d6000_row(ch) for ch in rx.channels]
    elif rx.family == "speechline":
        if head == "mates" and rest:  # no /rxN addresses: not in the reference (404)
            return _speechline_tx(rx, _channel(rx, rest[0]), rest[1:])
    elif rx.family in ("chg70n", "l6000"):
        try:
            if rx.family == "chg70n":
                return chargers.chg70n_value(rx, path)
            return chargers.l6000_value(rx, path, flat_accu=flat_accu)
        except chargers.Unavailable as refused:
            raise Refused(refused.code) from None
    raise Refused(404)


def is_meter(rx: SimReceiver, path: tuple[str, ...]) -> bool:
    """Return True for a meter address (EW-DX ``/m``, D6000 ``/mm``): subscribe-only on EW-DX."""
    return bool(path) and path[0] in ("m", "mm")
