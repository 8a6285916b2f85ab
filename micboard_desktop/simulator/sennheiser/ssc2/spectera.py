"""The Spectera base-station SSCv2 resource tree (paths as the Companion module subscribes them).

Every path of the Companion module's subscription list is declared, so a client that adds
all 19 in one ``/add`` succeeds. Field names and sentinels (``-1`` = "Off") follow the
reference (§2.1). How the rig maps onto a wideband base station is this simulator's choice
[INF]:

* Each rig channel with a transmitter is one paired mobile device,
  ``/api/mts/paired/all/{mtUid}`` with ``mtUid`` = the channel number. Unlinking the
  transmitter removes the item (notified as ``null``); switching it off keeps it paired
  with ``state`` ``Disconnected`` and battery fields ``-1``.
* The base station has two RF channels; every mobile device rides RF channel 0 (wideband),
  whose frequency is that of the first rig channel. RF channel 1 is idle (``RfMuted``,
  474000 kHz until written). Writing RF channel 0's frequency (10000-10000000 kHz in 1000 kHz steps,
  else 422) retunes every rig channel.
* ``micLqi`` is the rig quality (0-4); ``rssi`` the strongest antenna in dBm (-120 without
  a carrier); ``dominantAntenna`` ``a``/``b``; ``interference.severity`` ``High`` or ``None``.
  Mobile devices are meters: RSSI changes continuously, so they are sampled on the meter
  clock like ``/api/audio/metering`` (per-channel audio on the Dante outputs ``aoIpOut``).
* Mobile-device writes must carry a ``type`` equal to the device's (400 otherwise); only
  ``name`` (at most 32 characters [INF]) is writable. No mute field is known, so the rig's
  transmitter mute is not shown.
* Audio interface status bodies are ``{"state": "Ok"}`` and antennas ``a``/``b`` are
  ``Connected`` [INF].
* A SEK whose rig channel has ``iem_link`` also receives an in-ear mix: ``iemAudiolinkId``
  ``IEM_LINK_BASE`` + the channel number (``iemAudiolinkActive`` while it is on, ``iemLqi``
  the rig quality), an audio link of that id and an AoIp audio input ``{name} Mix`` feeding
  it. RF channel 0's ``txPower`` and ``rfState`` follow its first rider's ``rf_power_mw``
  and ``rf_muted`` (announced as ``iem_rf``).
"""

from __future__ import annotations

import functools
import zlib

from micboard_desktop.simulator.faults import FaultSwitches
from micboard_desktop.simulator.rig import Rig, SimChannel, SimReceiver
from micboard_desktop.simulator.sennheiser.ssc2.resources import (
    Json,
    JsonObject,
    ResourceTree,
    SscError,
    fields,
    serial_of,
    text,
)

RF_CHANNELS = 2
WIDEBAND_RF_CHANNEL = 0
"""The RF channel every mobile device rides."""
FREQUENCY_MIN_KHZ = 10_000
FREQUENCY_MAX_KHZ = 10_000_000
FREQUENCY_STEP_KHZ = 1_000
DEFAULT_FREQUENCY_KHZ = 474_000
NAME_MAX = 32
NO_CARRIER_DBM = -120.0
LOW_BATTERY_PERCENT = 20
ANTENNAS = ("a", "b")
INTERFACES = ("aoip", "madi1", "madi2", "wordclock")
IEM_LINK_BASE = 100
"""IEM audio link ids are this plus the channel number (mic links use the number) [INF]."""
METER_KEYS = ("madi1In", "madi2In", "aoIpIn", "madi1Out", "madi2Out", "aoIpOut")


def _mt_type(model: str) -> str:
    upper = model.upper()
    if "SKM" in upper:
        return "SKM"
    return "SEK" if "SEK" in upper or upper.startswith("SK") else "Unknown"


def _has_iem(ch: SimChannel) -> bool:
    """True when the channel's SEK has an IEM audio link assigned."""
    tx = ch.transmitter
    return ch.iem_link and tx is not None and _mt_type(tx.model) == "SEK"


class SpecteraTree(ResourceTree):
    """Resources of a Spectera base station."""

    default_username = "controlSennheiser"

    def __init__(
        self, rig: Rig, receiver: SimReceiver, faults: FaultSwitches | None = None
    ) -> None:
        # Set before the base class registers resources that read them.
        self._meter_counter = 0
        self._idle_khz: dict[int, int] = {}  # tuning of RF channels no device rides
        self._last_meters: Json = None
        super().__init__(rig, receiver, faults)

    def version(self) -> JsonObject:
        """Return the version body with the schema the Companion module expects (18.1)."""
        return {"protocol": "2.3", "schema": "18.1", "schemaDetailed": "18.1.0"}

    def register(self) -> None:
        """Register RF, mobile-device, audio and health resources."""
        channels = self.receiver.channels
        self.add_collection("/api/rf/channels", lambda: [str(i) for i in range(RF_CHANNELS)])
        for rf_id in range(RF_CHANNELS):
            self._register_rf(rf_id)
        self.add_collection("/api/rf/antennas", lambda: list(ANTENNAS))
        for port in ANTENNAS:
            self.add(f"/api/rf/antennas/{port}", functools.partial(self._antenna, port))
        self.add_collection("/api/mts/paired/all", self._paired_ids, fast=True)
        self.add_collection("/api/audio/links", self._link_ids)
        self.add_collection("/api/audio/outputs", lambda: [str(ch.number) for ch in channels])
        self.add_collection("/api/audio/inputs", self._input_ids)
        for ch in channels:
            self._register_channel(ch)
        self.add("/api/audio/metering", self._metering, fast=True)
        self.add("/api/health/psu", lambda: {"psu1": "connected", "psu2": "unconnected"})
        self.add("/api/health/tempstateoverall", lambda: {"value": "Normal"})
        for fan in (1, 2, 3):
            self.add(
                f"/api/health/fan/FAN_{fan}/errorstate", lambda: {"errorState": {"value": False}}
            )
        for interface in INTERFACES:
            self.add(f"/api/audio/interface/{interface}/status", lambda: {"state": "Ok"})

    def _paired_ids(self) -> list[str]:
        return [str(ch.number) for ch in self.receiver.channels if ch.transmitter is not None]

    def _iem_channels(self) -> list[SimChannel]:
        return [ch for ch in self.receiver.channels if _has_iem(ch)]

    def _link_ids(self) -> list[str]:
        iems = [str(IEM_LINK_BASE + ch.number) for ch in self._iem_channels()]
        return [*self._paired_ids(), *iems]

    def _input_ids(self) -> list[str]:
        return [str(ch.number) for ch in self._iem_channels()]

    def _on_rf(self, rf_id: int) -> list[SimChannel]:
        return list(self.receiver.channels) if rf_id == WIDEBAND_RF_CHANNEL else []

    def _register_rf(self, rf_id: int) -> None:
        path = f"/api/rf/channels/{rf_id}"
        self.add(path, lambda: self._rf(rf_id), lambda body: self._put_rf(path, rf_id, body))

    def _register_channel(self, ch: SimChannel) -> None:
        mobile = f"/api/mts/paired/all/{ch.number}"
        self.add(
            mobile,
            lambda: self._mobile(ch),
            lambda body: self._put_mobile(mobile, ch, body),
            fast=True,
        )
        self.add(f"/api/audio/links/{ch.number}", lambda: self._link(ch))
        self.add(f"/api/audio/links/{IEM_LINK_BASE + ch.number}", lambda: self._iem_link(ch))
        self.add(f"/api/audio/inputs/{ch.number}", lambda: self._input(ch))
        self.add(
            f"/api/audio/outputs/{ch.number}",
            lambda: {
                "outputId": ch.number,
                "micAudiolinkId": ch.number if ch.transmitter is not None else -1,
            },
        )

    # --- bodies -----------------------------------------------------------------------------

    def _rf(self, rf_id: int) -> Json:
        riders = self._on_rf(rf_id)
        return {
            "rfChannelId": rf_id,
            "frequency": riders[0].frequency_khz
            if riders
            else self._idle_khz.get(rf_id, DEFAULT_FREQUENCY_KHZ),
            "txPower": riders[0].rf_power_mw if riders else 50,
            "bandwidthMode": 8000,
            "rfState": "RfActive" if riders and not riders[0].rf_muted else "RfMuted",
            "rfStateOnStartup": "RfLastState",
            "rfRestrictionViolation": False,
        }

    def _antenna(self, port: str) -> Json:
        disturbed = any(ch.interference for ch in self.receiver.channels)
        return {
            "antennaPortId": port,
            "state": "Connected",
            "type": "DAD",
            "temperature": 41,
            "warningHighTemperature": False,
            "warningPacketError": False,
            "interference": {"severity": "High" if disturbed else "None"},
        }

    def _mobile(self, ch: SimChannel) -> Json:
        tx = ch.transmitter
        if tx is None:
            return None
        on = tx.on
        antenna = ch.active_antenna
        dominant = ANTENNAS[antenna] if antenna is not None and antenna < 2 else "NotAvailable"
        return {
            "mtUid": ch.number,
            "type": _mt_type(tx.model),
            "serial": f"{zlib.crc32(serial_of(self.receiver).encode()) % 10**8:08d}{ch.number:02d}",
            "name": ch.name,
            "state": "Connected" if on else "Disconnected",
            "batteryFillLevel": round(tx.battery_percent) if on else -1,
            "batteryRuntime": tx.battery_minutes if on and tx.battery_minutes is not None else -1,
            "batteryLow": on and tx.battery_percent < LOW_BATTERY_PERCENT,
            "rssi": round(max(ch.rssi_dbm), 1) if on and ch.rssi_dbm else NO_CARRIER_DBM,
            "micLqi": ch.quality if on else 0,
            "iemLqi": ch.quality if on and _has_iem(ch) else 0,
            "dominantAntenna": dominant,
            "interference": {"severity": "High" if ch.interference else "None"},
            "rfChannelId": WIDEBAND_RF_CHANNEL,
            "micAudiolinkId": ch.number,
            "iemAudiolinkId": IEM_LINK_BASE + ch.number if _has_iem(ch) else -1,
            "micAudiolinkActive": on,
            "iemAudiolinkActive": on and _has_iem(ch),
            "version": "1.4.1",
            "versionMismatch": False,
        }

    @staticmethod
    def _link(ch: SimChannel) -> Json:
        if ch.transmitter is None:
            return None
        return {"audiolinkId": ch.number, "rfChannelId": WIDEBAND_RF_CHANNEL, "modeId": 1}

    @staticmethod
    def _iem_link(ch: SimChannel) -> Json:
        if not _has_iem(ch):
            return None
        link = IEM_LINK_BASE + ch.number
        return {"audiolinkId": link, "rfChannelId": WIDEBAND_RF_CHANNEL, "modeId": 1}

    @staticmethod
    def _input(ch: SimChannel) -> Json:
        if not _has_iem(ch):
            return None
        return {
            "inputId": ch.number,
            "iemAudiolinkId": IEM_LINK_BASE + ch.number,
            "inputSource": "AoIp",
            "name": f"{ch.name} Mix"[:NAME_MAX],
        }

    def _metering(self) -> Json:
        channels = self.receiver.channels
        out: JsonObject = {
            "peak": [round(ch.audio_peak_dbfs, 1) for ch in channels],
            "rms": [round(ch.audio_rms_dbfs, 1) for ch in channels],
        }
        meters: JsonObject = {key: {"peak": [], "rms": []} for key in METER_KEYS}
        meters["aoIpOut"] = out
        # The counter moves only when a value moved, so a quiet rig stays quiet on the wire.
        if meters != self._last_meters:
            self._last_meters = meters
            self._meter_counter += 1
        return {**meters, "updateCounter": self._meter_counter}

    # --- writes -----------------------------------------------------------------------------

    def _put_rf(self, path: str, rf_id: int, body: JsonObject) -> None:
        fields(path, body, {"frequency": int})
        frequency = body["frequency"]
        assert isinstance(frequency, int)  # checked by fields()
        if (
            not FREQUENCY_MIN_KHZ <= frequency <= FREQUENCY_MAX_KHZ
            or frequency % FREQUENCY_STEP_KHZ
        ):
            raise SscError(422, path)
        self._idle_khz[rf_id] = frequency
        for ch in self._on_rf(rf_id):
            if ch.frequency_khz != frequency:
                ch.frequency_khz = frequency
                self.rig.changed(self.receiver, ch, "frequency")

    def _put_mobile(self, path: str, ch: SimChannel, body: JsonObject) -> None:
        tx = ch.transmitter
        if tx is None:
            raise SscError(404, path)
        fields(path, body, {"name": str, "type": str, "mtUid": int})
        if body.get("type") != _mt_type(tx.model) or body.get("mtUid", ch.number) != ch.number:
            raise SscError(400, path)
        if "name" in body:
            name = text(path, body["name"], NAME_MAX)
            if name != ch.name:
                ch.name = name
                self.rig.changed(self.receiver, ch, "channel_name")
