"""The replay's LAN API: where it serves and how it starts (shared by headless and window)."""

from __future__ import annotations

import asyncio
from typing import Final

from micboard_desktop.app.lan_runtime import check_lan_settings, reachable_urls
from micboard_desktop.app.startup import busy_port_is_a_config_error
from micboard_desktop.core.config import LanSettings
from micboard_desktop.core.control import LanState
from micboard_desktop.core.store import StateStore
from micboard_desktop.engine.secrets import SecretResolver
from micboard_desktop.lan.server import LanServer
from micboard_desktop.replay.control import ReplayControl

REPLAY_LAN: Final = ("127.0.0.1", 8058)
"""Where ``replay --headless`` serves unless ``--lan`` says otherwise."""


def lan_settings(lan: tuple[str, int] | None) -> LanSettings:
    """Return the replay's LAN settings (loopback port 8058 unless ``--lan``)."""
    host, port = lan or REPLAY_LAN
    return LanSettings(enabled=True, host=host, port=port)


async def start_lan(
    store: StateStore, control: ReplayControl, settings: LanSettings
) -> LanServer:
    """Serve the LAN API over the replay's store (checked first: one line on a problem).

    Raises:
        ConfigError: the address cannot be served or a LAN bind has no token.
    """
    resolver = SecretResolver()
    await asyncio.to_thread(check_lan_settings, settings, resolver.lan_token)
    token = await asyncio.to_thread(resolver.lan_token)
    server = LanServer(store, control, settings, token=lambda: token, cache_timeout=0.0,
                       websocket_broadcasting=True)
    with busy_port_is_a_config_error(f"lan.port: {settings.host}:{settings.port}", "lan.port"):
        await server.start()
    urls = await asyncio.to_thread(reachable_urls, settings.host, settings.port)
    control.set_lan_state(LanState(True, True, urls, settings.loopback_only))
    return server
