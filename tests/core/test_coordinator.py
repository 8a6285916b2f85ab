import asyncio
import logging
import random

import pytest

from micboard_desktop.core.coordinator import (
    AUTH_FAILED_MESSAGE,
    Backoff,
    ConnectionCoordinator,
    ConnectionState,
)
from micboard_desktop.core.errors import AuthFailed, DeviceMismatch
from micboard_desktop.core.model import ConnectionStatus, Transport
from tests.fakes.clock import FakeClock

S = ConnectionStatus


class ScriptedStream(ConnectionCoordinator):
    """A stream whose sessions follow a script: 'fail', 'auth', 'ok' (connect and hold)."""

    def __init__(self, clock: FakeClock, script: list[str], **kw: object) -> None:
        self.states: list[ConnectionState] = []
        super().__init__(
            "test:stream",
            Transport.TCP,
            clock=clock,
            rng=random.Random(1),
            on_state=self.states.append,
            **kw,  # type: ignore[arg-type]
        )
        self.script = script
        self.sessions = 0
        self.hold = asyncio.Event()
        self.closed = False

    async def _stream(self) -> None:
        step = self.script[self.sessions] if self.sessions < len(self.script) else "ok"
        self.sessions += 1
        if step == "fail":
            raise ConnectionRefusedError("connection refused")
        if step == "auth":
            raise AuthFailed("401")
        if step == "mismatch":
            raise DeviceMismatch("serial changed")
        self.mark_connected()
        await self.hold.wait()  # the device drops us when the test sets this
        self.hold = asyncio.Event()

    async def _close(self) -> None:
        self.closed = True


def statuses(coord: ScriptedStream) -> list[ConnectionStatus]:
    return [s.status for s in coord.states]


async def test_backoff_grows_exponentially_with_jitter_and_is_capped():
    clock = FakeClock()
    backoff = Backoff(initial_seconds=1, maximum_seconds=8, factor=2, jitter=0.2)
    coord = ScriptedStream(clock, ["fail"] * 7, backoff=backoff)
    await coord.start()
    for _ in range(7):
        await clock.advance(10)
    assert len(clock.sleeps) >= 6
    nominal = [1, 2, 4, 8, 8, 8]
    for slept, base in zip(clock.sleeps, nominal, strict=False):
        assert min(base * 0.8, 8) <= slept <= min(base * 1.2, 8)
    assert max(clock.sleeps) <= 8
    assert len(set(clock.sleeps[:3])) == 3  # jitter: no two retries at exactly the same moment
    await coord.stop()


def test_backoff_delay_never_exceeds_cap_even_for_huge_attempts():
    rng = random.Random(0)
    b = Backoff(initial_seconds=1, maximum_seconds=30)
    assert all(0 <= b.delay(n, rng) <= 30 for n in range(0, 500, 7))


async def test_state_machine_connect_drop_reconnect():
    clock = FakeClock()
    coord = ScriptedStream(clock, ["ok", "fail", "ok"])
    await coord.start()
    await clock.settle()
    assert coord.state.status is S.CONNECTED
    coord.hold.set()  # device closes the connection
    await clock.settle()
    assert coord.state.status is S.DISCONNECTED
    assert coord.state.last_error == "connection closed by the device"
    await clock.advance(2)  # first retry fails
    assert coord.state.status is S.ERROR
    assert coord.state.last_error == "connection refused"
    await clock.advance(5)  # second retry succeeds
    assert coord.state.status is S.CONNECTED
    assert coord.state.last_error is None
    assert coord.state.reconnects == 2
    assert coord.state.error_count == 2
    assert statuses(coord) == [S.CONNECTED, S.DISCONNECTED, S.CONNECTING, S.ERROR, S.CONNECTING,
                               S.CONNECTED]
    await coord.stop()
    assert coord.state.status is S.STOPPED
    assert coord.closed
    assert coord.tasks.running == []


async def test_since_follows_the_clock():
    clock = FakeClock()
    coord = ScriptedStream(clock, ["fail", "ok"])
    await coord.start()
    await clock.advance(3)
    assert coord.state.status is S.CONNECTED
    assert coord.state.since is not None
    assert (coord.state.since - clock.now()).total_seconds() <= 0
    assert (clock.now() - coord.state.since).total_seconds() < 3
    await coord.stop()


async def test_logs_once_on_failure_and_once_on_recovery(caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG)
    clock = FakeClock()
    coord = ScriptedStream(clock, ["fail", "fail", "fail", "ok"])
    await coord.start()
    for _ in range(4):
        await clock.advance(10)
    assert coord.state.status is S.CONNECTED
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    infos = [r for r in caplog.records if r.levelno == logging.INFO and "again" in r.message]
    assert len(warnings) == 1
    assert "cannot connect" in warnings[0].message
    assert len(infos) == 1
    assert "3 failed attempt(s)" in infos[0].message
    await coord.stop()


async def test_auth_failure_stops_retrying_until_credentials_change():
    clock = FakeClock()
    coord = ScriptedStream(clock, ["auth", "ok"])
    await coord.start()
    await clock.settle()
    assert coord.state.status is S.ERROR
    assert coord.state.last_error == AUTH_FAILED_MESSAGE
    assert coord.state.auth_blocked
    await clock.advance(3600)
    assert coord.sessions == 1  # an hour later: still not one more try
    coord.update_credentials()
    await clock.settle()
    assert coord.sessions == 2
    assert coord.state.status is S.CONNECTED
    assert not coord.state.auth_blocked
    await coord.stop()


async def test_device_mismatch_is_terminal():
    clock = FakeClock()
    coord = ScriptedStream(clock, ["mismatch"])
    await coord.start()
    await clock.advance(600)
    assert coord.sessions == 1
    assert coord.state.status is S.ERROR
    assert coord.state.last_error == "serial changed"
    await coord.stop()


async def test_refresh_cuts_the_backoff_wait_short():
    clock = FakeClock()
    coord = ScriptedStream(clock, ["fail", "ok"], backoff=Backoff(initial_seconds=20))
    await coord.start()
    await clock.settle()
    assert coord.state.status is S.ERROR
    coord.refresh()
    await clock.settle()
    assert coord.state.status is S.CONNECTED
    await coord.stop()


async def test_backoff_restarts_after_a_stable_connection():
    clock = FakeClock()
    coord = ScriptedStream(clock, ["fail", "fail", "ok", "fail"], stable_after=30)
    await coord.start()
    await clock.advance(1.5)
    await clock.advance(3)
    assert coord.state.status is S.CONNECTED
    await clock.advance(60)  # a long, healthy session
    clock.sleeps.clear()
    coord.hold.set()
    await clock.settle()
    await clock.advance(2)
    assert clock.sleeps[0] <= 1.2  # back to the first step, not the third


class Poller(ConnectionCoordinator):
    def __init__(self, clock: FakeClock, results: list[object], **kw: object) -> None:
        super().__init__("test:poll", Transport.POLL, clock=clock, rng=random.Random(2), **kw)  # type: ignore[arg-type]
        self.results = results
        self.polls = 0

    async def _poll(self) -> None:
        result = self.results[self.polls] if self.polls < len(self.results) else "ok"
        self.polls += 1
        if isinstance(result, BaseException):
            raise result


async def test_poll_only_coordinator_polls_on_its_interval_and_backs_off_on_failure():
    clock = FakeClock()
    coord = Poller(clock, ["ok", TimeoutError(), "ok"], poll_interval=10)
    await coord.start()
    await clock.settle()
    assert coord.state.status is S.CONNECTED
    await clock.advance(10)
    assert coord.state.status is S.DISCONNECTED  # it had been connected
    assert coord.state.last_error == "timed out"
    await clock.advance(1.3)  # retried after the first backoff step, not the full interval
    assert coord.polls == 3
    assert coord.state.status is S.CONNECTED
    await clock.advance(10)
    assert coord.polls == 4
    await coord.stop()


async def test_refresh_forces_an_immediate_poll():
    clock = FakeClock()
    coord = Poller(clock, [], poll_interval=60)
    await coord.start()
    await clock.settle()
    assert coord.polls == 1
    coord.refresh()
    await clock.settle()
    assert coord.polls == 2
    await coord.stop()


class StreamWithFallback(ScriptedStream):
    def __init__(self, clock: FakeClock, script: list[str], **kw: object) -> None:
        super().__init__(clock, script, **kw)
        self.polls = 0

    async def _poll(self) -> None:
        self.polls += 1


async def test_fallback_polling_runs_only_while_the_stream_is_down():
    clock = FakeClock()
    coord = StreamWithFallback(
        clock, ["ok"] + ["fail"] * 20, poll_interval=5, backoff=Backoff(initial_seconds=30)
    )
    await coord.start()
    await clock.advance(20)
    assert coord.polls == 0  # streaming: no polls needed
    coord.hold.set()
    await clock.advance(20)
    assert coord.polls >= 3  # stream down: data keeps coming by polling
    await coord.stop()


async def test_poll_while_streaming_refreshes_alongside_the_stream():
    clock = FakeClock()
    coord = StreamWithFallback(clock, ["ok"], poll_interval=5, poll_while_streaming=True)
    await coord.start()
    await clock.advance(16)
    assert coord.state.status is S.CONNECTED
    assert coord.polls == 3
    await coord.stop()


async def test_a_coordinator_with_no_transport_refuses_to_start():
    coord = ConnectionCoordinator("x", Transport.POLL, clock=FakeClock())
    with pytest.raises(TypeError):
        await coord.start()


async def test_last_message_at_is_the_wall_time_of_the_last_message():
    clock = FakeClock()
    coord = ScriptedStream(clock, [])
    assert coord.last_message_at is None
    await clock.advance(5)
    coord.mark_message()
    sent = clock.now()
    await clock.advance(3)
    assert coord.last_message_at == sent


async def test_heard_within_tells_whether_data_arrived_lately():
    clock = FakeClock()
    coord = ScriptedStream(clock, [])
    assert not coord.heard_within(60)  # nothing yet
    coord.mark_message()
    await clock.advance(5)
    assert coord.heard_within(5)
    assert not coord.heard_within(4.9)
