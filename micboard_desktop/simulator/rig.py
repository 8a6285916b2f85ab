"""The simulated rig: the devices, channels and transmitters every simulator serves.

A rig is plain mutable state shared by the protocol servers and the scenario that
animates it. Servers never keep their own copy of a value: they read the rig when a
client asks and subscribe to :meth:`Rig.watch` to push unsolicited reports. Meter values
(RSSI, audio) change many times a second and are *not* announced through ``watch``;
servers sample them on their own meter clock, as the real receivers do.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

Protocol = Literal[
    "shure_cmd", "sennheiser_ssc2", "shure_udp", "sennheiser_mcp", "sennheiser_ssc1"
]
"""Which wire protocol serves a receiver."""

RuntimeState = Literal["calculating", "comm_warning", "wall_power"]
"""Why a transmitter reports no runtime minutes (Shure 65534 / 65533; MXW 65532 wall power)."""

SystemApiState = Literal["ONLINE", "OFFLINE", "DISCOVERED"]
"""Inventory state of a device in the Shure System API."""

Family = Literal[
    "ulxd",
    "qlxd",
    "ad",
    "slxd",
    "ewdx",
    "spectera",
    "uhfr",
    "psm1000",
    "mxw",
    "ewg4",
    "iemg4",
    "d6000",
    "speechline",
    "chg70n",
    "l6000",
]
"""Device family; it decides parameter names, SAMPLE layout and resource tree (``ewg4``: an
ew G3/G4 EM receiver, ``iemg4``: an IEM G4 SR, both over MCP; ``d6000``: a Digital 6000
EM 6000 over SSCv1; ``speechline``: a SpeechLine DW receiver over SSCv1; ``chg70n`` and
``l6000``: the EW-DX and Digital 6000 chargers over SSCv1, bays instead of channels)."""

ChangeListener = Callable[["SimReceiver", "SimChannel | None", str], None]
"""Called as ``listener(receiver, channel_or_None, what)`` after a slow value changes.

``what`` is one of :data:`CHANGE_KINDS`."""

CHANGE_KINDS = (
    "device_name",  # SimReceiver.name
    "channel_name",  # SimChannel.name
    "frequency",  # SimChannel.frequency_khz
    "transmitter",  # linked / unlinked / switched on or off / model changed
    "battery",  # battery_percent (bar or percent boundary crossed), minutes, type
    "tx_mute",  # SimTransmitter.muted
    "interference",  # SimChannel.interference
    "quality",  # SimChannel.quality (reported as a slow value by some families)
    "audio_mute",  # SimChannel.audio_muted (receiver output mute)
    "audio_gain",  # SimChannel.audio_gain_db
    "device_state",  # SimReceiver.system_api_state (Shure System API inventory state)
    "iem_rf",  # SimChannel.rf_muted / rf_power_mw (in-ear transmitter's RF)
    "charging",  # SimTransmitter.charging (docked in a charger or taken out)
)
"""Every kind of slow change a scenario announces."""


@dataclass(slots=True)
class SimTransmitter:
    """A body-pack or handheld linked to a channel."""

    model: str
    battery_type: str = "LION"
    battery_percent: float = 100.0
    """Charge 0-100 (continuous; servers round or convert to bars)."""
    battery_minutes: int | None = 480
    """Runtime left in minutes; ``None`` when the pack cannot tell (alkaline)."""
    on: bool = True
    muted: bool = False
    runtime_state: RuntimeState | None = None
    """Shure runtime sentinels instead of minutes: 65534 calculating, 65533 comm warning."""
    battery_health_percent: int = 100
    """Rechargeable pack health 0-100 (Shure BATT_HEALTH, System API battery-health)."""
    battery_cycles: int = 40
    """Charge cycles of a rechargeable pack."""
    charging: bool = False
    """True while docked in a charger (System API battery-level ``CHARGING``, MXW
    ``ON_CHARGER``)."""
    standby: bool = False
    """Shure MXW: the microphone is in standby (``TX_STATUS STANDBY``)."""

    @property
    def rechargeable(self) -> bool:
        """True for Shure lithium-ion packs, the only ones that report percent and health."""
        return self.battery_type == "LION"

    @property
    def battery_bars(self) -> int:
        """Bars 0-5 as receivers display them."""
        return max(0, min(5, round(self.battery_percent / 20)))


@dataclass(slots=True)
class SimChannel:
    """One receiver channel with its meters and (maybe) a linked transmitter."""

    number: int
    name: str
    frequency_khz: int
    transmitter: SimTransmitter | None = None
    antennas: int = 2
    rssi_dbm: list[float] = field(default_factory=lambda: [-60.0, -65.0])
    audio_rms_dbfs: float = -60.0
    audio_peak_dbfs: float = -50.0
    quality: int = 5
    """Link quality on the family's own scale (Shure AD 0-5; Spectera 0-4; EW-DX percent)."""
    interference: bool = False
    performer: str | None = None
    """Scenario bookkeeping only; no receiver knows who wears the pack."""
    frequency2_khz: int | None = None
    """Second carrier of a Shure AD frequency-diversity (FD-C) channel, else ``None``.

    When set, ``rssi_dbm`` holds ``antennas`` values for carrier 1 followed by
    ``antennas`` values for carrier 2."""
    audio_muted: bool = False
    """Receiver output mute (Shure ``AUDIO_MUTE``), not the transmitter's mute switch."""
    audio_gain_db: int = 0
    """Receiver audio gain in dB (Shure -18..+42)."""
    audio_right_peak_dbfs: float = -50.0
    """In-ear transmitter: the right input's level (``audio_peak_dbfs`` is the left)."""
    rf_power_mw: int = 50
    """In-ear transmitter: RF power in mW (PSM1000: 10, 50 or 100)."""
    rf_muted: bool = False
    """In-ear transmitter: RF muted (the performer's pack hears nothing)."""
    iem_link: bool = False
    """Spectera: the body-pack also receives an in-ear mix over an active IEM audio link."""

    @property
    def transmitter_active(self) -> bool:
        """True when a linked transmitter is switched on and reporting."""
        return self.transmitter is not None and self.transmitter.on

    @property
    def active_antenna(self) -> int | None:
        """Index (0-based) of the strongest antenna, or ``None`` when no carrier."""
        if not self.transmitter_active:
            return None
        return max(range(len(self.rssi_dbm)), key=lambda i: self.rssi_dbm[i])


@dataclass(slots=True)
class SimBay:
    """One bay of a networked charger (CHG 70N bay, L 6000 subslot) and what sits in it."""

    number: int
    pack: SimTransmitter | None = None
    """The docked transmitter or bare pack (``model`` as the charger names it), or empty."""
    charge_per_minute: float = 0.6
    """Percent gained per minute while charging (a BA 70 fills in about three hours)."""
    state: str | None = None
    """A forced state ("fault", "too hot", "regenerating", "storage"); ``None``: charging or
    full, from the charge."""
    unread: bool = False
    """The charger has not read the pack yet: it reports its "not available" values."""


@dataclass(slots=True)
class SimReceiver:
    """One receiver (one network endpoint)."""

    protocol: Protocol
    family: Family
    model: str
    name: str
    channels: list[SimChannel]
    serial: str = ""
    firmware: str = "1.0.0"
    device_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    """Stable identity; the Shure System API uses it as the device ``id``."""
    mac: str = "00:0e:dd:00:00:00"
    listed_in_system_api: bool = True
    """Shure only: also appears in the System API inventory."""
    system_api_state: SystemApiState = "ONLINE"
    """Shure only: ``deviceState`` reported by the System API."""
    device_battery: SimTransmitter | None = None
    """Battery of a battery-powered device (e.g. a docked ULXD6), ``None`` for mains power."""
    ssc1: bool = False
    """EW-DX only: also answers SSCv1 over UDP (the "Legacy" third-party mode beside SSCv2)."""
    bays: list[SimBay] = field(default_factory=list)
    """Chargers only (``chg70n``, ``l6000``): the bays; a charger has no channels."""
    command_model: str | None = None
    """Shure only: ``MODEL`` as the command strings report it when it differs from the System
    API's (AD receivers add the band, e.g. ``AD4Q-A``, shure.md §3.4); ``None`` = ``model``."""

    def channel(self, number: int) -> SimChannel | None:
        """Return channel ``number`` (1-based), or ``None``."""
        for ch in self.channels:
            if ch.number == number:
                return ch
        return None


@dataclass(slots=True)
class Rig:
    """Every simulated device plus the listeners that want to hear about slow changes."""

    receivers: list[SimReceiver]
    system_api_key: str = "demo-shure-key"
    sennheiser_password: str = "demo-sennheiser"
    _listeners: list[ChangeListener] = field(default_factory=list, repr=False)

    def watch(self, listener: ChangeListener) -> Callable[[], None]:
        """Register ``listener`` for slow-value changes; return a callable that removes it."""
        self._listeners.append(listener)

        def unwatch() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unwatch

    def changed(self, receiver: SimReceiver, channel: SimChannel | None, name: str) -> None:
        """Announce that ``name`` changed on ``receiver`` (and ``channel``), after mutating it."""
        for listener in list(self._listeners):
            listener(receiver, channel, name)

    def by_protocol(self, protocol: Protocol) -> list[SimReceiver]:
        """Return the receivers served by ``protocol``."""
        return [r for r in self.receivers if r.protocol == protocol]
