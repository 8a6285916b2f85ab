"""One SSCv1 device's values, and the Receiver (or Charger) built from them on a visible change.

Values are kept by address exactly as the device last sent them; a 424 (no transmitter,
sennheiser.md §3.3) drops the values under that ``/mates/txn`` and marks the transmitter
absent until a value arrives there again. Link quality comes from the meter stream and is
moved in at most once a second, and only when it moved by :data:`QUALITY_STEP` percent or
more, so a wobbling meter is not a store update per second per channel. A charger (CHG 70N,
L 6000) is never a receiver: :meth:`Ssc1State.charger_snapshot` builds its Charger instead.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from micboard_desktop.plugins.api import (
    Battery,
    Channel,
    Charger,
    ChargerId,
    ConnectionInfo,
    Receiver,
    ReceiverId,
    Rf,
    Transmitter,
    Transport,
    channel_id,
    receiver_id,
    replace,
    restamped,
    sentinels,
)
from micboard_desktop.plugins.sennheiser.ssc1 import chargers, mapping
from micboard_desktop.plugins.sennheiser.ssc1.frames import NO_TRANSMITTER, NOT_FOUND, Path

MANUFACTURER: Final = "sennheiser"
QUALITY_STEP: Final = 3.0
"""Percent a link quality must move before the store hears of it (a meter wobbles)."""


def _tx_number(path: Path) -> int | None:
    """Return n of an address under ``/mates/txn``, else ``None``."""
    if len(path) >= 2 and path[0] == "mates" and path[1].startswith("tx"):
        n = sentinels.parse_int(path[1][2:])
        if n is not None and 1 <= n <= mapping.MAX_CHANNELS:
            return n
    return None


def _rx_number(path: Path) -> int | None:
    if path and path[0].startswith("rx"):
        n = sentinels.parse_int(path[0][2:])
        if n is not None and 1 <= n <= mapping.MAX_CHANNELS:
            return n
    return None


class Ssc1State:
    """Everything one SSCv1 device said, and its Receiver snapshot (see module docstring)."""

    def __init__(self, key: str, *, host: str, label: str | None = None) -> None:
        self.key = key
        self.host = host
        self.label = label
        self.rid: ReceiverId = receiver_id(MANUFACTURER, key)
        self.values: dict[Path, Any] = {}
        self.absent: set[int] = set()
        """Channels whose transmitter answered 424."""
        self.missing: set[int] = set()
        """Channels whose ``rxn`` the device does not have (404)."""
        self.family: mapping.Family | None = None
        self.product: str | None = None
        self.channel_count = 0
        self.quality: dict[int, float | None] = {}
        self._pending_quality: dict[int, float | None] = {}
        self.online = False
        self.connection = ConnectionInfo(transport=Transport.UDP)
        self.last_seen: datetime | None = None
        self.changed = True
        self._last: Receiver | None = None
        self._last_charger: Charger | None = None
        self.flat_accu = False
        """An L 6000 refused ``/slotN/subslotM/accu_parameter``: the top-level form is asked."""

    @property
    def is_charger(self) -> bool:
        """Return True once the product named a charger (CHG 70N, L 6000)."""
        return self.family in mapping.CHARGER_FAMILIES

    @property
    def charger_id(self) -> ChargerId:
        """Return the charger's id: ``sennheiser:ssc1:HOST:PORT``, like an SSCv1 receiver's."""
        return ChargerId(self.rid)

    # -- input ----------------------------------------------------------------------

    def set_identity(self, product: str | None) -> bool:
        """Learn the product; return True when it names a family we speak (first time only)."""
        family = mapping.family_of(product)
        if family is None or product is None:
            return False
        if family != self.family or product != self.product:
            self.family, self.product = family, product
            self.channel_count = mapping.channel_count(family, product)
            self.changed = True
        return True

    def apply(self, path: Path, value: Any) -> None:
        """Keep one value (a list is one value); a value under ``/mates/txn`` means it is there."""
        if self.values.get(path, _MISSING) == value:
            return
        self.values[path] = value
        n = _tx_number(path)
        if n is not None:
            self.absent.discard(n)
        rx = _rx_number(path)
        if rx is not None:
            self.missing.discard(rx)
        if path == ("device", "identity", "product"):
            self.set_identity(mapping.text(value))
        self.changed = True

    def apply_error(self, path: Path, code: int) -> None:
        """Take an error answer at ``path``: 424 → no transmitter, 404 on ``rxn`` → no channel."""
        if code in NOT_FOUND and self.family == "l6000" and chargers.is_subslot_accu(path):
            if not self.flat_accu:
                self.flat_accu = True
                self.changed = True
            return
        n = _tx_number(path)
        if code == NO_TRANSMITTER and n is not None:
            if n not in self.absent:
                self.absent.add(n)
                prefix = ("mates", f"tx{n}")
                for key in [k for k in self.values if k[:2] == prefix]:
                    del self.values[key]
                self.changed = True
            return
        rx = _rx_number(path)
        is_name = len(path) >= 2 and path[1] == "name"
        if self.family not in ("ewdx", "d6000"):
            return  # SpeechLine's rxN addresses are not in the reference: its product counts
        if code in NOT_FOUND and rx is not None and is_name and rx not in self.missing:
            self.missing.add(rx)
            self.changed = True

    def note_quality(self, channel: int, quality: float | None) -> None:
        """Remember a meter's link quality; :meth:`fold_quality` moves it in."""
        self._pending_quality[channel] = quality

    def fold_quality(self) -> None:
        """Move pending link qualities in when they moved enough (or appeared, or vanished)."""
        top = mapping.quality_max(self.family) if self.family else None
        if not self._pending_quality or not top:
            return
        for channel, new in self._pending_quality.items():
            old = self.quality.get(channel)
            if old == new:
                continue
            if old is not None and new is not None and abs(new - old) * 100 / top < QUALITY_STEP:
                continue
            self.quality[channel] = new
            self.changed = True
        self._pending_quality.clear()

    def set_connection(
        self, info: ConnectionInfo, *, online: bool, last_data: datetime | None
    ) -> None:
        """Mirror the connection; on link loss ``last_seen`` is the last datagram's time."""
        if online != self.online or info != self.connection:
            self.online = online
            self.connection = info
            if not online and last_data is not None:
                self.last_seen = last_data
            self.changed = True

    # -- output ---------------------------------------------------------------------

    def channel_numbers(self) -> list[int]:
        """Return the channels the device has (all of its product's, minus any 404)."""
        return [n for n in range(1, self.channel_count + 1) if n not in self.missing]

    def _channel(self, n: int, rid: ReceiverId) -> Channel:
        family = self.family
        assert family is not None
        values = self.values
        tx = None if n in self.absent else mapping.transmitter(family, values, n)
        rx_muted = mapping.receiver_muted(family, values, n)
        transmitter = None
        if tx is not None:
            muted = tx.muted
            if rx_muted is not None:
                muted = bool(muted) or rx_muted
            transmitter = Transmitter(
                model=tx.model,
                battery=Battery(
                    bars=tx.bars, percent=tx.percent, minutes=tx.minutes, type=tx.battery_type
                ),
                muted=muted,
            )
        top = mapping.quality_max(family)
        quality = self.quality.get(n) if transmitter is not None else None
        return Channel(
            id=channel_id(rid, n),
            number=n,
            name=mapping.channel_name(values, n),
            frequency_khz=mapping.frequency(family, values, n),
            transmitter=transmitter,
            rf=Rf(quality=quality, quality_max=top),
        )

    def snapshot(self, now: datetime, rid: ReceiverId | None = None) -> Receiver | None:
        """Return the receiver when something visible changed since the last one, else ``None``."""
        if not self.changed or self.family is None or self.is_charger:
            return None
        self.changed = False
        rid = rid or self.rid
        old = {ch.number: ch for ch in self._last.channels} if self._last else {}
        channels = []
        for n in self.channel_numbers():
            channels.append(restamped(self._channel(n, rid), old.get(n), now))
        values = self.values
        last = self._last
        # Built with the last snapshot's last_seen, so "nothing visible changed" is one
        # comparison; stamped with its own last_seen only when it is news.
        receiver = Receiver(
            id=rid,
            manufacturer=MANUFACTURER,
            api_device_id=self.key,
            connection=self.connection,
            model=self.product,
            name=mapping.text(values.get(("device", "name"))) or self.label,
            ip=self.host,
            serial=mapping.text(values.get(("device", "identity", "serial"))),
            firmware=mapping.text(values.get(("device", "identity", "version"))),
            location=mapping.text(values.get(("device", "location"))),
            online=self.online,
            last_seen=None if last is None else last.last_seen,
            channels=tuple(channels),
        )
        if last is not None and receiver == last:
            return None
        receiver = replace(receiver, last_seen=now if self.online else self.last_seen)
        self._last = receiver
        if self.online:
            self.last_seen = now
        return receiver

    def charger_snapshot(self, now: datetime) -> Charger | None:
        """Return the charger when something visible changed since the last one, else ``None``."""
        if not self.changed or not self.is_charger or self.family is None:
            return None
        self.changed = False
        values = self.values
        charger = Charger(
            id=self.charger_id,
            manufacturer=MANUFACTURER,
            api_device_id=self.key,
            connection=self.connection,
            model=self.product,
            name=mapping.text(values.get(("device", "name"))) or self.label,
            ip=self.host,
            online=self.online,
            last_seen=now if self.online else self.last_seen,
            bays=chargers.bays(self.family, values),
        )
        last = self._last_charger
        if last is not None and replace(charger, last_seen=last.last_seen) == last:
            return None
        self._last_charger = charger
        if self.online:
            self.last_seen = now
        return charger


_MISSING: Final = object()
