"""Smoke-test a built Micboard Desktop folder (or macOS ``.app``) as a user would run it.

Usage::

    python packaging/smoke.py "dist/Micboard Desktop"          # Linux, Windows
    python packaging/smoke.py "dist/Micboard Desktop.app"      # macOS

Needs only the standard library (any Python 3.12 works; the app's own Python is inside
the build). Every step runs the *built* executables, with ``MICBOARD_DATA_DIR`` and
``MICBOARD_LOG_DIR`` pointing at a temporary folder so the user's files are never touched:

1. ``contents``  - the bundle holds the migrations, the resources and the package
   metadata, and no tests.
2. ``version``   - ``micboard-desktop --version`` prints the version of the bundled
   metadata (timed: that is the start time of the frozen interpreter).
3. ``simulate``  - ``micboard-desktop simulate`` prints its JSON line of endpoints first.
4. ``headless``  - ``micboard-desktop headless --config F`` (F points at the simulators of
   step 3) runs for at least ``--headless-seconds``, ``status`` on its database shows at
   least one connection up, and it exits 0 on SIGTERM. Any early exit is a failure.
5. ``simulate-stop`` - the simulators exit 0 on SIGINT.
6. ``gui``       - ``Micboard Desktop --demo --quit-after N --screenshot PNG`` (offscreen
   unless ``QT_QPA_PLATFORM`` is set) exits 0 and leaves a non-empty PNG and a database
   (proof that the bundled migrations ran). Timed.
7. ``status``    - ``micboard-desktop status`` reads that database.

Exit status 0 when every step passed or was skipped as allowed, 1 otherwise. On Windows
there are no POSIX signals: steps 4 and 5 stop the processes with CTRL_BREAK and report
the exit status without judging it.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

APP_NAME = "Micboard Desktop"
CLI_NAME = "micboard-desktop"
IS_WINDOWS = sys.platform == "win32"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def say(text: str) -> None:
    """Print one line of progress (flushed, so CI logs stay in order)."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


class SmokeFailure(Exception):
    """A step found something wrong."""


class Skipped(Exception):
    """A step could not run for an accepted reason."""


@dataclass
class Report:
    """Outcome of every step, and the measured numbers."""

    results: list[tuple[str, str, str]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def add(self, step: str, outcome: str, detail: str) -> None:
        """Record and print one step's outcome (PASSED, SKIPPED or FAILED)."""
        self.results.append((step, outcome, detail))
        say(f"{outcome:<7} {step}: {detail}")

    @property
    def failed(self) -> bool:
        """Return True if any step failed."""
        return any(outcome == "FAILED" for _, outcome, _ in self.results)


@dataclass(frozen=True)
class Build:
    """Where the executables and the bundled files of one build are."""

    root: Path
    exe_dir: Path
    internal: Path

    @classmethod
    def locate(cls, folder: Path) -> Build:
        """Find the executables in a one-folder build or a macOS ``.app``."""
        folder = folder.resolve()
        if folder.suffix == ".app":
            exe_dir = folder / "Contents" / "MacOS"
            # PyInstaller's BUNDLE keeps data files in Contents/Resources (and links them
            # from Contents/Frameworks); look for the migrations in either.
            candidates = [folder / "Contents" / "Resources", folder / "Contents" / "Frameworks"]
        else:
            exe_dir = folder
            candidates = [folder / "_internal", folder]
        internal = next((c for c in candidates if (c / "micboard_desktop").is_dir()), candidates[0])
        build = cls(root=folder, exe_dir=exe_dir, internal=internal)
        for exe in (build.gui, build.cli):
            if not exe.is_file():
                raise SmokeFailure(f"executable not found: {exe}")
        return build

    def _exe(self, name: str) -> Path:
        return self.exe_dir / (name + ".exe" if IS_WINDOWS else name)

    @property
    def gui(self) -> Path:
        """Return the GUI executable (no console on Windows)."""
        return self._exe(APP_NAME)

    @property
    def cli(self) -> Path:
        """Return the console executable."""
        return self._exe(CLI_NAME)


def folder_size(path: Path) -> int:
    """Return the total size in bytes of the files below ``path`` (links not followed)."""
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            file = Path(dirpath, name)
            if not file.is_symlink():
                total += file.stat().st_size
    return total


def run(
    args: Sequence[str | Path], env: dict[str, str], timeout: float
) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run a command to completion; return the result and the wall time in seconds."""
    start = time.perf_counter()
    try:
        result = subprocess.run(
            [str(a) for a in args],
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise SmokeFailure(f"{Path(args[0]).name} did not finish within {timeout:.0f} s") from exc
    return result, time.perf_counter() - start


class Background:
    """A long-running command whose output lines are read on a thread."""

    def __init__(self, args: Sequence[str | Path], env: dict[str, str]) -> None:
        flags = 0
        if sys.platform == "win32":  # so CTRL_BREAK reaches only this process
            flags = subprocess.CREATE_NEW_PROCESS_GROUP
        self.proc = subprocess.Popen(
            [str(a) for a in args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            creationflags=flags,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.stderr: list[str] = []
        self._threads = [
            threading.Thread(target=self._pump, args=(self.proc.stdout, self.lines), daemon=True),
            threading.Thread(target=self._collect, args=(self.proc.stderr,), daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    @staticmethod
    def _pump(stream: IO[str] | None, sink: queue.Queue[str | None]) -> None:
        if stream is not None:
            for line in stream:
                sink.put(line.rstrip("\n"))
        sink.put(None)

    def _collect(self, stream: IO[str] | None) -> None:
        if stream is not None:
            self.stderr.extend(line.rstrip("\n") for line in stream)

    def first_line(self, timeout: float) -> str:
        """Return the first stdout line, or raise if none comes in ``timeout`` seconds."""
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise SmokeFailure(f"no output within {timeout:.0f} s") from None
        if line is None:
            self.proc.wait(timeout=5)
            raise SmokeFailure(
                f"exited with {self.proc.returncode} before printing anything: {self.tail()}"
            )
        return line

    def wait_exit(self, seconds: float) -> int | None:
        """Return the exit status if the process ends within ``seconds``, else None."""
        try:
            return self.proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, sig: int, timeout: float = 15.0) -> int:
        """Send ``sig`` (CTRL_BREAK on Windows), wait, and return the exit status.

        On Windows a process that ignores CTRL_BREAK is terminated (its status is reported,
        not judged); elsewhere not exiting within ``timeout`` is a failure.
        """
        if self.proc.poll() is None:
            if sys.platform == "win32":
                self.proc.send_signal(signal.CTRL_BREAK_EVENT)
            else:
                self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(timeout=10)
            if not IS_WINDOWS:
                raise SmokeFailure(f"did not exit within {timeout:.0f} s of the signal") from None
        for thread in self._threads:
            thread.join(timeout=5)
        return code

    def kill(self) -> None:
        """Kill the process if it still runs (clean-up after a failure)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def tail(self) -> str:
        """Return the last lines of stderr, for messages."""
        for thread in self._threads:
            thread.join(timeout=2)
        return " | ".join(self.stderr[-5:]) or "(no stderr)"


def bundled_version(build: Build) -> str:
    """Return the version recorded in the bundled ``micboard_desktop-*.dist-info``."""
    for meta in sorted(build.internal.glob("micboard_desktop-*.dist-info/METADATA")):
        match = re.search(r"^Version: (\S+)$", meta.read_text(encoding="utf-8"), re.MULTILINE)
        if match:
            return match.group(1)
    raise SmokeFailure(f"no micboard_desktop-*.dist-info in {build.internal}")


def check_contents(build: Build) -> str:
    """Check the bundled data files; return a summary."""
    package = build.internal / "micboard_desktop"
    required = [
        package / "data" / "migrations" / "env.py",
        package / "data" / "migrations" / "script.py.mako",
        build.internal / "resources",
    ]
    missing = [str(p.relative_to(build.root)) for p in required if not p.exists()]
    if not list((package / "data" / "migrations" / "versions").glob("*.py")):
        missing.append("micboard_desktop/data/migrations/versions/*.py")
    if missing:
        raise SmokeFailure(f"missing from the build: {', '.join(missing)}")
    unwanted = [
        str(p.relative_to(build.root))
        for name in ("tests", "pytest", "_pytest", "hypothesis", "PyInstaller")
        for p in (build.internal / name,)
        if p.exists()
    ]
    if unwanted:
        raise SmokeFailure(f"test or build tools shipped: {', '.join(unwanted)}")
    return "migrations, resources and metadata present; no tests"


def config_for(endpoints: dict[str, Any]) -> str:
    """Return a TOML configuration pointing the monitor at the simulators' endpoints."""
    shure = [f"{r['host']}:{r['port']}" for r in endpoints.get("shure_receivers", [])]
    ssc = [str(r["url"]) for r in endpoints.get("sennheiser_ssc2", [])]
    lines = [
        "# Generated by packaging/smoke.py: the bundled simulators on loopback.",
        "[micboard]",
        'log_level = "INFO"',
        "",
        "[[manufacturers]]",
        'code = "shure"',
        'name = "Shure Incorporated"',
        f"devices = {json.dumps(shure)}",
        "timeout = 3.0",
        "",
        "[[manufacturers]]",
        'code = "sennheiser"',
        'name = "Sennheiser"',
        'tls = "insecure"',
        f"devices = {json.dumps(ssc)}",
        "timeout = 3.0",
        "",
    ]
    return "\n".join(lines)


def smoke(build: Build, work: Path, opts: argparse.Namespace, report: Report) -> None:
    """Run every step, recording outcomes in ``report``."""
    env = dict(os.environ)
    env["MICBOARD_DATA_DIR"] = str(work / "data")
    env["MICBOARD_LOG_DIR"] = str(work / "logs")
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env.setdefault("PYTHONUNBUFFERED", "1")  # ignored by the frozen app; harmless

    def step(name: str, action: Any) -> None:
        try:
            report.add(name, "PASSED", action())
        except Skipped as exc:
            report.add(name, "SKIPPED", str(exc))
        except SmokeFailure as exc:
            report.add(name, "FAILED", str(exc))

    step("contents", lambda: check_contents(build))

    def version() -> str:
        expected = opts.expect_version or bundled_version(build)
        result, seconds = run([build.cli, "--version"], env, timeout=60)
        report.timings["version_s"] = seconds
        wanted = f"{CLI_NAME} {expected}"
        if result.returncode != 0 or result.stdout.strip() != wanted:
            raise SmokeFailure(
                f"expected {wanted!r} and exit 0, got {result.stdout.strip()!r} "
                f"(exit {result.returncode}) {result.stderr.strip()[-300:]}"
            )
        return f"{wanted!r} in {seconds:.2f} s"

    step("version", version)

    sim = Background([build.cli, "simulate"], env)
    try:
        endpoints: dict[str, Any] = {}

        def simulate() -> str:
            line = sim.first_line(timeout=60)
            try:
                data = json.loads(line)
            except json.JSONDecodeError:
                raise SmokeFailure(f"first line is not JSON: {line[:200]!r}") from None
            if not isinstance(data, dict) or not data.get("shure_receivers"):
                raise SmokeFailure(f"unexpected endpoints: {line[:200]!r}")
            endpoints.update(data)
            count = sum(len(v) for v in data.values() if isinstance(v, list))
            return f"{count} endpoints: {', '.join(sorted(data))}"

        step("simulate", simulate)
        if endpoints:
            step("headless", lambda: headless(build, work, env, endpoints, opts))

            def simulate_stop() -> str:
                code = sim.stop(signal.SIGINT)
                if IS_WINDOWS:
                    return f"stopped with CTRL_BREAK, exit {code} (not judged on Windows)"
                if code != 0:
                    raise SmokeFailure(f"exit {code} after SIGINT, expected 0: {sim.tail()}")
                return "exit 0 after SIGINT"

            step("simulate-stop", simulate_stop)
    finally:
        sim.kill()

    gui_data = work / "gui-data"

    def gui() -> str:
        png = work / "demo.png"
        args: list[str | Path] = [
            build.gui,
            "--demo",
            "--data-dir",
            gui_data,
            "--quit-after",
            str(opts.quit_after),
            "--screenshot",
            png,
        ]
        result, seconds = run(args, env, timeout=opts.quit_after + 120)
        report.timings["gui_s"] = seconds
        if result.returncode != 0:
            raise SmokeFailure(f"exit {result.returncode}: {result.stderr.strip()[-800:]}")
        if not png.is_file() or png.stat().st_size == 0:
            raise SmokeFailure("no screenshot written")
        if png.read_bytes()[:8] != PNG_MAGIC:
            raise SmokeFailure("the screenshot is not a PNG")
        if not (gui_data / "micboard.db").is_file():
            raise SmokeFailure("no database created (migrations not run?)")
        if opts.keep_screenshot:
            shutil.copyfile(png, opts.keep_screenshot)
        platform = env["QT_QPA_PLATFORM"]
        return (
            f"exit 0 after --quit-after {opts.quit_after:g} in {seconds:.2f} s "
            f"({platform}); screenshot {png.stat().st_size} bytes; database created"
        )

    step("gui", gui)

    def status() -> str:
        if not (gui_data / "micboard.db").is_file():
            raise Skipped("no database from the gui step")
        result, _ = run([build.cli, "status", "--data-dir", gui_data], env, timeout=60)
        if result.returncode != 0:
            raise SmokeFailure(f"exit {result.returncode}: {result.stderr.strip()[-400:]}")
        rows = max(0, len(result.stdout.strip().splitlines()) - 1)
        return f"exit 0, {rows} connection row(s) read from the demo database"

    step("status", status)


def headless(
    build: Build,
    work: Path,
    env: dict[str, str],
    endpoints: dict[str, Any],
    opts: argparse.Namespace,
) -> str:
    """Run ``headless`` against the simulators, watch it connect, stop it with SIGTERM."""
    config = work / "headless.toml"
    config.write_text(config_for(endpoints), encoding="utf-8")
    data_dir = work / "headless-data"
    run_env = dict(env)
    ssc = endpoints.get("sennheiser_ssc2") or [{}]
    if ssc[0].get("password"):
        run_env["SENNHEISER_API_KEY"] = str(ssc[0]["password"])  # the simulators' demo password
    start = time.monotonic()
    proc = Background([build.cli, "headless", "--config", config, "--data-dir", data_dir], run_env)
    try:
        connected, total = 0, 0
        deadline = start + max(opts.headless_seconds, 30.0)
        while True:
            code = proc.wait_exit(1.0)
            if code is not None:
                raise SmokeFailure(f"exited early with {code}: {proc.tail()}")
            connected, total = connection_counts(build, data_dir, env)
            elapsed = time.monotonic() - start
            if connected and elapsed >= opts.headless_seconds:
                break
            if time.monotonic() > deadline:
                raise SmokeFailure(
                    f"no connection came up within {deadline - start:.0f} s "
                    f"({total} connection rows): {proc.tail()}"
                )
        elapsed = time.monotonic() - start
        code = proc.stop(signal.SIGTERM)
        seen = f"ran {elapsed:.1f} s, {connected}/{total} connections up (status command)"
        if IS_WINDOWS:
            return f"{seen}; stopped with CTRL_BREAK, exit {code} (not judged on Windows)"
        if code != 0:
            raise SmokeFailure(f"{seen}; exit {code} after SIGTERM, expected 0: {proc.tail()}")
        return f"{seen}; exit 0 after SIGTERM"
    finally:
        proc.kill()


def connection_counts(build: Build, data_dir: Path, env: dict[str, str]) -> tuple[int, int]:
    """Return (connected, total) rows of ``status`` for ``data_dir`` (0, 0 before the DB)."""
    if not (data_dir / "micboard.db").is_file():
        return 0, 0
    result, _ = run([build.cli, "status", "--data-dir", data_dir], env, timeout=60)
    if result.returncode != 0:
        return 0, 0
    rows = [line.split() for line in result.stdout.splitlines()[1:] if line.strip()]
    return sum(1 for row in rows if "connected" in row), len(rows)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("build", type=Path, help="the built folder or macOS .app")
    parser.add_argument("--expect-version", help="default: the version in the bundled metadata")
    parser.add_argument("--headless-seconds", type=float, default=5.0)
    parser.add_argument("--quit-after", type=float, default=5.0)
    parser.add_argument("--keep-screenshot", type=Path, help="copy the GUI screenshot here")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the smoke test; return 0 if nothing failed."""
    opts = parse_args(argv)
    report = Report()
    try:
        build = Build.locate(opts.build)
    except SmokeFailure as exc:
        report.add("locate", "FAILED", str(exc))
        return 1
    size = folder_size(build.root)
    say(f"build:   {build.root} ({size / 2**20:.0f} MiB in files)")
    with tempfile.TemporaryDirectory(prefix="micboard-smoke-") as tmp:
        smoke(build, Path(tmp), opts, report)
    summary = ", ".join(f"{key}={value:.2f}" for key, value in report.timings.items())
    say(f"timings: {summary or '-'}")
    outcome = "FAILED" if report.failed else "OK"
    say(f"smoke:   {outcome} ({len(report.results)} steps)")
    if opts.json:
        opts.json.write_text(
            json.dumps(
                {
                    "build": str(build.root),
                    "size_bytes": size,
                    "timings": report.timings,
                    "steps": [{"step": s, "outcome": o, "detail": d} for s, o, d in report.results],
                    "ok": not report.failed,
                },
                indent=2,
            ),
            encoding="utf-8",
        )
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
