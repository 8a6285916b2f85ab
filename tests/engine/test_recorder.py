"""Recorder: receivers whose only change is live telemetry are written at most once a minute."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, cast

from micboard_desktop.core.model import Audio, Battery, Receiver, ReceiverId, Transmitter
from micboard_desktop.core.store import StateStore
from micboard_desktop.core.store import same_but_levels as same_but_telemetry
from micboard_desktop.data.repository import Repository
from micboard_desktop.engine.recorder import TELEMETRY_WRITE_SECONDS, Recorder
from tests.core.builders import make_receiver

RID = ReceiverId("shure:rx1")


class QueueingRepository:
    """Keeps what the recorder queues (the recorder only queues; it never reads)."""

    def __init__(self) -> None:
        self.receivers: list[Receiver] = []

    def queue_receiver(self, receiver: Receiver) -> None:
        """Record one queued receiver."""
        self.receivers.append(receiver)


def _rig() -> tuple[StateStore, QueueingRepository, Recorder]:
    store, repo = StateStore(), QueueingRepository()
    recorder = Recorder(store, cast(Repository, repo), lambda _cid: "shure")
    recorder.start()
    store.put_receiver(make_receiver(str(RID)))
    return store, repo, recorder


def _change_first_channel(store: StateStore, **changes: Any) -> None:
    receiver = store.receiver(RID)
    assert receiver is not None
    first, *rest = receiver.channels
    store.put_receiver(replace(receiver, channels=(replace(first, **changes), *rest)))


def test_levels_alone_wait_a_minute_but_a_battery_step_is_written_at_the_next_flush() -> None:
    store, repo, recorder = _rig()
    assert recorder.flush_dirty(now=0.0) == 1
    rf = make_receiver(str(RID)).channels[0].rf
    _change_first_channel(store, rf=replace(rf, rssi_dbm=(-75.0, -80.0), antenna="B", quality=3))
    _change_first_channel(store, audio=Audio(rms_dbfs=-40.0, peak_dbfs=-12.0))
    assert recorder.flush_dirty(now=6.0) == 0
    assert recorder.flush_dirty(now=12.0) == 0  # still waiting, still remembered
    battery = Transmitter(model="ULXD2", battery=Battery(bars=2))
    _change_first_channel(store, transmitter=battery)
    assert recorder.flush_dirty(now=18.0) == 1
    written = repo.receivers[-1].channels[0]
    assert written.transmitter == battery
    assert written.audio.peak_dbfs == -12.0  # the write carries the latest levels too


def test_telemetry_is_written_once_the_minute_is_up_and_everything_at_shutdown() -> None:
    store, repo, recorder = _rig()
    recorder.flush_dirty(now=0.0)
    _change_first_channel(store, audio=Audio(peak_dbfs=-6.0))
    assert recorder.flush_dirty(now=1.0) == 0
    assert recorder.flush_dirty(now=TELEMETRY_WRITE_SECONDS + 1.0) == 1
    _change_first_channel(store, audio=Audio(peak_dbfs=-3.0))
    assert recorder.flush_dirty() == 1  # shutdown: no waiting
    assert repo.receivers[-1].channels[0].audio.peak_dbfs == -3.0


def test_same_but_telemetry_tells_levels_from_state() -> None:
    receiver = make_receiver(str(RID))
    first, *rest = receiver.channels

    def with_first(**changes: Any) -> Receiver:
        return replace(receiver, channels=(replace(first, **changes), *rest))

    assert same_but_telemetry(receiver, with_first(rf=replace(first.rf, rssi_dbm=(-99.0,))))
    assert same_but_telemetry(receiver, with_first(rf=replace(first.rf, quality=1)))
    assert same_but_telemetry(receiver, with_first(audio=Audio(peak_dbfs=0.0)))
    assert same_but_telemetry(receiver, replace(receiver, last_seen=receiver.last_seen))
    assert not same_but_telemetry(receiver, with_first(name="Lead"))
    assert not same_but_telemetry(receiver, with_first(rf=replace(first.rf, interference=True)))
    assert not same_but_telemetry(receiver, with_first(transmitter=None))
    assert not same_but_telemetry(receiver, replace(receiver, online=False))
    assert not same_but_telemetry(receiver, replace(receiver, channels=(first,)))


class ConnectionRows:
    """Keeps the connection rows and events the recorder queues."""

    def __init__(self) -> None:
        self.rows: list[Any] = []
        self.events: list[str] = []

    def queue_connection_state(self, record: Any) -> None:
        """Record one queued connection row."""
        self.rows.append(record)

    def queue_event(self, kind: str, message: str, **_kwargs: Any) -> None:
        """Record one queued event."""
        self.events.append(message)


def test_an_unchanged_connection_row_waits_but_a_newer_message_or_state_goes_at_once(
) -> None:
    from datetime import UTC, datetime, timedelta

    from micboard_desktop.core.coordinator import ConnectionState
    from micboard_desktop.core.model import ConnectionStatus, Transport
    from micboard_desktop.engine.recorder import CONNECTION_ROW_SECONDS

    now = [0.0]
    repo = ConnectionRows()
    recorder = Recorder(StateStore(), cast(Repository, repo), lambda _cid: "shure",
                        monotonic=lambda: now[0])
    t0 = datetime(2026, 12, 7, 20, 0, tzinfo=UTC)
    state = ConnectionState("shure:10.0.0.5:2202", Transport.TCP, ConnectionStatus.CONNECTED,
                            last_message_at=t0)
    recorder.record_connection(state)
    for tick in range(1, 4):  # health ticks every 2 s of a silent connection: nothing new
        now[0] = 2.0 * tick
        recorder.record_connection(state)
    assert len(repo.rows) == 1
    now[0] = 7.0  # data flows again: another process judges liveness from this row
    newer = replace(state, last_message_at=t0 + timedelta(seconds=7))
    recorder.record_connection(newer)
    assert repo.rows[-1].last_message_at == newer.last_message_at
    now[0] = 8.0
    recorder.record_connection(replace(newer, status=ConnectionStatus.ERROR, last_error="gone"))
    assert [r.state for r in repo.rows] == [
        ConnectionStatus.CONNECTED, ConnectionStatus.CONNECTED, ConnectionStatus.ERROR]
    now[0] = 8.0 + CONNECTION_ROW_SECONDS
    recorder.record_connection(replace(newer, status=ConnectionStatus.ERROR, last_error="gone"))
    assert len(repo.rows) == 4  # the same row again once the longest wait is over


def test_a_level_fold_waits_without_comparing_and_a_later_battery_change_still_goes(
    monkeypatch: Any,
) -> None:
    from micboard_desktop.engine import recorder as recorder_module

    store, repo, recorder = _rig()
    assert recorder.flush_dirty(now=0.0) == 1
    compared: list[int] = []
    real = same_but_telemetry  # the store's rule, which the recorder calls
    def counting(old: Receiver, new: Receiver) -> bool:
        compared.append(1)
        return real(old, new)

    monkeypatch.setattr(recorder_module, "same_but_levels", counting)  # what it calls
    receiver = store.receiver(RID)
    assert receiver is not None
    first, *rest = receiver.channels
    store.put_levels(replace(receiver, channels=(replace(first, audio=Audio(peak_dbfs=-3.0)),
                                                 *rest)))
    assert recorder.flush_dirty(now=6.0) == 0
    assert compared == []  # known to be levels alone: no receiver comparison
    _change_first_channel(store, transmitter=Transmitter(battery=Battery(bars=1)))
    assert recorder.flush_dirty(now=12.0) == 1
    assert repo.receivers[-1].channels[0].audio.peak_dbfs == -3.0
