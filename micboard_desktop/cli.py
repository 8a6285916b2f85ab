"""The command line (docs/contract.md §1): parse, validate, then hand over to the right part.

User mistakes (unknown flag, bad config, port in use) end with one line on stderr and
exit status 2, never a traceback. Heavy imports (Qt, SQLAlchemy, aiohttp) happen only
inside the command that needs them, so ``--version`` and ``--help`` stay instant.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from micboard_desktop import __version__
from micboard_desktop.core.errors import ConfigError, MicboardError, SetupError

PROG = "micboard-desktop"
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
CONNECTION_STATES = ("connecting", "connected", "disconnected", "error", "stopped")


class UsageError(Exception):
    """A command-line mistake; reported in one line with exit status 2."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that reports mistakes as one line instead of usage + exit."""

    def error(self, message: str) -> NoReturn:
        """Raise instead of printing the usage block."""
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _lan_address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host.strip("[]"), int(port)


def build_parser() -> argparse.ArgumentParser:
    """Build the parser for every command of docs/contract.md §1."""
    parser = _Parser(
        prog=PROG,
        description="Watch every wireless microphone in a show: battery, RF, audio, performer.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="open the window on a built-in demo rig (simulated receivers on loopback)",
    )
    parser.add_argument("--data-dir", type=Path, help="keep the database and settings here")
    parser.add_argument(
        "--quit-after", type=float, metavar="SECONDS", help="close the window after SECONDS"
    )
    parser.add_argument(
        "--screenshot", type=Path, metavar="PNG", help="save a picture of the window when it closes"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    headless = sub.add_parser("headless", help="run the monitor without a window")
    headless.add_argument("--config", type=Path, help="TOML configuration file")
    headless.add_argument(
        "--demo", action="store_true", help="monitor the built-in demo rig (LAN API on loopback)"
    )
    headless.add_argument("--data-dir", type=Path, help="keep the database here")
    headless.add_argument(
        "--lan", type=_lan_address, metavar="HOST:PORT", help="serve the LAN API on HOST:PORT"
    )

    status = sub.add_parser("status", help="print the real-time connection table")
    status.add_argument("--manufacturer", metavar="CODE", help="only this manufacturer")
    status.add_argument("--status", choices=CONNECTION_STATES, help="only connections in STATE")
    status.add_argument("--detail", action="store_true", help="add errors, timings and metrics")
    status.add_argument("--data-dir", type=Path, help="read the database in this directory")

    poll = sub.add_parser("poll", help="poll every enabled manufacturer once")
    poll.add_argument("--once", action="store_true", required=True, help="poll once and exit")
    poll.add_argument("--config", type=Path, required=True, help="TOML configuration file")
    poll.add_argument("--data-dir", type=Path, help="keep the database here")

    simulate = sub.add_parser("simulate", help="run the device simulators on loopback")
    simulate.add_argument("--config", type=Path, help="rig description (TOML); default: demo show")
    simulate.add_argument("--seed", type=int, default=1, help="seed for the scenario (default 1)")
    simulate.add_argument(
        "--hostile",
        action="store_true",
        help="make the last device of each protocol hostile (bad strings, endless and huge "
        "answers) to see that the others stay monitored",
    )
    report = sub.add_parser("report", help="write the post-show report of a recorded show")
    report.add_argument("--data-dir", type=Path, help="the data directory of the recorded show")
    report.add_argument("--from", dest="since", metavar="T", help="start (ISO 8601 or epoch)")
    report.add_argument("--to", dest="until", metavar="T", help="end (ISO 8601 or epoch)")
    report.add_argument("--format", choices=("html", "pdf", "csv"), required=True)
    report.add_argument("--output", type=Path, required=True, metavar="FILE")
    replay = sub.add_parser("replay", help="play a recorded show back on the board or the LAN API")
    replay.add_argument("--data-dir", type=Path, help="the data directory of the recorded show")
    replay.add_argument("--from", dest="since", metavar="T", help="start (ISO 8601 or epoch)")
    replay.add_argument("--to", dest="until", metavar="T", help="end (ISO 8601 or epoch)")
    replay.add_argument("--speed", type=_speed, default=1.0, metavar="X",
                        help="show seconds per second, 1 to 60 (default 1)")
    replay.add_argument("--headless", action="store_true",
                        help="no window: serve the replay on the LAN API")
    replay.add_argument("--lan", type=_lan_address, metavar="HOST:PORT",
                        help="serve the LAN API on HOST:PORT (headless default 127.0.0.1:8058)")
    replay.add_argument("--quit-after", type=float, metavar="SECONDS", help=argparse.SUPPRESS)
    replay.add_argument("--screenshot", type=Path, metavar="PNG", help=argparse.SUPPRESS)
    return parser


def _speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 1.0 <= value <= 60.0:
        raise argparse.ArgumentTypeError(f"expected a speed from 1 to 60, got {text!r}")
    return value


def _run(args: argparse.Namespace) -> int:
    command = args.command
    if command == "headless":
        from micboard_desktop.app.headless import run_headless

        if args.config is None and not args.demo:
            raise UsageError("headless needs --config FILE (or --demo)")
        return run_headless(args.config, args.data_dir, args.lan, demo=args.demo)
    if command == "poll":
        from micboard_desktop.app.headless import run_poll_once

        return run_poll_once(args.config, args.data_dir)
    if command == "status":
        from micboard_desktop.app.status_command import run_status

        return run_status(
            data_dir=args.data_dir,
            manufacturer=args.manufacturer,
            state=args.status,
            detail=args.detail,
            out=sys.stdout,
        )
    if command == "simulate":
        from micboard_desktop.app.simulate_command import run_simulate_command

        return run_simulate_command(args.config, args.seed, hostile=args.hostile)
    if command == "report":
        from micboard_desktop.app.report_command import run_report

        return run_report(
            args.data_dir, args.since, args.until, args.format, args.output, sys.stdout
        )
    if command == "replay":
        from micboard_desktop.app.replay import run_replay

        return run_replay(
            args.data_dir, since=args.since, until=args.until, speed=args.speed,
            headless=args.headless, lan=args.lan, quit_after=args.quit_after,
            screenshot=args.screenshot,
        )
    from micboard_desktop.app.window import run_gui

    return run_gui(
        demo=args.demo,
        data_dir=args.data_dir,
        quit_after=args.quit_after,
        screenshot=args.screenshot,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return _run(args)
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ConfigError as exc:
        print(f"{PROG}: config error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SetupError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except MicboardError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover - exercised through __main__.py
    sys.exit(main())
