"""MQTT against a real Mosquitto on loopback: retained states, alerts, TLS, the last will."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiomqtt

from micboard_desktop.core.integrations import MQTT_PASSWORD_ENV, MqttSettings
from micboard_desktop.integrations.mqtt import topic_segment
from micboard_desktop.integrations.notify import Timing
from micboard_desktop.integrations.runtime import IntegrationsRuntime
from micboard_desktop.lan.serialize import data_json
from tests.integrations.conftest import PASSWORD, USER, Broker
from tests.integrations.helpers import CHANNEL, config_with, new_engine, set_bars

ROOT = Path(__file__).resolve().parents[2]
FAST = Timing(first_retry=0.05, max_retry=0.5)


@dataclass
class Seen:
    """Messages one subscriber got, by topic, with their retain flags."""

    messages: list[tuple[str, bytes, bool]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def payloads(self, topic: str) -> list[bytes]:
        return [p for t, p, _ in self.messages if t == topic]

    async def wait(self, predicate: Any, seconds: float = 10.0) -> None:
        async with asyncio.timeout(seconds):
            while not predicate():
                self.arrived.clear()
                await self.arrived.wait()


@contextlib.asynccontextmanager
async def subscriber(broker: Broker, topic: str) -> AsyncIterator[Seen]:
    """Subscribe to ``topic`` with a fresh session and collect what arrives."""
    seen = Seen()
    async with aiomqtt.Client("127.0.0.1", broker.port, username=USER, password=PASSWORD) as c:
        await c.subscribe(topic, qos=1)

        async def collect() -> None:
            async for message in c.messages:
                payload = message.payload if isinstance(message.payload, bytes) else b""
                seen.messages.append((str(message.topic), payload, bool(message.retain)))
                seen.arrived.set()

        task = asyncio.create_task(collect())
        try:
            yield seen
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def settings_for(broker: Broker, *, tls: bool = False) -> MqttSettings:
    if tls:
        return MqttSettings(url=f"mqtts://localhost:{broker.tls_port}", topic_prefix="mb",
                            username=USER, ca_file=str(broker.ca_file))
    return MqttSettings(url=f"mqtt://127.0.0.1:{broker.port}", topic_prefix="mb", username=USER)


def channel_document(engine_store: Any, channel: str) -> dict[str, Any]:
    document = data_json(engine_store.snapshot())
    for receiver in document["receivers"]:
        for item in receiver["channels"]:
            if item["id"] == channel:
                return dict(item)
    raise AssertionError(f"{channel} not in /api/data/")


async def test_retained_states_alerts_and_status_over_tls_with_a_password(
    broker: Broker, tmp_path: Path, monkeypatch: Any
):
    monkeypatch.setenv(MQTT_PASSWORD_ENV, PASSWORD)
    engine = new_engine(config_with(mqtt=settings_for(broker, tls=True)), tmp_path)
    await engine.start()
    runtime = IntegrationsRuntime(engine, timing=FAST, mqtt_period=0.1)
    await runtime.start()
    topic = f"mb/channels/{topic_segment(CHANNEL)}"
    try:
        assert runtime.mqtt is not None
        await asyncio.wait_for(runtime.mqtt.connected.wait(), 10)
        async with subscriber(broker, "mb/#") as live:
            await live.wait(lambda: live.payloads(topic) and live.payloads("mb/status"))
            set_bars(engine, 1)  # critical battery: an alert, and a new channel state
            await live.wait(lambda: live.payloads("mb/alerts"))
            await live.wait(lambda: json.loads(live.payloads(topic)[-1])["status"]
                            == "critical_battery")
            states_before = len(live.payloads(topic))
            for bars in (2, 3, 2, 3, 2, 3, 2, 3):  # a burst of changes within one period
                set_bars(engine, bars)
            await asyncio.sleep(0.5)
            burst_publications = len(live.payloads(topic)) - states_before
            expected = channel_document(engine.store, CHANNEL)
        # A subscriber that comes later gets the retained state and status, and no alert.
        async with subscriber(broker, "mb/#") as late:
            await late.wait(lambda: late.payloads(topic) and late.payloads("mb/status"))
            await asyncio.sleep(0.2)
    finally:
        await runtime.stop()
        await engine.stop()
    alert = json.loads(live.payloads("mb/alerts")[0])
    assert alert["event"] == "alert.raised"
    assert alert["alert"]["id"] == f"battery:{CHANNEL}"
    assert alert["alert"]["severity"] == "critical"
    assert json.loads(late.payloads(topic)[-1]) == expected  # the /api/data/ channel JSON
    assert all(retained for t, _, retained in late.messages if t in (topic, "mb/status"))
    assert late.payloads("mb/status") == [b"online"]
    assert not late.payloads("mb/alerts")  # alerts are events, never retained
    # Coalesced: eight changes in a burst, at most a few publications (one per period).
    assert 1 <= burst_publications <= 3, burst_publications


async def test_a_clean_stop_says_offline_and_a_restart_online(broker: Broker, tmp_path: Path,
                                                             monkeypatch: Any):
    monkeypatch.setenv(MQTT_PASSWORD_ENV, PASSWORD)
    engine = new_engine(config_with(mqtt=settings_for(broker)), tmp_path)
    await engine.start()
    runtime = IntegrationsRuntime(engine, timing=FAST, mqtt_period=0.1)
    await runtime.start()
    try:
        assert runtime.mqtt is not None
        await asyncio.wait_for(runtime.mqtt.connected.wait(), 10)
        health = engine.health()
    finally:
        await runtime.stop()
        await engine.stop()
    async with subscriber(broker, "mb/status") as seen:
        await seen.wait(lambda: seen.payloads("mb/status"))
    assert seen.payloads("mb/status") == [b"offline"]
    assert health.integrations is not None
    assert health.integrations.status.value == "ok"


async def test_a_wrong_password_is_retried_and_shown_in_health(broker: Broker, tmp_path: Path,
                                                              monkeypatch: Any):
    monkeypatch.setenv(MQTT_PASSWORD_ENV, "wrong")
    engine = new_engine(config_with(mqtt=settings_for(broker)), tmp_path)
    await engine.start()
    runtime = IntegrationsRuntime(engine, timing=FAST, mqtt_period=0.1)
    await runtime.start()
    try:
        await asyncio.sleep(1.0)
        health = engine.health()
        assert runtime.mqtt is not None
        connected = runtime.mqtt.connected.is_set()
    finally:
        await runtime.stop()
        await engine.stop()
    assert not connected
    assert health.integrations is not None
    assert health.integrations.status.value == "degraded"
    assert "MQTT" in (health.integrations.message or "")
    assert "wrong" not in (health.integrations.message or "")


async def test_the_last_will_says_offline_when_the_publisher_is_killed(broker: Broker):
    env = {**os.environ, MQTT_PASSWORD_ENV: PASSWORD}
    url = f"mqtt://127.0.0.1:{broker.port}"
    async with subscriber(broker, "kill/#") as seen:
        child = subprocess.Popen(  # noqa: ASYNC220 - started once; the reads run in a thread
            [sys.executable, "-m", "tests.integrations.mqtt_child", url, "kill", USER],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        try:
            assert child.stdout is not None
            line = await asyncio.wait_for(asyncio.to_thread(child.stdout.readline), 30)
            assert line.strip() == b"connected", child.stderr.read() if child.stderr else b""
            await seen.wait(lambda: seen.payloads("kill/status") == [b"online"])
            os.kill(child.pid, signal.SIGKILL)
            child.wait(10)
            await seen.wait(lambda: seen.payloads("kill/status")[-1:] == [b"offline"])
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
    assert child.returncode == -signal.SIGKILL
    async with subscriber(broker, "kill/#") as late:  # retained: a newcomer reads both
        await late.wait(lambda: late.payloads("kill/status")
                        and len(late.payloads("kill/channels/shure:rx9:1")) == 1)
    assert late.payloads("kill/status") == [b"offline"]
    state = json.loads(late.payloads("kill/channels/shure:rx9:1")[0])
    assert state["id"] == "shure:rx9:1"
