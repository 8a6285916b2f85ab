"""Run one benchmark in this (fresh) process: ``python -m benchmarks.child NAME [--quick]``.

Prints one JSON line ``{"result": ...}``; the harness starts one child per benchmark so
Qt, event loops and memory never leak from one measurement into the next.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys


def main(argv: list[str] | None = None) -> int:
    """Import ``benchmarks.NAME`` and print the result of its ``run(quick)``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.child")
    parser.add_argument("name")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    module = importlib.import_module(f"benchmarks.{args.name}")
    result = module.run(args.quick)
    print(json.dumps({"result": result}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
