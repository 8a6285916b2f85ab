"""``replay``: play a recorded span back through the store, on the LAN API or in the window.

The database is only read (SQLite's read-only mode), so a replay can run beside the live app
on the same show. Problems the user can fix (no database, nothing recorded in the span, a
bad time, a busy port) end as one line and exit 2 through the command line.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from contextlib import AsyncExitStack
from pathlib import Path
from typing import TextIO

from micboard_desktop.app.replay_lan import lan_settings, start_lan
from micboard_desktop.app.startup import busy_port_is_a_config_error
from micboard_desktop.core.config import AppConfig
from micboard_desktop.core.logsetup import configure_logging
from micboard_desktop.core.paths import app_paths
from micboard_desktop.core.store import StateStore
from micboard_desktop.replay.control import ReplayControl
from micboard_desktop.replay.session import ReplaySession, clock_text

_log = logging.getLogger(__name__)

def run_replay(
    data_dir: Path | None,
    *,
    since: str | None,
    until: str | None,
    speed: float,
    headless: bool,
    lan: tuple[str, int] | None,
    quit_after: float | None = None,
    screenshot: Path | None = None,
    out: TextIO = sys.stdout,
) -> int:
    """Run the replay until interrupted (headless) or the window closes; return the status."""
    paths = app_paths(data_dir)
    if headless:
        configure_logging(None, level="INFO", console=True)
        with busy_port_is_a_config_error("the replay's LAN port", "lan.port"):
            return asyncio.run(_headless(paths.database, since, until, speed, lan, out))
    from micboard_desktop.app.replay_window import run_replay_window

    return run_replay_window(paths.database, since=since, until=until, speed=speed, lan=lan,
                             quit_after=quit_after, screenshot=screenshot)


async def _headless(
    database: Path,
    since: str | None,
    until: str | None,
    speed: float,
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
    store = StateStore()
    session = await ReplaySession.open(database, store, since=since, until=until, speed=speed)
    async with AsyncExitStack() as stack:
        stack.callback(session.close)
        settings = lan_settings(lan)
        control = ReplayControl(session, config=AppConfig(lan=settings))
        server = await start_lan(store, control, settings)
        stack.push_async_callback(server.stop)
        clock = session.clock
        print(f"REPLAY {clock_text(clock.start)}-{clock_text(clock.end)} at {clock.speed:g}x; "
              f"LAN API: {server.url}/api/data/", file=out, flush=True)
        session.play()
        runner = asyncio.create_task(session.run())
        stack.callback(runner.cancel)
        ended = asyncio.create_task(_until_end(session))
        stack.callback(ended.cancel)
        await asyncio.wait([asyncio.create_task(stop.wait()), ended],
                           return_when=asyncio.FIRST_COMPLETED)
        if ended.done():
            print(f"REPLAY ended at {clock_text(clock.end)}", file=out, flush=True)
            await stop.wait()  # the last moment stays served until interrupted
        _log.info("replay shutting down")
    return 0


async def _until_end(session: ReplaySession) -> None:
    while session.clock.playing or session.shown_at != session.clock.end:  # noqa: ASYNC110
        await asyncio.sleep(0.5)  # the clock is arithmetic: nothing to wait on
