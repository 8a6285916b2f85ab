"""One UHF-R receiver over UDP: ask, meter, watch liveness, come back by itself.

UDP has no connection to lose, so "connected" means "answering". A *session* is one
socket: it starts with a light probe (``GET 1 CHAN_NAME``, ``GET 1 TX_BAT``); the first
answer makes the connection ``connected`` and sends the full query of both channels plus
``METER ch ALL nnn`` for each, so metering is on again after every (re)start
(shure.md §3.2, §3.6). While the receiver is quiet (no meters flowing, e.g. with metering
off) it is polled every ``poll_period``; silence for ``missed_polls`` polls (at least
Micboard's 5 s, and three meter periods) ends the session with an error, and the base
class retries with capped backoff and jitter: a receiver that went away turns offline
after a few missed polls and comes back by itself, and an outage costs a few datagrams
per retry, never a storm. A lost ``METER`` (or a receiver that rebooted and forgot it) is
noticed by meters not arriving for a channel that answers, and re-sent at most once per
poll. A deliberate stop sends ``METER ch ALL STOP`` first.

Every datagram is read whole (capped, :data:`~.frames.MAX_DATAGRAM_BYTES`); the deadline
of every request is the session's silence limit. Meter samples go to the MeterBus; the
store gets slow values only when they change, and the coarse RF at most once a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable
from functools import partial
from typing import Final

from micboard_desktop.plugins.api import (
    Backoff,
    Clock,
    ConnectionCoordinator,
    ConnectionState,
    ConnectionStatus,
    DeviceSink,
    MeterBus,
    Receiver,
    Transport,
    UdpLink,
    channel_id,
    replace,
    resolve_datagram_peer,
)
from micboard_desktop.plugins.shure.udp.address import DEFAULT_PORT, device_key
from micboard_desktop.plugins.shure.udp.frames import (
    FrameStats,
    command,
    meter_off,
    meter_on,
    split_datagram,
)
from micboard_desktop.plugins.shure.udp.mapping import (
    MAX_CHANNELS,
    FastSample,
    Sample,
    fast_sample,
    parse_frame,
)
from micboard_desktop.plugins.shure.udp.state import UhfrReceiverState

POLL_SECONDS: Final = 2.0
"""How often a quiet receiver is asked something (its answer proves it is there)."""
MISSED_POLLS: Final = 3
"""Polls without any answer before the receiver counts as gone."""
MIN_SILENCE_SECONDS: Final = 5.0
"""Never call a receiver gone sooner than this (Micboard's watchdog, shure.md §5.2)."""
REQUERY_SECONDS: Final = 10.0
"""How often every slow value is asked again (Micboard's query interval, shure.md §5.2)."""
FOLD_SECONDS: Final = 1.0
"""How often the coarse RF is moved into the store (the engine's level-fold pace)."""
SETTLE_SECONDS: Final = 3.0
"""After the first answer, how long a silent channel 2 may take before we call it absent."""
METER_OFF_TIMEOUT: Final = 1.0
"""How long a stop waits for the socket (and its ``METER STOP``) to close."""
UDP_BACKOFF: Final = Backoff(initial_seconds=1.0, maximum_seconds=10.0)
"""Retries of a silent receiver: a probe costs two datagrams, so coming back is found
within about 15 s, at a fraction of a datagram per second while it stays away."""

QUERY_PARAMS: Final = (
    "CHAN_NAME",
    "FREQUENCY",
    "GROUP_CHAN",
    "TX_TYPE",
    "TX_BAT",
    "MUTE",
    "AUDIO_GAIN",
)
"""Every slow UHF-R parameter (shure.md §3.4, UHF-R column), asked on each channel."""
PROBE: Final = ((1, "CHAN_NAME"), (1, "TX_BAT"))
"""What a quiet or unknown receiver is asked: channel 1 exists on every UHF-R receiver."""

ReceiverListener = Callable[[Receiver], None]


def keep_meter_fields(new: Receiver, current: Receiver | None) -> Receiver:
    """Return ``new`` with the fields the engine's level folder owns taken from ``current``.

    The lit antennas and the audio levels come from the meter stream, folded into the store
    once a second by the engine; our slow snapshots do not carry them, and must not wipe
    them out each time a battery or the coarse RF changes.
    """
    if current is None:
        return new
    before = {ch.number: ch for ch in current.channels}
    channels = []
    kept = False
    for ch in new.channels:
        old = before.get(ch.number)
        if old is None or (old.rf.antenna == ch.rf.antenna and old.audio == ch.audio):
            channels.append(ch)
        else:
            kept = True
            channels.append(replace(ch, rf=replace(ch.rf, antenna=old.rf.antenna), audio=old.audio))
    return replace(new, channels=tuple(channels)) if kept else new  # nothing to keep: as is


class UhfrCoordinator(ConnectionCoordinator):
    """Keep one UHF-R receiver live over UDP (see module docstring)."""

    def __init__(
        self,
        host: str,
        port: int = DEFAULT_PORT,
        *,
        meters: MeterBus,
        sink: DeviceSink | None = None,
        on_receiver: ReceiverListener | None = None,
        bind: str | None = None,
        label: str | None = None,
        meter_rate_ms: int = 100,
        timeout: float = 5.0,
        poll_period: float = POLL_SECONDS,
        missed_polls: int = MISSED_POLLS,
        min_silence: float = MIN_SILENCE_SECONDS,
        requery_interval: float = REQUERY_SECONDS,
        clock: Clock | None = None,
        backoff: Backoff | None = None,
        on_state: Callable[[ConnectionState], None] | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        key = device_key(host, port)
        super().__init__(
            f"shure:{key}",
            Transport.UDP,
            clock=clock,
            backoff=backoff or UDP_BACKOFF,
            on_state=self._state_changed,
            logger=logger,
        )
        self.host = host
        self.port = port
        self.bind = bind
        self.meter_rate_ms = max(0, min(65535, meter_rate_ms))
        self.timeout = max(0.1, timeout)
        self.poll_period = max(0.05, poll_period)
        self.missed_polls = max(1, missed_polls)
        self.min_silence = min_silence
        self.requery_interval = requery_interval
        self._meters = meters
        self._sink = sink
        self._on_receiver = on_receiver
        self._user_on_state = on_state
        self.state_view = UhfrReceiverState(key, host=host, name=label)
        self._channel_ids = {
            n: channel_id(self.state_view.id, n) for n in range(1, MAX_CHANNELS + 1)
        }
        self.stats = FrameStats()
        self.ignored_frames = 0
        """Frames in the UHF-R shape that carried nothing we could use."""
        self.sent = 0
        """Datagrams sent to the receiver (tests check that rates stay bounded)."""
        self._link: UdpLink | None = None
        self._answered = False
        self._last_answer = 0.0
        self._metered: set[int] = set()
        """Channels we switched metering on for in this session (STOP goes to these)."""
        self._last_sample: dict[int, float] = {}
        self._next_meter: dict[int, float] = {}
        self._next_type_ask: dict[int, float] = {}
        self._unanswered_sessions = 0

    @property
    def silence_limit(self) -> float:
        """Return how long the receiver may stay silent before it counts as gone."""
        limit = max(self.min_silence, self.missed_polls * self.poll_period)
        if self.meter_rate_ms > 0:
            limit = max(limit, 3 * self.meter_rate_ms / 1000)
        return limit

    @property
    def meter_stale(self) -> float:
        """Return how long a channel may go without a SAMPLE before METER is sent again."""
        return max(3 * self.meter_rate_ms / 1000, self.poll_period)

    # -- ConnectionCoordinator hooks ---------------------------------------------------

    async def _stream(self) -> None:
        """Open a socket, probe, and watch the receiver until it falls silent or we stop."""
        loop = asyncio.get_running_loop()
        family, peer = await resolve_datagram_peer(
            self.host, self.port, self.bind, self.timeout, self._unanswered_sessions
        )
        local = (self.bind or ("::" if family == socket.AF_INET6 else "0.0.0.0"), 0)
        _transport, link = await loop.create_datagram_endpoint(
            lambda: UdpLink(peer, self._on_datagram), local_addr=local, family=family
        )
        self._link = link
        self._answered = False
        self._metered = set()
        self._last_sample = {}
        self._next_meter = {}
        try:
            await self._watch(link)
        except TimeoutError:
            if not self._answered:
                self._unanswered_sessions += 1  # try the name's next address next time
            await self._close_link(polite=True)
            raise
        except asyncio.CancelledError:
            raise  # a deliberate stop: _close turns metering off and closes the socket
        except BaseException:
            await self._close_link(polite=True)  # it may only be our side that went deaf
            raise

    async def _close(self) -> None:
        """Stop metering, then close the socket (deliberate stop)."""
        await self._close_link(polite=True)

    # -- the session -------------------------------------------------------------------

    async def _watch(self, link: UdpLink) -> None:
        """Probe, re-query, re-meter and fold until silence; raise TimeoutError then."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        next_probe = start
        next_requery = start + self.requery_interval
        next_fold = start + FOLD_SECONDS
        settle_at: float | None = None
        while True:
            if link.failure is not None:
                raise link.failure
            now = loop.time()
            if not self._answered:
                if now - start >= self.timeout:
                    raise TimeoutError(f"no answer within {self.timeout:.0f} s")
            else:
                silent_for = now - self._last_answer
                if silent_for >= self.silence_limit:
                    missed = int(silent_for // self.poll_period)
                    raise TimeoutError(
                        f"no answer for {silent_for:.1f} s ({missed} polls missed)"
                    )
                if settle_at is None:
                    settle_at = now + SETTLE_SECONDS
                    next_requery = now + self.requery_interval
            quiet = not self._answered or now - self._last_answer >= self.poll_period
            if quiet and now >= next_probe:
                self._send([command(ch, param) for ch, param in PROBE])
                next_probe = now + self.poll_period
            if self._answered:
                if now >= next_requery:
                    self._send(self._query(self._channels()))
                    next_requery = now + self.requery_interval
                self._refresh_meters(now)
                if settle_at is not None and now >= settle_at:
                    self.state_view.settle_model()
                    settle_at = float("inf")
            if now >= next_fold:
                self.state_view.fold_coarse()
                next_fold = now + FOLD_SECONDS
            self._deliver()
            probe_due = next_probe
            if self._answered:
                probe_due = max(next_probe, self._last_answer + self.poll_period)
            deadlines = [next_fold, probe_due]
            if self._answered:
                deadlines += [self._last_answer + self.silence_limit, next_requery]
                deadlines += [t for t in self._next_meter.values() if t > now]
            else:
                deadlines.append(start + self.timeout)
            await asyncio.sleep(max(0.01, min(deadlines) - loop.time()))

    def _channels(self) -> list[int]:
        """Return the channels to ask: every one a UHF-R receiver can have until one is settled."""
        known = self.state_view.channel_numbers
        if self.state_view.model is not None and known:
            return known
        return list(range(1, MAX_CHANNELS + 1))

    @staticmethod
    def _query(channels: list[int]) -> list[bytes]:
        return [command(ch, param) for ch in channels for param in QUERY_PARAMS]

    def _greet(self, now: float) -> None:
        """First answer of a session: ask everything and switch metering on."""
        channels = list(range(1, MAX_CHANNELS + 1))
        frames = self._query(channels)
        if self.meter_rate_ms > 0:
            frames += [meter_on(ch, self.meter_rate_ms) for ch in channels]
            self._metered = set(channels)
            for ch in channels:
                self._last_sample[ch] = now  # give the first SAMPLE time to arrive
                self._next_meter[ch] = now + self.meter_stale
        self._send(frames)

    def _refresh_meters(self, now: float) -> None:
        """Re-send METER for answering channels whose SAMPLEs stopped (lost, or forgotten)."""
        if self.meter_rate_ms <= 0:
            return
        for ch in self.state_view.channel_numbers:
            last = self._last_sample.get(ch, 0.0)
            if now - last >= self.meter_stale and now >= self._next_meter.get(ch, 0.0):
                self._send([meter_on(ch, self.meter_rate_ms)])
                self._metered.add(ch)
                self._next_meter[ch] = now + self.poll_period

    # -- datagrams ---------------------------------------------------------------------

    def _on_datagram(self, data: bytes) -> None:
        """Take one datagram from the receiver (called from the event loop's read callback)."""
        fast = fast_sample(data)
        if fast is None:
            self._on_frames(data)
            return
        # The metering hot path: one plain SAMPLE, read without the general framing.
        stats = self.stats
        stats.datagrams += 1
        stats.frames += 1
        now = asyncio.get_running_loop().time()
        self._take_sample(fast, now)
        self._answer(now)

    def _on_frames(self, data: bytes) -> None:
        """Take a datagram the general way: every frame in it, whatever its verb."""
        frames = split_datagram(data, self.stats)
        if not frames:
            return
        now = asyncio.get_running_loop().time()
        state = self.state_view
        for tokens in frames:
            update = parse_frame(tokens)
            if update is None:
                self.ignored_frames += 1
                continue
            if isinstance(update, Sample):
                self._take_sample(
                    (update.channel, update.meter, *update.coarse, update.battery), now
                )
            else:
                state.apply(update)
        self._answer(now)

    def _take_sample(self, sample: FastSample, now: float) -> None:
        """Post a SAMPLE's meter and keep its battery and coarse RF."""
        ch, meter, coarse_a, coarse_b, battery = sample
        self._meters.post(self._channel_ids[ch], meter)
        self._last_sample[ch] = now
        had = self.state_view.take_sample(ch, battery, coarse_a, coarse_b)
        if (had is None) != (battery is None):
            self._ask_type(ch, now)  # a pack switched on or off: learn its type now

    def _answer(self, now: float) -> None:
        """Any frame in the UHF-R shape is an answer: the receiver is there."""
        self._last_answer = now
        self.mark_message()
        if not self._answered:
            self._answered = True
            self.mark_connected()
            self._greet(now)
        self._deliver()

    def _ask_type(self, ch: int, now: float) -> None:
        """Ask one channel's ``TX_TYPE``, at most once per poll interval."""
        if now >= self._next_type_ask.get(ch, 0.0):
            self._next_type_ask[ch] = now + self.poll_period
            self._send([command(ch, "TX_TYPE")])

    def _deliver(self) -> None:
        """Hand the receiver on when something visible changed."""
        if not self.state_view.changed:
            return
        snapshot = self.state_view.snapshot(self._clock.now())
        if snapshot is None:
            return
        if self._sink is not None:
            self._sink.update_receiver(snapshot.id, partial(keep_meter_fields, snapshot))
        if self._on_receiver is not None:
            self._on_receiver(snapshot)

    def _state_changed(self, state: ConnectionState) -> None:
        """Mirror the connection state into the receiver (offline keeps the last values)."""
        online = state.status is ConnectionStatus.CONNECTED
        self.state_view.set_connection(
            state.info(), online=online, last_data=self.last_message_at
        )
        if self._sink is not None:
            self._sink.connection_state(state)
        if self._user_on_state is not None:
            self._user_on_state(state)
        self._deliver()

    def _send(self, datagrams: list[bytes]) -> None:
        """Send commands, one frame per datagram (a few dozen bytes each)."""
        link = self._link
        if link is not None:
            self.sent += link.send_each(datagrams)

    async def _close_link(self, *, polite: bool) -> None:
        """Close the socket; ``polite`` first sends ``METER ch ALL STOP`` per metered channel."""
        link, self._link = self._link, None
        if link is None or link.transport is None:
            return
        if polite and self._metered:
            self.sent += link.send_each(meter_off(ch) for ch in sorted(self._metered))
        self._metered = set()
        link.transport.close()  # a datagram transport sends what is buffered first
        with contextlib.suppress(Exception):
            async with asyncio.timeout(METER_OFF_TIMEOUT):
                await asyncio.shield(link.closed)
        if not link.closed.done():
            link.transport.abort()
