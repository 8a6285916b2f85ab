"""Run the LAN API next to the engine: start it when enabled, restart it when settings change."""

from __future__ import annotations

import asyncio
import errno
import logging
from dataclasses import replace

from micboard_desktop.core.config import LanSettings
from micboard_desktop.core.errors import ConfigError
from micboard_desktop.core.tasks import TaskOwner
from micboard_desktop.engine.engine import Engine
from micboard_desktop.lan.server import LanServer

_log = logging.getLogger(__name__)


class LanRuntime:
    """Own the LAN server's lifecycle for one engine."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.server: LanServer | None = None
        self._token: str | None = None
        self._tasks = TaskOwner("lan")
        engine.lan_listeners.append(self._on_settings_changed)

    async def start(self) -> None:
        """Start the server if the configuration enables it.

        Raises:
            ConfigError: the port is in use or a LAN bind has no token (names the problem).
        """
        settings = self._engine.config().lan
        if not settings.enabled:
            return
        self._token = await asyncio.to_thread(self._engine.secrets.lan_token)
        micboard = self._engine.config().micboard
        server = LanServer(
            self._engine.store,
            self._engine,
            settings,
            token=lambda: self._token,
            cache_timeout=micboard.cache_timeout,
            websocket_broadcasting=micboard.websocket_broadcasting,
        )
        try:
            await server.start()
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ConfigError(
                    f"lan.port: {settings.host}:{settings.port} is already in use", key="lan.port"
                ) from None
            raise
        self.server = server
        _log.info("LAN API at %s", server.url)

    async def stop(self) -> None:
        """Stop the server (and any pending restart)."""
        await self._tasks.cancel_all()
        if self.server is not None:
            await self.server.stop()
            self.server = None

    async def restart(self) -> None:
        """Apply new settings or a new token; errors are logged, the app keeps running."""
        if self.server is not None:
            await self.server.stop()
            self.server = None
        try:
            await self.start()
        except ConfigError as exc:
            _log.error("LAN API not started: %s", exc)

    def _on_settings_changed(self, _settings: LanSettings) -> None:
        self._tasks.spawn(self.restart(), "restart")


def with_lan_override(settings: LanSettings, address: tuple[str, int] | None) -> LanSettings:
    """Return ``settings`` enabled on ``address`` when ``--lan HOST:PORT`` was given."""
    if address is None:
        return settings
    return replace(settings, enabled=True, host=address[0], port=address[1])
