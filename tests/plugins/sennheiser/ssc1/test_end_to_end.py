"""SSCv1 end to end: simulators -> engine (Sennheiser plugin) -> store -> ``/api/data/``.

The EW-DX is configured twice (``https://`` and ``ssc1://``) and must be ONE receiver whose
RF (dBm, antenna) comes over SSCv1; the EM 6000 speaks SSCv1 only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from micboard_desktop.app.demo import demo_config
from micboard_desktop.core.model import Receiver
from micboard_desktop.engine.engine import Engine
from micboard_desktop.engine.secrets import SecretResolver
from micboard_desktop.simulator.runner import SimulatorHub
from tests.engine.e2e_helpers import eventually
from tests.fakes.database import temporary_repository
from tests.fakes.engine import FakeEngine
from tests.lan.conftest import Start, start  # noqa: F401 - the fixture is used by name
from tests.lan.helpers import assert_valid, server_for
from tests.plugins.sennheiser.ssc1.helpers import d6000_receiver, ewdx_receiver, rig

Live = tuple[SimulatorHub, Engine]


def sennheiser(engine: Engine) -> list[Receiver]:
    return [r for r in engine.store.snapshot().receivers.values() if r.manufacturer == "sennheiser"]


def by_model(engine: Engine, model: str) -> Receiver | None:
    """Return the receiver of ``model`` (the EW-DX by its serial: SSCv2 names it EWDX4CHDS)."""
    if model == "EW-DX EM 4 DANTE":
        return next((r for r in sennheiser(engine) if r.serial == "1234567890"), None)
    return next((r for r in sennheiser(engine) if r.model == model), None)


@pytest.fixture
async def live() -> AsyncIterator[Live]:
    hub = SimulatorHub(rig(ewdx_receiver(), d6000_receiver()), seed=1, scenario_period=None)
    await hub.start()
    config, secrets = demo_config(hub.endpoints(), timeout=2.0)
    engine = Engine(config, temporary_repository(), secrets=SecretResolver(fixed=secrets))
    await engine.start()
    try:
        yield hub, engine
    finally:
        await engine.stop()
        await hub.stop()


def rf_ready(engine: Engine) -> bool:
    ew = by_model(engine, "EW-DX EM 4 DANTE")
    d6 = by_model(engine, "EM6000")
    return (
        ew is not None
        and d6 is not None
        and ew.online
        and d6.online
        and ew.channels[0].rf.antenna is not None
        and bool(ew.channels[0].rf.rssi_dbm)
        and bool(d6.channels[0].rf.rssi_dbm)
        and d6.channels[0].rf.quality is not None
    )


async def test_one_ewdx_with_rf_over_sscv1_and_a_d6000_reach_the_lan_api(
    live: Live,
    start: Start,  # noqa: F811 - pytest fixture
) -> None:
    hub, engine = live
    await eventually(lambda: rf_ready(engine), 20)
    ewdx = [r for r in sennheiser(engine) if r.serial == "1234567890"]
    assert len(ewdx) == 1  # configured over https:// and ssc1://, shown once
    assert not ewdx[0].id.startswith("sennheiser:ssc1:")  # the SSCv2 receiver is the one
    server = await start(server_for(engine.store, FakeEngine(app_config=engine.config())))
    async with httpx.AsyncClient(base_url=server.url) as client:
        doc = (await client.get("/api/data/")).json()
    assert_valid(doc)
    receivers = {r["serial"]: r for r in doc["receivers"] if r["manufacturer"] == "sennheiser"}
    vox = receivers["1234567890"]["channels"][0]
    assert vox["rf"]["rssi_dbm"] == [-60.0]  # /m/rx1/rssi over SSCv1, dBm
    assert vox["rf"]["antenna"] == "A"  # /m/rx1/divi 1
    assert vox["rf"]["quality_percent"] == 87.0  # SQI (SSCv2) or rsqi (SSCv1), percent
    assert 0 <= vox["rf"]["quality"] <= 5
    d6 = receivers["6000123"]
    assert d6["connection"]["transport"] == "udp"
    lead, guest = d6["channels"]
    assert lead["frequency_khz"] == 606_500
    assert lead["rf"]["rssi_dbm"] == [-86.0, -101.0]  # (v - 255) / 2
    assert lead["rf"]["quality_percent"] == round(128 * 100 / 255, 1)  # LQI x 100 / 255
    assert lead["audio"]["peak_dbfs"] == -45.0
    assert lead["transmitter"]["battery"] == {
        "bars": None,
        "percent": 70,
        "minutes": 185,
        "type": None,
        "charging": None,
    }
    assert guest["transmitter"] is None
    assert guest["rf"].get("quality_percent") is None
    assert hub.sennheiser_ssc1  # both SSCv1 servers ran


async def test_the_ewdx_loses_its_rf_while_sscv1_is_silent_and_gets_it_back(live: Live) -> None:
    hub, engine = live
    await eventually(lambda: rf_ready(engine), 20)
    ew_server = next(s for s in hub.sennheiser_ssc1 if s.receiver.family == "ewdx")
    ew_server.faults.silent = True

    def rf_gone() -> bool:
        ew = by_model(engine, "EW-DX EM 4 DANTE")
        return ew is not None and ew.online and not ew.channels[0].rf.rssi_dbm

    await eventually(rf_gone, 10)
    ew_server.faults.silent = False
    await eventually(lambda: rf_ready(engine), 20)
