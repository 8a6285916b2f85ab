"""Rig descriptions: strict TOML loading, the built-in demo show, and large generated rigs.

A rig file lists receivers and their channels::

    system_api_key = "demo-shure-key"          # optional
    sennheiser_password = "Demo-Sennheiser-1"  # optional

    [[receivers]]
    family = "ulxd"         # ulxd | qlxd | ad | slxd | psm1000 | mxw | ewdx | spectera | uhfr
    model = "ULXD4Q"
    name = "RF 1-4"
    # optional: protocol, serial, firmware, device_id, mac, listed_in_system_api,
    #           system_api_state, [receivers.device_battery]

      [[receivers.channels]]
      name = "Lead Vox"
      frequency_khz = 470125        # or frequency_mhz = 470.125
      # optional: number, antennas, frequency2_khz, performer, quality,
      #           rf_power_mw, rf_muted (in-ear transmitters)
      [receivers.channels.transmitter]   # omit when no transmitter is linked (or in-ear)
      model = "ULXD2"
      # optional: battery_type, battery_percent, battery_minutes, on, muted, charging

Unknown keys and wrong types raise :class:`ValueError` naming the offending key.
"""

from __future__ import annotations

import random
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, cast, get_args

from micboard_desktop.core.config import read_config_text
from micboard_desktop.core.errors import ConfigError
from micboard_desktop.simulator.rig import (
    Family,
    Protocol,
    Rig,
    SimBay,
    SimChannel,
    SimReceiver,
    SimTransmitter,
    SystemApiState,
)
from micboard_desktop.simulator.rig_build import (
    DEFAULT_FIRMWARE,
    DEFAULT_QUALITY,
    SENNHEISER_FAMILIES,
    SHURE_FAMILIES,
    default_protocol,
    make_channel,
    make_receiver,
    shure_device_id,
    stable_uuid,
)

__all__ = [
    "DEFAULT_FIRMWARE",
    "DEFAULT_QUALITY",
    "SENNHEISER_FAMILIES",
    "SHURE_FAMILIES",
    "default_protocol",
    "demo_rig",
    "large_rig",
    "load_rig",
    "make_channel",
    "make_receiver",
    "parse_rig",
    "rig_from_mapping",
    "shure_device_id",
    "stable_uuid",
]

_RECEIVER_KEYS: Final = frozenset(
    {
        "protocol",
        "family",
        "model",
        "name",
        "serial",
        "firmware",
        "device_id",
        "mac",
        "listed_in_system_api",
        "system_api_state",
        "device_battery",
        "channels",
    }
)
_CHANNEL_KEYS: Final = frozenset(
    {
        "number",
        "name",
        "frequency_khz",
        "frequency_mhz",
        "frequency2_khz",
        "antennas",
        "performer",
        "quality",
        "transmitter",
        "rf_power_mw",
        "rf_muted",
    }
)
_TRANSMITTER_KEYS: Final = frozenset(
    {"model", "battery_type", "battery_percent", "battery_minutes", "on", "muted", "charging"}
)
_TOP_KEYS: Final = frozenset({"system_api_key", "sennheiser_password", "receivers"})


# -- TOML loading ---------------------------------------------------------------------


def _check_keys(table: Mapping[str, Any], allowed: frozenset[str], where: str) -> None:
    """Raise ValueError naming the first key of ``table`` not in ``allowed``."""
    for key in table:
        if key not in allowed:
            raise ValueError(f"unknown key {key!r} in {where}")


def _get[T](table: Mapping[str, Any], key: str, kind: type[T], where: str, default: T) -> T:
    """Return ``table[key]`` checked against ``kind`` (ints accepted for floats)."""
    if key not in table:
        return default
    value = table[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return cast(T, float(value))
    if kind is int and isinstance(value, bool):
        raise ValueError(f"{where}.{key} must be an integer")
    if not isinstance(value, kind):
        raise ValueError(f"{where}.{key} must be of type {kind.__name__}")
    return value


def _need[T](table: Mapping[str, Any], key: str, kind: type[T], where: str) -> T:
    """Return the required ``table[key]`` checked against ``kind``."""
    if key not in table:
        raise ValueError(f"missing key {key!r} in {where}")
    return _get(table, key, kind, where, cast(T, None))


def _choice[T: str](value: str, options: tuple[T, ...], where: str) -> T:
    """Return ``value`` if it is one of ``options``."""
    for option in options:
        if option == value:
            return option
    raise ValueError(f"{where} must be one of {', '.join(options)} (got {value!r})")


def _transmitter(table: Mapping[str, Any], where: str) -> SimTransmitter:
    """Build a transmitter from its TOML table."""
    _check_keys(table, _TRANSMITTER_KEYS, where)
    percent = _get(table, "battery_percent", float, where, 100.0)
    if not 0 <= percent <= 100:
        raise ValueError(f"{where}.battery_percent must be 0-100")
    minutes = _get(table, "battery_minutes", int, where, -1)
    return SimTransmitter(
        model=_need(table, "model", str, where),
        battery_type=_get(table, "battery_type", str, where, "LION"),
        battery_percent=percent,
        battery_minutes=None if minutes < 0 else minutes,
        on=_get(table, "on", bool, where, True),
        muted=_get(table, "muted", bool, where, False),
        charging=_get(table, "charging", bool, where, False),
    )


def _channel(table: Mapping[str, Any], family: Family, index: int, where: str) -> SimChannel:
    """Build a channel from its TOML table."""
    _check_keys(table, _CHANNEL_KEYS, where)
    if "frequency_khz" in table and "frequency_mhz" in table:
        raise ValueError(f"{where}: give frequency_khz or frequency_mhz, not both")
    if "frequency_mhz" in table:
        khz = round(_need(table, "frequency_mhz", float, where) * 1000)
    else:
        khz = _need(table, "frequency_khz", int, where)
    second = _get(table, "frequency2_khz", int, where, 0)
    antennas = _get(table, "antennas", int, where, 2)
    if antennas not in (1, 2, 4):
        raise ValueError(f"{where}.antennas must be 1, 2 or 4")
    tx_table = _get(table, "transmitter", dict, where, {})
    channel = make_channel(
        _get(table, "number", int, where, index + 1),
        _need(table, "name", str, where),
        khz,
        _transmitter(tx_table, f"{where}.transmitter") if "transmitter" in table else None,
        family=family,
        antennas=antennas,
        frequency2_khz=second or None,
        performer=_get(table, "performer", str, where, "") or None,
    )
    channel.quality = _get(table, "quality", int, where, channel.quality)
    channel.rf_power_mw = _get(table, "rf_power_mw", int, where, channel.rf_power_mw)
    channel.rf_muted = _get(table, "rf_muted", bool, where, channel.rf_muted)
    return channel


def _receiver(table: Mapping[str, Any], index: int) -> SimReceiver:
    """Build a receiver from its TOML table."""
    where = f"receivers[{index}]"
    _check_keys(table, _RECEIVER_KEYS, where)
    family = _choice(_need(table, "family", str, where), get_args(Family), f"{where}.family")
    protocol = _choice(
        _get(table, "protocol", str, where, default_protocol(family)),
        get_args(Protocol),
        f"{where}.protocol",
    )
    if protocol != default_protocol(family):
        raise ValueError(f"{where}.protocol {protocol!r} does not serve family {family!r}")
    channel_tables = _get(table, "channels", list, where, [])
    channels = []
    for i, ch in enumerate(channel_tables):
        if not isinstance(ch, dict):
            raise ValueError(f"{where}.channels[{i}] must be a table")
        channels.append(_channel(ch, family, i, f"{where}.channels[{i}]"))
    numbers = [ch.number for ch in channels]
    if len(set(numbers)) != len(numbers):
        raise ValueError(f"{where}: duplicate channel numbers {numbers}")
    receiver = make_receiver(
        family, _need(table, "model", str, where), _need(table, "name", str, where), channels,
        key=index,
    )
    receiver.serial = _get(table, "serial", str, where, receiver.serial)
    receiver.firmware = _get(table, "firmware", str, where, receiver.firmware)
    receiver.device_id = _get(table, "device_id", str, where, receiver.device_id)
    receiver.mac = _get(table, "mac", str, where, receiver.mac)
    receiver.listed_in_system_api = _get(table, "listed_in_system_api", bool, where, True)
    state = _get(table, "system_api_state", str, where, "ONLINE")
    receiver.system_api_state = _choice(
        state, get_args(SystemApiState), f"{where}.system_api_state"
    )
    if "device_battery" in table:
        battery = _get(table, "device_battery", dict, where, {})
        receiver.device_battery = _transmitter(battery, f"{where}.device_battery")
    return receiver


def rig_from_mapping(data: Mapping[str, Any]) -> Rig:
    """Build a rig from parsed TOML data (strict: unknown keys raise ValueError)."""
    _check_keys(data, _TOP_KEYS, "the rig file")
    tables = _get(data, "receivers", list, "rig", [])
    receivers = []
    for i, table in enumerate(tables):
        if not isinstance(table, dict):
            raise ValueError(f"receivers[{i}] must be a table")
        receivers.append(_receiver(table, i))
    rig = Rig(receivers=receivers)
    rig.system_api_key = _get(data, "system_api_key", str, "rig", rig.system_api_key)
    rig.sennheiser_password = _get(
        data, "sennheiser_password", str, "rig", rig.sennheiser_password
    )
    return rig


def parse_rig(text: str) -> Rig:
    """Parse a rig description from TOML text."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"invalid TOML: {exc}") from exc
    return rig_from_mapping(data)


def load_rig(path: Path) -> Rig:
    """Load a rig description file (TOML); raise ValueError naming the problem."""
    if not path.exists():
        raise ValueError(f"cannot read rig file {path}: no such file")
    try:
        text = read_config_text(path)  # a regular file of sane size: never /dev/zero or a FIFO
    except ConfigError as exc:
        raise ValueError(str(exc).replace("config file", "rig file")) from exc
    try:
        return parse_rig(text)
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from exc


# -- built-in rigs ----------------------------------------------------------------------


LARGE_RIG_KINDS: Final[tuple[tuple[Family, str, int, str], ...]] = (
    ("ulxd", "ULXD4Q", 4, "ULXD2"),
    ("ad", "AD4Q", 4, "AD2"),
    ("slxd", "SLXD4D", 2, "SLXD2"),
    ("qlxd", "QLXD4", 1, "QLXD1"),
    ("ewdx", "EW-DX EM 4 DANTE", 4, "EW-DX SKM"),
    ("spectera", "Spectera Base Station", 8, "SEK"),
    ("psm1000", "P10T", 2, ""),
    ("mxw", "MXWAPT8", 8, "MXW2"),
)
"""The receivers :func:`large_rig` cycles through: (family, model, channels, transmitter)."""


def large_rig(n_receivers: int, seed: int = 0) -> Rig:
    """Generate ``n_receivers`` receivers of every family, deterministically for ``seed``."""
    rng = random.Random(seed)
    kinds = LARGE_RIG_KINDS
    receivers = []
    for r in range(n_receivers):
        family, model, count, tx_model = kinds[r % len(kinds)]
        channels = []
        # Spectera carries every mobile device on one wideband RF channel (sennheiser.md
        # §2.1), so all channels of a base station share its frequency, as in demo_rig().
        wideband = 470_000 + rng.randrange(0, 130_000, 25)
        for c in range(count):
            tx = SimTransmitter(
                model=tx_model,
                battery_type=rng.choice(["LION", "LION", "ALKA"]),
                battery_percent=float(rng.randint(20, 100)),
            )
            tx.battery_minutes = round(tx.battery_percent * 4.8) if tx.rechargeable else None
            name = f"{rng.choice(['Vox', 'Gtr', 'Sax', 'Host', 'Actor'])} {r * 8 + c + 1}"
            freq = 470_000 + rng.randrange(0, 130_000, 25)
            if family == "spectera":
                freq = wideband
            if family == "mxw":
                freq = 0  # DECT: an MXW access point reports no frequency
            pack = None if family == "psm1000" else tx  # an in-ear channel has no pack
            channels.append(make_channel(c + 1, name, freq, pack, family=family))
        receivers.append(
            make_receiver(family, model, f"RX {r + 1:03d}", channels, key=f"large-{seed}-{r}")
        )
    return Rig(receivers=receivers)


def _tx(model: str, percent: float, battery_type: str = "LION", **kw: Any) -> SimTransmitter:
    """Build a demo transmitter; rechargeable packs get minutes from their charge."""
    minutes = round(percent * 4.8) if battery_type == "LION" else None
    return SimTransmitter(
        model=model,
        battery_type=battery_type,
        battery_percent=percent,
        battery_minutes=minutes,
        **kw,
    )


def demo_rig() -> Rig:
    """Return the built-in "demo show": Shure and Sennheiser receivers, 39 named channels."""
    ch = make_channel
    shure = [
        make_receiver("ulxd", "ULXD4Q", "RF 1-4", [
            ch(1, "Lead Vox", 470_125, _tx("ULXD2", 92), performer="Jane Doe"),
            ch(2, "BV 1", 471_350, _tx("ULXD2", 81), performer="Sam Lee"),
            ch(3, "BV 2", 473_925, _tx("ULXD2", 64), performer="Ana Ruiz"),
            ch(4, "Keys Vox", 476_200, _tx("ULXD2", 47), performer="Tom Berg"),
        ], key="demo"),
        make_receiver("ulxd", "ULXD4Q", "RF 5-8", [
            ch(1, "Guitar Vox", 478_425, _tx("ULXD1", 88), performer="Max Cole"),
            ch(2, "Bass Vox", 481_100, _tx("ULXD1", 35), performer="Kim Park"),
            ch(3, "Sax 1", 484_300, _tx("ULXD1", 73, "ALKA"), performer="Lou Grant"),
            ch(4, "Sax 2", 486_825, _tx("ULXD1", 22), performer="Eve Stone"),
        ], key="demo"),
        make_receiver("ad", "AD4Q", "AD 9-12", [
            ch(n, name, freq, tx, family="ad", antennas=4, performer=who)
            for n, name, freq, tx, who in [
                (1, "Pastor", 502_125, _tx("AD2", 95), "Rev. Miles"),
                (2, "Host", 504_300, _tx("ADX1", 58), "Dana Fox"),
                (3, "Guest 1", 506_675, _tx("AD1", 41), None),
                (4, "Guest 2", 508_750, _tx("AD1", 77, on=False), None),
            ]
        ], key="demo"),
        make_receiver("slxd", "SLXD4D", "SLX 13-14", [
            ch(1, "Choir L", 562_350, _tx("SLXD1", 68, "ALKA")),
            ch(2, "Choir R", 563_900, _tx("SLXD1", 90)),
        ], key="demo"),
        # In-ear monitors: two PSM1000 P10T racks, one mix per musician (no body-pack).
        make_receiver("psm1000", "P10T", "IEM Rack A", [
            ch(1, "IEM Drums", 518_125, None, family="psm1000", performer="Rick Alvarez"),
            ch(2, "IEM Keys", 519_325, None, family="psm1000", performer="Tom Berg"),
        ], key="demo"),
        make_receiver("psm1000", "P10T", "IEM Rack B", [
            ch(1, "IEM Bass", 521_600, None, family="psm1000", performer="Kim Park"),
            ch(2, "IEM Vox", 523_725, None, family="psm1000", performer="Jane Doe"),
        ], key="demo"),
        # An MXW access point (DECT, no frequency): a live pack, one on wall power, one in
        # the charger (shown charging, never as a low mic).
        make_receiver("mxw", "MXWAPT4", "MXW Panel", [
            ch(1, "Host HH", 0, _tx("MXW2", 86), family="mxw", performer="Dana Fox"),
            ch(2, "Panel 1", 0, _tx("MXW1", 64), family="mxw"),
            ch(3, "Lectern", 0, _tx("MXW8", 100, runtime_state="wall_power"), family="mxw"),
            ch(4, "Spare Lav", 0, _tx("MXW1", 12, on=False, charging=True), family="mxw"),
        ], key="demo"),
        make_receiver("qlxd", "QLXD4", "QLX 15", [
            ch(1, "Podium", 530_650, _tx("QLXD2", 55, "ALKA")),
        ], key="demo"),
        # UHF-R over UDP: battery in bars only, RF as coarse categories (shure.md §3.7).
        make_receiver("uhfr", "UR4D", "UHF-R Choir", [
            ch(1, "Choir Solo", 578_350, _tx("UR2", 74, "ALKA")),
            ch(2, "Choir Back", 580_125, _tx("UR1", 46, "ALKA")),
        ], key="demo"),
    ]
    sennheiser = [
        make_receiver("ewdx", "EW-DX EM 4 DANTE", "EM4 Band", [
            ch(1, "Drum Talk", 520_125, _tx("EW-DX SKM", 84), family="ewdx"),
            ch(2, "MD Talk", 521_150, _tx("EW-DX SKM", 62), family="ewdx"),
            ch(3, "Cajon", 522_850, _tx("EW-DX SK", 51), family="ewdx"),
            ch(4, "Acoustic Gtr", 525_650, _tx("EW-DX SK", 30), family="ewdx"),
        ], key="demo"),
        make_receiver("ewdx", "EW-DX EM 4 DANTE", "EM4 Horns", [
            ch(1, "Trumpet", 526_800, _tx("EW-DX SK", 97), family="ewdx"),
            ch(2, "Trombone", 531_025, _tx("EW-DX SK", 45), family="ewdx"),
            ch(3, "Spare 1", 531_625, None, family="ewdx"),
            ch(4, "Presenter", 534_825, _tx("EW-DX SKM", 76), family="ewdx"),
        ], key="demo"),
        make_receiver("spectera", "Spectera Base Station", "Spectera Stage", [
            ch(n, name, 0, _tx(model, pct), family="spectera", performer=who)
            for n, name, model, pct, who in [
                (1, "Actor 1", "SEK", 88, "Ian Hart"),
                (2, "Actor 2", "SEK", 72, "Mia Ford"),
                (3, "Actor 3", "SEK", 49, "Leo Wynn"),
                (4, "Actor 4", "SEK", 26, "Zoe Lane"),
                (5, "Narrator", "SKM", 91, "Ruth Ames"),
                (6, "Audience Mic", "SKM", 67, None),
            ]
        ], key="demo"),
    ]
    # Spectera is wideband: every mobile device rides one RF channel. The whole plan is
    # coordinated: no third-order product of carriers within 40 MHz lands within 25 kHz of
    # a channel (the [rf] defaults), as a frequency coordinator would leave a real show.
    for channel in sennheiser[2].channels:
        channel.frequency_khz = 552_075
    # Actor 1's SEK also receives an in-ear mix (an IEM audio link): an in-ear channel.
    sennheiser[2].channels[0].iem_link = True
    # ew G4 and IEM G4 over the Media Control Protocol (sennheiser.md §4): one channel each.
    sennheiser += [
        make_receiver("ewg4", "EM 300-500 G4", "G4 Rack", [
            ch(1, "Pastor B", 566_075, _tx("SKM 500 G4", 80, "ALKA"), family="ewg4"),
        ], key="demo"),
        make_receiver("iemg4", "SR IEM G4", "IEM G4", [
            ch(1, "IEM Guitar", 626_200, None, family="iemg4", performer="Max Cole"),
        ], key="demo"),
    ]
    # EM4 Band also answers SSCv1 ("Legacy" mode): its RF in dBm and antenna come from there.
    sennheiser[0].ssc1 = True
    # Digital 6000 speaks SSCv1 only (sennheiser.md §3.6).
    sennheiser.append(
        make_receiver("d6000", "EM6000", "D6000 Leads", [
            ch(1, "Soloist", 606_475, _tx("SKM 6000", 68), family="d6000"),
            ch(2, "Guest Vox", 612_250, _tx("SK 6000", 22), family="d6000"),
        ], key="demo"),
    )
    sennheiser += _demo_chargers()
    return Rig(receivers=shure + sennheiser)


def _demo_chargers() -> list[SimReceiver]:
    """A CHG 70N and an L 6000 over SSCv1 (sennheiser.md §3.5, §3.6): bays, no channels.

    Packs charge at a few percent a minute (faster than real, so the demo moves); one
    bay of each is empty, the L 6000 has a full pack, one regenerating and one too hot.
    """

    def pack(model: str, percent: float, health: int, cycles: int) -> SimTransmitter:
        tx = _tx(model, round(percent))
        tx.battery_percent, tx.battery_health_percent, tx.battery_cycles = percent, health, cycles
        return tx

    chg = make_receiver("chg70n", "CHG 70N", "Side Stage CHG", [], key="demo")
    chg.bays = [
        SimBay(1, pack("EW-DX SKM", 58.0, 94, 61), charge_per_minute=3.0),
        SimBay(2, None),
    ]
    l6000 = make_receiver("l6000", "L6000", "D6000 Charger", [], key="demo")
    l6000.bays = [
        SimBay(1, pack("SK 6000", 41.0, 97, 23), charge_per_minute=3.0),
        SimBay(2, pack("SK 6000", 100.0, 91, 118)),
        SimBay(3, pack("SK 6000", 76.0, 88, 204), charge_per_minute=3.0),
        SimBay(4, None),
        SimBay(5, pack("SK 6000", 35.0, 64, 389), state="regenerating"),
        SimBay(6, None),
        SimBay(7, pack("SKM 6000", 88.0, 95, 17), charge_per_minute=3.0),
        SimBay(8, pack("SKM 6000", 62.0, 90, 45), state="too hot"),
    ]
    return [chg, l6000]
