"""Notifications against a real aiohttp receiver on loopback, through the real engine.

Real timings are 1 s doubling to 60 s between retries and an hour before a message is given
up; these tests shorten the backoff (``Timing``) so a receiver that is down for a while is
down for about two seconds here, with the same code path.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from pathlib import Path

import pytest

from micboard_desktop.core.integrations import NotificationTarget, notify_env
from micboard_desktop.core.model import HealthStatus
from micboard_desktop.core.records import Severity
from micboard_desktop.integrations.notify import Notifier, Timing, backoff
from micboard_desktop.integrations.payloads import body_for
from micboard_desktop.integrations.runtime import IntegrationsRuntime
from tests.integrations.helpers import (
    CHANNEL,
    LagMeter,
    Receiver,
    config_with,
    new_engine,
    set_bars,
)

FAST = Timing(first_retry=0.05, max_retry=0.4, max_age=120.0)
ALERT_KEYS = {"id", "kind", "severity", "channel_id", "channel_name", "receiver_name",
              "message", "raised_at", "cleared_at", "acknowledged"}


def hook(url: str | None, **changes: object) -> NotificationTarget:
    values: dict[str, object] = {"name": "venue", "kind": "webhook", "url": url,
                                 "rate_per_minute": 600}
    values.update(changes)
    return NotificationTarget(**values)  # type: ignore[arg-type]


async def test_each_raised_and_cleared_alert_arrives_once(tmp_path: Path):
    receiver = Receiver()
    await receiver.start()
    engine = new_engine(config_with((hook(receiver.url),)), tmp_path)
    await engine.start()
    runtime = IntegrationsRuntime(engine, timing=FAST)
    await runtime.start()
    try:
        set_bars(engine, 1)  # critical battery: raised
        await receiver.wait_for(1)
        set_bars(engine, 4)  # back to full: cleared (battery_clear hold is 0 here)
        await receiver.wait_for(2)
        await asyncio.sleep(0.3)  # a duplicate would arrive now
    finally:
        await runtime.stop()
        await engine.stop()
        await receiver.stop()
    events = [(b["event"], b["alert"]["id"]) for b in receiver.bodies]
    assert events == [
        ("alert.raised", f"battery:{CHANNEL}"),
        ("alert.cleared", f"battery:{CHANNEL}"),
    ]
    raised, cleared = (b["alert"] for b in receiver.bodies)
    assert set(raised) == ALERT_KEYS
    assert set(cleared) == ALERT_KEYS
    assert raised["severity"] == "critical"
    assert raised["channel_id"] == CHANNEL
    assert raised["channel_name"] == "Vox"
    assert raised["cleared_at"] is None
    assert cleared["cleared_at"] is not None


async def test_a_receiver_down_for_a_while_gets_everything_later_and_the_loop_runs_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    receiver = Receiver()  # not listening yet: every attempt is refused
    engine = new_engine(config_with((hook(receiver.url),)), tmp_path)
    await engine.start()
    runtime = IntegrationsRuntime(engine, timing=FAST)
    await runtime.start()
    caplog.set_level(logging.WARNING)
    try:
        with LagMeter() as lag:
            for _ in range(6):  # six raise/clear pairs while the receiver is down
                set_bars(engine, 1)
                await asyncio.sleep(0.05)
                set_bars(engine, 4)
                await asyncio.sleep(0.05)
            await asyncio.sleep(1.5)
            health = engine.health()
            states = runtime.target_states()
            await receiver.start()
            await asyncio.wait_for(runtime.notifier.drained(), 20)
        after = engine.health()
    finally:
        await runtime.stop()
        await engine.stop()
        await receiver.stop()
    events = [b["event"] for b in receiver.bodies]
    assert events == ["alert.raised", "alert.cleared"] * 6  # all of them, once, in order
    assert states[0].failed_attempts >= 3
    assert states[0].last_error is not None
    assert states[0].dropped == 0
    # Failures are visible in the health view while they last, and gone afterwards.
    assert health.integrations is not None
    assert health.integrations.status is HealthStatus.DEGRADED
    assert "venue" in (health.integrations.message or "")
    assert health.status is HealthStatus.DEGRADED
    assert after.integrations is not None
    assert after.integrations.status is HealthStatus.OK
    # The loop never stalled while deliveries failed (10 ms ticker; figures in the report).
    assert lag.ticks > 100
    assert lag.worst < 0.25, f"the loop stalled for {lag.worst * 1000:.0f} ms"
    # The URL's secret path never reached a log line.
    assert not [r for r in caplog.records if "secret-path-4711" in r.getMessage()]
    assert any("retrying" in r.getMessage() for r in caplog.records)


async def test_a_full_queue_drops_the_oldest_and_counts_it(caplog: pytest.LogCaptureFixture):
    receiver = Receiver()  # down: nothing leaves the queue
    target = hook(receiver.url, max_queue=10)
    notifier = Notifier([target], {"venue": receiver.url}, timing=FAST)
    notifier.start()
    try:
        for n in range(15):
            notifier.submit("raised", Severity.CRITICAL, {"id": f"a{n}"})
        await asyncio.sleep(0.1)
        dropped = notifier.states()[0].dropped
        await receiver.start()
        await asyncio.wait_for(notifier.drained(), 10)
    finally:
        await notifier.stop()
        await receiver.stop()
    ids = [b["alert"]["id"] for b in receiver.bodies]
    # Fifteen arrived at once for ten places: the oldest five were dropped, the newest kept.
    assert dropped == 5
    assert ids == [f"a{n}" for n in range(5, 15)]
    assert any("oldest message was dropped" in r.getMessage() for r in caplog.records)


async def test_thresholds_and_events_choose_what_a_target_gets():
    receiver = Receiver()
    await receiver.start()
    critical_only = hook(receiver.url, name="crit", min_severity=Severity.CRITICAL,
                         events=("raised",))
    everything = hook(receiver.url, name="all", min_severity=Severity.INFO)
    notifier = Notifier([critical_only, everything],
                        {"crit": receiver.url, "all": receiver.url}, timing=FAST)
    notifier.start()
    try:
        notifier.submit("raised", Severity.WARNING, {"id": "w"})
        notifier.submit("raised", Severity.CRITICAL, {"id": "c"})
        notifier.submit("cleared", Severity.CRITICAL, {"id": "c"})
        await asyncio.wait_for(notifier.drained(), 10)
    finally:
        await notifier.stop()
        await receiver.stop()
    got = Counter((b["event"], b["alert"]["id"]) for b in receiver.bodies)
    assert got == Counter({("alert.raised", "w"): 1, ("alert.raised", "c"): 2,
                           ("alert.cleared", "c"): 1})


async def test_a_refusing_target_is_not_retried_for_ever():
    receiver = Receiver(status=404)  # a wrong URL: retrying cannot help
    await receiver.start()
    notifier = Notifier([hook(receiver.url)], {"venue": receiver.url}, timing=FAST)
    notifier.start()
    try:
        notifier.submit("raised", Severity.CRITICAL, {"id": "x"})
        await asyncio.wait_for(notifier.drained(), 5)
    finally:
        await notifier.stop()
        await receiver.stop()
    state = notifier.states()[0]
    assert state.failed_attempts == 1
    assert state.dropped == 1
    assert state.last_error == "HTTP 404"


async def test_the_rate_limit_spaces_messages_out():
    receiver = Receiver()
    await receiver.start()
    notifier = Notifier([hook(receiver.url, rate_per_minute=120)], {"venue": receiver.url})
    notifier.start()
    loop = asyncio.get_running_loop()
    try:
        start = loop.time()
        for n in range(7):  # 5 pass at once (the burst), then one every 0.5 s
            notifier.submit("raised", Severity.CRITICAL, {"id": n})
        await receiver.wait_for(5, 2)
        burst = loop.time() - start
        await asyncio.wait_for(notifier.drained(), 5)
        total = loop.time() - start
    finally:
        await notifier.stop()
        await receiver.stop()
    assert burst < 0.5
    assert total >= 0.9  # two more tokens at 2 per second


async def test_a_url_from_the_environment_and_the_keyring(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    receiver = Receiver()
    await receiver.start()
    monkeypatch.setenv(notify_env("from-env"), receiver.url)
    targets = (hook(None, name="from-env"), hook(None, name="from-ring"), hook(None, name="none"))
    engine = new_engine(config_with(targets), tmp_path)
    await engine.start()
    runtime = IntegrationsRuntime(engine, timing=FAST)
    await runtime.start()
    try:
        await runtime.save_target(hook(None, name="from-ring"), receiver.url)
        assert all(t.url is None for t in engine.config().notifications)  # never in the file
        set_bars(engine, 1)
        await receiver.wait_for(2)
        answer = await runtime.send_test(hook(None, name="from-ring"), None)
        health = engine.health()
    finally:
        await runtime.stop()
        await engine.stop()
        await receiver.stop()
    assert answer.startswith("\u2714")
    assert len(receiver.bodies) == 3  # two targets with a URL, plus the test message
    assert {s.name: s.has_url for s in runtime.target_states()} == {
        "from-env": True, "from-ring": True, "none": False}
    assert health.integrations is not None
    assert "none: no URL" in (health.integrations.message or "")
    assert notify_env("from-env") == "MICBOARD_NOTIFY_FROM_ENV"


def test_slack_and_teams_bodies():
    alert = {"id": "k", "kind": "rf_loss", "severity": "critical", "channel_id": "c",
             "channel_name": "Lead <Vox>", "receiver_name": "ULXD4", "message": "RF loss",
             "raised_at": "2026-12-07T20:00:00.000Z", "cleared_at": None, "acknowledged": False}
    slack = body_for("slack", "raised", alert)
    assert "RF loss" in slack["text"]
    assert "CRITICAL" in slack["text"]
    assert slack["blocks"][0]["type"] == "section"
    assert "&lt;Vox&gt;" in slack["blocks"][0]["text"]["text"]  # mrkdwn escaped
    teams = body_for("teams", "cleared", alert)
    card = teams["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["content"]["type"] == "AdaptiveCard"
    assert card["content"]["body"][0]["text"].startswith("CLEARED")
    assert body_for("webhook", "cleared", alert) == {"event": "alert.cleared", "alert": alert}


def test_backoff_doubles_with_jitter_and_stops_at_the_cap():
    rng = random.Random(7)
    timing = Timing()
    waits = [backoff(n, timing, rng) for n in range(1, 12)]
    for n, wait in enumerate(waits, start=1):
        ceiling = min(60.0, 2.0 ** (n - 1))
        assert ceiling / 2 <= wait <= ceiling
    assert max(waits) <= 60.0
    assert waits[-1] >= 30.0
