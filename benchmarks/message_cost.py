"""CPU per message of each protocol's steady-state ingest, in-process (issue 22).

The 2,000-channel ingest figure (``ingest``) is the sum of many small costs and moves by
several points from run to run on a shared VM. This benchmark measures the protocol side of
it one protocol at a time, in one process: the real coordinator of each protocol reads
traffic that the project's own simulator encoded, into a real MeterBus, with no socket and
no event loop pass (the UDP part adds one figure per protocol over loopback sockets with the
loop running). The figures are CPU microseconds per message (best of the repeats), so they
are comparable between two builds on the same machine even when it is not quiet.

* ``shure_cmd``: command strings over TCP 2202 (benchmarks/message_cost_shure.py)
* ``ssc2``: SSCv2 notifications over SSE (benchmarks/message_cost_ssc2.py)
* ``udp``: UHF-R, SSCv1 and MCP datagrams (benchmarks/message_cost_udp.py)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from benchmarks import message_cost_shure, message_cost_ssc2, message_cost_udp
from benchmarks.common import Json

PARTS: dict[str, Callable[[bool], dict[str, object]]] = {
    "shure_cmd": message_cost_shure.measure,
    "ssc2": message_cost_ssc2.measure,
    "udp": message_cost_udp.measure,
}
"""Each protocol's own measurement."""


def run(quick: bool) -> Json:
    """Measure every protocol; a part that fails is reported, the others still run."""
    result: Json = {}
    for name, measure in PARTS.items():
        try:
            result[name] = measure(quick)
        except Exception as exc:  # noqa: BLE001 - one broken part must not hide the others
            result[name] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
    return result


def leaves(doc: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Return (dotted path, value) of every number or short text in ``doc``, in order."""
    if isinstance(doc, dict):
        out: list[tuple[str, Any]] = []
        for key, value in doc.items():
            out += leaves(value, f"{prefix}.{key}" if prefix else str(key))
        return out
    if isinstance(doc, bool) or not isinstance(doc, int | float | str):
        return []
    return [(prefix, doc)]
