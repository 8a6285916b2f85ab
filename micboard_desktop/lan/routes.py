"""Request handlers of the LAN API (docs/contract.md §3); the engine only via EngineControl.

Reads are answered from the store's in-memory snapshot; nothing here touches a database.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Final

from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError

from micboard_desktop.core.control import EngineControl
from micboard_desktop.core.errors import ConfigError, NameTaken
from micboard_desktop.core.model import Health, Receiver, ReceiverId
from micboard_desktop.core.status import StatusThresholds
from micboard_desktop.core.store import StateStore
from micboard_desktop.lan import serialize
from micboard_desktop.lan.answers import JSON_TYPE, json_ok
from micboard_desktop.lan.cache import DataCache
from micboard_desktop.lan.errors import ApiError, bad_request, not_found
from micboard_desktop.lan.events import KEEP_ALIVE, EventHub
from micboard_desktop.lan.metrics import MetricsRoute
from micboard_desktop.lan.openapi import openapi_document
from micboard_desktop.lan.phone import PhoneRoutes
from micboard_desktop.lan.rf import RfRoutes
from micboard_desktop.lan.show import ShowRoutes
from micboard_desktop.lan.swaps import SwapRoutes

_SECRET_WORDS: Final = ("password", "secret", "token", "key", "credential")
_MAX_NAME: Final = 200
_MAX_LIST: Final = 512
"""Most items a list setting (a device list) may have."""
_MAX_CHANNELS: Final = 2000
BODY_TIMEOUT_SECONDS: Final = 10.0
"""Longest a request body may take to arrive (a slow body holds a handler open)."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
InstanceSource = Callable[[], dict[str, Any] | None]
"""Returns the ``instance`` object of ``/api/data/`` (serialize.instance_json), if known."""


class ApiRoutes:
    """The handlers, bound to the store, the engine and the shared cache and event hub."""

    def __init__(
        self,
        store: StateStore,
        engine: EngineControl,
        *,
        cache: DataCache,
        hub: EventHub,
        websocket_broadcasting: bool,
        keep_alive_seconds: float,
        write_timeout_seconds: float,
        body_timeout_seconds: float = BODY_TIMEOUT_SECONDS,
        instance: InstanceSource | None = None,
    ) -> None:
        self._store = store
        self._instance = instance
        self._engine = engine
        self._cache = cache
        self._hub = hub
        self._broadcasting = websocket_broadcasting
        self._keep_alive = keep_alive_seconds
        self._write_timeout = write_timeout_seconds
        self._body_timeout = body_timeout_seconds

    def register(self, app: web.Application) -> None:
        """Add every route to ``app``."""
        get = app.router.add_get
        post = app.router.add_post
        get("/api/data/", self.data)
        get("/api/receivers/", self.receivers)
        get("/api/receivers/{id}/", self.receiver)
        get("/api/chargers/", self.chargers)
        get("/api/health/", self.health)
        get("/api/events/", self.events, allow_head=False)  # HEAD would hold a stream open
        get("/api/openapi.json", self.openapi)
        post("/api/refresh/", self.refresh)
        post("/api/discover/", self.discover)
        post("/api/config/", self.config)
        post("/api/group/", self.group)
        ShowRoutes(self._store, self._engine).register(app)  # alerts, history, markers (§6)
        MetricsRoute(self._store, self._engine).register(app)  # Prometheus (§6)
        SwapRoutes(self._engine).register(app)  # the battery-swap log (an extension)
        RfRoutes(self._engine).register(app)  # the RF picture (an extension)
        PhoneRoutes().register(app)  # the read-only phone page at / (an extension)

    # -- shared helpers ------------------------------------------------------------------

    def thresholds(self, code: str) -> StatusThresholds:
        """Return the alert thresholds in force for manufacturer ``code``."""
        return self._engine.config().thresholds_for(code)

    def known_codes(self) -> set[str]:
        """Return every manufacturer code the store or the engine knows."""
        return set(self._store.snapshot().manufacturers) | set(self._engine.manufacturer_codes())

    def manufacturer_filter(self, request: web.Request) -> str | None:
        """Return the ``?manufacturer=`` filter, or raise 404 for an unknown code."""
        code = request.query.get("manufacturer")
        if code is None:
            return None
        if code not in self.known_codes():
            raise ApiError(404, "unknown_manufacturer", f"unknown manufacturer {code[:64]!r}")
        return code

    def render_receivers(self, receivers: Iterable[Receiver]) -> list[dict[str, Any]]:
        """Serialize receivers with their thresholds, slot numbers, spares and runtime estimates."""
        # The same numbers and spare flags as /api/data/: the receiver lists and the event
        # stream too. One snapshot, so both come from the same moment.
        snapshot = self._store.snapshot()
        return serialize.receivers_json(
            receivers, self.thresholds, slots=snapshot.slots, spares=snapshot.spares,
            estimates=snapshot.estimates,
        )

    def render_health(self, manufacturer: str | None) -> dict[str, Any]:
        """Return the health document: the engine's report over the store's last known."""
        report = self._engine.health()
        merged: dict[str, Health] = {
            code: m.health for code, m in self._store.snapshot().manufacturers.items()
        }
        merged.update(report.manufacturers)
        document = serialize.health_document(report.status, merged, manufacturer)
        if manufacturer is None and report.storage is not None:
            document["storage"] = serialize.health_json(report.storage)
        return document

    # -- reads ---------------------------------------------------------------------------

    async def data(self, request: web.Request) -> web.StreamResponse:
        """GET /api/data/: the whole picture, served from the cache."""
        code = self.manufacturer_filter(request)

        def build() -> bytes:
            # Spliced: only receivers that changed since the last build are serialized.
            return self._cache.document.encode(
                self._store.snapshot(), manufacturer=code, thresholds=self.thresholds,
                instance=self._instance() if self._instance is not None else None,
            )

        body = self._cache.get(code, build)
        return web.Response(
            body=body, content_type=JSON_TYPE, headers={"Cache-Control": "no-store"}
        )

    async def receivers(self, request: web.Request) -> web.StreamResponse:
        """GET /api/receivers/: every receiver (of one manufacturer)."""
        code = self.manufacturer_filter(request)
        chosen = serialize.select_receivers(self._store.snapshot(), code)
        return json_ok({"receivers": self.render_receivers(chosen)})

    async def receiver(self, request: web.Request) -> web.StreamResponse:
        """GET /api/receivers/{id}/: one receiver or 404."""
        code = self.manufacturer_filter(request)
        rid = request.match_info["id"]
        found = self._store.snapshot().receivers.get(ReceiverId(rid))
        if found is None or (code is not None and found.manufacturer != code):
            raise not_found(f"no receiver {rid[:200]!r}")
        return json_ok(self.render_receivers([found])[0])

    async def chargers(self, request: web.Request) -> web.StreamResponse:
        """GET /api/chargers/: every charger (of one manufacturer) with its bays."""
        code = self.manufacturer_filter(request)
        chosen = serialize.select_chargers(self._store.snapshot(), code)
        return json_ok({"chargers": [serialize.charger_json(c) for c in chosen]})

    async def health(self, request: web.Request) -> web.StreamResponse:
        """GET /api/health/: overall and per-manufacturer health."""
        return json_ok(self.render_health(self.manufacturer_filter(request)))

    async def openapi(self, _request: web.Request) -> web.StreamResponse:
        """GET /api/openapi.json: the OpenAPI description of this API."""
        return json_ok(openapi_document())

    async def events(self, request: web.Request) -> web.StreamResponse:
        """GET /api/events/: the Server-Sent Events stream."""
        code = self.manufacturer_filter(request)
        if not self._broadcasting:
            raise ApiError(503, "events_disabled", "live updates are off (websocket_broadcasting)")
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        transport = request.transport
        # Aborting the socket is what unblocks a handler stuck writing to a client that
        # stopped reading; a sentinel in its (full) queue would never be seen.
        client = self._hub.connect(code, transport.abort if transport is not None else lambda: None)
        try:
            await response.write(b"retry: 3000\n\n")
            while True:
                try:
                    frame = await asyncio.wait_for(client.queue.get(), self._keep_alive)
                except TimeoutError:
                    frame = KEEP_ALIVE
                if frame is None or client.dropped:
                    break
                await asyncio.wait_for(response.write(frame), self._write_timeout)
        except (ConnectionError, TimeoutError):
            client.on_drop()  # gone or too slow: free the socket now
        finally:
            self._hub.disconnect(client)
        with contextlib.suppress(ConnectionError):
            await response.write_eof()
        return response

    # -- control -------------------------------------------------------------------------

    async def refresh(self, request: web.Request) -> web.StreamResponse:
        """POST /api/refresh/: poll now."""
        code = self.manufacturer_filter(request)
        await self._engine.refresh(code)
        return json_ok({"accepted": True, "manufacturer": code}, status=202)

    async def discover(self, request: web.Request) -> web.StreamResponse:
        """POST /api/discover/: run discovery and list what was found."""
        code = self.manufacturer_filter(request)
        found = await self._engine.discover(code)
        return json_ok({"discovered": [_public(item) for item in found]}, status=202)

    async def config(self, request: web.Request) -> web.StreamResponse:
        """POST /api/config/: change one global or per-manufacturer setting."""
        body = await read_object(request, self._body_timeout)
        manufacturer = body.get("manufacturer")
        key = body.get("key")
        value = body.get("value")
        if manufacturer is not None and not isinstance(manufacturer, str):
            raise bad_request("'manufacturer' must be a manufacturer code or null")
        if not isinstance(key, str) or not key or len(key) > _MAX_NAME:
            raise bad_request("'key' must be a non-empty setting name")
        if "value" not in body or not _is_setting_value(value):
            raise bad_request("'value' must be a string, number, boolean, null or list of strings")
        if manufacturer is not None and manufacturer not in self.known_codes():
            raise ApiError(404, "unknown_manufacturer", f"unknown manufacturer {manufacturer!r}")
        try:
            await self._engine.set_config(manufacturer, key, value)
        except ConfigError as exc:
            name = exc.key or key
            text = str(exc)
            # ConfigError messages already start with the key they name; say it once.
            message = text if text.startswith(f"{name}:") else f"{name}: {text}"
            raise ApiError(400, "invalid_config", message) from None
        return json_ok({"manufacturer": manufacturer, "key": key, "updated": True})

    async def group(self, request: web.Request) -> web.StreamResponse:
        """POST /api/group/: create, rename or delete a group and set its channels."""
        body = await read_object(request, self._body_timeout)
        action = body.get("action", "save")
        name = body.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > _MAX_NAME:
            raise bad_request("'name' must be a non-empty group name")
        if action == "delete":
            if not await self._engine.delete_group(name):
                raise not_found(f"no group {name!r}")
            return json_ok({"deleted": name})
        if action != "save":
            raise bad_request('\'action\' must be "save" or "delete"')
        channels = body.get("channels", [])
        rename_to = body.get("rename_to")
        if (
            not isinstance(channels, list)
            or len(channels) > _MAX_CHANNELS
            or not all(isinstance(c, str) for c in channels)
        ):
            raise bad_request("'channels' must be a list of channel ids")
        if rename_to is not None and (
            not isinstance(rename_to, str) or not rename_to.strip() or len(rename_to) > _MAX_NAME
        ):
            raise bad_request("'rename_to' must be a non-empty group name or null")
        try:
            group = await self._engine.save_group(name, channels, rename_to=rename_to)
        except NameTaken as exc:
            raise ApiError(409, "group_exists", str(exc)) from None
        return json_ok(
            {"group": {"name": group.name, "channels": list(group.channel_ids), "slot": group.slot}}
        )


async def read_object(
    request: web.Request, seconds: float = BODY_TIMEOUT_SECONDS
) -> dict[str, Any]:
    """Read the body as one JSON object of valid text, or raise 400 (408, 413 if it applies).

    The deadline also ends a wait aiohttp would not: when a ``deflate`` body turns out
    broken only at its end and arrives after the head, aiohttp reports the error to the
    next request instead of failing this body, so the read would wait for ever.
    """
    try:
        async with asyncio.timeout(seconds):
            raw = await request.read()
    except TimeoutError:
        _end_body(request)
        raise ApiError(
            408,
            "request_timeout",
            f"the request body did not arrive within {seconds:g} s",
            close=True,
        ) from None
    except (RequestPayloadError, ConnectionError):
        # A body that cannot be decoded (bad chunking, a broken gzip stream) or a client
        # that went away in the middle of it.
        _end_body(request)
        raise ApiError(
            400, "bad_request", "the request body could not be read", close=True
        ) from None
    try:
        data = json.loads(raw)
    except RecursionError:
        raise bad_request("the body is nested too deeply") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise bad_request("the body must be a JSON object") from None
    except ValueError:
        # int() refuses more than sys.get_int_max_str_digits() digits (CVE-2020-10735).
        raise bad_request("the body has a number with too many digits") from None
    if not isinstance(data, dict):
        raise bad_request("the body must be a JSON object")
    where = _invalid_text(data, "")
    if where is not None:
        raise bad_request(f"{where!r} is not valid text (a lone UTF-16 surrogate)")
    return data


def _end_body(request: web.Request) -> None:
    """Mark a body we gave up on as ended, so aiohttp does not try to read the rest.

    aiohttp drains an unread body after the answer ("lingering"); on a broken stream
    that raises again and logs an error for every hostile request. The answer closes the
    connection instead (``ApiError(close=True)``).
    """
    request.content.feed_eof()


def _invalid_text(value: object, path: str) -> str | None:
    r"""Return the path of the first key or string that UTF-8 cannot encode, or None.

    JSON's ``\\ud800`` escapes decode to lone surrogates; such a string would fail much
    later, when it is written to the database or into an answer. The walk uses its own
    stack: the parser accepts nesting deeper than a recursive walk could follow.
    """
    pending: list[tuple[object, str]] = [(value, path)]
    while pending:
        item, where = pending.pop()
        if isinstance(item, str):
            if not item.isascii() and not _encodes(item):
                return where or "body"
        elif isinstance(item, dict):
            if not all(_encodes(key) for key in item):
                return f"{where}.<key>" if where else "<key>"
            pending.extend(
                (child, f"{where}.{key}" if where else key) for key, child in reversed(item.items())
            )
        elif isinstance(item, list):
            pending.extend((child, f"{where}[{i}]") for i, child in reversed(list(enumerate(item))))
    return None


def _encodes(text: str) -> bool:
    """Return True when ``text`` has no lone surrogate (UTF-8 can encode it)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_setting_value(value: object) -> bool:
    """Return True for what settings take: a JSON scalar or a short list of strings."""
    if isinstance(value, list):
        return len(value) <= _MAX_LIST and all(
            isinstance(v, str) and len(v) <= _MAX_NAME for v in value
        )
    return _is_scalar(value)


def _is_scalar(value: object) -> bool:
    """Return True for a JSON scalar."""
    if isinstance(value, float):
        return value == value and value not in (float("inf"), float("-inf"))
    scalar: tuple[type, ...] = (str, int, bool, type(None))
    return isinstance(value, scalar)


def _public(item: Mapping[str, str]) -> dict[str, str]:
    """Return a discovery entry without anything that looks like a credential."""
    return {
        str(k): str(v)
        for k, v in item.items()
        if not any(word in str(k).lower() for word in _SECRET_WORDS)
    }
