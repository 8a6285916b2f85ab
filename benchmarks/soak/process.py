"""The app under test: ``micboard_desktop headless`` as a real child process.

Its stdout and stderr go to files (a pipe nobody drains would block a chatty app), one
pair per incarnation, so a kill -9 and restart keeps both outputs for the report.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

import aiohttp

READY_TIMEOUT_S: Final = 60.0
STOP_TIMEOUT_S: Final = 30.0
CLK_TCK: Final = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True, slots=True)
class ProcSample:
    """One look at the app process in /proc."""

    rss_kb: int
    fds: int
    threads: int
    cpu_seconds: float


class AppProcess:
    """Start, kill -9, restart and stop the headless app; read its /proc numbers."""

    def __init__(self, config: Path, data_dir: Path, port: int, env: dict[str, str], out: Path):
        self.config = config
        self.data_dir = data_dir
        self.port = port
        self.env = env
        self.out = out
        self.incarnation = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self._files: list[IO[bytes]] = []
        self.exit_codes: list[int] = []

    @property
    def url(self) -> str:
        """Return the LAN API base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        """Return the pid of the running incarnation (0 when none)."""
        return 0 if self.proc is None else self.proc.pid

    def stderr_files(self) -> list[Path]:
        """Return every incarnation's stderr file."""
        return [self.out / f"app-{n}.stderr" for n in range(1, self.incarnation + 1)]

    def start(self) -> None:
        """Start a new incarnation on the same config, data dir and port."""
        self.incarnation += 1
        stdout = (self.out / f"app-{self.incarnation}.stdout").open("wb")
        stderr = (self.out / f"app-{self.incarnation}.stderr").open("wb")
        self._files += [stdout, stderr]
        args = [
            sys.executable, "-m", "micboard_desktop", "headless",
            "--config", str(self.config), "--data-dir", str(self.data_dir),
            "--lan", f"127.0.0.1:{self.port}",
        ]
        self.proc = subprocess.Popen(args, stdout=stdout, stderr=stderr, env=self.env)

    def alive(self) -> bool:
        """Return True while the current incarnation runs."""
        return self.proc is not None and self.proc.poll() is None

    async def wait_ready(self, within: float = READY_TIMEOUT_S) -> float:
        """Wait until ``/api/data/`` answers 200; return the seconds it took."""
        started = time.monotonic()
        deadline = started + within
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=3)) as http:
            while time.monotonic() < deadline:
                if not self.alive():
                    raise RuntimeError(f"the app exited during start-up ({self.returncode()})")
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with http.get(f"{self.url}/api/data/") as response:
                        if response.status == 200:
                            return time.monotonic() - started
                await asyncio.sleep(0.25)
        raise TimeoutError(f"the LAN API did not answer within {within:.0f} s")

    def returncode(self) -> int | None:
        """Return the exit status of the current incarnation (None while it runs)."""
        return None if self.proc is None else self.proc.poll()

    async def kill9(self) -> None:
        """Send SIGKILL and reap the process."""
        proc = self.proc
        if proc is None:
            return
        proc.send_signal(signal.SIGKILL)
        code = await asyncio.to_thread(proc.wait, STOP_TIMEOUT_S)
        self.exit_codes.append(code)

    async def stop(self) -> int | None:
        """SIGTERM, wait (bounded), SIGKILL if needed; return the exit status."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return None if proc is None else proc.returncode
        proc.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.to_thread(proc.wait, STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = await asyncio.to_thread(proc.wait, STOP_TIMEOUT_S)
        self.exit_codes.append(code)
        return code

    def force_kill(self) -> None:
        """Kill and reap without waiting on the loop (used in ``finally``)."""
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(STOP_TIMEOUT_S)
        for handle in self._files:
            handle.close()
        self._files = []

    def sample(self) -> ProcSample | None:
        """Return RSS, open fds, threads and CPU time of the running app, or None."""
        pid = self.pid
        if not pid or not self.alive():
            return None
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            fds = len(os.listdir(f"/proc/{pid}/fd"))
            stat = Path(f"/proc/{pid}/stat").read_text()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            return None
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        rss = int(fields["VmRSS"].split()[0])
        threads = int(fields["Threads"].strip())
        after_comm = stat.rsplit(")", 1)[1].split()
        cpu = (int(after_comm[11]) + int(after_comm[12])) / CLK_TCK  # utime + stime
        return ProcSample(rss_kb=rss, fds=fds, threads=threads, cpu_seconds=cpu)

    def stderr_problems(self) -> tuple[int, list[str]]:
        """Return the number of Traceback blocks and the first lines of each."""
        count = 0
        heads: list[str] = []
        for path in self.stderr_files():
            if not path.exists():
                continue
            lines = path.read_text(errors="replace").splitlines()
            for i, line in enumerate(lines):
                if "Traceback" in line:
                    count += 1
                    if len(heads) < 5:
                        heads.append(" | ".join(lines[max(0, i - 1) : i + 12])[:1500])
        return count, heads

    def log_lines(self, level: str) -> list[str]:
        """Return every stderr line (all incarnations) that mentions ``level``."""
        found: list[str] = []
        for path in self.stderr_files():
            if path.exists():
                found += [
                    line
                    for line in path.read_text(errors="replace").splitlines()
                    if level in line
                ]
        return found
