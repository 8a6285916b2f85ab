"""Orchestrate one soak: simulators here, the headless app as a child, chaos, checks."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Final

from benchmarks.soak.chaos import Chaos, Target
from benchmarks.soak.checks import (
    Database,
    EventLedger,
    RecoveryMonitor,
    ResourcePoint,
    all_live,
    compare_values,
    resource_checks,
)
from benchmarks.soak.lanclients import LanClients
from benchmarks.soak.options import (
    POLL_INTERVAL_S,
    TIMEOUT_S,
    SoakOptions,
    recovery_bound,
)
from benchmarks.soak.process import AppProcess, ProcSample
from benchmarks.soak.report import SoakResult
from micboard_desktop.app.demo import demo_config
from micboard_desktop.core.config_io import to_toml
from micboard_desktop.simulator.rig import Rig, SimChannel, SimReceiver
from micboard_desktop.simulator.rigs import large_rig
from micboard_desktop.simulator.runner import SimulatorHub

SAMPLE_EVERY_S: Final = 2.0
VALUE_SETTLE_S: Final = 2.5
ALERT_RAISE_WITHIN_S: Final = 20.0
ALERT_CLEAR_WITHIN_S: Final = 30.0
INITIAL_LIVE_TIMEOUT_S: Final = 90.0
LOCKUPS_AT_KILL: Final = 2


def free_port() -> int:
    """Return a loopback TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def app_config(hub: SimulatorHub, meter_rate_ms: int) -> str:
    """Return the app's TOML config: every simulated receiver, the System API, LAN control."""
    config, _secrets = demo_config(
        hub.endpoints(), meter_rate_ms=meter_rate_ms, timeout=TIMEOUT_S, system_api=True
    )
    return to_toml(
        replace(
            config,
            micboard=replace(config.micboard, default_polling_interval=POLL_INTERVAL_S),
            lan=replace(config.lan, allow_control=True),
        )
    )


def targets_of(hub: SimulatorHub) -> list[Target]:
    """Return one chaos target per simulator server, with its app connection id."""
    targets: list[Target] = []
    if hub.system_api is not None:
        targets.append(
            Target("Shure System API", "system_api", hub.system_api, "shure:system-api", "shure")
        )
    for server in hub.shure_receivers:
        rx = server.receiver
        targets.append(
            Target(f"{rx.name} {rx.model} :{server.port}", "shure_cmd", server,
                   f"shure:127.0.0.1:{server.port}", "shure")
        )
    for ssc, rx in zip(hub.sennheiser, hub.sennheiser_receivers, strict=True):
        netloc = ssc.url.split("://", 1)[1]
        targets.append(
            Target(f"{rx.name} {rx.model} {netloc}", "ssc", ssc, f"sennheiser:{netloc}",
                   "sennheiser")
        )
    return targets


def alert_channel(rig: Rig) -> tuple[SimReceiver, SimChannel]:
    """Return the channel whose battery the soak drives (a rechargeable Shure pack)."""
    for rx in rig.receivers:
        if rx.protocol != "shure_cmd":
            continue
        for ch in rx.channels:
            if ch.transmitter is not None and ch.transmitter.rechargeable:
                return rx, ch
    raise ValueError("the rig has no rechargeable Shure transmitter")


def set_battery(rig: Rig, rx: SimReceiver, ch: SimChannel, percent: float) -> None:
    """Set a pack's charge (and minutes, as the pack would) and announce it."""
    tx = ch.transmitter
    assert tx is not None
    was_on = tx.on
    tx.on = True
    tx.runtime_state = None
    tx.battery_percent = percent
    tx.battery_minutes = round(percent * 4.8)
    if not was_on:  # the scenario switched the pack off: switch it on, as a tech would
        ch.rssi_dbm = [-55.0] * len(ch.rssi_dbm)
        rig.changed(rx, ch, "transmitter")
    rig.changed(rx, ch, "battery")


async def run_soak(options: SoakOptions) -> SoakResult:
    """Run one soak and return its result (the caller renders and saves the report)."""
    options = options.tuned()
    if options.work_dir is not None:
        options.work_dir.mkdir(parents=True, exist_ok=True)
        return await Soak(options, options.work_dir).run()
    with tempfile.TemporaryDirectory(prefix="micboard-soak-") as tmp:
        return await Soak(options, Path(tmp)).run()


class Soak:
    """One run (see the package docstring for what it does)."""

    def __init__(self, options: SoakOptions, work: Path) -> None:
        self.o = options
        self.work = work
        self.result = SoakResult()
        self.rig = large_rig(options.receivers, seed=options.seed)
        self.hub = SimulatorHub(
            self.rig, seed=options.seed, scenario_period=None, activity_period=2.0
        )
        self.alert_rx, self.alert_ch = alert_channel(self.rig)
        set_battery(self.rig, self.alert_rx, self.alert_ch, 95.0)
        self.db = Database(work / "data" / "micboard.db")
        self.token = secrets.token_urlsafe(24)
        self.started = time.monotonic()
        self.app_down = False
        self.ledger = EventLedger()
        self.samples: list[tuple[float, ProcSample]] = []
        self.checkpoints = 0
        self.ghosts: list[str] = []
        self.crashed: str | None = None
        self.bound = recovery_bound(2.5)  # a LAN config change may raise the timeout to 2.5 s
        self._scenario: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self.app: AppProcess | None = None
        self.lan: LanClients | None = None
        self.chaos: Chaos | None = None
        self.monitor: RecoveryMonitor | None = None

    def elapsed(self) -> float:
        """Return seconds since the soak clock started."""
        return time.monotonic() - self.started

    def note(self, text: str) -> None:
        """Add a timeline entry stamped with the soak time."""
        self.result.timeline.append(f"t={self.elapsed():.1f}s {text}")

    # -- lifecycle ----------------------------------------------------------------------

    async def run(self) -> SoakResult:
        """Run everything; every task and process is stopped in ``finally``."""
        tasks: list[asyncio.Task[Any]] = []
        try:
            await self.hub.start()
            self._resume_scenario()
            await self._start_app()
            assert self.app is not None
            assert self.lan is not None
            assert self.chaos is not None
            assert self.monitor is not None
            tasks.append(asyncio.create_task(self._sample_loop(), name="soak-sampler"))
            chaos_log = self.chaos.log
            tasks.append(asyncio.create_task(
                self.monitor.run(lambda: chaos_log, self._stop), name="soak-monitor"))
            tasks.append(asyncio.create_task(
                self.chaos.run(lambda: self._stop.is_set() or self.crashed is not None
                               or self.elapsed() >= self.o.duration),
                name="soak-chaos"))
            await self._script()
        finally:
            self._stop.set()
            await self._shutdown(tasks)
        self._final_checks()
        return self.result

    async def _start_app(self) -> None:
        (self.work / "data").mkdir(exist_ok=True)
        config = self.work / "show.toml"
        config.write_text(app_config(self.hub, self.o.meter_rate_ms))
        endpoints = self.hub.endpoints()
        env = {
            **os.environ,
            "QT_QPA_PLATFORM": "offscreen",
            "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
            "MICBOARD_LAN_TOKEN": self.token,
            "SHURE_API_KEY": str(endpoints["shure_system_api"][0]["api_key"]),
            "SENNHEISER_API_KEY": str(endpoints["sennheiser_ssc2"][0]["password"]),
            **self.o.extra_env,
        }
        self.app = AppProcess(config, self.work / "data", free_port(), env, self.work)
        self.app.start()
        took = await self.app.wait_ready()
        targets = targets_of(self.hub)
        self.note(f"app pid {self.app.pid} ready in {took:.1f} s; {len(targets)} connections")
        self.lan = LanClients(self.app.url, lambda: self.app_down, self.elapsed)
        await self.lan.start()
        lan = self.lan

        async def post(manufacturer: str | None, key: str, value: object) -> tuple[int, str]:
            return await lan.post_config(self.token, manufacturer, key, value)

        async def state(cid: str) -> tuple[str, int, str | None] | None:
            row = (await self.db.connections()).get(cid)
            return None if row is None else (row.state, row.error_count, row.last_error)

        self.chaos = Chaos(
            self.hub, targets, seed=self.o.seed, clock=self.elapsed,
            fault_seconds=self.o.fault_seconds, gap_seconds=self.o.gap_seconds,
            max_concurrent=self.o.max_concurrent_faults, post_config=post, read_state=state,
            auth_quiet=self.o.auth_quiet, timeouts={"shure": TIMEOUT_S, "sennheiser": TIMEOUT_S},
            count_refusals=self._refusals, poll_interval=POLL_INTERVAL_S,
        )
        self.monitor = RecoveryMonitor(self.db, self.bound, self.elapsed, self.chaos.release)
        laggards = await all_live(self.db, [t.connection_id for t in targets], 0.0,
                                  INITIAL_LIVE_TIMEOUT_S)
        self.result.check("every connection comes up at start", not laggards,
                          "; ".join(laggards) or f"{len(targets)} connections live")
        self.started = time.monotonic()  # the soak clock starts once the rig is live
        self.note("all connections live; chaos starts")

    def _refusals(self, target: Target, since: float, until: float) -> int:
        """Count the app's log lines reporting a 401 from ``target`` between two wall times."""
        assert self.app is not None
        files = self.app.stderr_files()
        if not files or not files[-1].exists():
            return 0
        key = target.connection_id.split(":", 1)[1]
        needles = (key,) if target.kind == "ssc" else ("system-api", "poll failed")
        count = 0
        for line in files[-1].read_text(errors="replace").splitlines():
            if "401" not in line or not any(n in line for n in needles):
                continue
            try:
                stamp = time.mktime(time.strptime(line[:19], "%Y-%m-%d %H:%M:%S"))
            except ValueError:
                continue
            stamp += int(line[20:23]) / 1000 if line[20:23].isdigit() else 0.0
            if since <= stamp <= until:
                count += 1
        return count

    async def _script(self) -> None:
        o = self.o
        base1 = await self._at(o.warmup, "warm-up", alerts=not o.short)
        end1 = await self._at(o.kill_at - (5.0 if o.short else 20.0), "before kill -9")
        await self._sleep_until(o.kill_at)
        if self.crashed is None:
            await self._kill_and_restart()
        restarted_at = self.elapsed()
        # Short runs drive the alert inside the soak window, not in the final tail.
        base2 = await self._at(restarted_at + o.warmup, "warm-up after restart", alerts=o.short)
        end2 = await self._at(o.duration, "final", alerts=not o.short)
        for base, end, segment in ((base1, end1, "first run"), (base2, end2, "after restart")):
            if base is not None and end is not None:
                self.result.checks += resource_checks(base, end, segment)

    async def _at(self, when: float, label: str, *, alerts: bool = False) -> ResourcePoint | None:
        await self._sleep_until(when)
        if self.crashed is not None:
            return None
        return await self._checkpoint(label, alerts=alerts)

    async def _sleep_until(self, when: float) -> None:
        while self.elapsed() < when and self.crashed is None:  # noqa: ASYNC110 - bounded by when
            await asyncio.sleep(min(1.0, max(0.0, when - self.elapsed())))

    async def _shutdown(self, tasks: list[asyncio.Task[Any]]) -> None:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.lan is not None:
            await self.lan.stop()
        if self.app is not None:
            code = await self.app.stop() if self.app.alive() else self.app.returncode()
            if self.crashed is None:
                self.result.check("clean exit on SIGTERM", code == 0, f"exit status {code}")
            self.app.force_kill()
        if self.chaos is not None:
            await self.chaos.close()
        self._pause_scenario()
        await self.hub.stop()

    # -- scenario ----------------------------------------------------------------------

    def _resume_scenario(self) -> None:
        if self._scenario is None:
            self._scenario = asyncio.create_task(self.hub.scenario.run(0.1), name="soak-scenario")

    def _pause_scenario(self) -> None:
        if self._scenario is not None:
            self._scenario.cancel()
            self._scenario = None

    # -- sampling ----------------------------------------------------------------------

    async def _sample_loop(self) -> None:
        assert self.app is not None
        while True:
            await asyncio.sleep(SAMPLE_EVERY_S)
            if self.app_down:
                continue
            if not self.app.alive():
                self.crashed = f"the app exited with status {self.app.returncode()}"
                self.note(f"CRASH: {self.crashed}")
                return
            sample = self.app.sample()
            if sample is not None:
                self.samples.append((self.elapsed(), sample))

    # -- checkpoints -------------------------------------------------------------------

    async def _checkpoint(self, label: str, *, alerts: bool) -> ResourcePoint | None:
        assert self.chaos is not None
        assert self.monitor is not None
        assert self.lan is not None
        assert self.app is not None
        self.checkpoints += 1
        began = self.elapsed()
        async with self.chaos.paused():
            quiet_wall = time.time()
            drained = self.elapsed() - began
            settled = await self.monitor.settle(self.chaos.log, self.o.checkpoint_timeout)
            settled_after = self.elapsed() - began
            pending = [f"#{i.number} {i.fault} {i.connection_id}" for i in self.monitor.pending]
            ids = [t.connection_id for t in self.chaos.targets]
            laggards = await all_live(
                self.db, ids, quiet_wall, self.o.checkpoint_timeout,
                slow=lambda text: self.note(f"checkpoint '{label}': still waiting for {text}"),
            )
            self.note(f"checkpoint '{label}': faults ended after {drained:.1f} s, recoveries "
                      f"resolved after {settled_after:.1f} s {pending}, all live after "
                      f"{self.elapsed() - began:.1f} s")
            self.result.check(
                f"all connections live at '{label}'", settled and not laggards,
                "; ".join(laggards) or f"{len(ids)} connections connected with fresh data",
            )
            self._pause_scenario()  # meters keep flowing until liveness is proven
            await asyncio.sleep(VALUE_SETTLE_S)
            await self._compare(label)
            if alerts:
                await self._drive_alert(label)
            point = self._resources(label)
            self.ledger.absorb(await self.db.events(), label)
            self._resume_scenario()
        self.note(f"checkpoint '{label}' took {self.elapsed() - began:.1f} s")
        return point

    async def _compare(self, label: str) -> None:
        assert self.lan is not None
        try:
            document = await self.lan.fetch_data()
        except Exception as exc:  # noqa: BLE001 - any failure is a failed check, reported
            self.result.check(f"values equal the simulator's at '{label}'", False, repr(exc))
            return
        assert self.chaos is not None
        live_ids = {t.connection_id for t in self.chaos.targets}
        outcome = compare_values(
            document, self.rig, self.o.sample_channels, self.o.seed + self.checkpoints, live_ids
        )
        self.result.check(
            f"values equal the simulator's at '{label}'", not outcome.problems,
            "; ".join(outcome.problems[:8]) or f"{outcome.compared} channels: names, "
            "frequencies, battery (Shure bars, Sennheiser %)",
        )
        new = [g for g in outcome.ghosts if g not in self.ghosts]
        if new:
            self.ghosts += new
            self.result.findings.append(
                f"At '{label}' /api/data/ lists receiver(s) no configured device feeds, offline "
                f"for good: {new}. They were restored from the database at start-up although "
                "the configuration in force no longer lists their address."
            )

    def _resources(self, label: str) -> ResourcePoint | None:
        assert self.app is not None
        sample = self.app.sample()
        if sample is None:
            return None
        point = ResourcePoint(label, self.elapsed(), sample.rss_kb, sample.fds, sample.threads)
        self.result.resources.append(point)
        return point

    async def _drive_alert(self, label: str) -> None:
        """Run one pack low then fresh again; expect one raise and one clear."""
        assert self.lan is not None
        rx, ch = self.alert_rx, self.alert_ch
        document = await self.lan.fetch_data()
        api_rx = next((r for r in document["receivers"] if r["name"] == rx.name), None)
        if api_rx is None:
            self.result.check(f"alert raised and cleared at '{label}'", False, "receiver missing")
            return
        cid = f"{api_rx['id']}:{ch.number}"
        low_wall = time.time()
        # 5 % is 24 min left: critical by runtime, the measure that decides when a pack reports
        # it (issue #23, 7; 10 % was 48 min, only low).
        set_battery(self.rig, rx, ch, 5.0)
        raised = await self._wait_event("alert_raised", cid, low_wall, ALERT_RAISE_WITHIN_S)
        status = await self._channel_status(rx.name, ch.number)
        high_wall = time.time()
        set_battery(self.rig, rx, ch, 95.0)
        cleared = await self._wait_event("alert_cleared", cid, high_wall, ALERT_CLEAR_WITHIN_S)
        rows = await self.db.aquery(
            "SELECT kind FROM events WHERE channel_id = ? AND ts >= ? AND kind LIKE 'alert_%' "
            "AND json_extract(data, '$.key') = ?",
            cid, low_wall - 0.5, f"battery:{cid}",
        )
        kinds = [r[0] for r in rows]
        open_rows = await self.db.aquery(
            "SELECT key FROM alerts WHERE channel_id = ? AND cleared_at IS NULL AND rule LIKE "
            "'%battery%'", cid,
        )
        ok = (raised is not None and cleared is not None and kinds.count("alert_raised") == 1
              and kinds.count("alert_cleared") == 1 and not open_rows
              and status == "critical_battery")
        detail = (f"{cid}: raised after {_t(raised, low_wall)}, /api/data/ status while low "
                  f"{status!r}, cleared after {_t(cleared, high_wall)} (clear hold 5 s); "
                  f"alert events {kinds}; battery alerts still open {open_rows}")
        self.result.check(f"alert raised and cleared at '{label}'", ok, detail)

    async def _wait_event(self, kind: str, cid: str, since: float, within: float) -> float | None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            rows = await self.db.aquery(
                "SELECT min(ts) FROM events WHERE kind = ? AND channel_id = ? AND ts >= ? "
                "AND json_extract(data, '$.key') = ?",
                kind, cid, since - 0.5, f"battery:{cid}",
            )
            if rows and rows[0][0] is not None:
                return float(rows[0][0])
            await asyncio.sleep(0.5)
        return None

    async def _channel_status(self, receiver: str, number: int) -> str | None:
        assert self.lan is not None
        document = await self.lan.fetch_data()
        for rx in document["receivers"]:
            if rx["name"] == receiver:
                for ch in rx["channels"]:
                    if ch["number"] == number:
                        return str(ch["status"])
        return None

    # -- kill -9 -----------------------------------------------------------------------

    async def _kill_and_restart(self) -> None:
        assert self.app is not None
        assert self.chaos is not None
        assert self.monitor is not None
        armed = await self.chaos.lock_up_for_kill(LOCKUPS_AT_KILL)
        await asyncio.sleep(1.0)
        before = await self.db.events()
        self.ledger.absorb(before, "just before kill -9")
        self.app_down = True
        self.monitor.app_down = True
        await self.app.kill9()
        killed_at = self.elapsed()
        self.note(f"kill -9 (pid {self.app.pid}) with {len(before)} committed events, "
                  f"{self.chaos.active} faults active")
        integrity = await self.db.integrity()
        self.result.check("database sound right after kill -9", integrity == "ok",
                          f"PRAGMA integrity_check (read-only, before restart): {integrity}")
        self.app.start()
        took = await self.app.wait_ready()
        self.monitor.app_ready_wall = time.time()
        self.app_down = False
        self.monitor.app_down = False
        self.note(f"restarted as pid {self.app.pid}; LAN API back after {took:.1f} s "
                  f"({self.elapsed() - killed_at:.1f} s down)")
        after = await self.db.events()
        lost = [i for i in before if after.get(i) != before[i]]
        self.result.check(
            "no committed event lost across kill -9", not lost,
            f"{len(before)} events committed before the kill; {len(lost)} missing or changed "
            f"after restart; {len(after)} events now",
        )
        self.ledger.absorb(after, "after restart")
        await asyncio.sleep(3.0)
        for target, injection in armed:
            self.chaos.end_lockup(target, injection)
        present = {row[0] for row in await self.db.aquery(
            "SELECT connection_id FROM realtime_connections")}
        forgotten = await self.chaos.reapply_after_restart(present)
        if forgotten:
            self.result.findings.append(
                "Device-list changes made through POST /api/config/ do not survive a restart of "
                "the headless app: after kill -9 it monitored "
                f"{[t.home_id for t in forgotten]} from its config file instead of "
                f"{[t.connection_id for t in forgotten]}; the soak re-sent the list over the LAN "
                "(see the injection log)."
            )
            self.note(f"restart forgot {len(forgotten)} LAN-made device move(s); re-sent")

    # -- verdicts ----------------------------------------------------------------------

    def _final_checks(self) -> None:
        r = self.result
        o = self.o
        channels = sum(len(rx.channels) for rx in self.rig.receivers)
        r.parameters = {
            "seed": str(o.seed),
            "duration": f"{o.duration:.0f} s (soak clock; start-up and shutdown not counted)",
            "rig": f"large_rig({o.receivers}): {len(self.rig.receivers)} receivers, "
                   f"{channels} channels, meters every {o.meter_rate_ms} ms",
            "connections": str(len(self.chaos.targets) if self.chaos else 0),
            "faults": f"{o.fault_seconds[0]}-{o.fault_seconds[1]} s each, up to "
                      f"{o.max_concurrent_faults} at once, gaps {o.gap_seconds[0]}-"
                      f"{o.gap_seconds[1]} s",
            "recovery bound": f"{self.bound:.0f} s = backoff cap 30 s + 4 x timeout 2.5 s + "
                              f"5 s observation lag",
            "machine": f"{os.cpu_count()} cores",
        }
        if self.samples:
            span = self.samples[-1][0] - self.samples[0][0]
            cpu = self.samples[-1][1].cpu_seconds
            r.parameters["app CPU (last incarnation)"] = (
                f"{100 * cpu / max(1.0, span):.0f} % of one core on average"
            )
        series: list[str] = []
        last = -1e9
        for at, sample in self.samples:
            if at - last >= 30.0:
                series.append(f"{at:.0f}s {sample.rss_kb / 1024:.1f}")
                last = at
        r.notes.append("app VmRSS (MiB) every ~30 s (kill -9 at "
                       f"{self.o.kill_at:.0f} s): " + ", ".join(series))
        usage = os.times()
        r.parameters["soak driver CPU (simulators + clients)"] = (
            f"{100 * (usage.user + usage.system) / max(1.0, self.elapsed()):.0f} % of one core"
        )
        if self.crashed is not None:
            r.check("no crash", False, self.crashed)
        elif self.app is not None:
            r.check("no crash", True, f"app alive throughout ({self.app.incarnation} incarnations, "
                                      "one deliberate kill -9)")
        if self.app is not None:
            count, heads = self.app.stderr_problems()
            r.check("no Traceback in stderr", count == 0,
                    f"{count} traceback(s) " + " || ".join(heads))
        if self.chaos is not None:
            r.findings += self.chaos.findings
            injections = self.chaos.log
            r.injections = injections
            r.coverage = self.chaos.coverage()
            missing = [name for name, n in r.coverage.items() if n == 0]
            r.check("every fault type injected", not missing,
                    f"missing: {missing}" if missing else f"{len(injections)} injections")
            failed = [i for i in injections if i.ok is False]
            unresolved = [i for i in injections if i.ok is None and i.end is not None]
            worst = max((i.recovered_after or 0.0 for i in injections), default=0.0)
            r.check(
                "every connection recovers within its backoff bound",
                not failed and not unresolved,
                f"{len(injections) - len(failed) - len(unresolved)} recovered, worst "
                f"{worst:.1f} s (bound {self.bound:.0f} s); failed "
                f"{[f'#{i.number} {i.fault}' for i in failed]}; unresolved "
                f"{[f'#{i.number}' for i in unresolved]}",
            )
            if self.chaos.refused_while_blocked:
                r.findings.append(
                    f"While a connection was blocked after 'authentication failed', the "
                    f"manufacturer's inventory poll still sent the rejected credentials "
                    f"{self.chaos.refused_while_blocked} time(s) (once per poll interval, "
                    f"indefinitely): only the real-time connection stops retrying."
                )
            hammer = [i for i in injections if i.hammered]
            auth = [i for i in injections if i.fault == "reject_credentials"]
            blocked = [i for i in auth if i.note.startswith("auth-blocked")]
            r.check(
                "no hammering after an authentication failure", not hammer and bool(blocked),
                f"{len(auth)} credential rejections, {len(blocked)} seen by the app as "
                f"'authentication failed'; retried while blocked: "
                f"{[f'#{i.number}' for i in hammer]}; {self.chaos.refused_while_blocked} "
                f"request(s) still refused with 401 while blocked (inventory poll, at most one "
                f"per poll interval allowed); recovery needs a user action (here a LAN config "
                f"change restarting the manufacturer)",
            )
        if self.lan is not None:
            for name, stats in (("poll /api/data/", self.lan.poll),
                                ("stream /api/events/", self.lan.stream)):
                r.check(
                    f"LAN client {name} served", stats.ok > 0 and not stats.unexpected_failures,
                    f"{stats.ok} ok, {stats.expected_failures} failures while the app was down, "
                    f"unexpected: {stats.unexpected_failures[:5]}; max latency "
                    f"{stats.max_latency_s:.2f} s; stream connects {stats.connects}, "
                    f"events {stats.events_by_name}",
                )
        self._database_checks()

    def _database_checks(self) -> None:
        r = self.result
        integrity = self.db.query("PRAGMA integrity_check")
        text = "; ".join(str(row[0]) for row in integrity) or "no answer"
        r.check("database passes PRAGMA integrity_check", text == "ok", text)
        final = {row[0]: tuple(row[1:]) for row in self.db.query(
            "SELECT id, ts, kind, severity, message, connection_id FROM events")}
        self.ledger.absorb(final, "end")
        r.check(
            "no committed event lost (whole run)", not self.ledger.lost,
            f"{len(self.ledger.seen)} events seen at checkpoints and at the kill; "
            f"lost or changed: {self.ledger.lost[:5]}",
        )


def _t(moment: float | None, since: float) -> str:
    return "never" if moment is None else f"{moment - since:.1f} s"

