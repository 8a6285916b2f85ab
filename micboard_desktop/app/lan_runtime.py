"""Run the LAN API next to the engine: start it when enabled, restart it when settings change.

After every change the runtime knows what really happened (listening, and at which addresses
front of house reaches it, or why it did not start), and the engine hands that to the
settings dialog (:class:`~micboard_desktop.core.control.LanState`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from micboard_desktop.app.startup import busy_port_is_a_config_error
from micboard_desktop.core.config import LanSettings
from micboard_desktop.core.control import LanState
from micboard_desktop.core.errors import ConfigError
from micboard_desktop.core.tasks import TaskOwner
from micboard_desktop.engine.engine import Engine
from micboard_desktop.lan.serialize import instance_json
from micboard_desktop.lan.server import LanServer

_log = logging.getLogger(__name__)

_ANY_ADDRESS = ("0.0.0.0", "::", "")


class LanRuntime:
    """Own the LAN server's lifecycle for one engine."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.server: LanServer | None = None
        self._token: str | None = None
        self._tasks = TaskOwner("lan")
        self._lock = asyncio.Lock()
        self._problem: str | None = None
        self._urls: tuple[str, ...] = ()
        self._host_name = socket.gethostname() or None
        """How other Micboard Desktops show where our receivers come from."""
        engine.lan_listeners.append(self._on_settings_changed)
        engine.lan_state_source = self.state

    async def start(self) -> None:
        """Start the server if the configuration enables it.

        Raises:
            ConfigError: the port is in use, the address cannot be served or a LAN bind has
                no token (names the problem).
        """
        settings = self._engine.config().lan
        self._problem, self._urls = None, ()
        if not settings.enabled:
            return
        try:
            await self._start(settings)
        except ConfigError as exc:
            self._problem = str(exc)
            raise

    async def _start(self, settings: LanSettings) -> None:
        self._token = await asyncio.to_thread(self._engine.secrets.lan_token)
        micboard = self._engine.config().micboard
        server = LanServer(
            self._engine.store,
            self._engine,
            settings,
            token=lambda: self._token,
            cache_timeout=micboard.cache_timeout,
            websocket_broadcasting=micboard.websocket_broadcasting,
            instance=self._instance,
        )
        try:
            with busy_port_is_a_config_error(_port_words(settings), "lan.port"):
                await server.start()
        except OSError as exc:  # any other reason this address cannot be served
            raise ConfigError(
                f"lan.host: cannot serve on {settings.host}:{settings.port} "
                f"({exc.strerror or exc})",
                key="lan.host",
            ) from None
        self.server = server
        port = urlsplit(server.url).port or settings.port
        self._urls = await asyncio.to_thread(reachable_urls, settings.host, port)
        _log.info("LAN API at %s", server.url)

    def _instance(self) -> dict[str, Any] | None:
        """Return this installation's id and host name for ``/api/data/`` (once started)."""
        instance_id = self._engine.instance_id
        return None if instance_id is None else instance_json(instance_id, self._host_name)

    def state(self) -> LanState:
        """Return what the server does now: listening and where, or why it is not."""
        settings = self._engine.config().lan
        running = self.server is not None and self.server.running
        return LanState(
            enabled=settings.enabled,
            running=running,
            urls=self._urls if running else (),
            loopback_only=settings.loopback_only,
            problem=None if running else self._problem,
        )

    async def stop(self) -> None:
        """Stop the server (and any pending restart)."""
        await self._tasks.cancel_all()
        if self.server is not None:
            await self.server.stop()
            self.server = None

    async def restart(self) -> None:
        """Apply new settings or a new token; errors are logged (and kept for :meth:`state`)."""
        async with self._lock:  # two quick Applies must not start two servers
            if self.server is not None:
                await self.server.stop()
                self.server = None
            try:
                await self.start()
            except ConfigError as exc:
                _log.error("LAN API not started: %s", exc)

    async def _on_settings_changed(self, _settings: LanSettings) -> None:
        # The runtime owns the restart: a settings dialog closed half-way (its task
        # cancelled) must not leave the server stopped and never started again.
        await asyncio.shield(self._tasks.spawn(self.restart(), "restart"))


def _port_words(settings: LanSettings) -> str:
    return f"lan.port: {settings.host}:{settings.port}"


def check_lan_settings(settings: LanSettings, token: Callable[[], str | None]) -> None:
    """Refuse LAN settings that cannot work before anything else starts (one line, no device).

    Checks what the server would otherwise find out only after the engine had connected to
    every device: a non-loopback bind without a token, an address this machine does not
    have, a port another program holds. The port is probed by binding it once and letting it
    go at once, with the same address-reuse option the server uses.

    Blocking (it may ask the keyring for ``token``): run it in a thread from the loop.

    Raises:
        ConfigError: naming the key (``lan.host``, ``lan.port``) and the problem.
    """
    if not settings.enabled:
        return
    try:
        infos = socket.getaddrinfo(
            settings.host, settings.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except (OSError, UnicodeError) as exc:
        raise ConfigError(
            f"lan.host: {settings.host!r} is not an address of this machine ({exc})",
            key="lan.host",
        ) from None
    for family, kind, proto, _name, address in infos:
        with socket.socket(family, kind, proto) as probe:
            if os.name != "nt":  # aiohttp sets it too; on Windows it would allow a double bind
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                with busy_port_is_a_config_error(_port_words(settings), "lan.port"):
                    probe.bind(address)
            except OSError as exc:  # any other reason this address cannot be served
                raise ConfigError(
                    f"lan.host: cannot serve on {settings.host}:{settings.port} "
                    f"({exc.strerror or exc})",
                    key="lan.host",
                ) from None
    # Last, and only where it matters: the lookup may consult (and warn about) the keyring.
    if not settings.loopback_only and token() is None:
        raise ConfigError(
            f"lan.host: serving on {settings.host} needs a LAN token (set MICBOARD_LAN_TOKEN "
            "or generate one in Settings), or bind to 127.0.0.1",
            key="lan.host",
        )


def lan_addresses() -> list[str]:
    """Return this machine's IPv4 addresses that other machines can reach, main one first.

    Blocking (it may ask the resolver): run it in a thread from the loop.
    """
    found: list[str] = []
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            # connect() on a UDP socket sends nothing; it picks the default route's address.
            probe.connect(("192.0.2.1", 9))
            found.append(str(probe.getsockname()[0]))
    except OSError:
        pass
    try:
        found += socket.gethostbyname_ex(socket.gethostname())[2]
    except OSError:
        pass
    usable = (a for a in found if not a.startswith("127.") and a != "0.0.0.0")
    return list(dict.fromkeys(usable))


def reachable_urls(host: str, port: int) -> tuple[str, ...]:
    """Return the base URLs (``http://host:port``) at which the server can be reached.

    A wildcard bind (``0.0.0.0``, ``::``) is reached at this machine's LAN addresses, which
    is what front of house must type; any other host at itself.

    Blocking for a wildcard bind (see :func:`lan_addresses`).
    """
    hosts = (lan_addresses() or [socket.gethostname()]) if host in _ANY_ADDRESS else [host]
    return tuple(f"http://{f'[{h}]' if ':' in h else h}:{port}" for h in hosts)


def with_lan_override(settings: LanSettings, address: tuple[str, int] | None) -> LanSettings:
    """Return ``settings`` enabled on ``address`` when ``--lan HOST:PORT`` was given."""
    if address is None:
        return settings
    return replace(settings, enabled=True, host=address[0], port=address[1])
