"""``headless`` and ``poll --once``: the engine without a window."""

from __future__ import annotations

import asyncio
import errno
import logging
import signal
import sys
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from micboard_desktop.core.config import AppConfig, apply_environment, load_config
from micboard_desktop.core.errors import ConfigError
from micboard_desktop.core.logsetup import configure_logging
from micboard_desktop.core.model import ConnectionStatus, ReceiverId
from micboard_desktop.core.paths import AppPaths, app_paths
from micboard_desktop.engine.engine import Engine

_log = logging.getLogger(__name__)
POLL_ONCE_GRACE = 3.0
"""Seconds beyond the slowest manufacturer timeout that ``poll --once`` waits for answers."""


def load_for_command(
    config_path: Path, data_dir: Path | None, lan: tuple[str, int] | None = None
) -> tuple[AppConfig, AppPaths]:
    """Read and validate the configuration; raise ConfigError before anything starts."""
    config = apply_environment(load_config(config_path))
    if lan is not None:
        config = replace(config, lan=replace(config.lan, enabled=True, host=lan[0], port=lan[1]))
    return config, app_paths(data_dir)


async def open_engine(config: AppConfig, paths: AppPaths) -> Engine:
    """Open the database (off the loop) and build the engine on it."""
    from micboard_desktop.data.db import open_database
    from micboard_desktop.data.repository import Repository

    database = await asyncio.to_thread(open_database, paths.database)
    return Engine(config, Repository(database))


def run_headless(config_path: Path, data_dir: Path | None, lan: tuple[str, int] | None) -> int:
    """Run until SIGINT/SIGTERM, then shut down cleanly; return the exit status."""
    config, paths = load_for_command(config_path, data_dir, lan)
    paths.ensure()
    configure_logging(paths.log_file, level=config.micboard.log_level, console=True)
    try:
        return asyncio.run(_headless(config, paths))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(f"port already in use: {exc}") from None
        raise


async def _headless(config: AppConfig, paths: AppPaths) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # Windows: Ctrl+C still raises
            pass
    engine = await open_engine(config, paths)
    await engine.start()
    codes = ", ".join(engine.manufacturer_codes()) or "no manufacturers"
    _log.info("monitoring %s; database %s", codes, paths.database)
    try:
        await stop.wait()
    finally:
        _log.info("shutting down")
        await engine.stop()
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
