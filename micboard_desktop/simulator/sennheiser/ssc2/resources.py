"""The resource-tree model behind a simulated SSCv2 device: JSON values, errors, the base tree.

A tree maps every declared resource path to a getter that reads the rig *now* and, for
writable resources, a setter that takes a partial JSON body. Collections (``/api/rf/channels``)
render as arrays and notify per item path. The family trees (EW-DX, Spectera) only register
resources; serving, auth and subscriptions live in :mod:`.server`.

With the ``hostile_strings`` fault on, every text field a client shows (device name,
location, position, channel and mobile-device names, serial, vendor) reads
:data:`~micboard_desktop.simulator.faults.HOSTILE_TEXT`; JSON carries its lone surrogate as
a JSON unicode escape, which is valid JSON that decodes to an unencodable string.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from micboard_desktop.simulator.faults import HOSTILE_TEXT, FaultSwitches
from micboard_desktop.simulator.rig import Rig, SimReceiver

type Json = bool | int | float | str | list[Json] | dict[str, Json] | None
"""Any JSON value."""

type JsonObject = dict[str, Json]
"""A JSON object (every SSCv2 resource body and every partial write)."""

Getter = Callable[[], Json]
"""Return a resource body now, or ``None`` while the resource is absent (answered 422)."""

Setter = Callable[[JsonObject], None]
"""Apply a partial body; raise :class:`SscError` to refuse it."""

HOSTILE_FIELDS = frozenset({"deviceName", "location", "position", "name", "serial", "vendor"})
"""Text fields replaced by ``HOSTILE_TEXT`` under ``hostile_strings`` (``product`` is kept so
the client still recognises the family)."""

VENDOR = "Sennheiser electronic GmbH & Co. KG"
"""``identity.vendor`` as the TCC M OpenAPI example spells it."""


class SscError(Exception):
    """A request the device refuses: an HTTP status plus the SSCv2 ``{path, error}`` body."""

    def __init__(self, status: int, path: str, error: int | None = None) -> None:
        super().__init__(f"{status} {path}")
        self.status = status
        self.path = path
        self.error = status if error is None else error

    @property
    def body(self) -> JsonObject:
        """Return the error object (``{"path": …, "error": …}``, as on subscription 400s)."""
        return {"path": self.path, "error": self.error}


@dataclass(frozen=True, slots=True)
class Resource:
    """One addressable resource (a leaf, or an item of a collection)."""

    get: Getter
    put: Setter | None = None
    fast: bool = False
    """A meter ("FastResource"): sampled on the meter clock, never announced by the rig."""


@dataclass(frozen=True, slots=True)
class Collection:
    """A collection resource; its items are registered as resources under ``<path>/<id>``."""

    item_ids: Callable[[], list[str]]
    """Ids of the items that exist right now, in display order."""
    fast: bool = False


def canonical_path(path: str) -> str:
    """Return ``path`` in the ``/api/...`` form every client uses (short form tolerated)."""
    path = path.rstrip("/") or "/"
    if not path.startswith("/api/") and path != "/api":
        # The OAS examples sometimes drop the /api prefix; accepting it is harmless.
        path = "/api" + (path if path.startswith("/") else "/" + path)
    return path


def fields(path: str, body: Json, allowed: dict[str, type | tuple[type, ...]]) -> JsonObject:
    """Check a partial write body: an object whose keys are known and typed; else 400."""
    if not isinstance(body, dict) or not body:
        raise SscError(400, path)
    for key, value in body.items():
        expected = allowed.get(key)
        # bool is an int subclass; a JSON true must not pass as a frequency.
        if expected is None or isinstance(value, bool) is not (expected is bool):
            raise SscError(400, path)
        if not isinstance(value, expected):
            raise SscError(400, path)
    return body


def text(path: str, value: Json, max_length: int) -> str:
    """Return ``value`` as a name of at most ``max_length`` characters; else 422."""
    if not isinstance(value, str) or len(value) > max_length:
        raise SscError(422, path)
    return value


def serial_of(receiver: SimReceiver) -> str:
    """Return the receiver serial, or a stable 10-digit one derived from its device id."""
    if receiver.serial:
        return receiver.serial
    return f"{zlib.crc32(receiver.device_id.encode()) % 10**10:010d}"


class ResourceTree:
    """Every resource one simulated SSCv2 device declares, read live from the rig."""

    default_username = "api"
    """HTTP Basic user name of the family."""
    site_name_max = 64
    """Longest ``deviceName``/``location``/``position`` accepted (the password rule's 64) [INF]."""

    def __init__(
        self, rig: Rig, receiver: SimReceiver, faults: FaultSwitches | None = None
    ) -> None:
        self.rig = rig
        self.receiver = receiver
        self.faults = faults if faults is not None else FaultSwitches()
        # Site location/position have no rig field; only this device knows them.
        self._location = ""
        self._position = ""
        self._resources: dict[str, Resource] = {}
        self._collections: dict[str, Collection] = {}
        self._register_common()
        self.register()

    # --- registration ---------------------------------------------------------------------

    def register(self) -> None:
        """Register the family's own resources (subclasses override)."""

    def add(self, path: str, get: Getter, put: Setter | None = None, *, fast: bool = False) -> None:
        """Declare a leaf resource (or a collection item) at ``path``."""
        self._resources[path] = Resource(get, put, fast)

    def add_collection(
        self, path: str, item_ids: Callable[[], list[str]], *, fast: bool = False
    ) -> None:
        """Declare a collection; its items must be added separately with :meth:`add`."""
        self._collections[path] = Collection(item_ids, fast)

    def _register_common(self) -> None:
        self.add("/api/device/identity", self.identity)
        self.add("/api/device/site", self._site, self._put_site)
        self.add("/api/device/state", lambda: {"state": "Normal", "warnings": []})
        # [INF] TCC M exposes its firmware here; assumed for EW-DX and Spectera too.
        self.add(
            "/api/firmware/update/state",
            lambda: {
                "deviceVersion": self.receiver.firmware,
                "state": "Idle",
                "progress": 0,
                "lastStatus": "None",
            },
        )

    # --- device-level values ----------------------------------------------------------------

    @property
    def product(self) -> str:
        """Return ``identity.product``."""
        return self.receiver.model

    def version(self) -> JsonObject:
        """Return the ``/api/ssc/version`` body."""
        return {"protocol": "2.3", "schema": "1.7"}

    def identity(self) -> JsonObject:
        """Return the ``/api/device/identity`` body."""
        return {
            "product": self.product,
            "hardwareRevision": "1",
            "serial": serial_of(self.receiver),
            "vendor": VENDOR,
        }

    def _site(self) -> JsonObject:
        return {
            "deviceName": self.receiver.name,
            "location": self._location,
            "position": self._position,
        }

    def _put_site(self, body: JsonObject) -> None:
        path = "/api/device/site"
        fields(path, body, {"deviceName": str, "location": str, "position": str})
        values = {key: text(path, value, self.site_name_max) for key, value in body.items()}
        self._location = values.get("location", self._location)
        self._position = values.get("position", self._position)
        if "deviceName" in values and values["deviceName"] != self.receiver.name:
            self.receiver.name = values["deviceName"]
            self.rig.changed(self.receiver, None, "device_name")

    # --- queries used by the server ---------------------------------------------------------

    def paths(self) -> list[str]:
        """Return every declared (subscribable) path: collections first, then resources."""
        return [*self._collections, *self._resources]

    def declares(self, path: str) -> bool:
        """Return True when ``path`` is a declared resource or collection."""
        return path in self._resources or path in self._collections

    def is_fast(self, path: str) -> bool:
        """Return True when ``path`` is a meter resource (or a collection of meters)."""
        found = self._resources.get(path) or self._collections.get(path)
        return found is not None and found.fast

    def get(self, path: str) -> Json:
        """Return the body of ``path``: 404 when undeclared or a missing item, 422 while absent."""
        collection = self._collections.get(path)
        if collection is not None:
            return list(self.items(path).values())
        resource = self._resources.get(path)
        if resource is None:
            raise SscError(404, path)
        body = self._read(resource)
        if body is None:
            # A missing collection item does not exist; a missing leaf (battery) is unprocessable.
            raise SscError(404 if path.rpartition("/")[0] in self._collections else 422, path)
        return body

    def put(self, path: str, body: Json) -> Json:
        """Apply a partial write to ``path`` and return the resulting body."""
        resource = self._resources.get(path)
        if resource is None:
            raise SscError(404, path)
        if resource.put is None:
            raise SscError(405, path)
        if not isinstance(body, dict):
            raise SscError(400, path)
        resource.put(body)
        return self.get(path)

    def items(self, collection: str) -> dict[str, Json]:
        """Return ``{item path: body}`` of the items of ``collection`` that exist now."""
        result: dict[str, Json] = {}
        for item_id in self._collections[collection].item_ids():
            item_path = f"{collection}/{item_id}"
            body = self._read(self._resources[item_path])
            if body is not None:
                result[item_path] = body
        return result

    def is_collection(self, path: str) -> bool:
        """Return True when ``path`` is a collection."""
        return path in self._collections

    def snapshot(self, path: str) -> dict[str, Json]:
        """Return the notifications a subscription to ``path`` carries now (``None`` = absent)."""
        if path in self._collections:
            return self.items(path)
        return {path: self._read(self._resources[path])}

    def _read(self, resource: Resource) -> Json:
        """Return a resource's body now, with hostile text when that fault is on."""
        body = resource.get()
        if self.faults.hostile_strings and isinstance(body, dict):
            return {
                key: HOSTILE_TEXT if key in HOSTILE_FIELDS and isinstance(value, str) else value
                for key, value in body.items()
            }
        return body


def is_product_code(model: str) -> bool:
    """Return True when ``model`` already looks like a compact product code (``EWDX2CHDS``)."""
    return re.fullmatch(r"[A-Z0-9_-]+", model) is not None
