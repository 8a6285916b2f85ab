"""Shared helpers: process CPU and memory from /proc, percentiles, child processes, rigs."""

from __future__ import annotations

import compileall
import contextlib
import json
import os
import queue
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from micboard_desktop.simulator.rig import Rig, SimReceiver, SimTransmitter
from micboard_desktop.simulator.rigs import (
    LARGE_RIG_KINDS,
    large_rig,
    make_channel,
    make_receiver,
)

Json = dict[str, Any]
REPO: Final = Path(__file__).resolve().parent.parent
CLK_TCK: Final = os.sysconf("SC_CLK_TCK")
PAGE: Final = os.sysconf("SC_PAGE_SIZE")


def compile_bytecode() -> Json:
    """Write the app's bytecode before a start-up is timed, as an installed app has it.

    pip compiles a package's modules when it installs it, and PyInstaller bundles them
    compiled. An editable checkout run with ``PYTHONDONTWRITEBYTECODE`` set (this sandbox
    sets it) compiles every module of the app again on each start instead: about 0.5 s of
    a start-up that no user sees. Up-to-date files are left as they are.
    """
    started = time.perf_counter()
    ok = all(compileall.compile_dir(REPO / name, quiet=1)
             for name in ("micboard_desktop", "benchmarks"))
    return {"bytecode_compiled": bool(ok), "compile_s": round(time.perf_counter() - started, 2)}


BYTECODE_FIGURE: Final = "app bytecode compiled before timing, as installed"


def bytecode_text(result: Json) -> str | None:
    """Return the table text of :func:`compile_bytecode`'s figures in ``result``, if any."""
    if "bytecode_compiled" not in result:
        return None  # results from before the step
    done = "yes" if result["bytecode_compiled"] else "NO (a start compiled modules: slower)"
    return f"{done} ({result.get('compile_s')} s, not timed)"


def percentile(values: Sequence[float], q: float) -> float:
    """Return the ``q``-th percentile (0-100, nearest rank) of ``values``; 0.0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[rank]


def summary_ms(values_s: Sequence[float]) -> Json:
    """Return p50/p99/max/n of durations given in seconds, in milliseconds."""
    return {
        "n": len(values_s),
        "p50_ms": round(percentile(values_s, 50) * 1000, 2),
        "p99_ms": round(percentile(values_s, 99) * 1000, 2),
        "max_ms": round(max(values_s, default=0.0) * 1000, 2),
    }


def proc_cpu_seconds(pid: int) -> float:
    """Return user+system CPU seconds of process ``pid`` (all threads) from /proc."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_rss_mb(pid: int) -> tuple[float, float]:
    """Return (current RSS, peak RSS) of ``pid`` in MB from /proc/PID/status."""
    rss = hwm = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
        elif line.startswith("VmHWM:"):
            hwm = int(line.split()[1]) / 1024
    return rss, hwm


def self_cpu_seconds() -> float:
    """Return user+system CPU seconds of this process (every thread)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class CpuMeter:
    """CPU % of one core of a process between :meth:`start` and :meth:`stop`."""

    def __init__(self, pid: int | None = None) -> None:
        self.pid = pid or os.getpid()
        self._cpu0 = 0.0
        self._t0 = 0.0
        self.percent = 0.0

    def _cpu(self) -> float:
        return self_cpu_seconds() if self.pid == os.getpid() else proc_cpu_seconds(self.pid)

    def start(self) -> None:
        """Start a measurement window."""
        self._cpu0, self._t0 = self._cpu(), time.monotonic()

    def stop(self) -> float:
        """End the window; return (and keep) the CPU % of one core."""
        elapsed = max(1e-9, time.monotonic() - self._t0)
        self.percent = round(100 * (self._cpu() - self._cpu0) / elapsed, 1)
        return self.percent


def machine_facts() -> Json:
    """Return what the figures depend on: CPU, cores, memory, load, Python, SQLite."""
    import sqlite3

    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_mb = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem_mb = int(Path("/proc/meminfo").read_text().split()[1]) // 1024
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_mb": mem_mb,
        "loadavg_at_start": list(os.getloadavg()),
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def speed_probe_ms(rounds: int = 5) -> float:
    """Return the best of ``rounds`` timings of a fixed pure-Python workload, in milliseconds.

    The VMs these benchmarks run on differ, and one VM's speed moved by half within an hour
    (RESULTS.md, "Round 3, sixth stop"). Timed at the start and at the end of a run, it tells
    which machine the figures describe. Lower is faster.
    """
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        _probe_work()
        best = min(best, time.perf_counter() - started)
    return round(best * 1000, 2)


def _probe_work() -> int:
    """A fixed mix of what the engine does most: string building, dict updates, arithmetic."""
    counts: dict[str, int] = {}
    total = 0
    for i in range(200_000):
        key = f"ch{i % 2000}"
        counts[key] = counts.get(key, 0) + i
        total += len(key) * (i & 7)
    return total + sum(counts.values())


def other_busy_processes(threshold: float = 10.0, window: float = 1.0) -> list[str]:
    """Return command lines of other processes using more than ``threshold`` % CPU now."""
    mine = os.getpid()
    before: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != mine:
            with contextlib.suppress(OSError, ValueError, IndexError):
                before[int(entry.name)] = proc_cpu_seconds(int(entry.name))
    time.sleep(window)
    busy: list[str] = []
    for pid, cpu0 in before.items():
        with contextlib.suppress(OSError, ValueError, IndexError):
            used = 100 * (proc_cpu_seconds(pid) - cpu0) / window
            if used >= threshold:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
                busy.append(f"{used:.0f}% {cmd.decode(errors='replace')[:120].strip()}")
    return busy


def rig_with_channels(channels: int, seed: int = 7) -> Rig:
    """Return a :func:`large_rig` with at least ``channels`` channels (every family)."""
    per_cycle = [count for _family, _model, count, _tx in LARGE_RIG_KINDS]
    receivers = total = 0
    while total < channels:
        total += per_cycle[receivers % len(per_cycle)]
        receivers += 1
    return large_rig(receivers, seed=seed)


def uhfr_rack(channels: int, seed: int = 7) -> list[SimReceiver]:
    """Return UR4D receivers (two channels each, packs on) holding at least ``channels``."""
    receivers = []
    for r in range((max(0, channels) + 1) // 2):
        pair = [
            make_channel(c + 1, f"UHF-R {2 * r + c + 1}", 600_000 + 250 * (2 * r + c),
                         SimTransmitter(model="UR2", battery_type="ALKA",
                                        battery_percent=float(40 + (r * 7 + c * 13) % 60),
                                        battery_minutes=None))
            for c in range(2)
        ]
        receivers.append(make_receiver("uhfr", "UR4D", f"UR {r + 1:03d}", pair,
                                       key=f"uhfr-{seed}-{r}"))
    return receivers


def sennheiser_udp_rack(ssc1_channels: int, mcp_channels: int, seed: int = 7) -> list[SimReceiver]:
    """Return EM 6000s over SSCv1 (two channels each) and ew G4 EMs over MCP (one each).

    They hold at least ``ssc1_channels`` and exactly ``mcp_channels`` channels: the UDP
    protocols of sennheiser.md §3 and §4 in the ingest mix beside SSCv2.
    """
    receivers = []
    for r in range((max(0, ssc1_channels) + 1) // 2):
        pair = [
            make_channel(c + 1, f"D6000 {2 * r + c + 1}", 470_100 + 300 * (2 * r + c),
                         SimTransmitter(model="SK 6000", battery_type="BA 60",
                                        battery_percent=float(30 + (r * 11 + c * 17) % 70)),
                         family="d6000")
            for c in range(2)
        ]
        receivers.append(make_receiver("d6000", "EM6000", f"EM6000 {r + 1:03d}", pair,
                                       key=f"d6000-{seed}-{r}"))
    for r in range(max(0, mcp_channels)):
        one = [make_channel(1, f"G4 {r + 1}", 566_000 + 275 * r,
                            SimTransmitter(model="SKM 500 G4", battery_type="ALKA",
                                           battery_percent=float(35 + (r * 13) % 65),
                                           battery_minutes=None),
                            family="ewg4")]
        receivers.append(make_receiver("ewg4", "EM 300-500 G4", f"G4 {r + 1:03d}", one,
                                       key=f"ewg4-{seed}-{r}"))
    return receivers


class Child:
    """A ``python -m benchmarks.MODULE`` child whose stdout JSON lines are read by a thread."""

    def __init__(self, module: str, *args: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", f"benchmarks.{module}", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env={**os.environ, **(env or {})},
        )
        self.pid = self.proc.pid
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._stderr: list[str] = []
        threading.Thread(target=self._pump_out, daemon=True).start()
        threading.Thread(target=self._pump_err, daemon=True).start()

    def _pump_out(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def _pump_err(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._stderr.append(line)
            del self._stderr[:-40]

    def stderr_tail(self) -> str:
        """Return the last lines the child wrote to stderr."""
        return "".join(self._stderr)

    def json_line(self, timeout: float) -> Json:
        """Return the next JSON-object line of stdout (other lines skipped); bounded."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            line = line.strip()
            if line.startswith("{"):
                value = json.loads(line)
                if isinstance(value, dict):
                    return value
        raise RuntimeError(
            f"{self.proc.args!r}: no JSON line within {timeout:.0f} s; "
            f"stderr: {self.stderr_tail()[-1500:]}"
        )

    def terminate(self) -> None:
        """Ask the child to finish (SIGTERM); it prints its results and exits."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM, wait up to ``grace`` s, then SIGKILL; never raises."""
        self.terminate()
        try:
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=5)


class ManualClock:
    """A :class:`~micboard_desktop.core.clock.Clock` moved by hand (accelerated history)."""

    def __init__(self, start: datetime) -> None:
        self._now = start
        self._mono = 0.0

    def monotonic(self) -> float:
        """Return seconds advanced so far."""
        return self._mono

    def now(self) -> datetime:
        """Return the manual time."""
        return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self._now += timedelta(seconds=seconds)
        self._mono += seconds

    async def sleep(self, seconds: float) -> None:
        """Never return on its own (background loops stay parked)."""
        import asyncio

        await asyncio.Event().wait()


@dataclass
class Stopwatch:
    """Wall-clock seconds since creation."""

    t0: float = 0.0

    def __post_init__(self) -> None:
        self.t0 = time.perf_counter()

    def elapsed(self) -> float:
        """Return seconds since creation."""
        return time.perf_counter() - self.t0
