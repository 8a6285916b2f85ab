"""The swap detector: every kind of pack change is found, noise never makes one."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from micboard_desktop.core.model import Battery, Channel, Transmitter
from micboard_desktop.core.swaps import (
    HOLD_SECONDS,
    QUIET_HOLD_FACTOR,
    BatterySwap,
    Charge,
    Reading,
    SwapDetector,
    SwapReason,
    reading_of,
)
from tests.core.builders import make_channel, make_receiver

T0 = datetime(2026, 12, 7, 19, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def on(percent: int | None = None, bars: int | None = None, minutes: int | None = None,
       model: str | None = "ULXD2", cycles: int | None = None) -> Reading:
    return Reading(True, Charge(percent, bars, minutes), model=model, cycles=cycles)


OFF = Reading(on=False)


def run(readings: Sequence[tuple[float, Reading]], until: float | None = None) -> list[BatterySwap]:
    detector = SwapDetector()
    found: list[BatterySwap] = []
    for seconds, reading in readings:
        found += detector.feed("shure:rx1:1", reading, at(seconds))
    end = until if until is not None else readings[-1][0] + HOLD_SECONDS * QUIET_HOLD_FACTOR + 1
    found += detector.tick(at(end))
    return found


def test_a_power_cycle_with_a_fuller_pack_is_a_swap_with_its_time_and_charges():
    readings = [(t, on(percent=40 - t // 60)) for t in range(0, 300, 10)]
    readings += [(300, OFF), (360, on(percent=100)), (370, on(percent=100))]
    [swap] = run(readings)
    assert swap.reason is SwapReason.TX_CYCLE
    assert swap.ts == at(360)
    assert swap.before.percent == 36
    assert swap.after.percent == 100
    assert swap.channel_id == "shure:rx1:1"


def test_a_power_cycle_with_the_same_pack_is_no_swap():
    readings = [(t, on(percent=60)) for t in range(0, 100, 10)]
    readings += [(100, OFF), (160, on(percent=62)), (170, on(percent=61))]
    assert run(readings) == []


def test_a_jump_in_charge_while_on_is_a_swap():
    readings = [(t, on(bars=1)) for t in range(0, 60, 10)] + [(60, on(bars=5)), (65, on(bars=5))]
    [swap] = run(readings)
    assert swap.reason is SwapReason.CHARGE_JUMP
    assert (swap.before.bars, swap.after.bars) == (1, 5)


def test_a_jump_in_minutes_alone_is_a_swap_but_a_small_one_is_not():
    steady = [(t, on(minutes=120 - t // 60)) for t in range(0, 120, 10)]
    assert run([*steady, (120, on(minutes=140))]) == []
    [swap] = run([*steady, (120, on(minutes=400))])
    assert swap.after.minutes == 400


def test_a_new_transmitter_model_is_a_swap_even_at_the_same_charge():
    readings = [(t, on(percent=80)) for t in range(0, 50, 10)]
    readings += [(50, on(percent=80, model="AD2"))]
    [swap] = run(readings)
    assert swap.reason is SwapReason.NEW_TRANSMITTER
    assert swap.transmitter_model == "AD2"


def test_a_cycle_count_change_is_a_swap():
    readings = [(t, on(percent=50, cycles=40)) for t in range(0, 50, 10)]
    readings += [(50, on(percent=52, cycles=41))]
    [swap] = run(readings)
    assert swap.reason is SwapReason.CYCLES


def test_a_single_spike_is_dismissed_as_noise():
    readings = [(t, on(percent=40)) for t in range(0, 50, 10)]
    readings += [(50, on(percent=95)), (55, on(percent=40)), (65, on(percent=40))]
    assert run(readings) == []


def test_a_swap_waits_for_the_hold_before_it_is_logged():
    detector = SwapDetector()
    for t in range(0, 50, 10):
        detector.feed("c", on(percent=30), at(t))
    assert detector.feed("c", on(percent=100), at(50)) == []
    assert detector.pending() == {"c": SwapReason.CHARGE_JUMP}
    assert detector.tick(at(50 + HOLD_SECONDS)) == []  # one reading only: it waits longer
    assert detector.feed("c", on(percent=99), at(55)) == []
    assert detector.tick(at(50 + HOLD_SECONDS - 1)) == []
    [swap] = detector.tick(at(50 + HOLD_SECONDS))
    assert (swap.before.percent, swap.after.percent) == (30, 99)
    assert detector.tick(at(500)) == []  # logged once


def test_a_swap_seen_in_one_reading_only_is_still_logged_later():
    detector = SwapDetector()
    for t in range(0, 50, 10):
        detector.feed("c", on(percent=30), at(t))
    detector.feed("c", on(percent=100), at(50))
    assert detector.tick(at(50 + HOLD_SECONDS * QUIET_HOLD_FACTOR - 1)) == []
    assert len(detector.tick(at(50 + HOLD_SECONDS * QUIET_HOLD_FACTOR))) == 1


def test_a_docked_pack_that_comes_back_full_counts_as_a_fresh_pack():
    charging = Reading(on=False)
    readings = [(t, on(percent=20)) for t in range(0, 50, 10)]
    readings += [(50, charging), (400, on(percent=100))]
    [swap] = run(readings)
    assert swap.reason is SwapReason.TX_CYCLE


def test_a_pack_still_calculating_after_power_on_is_judged_on_its_first_charge():
    readings = [(t, on(bars=1)) for t in range(0, 50, 10)]
    readings += [(50, OFF), (70, on()), (80, on(bars=4))]
    [swap] = run(readings)
    assert swap.reason is SwapReason.TX_CYCLE


def test_channels_of_an_offline_receiver_are_not_fed():
    detector = SwapDetector()
    receiver = make_receiver(channels=1)
    low = replace(receiver, channels=(_with_battery(receiver.channels[0], percent=10),))
    for t in range(0, 50, 10):
        detector.observe_receivers([low], at(t))
    full = replace(receiver, channels=(_with_battery(receiver.channels[0], percent=100),))
    detector.observe_receivers([replace(full, online=False)], at(60))
    assert detector.pending() == {}
    detector.observe_receivers([full], at(70))
    [swap] = detector.tick(at(70 + HOLD_SECONDS * QUIET_HOLD_FACTOR))
    assert swap.channel_name == "Ch 1"


def _with_battery(channel: Channel, **battery: int | None) -> Channel:
    return replace(channel, transmitter=Transmitter(model="ULXD2", battery=Battery(**battery)))  # type: ignore[arg-type]


def test_out_of_range_values_count_as_unknown():
    channel = make_channel(transmitter=Transmitter(battery=Battery(bars=255, percent=-1,
                                                                   minutes=65535 * 9)))
    assert reading_of(channel).charge == Charge()


# -- properties --------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    start=st.integers(20, 100),
    jitter=st.integers(0, 4),
    flicker=st.floats(0.0, 0.6),
    step=st.floats(1.0, 30.0),
    offs=st.lists(st.integers(0, 400), max_size=3),
    measures=st.sampled_from(("pbm", "b", "p", "m", "pb", "bm")),
)
def test_a_noisy_steady_discharge_never_makes_a_swap(
    seed: int, start: int, jitter: int, flicker: float, step: float, offs: list[int],
    measures: str,
):
    """Percent jitter, a flickering bar, runtime wobble and power cycles of the same pack."""
    rng = random.Random(seed)
    detector = SwapDetector()
    found: list[BatterySwap] = []
    t = 0.0
    for i in range(400):
        t += step
        true = max(0.0, start - i * 0.05)
        if i in offs:
            found += detector.feed("c", OFF, at(t))
            t += rng.uniform(5, 120)
        percent = max(0, min(100, round(true + rng.randint(-jitter, jitter))))
        bars = max(0, min(5, round(true / 20) + (rng.choice((-1, 1)) if rng.random() < flicker
                                                   else 0)))
        minutes = max(0, round(true * 4.8 + rng.gauss(0, 8)))
        reading = on(percent=percent if "p" in measures else None,
                     bars=bars if "b" in measures else None,
                     minutes=minutes if "m" in measures else None)
        found += detector.feed("c", reading, at(t))
        found += detector.tick(at(t + step / 2))
    assert found == []


garbage_battery = st.builds(
    Battery,
    bars=st.one_of(st.none(), st.integers(-10**6, 10**6)),
    percent=st.one_of(st.none(), st.integers(-10**6, 10**6)),
    minutes=st.one_of(st.none(), st.integers(-10**9, 10**9)),
    type=st.one_of(st.none(), st.text(max_size=8)),
    charging=st.one_of(st.none(), st.booleans()),
)
garbage_tx = st.one_of(st.none(), st.builds(Transmitter, model=st.one_of(st.none(), st.text(
    max_size=8)), battery=garbage_battery))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(-1e6, 1e6), garbage_tx, st.one_of(st.none(), st.text(
    max_size=8))), max_size=40))
def test_garbage_never_raises(steps: list[tuple[float, Transmitter | None, str | None]]):
    detector = SwapDetector()
    base = make_channel()
    for seconds, tx, name in steps:
        channel = replace(base, transmitter=tx, name=name, performer=name)
        for swap in detector.observe(channel, at(seconds)) + detector.tick(at(seconds)):
            assert swap.channel_id == base.id
            assert isinstance(swap.reason, SwapReason)


def test_a_fresh_pack_switched_off_again_within_the_hold_is_still_a_swap():
    readings = [(t, on(percent=45)) for t in range(0, 50, 10)]
    readings += [(50, OFF), (80, on(percent=100)), (81, on(percent=99)), (84, OFF)]
    [swap] = run(readings)
    assert swap.ts == at(80)
    lone = [(t, on(percent=45)) for t in range(0, 50, 10)] + [(50, on(percent=99)), (52, OFF)]
    assert run(lone) == []  # one high reading, then off: not enough to say


def test_a_fresh_pack_seen_once_then_off_is_judged_again_when_it_returns():
    """Benchmark case: on for one poll at 100 %, off for a minute, back on at 99 %."""
    readings = [(t, on(percent=59)) for t in range(0, 50, 10)]
    readings += [(50, OFF), (130, on(percent=100)), (131, OFF), (200, on(percent=99))]
    readings += [(t, on(percent=99)) for t in range(201, 260, 5)]
    [swap] = run(readings)
    assert swap.ts == at(200)
    assert swap.before.percent == 59
    steady = [(t, on(percent=59)) for t in range(0, 50, 10)]
    steady += [(50, OFF), (130, on(percent=100)), (131, OFF), (200, on(percent=58))]
    steady += [(t, on(percent=58)) for t in range(201, 260, 5)]
    assert run(steady) == []  # one odd reading, then the same pack: no swap
