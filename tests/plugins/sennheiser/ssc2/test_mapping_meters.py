"""SSCv2 mapping for speed: meter routing, mobile-device RF, partial channel rebuilds."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from micboard_desktop.core.meters import MeterSample
from micboard_desktop.core.model import ReceiverId
from micboard_desktop.plugins.sennheiser.profiles import Profile, profile_for
from micboard_desktop.plugins.sennheiser.ssc2 import mapping
from micboard_desktop.simulator.sennheiser.ssc2.ewdx import EwdxTree
from micboard_desktop.simulator.sennheiser.ssc2.resources import ResourceTree
from micboard_desktop.simulator.sennheiser.ssc2.spectera import SpecteraTree
from tests.simulator.ssc_helpers import ewdx_rig, spectera_rig

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-200, 200)
    | st.floats(allow_nan=False)
    | st.text(max_size=6)
)
JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
MOBILE_KEYS = st.sampled_from(["rssi", "dominantAntenna", "name", "batteryFillLevel", "micLqi"])


def _resources(links: dict[int, int], outputs: dict[int, int]) -> dict[str, Any]:
    res: dict[str, Any] = {
        f"/api/mts/paired/all/{uid}": {"micAudiolinkId": link} for uid, link in links.items()
    }
    res.update(
        {f"/api/audio/outputs/{out}": {"micAudiolinkId": link} for out, link in outputs.items()}
    )
    return res


def test_routes_follow_the_audio_links_and_skip_unassigned_outputs() -> None:
    res = _resources({1: 10, 7: 11}, {1: 11, 2: 10, 3: -1, 4: 99})
    assert mapping.spectera_routes(res) == ((0, 7), (1, 1))


def test_meters_use_the_routes_and_turn_sentinels_into_none() -> None:
    body = {"aoIpOut": {"peak": [-12.5, -30.0], "rms": [-20.0]}}
    samples = mapping.spectera_meters(body, ((0, 7), (1, 1), (5, 3)))
    assert samples == [
        (7, MeterSample(audio_peak_dbfs=-12.5, audio_rms_dbfs=-20.0)),
        (1, MeterSample(audio_peak_dbfs=-30.0, audio_rms_dbfs=None)),
    ]


def test_mobile_meter_reads_rssi_and_antenna() -> None:
    sample = mapping.mobile_meter({"rssi": -64.5, "dominantAntenna": "b", "name": "x"})
    assert sample == MeterSample(rssi_dbm=(-64.5,), antenna="B")
    assert mapping.mobile_meter({"dominantAntenna": "NotAvailable"}) is None


def test_a_mobile_body_with_new_rssi_only_is_the_same_but_a_battery_change_is_not() -> None:
    old = {"rssi": -60, "dominantAntenna": "a", "batteryFillLevel": 70}
    assert mapping.same_but_meters(old, {**old, "rssi": -75, "dominantAntenna": "b"})
    assert not mapping.same_but_meters(old, {**old, "batteryFillLevel": 69})
    assert not mapping.same_but_meters(old, {"rssi": -60, "dominantAntenna": "a"})
    assert not mapping.same_but_meters(old, None)


@given(st.dictionaries(MOBILE_KEYS, JSON), st.dictionaries(MOBILE_KEYS, JSON))
def test_same_but_meters_is_equality_without_the_meter_fields(
    a: dict[str, Any], b: dict[str, Any]
) -> None:
    def slow(d: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in d.items() if k not in mapping.MOBILE_METER_FIELDS}

    expected = a.keys() == b.keys() and slow(a) == slow(b)
    assert mapping.same_but_meters(a, b) == expected


@given(JSON, st.dictionaries(st.text(max_size=30), JSON, max_size=6))
def test_malformed_bodies_never_raise(body: Any, resources: dict[str, Any]) -> None:
    routes = mapping.spectera_routes(resources)
    for _uid, sample in mapping.spectera_meters(body, routes):
        assert isinstance(sample, MeterSample)
    mapping.mobile_meter(body)


def _tree_resources(tree: ResourceTree) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path in tree.paths():
        out.update(tree.snapshot(path))
    return out


def _setups() -> list[tuple[Profile, dict[str, Any]]]:
    ewdx_rig_, ewdx_rx = ewdx_rig()
    spectera_rig_, spectera_rx = spectera_rig()
    ewdx = _tree_resources(EwdxTree(ewdx_rig_, ewdx_rx))
    spectera = _tree_resources(SpecteraTree(spectera_rig_, spectera_rx))
    return [
        (profile_for("EWDX4CHDS", frozenset(ewdx) | {"/api/channel/{id}"}), ewdx),
        (profile_for("Spectera Base Station"), spectera),
    ]


@settings(max_examples=200)
@given(st.sampled_from([0, 1]), st.data())
def test_rebuilding_only_the_affected_channels_equals_a_full_rebuild(
    which: int, data: st.DataObject
) -> None:
    profile, resources = _setups()[which]
    rid = ReceiverId("sennheiser:test")
    before = mapping.channels(profile, rid, resources)
    path = data.draw(st.sampled_from(sorted(resources)) | st.just("/api/mts/paired/all/9"))
    body = data.draw(JSON | st.just(resources.get(path)))
    if isinstance(resources.get(path), dict) and data.draw(st.booleans()):
        body = {**resources[path], data.draw(st.sampled_from(sorted(resources[path]))): body}
    changed = {**resources, path: body}
    full = mapping.channels(profile, rid, changed)
    feeds = mapping.affected_channels(profile, path)
    if feeds is None or not feeds <= {ch.number for ch in before}:
        return  # the coordinator rebuilds everything in this case
    partial = tuple(
        mapping.channel(profile, rid, ch.number, changed) if ch.number in feeds else ch
        for ch in before
    )
    assert partial == full


@settings(max_examples=200)
@given(st.data())
def test_routes_change_only_when_changes_routes_says_so(data: st.DataObject) -> None:
    _profile, resources = _setups()[1]
    path = data.draw(st.sampled_from(sorted(resources)))
    old = resources[path]
    new: Any = data.draw(JSON)
    if isinstance(old, dict) and data.draw(st.booleans()):
        new = {**old, data.draw(st.sampled_from([*sorted(old), "micAudiolinkId"])): new}
    if not mapping.changes_routes(path, old, new):
        changed = {**resources, path: new}
        assert mapping.spectera_routes(changed) == mapping.spectera_routes(resources)
