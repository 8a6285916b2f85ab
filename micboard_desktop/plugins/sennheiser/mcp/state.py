"""The live view of one MCP device: typed updates in, a Receiver out only on change.

An MCP device is one channel: an EM receiver (ew G3/G4/2000) or an SR in-ear transmitter
(IEM G4). MCP names no model (sennheiser.md §5): the family is inferred from the shape of
the cyclic attributes (``RF1``/``RF2``/``RF``/``Bat`` or a three-value ``AF`` on an EM, a
four-value ``AF`` on an SR), unless the configuration says it (family ``em`` or ``sr``).

Meter values (RF, audio, the SR inputs) are not in these snapshots: they go to the
MeterBus, and the engine's level folder owns those store fields (:func:`keep_meter_fields`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Final, Literal

from micboard_desktop.plugins.api import (
    Battery,
    Channel,
    ChannelKind,
    ConnectionInfo,
    Iem,
    IemMode,
    Receiver,
    Transmitter,
    Transport,
    channel_id,
    receiver_id,
    replace,
)
from micboard_desktop.plugins.sennheiser.mcp.mapping import (
    Antenna,
    Bat,
    EmAudio,
    RfNow,
    Setting,
    SrAudio,
    States,
    Update,
    Warnings,
)

MANUFACTURER: Final = "sennheiser"
Family = Literal["em", "sr"]
MODELS: Final[dict[Family, str]] = {"em": "EM G3/G4", "sr": "SR IEM G4"}
"""What the board calls each family (MCP reports no model name)."""


def family_of(update: Update) -> Family | None:
    """Return the family an update's shape proves, if any."""
    if isinstance(update, SrAudio):
        return "sr"
    if isinstance(update, EmAudio | Bat | Antenna | RfNow):
        return "em"
    return None


def keep_meter_fields(new: Receiver, current: Receiver | None) -> Receiver:
    """Return ``new`` with the store fields the level folder owns taken from ``current``."""
    if current is None or not current.channels or not new.channels:
        return new
    old, ch = current.channels[0], new.channels[0]
    rf = replace(ch.rf, rssi_dbm=old.rf.rssi_dbm, antenna=old.rf.antenna)
    iem = ch.iem
    if iem is not None and old.iem is not None:
        iem = replace(iem, left_dbfs=old.iem.left_dbfs, right_dbfs=old.iem.right_dbfs)
    kept = replace(ch, rf=rf, audio=old.audio, iem=iem)
    if kept == ch:
        return new
    return replace(new, channels=(kept,))


class McpState:
    """Fold an MCP device's slow values into a Receiver (see module docstring)."""

    def __init__(
        self, key: str, *, host: str, label: str | None = None, family: Family | None = None
    ) -> None:
        self.id = receiver_id(MANUFACTURER, key)
        self.api_device_id = key
        self.host = host
        self.label = label
        self.family: Family | None = family
        self.channel_id = channel_id(self.id, 1)
        self.config_index: int | None = None
        self._values: dict[str, object] = {}
        self._connection = ConnectionInfo(transport=Transport.UDP)
        self._online = False
        self._last_data: datetime | None = None
        self._last: Receiver | None = None
        self._dirty = True

    @property
    def current(self) -> Receiver | None:
        """Return the last receiver built."""
        return self._last

    @property
    def changed(self) -> bool:
        """Return True when :meth:`snapshot` has something to look at (cheap test)."""
        return self._dirty

    def known(self, key: str) -> bool:
        """Return True once the device answered ``key`` (even with an unusable value)."""
        return key in self._values

    def value(self, key: str) -> object:
        """Return one slow value (``None`` when not known)."""
        return self._values.get(key)

    def _put(self, key: str, value: object) -> None:
        if self._values.get(key, None) != value or key not in self._values:
            self._values[key] = value
            self._dirty = True

    def apply(self, update: Update) -> None:
        """Take one slow value (meter-only updates change nothing here)."""
        if self.family is None:
            family = family_of(update)
            if family is not None:
                self.family = family
                self._dirty = True
        if isinstance(update, Setting):
            self._put(update.key, update.value)
        elif isinstance(update, Bat):
            self._put("battery", update.percent if update.present else "none")
        elif isinstance(update, Warnings):
            self._put("warnings", update.words)
        elif isinstance(update, EmAudio) and update.mute_bits is not None:
            self._put("af_tx_mute", bool(update.mute_bits & 2))
        elif isinstance(update, States) and self.family == "sr" and update.first is not None:
            self._put("rf_mute_now", update.first == 1)  # SR: States <rfmute_now> (§4.4)

    def set_connection(
        self, connection: ConnectionInfo, *, online: bool, last_data: datetime | None = None
    ) -> None:
        """Record the connection's public state; offline keeps the last values.

        ``last_data`` (the last datagram) becomes ``last_seen`` while offline, the age the
        board shows beside the last values (core/liveness.py).
        """
        if connection != self._connection or online != self._online:
            self._dirty = True
        self._connection = connection
        self._online = online
        if not online and last_data is not None:
            self._last_data = last_data

    def _transmitter(self) -> Transmitter | None:
        battery = self._values.get("battery")
        if battery == "none" or "battery" not in self._values:
            return None  # ``Bat ?``: no battery telegram, the pack is off (§7)
        percent = battery if isinstance(battery, int) else None
        words = self._values.get("warnings")
        if isinstance(words, frozenset):
            muted: bool | None = "TX_Mute" in words
        else:
            af = self._values.get("af_tx_mute")
            muted = af if isinstance(af, bool) else None
        return Transmitter(battery=Battery(percent=percent), muted=muted)

    def _iem(self) -> Iem:
        rf_muted = self._values.get("rf_mute_now")
        if not isinstance(rf_muted, bool):
            words = self._values.get("warnings")
            mute = self._values.get("Mute")
            if isinstance(mute, bool):
                rf_muted = mute  # SR config ``Mute`` is the RF mute (§4.4)
            elif isinstance(words, frozenset):
                rf_muted = "RF_Mute" in words
            else:
                rf_muted = None
        mode = self._values.get("Mode")
        return Iem(
            rf_muted=rf_muted,
            mode=None if not isinstance(mode, bool) else (IemMode.STEREO if mode else IemMode.MONO),
        )

    def _channel(self) -> Channel | None:
        if self.family is None:
            return None
        name = self._values.get("Name")
        freq = self._values.get("Frequency")
        common = {
            "id": self.channel_id,
            "number": 1,
            "name": name if isinstance(name, str) else None,
            "frequency_khz": freq if isinstance(freq, int) else None,
        }
        if self.family == "sr":
            return Channel(**common, kind=ChannelKind.IEM, iem=self._iem())  # type: ignore[arg-type]
        return Channel(**common, transmitter=self._transmitter())  # type: ignore[arg-type]

    @staticmethod
    def _seen(last: Receiver | None) -> datetime | None:
        return None if last is None else last.last_seen

    def snapshot(self, now: datetime) -> Receiver | None:
        """Return a new Receiver when anything visible changed since the last call, else None."""
        if not self._dirty:
            return None
        self._dirty = False
        last = self._last
        channel = self._channel()
        if channel is not None and last is not None and last.channels:
            old = last.channels[0]
            if replace(channel, updated_at=old.updated_at) == old:
                channel = old
            else:
                channel = replace(channel, updated_at=now)
        elif channel is not None:
            channel = replace(channel, updated_at=now)
        channels = () if channel is None else (channel,)
        model = None if self.family is None else MODELS[self.family]
        if (
            last is not None
            and (self._connection, model, self._online)
            == (last.connection, last.model, last.online)
            and all(a is b for a, b in zip(channels, last.channels, strict=False))
            and len(channels) == len(last.channels)
        ):
            return None
        self._last = Receiver(
            id=self.id,
            manufacturer=MANUFACTURER,
            api_device_id=self.api_device_id,
            connection=self._connection,
            model=model,
            name=self.label,
            ip=self.host,
            online=self._online,
            channels=channels,
            last_seen=now if self._online else (self._last_data or self._seen(last)),
        )
        return self._last
