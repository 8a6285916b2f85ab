"""The ``/api/v1/devices`` resource tree of the Shure System API simulator.

Paths are dispatched from the *raw* path, segment by segment, so percent-encoded channel ids
(standard base64 may contain ``/``, ``+`` and ``=``) survive intact.
"""

from __future__ import annotations

import json
from typing import Any, Final, Literal, Protocol
from urllib.parse import unquote

from aiohttp import web

from micboard_desktop.simulator.rig import Rig, SimChannel, SimReceiver
from micboard_desktop.simulator.shure.system_api.events import (
    CHANNEL_RESOURCES,
    DEVICE_RESOURCES,
    EventHub,
)
from micboard_desktop.simulator.shure.system_api.model import (
    GAIN_RANGE,
    JsonObject,
    activity,
    audio_channels,
    battery_health,
    battery_level,
    capabilities,
    channel_capabilities,
    decode_cursor,
    encode_cursor,
    find_channel,
    problem,
)

MAX_PAGE: Final = 1000
MAX_NAME: Final = 31

ListShape = Literal["relay", "array"]
"""How the inventory is listed: Relay pages (``relay``) or one bare array (``array``)."""


class ApiServer(Protocol):
    """What the routes need of the server (:class:`.server.ShureSystemApiServer`).

    A protocol, so that the server imports the routes and the routes never import it back.
    """

    @property
    def hub(self) -> EventHub:
        """The transports, subscriptions and device lookup."""
        ...

    @property
    def rig(self) -> Rig:
        """The simulated rig (writes are reported to it)."""
        ...

    @property
    def list_shape(self) -> ListShape:
        """How ``GET /api/v1/devices`` lists the inventory."""
        ...

    @property
    def page_size(self) -> int | None:
        """Relay page size (``None``: everything on one page)."""
        ...

    @property
    def identifying(self) -> dict[str, bool]:
        """Device id -> identify (flashing) state."""
        ...

    @property
    def device_muted(self) -> dict[str, bool]:
        """Device id -> device-wide mute."""
        ...

    def node(self, receiver: SimReceiver) -> JsonObject:
        """Return the inventory node of ``receiver``."""
        ...

    def text(self, value: str) -> str:
        """Return a device string as sent (hostile under the fault switch)."""
        ...


def problem_response(status: int, title: str, detail: str = "") -> web.Response:
    """Return a ProblemDetails response."""
    return web.json_response(
        problem(status, title, detail), status=status, content_type="application/problem+json"
    )


async def read_json(request: web.Request) -> Any:
    """Return the parsed JSON body, or ``None`` when it is missing or invalid."""
    try:
        return json.loads(await request.read() or b"null")
    except (ValueError, UnicodeDecodeError):
        return None


def _no_content() -> web.Response:
    """Return the 204 answer of a successful write."""
    return web.Response(status=204)


_NOT_ALLOWED = (405, "Method Not Allowed")
_UNSUPPORTED = (405, "Capability not supported")


class DeviceRoutes:
    """Answer every request under ``/api/v1/devices``."""

    def __init__(self, server: ApiServer) -> None:
        self._server = server

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        """Route a request by its raw path segments."""
        raw = request.raw_path.split("?", 1)[0]
        parts = [unquote(p) for p in raw.split("/")[4:] if p]  # after /api/v1/devices
        method = request.method
        if not parts:
            return self._list(request) if method == "GET" else problem_response(*_NOT_ALLOWED)
        if parts[0] == "subscription" and len(parts) == 2:
            return self._subscribe(method, parts[1], ("devices",))
        receiver = self._server.hub.device(parts[0])
        if receiver is None:
            return problem_response(404, "Device not found.", f"No device with id {parts[0]}")
        rest = parts[1:]
        if len(rest) >= 2 and rest[0] == "audio-channels":
            return await self._channel(request, receiver, rest[1], rest[2:])
        if len(rest) == 3 and rest[1] == "subscription":
            if rest[0] not in DEVICE_RESOURCES:
                return problem_response(404, "Resource not found.")
            if rest[0] not in capabilities(receiver):
                return problem_response(*_UNSUPPORTED)
            return self._subscribe(method, rest[2], (receiver.device_id.lower(), rest[0]))
        return await self._device(request, receiver, rest)

    def _list(self, request: web.Request) -> web.StreamResponse:
        """Answer ``GET /devices`` with a Relay page (``first`` / ``after``), or a bare array."""
        devices = self._server.hub.devices()
        if self._server.list_shape == "array":
            return web.json_response([self._server.node(d) for d in devices])
        start = 0
        after = request.query.get("after")
        if after is not None:
            device_id = decode_cursor(after)
            ids = [d.device_id.lower() for d in devices]
            if device_id is None or device_id.lower() not in ids:
                return problem_response(400, "Invalid cursor.", "after is not a known cursor")
            start = ids.index(device_id.lower()) + 1
        size = self._server.page_size or len(devices)
        first = request.query.get("first")
        if first is not None:
            if not first.isdigit() or not 1 <= int(first) <= MAX_PAGE:
                return problem_response(400, "Invalid page size.", f"first must be 1-{MAX_PAGE}")
            size = int(first)
        page = devices[start : start + size]
        edges = [
            {"cursor": encode_cursor(d.device_id), "node": self._server.node(d)} for d in page
        ]
        info = {
            "hasNextPage": start + len(page) < len(devices),
            "hasPreviousPage": start > 0,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        }
        return web.json_response({"pageInfo": info, "edges": edges})

    def _subscribe(self, method: str, transport_id: str, topic: tuple[str, ...]) -> web.Response:
        """Add (POST) or remove (DELETE) a transport's subscription to ``topic``."""
        transport = self._server.hub.transports.get(transport_id)
        if transport is None:
            return problem_response(404, "Transport not found.", f"No transport {transport_id}")
        if method == "POST":
            transport.topics.add(topic)
        elif method == "DELETE":
            transport.topics.discard(topic)
        else:
            return problem_response(*_NOT_ALLOWED)
        return _no_content()

    async def _device(
        self, request: web.Request, receiver: SimReceiver, rest: list[str]
    ) -> web.StreamResponse:
        """Answer the device-level resources."""
        server, method = self._server, request.method
        key = receiver.device_id
        path = "/".join(rest)
        caps = capabilities(receiver)
        resource = rest[0] if rest else ""
        if resource and resource not in ("capabilities", "audio-channels") and resource not in caps:
            return problem_response(*_UNSUPPORTED)
        match (method, path):
            case ("GET", ""):
                return web.json_response(server.node(receiver))
            case ("GET", "capabilities"):
                return web.json_response(caps)
            case ("GET", "audio-channels"):
                return web.json_response(audio_channels(receiver))
            case ("GET", "name"):
                return web.json_response({"name": server.text(receiver.name)})
            case ("PATCH", "name"):
                name = await _field(request, "name", str)
                if not isinstance(name, str) or not 1 <= len(name) <= MAX_NAME:
                    return problem_response(400, "Invalid name.", f"1-{MAX_NAME} characters")
                receiver.name = name
                server.rig.changed(receiver, None, "device_name")
                return _no_content()
            case ("GET", "identify"):
                return web.json_response({"identifying": server.identifying.get(key, False)})
            case ("POST", "identify/start" | "identify/stop"):
                server.identifying[key] = path.endswith("start")
                server.hub.device_change(receiver, "identify")
                return _no_content()
            case ("GET", "audio-mute"):
                return web.json_response({"muted": server.device_muted.get(key, False)})
            case ("PATCH", "audio-mute"):
                muted = await _field(request, "muted", bool)
                if not isinstance(muted, bool):
                    return problem_response(400, "Invalid value.", "muted must be a boolean")
                server.device_muted[key] = muted
                server.hub.device_change(receiver, "device_audio_mute")
                return _no_content()
            case ("POST", "reboot"):
                return _no_content()
            case ("GET", "battery-level") if receiver.device_battery is not None:
                return web.json_response(battery_level(receiver.device_battery))
            case ("GET", "battery-health") if receiver.device_battery is not None:
                return web.json_response(battery_health(receiver.device_battery))
        return problem_response(404, "Resource not found.", f"/{path}")

    async def _channel(
        self, request: web.Request, receiver: SimReceiver, chan_id: str, rest: list[str]
    ) -> web.StreamResponse:
        """Answer ``/devices/{id}/audio-channels/{chId}/...``."""
        channel = find_channel(receiver, chan_id)
        if channel is None:
            return problem_response(404, "Audio channel not found.", f"No channel {chan_id}")
        if not rest:
            return problem_response(404, "Resource not found.")
        resource = rest[0]
        if resource not in CHANNEL_RESOURCES:
            return problem_response(404, "Resource not found.", f"/{'/'.join(rest)}")
        if resource not in channel_capabilities(receiver):
            return problem_response(*_UNSUPPORTED)
        if len(rest) == 3 and rest[1] == "subscription":
            topic = (receiver.device_id.lower(), chan_id, resource)
            return self._subscribe(request.method, rest[2], topic)
        if rest == ["gain", "description"] and request.method == "GET":
            return web.json_response({"constraints": {"gain": {"range": GAIN_RANGE}}})
        if len(rest) != 1:
            return problem_response(404, "Resource not found.")
        if request.method == "GET":
            body = _channel_body(channel, resource)
            if "name" in body:
                body["name"] = self._server.text(body["name"])
            return web.json_response(body)
        if request.method != "PATCH" or resource == "activity":
            return problem_response(*_NOT_ALLOWED)
        return await self._patch_channel(request, receiver, channel, resource)

    async def _patch_channel(
        self, request: web.Request, receiver: SimReceiver, channel: SimChannel, resource: str
    ) -> web.StreamResponse:
        """Apply a channel PATCH (``name``, ``mute`` or ``gain``) and announce it."""
        if resource == "name":
            name = await _field(request, "name", str)
            if not isinstance(name, str) or not 1 <= len(name) <= MAX_NAME:
                return problem_response(400, "Invalid name.", f"1-{MAX_NAME} characters")
            channel.name = name
            kind = "channel_name"
        elif resource == "mute":
            muted = await _field(request, "muted", bool)
            if not isinstance(muted, bool):
                return problem_response(400, "Invalid value.", "muted must be a boolean")
            channel.audio_muted = muted
            kind = "audio_mute"
        else:
            gain = await _field(request, "gain", int)
            if not isinstance(gain, int) or not GAIN_RANGE["min"] <= gain <= GAIN_RANGE["max"]:
                return problem_response(400, "Invalid value.", "gain out of range")
            channel.audio_gain_db = gain
            kind = "audio_gain"
        self._server.rig.changed(receiver, channel, kind)
        return _no_content()


def _channel_body(channel: SimChannel, resource: str) -> JsonObject:
    """Return the GET body of a channel resource."""
    if resource == "name":
        return {"name": channel.name}
    if resource == "mute":
        return {"muted": channel.audio_muted}
    if resource == "gain":
        return {"gain": channel.audio_gain_db}
    return {"audioLevel": activity(channel)}


async def _field(request: web.Request, name: str, kind: type) -> object:
    """Return ``body[name]`` if the JSON body has it with type ``kind``, else ``None``."""
    data = await read_json(request)
    value = data.get(name) if isinstance(data, dict) else None
    if kind is int and isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) and kind is not bool:
        return None
    return value if isinstance(value, kind) else None
