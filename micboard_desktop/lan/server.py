"""LanServer: the embedded aiohttp LAN API, running on the app's own event loop.

``app/lan_runtime.py`` decides whether it runs (it is off by default) and hands it the store,
an :class:`~micboard_desktop.core.control.EngineControl` and the token; this package never
imports the engine, the database or the keyring.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterable
from typing import Final

from aiohttp import web

from micboard_desktop.core.config import LanSettings
from micboard_desktop.core.control import EngineControl
from micboard_desktop.core.errors import ConfigError
from micboard_desktop.core.redact import register_secret
from micboard_desktop.core.store import StateStore
from micboard_desktop.lan.auth import MAX_BODY_BYTES, AccessPolicy, TokenSource, access_middleware
from micboard_desktop.lan.auth import current_token as _current_token
from micboard_desktop.lan.cache import DataCache
from micboard_desktop.lan.errors import error_middleware
from micboard_desktop.lan.events import COALESCE_SECONDS, MAX_QUEUED_EVENTS, EventHub
from micboard_desktop.lan.hosts import HostPolicy, host_middleware, server_names
from micboard_desktop.lan.phone import PUBLIC_PATHS
from micboard_desktop.lan.protocol import HEAD_TIMEOUT_SECONDS, LanRunner
from micboard_desktop.lan.routes import BODY_TIMEOUT_SECONDS, ApiRoutes, InstanceSource

_log = logging.getLogger(__name__)

KEEP_ALIVE_SECONDS: Final = 15.0
WRITE_TIMEOUT_SECONDS: Final = 10.0
SHUTDOWN_SECONDS: Final = 2.0


class LanServer:
    """Serves docs/contract.md §3 over HTTP from the store's snapshot."""

    def __init__(
        self,
        store: StateStore,
        engine: EngineControl,
        settings: LanSettings,
        *,
        token: TokenSource,
        cache_timeout: float,
        websocket_broadcasting: bool,
        bind_host: str | None = None,
        coalesce_seconds: float = COALESCE_SECONDS,
        keep_alive_seconds: float = KEEP_ALIVE_SECONDS,
        max_queued_events: int = MAX_QUEUED_EVENTS,
        write_timeout_seconds: float = WRITE_TIMEOUT_SECONDS,
        max_body_bytes: int = MAX_BODY_BYTES,
        head_timeout_seconds: float = HEAD_TIMEOUT_SECONDS,
        body_timeout_seconds: float = BODY_TIMEOUT_SECONDS,
        server_names_extra: Iterable[str] = (),
        instance: InstanceSource | None = None,
    ) -> None:
        """Prepare the server; nothing listens until :meth:`start`.

        Args:
            store: the live state to serve.
            engine: commands and health, the only way to the engine.
            settings: ``[lan]``; ``host`` also decides the access rules.
            token: the LAN token, or a callable returning the current one.
            cache_timeout: seconds an unchanged ``/api/data/`` answer may be reused.
            websocket_broadcasting: False turns ``/api/events/`` off (503).
            bind_host: test seam: listen here instead of ``settings.host`` while the rules
                still follow ``settings.host`` (lets tests check non-loopback rules on
                127.0.0.1 without opening a public interface).
            coalesce_seconds: after a ``device_update`` is sent, further changes wait until
                this window ends and go out together (the first change after a quiet window
                goes out at once).
            keep_alive_seconds: idle time before an SSE keep-alive comment.
            max_queued_events: events queued per SSE client before it is dropped.
            write_timeout_seconds: an SSE write blocked this long drops the client.
            max_body_bytes: larger request bodies get 413.
            head_timeout_seconds: a client that takes longer to send a request's line and
                headers gets 408 and is disconnected.
            body_timeout_seconds: a request body that takes longer to arrive gets 408.
            server_names_extra: names besides ``localhost`` and ``settings.host`` that
                clients may put in ``Host`` (any IP literal is always accepted).
            instance: returns this installation's ``instance`` object for ``/api/data/``
                (another Micboard Desktop refuses a loop with it); none: not served.
        """
        self.settings = settings
        self._bind_host = bind_host or settings.host
        self._token = token
        self.cache = DataCache(store, cache_timeout)
        # The hub renders through the routes (thresholds and health come from the engine);
        # the lambdas resolve ``self._routes`` when events are sent, after it exists.
        self.hub = EventHub(
            store,
            render_receivers=lambda receivers: self._routes.render_receivers(receivers),
            render_health=lambda code: self._routes.render_health(code),
            coalesce_seconds=coalesce_seconds,
            max_queued_events=max_queued_events,
            on_publish=self.cache.published,  # /api/data/ never older than a sent event
        )
        self._routes = ApiRoutes(
            store,
            engine,
            cache=self.cache,
            hub=self.hub,
            websocket_broadcasting=websocket_broadcasting,
            keep_alive_seconds=keep_alive_seconds,
            write_timeout_seconds=write_timeout_seconds,
            body_timeout_seconds=body_timeout_seconds,
            instance=instance,
        )
        self._hosts = HostPolicy(server_names(settings.host, server_names_extra))
        self._head_timeout = head_timeout_seconds
        self._policy = AccessPolicy(
            token=token,
            require_token=not settings.loopback_only,
            allow_control=settings.allow_control,
            max_body_bytes=max_body_bytes,
            public_paths=PUBLIC_PATHS,  # the phone page's shell; its data needs the token
        )
        self._runner: web.AppRunner | None = None
        self._url: str | None = None

    @property
    def url(self) -> str:
        """Return the base URL the server listens on (``http://host:port``)."""
        if self._url is None:
            raise RuntimeError("the LAN server is not running")
        return self._url

    @property
    def running(self) -> bool:
        """Return True between :meth:`start` and :meth:`stop`."""
        return self._runner is not None

    def build_app(self) -> web.Application:
        """Return the aiohttp application (routes, middlewares, limits)."""
        app = web.Application(
            # The Host/Origin check comes before the token check: a rebinding page gets 421
            # or 403 whatever else it sends.
            middlewares=[
                error_middleware,
                host_middleware(self._hosts),
                access_middleware(self._policy),
            ],
            client_max_size=self._policy.max_body_bytes,
        )
        self._routes.register(app)
        return app

    async def start(self) -> None:
        """Bind and serve on the running loop.

        Raises:
            ConfigError: a non-loopback bind without a token (it would be open to the LAN).
            OSError: the address is in use or cannot be bound.
        """
        if self._runner is not None:
            return
        token = _current_token(self._token)
        if not self.settings.loopback_only and token is None:
            raise ConfigError(
                f"lan.host: serving on {self.settings.host} needs a LAN token "
                "(generate one in settings or set MICBOARD_LAN_TOKEN)",
                key="lan.host",
            )
        register_secret(token)
        runner = LanRunner(
            self.build_app(),
            head_timeout=self._head_timeout,
            access_log=None,
            shutdown_timeout=SHUTDOWN_SECONDS,
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, self._bind_host, self.settings.port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self.cache.start()
        self.hub.start()
        self._runner = runner
        self._url = _url_of(runner.addresses, self._bind_host, self.settings.port)
        _log.info(
            "LAN API listening on %s (control %s); phone page at %s/",
            self._url,
            "on" if self.settings.allow_control else "off",
            self._url,
        )

    async def stop(self) -> None:
        """End every event stream, stop listening and free the port."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        self.hub.stop()
        self.cache.stop()
        await runner.cleanup()
        self._url = None
        _log.info("LAN API stopped")


def _url_of(addresses: list[object], host: str, port: int) -> str:
    """Return ``http://host:port`` with the port actually bound (``port=0`` in tests)."""
    bound = port
    for address in addresses:
        if isinstance(address, tuple) and len(address) >= 2 and isinstance(address[1], int):
            bound = address[1]
            break
    shown = f"[{host}]" if ":" in host else host
    if host in ("0.0.0.0", "::"):
        shown = socket.gethostname()
    return f"http://{shown}:{bound}"
