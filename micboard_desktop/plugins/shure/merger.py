"""ShureMerger: both transports deliver here; it puts one receiver per device in the sink.

The rule (matching, ids, which side owns which field) is in :mod:`.merge`. The merger
keeps the latest view from each side, re-runs the match on every change (cheap: a few
dict passes), re-merges only the receivers whose inputs changed, puts a receiver only
when something visible changed, and removes a System-API-only receiver once it matched a
command-string address (so a device never appears twice). A receiver that several System
API devices could be stays on its own, and the merger tells its :data:`NoteListener` why.
"""

from __future__ import annotations

from collections.abc import Callable

from micboard_desktop.plugins.api import (
    Charger,
    ChargerId,
    Clock,
    ConnectionInfo,
    ConnectionState,
    DeviceSink,
    Receiver,
    ReceiverId,
    SystemClock,
    Transport,
    receiver_id,
    replace,
)
from micboard_desktop.plugins.shure.merge import (
    MANUFACTURER,
    CommandView,
    MatchResult,
    ambiguity_note,
    api_receiver,
    api_view,
    match_report,
    merge_receiver,
    stamp_channels,
    unstamped,
)
from micboard_desktop.plugins.shure.system_api.mapping import ApiDevice, DeviceNode

NoteListener = Callable[[str, str | None], None]
"""Called as ``listener(host_port_key, note_or_None)`` when a receiver's match note changes."""

FamilySource = Callable[[], frozenset[str] | None]
"""Return the families a command-string receiver can be (see ReceiverState)."""


class CommandSink:
    """The DeviceSink a command-string coordinator is given: receivers go through the merger."""

    def __init__(self, merger: ShureMerger) -> None:
        self._merger = merger
        self.families: FamilySource | None = None
        """Set by the plugin once the coordinator exists (its SAMPLE layout tells families)."""

    def put_receiver(self, receiver: Receiver) -> None:
        """Hand a command-string snapshot to the merger."""
        families = self.families() if self.families is not None else None
        self._merger.command_receiver(receiver, families=families)

    def update_receiver(
        self, rid: ReceiverId, update: Callable[[Receiver | None], Receiver | None]
    ) -> None:
        """Pass a functional update through."""
        self._merger.sink.update_receiver(rid, update)

    def remove_receiver(self, rid: ReceiverId) -> None:
        """Pass a removal through."""
        self._merger.sink.remove_receiver(rid)

    def connection_state(self, state: ConnectionState) -> None:
        """Pass a connection state through."""
        self._merger.sink.connection_state(state)

    def put_charger(self, charger: Charger) -> None:
        """Pass a charger through (chargers are never merged)."""
        self._merger.sink.put_charger(charger)

    def remove_charger(self, cid: ChargerId) -> None:
        """Pass a charger removal through."""
        self._merger.sink.remove_charger(cid)


class ShureMerger:
    """Merge System API devices and command-string receivers (see module docstring)."""

    def __init__(self, sink: DeviceSink, *, clock: Clock | None = None) -> None:
        self.sink = sink
        self._clock = clock or SystemClock()
        self._hosts: dict[str, str] = {}
        """Command-string ``host:port`` key → host."""
        self._cmd: dict[str, Receiver] = {}
        self._families: dict[str, frozenset[str] | None] = {}
        self._api: dict[str, ApiDevice] = {}
        self._api_connection = ConnectionInfo(transport=Transport.WEBSOCKET)
        self.links: dict[str, str] = {}
        """System API device key → command-string ``host:port`` key."""
        self._published: dict[ReceiverId, Receiver] = {}
        self.notes: dict[str, str] = {}
        """Command-string key -> why it is not merged (several System API devices fit)."""
        self.note_listener: NoteListener | None = None
        self._notes_told: dict[str, str] = {}

    # -- registration --------------------------------------------------------------------

    def add_command_address(self, host: str, port: int) -> ReceiverId:
        """Register a configured command-string address; return its receiver id."""
        key = f"{host}:{port}"
        self._hosts[key] = host
        return receiver_id(MANUFACTURER, key)

    def remove_command_address(self, key: str) -> None:
        """Forget a command-string address (``host:port``); its receiver leaves the store.

        Call it after the address's coordinator stopped, or its last report would bring the
        address back. A System API device it was merged with reappears on its own.
        """
        if self._hosts.pop(key, None) is None:
            return
        self._cmd.pop(key, None)
        self._families.pop(key, None)
        self._update({key})

    def command_sink(self) -> CommandSink:
        """Return the sink to give each command-string coordinator."""
        return CommandSink(self)

    # -- inputs --------------------------------------------------------------------------

    def command_receiver(
        self, receiver: Receiver, *, families: frozenset[str] | None = None
    ) -> None:
        """Take a command-string receiver snapshot (``api_device_id`` is ``host:port``)."""
        key = receiver.api_device_id
        old = self._cmd.get(key)
        identity_changed = (
            key not in self._hosts
            or old is None
            or (old.name, old.model, old.serial, len(old.channels))
            != (receiver.name, receiver.model, receiver.serial, len(receiver.channels))
            or self._families.get(key) != families
        )
        self._hosts.setdefault(key, receiver.ip or key.rpartition(":")[0])
        self._cmd[key] = receiver
        self._families[key] = families
        # Matching looks only at identity; re-matching every device on each telemetry update
        # made the cost grow with the square of the rig size.
        self._update({key}, relink=identity_changed)

    def api_device(self, device: ApiDevice) -> None:
        """Take a new or changed System API device."""
        self._api[device.key] = device
        self._update(set(), {device.key})

    def api_inventory(self, nodes: list[DeviceNode]) -> None:
        """Take a bare device list (identity only; names and channels stay as known)."""
        for node in nodes:
            known = self._api.get(node.key)
            self._api[node.key] = ApiDevice(node) if known is None else replace(known, node=node)
        self._update(set(), {n.key for n in nodes})

    def api_device_removed(self, device_id: str) -> None:
        """Forget a device the System API no longer lists."""
        key = device_id.lower()
        if self._api.pop(key, None) is not None:
            self._update(set(), {key})

    def api_connection(self, state: ConnectionState) -> None:
        """Record the System API connection state (shown on System-API-only receivers)."""
        self.sink.connection_state(state)
        self._api_connection = state.info()
        self._update(set(), set(self._api))

    # -- queries -------------------------------------------------------------------------

    def receiver(self, rid: ReceiverId) -> Receiver | None:
        """Return the last receiver put for ``rid``."""
        return self._published.get(rid)

    def receiver_id_for_api(self, device_id: str) -> ReceiverId:
        """Return the store id of a System API device (its command-string id if matched)."""
        key = device_id.lower()
        linked = self.links.get(key)
        return receiver_id(MANUFACTURER, linked if linked else key)

    def unmatched_api_devices(self) -> list[ApiDevice]:
        """Return System API devices that match no configured command-string address."""
        return [d for k, d in self._api.items() if k not in self.links]

    def api_devices(self) -> list[ApiDevice]:
        """Return every known System API device."""
        return list(self._api.values())

    # -- merging -------------------------------------------------------------------------

    def _relink(self) -> set[str]:
        """Recompute the links; return the command keys and API keys whose link changed."""
        if not self._api:
            # Nothing to link to (no System API, or none seen yet). Building a view of every
            # command host at each identity change made a big rig's start quadratic: 300
            # receivers, each naming itself in several replies, cost 0.6 s of the loop.
            return self._set_links(MatchResult())
        views = []
        for key, host in self._hosts.items():
            r = self._cmd.get(key)
            views.append(
                CommandView(
                    key,
                    host,
                    name=r.name if r else None,
                    model=r.model if r else None,
                    serial=r.serial if r else None,
                    families=self._families.get(key),
                    channels=len(r.channels) if r and r.channels else None,
                )
            )
        return self._set_links(match_report(views, [api_view(d) for d in self._api.values()]))

    def _set_links(self, result: MatchResult) -> set[str]:
        """Keep a match's links and notes; return the keys whose link changed."""
        links = result.links
        self.notes = {key: ambiguity_note(fits) for key, fits in result.ambiguous.items()}
        changed = {k for k in set(links) | set(self.links) if links.get(k) != self.links.get(k)}
        touched = changed | {self.links[k] for k in changed if k in self.links}
        touched |= {links[k] for k in changed if k in links}
        self.links = links
        return touched

    def _update(
        self, cmd_keys: set[str], api_keys: set[str] | None = None, *, relink: bool = True
    ) -> None:
        """Re-merge what ``cmd_keys``/``api_keys`` (and any link change) affect, then put."""
        touched = (self._relink() if relink else set()) | cmd_keys | (api_keys or set())
        by_cmd = {cmd: api for api, cmd in self.links.items()}
        now = self._clock.now()
        wanted: dict[ReceiverId, Receiver] = {}
        for key in touched:
            if key in self._hosts:
                cmd = key
            elif key in self.links:
                cmd = self.links[key]
            else:
                if key in self._api:
                    receiver = api_receiver(self._api[key], self._api_connection)
                    wanted[receiver.id] = receiver
                continue
            api = self._api.get(by_cmd.get(cmd, ""))
            rid = receiver_id(MANUFACTURER, cmd)
            base = self._cmd.get(cmd) or self._placeholder(rid, cmd)
            wanted[rid] = merge_receiver(rid, base, api)
        for key in touched:  # ids that must go: unlisted or now merged into a receiver
            rid = receiver_id(MANUFACTURER, key)
            if key not in self._hosts and rid not in wanted and rid in self._published:
                del self._published[rid]
                self.sink.remove_receiver(rid)
        for rid, receiver in wanted.items():
            last = self._published.get(rid)
            if last is not None and unstamped(last) == unstamped(receiver):
                continue
            stamped = stamp_channels(receiver, last, now)
            if stamped.last_seen is None and stamped.online:
                stamped = replace(stamped, last_seen=now)
            self._published[rid] = stamped
            self.sink.put_receiver(stamped)
        self._tell_notes()

    def _tell_notes(self) -> None:
        """Tell the listener which receivers' notes changed (after the receivers were put)."""
        if self._notes_told == self.notes:
            return
        told, self._notes_told = self._notes_told, dict(self.notes)
        listener = self.note_listener
        if listener is None:
            return
        for key in set(told) | set(self.notes):
            if told.get(key) != self.notes.get(key) and key in self._hosts:
                listener(key, self.notes.get(key))

    def _placeholder(self, rid: ReceiverId, key: str) -> Receiver:
        """Return the receiver of a configured address that has not reported yet."""
        return Receiver(
            id=rid,
            manufacturer=MANUFACTURER,
            api_device_id=key,
            connection=ConnectionInfo(transport=Transport.TCP),
            ip=self._hosts[key],
        )
