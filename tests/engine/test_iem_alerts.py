"""Alerts of in-ear channels (issue #17, 1): RF mute, clipping, no input; no mic rules."""

from __future__ import annotations

from dataclasses import replace

from micboard_desktop.core.config import AppConfig
from micboard_desktop.core.model import ChannelKind, Iem, IemMode, ReceiverId
from micboard_desktop.core.records import Severity
from micboard_desktop.core.store import StateStore
from micboard_desktop.engine.alerts import AlertEngine
from tests.core.builders import make_channel, make_receiver
from tests.fakes.clock import FakeClock

RID = "shure:p10t"
CH = f"{RID}:1"


def _put(store: StateStore, **iem: object) -> None:
    link = Iem(rf_power_mw=50, rf_muted=False, mode=IemMode.STEREO, left_dbfs=-20.0,
               right_dbfs=-20.0)
    channel = make_channel(RID, 1, transmitter=None, kind=ChannelKind.IEM,
                           iem=replace(link, **iem))  # type: ignore[arg-type]
    store.put_receiver(replace(make_receiver(RID, channels=0), channels=(channel,)))


async def test_in_ear_alerts_raise_and_clear_and_no_mic_rule_fires():
    store = StateStore()
    clock = FakeClock()
    _put(store)
    engine = AlertEngine(store, AppConfig(), clock=clock)
    await engine.start()
    try:
        assert engine.active() == []  # no "transmitter off" for a channel with no pack
        _put(store, rf_muted=True)
        muted = engine.get(f"iem_rf_muted:{CH}")
        assert muted is not None
        assert muted.severity is Severity.CRITICAL  # at once: the performer hears nothing
        _put(store, rf_muted=False, left_dbfs=-80.0, right_dbfs=-78.0)
        assert engine.get(f"iem_rf_muted:{CH}") is None or engine.get(
            f"iem_rf_muted:{CH}").cleared_at is not None  # type: ignore[union-attr]
        assert engine.get(f"iem_no_input:{CH}") is None  # a pause between songs
        await clock.advance(11)
        silent = engine.get(f"iem_no_input:{CH}")
        assert silent is not None
        assert silent.severity is Severity.WARNING
        _put(store, left_dbfs=0.0, right_dbfs=-3.0)
        clip = engine.get(f"audio_peak:{CH}")
        assert clip is not None
        assert "In-ear input clipping" in clip.message
        assert {a.key for a in engine.active()} <= {
            f"audio_peak:{CH}", f"iem_no_input:{CH}", f"iem_rf_muted:{CH}"}
        receiver = store.receiver(ReceiverId(RID))
        assert receiver is not None
        store.put_receiver(replace(receiver, online=False))  # the receiver alert says it all
        assert all(not a.key.endswith(CH) for a in engine.active())
    finally:
        await engine.stop()


async def test_a_uhfr_dropout_raises_rf_loss_and_clears_with_hysteresis():
    """Issue #17, 4: coarse RF categories feed the RF-loss alert."""
    from micboard_desktop.core.model import Rf

    rid = "shure:ur4d"
    store = StateStore()
    clock = FakeClock()

    def put(*coarse: int) -> None:
        channel = make_channel(rid, 1, rf=Rf(coarse=coarse))
        store.put_receiver(replace(make_receiver(rid, channels=0), channels=(channel,)))

    put(70, 75)
    engine = AlertEngine(store, AppConfig(), clock=clock)
    await engine.start()
    try:
        put(104, 108)
        await clock.advance(3)
        lost = engine.get(f"rf_loss:{rid}:1")
        assert lost is not None
        assert "RF category 104, weak" in lost.message
        put(97, 108)  # better, but inside the margin: stays
        await clock.advance(5)
        assert f"rf_loss:{rid}:1" in {a.key for a in engine.active()}
        put(70, 108)
        await clock.advance(5)
        assert f"rf_loss:{rid}:1" not in {a.key for a in engine.active()}
    finally:
        await engine.stop()
