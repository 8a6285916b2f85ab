"""Shared helpers for the integration tests: a webhook receiver, an engine, a loop-lag meter."""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from aiohttp import web

from micboard_desktop.core.config import AlertHolds, AppConfig, ManufacturerConfig
from micboard_desktop.core.integrations import MqttSettings, NotificationTarget
from micboard_desktop.core.model import Battery, ReceiverId, Transmitter
from micboard_desktop.engine.engine import Engine
from micboard_desktop.plugins.registry import PluginRegistry
from tests.fakes.database import temporary_repository
from tests.fakes.plugin import FakePlugin

CHANNEL = "fake:rx1:1"


def free_port() -> int:
    """Return a loopback TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Receiver:
    """An aiohttp webhook receiver on loopback that can be stopped and started again."""

    port: int = field(default_factory=free_port)
    bodies: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    _runner: web.AppRunner | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        """Return the hook's URL."""
        return f"http://127.0.0.1:{self.port}/hook/secret-path-4711"

    async def _hook(self, request: web.Request) -> web.Response:
        if self.status == 200:
            self.bodies.append(await request.json())
            self.arrived.set()
        return web.Response(status=self.status, text="ok")

    async def start(self) -> None:
        """Listen (again) on the same port."""
        app = web.Application()
        app.router.add_post("/hook/secret-path-4711", self._hook)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        """Stop listening (connections are then refused)."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def wait_for(self, count: int, seconds: float = 10.0) -> None:
        """Wait until ``count`` bodies arrived."""
        async with asyncio.timeout(seconds):
            while len(self.bodies) < count:
                self.arrived.clear()
                await self.arrived.wait()


class LagMeter:
    """Measure how late a 10 ms ticker on the loop wakes up (the loop's stalls)."""

    def __init__(self) -> None:
        self.worst = 0.0
        self.ticks = 0
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(0.01)
            self.worst = max(self.worst, time.perf_counter() - start - 0.01)
            self.ticks += 1

    def __enter__(self) -> LagMeter:
        self._task = asyncio.get_running_loop().create_task(self._tick())
        return self

    def __exit__(self, *_exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


def registry() -> PluginRegistry:
    """Return a registry with only the fake plugin."""
    reg = PluginRegistry({}, use_entry_points=False)
    reg.register(FakePlugin)
    return reg


def config_with(
    targets: tuple[NotificationTarget, ...] = (), mqtt: MqttSettings | None = None
) -> AppConfig:
    """Return a fake-plugin config that polls rarely and clears alerts at once."""
    return AppConfig(
        manufacturers=(ManufacturerConfig(code="fake", name="Fake Audio", polling_interval=3600),),
        alert_holds=AlertHolds(battery_clear=0.0),
        notifications=targets,
        mqtt=mqtt,
    )


def new_engine(config: AppConfig, folder: Path) -> Engine:
    """Return a (not started) engine with the fake plugin and a real database."""
    return Engine(config, temporary_repository(folder), registry=registry())


def set_bars(engine: Engine, bars: int, channel: str = CHANNEL) -> None:
    """Put a battery level on a fake channel, as a poll would."""
    rid = ReceiverId(channel.rpartition(":")[0])
    receiver = engine.store.receiver(rid)
    assert receiver is not None
    channels = tuple(
        replace(c, transmitter=Transmitter(battery=Battery(bars=bars))) if c.id == channel else c
        for c in receiver.channels
    )
    engine.store.put_receiver(replace(receiver, channels=channels))
