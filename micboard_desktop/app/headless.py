"""``headless`` and ``poll --once``: the engine without a window."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from contextlib import AsyncExitStack, ExitStack
from dataclasses import replace
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import TextIO

from micboard_desktop.app.lan_runtime import LanRuntime, check_lan_settings, with_lan_override
from micboard_desktop.app.startup import (
    build_engine,
    busy_port_is_a_config_error,
    check_plugins_exist,
    open_database_off_loop,
    start_demo_rig,
)
from micboard_desktop.core.config import AppConfig, apply_environment, load_config
from micboard_desktop.core.errors import ConfigError
from micboard_desktop.core.logsetup import configure_logging
from micboard_desktop.core.model import ConnectionStatus, ReceiverId
from micboard_desktop.core.paths import AppPaths, app_paths
from micboard_desktop.engine.engine import Engine
from micboard_desktop.engine.secrets import SecretResolver
from micboard_desktop.integrations.runtime import IntegrationsRuntime

_log = logging.getLogger(__name__)
DEMO_LAN = ("127.0.0.1", 8058)
"""Where ``headless --demo`` serves the LAN API unless ``--lan`` says otherwise."""
POLL_ONCE_GRACE = 3.0
"""Seconds beyond the slowest manufacturer timeout that ``poll --once`` waits for answers."""


def load_for_command(
    config_path: Path, data_dir: Path | None, lan: tuple[str, int] | None = None
) -> tuple[AppConfig, AppPaths]:
    """Read and validate the configuration; raise ConfigError before anything starts."""
    config = apply_environment(load_config(config_path))
    check_plugins_exist(config)
    config = replace(config, lan=with_lan_override(config.lan, lan))
    return config, app_paths(data_dir)


async def open_engine(
    config: AppConfig, paths: AppPaths, secrets: dict[str, str] | None = None
) -> Engine:
    """Open the database (off the loop) and build the engine on it."""
    database = await open_database_off_loop(paths.database)
    # The config is the operator's own file (or the demo rig): its addresses get the secrets.
    return build_engine(config, database, secrets=secrets, config_is_local=True)


def run_headless(
    config_path: Path | None,
    data_dir: Path | None,
    lan: tuple[str, int] | None,
    *,
    demo: bool = False,
    out: TextIO = sys.stdout,
) -> int:
    """Run until SIGINT/SIGTERM, then shut down cleanly; return the exit status."""
    with ExitStack() as cleanup:
        if demo:
            if data_dir is None:  # like the window's demo: never the user's real database
                data_dir = Path(cleanup.enter_context(TemporaryDirectory(prefix="micboard-")))
            config, paths = AppConfig(), app_paths(data_dir)
        elif config_path is None:
            raise ConfigError("headless needs --config FILE (or --demo)")
        else:
            config, paths = load_for_command(config_path, data_dir, lan)
        paths.ensure()
        configure_logging(paths.log_file, level=config.micboard.log_level, console=True)
        with busy_port_is_a_config_error("a port the app needs"):
            return asyncio.run(_headless(config, paths, demo=demo, lan=lan, out=out))


async def _headless(
    config: AppConfig,
    paths: AppPaths,
    *,
    demo: bool,
    lan: tuple[str, int] | None,
    out: TextIO,
) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # Windows: Ctrl+C still raises
            pass
    async with AsyncExitStack() as stack:
        secrets: dict[str, str] = {}
        if demo:
            config = replace(config, lan=with_lan_override(config.lan, lan or DEMO_LAN))
        # Before any device (or simulator) is touched: a refusal is one line and nothing else.
        await asyncio.to_thread(check_lan_settings, config.lan, SecretResolver().lan_token)
        if demo:
            rig = await start_demo_rig(stack)
            config, secrets = replace(rig.config, lan=config.lan), rig.secrets
        engine = await open_engine(config, paths, secrets)
        await engine.start()
        stack.push_async_callback(engine.stop)
        runtime = LanRuntime(engine)
        await runtime.start()
        stack.push_async_callback(runtime.stop)
        integrations = IntegrationsRuntime(engine)  # notifications and MQTT (contract §6)
        await integrations.start()
        stack.push_async_callback(integrations.stop)
        codes = ", ".join(engine.manufacturer_codes()) or "no manufacturers"
        _log.info("monitoring %s; database %s", codes, paths.database)
        if runtime.server is not None:
            print(f"LAN API: {runtime.server.url}/api/data/", file=out, flush=True)
        await stop.wait()
        _log.info("shutting down")
    return 0


def run_poll_once(config_path: Path, data_dir: Path | None, out: TextIO = sys.stdout) -> int:
    """Poll every enabled manufacturer once, store it, print a summary; 0 if all answered."""
    config, paths = load_for_command(config_path, data_dir)
    paths.ensure()
    configure_logging(paths.log_file, level=config.micboard.log_level, console=False)
    return asyncio.run(_poll_once(config, paths, out))


async def _poll_once(config: AppConfig, paths: AppPaths, out: TextIO) -> int:
    engine = await open_engine(config, paths)
    await engine.start()
    enabled = [m for m in config.manufacturers if m.enabled]
    deadline = max((m.timeout for m in enabled), default=1.0) + POLL_ONCE_GRACE
    try:
        async with asyncio.timeout(deadline):
            while not _all_settled(engine):  # noqa: ASYNC110 - polls state owned by coordinators
                await asyncio.sleep(0.1)
    except TimeoutError:
        pass
    all_answered = True
    snapshot = engine.store.snapshot()
    for entry in enabled:
        states = engine.supervisor.connection_states(entry.code)
        up = sum(s.status is ConnectionStatus.CONNECTED for s in states)
        receivers = [r for r in snapshot.receivers.values() if r.manufacturer == entry.code]
        live = [r for r in receivers if r.online]
        channels = sum(len(r.channels) for r in live)
        polls = engine.metrics().poll_success_rate.get(entry.code, 0.0)
        answered = up > 0 or (not states and polls > 0)
        all_answered = all_answered and answered
        verdict = "ok" if answered else "NO ANSWER"
        print(
            f"{entry.code}: {verdict}: {len(live)} receiver(s) online, {channels} channel(s); "
            f"{up} of {len(states)} connection(s) up",
            file=out,
        )
        for state in states:
            if state.status is not ConnectionStatus.CONNECTED:
                problem = state.last_error or state.status.value
                print(f"  {state.connection_id}: {problem}", file=out)
    await engine.stop()
    return 0 if all_answered else 1


def _all_settled(engine: Engine) -> bool:
    """Return True when every connection has delivered its receiver or failed at least once."""
    for state in engine.supervisor.connection_states():
        if state.error_count > 0:
            continue
        receiver = engine.store.receiver(ReceiverId(state.connection_id))
        if state.status is not ConnectionStatus.CONNECTED or receiver is None:
            return False
        if not receiver.online or not receiver.channels:
            return False
    return True
