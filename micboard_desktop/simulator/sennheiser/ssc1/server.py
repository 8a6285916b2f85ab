"""SSCv1 device simulator: one UDP socket per device (sennheiser.md §3, checklist §7).

Serves an EW-DX EM 2 / EM 4, a Digital 6000 EM 6000, a SpeechLine DW receiver or a charger
(CHG 70N, L 6000, whose bays charge on this server's clock: :mod:`.chargers`) from the
shared rig. Implemented: a
JSON object per datagram mirroring the address tree, ``null`` leaves answered with their
values (set requests refused as read-only, 406), ``osc.xid`` echoed, errors nested at the
failing address (``[404]``, ``[424]`` for an absent or switched-off transmitter, ``[400,
{"desc": …}]`` for a datagram that is not JSON), ``/osc/state/subscribe`` with ``#``
parameters (``min``/``max`` period, ``lifetime`` seconds, default 10, ``count``, ``cancel``),
renewal by sending the same request again, and 310 at the end of a lifetime or count.

Awkward on purpose, as far as the reference allows:

* Notifications come bundled (every address in one datagram) or unbundled (one address per
  datagram), chosen at random per notification (``unbundled`` forces the latter); an
  acknowledgement sometimes carries the initial values inside ``osc.state.subscribe`` and
  sometimes as a plain reply.
* Subscriptions expire (310) unless renewed (``lifetime_cap`` ends them sooner than asked);
  a :meth:`reboot` forgets every subscription.
* Meters (``/m`` on EW-DX, ``/mm`` on D6000) are subscribe-only: a GET is refused (406).
* Fault switches: ``silent`` (a device gone from the network), ``hang_seconds`` (answers
  late), ``drop_datagrams`` / ``duplicate_datagrams`` (both ways, seeded), ``malformed``
  (garbage datagrams between good ones), ``hostile_strings`` (names with control bytes,
  lone surrogates, 600+ characters), ``oversized`` (one datagram of 60 KB per switch-on).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from micboard_desktop.simulator.faults import FaultSwitches
from micboard_desktop.simulator.rig import Rig, SimReceiver
from micboard_desktop.simulator.sennheiser.ssc1 import chargers
from micboard_desktop.simulator.sennheiser.ssc1.tree import Refused, is_meter, value

MAX_REQUEST_BYTES: Final = 8192
"""A request datagram longer than this is answered 413."""
DEFAULT_LIFETIME: Final = 10
DEFAULT_COUNT: Final = 1000
TICK_SECONDS: Final = 0.02
GARBAGE: Final = (
    b'{"m":{"rx1":{"rssi":',  # cut short
    b"\xff\xfe\x00 not json",
    b"[1, 2, 3]",  # JSON, but not an object
    b'{"mm":[[1,2,3]]}',  # a meter row too short
    b'{"rx1":{"frequency":"abc","name":42}}',  # wrong types
    b'{"osc":{"error":[[999]]}}',
    b"{" * 4000 + b"}" * 4000,  # nested far too deep
)
Path = tuple[str, ...]


def _paths(tree: Any, prefix: Path = ()) -> Iterator[tuple[Path, Any]]:
    if not isinstance(tree, dict):
        return
    for key, item in tree.items():
        if key == "#" or (not prefix and key == "osc"):
            continue
        if isinstance(item, dict) and item:
            yield from _paths(item, (*prefix, str(key)))
        else:
            yield (*prefix, str(key)), item


def _dict(raw: Any) -> dict[str, Any]:
    return raw if isinstance(raw, dict) else {}


def _nest(pairs: list[tuple[Path, Any]]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for path, item in pairs:
        node = root
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = item
    return root


@dataclass(slots=True)
class _Subscription:
    addr: Any
    paths: tuple[Path, ...]
    params: dict[str, Any]
    period: float
    expires: float
    count: int
    due: float = 0.0
    last: dict[Path, Any] = field(default_factory=dict)


class Ssc1Server:
    """One simulated SSCv1 device (see module docstring)."""

    def __init__(
        self,
        rig: Rig,
        receiver: SimReceiver,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 0,
        now: Callable[[], float] | None = None,
    ) -> None:
        self.rig = rig
        self.receiver = receiver
        self.host = host
        self._port = port
        self.faults = FaultSwitches()
        self.unbundled = False
        """Send every notification one address per datagram (else chosen at random)."""
        self.bundled = False
        """Send every notification as one datagram (overrides the random choice)."""
        self.lifetime_cap: float | None = None
        """End every subscription after at most this many seconds (310 comes earlier than
        asked: a device that counts differently, or a test of the 310 path)."""
        self.flat_accu = False
        """L 6000: serve ``accu_parameter`` at the top level (eight rows), 404 per subslot: the
        reference's shape, where the hardware clients read it per subslot."""
        self._rng = random.Random(seed)
        self._now = now
        self._transport: asyncio.DatagramTransport | None = None
        self._task: asyncio.Task[None] | None = None
        self._subs: dict[tuple[Any, tuple[Path, ...]], _Subscription] = {}
        self._oversized_sent = False
        self.requests: list[dict[str, Any]] = []
        """Every request understood, in order (tests read the subscriptions asked for)."""
        self.expired = 0
        """310s sent."""
        self.notifications = 0
        self._charged_at: float | None = None

    @property
    def port(self) -> int:
        """Return the bound UDP port."""
        return self._port

    def now(self) -> float:
        """Return the simulator's time (injectable so tests can run an hour in a moment)."""
        return self._now() if self._now is not None else asyncio.get_running_loop().time()

    async def start(self) -> None:
        """Bind the socket and start the notification clock."""
        loop = asyncio.get_running_loop()
        server = self

        class _Protocol(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: Any) -> None:
                server._datagram(data, addr)

        transport, _ = await loop.create_datagram_endpoint(
            _Protocol, local_addr=(self.host, self._port)
        )
        self._transport = transport
        self._port = transport.get_extra_info("sockname")[1]
        self._task = asyncio.create_task(self._clock(), name=f"ssc1-sim-{self._port}")

    async def stop(self) -> None:
        """Stop the clock and close the socket."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    def reboot(self) -> None:
        """Forget every subscription, as a power cycle does."""
        self._subs.clear()

    @property
    def subscriptions(self) -> int:
        """Return how many subscriptions are alive."""
        return len(self._subs)

    # -- sending ------------------------------------------------------------------------

    def _send(self, message: dict[str, Any] | bytes, addr: Any) -> None:
        transport = self._transport
        if transport is None or self.faults.silent:
            return
        data = message if isinstance(message, bytes) else json.dumps(message).encode()
        if self.faults.drop_datagrams and self._rng.random() < self.faults.drop_datagrams:
            return
        copies = 2 if self._rng.random() < self.faults.duplicate_datagrams else 1
        hang = self.faults.hang_seconds
        for _ in range(copies):
            if hang > 0:
                asyncio.get_running_loop().call_later(hang, self._sendto, data, addr)
            else:
                transport.sendto(data, addr)
        if self.faults.malformed and self._rng.random() < 0.2:
            transport.sendto(self._rng.choice(GARBAGE), addr)
        if self.faults.oversized and not self._oversized_sent:
            self._oversized_sent = True
            transport.sendto(b'{"x":"' + b"A" * 60_000 + b'"}', addr)

    def _sendto(self, data: bytes, addr: Any) -> None:
        if self._transport is not None:
            self._transport.sendto(data, addr)

    # -- requests -----------------------------------------------------------------------

    def _datagram(self, data: bytes, addr: Any) -> None:
        if self.faults.silent:
            return
        if self.faults.drop_datagrams and self._rng.random() < self.faults.drop_datagrams:
            return
        if len(data) > MAX_REQUEST_BYTES:
            self._send({"osc": {"error": [[413, {"desc": "request too long"}]]}}, addr)
            return
        try:
            message = json.loads(data)
        except (ValueError, RecursionError):
            message = None
        if not isinstance(message, dict):
            self._send({"osc": {"error": [[400, {"desc": "not understood"}]]}}, addr)
            return
        self.requests.append(message)
        osc = _dict(message.get("osc"))
        xid = osc.get("xid")
        entries = _dict(osc.get("state")).get("subscribe")
        if isinstance(entries, list):
            for entry in entries:
                if isinstance(entry, dict):
                    self._subscribe(entry, addr, xid)
            return
        self._get(message, addr, xid)

    def _lookup(self, path: Path) -> tuple[Any, int | None]:
        try:
            hostile = self.faults.hostile_strings
            return value(self.receiver, path, hostile=hostile, flat_accu=self.flat_accu), None
        except Refused as refused:
            return None, refused.code

    def _reply(
        self, pairs: list[tuple[Path, Any]], errors: list[tuple[Path, int]], xid: Any
    ) -> dict[str, Any]:
        message = _nest(pairs)
        osc: dict[str, Any] = {}
        if xid is not None:
            osc["xid"] = xid
        if errors:
            osc["error"] = [_nest([(p, [code]) for p, code in errors])]
        if osc:
            message["osc"] = osc
        return message

    def _get(self, message: dict[str, Any], addr: Any, xid: Any) -> None:
        pairs: list[tuple[Path, Any]] = []
        errors: list[tuple[Path, int]] = []
        for path, asked in _paths(message):
            if asked is not None or is_meter(self.receiver, path):
                errors.append((path, 406))  # read-only here; meters are subscribe-only
                continue
            got, code = self._lookup(path)
            if code is None:
                pairs.append((path, got))
            else:
                errors.append((path, code))
        self._send(self._reply(pairs, errors, xid), addr)

    def _subscribe(self, entry: dict[str, Any], addr: Any, xid: Any) -> None:
        params = _dict(entry.get("#"))
        paths = tuple(p for p, _ in _paths(entry))
        key = (addr, paths)
        if params.get("cancel") is True:
            self._subs.pop(key, None)
            self._send(self._reply([], [], xid), addr)
            return
        period_ms = params.get("min", 0)
        period = period_ms / 1000 if isinstance(period_ms, int) and period_ms > 0 else 0.0
        lifetime = params.get("lifetime", DEFAULT_LIFETIME)
        count = params.get("count", DEFAULT_COUNT)
        now = self.now()
        if not isinstance(lifetime, int | float) or isinstance(lifetime, bool):
            lifetime = DEFAULT_LIFETIME
        if self.lifetime_cap is not None:
            lifetime = min(lifetime, self.lifetime_cap)
        sub = _Subscription(
            addr=addr,
            paths=paths,
            params=params,
            period=period,
            expires=now + lifetime,
            count=count if isinstance(count, int) and count > 0 else DEFAULT_COUNT,
            due=now + period,
        )
        old = self._subs.get(key)
        if old is not None:
            sub.last = old.last  # a renewal: changes are still changes against what was sent
        self._subs[key] = sub
        pairs, errors = self._values(paths)
        sub.last = {p: v for p, v in pairs} | {p: ("error", c) for p, c in errors}
        if self._rng.random() < 0.5:
            reply = self._reply([], errors, xid)
            reply.setdefault("osc", {})["state"] = {"subscribe": [{"#": params, **_nest(pairs)}]}
        else:
            reply = self._reply(pairs, errors, xid)
        self._send(reply, addr)

    def _values(
        self, paths: tuple[Path, ...]
    ) -> tuple[list[tuple[Path, Any]], list[tuple[Path, int]]]:
        pairs: list[tuple[Path, Any]] = []
        errors: list[tuple[Path, int]] = []
        for path in paths:
            got, code = self._lookup(path)
            if code is None:
                pairs.append((path, got))
            else:
                errors.append((path, code))
        return pairs, errors

    # -- notifications ------------------------------------------------------------------

    async def _clock(self) -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            self.tick()

    def tick(self) -> None:
        """Send due notifications and end expired subscriptions (called by the clock)."""
        now = self.now()
        if chargers.is_charger(self.receiver):
            if self._charged_at is not None:
                chargers.advance(self.receiver, now - self._charged_at)
            self._charged_at = now
        for key, sub in list(self._subs.items()):
            if now >= sub.expires or sub.count <= 0:
                del self._subs[key]
                self.expired += 1
                self._send({"osc": {"error": [_nest([(p, [310]) for p in sub.paths])]}}, sub.addr)
                continue
            pairs, errors = self._values(sub.paths)
            if sub.period > 0:
                if now < sub.due:
                    continue
                sub.due = max(sub.due + sub.period, now)
                self._notify(sub, pairs, errors)
                continue
            current = {p: v for p, v in pairs} | {p: ("error", c) for p, c in errors}
            changed = [(p, v) for p, v in pairs if sub.last.get(p, ()) != v]
            failed = [(p, c) for p, c in errors if sub.last.get(p) != ("error", c)]
            sub.last = current
            if changed or failed:
                self._notify(sub, changed, failed)

    def _notify(
        self, sub: _Subscription, pairs: list[tuple[Path, Any]], errors: list[tuple[Path, int]]
    ) -> None:
        sub.count -= 1
        self.notifications += 1
        unbundled = self.unbundled or (not self.bundled and self._rng.random() < 0.3)
        if errors:
            self._send(self._reply([], errors, None), sub.addr)
        if unbundled:
            for pair in pairs:
                self._send(_nest([pair]), sub.addr)
        elif pairs:
            self._send(_nest(pairs), sub.addr)
