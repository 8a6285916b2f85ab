"""Settings say what really happened (issue #23, 10 and 13).

The LAN server's real state comes back from Apply (it used to be "on" while the server had
refused to start), a connection test names what it found or why it failed, and a code no
plugin serves is refused at save.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import pytest

from micboard_desktop.app import lan_runtime
from micboard_desktop.app.lan_runtime import LanRuntime, reachable_urls
from micboard_desktop.core.clock import SystemClock
from micboard_desktop.core.config import AppConfig, LanSettings, ManufacturerConfig
from micboard_desktop.core.errors import ConfigError
from micboard_desktop.engine import settings as settings_ops
from micboard_desktop.engine.engine import Engine
from micboard_desktop.simulator.rig import Rig, SimChannel, SimReceiver, SimTransmitter
from micboard_desktop.simulator.runner import SimulatorHub
from tests.fakes.database import temporary_repository


async def probe(entry: ManufacturerConfig, secret: str | None) -> str:
    """Run a connection test with a typed secret (or none) and no stored one."""
    clock = SystemClock()
    return await settings_ops.test_connection(entry, secret, clock=clock, secret_lookup=None,
                                              instance_id=None)


@pytest.fixture
async def engine() -> AsyncIterator[Engine]:
    running = Engine(AppConfig(), temporary_repository())
    await running.start()
    yield running
    await running.stop()


@pytest.fixture
def busy_port() -> Iterator[int]:
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    yield holder.getsockname()[1]
    holder.close()


async def test_apply_reports_a_refused_lan_server_in_words(engine: Engine) -> None:
    runtime = LanRuntime(engine)
    try:
        state = await engine.set_lan(LanSettings(enabled=True, host="0.0.0.0", port=0))
        assert state.enabled
        assert not state.running  # it used to say "LAN endpoint on"
        assert state.problem is not None
        assert "needs a LAN token" in state.problem
        assert runtime.server is None
        assert engine.lan_state() == state
    finally:
        await runtime.stop()


async def test_apply_reports_a_busy_port(engine: Engine, busy_port: int) -> None:
    runtime = LanRuntime(engine)
    try:
        state = await engine.set_lan(LanSettings(enabled=True, port=busy_port))
        assert not state.running
        assert state.problem == f"lan.port: 127.0.0.1:{busy_port} is already in use"
    finally:
        await runtime.stop()


async def test_apply_gives_the_urls_to_open_once_the_server_listens(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lan_runtime, "lan_addresses", lambda: ["192.168.1.20", "10.0.0.4"])
    runtime = LanRuntime(engine)
    try:
        local = await engine.set_lan(LanSettings(enabled=True, host="127.0.0.1", port=0))
        assert local.running
        assert local.loopback_only
        assert runtime.server is not None
        assert local.urls == (runtime.server.url,)  # the port really bound, not 0
        await engine.generate_lan_token()  # a LAN bind needs one
        wide = await engine.set_lan(LanSettings(enabled=True, host="0.0.0.0", port=0))
        assert wide.running
        assert not wide.loopback_only
        assert wide.problem is None
        port = runtime.server.url.rsplit(":", 1)[1]
        assert wide.urls == (f"http://192.168.1.20:{port}", f"http://10.0.0.4:{port}")
        off = await engine.set_lan(LanSettings(enabled=False))
        assert not off.running
        assert off.problem is None
        assert off.urls == ()
    finally:
        await runtime.stop()


def test_a_named_host_is_reached_at_itself() -> None:
    assert reachable_urls("192.168.5.5", 8058) == ("http://192.168.5.5:8058",)
    assert reachable_urls("fe80::1", 8058) == ("http://[fe80::1]:8058",)


async def test_an_unknown_plugin_code_is_refused_at_save(engine: Engine) -> None:
    with pytest.raises(ConfigError, match="no plugin for manufacturer 'shrue'") as refused:
        await engine.save_manufacturer(ManufacturerConfig("shrue", "Shure"), "key")
    assert refused.value.key == "code"
    assert engine.config().manufacturers == ()
    assert engine.plugin_codes() == ["micboard", "sennheiser", "shure"]
    settings_ops.check_plugin("shure", engine.plugin_codes())  # a known code passes


def _rig() -> Rig:
    return Rig(receivers=[
        SimReceiver(protocol="sennheiser_ssc2", family="ewdx", model="EW-DX EM 2",
                    name="EM Stage", channels=[
                        SimChannel(1, "Gtr", 550000, SimTransmitter("EW-DX SK"), quality=90),
                        SimChannel(2, "Bass", 551000, SimTransmitter("EW-DX SK"), quality=90),
                    ]),
    ])


async def test_a_connection_test_names_model_and_channels_or_the_failure() -> None:
    hub = SimulatorHub(_rig(), seed=1, scenario_period=None)
    await hub.start()
    try:
        ssc = hub.endpoints()["sennheiser_ssc2"][0]
        entry = ManufacturerConfig("sennheiser", "Sennheiser", devices=(str(ssc["url"]),),
                                   tls="insecure", timeout=2.0)
        password = str(ssc["password"])
        found = await probe(entry, password)
        assert found.startswith("Sennheiser: 1 device(s) answered.")
        assert "EWDX2CHDS" in found  # the product the device reports
        assert "\u201cEM Stage\u201d" in found
        assert "2 channels" in found
        refused = await probe(entry, "wrong")
        assert "no device answered" in refused
        assert "Password refused" in refused
        # Nothing typed: the stored password, approved for this address when it was saved.
        engine = Engine(AppConfig(), temporary_repository())
        await engine.start()
        try:
            await engine.save_manufacturer(entry, password)
            assert "2 channels" in await engine.test_connection(entry, None)
        finally:
            await engine.stop()
    finally:
        await hub.stop()
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    closed = ManufacturerConfig("shure", "Shure", devices=(f"127.0.0.1:{port}",), timeout=2.0)
    answer = await probe(closed, None)
    assert f"127.0.0.1:{port} refused the connection" in answer
    nothing = replace(closed, devices=())
    empty = await probe(nothing, None)
    assert "nothing to test" in empty
