"""Builders for simulated devices: stable ids, serials and per-family defaults."""

from __future__ import annotations

import hashlib
from typing import Final

from micboard_desktop.simulator.rig import (
    Family,
    Protocol,
    SimChannel,
    SimReceiver,
    SimTransmitter,
)

SHURE_FAMILIES: Final = ("ulxd", "qlxd", "ad", "slxd", "psm1000", "mxw")
SENNHEISER_FAMILIES: Final = ("ewdx", "spectera")
SHURE_UDP_FAMILIES: Final = ("uhfr",)
"""Shure families reached over UDP command strings (UHF-R, ``* ... *`` frames)."""
SENNHEISER_SSC1_FAMILIES: Final = ("d6000", "speechline", "chg70n", "l6000")
"""Sennheiser families reached only over SSCv1 (EW-DX answers it beside SSCv2, ``ssc1``)."""
SENNHEISER_MCP_FAMILIES: Final = ("ewg4", "iemg4")
"""Sennheiser families reached over the Media Control Protocol (EM receiver, IEM G4 SR)."""
DEFAULT_FIRMWARE: Final[dict[str, str]] = {
    "ulxd": "2.7.6.0",
    "qlxd": "2.3.1.0",
    "ad": "1.4.7.0",
    "slxd": "1.4.7.0",
    "ewdx": "4.1.0",
    "spectera": "1.4.1",
    "psm1000": "1.6.8",
    "mxw": "4.3.1.2",
    "uhfr": "2.160",
    "ewg4": "2.5.2",
    "iemg4": "2.5.2",
    "d6000": "1.1.4.74",
    "speechline": "3.2.1",
    "chg70n": "4.1.0",
    "l6000": "1.1.4.74",
}
DEFAULT_QUALITY: Final[dict[str, int]] = {"ad": 5, "spectera": 4, "ewdx": 100, "d6000": 230}
"""Full link quality on each family's own scale (other families: 5)."""


def _digest(*parts: object) -> str:
    """Return a stable hex digest of ``parts`` (ids must not change between runs)."""
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()


def shure_device_id(*parts: object) -> str:
    """Return a stable Shure-looking device id, e.g. ``dd4c009a-0000-11dd-a000-000eddcc1234``."""
    h = _digest("shure", *parts)
    return f"dd{h[:6]}-0000-11dd-a000-000edd{h[6:12]}"


def stable_uuid(*parts: object) -> str:
    """Return a stable UUID-formatted id derived from ``parts``."""
    h = _digest("uuid", *parts)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def _mac(*parts: object) -> str:
    """Return a stable MAC in Shure's ``00:0e:dd`` range."""
    h = _digest("mac", *parts)
    return "00:0e:dd:" + ":".join(h[i : i + 2] for i in range(0, 6, 2))


def _serial(family: str, *parts: object) -> str:
    """Return a stable serial number in the family's style."""
    n = int(_digest("serial", family, *parts)[:10], 16)
    if family in ("ulxd", "qlxd"):
        return str(4_000_000_000 + n % 199_999_999)
    if family in ("ad", "slxd"):
        return f"2EL{n % 100_000_000:08d}"
    return f"{n % 10_000_000_000:010d}"


def default_protocol(family: Family) -> Protocol:
    """Return the wire protocol that serves ``family``."""
    if family in SHURE_UDP_FAMILIES:
        return "shure_udp"
    if family in SENNHEISER_MCP_FAMILIES:
        return "sennheiser_mcp"
    if family in SENNHEISER_SSC1_FAMILIES:
        return "sennheiser_ssc1"
    return "shure_cmd" if family in SHURE_FAMILIES else "sennheiser_ssc2"


def make_channel(
    number: int,
    name: str,
    frequency_khz: int,
    transmitter: SimTransmitter | None,
    *,
    family: Family = "ulxd",
    antennas: int = 2,
    frequency2_khz: int | None = None,
    performer: str | None = None,
) -> SimChannel:
    """Build a channel with one RSSI slot per antenna (and per FD-C carrier)."""
    carriers = 1 if frequency2_khz is None else 2
    return SimChannel(
        number=number,
        name=name,
        frequency_khz=frequency_khz,
        transmitter=transmitter,
        antennas=antennas,
        rssi_dbm=[-62.0 - 3.0 * (i % antennas) for i in range(antennas * carriers)],
        quality=DEFAULT_QUALITY.get(family, 5),
        performer=performer,
        frequency2_khz=frequency2_khz,
    )


def make_receiver(
    family: Family,
    model: str,
    name: str,
    channels: list[SimChannel],
    *,
    key: object = "",
) -> SimReceiver:
    """Build a receiver with stable ids derived from ``key``, ``model`` and ``name``."""
    if family in SHURE_FAMILIES or family in SHURE_UDP_FAMILIES:
        device_id = shure_device_id(key, model, name)
    else:
        device_id = stable_uuid(key, model, name)
    return SimReceiver(
        protocol=default_protocol(family),
        family=family,
        model=model,
        name=name,
        channels=channels,
        serial=_serial(family, key, model, name),
        firmware=DEFAULT_FIRMWARE[family],
        device_id=device_id,
        mac=_mac(key, model, name),
    )
