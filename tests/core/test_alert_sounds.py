"""Which alerts sound and notify: new ones once, criticals repeat, mute, snoozes (Qt-free)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micboard_desktop.core.alert_sounds import (
    REPEAT_CRITICAL_S,
    AlertSounds,
    Outcome,
    SnoozeKind,
    Tone,
)
from micboard_desktop.core.records import AlertInfo, Severity

T0 = datetime(2026, 12, 7, 20, 0, tzinfo=UTC)


def alert(rule: str = "low_battery", channel: str | None = "shure:rx1:1",
          severity: Severity = Severity.WARNING, **changes: object) -> AlertInfo:
    made = AlertInfo(key=f"{rule}:{channel}", rule=rule, severity=severity,
                     message=f"{rule} on {channel}", raised_at=T0, channel_id=channel)
    return dataclasses.replace(made, **changes)  # type: ignore[arg-type]


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


WARN = alert()
CRIT = alert("critical_battery", severity=Severity.CRITICAL)
OTHER_CRIT = alert("rf_loss", "shure:rx1:2", Severity.CRITICAL)


def test_a_new_warning_sounds_once_and_notifies_nobody():
    sounds = AlertSounds()
    assert sounds.review([WARN], at(0)) == Outcome(Tone.WARNING, ())
    assert sounds.review([WARN], at(1)) == Outcome()
    assert sounds.review([WARN], at(600)) == Outcome()  # warnings never repeat


def test_a_new_critical_sounds_notifies_and_repeats_until_acknowledged():
    sounds = AlertSounds()
    assert sounds.review([CRIT], at(0)) == Outcome(Tone.CRITICAL, (CRIT,))
    assert sounds.review([CRIT], at(REPEAT_CRITICAL_S - 1)).tone is None
    repeat = sounds.review([CRIT], at(REPEAT_CRITICAL_S))
    assert repeat == Outcome(Tone.CRITICAL, ())  # a repeat is a sound, not a new notification
    acked = dataclasses.replace(CRIT, acknowledged_at=at(61))
    assert sounds.review([acked], at(10 * REPEAT_CRITICAL_S)) == Outcome()


def test_several_new_alerts_play_the_worst_sound_once():
    sounds = AlertSounds()
    outcome = sounds.review([WARN, OTHER_CRIT, CRIT], at(0))
    assert outcome.tone is Tone.CRITICAL
    assert set(outcome.notify) == {CRIT, OTHER_CRIT}


def test_info_cleared_and_acknowledged_alerts_are_silent():
    sounds = AlertSounds()
    info = alert("note", severity=Severity.INFO)
    cleared = dataclasses.replace(CRIT, cleared_at=at(0))
    acked = dataclasses.replace(OTHER_CRIT, acknowledged_at=at(0))
    assert sounds.review([info, cleared, acked], at(0)) == Outcome()


def test_an_alert_raised_again_after_clearing_is_new():
    sounds = AlertSounds()
    sounds.review([WARN], at(0))
    sounds.review([], at(5))
    assert sounds.review([WARN], at(6)).tone is Tone.WARNING


def test_mute_silences_sounds_but_not_notifications():
    sounds = AlertSounds()
    sounds.muted = True
    assert sounds.review([CRIT], at(0)) == Outcome(None, (CRIT,))
    sounds.muted = False
    assert sounds.review([CRIT], at(1)).tone is None  # unmuting does not replay the past
    assert sounds.review([CRIT], at(REPEAT_CRITICAL_S)).tone is Tone.CRITICAL


def test_a_timed_alert_snooze_silences_it_and_outlives_a_clear():
    sounds = AlertSounds()
    sounds.review([CRIT], at(0))
    sounds.snooze(SnoozeKind.ALERT, CRIT.key, at(1), minutes=15)
    assert sounds.review([CRIT], at(2 * REPEAT_CRITICAL_S)) == Outcome()
    sounds.review([], at(200))  # it clears ...
    assert sounds.review([CRIT], at(300)) == Outcome()  # ... and comes back: still snoozed
    assert sounds.review([OTHER_CRIT, CRIT], at(301)).tone is Tone.CRITICAL  # others sound
    # After the 15 minutes: no sound the moment the snooze ends, a repeat a period later.
    assert sounds.review([CRIT], at(15 * 60 + 1)).tone is None
    assert sounds.snoozes(at(15 * 60 + 1)) == []
    assert sounds.review([CRIT], at(15 * 60 + 1 + REPEAT_CRITICAL_S)).tone is Tone.CRITICAL


def test_an_until_cleared_alert_snooze_ends_when_it_clears():
    sounds = AlertSounds()
    sounds.review([CRIT], at(0))
    sounds.snooze(SnoozeKind.ALERT, CRIT.key, at(1), minutes=None)
    assert [s.describe() for s in sounds.snoozes(at(1))] == ["until cleared"]
    assert sounds.review([CRIT], at(3600)) == Outcome()
    sounds.review([], at(3601))
    assert sounds.snoozes(at(3601)) == []
    assert sounds.review([CRIT], at(3602)) == Outcome(Tone.CRITICAL, (CRIT,))


def test_a_channel_snooze_covers_every_alert_of_that_channel_only():
    sounds = AlertSounds()
    sounds.snooze(SnoozeKind.CHANNEL, "shure:rx1:1", at(0), minutes=None)
    same_channel = alert("rf_loss", "shure:rx1:1", Severity.CRITICAL)
    outcome = sounds.review([WARN, CRIT, same_channel, OTHER_CRIT], at(1))
    assert outcome == Outcome(Tone.CRITICAL, (OTHER_CRIT,))
    assert sounds.snooze_of(CRIT, at(1)) is not None
    assert sounds.snooze_of(OTHER_CRIT, at(1)) is None
    # Until cleared: while one alert of the channel is open, the snooze holds.
    sounds.review([same_channel], at(2))
    assert len(sounds.snoozes(at(2))) == 1
    sounds.review([OTHER_CRIT], at(3))
    assert sounds.snoozes(at(3)) == []


def test_unsnooze_ends_a_snooze_early():
    sounds = AlertSounds()
    sounds.snooze(SnoozeKind.CHANNEL, "shure:rx1:1", at(0))
    assert sounds.unsnooze(SnoozeKind.CHANNEL, "shure:rx1:1") is True
    assert sounds.unsnooze(SnoozeKind.CHANNEL, "shure:rx1:1") is False
    assert sounds.review([WARN], at(1)).tone is Tone.WARNING


def test_a_receiver_alert_without_channel_is_snoozed_by_its_key():
    sounds = AlertSounds()
    offline = alert("rx_offline", None, Severity.CRITICAL, receiver_id="shure:rx1")
    sounds.snooze(SnoozeKind.ALERT, offline.key, at(0))
    assert sounds.review([offline], at(1)) == Outcome()


@pytest.mark.parametrize("minutes", [0, -5, float("nan"), float("inf")])
def test_a_snooze_needs_a_positive_finite_time(minutes: float):
    with pytest.raises(ValueError, match="positive"):
        AlertSounds().snooze(SnoozeKind.ALERT, "x", at(0), minutes=minutes)


def test_repeats_can_be_switched_off_and_need_a_positive_period():
    sounds = AlertSounds(repeat_critical_s=None)
    sounds.review([CRIT], at(0))
    assert sounds.review([CRIT], at(3600)).tone is None
    with pytest.raises(ValueError, match="positive"):
        AlertSounds(repeat_critical_s=0)


_alerts = st.builds(
    alert,
    rule=st.sampled_from(["low_battery", "rf_loss", "tx_off", ""]),
    channel=st.one_of(st.none(), st.sampled_from(["a", "b", "shure:rx1:1"])),
    severity=st.sampled_from(list(Severity)),
    acknowledged_at=st.one_of(st.none(), st.just(T0)),
    cleared_at=st.one_of(st.none(), st.just(T0)),
)


@settings(max_examples=150, deadline=None)
@given(rounds=st.lists(st.lists(_alerts, max_size=6), max_size=8),
       snoozed=st.lists(st.tuples(st.sampled_from(list(SnoozeKind)),
                                  st.sampled_from(["a", "b", "low_battery:a", "rf_loss:b"]),
                                  st.one_of(st.none(), st.floats(0.5, 30)))),
       muted=st.booleans())
def test_any_sequence_of_alerts_gives_a_consistent_outcome(rounds, snoozed, muted):
    sounds = AlertSounds()
    sounds.muted = muted
    for kind, target, minutes in snoozed:
        sounds.snooze(kind, target, T0, minutes)
    for step, alerts in enumerate(rounds):
        now = at(step * 20)
        outcome = sounds.review(alerts, now)
        audible = [a for a in alerts if a.cleared_at is None and a.acknowledged_at is None
                   and a.severity is not Severity.INFO and sounds.snooze_of(a, now) is None]
        if muted or not audible:
            assert outcome.tone is None
        else:
            assert outcome.tone is None or outcome.tone in {Tone(a.severity) for a in audible}
        assert all(a.severity is Severity.CRITICAL and a in audible for a in outcome.notify)
