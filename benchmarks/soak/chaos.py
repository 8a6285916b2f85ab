"""The chaos driver: seeded, logged fault injection on the simulators of one rig.

It deals fault types from a shuffled deck (every type once per round), puts each on a
random free server that supports it for a bounded time, then clears it and hands the
injection to the recovery monitor. A server carries one fault at a time and stays busy
until its connection is live again, so every recovery is attributed to one fault.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final, Literal

from micboard_desktop.simulator.faults import FaultSwitches
from micboard_desktop.simulator.runner import SimulatorHub, SscServer
from micboard_desktop.simulator.shure.command.server import ShureCommandServer
from micboard_desktop.simulator.shure.system_api.server import ShureSystemApiServer

Kind = Literal["shure_cmd", "ssc", "system_api"]
Server = ShureCommandServer | SscServer | ShureSystemApiServer

FAULTS: Final = (
    "drop_connections",
    "hang_seconds",
    "http_500",
    "malformed",
    "oversized",
    "trickle_bytes_per_second",
    "split_frames",
    "merge_frames",
    "reject_credentials",
    "silent",
    "lockup_after_abrupt_loss",
    "vanish_and_return",
)
"""Every fault the soak injects (the FaultSwitches switches, the drop action, a move)."""

SUPPORTED: Final[dict[Kind, frozenset[str]]] = {
    # Command strings have no HTTP status and no credentials.
    "shure_cmd": frozenset(FAULTS) - {"http_500", "reject_credentials"},
    # HTTP servers have no frames to split or merge, and no QLX-D firmware to lock up.
    "ssc": frozenset(FAULTS)
    - {"split_frames", "merge_frames", "lockup_after_abrupt_loss", "vanish_and_return"},
    "system_api": frozenset(FAULTS)
    - {"split_frames", "merge_frames", "lockup_after_abrupt_loss", "vanish_and_return"},
}
AUTH_WAIT_S: Final = 15.0
"""How much longer a credential rejection stays on until the app has actually been refused."""
_DROP_FIRST: Final = frozenset({"http_500", "reject_credentials"})
"""Faults that only bite on new requests: open streams are dropped so the app must ask."""


@dataclass(slots=True)
class Target:
    """One simulator server and the app connection that talks to it."""

    name: str
    kind: Kind
    server: Server
    connection_id: str
    manufacturer: str
    home_id: str = ""
    """The connection id the app's config file names (``connection_id`` moves with the port)."""

    def __post_init__(self) -> None:
        if not self.home_id:
            self.home_id = self.connection_id

    @property
    def faults(self) -> FaultSwitches:
        """Return the server's fault switches."""
        return self.server.faults


@dataclass(slots=True)
class Injection:
    """One logged fault: when, where, what, and how the connection came back."""

    number: int
    start: float
    planned: float
    target: str
    connection_id: str
    fault: str
    param: str = ""
    end: float | None = None
    end_wall: float | None = None
    """Wall-clock time (epoch) from which recovery is measured."""
    recovery_from: str = "fault end"
    recovered_after: float | None = None
    ok: bool | None = None
    note: str = ""
    hammered: bool = False
    """True when the app kept retrying a device that rejected its credentials."""
    evidence: list[str] = field(default_factory=list)

    @property
    def resolved(self) -> bool:
        """Return True once the recovery verdict is in."""
        return self.ok is not None


ConfigPoster = Callable[[str | None, str, object], Awaitable[tuple[int, str]]]
"""POST /api/config/ (manufacturer, key, value) -> (status, body)."""
StateReader = Callable[[str], Awaitable[tuple[str, int, str | None] | None]]
"""Return (state, error_count, last_error) of a connection from the app's database."""


class Chaos:
    """Inject faults until stopped; pause on request for quiet checkpoints."""

    def __init__(
        self,
        hub: SimulatorHub,
        targets: list[Target],
        *,
        seed: int,
        clock: Callable[[], float],
        fault_seconds: tuple[float, float],
        gap_seconds: tuple[float, float],
        max_concurrent: int,
        post_config: ConfigPoster,
        read_state: StateReader,
        auth_quiet: float,
        timeouts: dict[str, float],
        count_refusals: Callable[[Target, float, float], int],
        poll_interval: float,
    ) -> None:
        self.hub = hub
        self.targets = targets
        self.rng = random.Random(seed)
        self.clock = clock
        self.fault_seconds = fault_seconds
        self.gap_seconds = gap_seconds
        self.max_concurrent = max_concurrent
        self.post_config = post_config
        self.read_state = read_state
        self.auth_quiet = auth_quiet
        self.timeouts = timeouts
        self.count_refusals = count_refusals
        self.poll_interval = poll_interval
        self.refused_while_blocked = 0
        """Requests the device refused (401) while the app's connection was auth-blocked."""
        self.log: list[Injection] = []
        self.busy: set[str] = set()
        """Target names with a fault on, or whose recovery is still being watched."""
        self.spare_servers: list[Server] = []
        """Servers started by the chaos (returned receivers); stopped by :meth:`close`."""
        self.findings: list[str] = []
        self._deck: list[str] = []
        self._running: set[asyncio.Task[None]] = set()
        self._resume = asyncio.Event()
        self._resume.set()
        self._cut_short = asyncio.Event()
        self._config_changes = 0

    # -- public -------------------------------------------------------------------------

    async def run(self, until: Callable[[], bool]) -> None:
        """Deal faults until ``until()`` is true (waits while paused)."""
        while not until():
            await self._resume.wait()
            if until():
                return
            if len(self._running) >= self.max_concurrent:
                await asyncio.sleep(0.2)
                continue
            fault = self._next_fault()
            target = self._pick_target(fault)
            if target is None:
                self._deck.append(fault)  # nobody free for it now: deal it again later
                await asyncio.sleep(0.3)
                continue
            self._launch(self._inject(target, fault))
            await asyncio.sleep(self.rng.uniform(*self.gap_seconds))

    @contextlib.asynccontextmanager
    async def paused(self) -> AsyncIterator[None]:
        """Stop dealing, end every active fault now, and resume on exit."""
        self._resume.clear()
        self._cut_short.set()
        await self.drain()
        try:
            yield
        finally:
            self._cut_short.clear()
            self._resume.set()

    async def drain(self, within: float = 60.0) -> None:
        """Wait (bounded) for every running injection task to finish its clean-up."""
        if self._running:
            await asyncio.wait(set(self._running), timeout=within)

    async def close(self) -> None:
        """Cancel running injections, clear every fault and stop spare servers."""
        for task in list(self._running):
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)
        for target in self.targets:
            target.faults.clear()
        for server in self.spare_servers:
            with contextlib.suppress(Exception):
                await server.stop()

    @property
    def active(self) -> int:
        """Return the number of injections still running."""
        return len(self._running)

    def release(self, target_name: str) -> None:
        """Make a target available again (its recovery was resolved)."""
        self.busy.discard(target_name)

    def coverage(self) -> dict[str, int]:
        """Return how often each fault type was injected."""
        counts = dict.fromkeys(FAULTS, 0)
        for injection in self.log:
            base = injection.fault.split(" ", 1)[0]
            if base in counts:
                counts[base] += 1
        return counts

    async def lock_up_for_kill(self, count: int) -> list[tuple[Target, Injection]]:
        """Arm the QLX-D lockup on up to ``count`` free command-string servers (before kill -9)."""
        armed: list[tuple[Target, Injection]] = []
        free = [t for t in self.targets if t.kind == "shure_cmd" and t.name not in self.busy]
        for target in self.rng.sample(free, min(count, len(free))):
            self.busy.add(target.name)
            injection = self._record(target, "lockup_after_abrupt_loss", 0.0, "armed for kill -9")
            target.faults.lockup_after_abrupt_loss = True
            armed.append((target, injection))
        return armed

    def end_lockup(self, target: Target, injection: Injection) -> None:
        """Disarm the lockup; power-cycle the server if it locked up."""
        target.faults.lockup_after_abrupt_loss = False
        server = target.server
        if isinstance(server, ShureCommandServer) and server.locked:
            server.power_cycle()
            injection.note = "locked up; power-cycled"
        else:
            injection.note = "did not lock up (the app closed politely)"
        self._end(injection)

    # -- dealing ------------------------------------------------------------------------

    def _next_fault(self) -> str:
        if not self._deck:
            self._deck = list(FAULTS)
            self.rng.shuffle(self._deck)
        return self._deck.pop()

    def _pick_target(self, fault: str) -> Target | None:
        """Return a random free server for ``fault``, of the kind it has hit least so far."""
        free = [
            t for t in self.targets if fault in SUPPORTED[t.kind] and t.name not in self.busy
        ]
        if not free:
            return None
        kind_of = {t.name: t.kind for t in self.targets}
        hits = {t.kind: 0 for t in free}
        for injection in self.log:
            kind = kind_of.get(injection.target)
            if injection.fault == fault and kind in hits:
                hits[kind] += 1
        fewest = min(hits.values())
        kind = self.rng.choice(sorted(k for k, n in hits.items() if n == fewest))
        return self.rng.choice([t for t in free if t.kind == kind])

    def _launch(self, coro: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(self._guarded(coro))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _guarded(self, coro: Awaitable[None]) -> None:
        """Run one injection; a failure of the chaos itself is logged, never silent."""
        count = len(self.log)
        try:
            await coro
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - reported in the injection log
            if len(self.log) > count:
                injection = self.log[-1]
                injection.evidence.append(f"chaos error: {type(exc).__name__}: {exc}")
                if injection.end is None:
                    self._end(injection)
            self.findings.append(f"chaos error: {type(exc).__name__}: {exc}")

    async def _post(self, manufacturer: str | None, key: str, value: object) -> tuple[int, str]:
        """POST a setting; a transport failure (app down) is an answer, not an error."""
        try:
            return await self.post_config(manufacturer, key, value)
        except Exception as exc:  # noqa: BLE001 - aiohttp and timeouts: the app may be down
            return 0, f"{type(exc).__name__}: {exc}"

    def _record(self, target: Target, fault: str, planned: float, param: str) -> Injection:
        injection = Injection(
            number=len(self.log) + 1,
            start=self.clock(),
            planned=planned,
            target=target.name,
            connection_id=target.connection_id,
            fault=fault,
            param=param,
        )
        self.log.append(injection)
        return injection

    def _end(self, injection: Injection, *, recovery_from: str = "fault end") -> None:
        injection.end = self.clock()
        injection.end_wall = time.time()
        injection.recovery_from = recovery_from

    async def _hold(self, seconds: float) -> None:
        """Sleep ``seconds``, or less when a pause cuts every fault short."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._cut_short.wait(), seconds)

    async def _inject(self, target: Target, fault: str) -> None:
        self.busy.add(target.name)
        duration = round(self.rng.uniform(*self.fault_seconds), 1)
        faults = target.faults
        if fault == "drop_connections":
            injection = self._record(target, fault, 0.0, "")
            faults.drop_connections()
            self._end(injection)
            return
        if fault == "vanish_and_return":
            await self._vanish(target, duration)
            return
        param = ""
        if fault == "hang_seconds":
            faults.hang_seconds = round(self.rng.uniform(1.0, 4.0), 1)
            param = f"{faults.hang_seconds} s"
        elif fault == "trickle_bytes_per_second":
            faults.trickle_bytes_per_second = self.rng.choice([200, 500, 2000])
            param = f"{faults.trickle_bytes_per_second} B/s"
        elif fault == "lockup_after_abrupt_loss":
            faults.lockup_after_abrupt_loss = True
            server = target.server
            assert isinstance(server, ShureCommandServer)
            # The app closes politely, so it never triggers the lockup itself; lock the
            # server as the firmware would after another client vanished abruptly.
            server.locked = True
            param = "server locked"
        else:
            setattr(faults, fault, True)
        injection = self._record(target, fault, duration, param)
        if fault in _DROP_FIRST:
            faults.drop_connections()
        try:
            if fault == "reject_credentials":
                await self._hold_until_rejected(target, duration)
                await self._observe_block(target, injection)
            else:
                await self._hold(duration)
        finally:
            faults.clear()
        if fault == "lockup_after_abrupt_loss":
            server = target.server
            if isinstance(server, ShureCommandServer) and server.locked:
                server.power_cycle()
                injection.note = "locked up; power-cycled"
        if fault == "reject_credentials":
            await self._fix_credentials(target, injection)
            return
        self._end(injection)

    async def _hold_until_rejected(self, target: Target, duration: float) -> None:
        """Keep rejecting for ``duration``, longer (bounded) until the app has been refused.

        Not cut short by a pause: the whole refuse-observe-fix sequence is one fault, and a
        checkpoint waits for it (bounded) rather than seeing half of it.
        """
        await asyncio.sleep(duration)
        deadline = self.clock() + AUTH_WAIT_S
        while self.clock() < deadline:
            state = await self.read_state(target.connection_id)
            if state is not None and state[2] == "authentication failed":
                return
            await asyncio.sleep(0.5)

    async def _observe_block(self, target: Target, injection: Injection) -> None:
        """While the device still refuses us, count what the app keeps asking it."""
        first = await self.read_state(target.connection_id)
        since = time.time()
        await asyncio.sleep(self.auth_quiet)
        until = time.time()
        await asyncio.sleep(0.3)  # let the app's last log lines of the window reach the file
        last = await self.read_state(target.connection_id)
        if first is None or last is None:
            injection.note = "no connection row"
            return
        retries = last[1] - first[1]
        refused = self.count_refusals(target, since, until)
        window = until - since
        # Once per inventory poll is the app's normal cadence; anything faster is hammering.
        allowed = int(window / self.poll_interval) + 1
        injection.evidence.append(
            f"credentials still refused for {window:.0f} s after the app gave up: state "
            f"{last[0]!r}, last_error {last[2]!r}, {retries} connection retries, {refused} "
            f"request(s) refused with 401 (inventory poll every {self.poll_interval:.0f} s; "
            f"allowed {allowed})"
        )
        blocked = first[2] == "authentication failed" and last[2] == "authentication failed"
        injection.hammered = blocked and (retries > 0 or refused > allowed)
        self.refused_while_blocked += refused if blocked else 0
        if not blocked:
            injection.note = "no auth block observed"
        elif injection.hammered:
            injection.note = "auth-blocked but retried"
        else:
            injection.note = "auth-blocked, no connection retries"

    async def _fix_credentials(self, target: Target, injection: Injection) -> None:
        """Recover the way a user would: a settings change restarts the manufacturer."""
        # The only LAN-API way to make the app try again: change a setting of the
        # manufacturer, which restarts its connections (there is no credentials endpoint).
        code = target.manufacturer
        self._config_changes += 1
        # Never the config file's value (a restarted app is back on it) nor the last one.
        new_timeout = round(2.1 + 0.1 * (self._config_changes % 4), 1)
        status, body = await self._post(code, "timeout", new_timeout)
        injection.evidence.append(f"POST /api/config/ {code}.timeout={new_timeout}: {status}")
        if status == 200:
            self.timeouts[code] = new_timeout
        else:
            injection.evidence.append(body)
        self._end(injection, recovery_from=f"LAN config change ({code}.timeout)")

    def shure_devices(self, moved: Target | None = None, port: int = 0) -> list[str]:
        """Return the Shure device list as the app should have it (``moved`` on ``port``)."""
        return [
            f"127.0.0.1:{port}" if t is moved else t.connection_id.split(":", 1)[1]
            for t in self.targets
            if t.kind == "shure_cmd"
        ]

    async def _vanish(self, target: Target, duration: float) -> None:
        """Stop a receiver, bring it back on a new port and re-point the app over the LAN.

        If the LAN API refuses the new device list, the receiver comes back on its old port.
        """
        server = target.server
        assert isinstance(server, ShureCommandServer)
        old_port = server.port
        injection = self._record(target, "vanish_and_return", duration, f"port {old_port}")
        await server.stop()
        moved: ShureCommandServer | None = None
        try:
            await self._hold(duration)
            moved = ShureCommandServer(self.hub.rig, server.receiver, host=server.host)
            await moved.start()
            self.spare_servers.append(moved)
            status, body = await self._post("shure", "devices",
                                             self.shure_devices(target, moved.port))
            injection.evidence.append(f"POST /api/config/ shure.devices (new port): {status} "
                                      f"{body}")
            if status == 200:
                self._replace_server(target, server, moved)
                target.connection_id = f"shure:127.0.0.1:{moved.port}"
                injection.connection_id = target.connection_id
                injection.param = f"port {old_port} -> {moved.port} (app re-pointed)"
                self._end(injection, recovery_from="re-point via POST /api/config/")
                return
            await moved.stop()
            moved = None
        finally:
            if injection.end is None:
                # The app cannot be told about the new port: bring it back where it was.
                back = ShureCommandServer(
                    self.hub.rig, server.receiver, host=server.host, port=old_port
                )
                await back.start()
                self.spare_servers.append(back)
                self._replace_server(target, server, back)
                injection.param = f"port {old_port} -> back on {old_port} (re-point refused)"
                self._end(injection, recovery_from="return on the same port")

    def _replace_server(self, target: Target, old: Server, new: ShureCommandServer) -> None:
        if old in self.hub.shure_receivers:
            self.hub.shure_receivers[self.hub.shure_receivers.index(old)] = new
        target.server = new

    async def reapply_after_restart(self, present: set[str]) -> list[Target]:
        """Re-send the device list when a restarted app forgot LAN-made moves; return them."""
        lost = [
            t for t in self.targets
            if t.connection_id != t.home_id and t.connection_id not in present
        ]
        if not lost:
            return []
        status, body = await self._post("shure", "devices", self.shure_devices())
        for target in lost:
            self.busy.add(target.name)
            injection = self._record(target, "vanish_and_return (forgotten by the restart)",
                                     0.0, target.connection_id.rsplit(":", 1)[1])
            injection.evidence.append(
                f"after kill -9 the app monitored {target.home_id} (its config file) instead "
                f"of {target.connection_id} (set over the LAN); re-sent devices: {status} {body}"
            )
            self._end(injection, recovery_from="devices re-sent over the LAN")
        return lost
