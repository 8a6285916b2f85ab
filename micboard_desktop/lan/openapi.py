"""The OpenAPI 3.1 description of the LAN API, served at ``GET /api/openapi.json``.

The ``/api/data/`` schema is the contract file itself (shipped beside this module as
``api-data.schema.json``); its ``$defs`` become ``components/schemas`` so the Receiver,
Health ... shapes are shared by every endpoint that returns them. Optional fields the
server sends beyond the contract (which allows additional properties) are documented on top
of it here, never by changing the contract file.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib.resources import files
from typing import Any, Final

from micboard_desktop.core.slots import MAX_SLOT
from micboard_desktop.lan.metrics import metrics_openapi_path

SCHEMA_FILE: Final = "api-data.schema.json"
Json = dict[str, Any]


def contract_schema() -> Json:
    """Return the JSON Schema of ``GET /api/data/`` as shipped with the package."""
    text = files("micboard_desktop.lan").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    data: Json = json.loads(text)
    return data


def _rewrite_refs(node: Any) -> Any:
    """Point ``#/$defs/x`` references at ``#/components/schemas/x``."""
    if isinstance(node, dict):
        out = {k: _rewrite_refs(v) for k, v in node.items()}
        ref = out.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            out["$ref"] = "#/components/schemas/" + ref.removeprefix("#/$defs/")
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v) for v in node]
    return node


def _ref(name: str) -> Json:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: Json, description: str) -> Json:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Json]:
    texts = {
        400: "Malformed request",
        401: "Missing or wrong bearer token",
        403: "Control is disabled, no token is configured, or a foreign Origin",
        404: "Unknown manufacturer or resource",
        408: "The request body did not arrive in time",
        409: "The new group name is taken by another group",
        413: "Request body too large",
        421: "Host is not an IP address, localhost or the server's configured name",
        503: "Live updates are disabled",
    }
    return {str(s): _json(_ref("Error"), texts[s]) for s in statuses}


_MANUFACTURER_PARAM: Final[Json] = {
    "name": "manufacturer",
    "in": "query",
    "required": False,
    "description": "Only this manufacturer's data (unknown code: 404).",
    "schema": {"type": "string"},
}
_GROUP_NAME: Final[Json] = {"type": "string", "minLength": 1, "maxLength": 200, "pattern": r"\S"}
_READ_ERRORS: Final = (401, 403, 404, 421)
_CONTROL_ERRORS: Final = (400, 401, 403, 404, 413, 421)
_BODY_ERRORS: Final = (408,)
_CHANNEL_SLOT: Final[Json] = {
    "type": "integer",
    "minimum": 1,
    "maximum": MAX_SLOT,
    "description": "The channel's slot number on the board, kept for the whole show; absent "
    "until the channel has one (a new channel is numbered a few seconds after it appears).",
}
_CHANNEL_SPARE: Final[Json] = {
    "const": True,
    "description": "Present only on channels marked as spares: they raise no channel alert.",
}


_BATTERY_ESTIMATE: Final[Json] = {
    "type": "object",
    "required": ["minutes", "low_minutes", "high_minutes", "basis"],
    "properties": {
        "minutes": {"type": "integer", "minimum": 0},
        "low_minutes": {"type": "integer", "minimum": 0},
        "high_minutes": {"type": "integer", "minimum": 0},
        "basis": {
            "enum": ["history", "model"],
            "description": "history: fitted to this pack's own readings; model: the "
            "chemistry's built-in curve alone (too few readings yet).",
        },
    },
}
_ESTIMATE_PROPERTY: Final[Json] = {
    "oneOf": [{"$ref": "#/components/schemas/battery_estimate"}, {"type": "null"}],
    "description": "The app's own runtime prediction where the device gives no minutes "
    "(bars-only packs, primary cells); absent (null) where it reports minutes or the app "
    "cannot say yet (docs/contract.md §5).",
}


_INSTANCE: Final[Json] = {
    "type": "object",
    "required": ["id", "name"],
    "properties": {
        "id": {"type": "string", "pattern": "^[0-9A-Za-z_-]{8,64}$",
               "description": "This installation's stable id (made once, kept in its "
               "database)."},
        "name": {"type": ["string", "null"], "description": "Its host name, to show where "
                 "receivers read from it come from."},
    },
    "description": "Who serves this document. Another Micboard Desktop reading it refuses a "
    "document carrying its own id, and receivers whose origin chain holds it (a loop).",
}
_RECEIVER_ORIGIN: Final[Json] = {
    "type": "object",
    "required": ["chain", "receiver_id", "manufacturer"],
    "properties": {
        "chain": {"type": "array", "items": {"type": "string"}, "minItems": 1,
                  "description": "Instance ids (or HOST:PORT of one that serves none) the "
                  "receiver came through, nearest first; the last is where it is attached."},
        "receiver_id": {"type": "string", "description": "Its id where it is attached."},
        "manufacturer": {"type": "string", "description": "Its manufacturer code there."},
    },
    "description": "Present only on receivers read from another Micboard Desktop "
    "(manufacturer micboard, id micboard:<instance>/<its id there>).",
}


_NULLABLE_COUNT: Final[Json] = {"type": ["integer", "null"], "minimum": 0}
_NULLABLE_PERCENT: Final[Json] = {"type": ["integer", "null"], "minimum": 0, "maximum": 100}
_NULLABLE_TEXT: Final[Json] = {"type": ["string", "null"]}


def _charger_schemas() -> Json:
    """Return the charger objects of docs/contract.md §5 (top-level ``chargers``)."""
    bay = {
        "type": "object",
        "required": ["number", "occupied", "device_type", "state", "battery"],
        "properties": {
            "number": {"type": "integer", "minimum": 1},
            "occupied": {"type": "boolean"},
            "device_type": _NULLABLE_TEXT,
            "state": {**_NULLABLE_TEXT, "description": "The charger's own words for the bay."},
            "battery": {
                "type": "object",
                "required": ["percent", "health_percent", "cycles", "minutes_to_full"],
                "properties": {
                    "percent": _NULLABLE_PERCENT,
                    "health_percent": _NULLABLE_PERCENT,
                    "cycles": _NULLABLE_COUNT,
                    "minutes_to_full": _NULLABLE_COUNT,
                },
            },
        },
    }
    charger = {
        "type": "object",
        "required": ["id", "manufacturer", "model", "name", "ip", "online", "bays"],
        "properties": {
            "id": {"type": "string"},
            "manufacturer": {"type": "string"},
            "model": _NULLABLE_TEXT,
            "name": _NULLABLE_TEXT,
            "ip": _NULLABLE_TEXT,
            "online": {"type": "boolean"},
            "last_seen": {**_NULLABLE_TEXT, "format": "date-time"},
            "connection": _ref("connection"),
            "bays": {"type": "array", "items": _ref("chargerBay")},
        },
    }
    listing = {
        "type": "object",
        "required": ["chargers"],
        "properties": {"chargers": {"type": "array", "items": _ref("charger")}},
    }
    return {"chargerBay": bay, "charger": charger, "ChargerList": listing}


def _show_schemas() -> Json:
    """Return the show answers of docs/contract.md §6: alerts, history points and markers."""
    time = {"type": "string", "format": "date-time"}
    value = {"type": ["number", "null"]}
    alert = {
        "type": "object",
        "required": [
            "id", "kind", "severity", "channel_id", "channel_name", "receiver_name",
            "message", "raised_at", "cleared_at", "acknowledged",
        ],
        "properties": {
            "id": {"type": "string", "description": "Stable per rule and subject."},
            "kind": {"type": "string", "description": "low_battery, rf_loss, tx_off ..."},
            "severity": {"enum": ["info", "warning", "critical"]},
            "channel_id": _NULLABLE_TEXT,
            "channel_name": _NULLABLE_TEXT,
            "receiver_name": _NULLABLE_TEXT,
            "message": {"type": "string"},
            "raised_at": time,
            "cleared_at": {"type": ["string", "null"], "format": "date-time"},
            "acknowledged": {"type": "boolean"},
        },
    }
    alerts = {
        "type": "object",
        "required": ["alerts"],
        "properties": {
            "alerts": {"type": "array", "items": _ref("Alert"), "maxItems": 1000},
            "truncated": {"type": "boolean", "description": "More alerts than the limit."},
            "limit": {"type": "integer"},
        },
    }
    history = {
        "type": "object",
        "required": ["points"],
        "properties": {
            "points": {
                "type": "array",
                "maxItems": 4000,
                "items": {
                    "type": "array",
                    "prefixItems": [time, value, value, value],
                    "minItems": 4,
                    "maxItems": 4,
                    "description": "[bucket start, minimum, maximum, last]",
                },
            },
            "channel": {"type": "string"},
            "metric": {"type": "string"},
            "from": time,
            "to": time,
            "folded": {
                "type": "integer",
                "minimum": 1,
                "description": "Recorded buckets per point (above 1 when the span held more "
                "than the limit: the lowest minimum, highest maximum and latest last are kept).",
            },
            "limit": {"type": "integer"},
        },
    }
    marker = {
        "type": "object",
        "required": ["id", "ts", "label"],
        "properties": {"id": {"type": "integer"}, "ts": time, "label": {"type": "string"}},
    }
    markers = {
        "type": "object",
        "required": ["markers"],
        "properties": {"markers": {"type": "array", "items": _ref("Marker")}},
    }
    return {
        "Alert": alert,
        "AlertList": alerts,
        "HistoryPoints": history,
        "Marker": marker,
        "MarkerList": markers,
    }


def _show_paths() -> Json:
    """Return the paths of the show endpoints (contract §6, and markers as an extension)."""

    def param(name: str, description: str, *, required: bool = False) -> Json:
        return {
            "name": name,
            "in": "query",
            "required": required,
            "description": description,
            "schema": {"type": "string"},
        }

    def get(summary: str, schema: str, params: list[Json]) -> Json:
        return {
            "get": {
                "summary": summary,
                "parameters": params,
                "responses": {
                    "200": _json(_ref(schema), summary),
                    **_errors(400, 401, 403, 421),
                },
            }
        }

    when = "ISO 8601 or epoch seconds; without a zone, the server's local time."
    return {
        "/api/alerts/": get(
            "Alerts: active ones, and recent cleared ones unless active=true (newest first, "
            "at most 1000)",
            "AlertList",
            [param("active", "true: only alerts not cleared yet")],
        ),
        "/api/history/": get(
            "Recorded min/max/last buckets of one channel metric (at most 4000 points; "
            "a longer span is folded)",
            "HistoryPoints",
            [
                param("channel", "Channel id, as in /api/data/", required=True),
                param(
                    "metric",
                    "battery_percent, battery_bars, rssi_dbm (also rf_dbm), audio_peak_dbfs",
                    required=True,
                ),
                param("from", f"Start (default: an hour before 'to'). {when}"),
                param("to", f"End (default: now). {when}"),
            ],
        ),
        "/api/markers/": get("Show markers, oldest first (extension)", "MarkerList", []),
    }


def _swap_schemas() -> Json:
    """Return the battery-swap log's answer (an extension: issue #19, 2)."""
    level = {"type": ["integer", "null"]}
    charge = {
        "type": "object",
        "required": ["percent", "bars", "minutes"],
        "properties": {
            "percent": {**level, "minimum": 0, "maximum": 100},
            "bars": {**level, "minimum": 0, "maximum": 5},
            "minutes": {**level, "minimum": 0},
        },
        "description": "A pack's charge in every measure the device gave (null: not given).",
    }
    swap = {
        "type": "object",
        "required": [
            "id", "ts", "channel_id", "channel_name", "performer", "reason", "before",
            "after", "transmitter_model",
        ],
        "properties": {
            "id": {"type": ["integer", "null"], "description": "Null until it is saved."},
            "ts": {"type": "string", "format": "date-time"},
            "channel_id": {"type": "string"},
            "channel_name": _NULLABLE_TEXT,
            "performer": _NULLABLE_TEXT,
            "reason": {
                "enum": ["tx_cycle", "charge_jump", "new_transmitter", "cycles"],
                "description": "Off and back on fuller; a jump in charge; another transmitter "
                "model or pack type; a changed charge-cycle count.",
            },
            "before": _ref("SwapCharge"),
            "after": _ref("SwapCharge"),
            "transmitter_model": _NULLABLE_TEXT,
        },
    }
    listing = {
        "type": "object",
        "required": ["swaps", "truncated", "limit"],
        "properties": {
            "swaps": {"type": "array", "items": _ref("BatterySwap"), "maxItems": 2000},
            "truncated": {"type": "boolean", "description": "More swaps than the limit "
                          "(the newest are kept)."},
            "limit": {"type": "integer"},
        },
    }
    return {"SwapCharge": charge, "BatterySwap": swap, "SwapList": listing}


def _swap_paths() -> Json:
    """Return the path of the battery-swap log (an extension)."""
    when = "ISO 8601 or epoch seconds; without a zone, the server's local time."

    def param(name: str, description: str) -> Json:
        return {"name": name, "in": "query", "required": False, "description": description,
                "schema": {"type": "string"}}

    summary = "Battery swaps found, oldest first (extension; at most 2000, the newest)"
    return {
        "/api/swaps/": {
            "get": {
                "summary": summary,
                "parameters": [
                    param("from", f"Start (default: the beginning of the log). {when}"),
                    param("to", f"End, exclusive (default: now). {when}"),
                    param("channel", "Only this channel id, as in /api/data/"),
                ],
                "responses": {
                    "200": _json(_ref("SwapList"), summary),
                    **_errors(400, 401, 403, 421),
                },
            }
        }
    }


def _rf_paths() -> Json:
    """Return the path of the RF picture (an extension, issue #19)."""
    summary = ("Carriers, intermodulation products near channels in use, interference events "
               "and foreign carriers as the RF watch sees them now (extension; 404 in a replay)")
    return {
        "/api/rf/": {
            "get": {
                "summary": summary,
                "parameters": [],
                "responses": {
                    "200": _json(_ref("RfPicture"), summary),
                    **_errors(401, 403, 404, 421),
                },
            }
        }
    }


def _rf_schemas() -> Json:
    """Return the schemas of ``GET /api/rf/``."""
    khz = {"type": "integer", "minimum": 0}
    event = {
        "type": "object",
        "required": ["id", "low_khz", "high_khz", "span", "channels", "evidence", "started",
                     "ended"],
        "properties": {
            "id": {"type": "integer"},
            "low_khz": khz,
            "high_khz": khz,
            "span": {"type": "string"},
            "channels": {"type": "array", "items": {"type": "string"}},
            "evidence": {"type": "array",
                         "items": {"enum": ["rf_loss", "interference", "dropout"]}},
            "started": {"type": "string", "format": "date-time"},
            "ended": {"type": ["string", "null"], "format": "date-time"},
        },
    }
    return {
        "RfPicture": {
            "type": "object",
            "required": ["guard_khz", "carriers", "intermod", "interference", "foreign"],
            "properties": {
                "guard_khz": khz,
                "carriers": {"type": "array", "items": {
                    "type": "object",
                    "required": ["channel_id", "label", "frequency_khz", "status", "rssi_dbm",
                                 "transmitting", "kind"],
                    "properties": {
                        "channel_id": {"type": "string"},
                        "label": {"type": "string"},
                        "frequency_khz": khz,
                        "status": {"type": "string"},
                        "rssi_dbm": {"type": ["number", "null"]},
                        "transmitting": {"type": "boolean"},
                        "kind": {"type": "string"},
                    },
                }},
                "intermod": {"type": "array", "items": {
                    "type": "object",
                    "required": ["victim_khz", "product_khz", "kind", "sources_khz", "formula",
                                 "distance_khz", "products_within_guard"],
                    "properties": {
                        "victim_khz": khz,
                        "product_khz": khz,
                        "kind": {"enum": ["2tx", "3tx"]},
                        "sources_khz": {"type": "array", "items": khz},
                        "formula": {"type": "string"},
                        "distance_khz": khz,
                        "products_within_guard": {"type": "integer", "minimum": 1},
                    },
                }},
                "interference": {
                    "type": "object",
                    "required": ["active", "ended"],
                    "properties": {"active": {"type": "array", "items": event},
                                   "ended": {"type": "array", "items": event}},
                },
                "foreign": {"type": "array", "items": {"type": "string"}},
            },
        }
    }


def _extra_schemas() -> Json:
    """Return the schemas of the answers and bodies that are not in the contract file."""
    return {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                }
            },
        },
        "ReceiverList": {
            "type": "object",
            "required": ["receivers"],
            "properties": {"receivers": {"type": "array", "items": _ref("receiver")}},
        },
        "HealthReport": {
            "type": "object",
            "required": ["status", "manufacturers"],
            "properties": {
                "status": {"enum": ["ok", "degraded", "down", "unknown"]},
                "manufacturers": {"type": "object", "additionalProperties": _ref("health")},
                "storage": {
                    "allOf": [_ref("health")],
                    "description": "Whether monitoring data is being saved (absent when "
                    "nothing is saved, or with ?manufacturer=)",
                },
            },
        },
        "Accepted": {
            "type": "object",
            "required": ["accepted", "manufacturer"],
            "properties": {
                "accepted": {"const": True},
                "manufacturer": {"type": ["string", "null"]},
            },
        },
        "Discovered": {
            "type": "object",
            "required": ["discovered"],
            "properties": {
                "discovered": {
                    "type": "array",
                    "items": {"type": "object", "additionalProperties": {"type": "string"}},
                }
            },
        },
        "ConfigRequest": {
            "type": "object",
            "required": ["manufacturer", "key", "value"],
            "properties": {
                "manufacturer": {"type": ["string", "null"]},
                "key": {"type": "string", "minLength": 1, "maxLength": 200},
                "value": {
                    "oneOf": [
                        {"type": ["string", "number", "integer", "boolean", "null"]},
                        {"type": "array", "items": {"type": "string"}, "maxItems": 512},
                    ]
                },
            },
        },
        "ConfigResult": {
            "type": "object",
            "required": ["manufacturer", "key", "updated"],
            "properties": {
                "manufacturer": {"type": ["string", "null"]},
                "key": {"type": "string"},
                "updated": {"const": True},
            },
        },
        "GroupRequest": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "action": {"enum": ["save", "delete"], "default": "save"},
                "name": _GROUP_NAME,
                "channels": {"type": "array", "items": {"type": "string"}, "maxItems": 2000},
                "rename_to": {"anyOf": [_GROUP_NAME, {"type": "null"}]},
            },
        },
        "GroupResult": {
            "type": "object",
            "properties": {
                "group": {
                    "type": "object",
                    "required": ["name", "channels", "slot"],
                    "properties": {
                        "name": {"type": "string"},
                        "channels": {"type": "array", "items": {"type": "string"}},
                        "slot": {"type": ["integer", "null"]},
                    },
                },
                "deleted": {"type": "string"},
            },
        },
    }


def _paths() -> Json:
    """Return the ``paths`` object."""
    receiver_id: Json = {
        "name": "id",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
        "description": 'Receiver id, "<manufacturer>:<api_device_id>".',
    }
    read = [_MANUFACTURER_PARAM]

    def get(summary: str, answer: Json, params: list[Json] | None = None) -> Json:
        return {
            "get": {
                "summary": summary,
                "parameters": params if params is not None else read,
                "responses": {"200": answer, **_errors(*_READ_ERRORS)},
            }
        }

    def post(summary: str, status: int, answer: Json, body: str | None, params: bool) -> Json:
        op: Json = {
            "summary": summary,
            "security": [{"bearer": []}],
            "parameters": read if params else [],
            "responses": {str(status): answer, **_errors(*_CONTROL_ERRORS)},
        }
        if body is not None:
            op["responses"].update(_errors(*_BODY_ERRORS))
            op["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": _ref(body)}},
            }
        return {"post": op}

    events = {
        "description": "Server-Sent Events: device_update, status_update, keep-alive comments.",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    }
    paths: Json = {
        "/api/data/": get("The whole live picture", _json(_ref("Data"), "Live data")),
        "/api/receivers/": get("Every receiver", _json(_ref("ReceiverList"), "Receivers")),
        "/api/receivers/{id}/": get(
            "One receiver", _json(_ref("receiver"), "A receiver"), [receiver_id, *read]
        ),
        "/api/chargers/": get("Every charger", _json(_ref("ChargerList"), "Chargers")),
        "/api/health/": get("Health", _json(_ref("HealthReport"), "Health")),
        "/api/events/": {
            "get": {
                "summary": "Live updates (Server-Sent Events)",
                "parameters": read,
                "responses": {"200": events, **_errors(*_READ_ERRORS, 503)},
            }
        },
        "/api/openapi.json": get(
            "This description", _json({"type": "object"}, "OpenAPI document"), []
        ),
        "/api/refresh/": post(
            "Poll now", 202, _json(_ref("Accepted"), "Polls started"), None, True
        ),
        "/api/discover/": post(
            "Run discovery", 202, _json(_ref("Discovered"), "What was found"), None, True
        ),
        "/api/config/": post(
            "Change a setting", 200, _json(_ref("ConfigResult"), "Updated"), "ConfigRequest", False
        ),
        "/api/group/": post(
            "Create, rename or delete a group",
            200,
            _json(_ref("GroupResult"), "Saved or deleted"),
            "GroupRequest",
            False,
        ),
    }
    paths["/api/group/"]["post"]["responses"].update(_errors(409))
    return paths


@cache
def _document() -> Json:
    contract = contract_schema()
    schemas: Json = {name: _rewrite_refs(s) for name, s in contract.get("$defs", {}).items()}
    top = {k: v for k, v in contract.items() if k not in ("$schema", "$id", "$defs")}
    schemas["Data"] = _rewrite_refs(top)
    # Optional, so not in the contract's "required": a client of data/1 is not broken.
    schemas["channel"]["properties"]["slot"] = _CHANNEL_SLOT
    schemas["channel"]["properties"]["spare"] = _CHANNEL_SPARE
    schemas["battery"]["properties"]["estimate"] = _ESTIMATE_PROPERTY
    schemas["battery_estimate"] = _BATTERY_ESTIMATE
    schemas["receiver"]["properties"]["origin"] = _ref("receiver_origin")
    schemas["receiver_origin"] = _RECEIVER_ORIGIN
    schemas["Data"]["properties"]["instance"] = _ref("instance")
    schemas["instance"] = _INSTANCE
    schemas["Data"]["properties"]["chargers"] = {
        "type": "array",
        "items": _ref("charger"),
        "description": "Networked chargers and their bays (CHG 70N, L 6000).",
    }
    schemas.update(_charger_schemas())
    schemas.update(_extra_schemas())
    schemas.update(_rf_schemas())
    schemas.update(_show_schemas())
    schemas.update(_swap_schemas())
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Micboard Desktop LAN API",
            "version": "1",
            "description": "Live wireless-microphone data (docs/contract.md §3). Errors are "
            '{"error": {"code", "message"}}. A non-loopback bind needs a bearer token on '
            "every request; POST always needs it and lan.allow_control = true. Host must "
            "be an IP address, localhost or the configured name (else 421), and a browser "
            "Origin must be the server's own (else 403). Any request may also get 400 "
            "(malformed HTTP), 405, 408 (request head not sent within 10 s), 414, 417 or "
            "431, with the same error body.",
        },
        "paths": {**_paths(), **_show_paths(), **_swap_paths(), **_rf_paths(),
                  **metrics_openapi_path()},
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def openapi_document() -> Json:
    """Return the OpenAPI document (a fresh copy the caller may change)."""
    return copy.deepcopy(_document())
