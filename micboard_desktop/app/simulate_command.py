"""``micboard-desktop simulate``: run the device simulators alone until interrupted."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from micboard_desktop.app.startup import busy_port_is_a_config_error
from micboard_desktop.core.errors import ConfigError


def run_simulate_command(rig_file: Path | None, seed: int, *, hostile: bool = False) -> int:
    """Serve the rig on loopback until SIGINT/SIGTERM; return the exit status."""
    from micboard_desktop.simulator.runner import run_simulate

    try:
        with busy_port_is_a_config_error("a simulator port"):
            return asyncio.run(run_simulate(rig_file, seed, sys.stdout, hostile=hostile))
    except ValueError as exc:  # the rig file is invalid: a user mistake
        raise ConfigError(str(exc)) from None
