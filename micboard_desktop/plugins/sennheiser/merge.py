"""SennheiserMerger: an EW-DX configured over SSCv2 and SSCv1 is one receiver.

EW-DX speaks SSCv2 (names, battery, quality) and, in its "Legacy" mode, SSCv1 (RF in dBm,
active antenna; sennheiser.md §0, §3.5). The SSCv2 tree has no RF level (§2.3), so a tile
fed by SSCv2 alone shows "RF —". When both views of one device are configured, the SSCv2
receiver stays the one on the board and the SSCv1 view fills what it lacks:

* Matching: the same serial (``/device/identity/serial`` = ``identity.serial``); when a
  serial is missing on either side, the same IP with exactly one candidate on each side.
* SSCv2 owns every field it has; SSCv1 fills a missing quality, frequency and battery
  minutes/type, and its meters (RSSI, antenna, audio) are posted under the SSCv2
  receiver's channel ids, so the engine's level folder puts them on the same tile.
* While the SSCv1 link is down its RF is dropped from the merged receiver ("RF —" again),
  never left standing as if it were current.

Everything else (D6000, SpeechLine, an unmatched EW-DX) passes through unchanged.
"""

from __future__ import annotations

from collections.abc import Callable

from micboard_desktop.plugins.api import (
    Channel,
    Charger,
    ChargerId,
    ConnectionState,
    DeviceSink,
    Receiver,
    ReceiverId,
    replace,
)

Retarget = Callable[[ReceiverId | None], None]
"""Tell an SSCv1 coordinator under which receiver's channels to post its meters."""


def fill_channel(primary: Channel, extra: Channel) -> Channel:
    """Return ``primary`` (SSCv2) with what only ``extra`` (SSCv1) knows filled in."""
    rf = primary.rf
    if rf.quality is None and extra.rf.quality is not None:
        rf = replace(rf, quality=extra.rf.quality, quality_max=extra.rf.quality_max)
    tx = primary.transmitter
    if tx is not None and extra.transmitter is not None:
        battery = tx.battery
        more = extra.transmitter.battery
        if battery.minutes is None and more.minutes is not None:
            battery = replace(battery, minutes=more.minutes)
        if battery.type is None and more.type is not None:
            battery = replace(battery, type=more.type)
        tx = replace(tx, battery=battery)
    return replace(
        primary,
        rf=rf,
        frequency_khz=primary.frequency_khz or extra.frequency_khz,
        transmitter=tx,
    )


def merge_receiver(primary: Receiver, extra: Receiver) -> Receiver:
    """Return the SSCv2 receiver with the SSCv1 view's values filled in (extra online only)."""
    if not extra.online:
        return primary
    by_number = {ch.number: ch for ch in extra.channels}
    channels = tuple(
        fill_channel(ch, by_number[ch.number]) if ch.number in by_number else ch
        for ch in primary.channels
    )
    return replace(primary, channels=channels)


def keep_meter_fields(new: Receiver, current: Receiver | None) -> Receiver:
    """Return ``new`` with RSSI, antenna and audio kept from the store (the level folder's)."""
    if current is None:
        return new
    before = {ch.number: ch for ch in current.channels}
    channels = []
    for ch in new.channels:
        old = before.get(ch.number)
        if old is None:
            channels.append(ch)
        else:
            rf = replace(ch.rf, rssi_dbm=old.rf.rssi_dbm, antenna=old.rf.antenna)
            channels.append(replace(ch, rf=rf, audio=old.audio))
    return replace(new, channels=tuple(channels))


class _Ssc2Sink:
    """The DeviceSink SSCv2 coordinators get: receivers go through the merger."""

    def __init__(self, merger: SennheiserMerger) -> None:
        self._merger = merger

    def put_receiver(self, receiver: Receiver) -> None:
        """Hand an SSCv2 snapshot to the merger."""
        self._merger.ssc2_receiver(receiver)

    def update_receiver(
        self, rid: ReceiverId, update: Callable[[Receiver | None], Receiver | None]
    ) -> None:
        """Pass a functional update through."""
        self._merger.sink.update_receiver(rid, update)

    def remove_receiver(self, rid: ReceiverId) -> None:
        """Forget a receiver."""
        self._merger.forget(rid)

    def connection_state(self, state: ConnectionState) -> None:
        """Pass a connection state through."""
        self._merger.sink.connection_state(state)

    def put_charger(self, charger: Charger) -> None:
        """Pass a charger through (chargers are never merged)."""
        self._merger.sink.put_charger(charger)

    def remove_charger(self, cid: ChargerId) -> None:
        """Pass a charger removal through."""
        self._merger.sink.remove_charger(cid)


class _Ssc1Sink(_Ssc2Sink):
    """The DeviceSink SSCv1 coordinators get.

    They deliver ``update_receiver(rid, keep_meter_fields(snapshot, ·))``; applied to
    ``None`` that is the snapshot itself, which is what the merger keeps.
    """

    def put_receiver(self, receiver: Receiver) -> None:
        """Hand an SSCv1 snapshot to the merger."""
        self._merger.ssc1_receiver(receiver)

    def update_receiver(
        self, rid: ReceiverId, update: Callable[[Receiver | None], Receiver | None]
    ) -> None:
        """Take the snapshot out of the update and hand it to the merger."""
        receiver = update(None)
        if receiver is not None:
            self._merger.ssc1_receiver(receiver)


class SennheiserMerger:
    """Join the SSCv2 and SSCv1 views of one EW-DX (see module docstring)."""

    def __init__(self, sink: DeviceSink) -> None:
        self.sink = sink
        self.ssc2_sink = _Ssc2Sink(self)
        """Give this to SSCv2 coordinators."""
        self.ssc1_sink = _Ssc1Sink(self)
        """Give this to SSCv1 coordinators."""
        self._v2: dict[ReceiverId, Receiver] = {}
        self._v1: dict[ReceiverId, Receiver] = {}
        self._links: dict[ReceiverId, ReceiverId] = {}
        """SSCv1 receiver id → the SSCv2 receiver it fills."""
        self._shown_v1: set[ReceiverId] = set()
        self._retarget: dict[ReceiverId, Retarget] = {}

    def register(self, rid: ReceiverId, retarget: Retarget) -> None:
        """Know how to move an SSCv1 coordinator's meters (called once per coordinator)."""
        self._retarget[rid] = retarget

    def linked(self, rid: ReceiverId) -> ReceiverId | None:
        """Return the SSCv2 receiver an SSCv1 receiver fills, or ``None``."""
        return self._links.get(rid)

    # -- input -------------------------------------------------------------------------

    def ssc2_receiver(self, receiver: Receiver) -> None:
        """Take an SSCv2 snapshot."""
        before = self._v2.get(receiver.id)
        self._v2[receiver.id] = receiver
        # Matching reads only the serial and IP of an SSCv2 receiver; a snapshot that keeps
        # both (a quality or battery change, several a second on a big rig) links the same.
        if before is None or before.serial != receiver.serial or before.ip != receiver.ip:
            self._relink()
        self._emit_v2(receiver.id)

    def ssc1_receiver(self, receiver: Receiver) -> None:
        """Take an SSCv1 snapshot."""
        self._v1[receiver.id] = receiver
        self._relink()
        target = self._links.get(receiver.id)
        if target is not None:
            self._emit_v2(target)
        else:
            self._emit_v1(receiver.id)

    def forget(self, rid: ReceiverId) -> None:
        """Drop everything known about ``rid`` (either side) and remove it from the store."""
        self._v2.pop(rid, None)
        self._v1.pop(rid, None)
        self._retarget.pop(rid, None)
        self._shown_v1.discard(rid)
        self.sink.remove_receiver(rid)
        self._relink()

    # -- matching ----------------------------------------------------------------------

    def _match(self, v1: Receiver) -> ReceiverId | None:
        if v1.model is None or "6000" in v1.model:
            return None  # Digital 6000 has no SSCv2 view
        if v1.serial is not None:
            for v2 in self._v2.values():
                if v2.serial == v1.serial:
                    return v2.id
        same_ip = [v2 for v2 in self._v2.values() if v2.ip == v1.ip and v2.serial is None]
        rivals = [r for r in self._v1.values() if r.ip == v1.ip]
        if len(same_ip) == 1 and len(rivals) == 1:
            return same_ip[0].id
        return None

    def _relink(self) -> None:
        links: dict[ReceiverId, ReceiverId] = {}
        for rid, v1 in self._v1.items():
            target = self._match(v1)
            if target is not None and target not in links.values():
                links[rid] = target
        if links == self._links:
            return
        before, self._links = self._links, links
        for rid in set(before) | set(links):
            if before.get(rid) == links.get(rid):
                continue
            retarget = self._retarget.get(rid)
            if retarget is not None:
                retarget(links.get(rid))
            if rid in links and rid in self._shown_v1:
                self._shown_v1.discard(rid)
                self.sink.remove_receiver(rid)  # one device, one receiver on the board
            elif rid not in links:
                self._emit_v1(rid)
        for target in set(before.values()) | set(links.values()):
            self._emit_v2(target)

    # -- output ------------------------------------------------------------------------

    def _emit_v1(self, rid: ReceiverId) -> None:
        receiver = self._v1.get(rid)
        if receiver is None:
            return
        self._shown_v1.add(rid)
        self.sink.update_receiver(rid, lambda current: keep_meter_fields(receiver, current))

    def _emit_v2(self, rid: ReceiverId) -> None:
        primary = self._v2.get(rid)
        if primary is None:
            return
        extra = next(
            (self._v1[v1] for v1, v2 in self._links.items() if v2 == rid and v1 in self._v1),
            None,
        )
        if extra is None:
            self.sink.put_receiver(primary)
            return
        merged = merge_receiver(primary, extra)
        if extra.online:
            self.sink.update_receiver(rid, lambda current: keep_meter_fields(merged, current))
        else:
            self.sink.put_receiver(merged)  # its RF is not current any more: "RF —"
