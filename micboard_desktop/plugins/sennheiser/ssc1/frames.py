"""SSCv1 datagrams: one JSON object per datagram, mirroring the address tree (sennheiser.md §3.2).

Reading is defensive: a datagram over :data:`MAX_DATAGRAM_BYTES`, bytes that are not
UTF-8, JSON that does not parse or is not an object, or nesting deeper than
:data:`MAX_DEPTH` is counted and dropped, never raised. Errors come nested at the failing
address (``{"osc":{"error":[{"mates":{"tx1":{"battery":{"gauge":[424]}}}}]}}``) or bare
(``[[400,{"desc":…}]]``), with or without ``desc`` (§3.3); :func:`errors` reads both.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

MAX_DATAGRAM_BYTES: Final = 65_507
"""The largest UDP payload over IPv4; anything bigger did not come from a device."""
MAX_DEPTH: Final = 16
"""Deepest address tree walked; the deepest known SSCv1 address has five levels."""

Path = tuple[str, ...]

NO_TRANSMITTER: Final = 424
"""Failed dependency: the transmitter is not present (EW-DX, sennheiser.md §3.3, §3.5)."""
SUBSCRIPTION_ENDED: Final = 310
"""The subscription's lifetime or count ran out (sennheiser.md §3.3, §3.4)."""
NOT_FOUND: Final = frozenset({404, 454})
"""The address does not exist on this device."""


@dataclass(slots=True)
class FrameStats:
    """Counters of what was dropped (tests and diagnostics read them)."""

    oversized: int = 0
    malformed: int = 0


def encode(tree: Mapping[str, Any], xid: int | None = None) -> bytes:
    """Return one datagram for ``tree``, with ``osc.xid`` when given (echoed by the device)."""
    message = dict(tree)
    if xid is not None:
        osc = dict(message.get("osc") or {})
        osc["xid"] = xid
        message["osc"] = osc
    return json.dumps(message, separators=(",", ":")).encode()


def _depth_ok(value: Any, depth: int = 0) -> bool:
    if depth > MAX_DEPTH:
        return False
    if isinstance(value, dict):
        return all(_depth_ok(v, depth + 1) for v in value.values())
    if isinstance(value, list):
        return all(_depth_ok(v, depth + 1) for v in value)
    return True


def decode(data: bytes, stats: FrameStats | None = None) -> dict[str, Any] | None:
    """Return the message of one datagram, or ``None`` (counted) when it is not one."""
    if len(data) > MAX_DATAGRAM_BYTES:
        if stats is not None:
            stats.oversized += 1
        return None
    try:
        message = json.loads(data.decode("utf-8"))  # trailing CRLF is whitespace to JSON
    except (ValueError, RecursionError):
        message = None
    if not isinstance(message, dict) or (
        # A value nested deeper than MAX_DEPTH needs more than MAX_DEPTH containers, each
        # opened by its own bracket: fewer brackets in the text, no walk (every meter).
        data.count(b"{") + data.count(b"[") > MAX_DEPTH and not _depth_ok(message)
    ):
        if stats is not None:
            stats.malformed += 1
        return None
    return message


def leaves(tree: Any, prefix: Path = (), depth: int = 0) -> Iterator[tuple[Path, Any]]:
    """Yield ``(address, value)`` for every value in a reply tree (``#`` and ``osc`` skipped).

    A list is a value (warnings, ``/mm`` rows, ``skx/battery``), never a subtree.
    """
    if not isinstance(tree, dict) or depth > MAX_DEPTH:
        return
    for key, value in tree.items():
        if not isinstance(key, str) or key == "#" or (not prefix and key == "osc"):
            continue
        path = (*prefix, key)
        if isinstance(value, dict):
            yield from leaves(value, path, depth + 1)
        else:
            yield path, value


def _error_code(value: Any) -> int | None:
    """Return the code of ``[424]`` or ``[404, {"desc": …}]``; ``None`` for anything else."""
    if isinstance(value, list) and value and type(value[0]) is int and 100 <= value[0] <= 999:
        return value[0]
    return None


def _error_leaves(tree: Any, prefix: Path, depth: int) -> Iterator[tuple[Path, int]]:
    code = _error_code(tree)
    if code is not None:
        yield prefix, code
        return
    if isinstance(tree, dict) and depth <= MAX_DEPTH:
        for key, value in tree.items():
            if isinstance(key, str):
                yield from _error_leaves(value, (*prefix, key), depth + 1)


def errors(message: Mapping[str, Any]) -> list[tuple[Path, int]]:
    """Return ``(address, code)`` for every error a message carries (``()`` = whole message)."""
    osc = message.get("osc")
    if not isinstance(osc, dict):
        return []
    items = osc.get("error")
    if not isinstance(items, list):
        items = [items] if isinstance(items, dict) else []
    found: list[tuple[Path, int]] = []
    for item in items[:256]:  # a device lists a handful; a flood is cut, not walked
        found.extend(_error_leaves(item, (), 0))
    return found


def xid_of(message: Mapping[str, Any]) -> int | None:
    """Return the echoed ``osc.xid``, or ``None``."""
    osc = message.get("osc")
    if isinstance(osc, dict):
        xid = osc.get("xid")
        if type(xid) is int:
            return xid
    return None


def subscribed_values(message: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Yield the value trees a subscription acknowledgement bundles (``osc.state.subscribe``)."""
    osc = message.get("osc")
    state = osc.get("state") if isinstance(osc, dict) else None
    entries = state.get("subscribe") if isinstance(state, dict) else None
    if isinstance(entries, list):
        for entry in entries[:64]:
            if isinstance(entry, dict):
                yield entry


def subscribe(
    tree: Mapping[str, Any], *, lifetime: int, period_ms: int, count: int
) -> dict[str, Any]:
    """Return a subscription request for ``tree`` (sennheiser.md §3.4).

    ``period_ms`` 0 asks for changes only; a positive period asks for a fixed stream
    (``min = max = period``, what clients used on hardware send for meters).
    """
    params = {"min": period_ms, "max": period_ms, "lifetime": lifetime, "count": count}
    return {"osc": {"state": {"subscribe": [{"#": params, **tree}]}}}
