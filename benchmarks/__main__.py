"""``python -m benchmarks [--quick] [--only NAME ...] [--out FILE] [--whatif PATCHES]``.

Runs each benchmark in a fresh child process (``benchmarks.child``), prints one table of
every figure against its target, and writes the JSON results (default
``benchmarks/results/latest.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from benchmarks.common import Child, Json, machine_facts, other_busy_processes, speed_probe_ms
from benchmarks.report import table

ORDER = ("ingest", "latency", "frames", "startup", "history", "lan_api", "lan_latency",
         "replay", "swaps", "interference", "show_storage", "runtime", "phone_page",
         "startup_rig", "message_cost")
TIMEOUTS = {"ingest": 600.0, "latency": 240.0, "frames": 240.0, "startup": 180.0,
            "history": 400.0, "lan_api": 300.0, "lan_latency": 480.0,
            "replay": 600.0, "swaps": 300.0, "interference": 600.0, "show_storage": 1200.0,
            "runtime": 300.0, "phone_page": 120.0, "startup_rig": 500.0,
            "message_cost": 600.0}
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "latest.json"


def run_one(name: str, quick: bool) -> Json:
    """Run benchmark ``name`` in a child process; return its result or an error entry."""
    t0 = time.monotonic()
    child = Child("child", name, *(["--quick"] if quick else []))
    try:
        result: Json = child.json_line(TIMEOUTS[name] * (0.6 if quick else 1.0))["result"]
    except (RuntimeError, ValueError, KeyError) as exc:
        result = {"error": str(exc)[-2000:]}
    finally:
        child.stop()
    result["wall_s"] = round(time.monotonic() - t0, 1)
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the selected benchmarks, print the table, write the JSON file."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, shorter runs")
    parser.add_argument("--only", action="append", choices=ORDER, metavar="NAME",
                        help=f"run only NAME (repeatable): {', '.join(ORDER)}")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON results file")
    parser.add_argument("--whatif", default="",
                        help="apply proposed fixes in the measured processes "
                             "(comma-separated names from benchmarks/whatif.py, or all)")
    args = parser.parse_args(argv)
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    os.environ["MBD_WHATIF"] = args.whatif
    names = [n for n in ORDER if not args.only or n in args.only]
    doc: Json = {
        "machine": machine_facts(),
        "busy_before": other_busy_processes(),
        "speed_probe_ms": {"start": speed_probe_ms()},
        "quick": args.quick,
        "whatif": args.whatif,
        "results": {},
    }
    t0 = time.monotonic()
    for name in names:
        print(f"-- {name} ...", flush=True)
        doc["results"][name] = run_one(name, args.quick)
    doc["busy_after"] = other_busy_processes()
    doc["speed_probe_ms"]["end"] = speed_probe_ms()
    doc["total_wall_s"] = round(time.monotonic() - t0, 1)
    print(table(doc))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"results: {args.out}")
    return 1 if any("error" in r for r in doc["results"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
