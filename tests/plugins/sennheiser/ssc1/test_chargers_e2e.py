"""Chargers end to end: simulators -> engine (Sennheiser plugin) -> store, and removal."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from micboard_desktop.app.demo import demo_config
from micboard_desktop.core.model import Charger
from micboard_desktop.engine.engine import Engine
from micboard_desktop.engine.secrets import SecretResolver
from micboard_desktop.simulator.runner import SimulatorHub
from tests.engine.e2e_helpers import eventually
from tests.fakes.database import temporary_repository
from tests.plugins.sennheiser.ssc1.helpers import chg70n_charger, l6000_charger, rig

Live = tuple[SimulatorHub, Engine]


@pytest.fixture
async def live() -> AsyncIterator[Live]:
    hub = SimulatorHub(rig(chg70n_charger(), l6000_charger()), seed=1, scenario_period=None)
    await hub.start()
    config, secrets = demo_config(hub.endpoints(), timeout=2.0)
    engine = Engine(config, temporary_repository(), secrets=SecretResolver(fixed=secrets))
    await engine.start()
    try:
        yield hub, engine
    finally:
        await engine.stop()
        await hub.stop()


def by_model(engine: Engine) -> dict[str | None, Charger]:
    return {c.model: c for c in engine.store.snapshot().chargers.values()}


def ready(engine: Engine) -> bool:
    chargers = by_model(engine)
    chg, l6 = chargers.get("CHG 70N"), chargers.get("L6000")
    return (
        chg is not None
        and l6 is not None
        and chg.online
        and l6.online
        and len(chg.bays) == 2
        and len(l6.bays) == 8
        and l6.bays[0].battery.percent is not None
    )


async def test_both_chargers_reach_the_store_with_every_bay_and_leave_when_removed(
    live: Live,
) -> None:
    hub, engine = live
    await eventually(lambda: ready(engine), 20)
    chargers = by_model(engine)
    chg, l6 = chargers["CHG 70N"], chargers["L6000"]
    assert not engine.store.snapshot().receivers  # chargers are never receivers
    ports = {s.receiver.model: s.port for s in hub.sennheiser_ssc1}
    assert chg.id == f"sennheiser:ssc1:127.0.0.1:{ports['CHG 70N']}"
    assert chg.name == "CHG SIDE"
    assert chg.bays[0].battery.percent == 55
    assert chg.bays[0].battery.health_percent == 93
    assert not chg.bays[1].occupied
    assert [b.number for b in l6.bays] == list(range(1, 9))
    assert l6.bays[0].battery.minutes_to_full == 90
    assert l6.bays[3].occupied
    assert l6.bays[3].battery.percent is None  # 65280: n/a

    keep = f"ssc1://127.0.0.1:{ports['L6000']}"
    await engine.set_config("sennheiser", "devices", [keep])
    await eventually(lambda: set(by_model(engine)) == {"L6000"}, 10)
    assert by_model(engine)["L6000"].online
