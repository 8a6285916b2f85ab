"""Issue #19 item 4 end to end: a burst in the simulator is one interference alert.

The project's Shure simulators on loopback, the real engine: the scenario plays an
interference burst over three of four carriers; the engine raises one ``rf_interference``
alert naming the span and the three channels, and none of their RF-loss alerts.
"""

from __future__ import annotations

import asyncio

from micboard_desktop.app.demo import demo_config
from micboard_desktop.core.model import ConnectionStatus
from micboard_desktop.engine.alerts import AlertEvent
from micboard_desktop.engine.engine import Engine
from micboard_desktop.engine.secrets import SecretResolver
from micboard_desktop.simulator.rig import Rig, SimTransmitter
from micboard_desktop.simulator.rigs import make_channel, make_receiver
from micboard_desktop.simulator.runner import SimulatorHub
from tests.engine.e2e_helpers import eventually
from tests.fakes.database import temporary_repository


def band_rig() -> Rig:
    """One ULXD4Q: three carriers within 3 MHz, one 30 MHz away."""
    freqs = (570_000, 571_400, 572_900, 602_000)
    return Rig(receivers=[make_receiver("ulxd", "ULXD4Q", "Band", [
        make_channel(n, f"Band {n}", f, SimTransmitter("ULXD2", battery_percent=95))
        for n, f in enumerate(freqs, 1)
    ], key="rf")])


async def test_a_simulated_burst_is_one_alert_and_no_rf_loss_alerts():
    hub = SimulatorHub(band_rig(), seed=3, scenario_period=None, activity_period=0.5)
    hub.scenario.shadow_every = hub.scenario.interference_every = 1e12  # no lone dips
    await hub.start()
    config, secrets = demo_config(hub.endpoints(), timeout=2.0)
    engine = Engine(config, temporary_repository(), secrets=SecretResolver(fixed=secrets))
    events: list[AlertEvent] = []
    engine.alert_engine.subscribe(events.append)
    await engine.start()
    try:
        def linked() -> bool:
            receivers = engine.store.snapshot().receivers.values()
            return any(
                r.connection.status is ConnectionStatus.CONNECTED
                and sum(ch.transmitter is not None for ch in r.channels) == 4
                for r in receivers
            )

        await eventually(linked)
        await asyncio.sleep(1.5)
        played = hub.scenario.burst(569_000, 574_000, 4.0)
        assert len(played.channels) == 3
        for _ in range(60):  # 6 s of show time, in step with the wall clock
            hub.scenario.tick(0.1)
            await asyncio.sleep(0.1)

        raised = [e.alert for e in events if e.kind.value == "raised"]
        bursts = [a for a in raised if a.rule == "rf_interference"]
        assert len(bursts) == 1, [a.message for a in raised]
        # Channels whose RF level arrives a second later join the open event (escalated).
        message = [e.alert.message for e in events if e.alert.key == bursts[0].key][-1]
        assert "570.000" in message
        assert "572.900" in message
        assert all(f"Band {n}" in message for n in (1, 2, 3))
        assert "Band 4" not in message
        assert [a.key for a in raised if a.rule in ("rf_loss", "interference")] == []
        picture = engine.rf_picture()
        assert len(picture.active) + len(picture.ended) == 1
    finally:
        await engine.stop()
        await hub.stop()
