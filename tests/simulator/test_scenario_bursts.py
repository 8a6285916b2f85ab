"""Scenario keys for interference bursts and lone dips (issue #19): seeded, in the span only."""

from __future__ import annotations

from micboard_desktop.simulator.rig import Rig
from micboard_desktop.simulator.rigs import demo_rig
from micboard_desktop.simulator.scenario import NOISE_FLOOR_DBM, Scenario


def _show(seed: int, seconds: float = 600.0) -> Scenario:
    scenario = Scenario(demo_rig(), seed)
    scenario.burst_every = 60.0
    for _ in range(int(seconds * 10)):
        scenario.tick(0.1)
    return scenario


def test_bursts_are_seeded():
    first, again, other = _show(5), _show(5), _show(6)
    assert first.bursts
    assert first.bursts == again.bursts
    assert first.bursts != other.bursts


def test_a_burst_takes_every_pack_on_air_in_its_span_and_nothing_else():
    rig: Rig = demo_rig()
    scenario = Scenario(rig, 1)
    scenario.tick(0.1)
    on_air = [(r, c) for r in rig.receivers if r.family not in ("psm1000", "iemg4")
              for c in r.channels if c.transmitter_active]
    low = min(c.frequency_khz for _, c in on_air)
    played = scenario.burst(low, low + 5000, 2.0)
    want = {(r.name, c.number) for r, c in on_air if low <= c.frequency_khz <= low + 5000}
    assert set(played.channels) == want
    assert want
    scenario.tick(0.5)
    for receiver, channel in on_air:
        hit = (receiver.name, channel.number) in want
        weak = max(channel.rssi_dbm) < -90.0
        assert weak == hit, (receiver.name, channel.number, channel.rssi_dbm)
    scenario.tick(2.0)
    scenario.tick(0.1)
    assert all(max(c.rssi_dbm) > NOISE_FLOOR_DBM + 10 for _, c in on_air if c.transmitter_active)


def test_no_burst_key_leaves_the_show_as_it_was():
    plain, keyed = Scenario(demo_rig(), 2), Scenario(demo_rig(), 2)
    keyed.burst_every = None
    for _ in range(300):
        plain.tick(0.1)
        keyed.tick(0.1)
    assert keyed.bursts == []
    rssi = [c.rssi_dbm for r in plain.rig.receivers for c in r.channels]
    assert rssi == [c.rssi_dbm for r in keyed.rig.receivers for c in r.channels]
