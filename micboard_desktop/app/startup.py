"""The start-up steps every way of running the app shares.

Opening the database, building the engine, starting the demo rig and reporting a port
that is already taken used to be written out in the window, in ``headless`` and in the
LAN runtime; here each is written once. Every fault a user can fix comes out as a
one-line :class:`~micboard_desktop.core.errors.ConfigError` or ``SetupError``.
"""

from __future__ import annotations

import asyncio
import errno
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from micboard_desktop.app.demo import demo_config
from micboard_desktop.core.config import AppConfig
from micboard_desktop.core.errors import ConfigError

if TYPE_CHECKING:  # imported where used: ``simulate`` needs none of the engine
    from micboard_desktop.data.db import Database
    from micboard_desktop.engine.engine import Engine


def check_plugins_exist(config: AppConfig) -> None:
    """Refuse a manufacturer code no installed plugin serves (naming the key), before start.

    Without this an unknown code only showed as a manufacturer that is ``down``.
    """
    from micboard_desktop.plugins.registry import default_registry

    known = set(default_registry().codes())
    for index, entry in enumerate(config.manufacturers):
        if entry.code not in known:
            raise ConfigError(
                f"manufacturers[{index}].code: no plugin for {entry.code!r} "
                f"(installed: {', '.join(sorted(known)) or 'none'})",
                key=f"manufacturers[{index}].code",
            )


@contextmanager
def busy_port_is_a_config_error(what: str, key: str | None = None) -> Iterator[None]:
    """Turn "address already in use" inside the block into a ConfigError naming ``what``."""
    try:
        yield
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(f"{what} is already in use", key=key) from None
        raise


async def open_database_off_loop(path: Path) -> Database:
    """Open (create, check, upgrade) the database without blocking the event loop."""
    from micboard_desktop.data.db import open_database

    return await asyncio.to_thread(open_database, path)


def build_engine(
    config: AppConfig,
    database: Database,
    *,
    secrets: dict[str, str] | None = None,
    save_config: Callable[[AppConfig], None] | None = None,
    config_is_local: bool,
) -> Engine:
    """Build the engine on ``database``; ``config_is_local``: the operator wrote the config.

    A local configuration (a ``--config`` file, the demo rig) approves its addresses for
    the stored secrets; the window's settings file does not, because a LAN client can
    change it (engine/secrets.py).
    """
    from micboard_desktop.data.repository import Repository
    from micboard_desktop.engine.engine import Engine
    from micboard_desktop.engine.secrets import SecretResolver

    return Engine(
        config,
        Repository(database),
        secrets=SecretResolver(fixed=secrets),
        save_config=save_config,
        config_is_local=config_is_local,
    )


@dataclass(frozen=True, slots=True)
class DemoRig:
    """The running demo rig: how to reach it, and how many endpoints it serves."""

    config: AppConfig
    secrets: dict[str, str]
    endpoints: int


async def start_demo_rig(stack: AsyncExitStack) -> DemoRig:
    """Start the demo rig's simulators (stopped when ``stack`` closes) and describe them."""
    from micboard_desktop.simulator.rigs import demo_rig
    from micboard_desktop.simulator.runner import DEMO_BATTERY_SPEED, SimulatorHub

    hub = SimulatorHub(demo_rig(), seed=1, battery_speed=DEMO_BATTERY_SPEED)
    with busy_port_is_a_config_error("a simulator port"):
        await hub.start()
    stack.push_async_callback(hub.stop)
    endpoints = hub.endpoints()
    config, secrets = demo_config(endpoints, system_api=True)
    return DemoRig(config, secrets, sum(len(v) for v in endpoints.values()))
