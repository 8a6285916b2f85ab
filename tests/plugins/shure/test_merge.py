"""One receiver per physical device: matching rule, field ownership, plugin loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micboard_desktop.core.config import ManufacturerConfig
from micboard_desktop.core.meters import MeterBus
from micboard_desktop.core.model import (
    Channel,
    ConnectionInfo,
    ConnectionStatus,
    HealthStatus,
    Receiver,
    Rf,
    Transport,
    channel_id,
    receiver_id,
)
from micboard_desktop.plugins.api import PluginContext
from micboard_desktop.plugins.shure.merge import (
    ApiView,
    CommandView,
    MatchResult,
    ambiguity_note,
    match_devices,
    match_report,
)
from micboard_desktop.plugins.shure.merger import ShureMerger
from micboard_desktop.plugins.shure.plugin import ShurePlugin
from micboard_desktop.plugins.shure.system_api.mapping import ApiChannel, ApiDevice, DeviceNode
from micboard_desktop.simulator.rig import Rig
from micboard_desktop.simulator.shure.command.server import ShureCommandServer
from micboard_desktop.simulator.shure.system_api.server import ShureSystemApiServer
from tests.plugins.shure.conftest import small_rig, wait_for
from tests.plugins.shure.system_api.test_coordinator import DictSink

KEY = "test-key-0123456789"

# -- matching rule --------------------------------------------------------------------


def test_ip_match_when_unique() -> None:
    # Issue #15: the address alone no longer pairs; it takes the address and the model.
    cmds = [
        CommandView("10.0.0.5:2202", "10.0.0.5"),
        CommandView("10.0.0.6:2202", "10.0.0.6", model="ULXD4D"),
    ]
    apis = [ApiView("a", "10.0.0.6", model="ULXD4D"), ApiView("b", "10.0.0.7")]
    assert match_devices(cmds, apis) == {"a": "10.0.0.6:2202"}
    bare = [CommandView("10.0.0.6:2202", "10.0.0.6")]
    assert match_devices(bare, [ApiView("a", "10.0.0.6", model="ULXD4D")]) == {}


def test_one_host_pairs_by_model_never_across_models() -> None:
    # Issue #15: an AD4D and a ULXD4Q behind one address (the System API reports its host).
    ad = CommandView("127.0.0.1:1", "127.0.0.1", model="AD4D-A", families=frozenset({"ad"}))
    ulx = CommandView(
        "127.0.0.1:2", "127.0.0.1", families=frozenset({"ulxd", "qlxd"}), channels=4
    )
    apis = [
        ApiView("ulx", "127.0.0.1", name="Band", model="ULXD4Q", channels=4),
        ApiView("ad", "127.0.0.1", name="Vocals", model="AD4D", channels=2),
    ]
    assert match_devices([ad, ulx], apis) == {"ad": "127.0.0.1:1", "ulx": "127.0.0.1:2"}
    # Before the AD reports its model, its SAMPLE layout already rules the ULXD4Q out.
    early_ad = CommandView("127.0.0.1:1", "127.0.0.1", families=frozenset({"ad"}), channels=2)
    assert match_devices([early_ad], apis[:1]) == {}
    assert match_devices([early_ad], apis) == {"ad": "127.0.0.1:1"}
    # Nothing known yet: nothing pairs, even though the address is the only one.
    assert match_devices([CommandView("127.0.0.1:1", "127.0.0.1")], apis[1:]) == {}
    # More channels than the device has: not that device.
    four = CommandView("127.0.0.1:3", "127.0.0.1", channels=4)
    assert match_devices([four], [ApiView("x", "127.0.0.1", model="AD4D", channels=2)]) == {}


def test_ambiguous_receiver_stays_apart_and_says_why() -> None:
    cmd = CommandView("127.0.0.1:2", "127.0.0.1", model="ULXD4Q", channels=4)
    apis = [
        ApiView("a", "127.0.0.1", name="RF 1-4", model="ULXD4Q", channels=4),
        ApiView("b", "127.0.0.1", name="RF 5-8", model="ULXD4Q", channels=4),
    ]
    result = match_report([cmd], apis)
    assert result.links == {}
    assert [v.key for v in result.ambiguous["127.0.0.1:2"]] == ["a", "b"]
    note = ambiguity_note(result.ambiguous["127.0.0.1:2"])
    assert "2 devices" in note
    assert "RF 1-4" in note
    # A name tells them apart.
    named = match_report([replace(cmd, name="rf 5-8")], apis)
    assert named.links == {"b": "127.0.0.1:2"}
    assert named.ambiguous == {}


def test_shared_ip_falls_back_to_device_id_name() -> None:
    cmds = [
        CommandView("127.0.0.1:1", "127.0.0.1", name="RF 1-4"),
        CommandView("127.0.0.1:2", "127.0.0.1", name="AD 9-12"),
    ]
    apis = [
        ApiView("a", "127.0.0.1", name="ad 9-12"),
        ApiView("b", "127.0.0.1", name="RF 1-4"),
        ApiView("c", "127.0.0.1", name="Other"),
    ]
    assert match_devices(cmds, apis) == {"a": "127.0.0.1:2", "b": "127.0.0.1:1"}


def test_name_match_needs_same_address_unless_host_is_a_dns_name() -> None:
    apis = [ApiView("a", "10.0.0.9", name="Stage")]
    assert match_devices([CommandView("10.0.0.5:2202", "10.0.0.5", name="Stage")], apis) == {}
    by_name = match_devices([CommandView("rx.local:2202", "rx.local", name="Stage")], apis)
    assert by_name == {"a": "rx.local:2202"}


def test_models_must_agree_and_serial_matches() -> None:
    cmds = [CommandView("10.0.0.5:2202", "10.0.0.5", model="ULXD4Q")]
    assert match_devices(cmds, [ApiView("a", "10.0.0.5", model="AD4Q")]) == {}
    cmds = [CommandView("h:2202", "h", serial="X1"), CommandView("g:2202", "g", serial="Y2")]
    apis = [ApiView("a", "10.0.0.1", serial="y2")]
    assert match_devices(cmds, apis) == {"a": "g:2202"}


def test_duplicate_names_do_not_match() -> None:
    cmds = [CommandView("h:1", "h", name="RX"), CommandView("h:2", "h", name="RX")]
    assert match_devices(cmds, [ApiView("a", None, name="RX")]) == {}


# -- merger: field ownership -----------------------------------------------------------


def cmd_receiver(name: str | None = "RX", online: bool = True) -> Receiver:
    rid = receiver_id("shure", "10.0.0.5:2202")
    return Receiver(
        id=rid,
        manufacturer="shure",
        api_device_id="10.0.0.5:2202",
        connection=ConnectionInfo(Transport.TCP, ConnectionStatus.CONNECTED),
        model="ULXD4D",
        name=name,
        ip="10.0.0.5",
        firmware="2.7.0",
        online=online,
        channels=(
            Channel(
                channel_id(rid, 1),
                1,
                name=None,
                frequency_khz=470_125,
                rf=Rf(rssi_dbm=(-60.0, -70.0), antenna="A"),
            ),
        ),
    )


def api_device(name: str | None = "Stage L", address: str = "10.0.0.5") -> ApiDevice:
    node = DeviceNode(
        "DD4C-01",
        model="ULXD4D",
        serial="4192630196",
        firmware="2.7.6.0",
        address=address,
        state="ONLINE",
        capabilities=("name", "audio-channels"),
    )
    channels = (ApiChannel("c1", 1, ("name",), "Lead"), ApiChannel("c2", 2, ("name",), "BV"))
    return ApiDevice(node, name, channels)


def test_merged_receiver_has_inventory_and_telemetry_once() -> None:
    sink = DictSink()
    merger = ShureMerger(sink)
    merger.add_command_address("10.0.0.5", 2202)
    merger.api_device(api_device())
    merger.command_receiver(cmd_receiver())
    (merged,) = sink.receivers.values()
    assert merged.id == "shure:10.0.0.5:2202"
    assert (merged.serial, merged.firmware, merged.name) == ("4192630196", "2.7.6.0", "Stage L")
    ch1, ch2 = merged.channels
    assert ch1.name == "Lead"
    assert ch1.frequency_khz == 470_125
    assert ch1.rf.rssi_dbm == (-60, -70)
    assert ch2.name == "BV"
    assert ch2.transmitter is None
    assert ch2.rf == Rf()
    assert merged.online
    assert merged.connection.transport is Transport.TCP
    # Neither side's update wipes the other's fields.
    merger.api_device(api_device(name=None))
    merger.command_receiver(replace(cmd_receiver(name=None), firmware=None))
    merged = sink.receivers[merged.id]
    assert merged.serial == "4192630196"
    assert merged.firmware == "2.7.6.0"
    first = merged.channel(1)
    assert first is not None
    assert first.frequency_khz == 470_125
    assert merger.receiver_id_for_api("dd4c-01") == merged.id
    assert merger.unmatched_api_devices() == []


def test_api_only_device_then_late_match_removes_the_duplicate() -> None:
    sink = DictSink()
    merger = ShureMerger(sink)
    merger.add_command_address("rx.local", 2202)  # a DNS name: IP matching cannot apply
    merger.api_device(api_device(name="RX"))
    standalone = sink.receivers[receiver_id("shure", "dd4c-01")]
    assert standalone.channels[0].name == "Lead"
    assert standalone.channels[0].transmitter is None
    assert standalone.channels[0].rf.rssi_dbm == ()  # no RF from the System API
    assert standalone.channels[0].audio.peak_dbfs is None
    assert standalone.online
    assert standalone.connection.transport is Transport.WEBSOCKET
    # The command-string DEVICE_ID arrives: same name, so it is the same device.
    rid = receiver_id("shure", "rx.local:2202")
    merger.command_receiver(replace(cmd_receiver(name="RX"), id=rid, api_device_id="rx.local:2202"))
    assert list(sink.receivers) == [rid]
    assert sink.removed == [standalone.id]
    merger.api_device_removed("DD4C-01")
    assert list(sink.receivers) == [rid]
    assert sink.receivers[rid].serial is None


def test_offline_command_connection_wins_over_api_online() -> None:
    sink = DictSink()
    merger = ShureMerger(sink)
    merger.api_device(api_device())
    merger.command_receiver(cmd_receiver(online=False))
    assert not sink.receivers[receiver_id("shure", "10.0.0.5:2202")].online


# -- plugin loopback: System API + command strings -------------------------------------


@pytest.fixture
async def rig_and_servers() -> AsyncIterator[
    tuple[Rig, ShureSystemApiServer, list[ShureCommandServer]]
]:
    rig = small_rig()
    rig.system_api_key = KEY
    api = ShureSystemApiServer(rig, activity_period=0.1)
    # ULX-D and AD are reached directly; the SLX-D is known only to the System API.
    commands = [ShureCommandServer(rig, r) for r in rig.receivers[:2]]
    await api.start()
    for server in commands:
        await server.start()
    yield rig, api, commands
    for server in commands:
        await server.stop()
    await api.stop()


async def test_plugin_puts_one_receiver_per_device(
    rig_and_servers: tuple[Rig, ShureSystemApiServer, list[ShureCommandServer]],
) -> None:
    rig, api, commands = rig_and_servers
    sink = DictSink()
    config = ManufacturerConfig(
        code="shure",
        api_url=api.url,
        timeout=5.0,
        devices=tuple(f"{s.host}:{s.port}" for s in commands),
    )
    plugin = ShurePlugin(PluginContext(config=config, sink=sink, meters=MeterBus(), secret=KEY))
    raw = await plugin.get_devices()
    assert len(raw) == 5  # three System API nodes and two configured addresses
    coordinators = plugin.create_coordinators()
    assert len(coordinators) == 3
    for coord in coordinators:
        await coord.start()
    try:
        await wait_for(
            lambda: all(c.state.status is ConnectionStatus.CONNECTED for c in coordinators)
        )
        ulxd_id = receiver_id("shure", f"{commands[0].host}:{commands[0].port}")
        slxd = rig.receivers[2]
        slxd_id = receiver_id("shure", slxd.device_id.lower())
        ad_id = receiver_id("shure", f"{commands[1].host}:{commands[1].port}")
        expected = {ulxd_id, ad_id, slxd_id}
        await wait_for(
            lambda: set(sink.receivers) == expected
            and sink.receivers[ulxd_id].serial is not None
        )
        ulxd = sink.receivers[ulxd_id]
        assert ulxd.serial == rig.receivers[0].serial  # System API inventory
        await wait_for(lambda: sink.receivers[ulxd_id].channel(1) is not None
                       and sink.receivers[ulxd_id].channel(1).frequency_khz == 470_125)  # type: ignore[union-attr]
        only_api = sink.receivers[slxd_id]
        assert [c.name for c in only_api.channels] == ["Choir L", "Choir R"]
        assert all(c.transmitter is None and c.rf == Rf() for c in only_api.channels)
        transformed = [plugin.transform_device_data(r) for r in raw]
        assert {r.id for r in transformed if r is not None} == expected
        found = await plugin.discover()
        assert [(d.model, d.name) for d in found] == [("SLXD4D", "SLX 13-14")]
        health = await plugin.check_health()
        assert health.status is HealthStatus.OK, health.message
        assert "System API connected" in (health.message or "")
    finally:
        for coord in coordinators:
            await coord.stop()
        await plugin.close()


async def test_plugin_wrong_key_still_lists_addresses_and_reports_health(
    rig_and_servers: tuple[Rig, ShureSystemApiServer, list[ShureCommandServer]],
) -> None:
    _rig, api, commands = rig_and_servers
    config = ManufacturerConfig(
        code="shure", api_url=api.url, timeout=5.0, devices=(f"127.0.0.1:{commands[0].port}",)
    )
    plugin = ShurePlugin(PluginContext(config=config, sink=DictSink(), secret="wrong"))
    try:
        raw = await plugin.get_devices()
        assert raw == [{"host": "127.0.0.1", "port": commands[0].port}]
        health = await plugin.check_health()
        assert health.status is HealthStatus.DOWN
        assert "refused the API key" in (health.message or "")
    finally:
        await plugin.close()


def _pairwise_report(cmds: list[CommandView], apis: list[ApiView]) -> MatchResult:
    """The plain rule, every pair tested: what the indexed match must give back."""
    from micboard_desktop.plugins.shure import merge

    links = merge._unique_serials(cmds, apis)
    ambiguous: dict[str, tuple[ApiView, ...]] = {}
    for agrees in (merge._by_name, merge._by_model_or_size):
        used = set(links.values())
        cmds_left = [c for c in cmds if c.key not in used]
        apis_left = [a for a in apis if a.key not in links]
        fits = {c.key: [a for a in apis_left if merge._compatible(c, a) and agrees(c, a)]
                for c in cmds_left}
        claims: dict[str, int] = {}
        for found in fits.values():
            for api in found:
                claims[api.key] = claims.get(api.key, 0) + 1
        for cmd in cmds_left:
            found = fits[cmd.key]
            if len(found) == 1 and claims[found[0].key] == 1:
                links[found[0].key] = cmd.key
                ambiguous.pop(cmd.key, None)
            elif len(found) > 1 or (found and claims[found[0].key] > 1):
                ambiguous.setdefault(cmd.key, tuple(found))
    linked = set(links.values())
    return MatchResult(links, {k: v for k, v in ambiguous.items() if k not in linked})


_hosts = st.sampled_from(["10.0.0.1", "10.0.0.2", "10.0.0.02", "::1", "[::1]", "rx.local", ""])
_names = st.one_of(st.none(), st.sampled_from(["Vox 1", "vox 1 ", "Gtr", "GTR", "Host"]))
_models = st.one_of(st.none(), st.sampled_from(["AD4D", "AD4D-A", "ULXD4Q", "SLXD4D", "QLXD4"]))
_serials = st.one_of(st.none(), st.sampled_from(["S1", "s1", "S2"]))
_counts = st.one_of(st.none(), st.integers(1, 4))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(_hosts, _names, _models, _serials, _counts,
                       st.one_of(st.none(), st.sets(st.sampled_from(["ad", "ulxd", "slxd"])))),
             max_size=8),
    st.lists(st.tuples(_hosts, _names, _models, _serials, _counts), max_size=8),
)
def test_the_indexed_match_gives_what_testing_every_pair_gives(
    cmd_rows: list[tuple[str, str | None, str | None, str | None, int | None, set[str] | None]],
    api_rows: list[tuple[str, str | None, str | None, str | None, int | None]],
) -> None:
    cmds = [CommandView(f"{host}:{2202 + i}", host, name, model, serial,
                        None if fam is None else frozenset(fam), count)
            for i, (host, name, model, serial, count, fam) in enumerate(cmd_rows)]
    apis = [ApiView(f"dev{i}", host or None, name, model, serial, count)
            for i, (host, name, model, serial, count) in enumerate(api_rows)]
    assert match_report(cmds, apis) == _pairwise_report(cmds, apis)


@given(st.lists(st.tuples(_hosts, _names, _models, _serials, _counts), max_size=12))
def test_with_no_system_api_device_nothing_links_and_nothing_is_ambiguous(
    cmd_rows: list[tuple[str, str | None, str | None, str | None, int | None]],
) -> None:
    # What ShureMerger._relink relies on to skip the match when it knows no API device.
    cmds = [CommandView(f"{host}:{2202 + i}", host, name, model, serial, None, count)
            for i, (host, name, model, serial, count) in enumerate(cmd_rows)]
    assert match_report(cmds, []) == MatchResult()


def test_command_receivers_alone_are_never_matched_and_links_come_with_the_first_api_device(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from micboard_desktop.plugins.shure import merger as merger_module

    calls: list[int] = []

    def counted(cmds: list[CommandView], apis: list[ApiView]) -> MatchResult:
        calls.append(len(cmds))
        return match_report(cmds, apis)

    monkeypatch.setattr(merger_module, "match_report", counted)
    sink = DictSink()
    merger = ShureMerger(sink)
    merger.add_command_address("10.0.0.5", 2202)
    for name in (None, "Stage", "Stage L"):  # a receiver naming itself reply by reply
        merger.command_receiver(cmd_receiver(name=name))
    assert calls == []
    assert list(sink.receivers) == ["shure:10.0.0.5:2202"]
    assert merger.links == {}
    merger.api_device(api_device())
    assert calls == [1]
    (merged,) = sink.receivers.values()
    assert merged.serial == "4192630196"  # linked: the inventory's fields came in
