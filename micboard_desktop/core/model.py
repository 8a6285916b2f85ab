"""The normalized model: what every manufacturer's data is turned into.

Every class is a frozen, slotted dataclass, so snapshots can be shared between the
engine, the LAN API and the UI without copying, and ``==`` is the cheap change test the
store relies on. Units are in the field names. ``None`` always means "the device did not
say" (or said a sentinel); it is never replaced by a made-up number.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from operator import attrgetter
from typing import NewType

from micboard_desktop.core.fast_init import fast_init, replace

ReceiverId = NewType("ReceiverId", str)
"""``"<manufacturer>:<api_device_id>"``, unique across the app."""

ChannelId = NewType("ChannelId", str)
"""``"<receiver id>:<channel number>"``."""


class ConnectionStatus(StrEnum):
    """State of one connection to a device or server."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    ERROR = "error"
    STOPPED = "stopped"


class Transport(StrEnum):
    """How live data reaches us for a connection."""

    WEBSOCKET = "websocket"
    SSE = "sse"
    TCP = "tcp"
    UDP = "udp"
    POLL = "poll"


class HealthStatus(StrEnum):
    """Health of a manufacturer integration as a whole."""

    OK = "ok"
    DEGRADED = "degraded"
    DOWN = "down"
    UNKNOWN = "unknown"


class ChannelStatus(StrEnum):
    """What a technician needs to know about a channel; declared in priority order."""

    RX_OFFLINE = "rx_offline"
    TX_OFF = "tx_off"
    CRITICAL_BATTERY = "critical_battery"
    LOW_BATTERY = "low_battery"
    RF_LOSS = "rf_loss"
    INTERFERENCE = "interference"
    AUDIO_PEAK = "audio_peak"
    MUTED = "muted"
    OK = "ok"

    @property
    def priority(self) -> int:
        """Return the rank of this status; 0 is the most urgent."""
        return _STATUS_ORDER.index(self)


_STATUS_ORDER: tuple[ChannelStatus, ...] = tuple(ChannelStatus)


class ChannelKind(StrEnum):
    """What a channel carries: a microphone to the desk, or a monitor mix to a performer."""

    MIC = "mic"
    IEM = "iem"
    """An in-ear monitor transmitter's channel (PSM1000 P10T, IEM G4 SR, Spectera IEM link):
    no body-pack battery to watch, RF power and two audio inputs instead (docs/contract.md)."""


class IemMode(StrEnum):
    """How an in-ear transmitter sends its mix."""

    STEREO = "stereo"
    MONO = "mono"


@fast_init
@dataclass(frozen=True, slots=True)
class Iem:
    """What an in-ear monitor transmitter sends; each field independently unknown."""

    rf_power_mw: int | None = None
    """Transmit power in milliwatts (PSM1000: 10, 50 or 100)."""
    rf_muted: bool | None = None
    """True while the transmitter's RF is muted: the performer hears nothing."""
    mode: IemMode | None = None
    left_dbfs: float | None = None
    """Slow (last reported) input level of the left (or mono) channel."""
    right_dbfs: float | None = None


class EstimateBasis(StrEnum):
    """Where a runtime estimate comes from."""

    HISTORY = "history"
    """This channel's own readings since the pack went in, fitted to a learned curve."""
    MODEL = "model"
    """Only the built-in discharge curve of the pack's chemistry (too few readings yet)."""


@fast_init
@dataclass(frozen=True, slots=True)
class BatteryEstimate:
    """The app's own guess of the runtime left where a device reports no minutes."""

    minutes: int
    low_minutes: int
    high_minutes: int
    basis: EstimateBasis


@fast_init
@dataclass(frozen=True, slots=True)
class Battery:
    """Transmitter battery as reported; each field independently unknown."""

    bars: int | None = None
    """0-5 bars."""
    percent: int | None = None
    """0-100 % charge."""
    minutes: int | None = None
    """Runtime left in minutes."""
    type: str | None = None
    """Chemistry or pack as the device names it ("LION", "ALKA", "BA 70" ...)."""
    charging: bool | None = None


@fast_init
@dataclass(frozen=True, slots=True)
class Transmitter:
    """The body-pack or handheld linked to a channel."""

    model: str | None = None
    battery: Battery = field(default_factory=Battery)
    muted: bool | None = None


@fast_init
@dataclass(frozen=True, slots=True)
class Rf:
    """Radio link of a channel."""

    rssi_dbm: tuple[float | None, ...] = ()
    """Signal strength per antenna (A, B, ...) in dBm; one entry for a combined reading."""
    antenna: str | None = None
    """Active antenna letter(s), e.g. ``"A"``, ``"B"``, ``"AB"``."""
    quality: float | None = None
    """Link quality on the device's own scale (see ``quality_max``)."""
    quality_max: float | None = None
    """Top of the ``quality`` scale (Shure AD 5, Spectera 4, EW-DX 100); ``None`` if unknown."""
    interference: bool | None = None
    coarse: tuple[int | None, ...] = ()
    """RF per antenna as a device's own coarse category where it gives no dBm (UHF-R
    SAMPLE: roughly 20 overload, 70 strong, 100 weak; lower is stronger). Never converted
    into ``rssi_dbm``: an invented dBm figure would be read as a measurement."""

    @property
    def quality_fraction(self) -> float | None:
        """Return quality as 0.0-1.0 when both the value and its scale are known."""
        if self.quality is None or not self.quality_max:
            return None
        return max(0.0, min(1.0, self.quality / self.quality_max))


@fast_init
@dataclass(frozen=True, slots=True)
class Audio:
    """Slow (last reported) audio levels of a channel; live meters travel on the MeterBus."""

    rms_dbfs: float | None = None
    peak_dbfs: float | None = None


@fast_init
@dataclass(frozen=True, slots=True)
class Channel:
    """One receiver channel: a wireless link and what is known about it."""

    id: ChannelId
    number: int
    name: str | None = None
    performer: str | None = None
    groups: tuple[str, ...] = ()
    frequency_khz: int | None = None
    transmitter: Transmitter | None = None
    """``None`` when no transmitter is linked or it stopped reporting."""
    rf: Rf = field(default_factory=Rf)
    audio: Audio = field(default_factory=Audio)
    updated_at: datetime | None = None
    kind: ChannelKind = ChannelKind.MIC
    iem: Iem | None = None
    """The in-ear link of an ``IEM`` channel (``None`` on a mic channel, or before the
    transmitter has reported)."""


@fast_init
@dataclass(frozen=True, slots=True)
class ConnectionInfo:
    """Public state of the connection that feeds a receiver."""

    transport: Transport
    status: ConnectionStatus = ConnectionStatus.CONNECTING
    since: datetime | None = None
    reconnects: int = 0
    last_error: str | None = None


@fast_init
@dataclass(frozen=True, slots=True)
class Receiver:
    """A receiver (or base station) and its channels."""

    id: ReceiverId
    manufacturer: str
    api_device_id: str
    connection: ConnectionInfo
    model: str | None = None
    name: str | None = None
    ip: str | None = None
    serial: str | None = None
    firmware: str | None = None
    location: str | None = None
    online: bool = False
    last_seen: datetime | None = None
    channels: tuple[Channel, ...] = ()

    def channel(self, number: int) -> Channel | None:
        """Return channel ``number``, or ``None``."""
        for ch in self.channels:
            if ch.number == number:
                return ch
        return None


@fast_init
@dataclass(frozen=True, slots=True)
class ChargerBattery:
    """The pack sitting in one charger bay; each field independently unknown."""

    percent: int | None = None
    health_percent: int | None = None
    """State of health: the capacity left against a new pack."""
    cycles: int | None = None
    minutes_to_full: int | None = None


@fast_init
@dataclass(frozen=True, slots=True)
class ChargerBay:
    """One bay (CHG 70N) or slot (L 6000) of a charger."""

    number: int
    occupied: bool = False
    device_type: str | None = None
    """What sits in the bay as the charger names it (a transmitter or a bare pack)."""
    state: str | None = None
    """The bay's state in the charger's words ("charging", "full", "fault" ...)."""
    battery: ChargerBattery = field(default_factory=ChargerBattery)


ChargerId = NewType("ChargerId", str)
"""``"<manufacturer>:<api_device_id>"`` of a charger, unique across the app."""


@fast_init
@dataclass(frozen=True, slots=True)
class Charger:
    """A networked charger (Sennheiser CHG 70N, L 6000) and its bays."""

    id: ChargerId
    manufacturer: str
    api_device_id: str
    connection: ConnectionInfo
    model: str | None = None
    name: str | None = None
    ip: str | None = None
    online: bool = False
    last_seen: datetime | None = None
    bays: tuple[ChargerBay, ...] = ()


@fast_init
@dataclass(frozen=True, slots=True)
class Health:
    """Health of one manufacturer integration."""

    status: HealthStatus = HealthStatus.UNKNOWN
    message: str | None = None
    checked_at: datetime | None = None


@fast_init
@dataclass(frozen=True, slots=True)
class Manufacturer:
    """A configured manufacturer and its current health."""

    code: str
    name: str
    health: Health = field(default_factory=Health)


_compared_but_stamp = attrgetter(
    *(f.name for f in fields(Channel) if f.compare and f.name != "updated_at")
)


def restamped(built: Channel, old: Channel | None, now: datetime) -> Channel:
    """Return ``old`` if ``built`` differs only in ``updated_at``, else ``built`` stamped ``now``.

    An unchanged channel keeps its object and its time: views compare by identity, history
    by time. Every plugin stamps each channel it builds again, so this compares the fields
    but the stamp in one ``attrgetter`` instead of building a copy to compare (a property
    test holds it to the ``dataclasses.replace`` form), then stamps with ``core.fast_init``'s
    positional ``replace``.
    """
    if old is not None and (built is old or _compared_but_stamp(built) == _compared_but_stamp(old)):
        return old
    return replace(built, updated_at=now)


def receiver_id(manufacturer: str, api_device_id: str) -> ReceiverId:
    """Build the app-wide receiver id."""
    return ReceiverId(f"{manufacturer}:{api_device_id}")


def channel_id(receiver: ReceiverId, number: int) -> ChannelId:
    """Build the app-wide channel id."""
    return ChannelId(f"{receiver}:{number}")
