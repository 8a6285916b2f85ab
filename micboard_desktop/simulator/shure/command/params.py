"""Per-family Shure command-string parameters: which exist and how each value is rendered.

Parameter names, value widths and sentinels follow shure.md §3.4/§3.5. A parameter not
listed for a family is one the family lacks, and the server stays silent for it.

Unconfirmed choices (most likely behaviour):

* ``CHAN_NAME`` and ``DEVICE_ID`` are padded to 31 characters on every family (confirmed
  for AD/SLX-D; ULX-D/QLX-D widths are not documented). ``FW_VER`` is 18 wide on
  ULX-D/QLX-D and 24 on AD/SLX-D, ``MODEL`` 32.
* SLX-D uses the firmware 1.4.7.0 names ``TX_MODEL`` / ``GROUP_CHANNEL`` and a 6-digit
  ``FREQUENCY``; AD uses 7 digits.
* ``GROUP_CHAN(NEL)`` always reads ``{--,--}`` (frequencies are set manually in a rig).
* Battery temperature is encoded as ``raw = degrees + 40`` (OpenAVC's reading).
* Only rechargeable (``LION``) packs report percent, health, cycles and temperature;
  others report 255 / 65535 there, and minutes 65535 when the rig has none.
* PSM1000 (P10T): replies with ``REPORT`` and CRLF, ignores a command not ended by CRLF
  (the likely reason one client saw a P10T ignore every GET, shure.md §7.8), does not
  answer ``GET 0 ALL`` (not established), spells ``FREQUENCY`` as 11 zero-padded kHz
  digits (the document's width), ``GROUP_CHAN`` unbraced ``--,--``, ``RF_TX_LVL`` as three
  digits and ``RF_MUTE`` as ``1``/``0``; ``AUDIO_IN_LVL`` (the gain setting) reads ``000``.
* MXW: an access point has no ``MODEL`` and no ``FREQUENCY`` (DECT); ``TX_STATUS`` is
  ``ON_CHARGER`` for a docked pack (which stays ``TX_AVAILABLE YES``), ``STANDBY``,
  ``MUTE`` or ``ACTIVE``, ``UNKNOWN`` with no microphone; ``BATT_RUN_TIME`` is 65533 on the
  charger and 65532 on wall power; ``BUTTON_STS`` reads ``OFF``/``ON`` (wording unknown).
  A microphone switching off or on announces only ``TX_AVAILABLE``: the client must
  re-read the rest, as Shure recommends (shure.md §3.4).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from micboard_desktop.simulator.rig import SimChannel, SimReceiver
from micboard_desktop.simulator.shure.command.frames import (
    antenna_status,
    audio_bitmap,
    braced,
    carrier_rssi,
    clamp,
    digits,
    frame,
    level_raw,
)

NAME_WIDTH: Final = 31
MODEL_WIDTH: Final = 32
UNKNOWN_BARS: Final = 255
UNKNOWN_MINUTES: Final = 65535
CALCULATING_MINUTES: Final = 65534
COMM_WARNING_MINUTES: Final = 65533
BATTERY_TEMP_C: Final = 28
"""Pack temperature the simulator reports, in degrees Celsius."""

_ULX_TX = (
    "TX_TYPE",
    "TX_OFFSET",
    "TX_RF_PWR",
    "TX_MUTE_STATUS",
    "TX_PWR_LOCK",
    "TX_MENU_LOCK",
    "TX_MUTE_BUTTON_STATUS",
    "TX_POWER_SOURCE",
)
_ULX_BATT = (
    "BATT_TYPE",
    "BATT_BARS",
    "BATT_CHARGE",
    "BATT_RUN_TIME",
    "BATT_HEALTH",
    "BATT_CYCLE",
    "BATT_TEMP_C",
    "BATT_TEMP_F",
)
_AD_TX = ("TX_MODEL", "TX_OFFSET", "TX_POWER_LEVEL", "TX_MUTE_MODE_STATUS", "TX_LOCK")
_AD_BATT = (
    "TX_BATT_TYPE",
    "TX_BATT_BARS",
    "TX_BATT_CHARGE_PERCENT",
    "TX_BATT_MINS",
    "TX_BATT_HEALTH_PERCENT",
    "TX_BATT_CYCLE_COUNT",
    "TX_BATT_TEMP_C",
    "TX_BATT_TEMP_F",
)
_AD_METERED = ("ANTENNA_STATUS", "RSSI", "AUDIO_LED_BITMAP", "AUDIO_LEVEL_PEAK", "AUDIO_LEVEL_RMS")
_PSM_RF = ("RF_MUTE", "RF_TX_LVL")
_MXW_TX = ("TX_TYPE", "TX_STATUS", "TX_AVAILABLE", "BUTTON_STS", "TX_DEVICE_ID")
_MXW_BATT = ("BATT_CHARGE", "BATT_RUN_TIME", "BATT_HEALTH")
WALL_POWER_MINUTES: Final = 65532
"""MXW: the microphone runs on wall power (shure.md §3.5)."""
CHARGING_MINUTES: Final = 65533
"""MXW: the microphone is charging (shure.md §3.5; other families: a comm warning)."""


@dataclass(frozen=True, slots=True)
class FamilySpec:
    """What one Shure family speaks on port 2202."""

    family: str
    device_params: tuple[str, ...]
    channel_params: tuple[str, ...]
    fw_width: int
    frequency_digits: int
    min_meter_ms: int
    err_on_bad_set: bool
    """Answer ``< REP ERR >`` to a malformed SET (confirmed for ULX-D; SLX-D drops it)."""
    verb: str = "REP"
    """Reply verb (PSM1000: ``REPORT``)."""
    line_end: str = ""
    """What follows every frame sent (PSM1000: CRLF)."""
    require_crlf: bool = False
    """Ignore commands not ended by CRLF (the simulated P10T)."""
    bulk: bool = True
    """Answer ``GET x ALL``."""
    announce: dict[str, tuple[str, ...]] | None = None
    """Parameters reported unsolicited per change kind, when not :data:`KIND_PARAMS`."""

    def has(self, param: str) -> bool:
        """Return True when the family knows the channel parameter ``param``."""
        return param in self.channel_params


SPECS: Final[dict[str, FamilySpec]] = {
    "ulxd": FamilySpec(
        family="ulxd",
        device_params=("DEVICE_ID", "FW_VER", "ENCRYPTION", "FLASH"),
        channel_params=(
            "CHAN_NAME",
            "AUDIO_GAIN",
            "AUDIO_MUTE",
            "GROUP_CHAN",
            "FREQUENCY",
            *_ULX_TX,
            *_ULX_BATT,
            "RF_INT_DET",
            "ENCRYPTION_WARNING",
        ),
        fw_width=18,
        frequency_digits=6,
        min_meter_ms=100,
        err_on_bad_set=True,
    ),
    "qlxd": FamilySpec(
        family="qlxd",
        device_params=("DEVICE_ID", "FW_VER", "ENCRYPTION", "MAC_ADDR"),
        channel_params=(
            "CHAN_NAME",
            "AUDIO_GAIN",
            "GROUP_CHAN",
            "FREQUENCY",
            *_ULX_TX,
            *_ULX_BATT,
            "ENCRYPTION_WARNING",
        ),
        fw_width=18,
        frequency_digits=6,
        min_meter_ms=100,
        err_on_bad_set=True,
    ),
    "ad": FamilySpec(
        family="ad",
        device_params=(
            "DEVICE_ID",
            "MODEL",
            "FW_VER",
            "RF_BAND",
            "ENCRYPTION_MODE",
            "QUADVERSITY_MODE",
            "TRANSMISSION_MODE",
            "FLASH",
        ),
        channel_params=(
            "CHAN_NAME",
            "AUDIO_GAIN",
            "AUDIO_MUTE",
            "GROUP_CHANNEL",
            "FREQUENCY",
            "GROUP_CHANNEL2",
            "FREQUENCY2",
            *_AD_TX,
            *_AD_BATT,
            "INTERFERENCE_STATUS",
            "INTERFERENCE_STATUS2",
            "ENCRYPTION_STATUS",
            "CHAN_QUALITY",
            *_AD_METERED,
        ),
        fw_width=24,
        frequency_digits=7,
        min_meter_ms=100,
        err_on_bad_set=True,
    ),
    "slxd": FamilySpec(
        family="slxd",
        device_params=("DEVICE_ID", "MODEL", "FW_VER", "RF_BAND", "LOCK_STATUS", "FLASH"),
        channel_params=(
            "CHAN_NAME",
            "AUDIO_GAIN",
            "GROUP_CHANNEL",
            "FREQUENCY",
            "TX_MODEL",
            "TX_BATT_BARS",
            "TX_BATT_MINS",
            "RSSI",
            "AUDIO_LEVEL_PEAK",
            "AUDIO_LEVEL_RMS",
        ),
        fw_width=24,
        frequency_digits=6,
        min_meter_ms=50,
        err_on_bad_set=False,
    ),
    "psm1000": FamilySpec(
        family="psm1000",
        device_params=("DEVICE_NAME", "FW_VER"),
        channel_params=("CHAN_NAME", "FREQUENCY", "GROUP_CHAN", *_PSM_RF, "AUDIO_IN_LVL"),
        fw_width=24,
        frequency_digits=11,
        min_meter_ms=100,
        err_on_bad_set=False,
        verb="REPORT",
        line_end="\r\n",
        require_crlf=True,
        bulk=False,
        announce={
            "channel_name": ("CHAN_NAME",),
            "frequency": ("FREQUENCY", "GROUP_CHAN"),
            "iem_rf": _PSM_RF,
        },
    ),
    "mxw": FamilySpec(
        family="mxw",
        device_params=("DEVICE_ID", "FW_VER", "FLASH"),
        channel_params=("CHAN_NAME", "AUDIO_GAIN", *_MXW_TX, *_MXW_BATT),
        fw_width=24,
        frequency_digits=6,
        min_meter_ms=100,
        err_on_bad_set=True,
        announce={
            "channel_name": ("CHAN_NAME",),
            "transmitter": ("TX_AVAILABLE", "TX_STATUS"),
            "charging": ("TX_AVAILABLE", "TX_STATUS", "TX_TYPE", *_MXW_BATT),
            "battery": _MXW_BATT,
            "tx_mute": ("TX_STATUS",),
            "audio_gain": ("AUDIO_GAIN",),
        },
    ),
}
"""The families served by command strings."""

KIND_PARAMS: Final[dict[str, tuple[str, ...]]] = {
    "channel_name": ("CHAN_NAME",),
    "frequency": ("FREQUENCY", "GROUP_CHAN", "GROUP_CHANNEL", "FREQUENCY2", "GROUP_CHANNEL2"),
    "transmitter": (*_ULX_TX, *_ULX_BATT, *_AD_TX, *_AD_BATT, "TX_MODEL", "CHAN_QUALITY"),
    "battery": (*_ULX_BATT, *_AD_BATT),
    "tx_mute": ("TX_MUTE_STATUS", "TX_MUTE_MODE_STATUS"),
    "interference": ("RF_INT_DET", "INTERFERENCE_STATUS", "INTERFERENCE_STATUS2"),
    "quality": ("CHAN_QUALITY",),
    "audio_mute": ("AUDIO_MUTE",),
    "audio_gain": ("AUDIO_GAIN",),
}
"""Channel parameters a device reports unsolicited after each kind of slow change."""

def announced_params(spec: FamilySpec, kind: str) -> tuple[str, ...]:
    """Return the parameters ``spec``'s device reports unsolicited after a ``kind`` change."""
    table = KIND_PARAMS if spec.announce is None else spec.announce
    return table.get(kind, ())


METERED: Final = frozenset(_AD_METERED)
"""Parameters that change with the meters and are never reported unsolicited."""


def device_value(spec: FamilySpec, receiver: SimReceiver, param: str) -> str | None:
    """Return the wire value of device parameter ``param``, or ``None`` if the family lacks it."""
    if param not in spec.device_params:
        return None
    quad = any(ch.antennas >= 4 for ch in receiver.channels)
    values: dict[str, Callable[[], str]] = {
        "DEVICE_ID": lambda: braced(receiver.name, NAME_WIDTH),
        "DEVICE_NAME": lambda: braced(receiver.name, NAME_WIDTH),
        "MODEL": lambda: braced(receiver.command_model or receiver.model, MODEL_WIDTH),
        "FW_VER": lambda: braced(receiver.firmware, spec.fw_width),
        "RF_BAND": lambda: "G57" if spec.family == "ad" else "G58",
        "ENCRYPTION": lambda: "OFF",
        "ENCRYPTION_MODE": lambda: "OFF",
        "QUADVERSITY_MODE": lambda: "ON" if quad else "OFF",
        "TRANSMISSION_MODE": lambda: "STANDARD",
        "FLASH": lambda: "OFF",
        "MAC_ADDR": lambda: receiver.mac.upper(),
        "LOCK_STATUS": lambda: "OFF",
    }
    return values[param]()


def _minutes(channel: SimChannel) -> int:
    """Return the runtime field including the 65535/65534/65533 sentinels."""
    tx = channel.transmitter
    if tx is None or not tx.on or tx.runtime_state == "wall_power":
        return UNKNOWN_MINUTES
    if tx.runtime_state == "calculating":
        return CALCULATING_MINUTES
    if tx.runtime_state == "comm_warning":
        return COMM_WARNING_MINUTES
    if tx.battery_minutes is None:
        return UNKNOWN_MINUTES
    return clamp(tx.battery_minutes, 0, 65532)


def _tx_value(spec: FamilySpec, channel: SimChannel, param: str) -> str:
    """Render a transmitter or battery parameter, with sentinels when no pack reports."""
    tx = channel.transmitter if channel.transmitter_active else None
    ulx = spec.family in ("ulxd", "qlxd")
    unknown = "UNKN" if ulx else "UNKNOWN"
    lion = tx is not None and tx.rechargeable
    temp_c = BATTERY_TEMP_C if lion else None
    match param:
        case "TX_TYPE" | "TX_MODEL":
            return tx.model if tx else unknown
        case "TX_OFFSET":
            return digits(255 if tx is None else (0 if ulx else 12), 3)
        case "TX_RF_PWR":
            return "NORMAL" if tx else "UNKN"
        case "TX_POWER_LEVEL":
            return digits(20 if tx else 255, 3)
        case "TX_MUTE_STATUS":
            return unknown if tx is None else ("ON" if tx.muted else "OFF")
        case "TX_MUTE_MODE_STATUS":
            # AD inverts the sense: ON means audio passes, MUTE means muted.
            return unknown if tx is None else ("MUTE" if tx.muted else "ON")
        case "TX_PWR_LOCK" | "TX_MENU_LOCK":
            return "OFF" if tx else "UNKN"
        case "TX_LOCK":
            return "NONE" if tx else "UNKNOWN"
        case "TX_MUTE_BUTTON_STATUS":
            return "RELEASED" if tx else "UNKN"
        case "TX_POWER_SOURCE":
            return "BATTERY" if tx else "UNKN"
        case "BATT_TYPE" | "TX_BATT_TYPE":
            return tx.battery_type if tx else unknown
        case "BATT_BARS" | "TX_BATT_BARS":
            return digits(tx.battery_bars if tx else UNKNOWN_BARS, 3)
        case "BATT_CHARGE" | "TX_BATT_CHARGE_PERCENT":
            return digits(clamp(tx.battery_percent, 0, 100) if tx and lion else 255, 3)
        case "BATT_RUN_TIME" | "TX_BATT_MINS":
            return digits(_minutes(channel), 5)
        case "BATT_HEALTH" | "TX_BATT_HEALTH_PERCENT":
            return digits(tx.battery_health_percent if tx and lion else 255, 3)
        case "BATT_CYCLE" | "TX_BATT_CYCLE_COUNT":
            return digits(tx.battery_cycles if tx and lion else UNKNOWN_MINUTES, 5)
        case "BATT_TEMP_C" | "TX_BATT_TEMP_C":
            return digits(255 if temp_c is None else temp_c + 40, 3)
        case "BATT_TEMP_F" | "TX_BATT_TEMP_F":
            return digits(255 if temp_c is None else round(temp_c * 9 / 5 + 32) + 40, 3)
    raise KeyError(param)


def _mxw_status(channel: SimChannel) -> str:
    """Return an MXW ``TX_STATUS``: docked, standby, muted, live, or no microphone."""
    tx = channel.transmitter
    if tx is not None and tx.charging:
        return "ON_CHARGER"
    if tx is None or not tx.on:
        return "UNKNOWN"
    if tx.standby:
        return "STANDBY"
    return "MUTE" if tx.muted else "ACTIVE"


def _mxw_value(channel: SimChannel, param: str) -> str:
    """Render an MXW microphone parameter (a docked pack still reports its battery)."""
    tx = channel.transmitter
    linked = tx is not None and (tx.on or tx.charging)
    match param:
        case "TX_TYPE":
            return tx.model if tx is not None and linked else "UNKNOWN"
        case "TX_STATUS":
            return _mxw_status(channel)
        case "TX_AVAILABLE":
            return "YES" if linked else "NO"
        case "BUTTON_STS":
            return "OFF" if linked else "UNKNOWN"
        case "TX_DEVICE_ID":
            return braced(tx.model if tx is not None and linked else "", NAME_WIDTH)
        case "BATT_CHARGE":
            return digits(clamp(tx.battery_percent, 0, 100) if tx and linked else 255, 3)
        case "BATT_HEALTH":
            return digits(tx.battery_health_percent if tx and linked else 255, 3)
        case "BATT_RUN_TIME":
            if tx is not None and tx.charging:
                return digits(CHARGING_MINUTES, 5)
            if tx is not None and tx.on and tx.runtime_state == "wall_power":
                return digits(WALL_POWER_MINUTES, 5)
            if tx is not None and tx.on and tx.runtime_state is not None:
                return digits(UNKNOWN_MINUTES, 5)  # MXW has no "calculating" code
            return digits(_minutes(channel), 5)
    raise KeyError(param)


def _psm_value(spec: FamilySpec, channel: SimChannel, param: str) -> str:
    """Render a PSM1000 channel parameter (an in-ear link has no pack to report)."""
    match param:
        case "GROUP_CHAN":
            return "--,--"
        case "RF_MUTE":
            return "1" if channel.rf_muted else "0"
        case "RF_TX_LVL":
            return digits(channel.rf_power_mw, 3)
        case "AUDIO_IN_LVL":
            return "000"
        case "FREQUENCY":
            return digits(channel.frequency_khz, spec.frequency_digits)
    raise KeyError(param)


def channel_values(
    spec: FamilySpec, receiver: SimReceiver, channel: SimChannel, param: str
) -> list[str]:
    """Return the wire value(s) of channel parameter ``param`` (several for per-antenna RSSI).

    An empty list means the family (or this channel, e.g. a non-FD-C ``FREQUENCY2``) lacks it.
    """
    if not spec.has(param):
        return []
    if spec.family == "psm1000" and param != "CHAN_NAME":
        return [_psm_value(spec, channel, param)]
    if spec.family == "mxw" and param not in ("CHAN_NAME", "AUDIO_GAIN"):
        return [_mxw_value(channel, param)]
    active = channel.transmitter_active
    second = channel.frequency2_khz
    match param:
        case "CHAN_NAME":
            return [braced(channel.name, NAME_WIDTH)]
        case "AUDIO_GAIN" if spec.family == "mxw":
            return [digits(clamp(channel.audio_gain_db + 25, 0, 40), 3)]  # dB = raw - 25
        case "AUDIO_GAIN":
            return [digits(clamp(channel.audio_gain_db + 18, 0, 60), 3)]
        case "AUDIO_MUTE":
            return ["ON" if channel.audio_muted else "OFF"]
        case "GROUP_CHAN" | "GROUP_CHANNEL":
            return ["{--,--}"]
        case "FREQUENCY":
            return [digits(channel.frequency_khz, spec.frequency_digits)]
        case "GROUP_CHANNEL2":
            return [] if second is None else ["{--,--}"]
        case "FREQUENCY2":
            return [] if second is None else [digits(second, spec.frequency_digits)]
        case "RF_INT_DET":
            return ["CRITICAL" if channel.interference else "NONE"]
        case "INTERFERENCE_STATUS":
            return ["DETECTED" if channel.interference else "NONE"]
        case "INTERFERENCE_STATUS2":
            return [] if second is None else ["NONE"]
        case "ENCRYPTION_WARNING":
            return ["OFF"]
        case "ENCRYPTION_STATUS":
            return ["OK"]
        case "CHAN_QUALITY":
            return [digits(clamp(channel.quality, 0, 5) if active else 255, 3)]
        case "ANTENNA_STATUS":
            return [antenna_status(channel)]
        case "RSSI":
            rssi = carrier_rssi(channel, 0)
            return [f"{i + 1} {digits(level_raw(dbm), 3)}" for i, dbm in enumerate(rssi)]
        case "AUDIO_LED_BITMAP":
            return [digits(audio_bitmap(channel.audio_peak_dbfs) if active else 0, 3)]
        case "AUDIO_LEVEL_PEAK":
            return [digits(level_raw(channel.audio_peak_dbfs) if active else 0, 3)]
        case "AUDIO_LEVEL_RMS":
            return [digits(level_raw(channel.audio_rms_dbfs) if active else 0, 3)]
    return [_tx_value(spec, channel, param)]


def channel_reports(
    spec: FamilySpec, receiver: SimReceiver, channel: SimChannel, param: str
) -> list[str]:
    """Return the ``REP`` frames answering ``GET n param`` (empty: the device stays silent)."""
    return [
        reply(spec, str(channel.number), param, value)
        for value in channel_values(spec, receiver, channel, param)
    ]


def device_report(spec: FamilySpec, receiver: SimReceiver, param: str) -> list[str]:
    """Return the ``REP`` frame answering ``GET param`` for a device parameter (or nothing)."""
    value = device_value(spec, receiver, param)
    return [] if value is None else [reply(spec, param, value)]


def reply(spec: FamilySpec, *tokens: str) -> str:
    """Return one reply frame in the family's verb and line ending (``REPORT`` + CRLF: P10T)."""
    return frame(spec.verb, *tokens) + spec.line_end
