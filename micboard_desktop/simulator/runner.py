"""Run every simulator of a rig on loopback and describe the endpoints (docs/contract.md §1).

:class:`SimulatorHub` starts the Shure System API, one command-string listener per Shure
receiver, one UDP socket per Shure UHF-R receiver, one SSCv2 server per Sennheiser receiver
and the scenario loop, and stops them all. :func:`run_simulate` is the body of the
``simulate`` command: it prints the endpoint JSON as the first stdout line, then
human-readable lines, and runs until SIGINT/SIGTERM or cancellation.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import ssl
from pathlib import Path
from types import TracebackType
from typing import Final, Protocol, Self, TextIO

from micboard_desktop.simulator.faults import FaultSwitches
from micboard_desktop.simulator.rig import Rig, SimReceiver
from micboard_desktop.simulator.rigs import SHURE_FAMILIES, demo_rig, load_rig
from micboard_desktop.simulator.scenario import Scenario
from micboard_desktop.simulator.sennheiser.ssc1.server import Ssc1Server
from micboard_desktop.simulator.shure.command.server import ShureCommandServer
from micboard_desktop.simulator.shure.system_api.server import ShureSystemApiServer
from micboard_desktop.simulator.shure.udp.server import ShureUdpServer

DEMO_BATTERY_SPEED: Final = 10.0
"""``simulate`` drains batteries ten times faster than a real show, so bars move."""

Endpoints = dict[str, list[dict[str, object]]]
"""The JSON object of docs/contract.md §1: protocol key -> endpoint descriptions."""


class SscServer(Protocol):
    """What the runner needs from a Sennheiser SSCv2 receiver server."""

    faults: FaultSwitches

    @property
    def url(self) -> str:
        """Return the base URL."""
        ...

    @property
    def username(self) -> str:
        """Return the HTTP Basic user."""
        ...

    @property
    def password(self) -> str:
        """Return the HTTP Basic password."""
        ...

    @property
    def product(self) -> str:
        """Return the product name of ``/api/device/identity``."""
        ...

    async def start(self) -> None:
        """Bind and serve."""

    async def stop(self) -> None:
        """Close everything."""


def _make_ssc_server(
    rig: Rig, receiver: SimReceiver, host: str, ssl_context: ssl.SSLContext | None
) -> SscServer:
    """Create the SSCv2 server of ``receiver`` (imported late: it lives in its own module)."""
    from micboard_desktop.simulator.sennheiser.ssc2.server import SscReceiverServer

    return SscReceiverServer(rig, receiver, host=host, port=0, ssl_context=ssl_context)


def _make_mcp_server(rig: Rig, receiver: SimReceiver, host: str, seed: int) -> McpServer:
    """Create the MCP device server of ``receiver`` (imported late, like the SSCv2 one)."""
    from micboard_desktop.simulator.sennheiser.mcp.server import McpDeviceServer

    return McpDeviceServer(rig, receiver, host=host, seed=seed)


class McpServer(Protocol):
    """What the runner needs from a simulated MCP device."""

    faults: FaultSwitches
    receiver: SimReceiver

    @property
    def host(self) -> str:
        """Return the bound address."""
        ...

    @property
    def port(self) -> int:
        """Return the bound UDP port."""
        ...

    async def start(self) -> None:
        """Bind and serve."""

    async def stop(self) -> None:
        """Close everything."""


class SimulatorHub:
    """Own every simulator server of one rig plus the scenario that animates it."""

    def __init__(
        self,
        rig: Rig,
        *,
        seed: int = 0,
        host: str = "127.0.0.1",
        ssl_context: ssl.SSLContext | None = None,
        activity_period: float = 5.0,
        scenario_period: float | None = 0.1,
        battery_speed: float = 1.0,
    ) -> None:
        """Prepare the servers; ``scenario_period=None`` leaves the rig still."""
        self.rig = rig
        self.host = host
        self.scenario = Scenario(rig, seed, battery_speed=battery_speed)
        self.system_api: ShureSystemApiServer | None = None
        if any(r.listed_in_system_api for r in rig.by_protocol("shure_cmd")):
            self.system_api = ShureSystemApiServer(
                rig, host=host, ssl_context=ssl_context, activity_period=activity_period
            )
        self.shure_receivers = [
            ShureCommandServer(rig, r, host=host)
            for r in rig.by_protocol("shure_cmd")
            if r.family in SHURE_FAMILIES and r.channels
        ]
        self.shure_udp_receivers = [
            ShureUdpServer(rig, r, host=host, seed=seed) for r in rig.by_protocol("shure_udp")
        ]
        self.sennheiser_receivers = rig.by_protocol("sennheiser_ssc2")
        self.sennheiser_ssc1 = [  # D6000, and EW-DX receivers in "Legacy" mode beside SSCv2
            Ssc1Server(rig, r, host=host, seed=seed)
            for r in rig.receivers
            if r.protocol == "sennheiser_ssc1" or (r.family == "ewdx" and r.ssc1)
        ]
        self.sennheiser = [
            _make_ssc_server(rig, r, host, ssl_context) for r in self.sennheiser_receivers
        ]
        self.sennheiser_mcp = [  # ew G4 EM and IEM G4 SR over MCP (sennheiser.md §4)
            _make_mcp_server(rig, r, host, seed) for r in rig.by_protocol("sennheiser_mcp")
        ]
        self._scenario_period = scenario_period
        self._scenario_task: asyncio.Task[None] | None = None
        self._started: list[
            ShureSystemApiServer
            | ShureCommandServer
            | ShureUdpServer
            | SscServer
            | Ssc1Server
            | McpServer
        ] = []

    async def start(self) -> None:
        """Start every server, then the scenario; on failure stop what already runs."""
        servers: list[
            ShureSystemApiServer
            | ShureCommandServer
            | ShureUdpServer
            | SscServer
            | Ssc1Server
            | McpServer
        ] = []
        if self.system_api is not None:
            servers.append(self.system_api)
        servers += self.shure_receivers
        servers += self.shure_udp_receivers
        servers += self.sennheiser
        servers += self.sennheiser_mcp
        servers += self.sennheiser_ssc1
        try:
            for server in servers:
                await server.start()
                self._started.append(server)
        except BaseException:
            await self.stop()
            raise
        if self._scenario_period is not None:
            self._scenario_task = asyncio.create_task(
                self.scenario.run(self._scenario_period), name="simulator-scenario"
            )

    async def stop(self) -> None:
        """Stop the scenario and every started server (in reverse order)."""
        if self._scenario_task is not None:
            self._scenario_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._scenario_task
            self._scenario_task = None
        while self._started:
            await self._started.pop().stop()

    async def __aenter__(self) -> Self:
        """Start on entering ``async with``."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop on leaving ``async with``."""
        await self.stop()

    def endpoints(self) -> Endpoints:
        """Return the endpoint object of docs/contract.md §1 (extra per-entry keys: name, ids)."""
        api = self.system_api
        return {
            "shure_system_api": [] if api is None else [{"url": api.url, "api_key": api.api_key}],
            "shure_receivers": [
                {
                    "host": s.host,
                    "port": s.port,
                    "model": s.receiver.model,
                    "channels": len(s.receiver.channels),
                    "family": s.receiver.family,
                    "name": s.receiver.name,
                    "device_id": s.receiver.device_id,
                }
                for s in self.shure_receivers
            ],
            "shure_udp_receivers": [
                {
                    "host": u.host,
                    "port": u.port,
                    "model": u.receiver.model,
                    "channels": len(u.receiver.channels),
                    "family": u.receiver.family,
                    "name": u.receiver.name,
                }
                for u in self.shure_udp_receivers
            ],
            "sennheiser_ssc1": [
                {
                    "host": u.host,
                    "port": u.port,
                    "model": u.receiver.model,
                    "channels": len(u.receiver.channels),
                    "family": u.receiver.family,
                    "name": u.receiver.name,
                    "serial": u.receiver.serial,
                }
                for u in self.sennheiser_ssc1
            ],
            "sennheiser_mcp": [
                {
                    "host": m.host,
                    "port": m.port,
                    "model": m.receiver.model,
                    "channels": len(m.receiver.channels),
                    "family": m.receiver.family,
                    "name": m.receiver.name,
                }
                for m in self.sennheiser_mcp
            ],
            "sennheiser_ssc2": [
                {
                    "url": s.url,
                    "username": s.username,
                    "password": s.password,
                    "product": s.product,
                    "channels": len(r.channels),
                    "family": r.family,
                    "name": r.name,
                }
                for s, r in zip(self.sennheiser, self.sennheiser_receivers, strict=True)
            ],
        }

    def describe(self) -> list[str]:
        """Return one human-readable line per endpoint, with credentials and a try-it hint."""
        lines: list[str] = []
        api = self.system_api
        if api is not None:
            lines.append(
                f"Shure System API  {api.url}  x-api-key: {api.api_key}  "
                f"(curl -H 'x-api-key: {api.api_key}' {api.url}/api/v1/devices)"
            )
        for s in self.shure_receivers:
            rx = s.receiver
            lines.append(
                f"Shure {rx.model} '{rx.name}' ({len(rx.channels)} ch)  {s.host}:{s.port}  "
                f"(printf '< GET 0 ALL >' | nc {s.host} {s.port})"
            )
        for u in self.shure_udp_receivers:
            lines.append(
                f"Shure UHF-R {u.receiver.model} '{u.receiver.name}' "
                f"({len(u.receiver.channels)} ch)  udp {u.host}:{u.port}  "
                f"(printf '* GET 1 CHAN_NAME *' | nc -u -w1 {u.host} {u.port})"
            )
        for ssc, rx in zip(self.sennheiser, self.sennheiser_receivers, strict=True):
            lines.append(
                f"Sennheiser {ssc.product} '{rx.name}' ({len(rx.channels)} ch)  {ssc.url}  "
                f"user {ssc.username} password {ssc.password}  "
                f"(curl -u '{ssc.username}:{ssc.password}' {ssc.url}/api/device/identity)"
            )
        for v in self.sennheiser_ssc1:
            rx = v.receiver
            size = f"{len(rx.bays)} bays" if rx.bays else f"{len(rx.channels)} ch"  # chargers
            lines.append(
                f"Sennheiser SSCv1 {rx.model} '{rx.name}' ({size})  udp {v.host}:{v.port}  "
                f"""(echo '{{"device":{{"name":null}}}}' | nc -u -w1 {v.host} {v.port})"""
            )
        for m in self.sennheiser_mcp:
            lines.append(
                f"Sennheiser MCP {m.receiver.model} '{m.receiver.name}'  udp {m.host}:{m.port}  "
                f"(printf 'Name\\r' | nc -u -w1 {m.host} {m.port})"
            )
        return lines


def _install_stop_signals(stop: asyncio.Event) -> list[signal.Signals]:
    """Make SIGINT/SIGTERM set ``stop``; return the signals that got a handler."""
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError, ValueError):
            continue  # Windows loops and non-main threads: rely on cancellation instead
        installed.append(sig)
    return installed


def apply_hostile_mode(hub: SimulatorHub) -> list[str]:
    """Make the last device of each protocol hostile (``simulate --hostile``); say which.

    Healthy devices of every make stay next to the hostile ones: the app must keep
    monitoring them, keep saving, bound its memory and say in ``status`` what is wrong with
    the others (fault switches: :mod:`micboard_desktop.simulator.faults`).
    """
    said: list[str] = []
    shure = hub.shure_receivers
    if len(shure) >= 2:
        strings = shure[-1]
        strings.faults.hostile_strings = True
        said.append(f"hostile: Shure {strings.port}: names with invalid UTF-8 and escapes")
    if len(shure) >= 3:
        endless = shure[-2]
        endless.faults.endless_frame = True
        said.append(f"hostile: Shure {endless.port}: a frame that never ends")
    if hub.system_api is not None:
        hub.system_api.faults.hostile_strings = True
        said.append("hostile: Shure System API: surrogates and control characters in strings")
    if len(hub.sennheiser) >= 2:
        ssc = hub.sennheiser[-1]
        ssc.faults.hostile_strings = True
        ssc.faults.oversized = True
        ssc.faults.endless_frame = True
        said.append(f"hostile: Sennheiser {ssc.url}: 4 MB answers, endless events, bad strings")
    return said


async def run_simulate(
    config_path: Path | None, seed: int, out: TextIO, *, hostile: bool = False
) -> int:
    """Run the simulators until SIGINT/SIGTERM or cancellation; return the exit status 0.

    The first line written to ``out`` is the endpoint JSON (one line, flushed). A bad rig
    file raises ValueError and a busy port OSError, for the CLI to report.
    """
    rig = demo_rig() if config_path is None else load_rig(config_path)
    hub = SimulatorHub(rig, seed=seed, battery_speed=DEMO_BATTERY_SPEED)
    await hub.start()
    hostile_lines: list[str] = []
    if hostile:
        hostile_lines = apply_hostile_mode(hub)
    stop = asyncio.Event()
    installed: list[signal.Signals] = []
    try:
        installed = _install_stop_signals(stop)
        out.write(json.dumps(hub.endpoints()) + "\n")
        out.flush()
        for line in [*hub.describe(), *hostile_lines]:
            out.write(line + "\n")
        out.write("Simulators running; press Ctrl+C to stop.\n")
        out.flush()
        try:
            await stop.wait()
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()  # cancellation is this command's normal way to stop
    finally:
        loop = asyncio.get_running_loop()
        for sig in installed:
            loop.remove_signal_handler(sig)
        await hub.stop()
    return 0
