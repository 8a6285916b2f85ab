"""``python -m benchmarks.soak``: run the soak, write the report, exit 0 only if it passed."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmarks.soak.driver import run_soak
from benchmarks.soak.options import SoakOptions
from benchmarks.soak.report import render


def parse_args(argv: Sequence[str] | None = None) -> SoakOptions:
    """Return the options of the command line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__)
    parser.add_argument("--duration", type=float, default=600.0, help="soak seconds (600)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the rig, scenario, chaos")
    parser.add_argument("--receivers", type=int, default=40, help="receivers in the rig (40)")
    parser.add_argument("--report", type=Path, help="write the Markdown report here")
    parser.add_argument("--work-dir", type=Path, help="keep config, database and logs here")
    args = parser.parse_args(argv)
    if args.duration < 30 or args.receivers < 6:
        parser.error("--duration must be >= 30 and --receivers >= 6 (one of each family)")
    return SoakOptions(
        duration=args.duration,
        seed=args.seed,
        receivers=args.receivers,
        report=args.report,
        work_dir=args.work_dir,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the soak; print the report; return 0 when every check passed."""
    options = parse_args(argv)
    result = asyncio.run(run_soak(options))
    text = render(result)
    if options.report is not None:
        options.report.parent.mkdir(parents=True, exist_ok=True)
        options.report.write_text(text)
    sys.stdout.write(text)
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
