"""One SSCv1 device over UDP: identify, subscribe, renew, meter, watch silence, come back.

UDP has no connection to lose, so "connected" means "answering" (sennheiser.md §3.1). A
*session* is one socket. It asks ``/device/identity`` (resent each poll period until an
answer, a few datagrams per outage, never a storm); the first answer naming a known
product makes the connection ``connected`` and sends three subscriptions (§3.4): the
receiver's slow values, the transmitters' (apart, because an absent transmitter answers
424, §3.3), and the meters at the configured rate (``min = max = meter_rate_ms``, the
meters being subscribe-only on EW-DX). Each is renewed every third of its lifetime, so
one lost renewal still leaves time; a 310 (expired) renews at once, at most once a
second. The slow values are also asked again every :data:`REQUERY_SECONDS`, because a
lost notification would otherwise stay lost until the value next changed.

Liveness: silence is the only fault signal. With meters subscribed the meter stream is
the heartbeat: when it stops for :attr:`~Ssc1Coordinator.meter_stale` the meters are
subscribed again, and when it stays away for :attr:`~Ssc1Coordinator.silence_limit`
(under 3 s) the session ends with an error; the base class retries with capped backoff
and jitter, so the device comes back by itself. A device without known meters
(SpeechLine, and the chargers) is pinged each poll period and judged by any answer.

A charger (CHG 70N, L 6000: :mod:`.chargers`) gets one subscription, its bays on change,
and is delivered with ``sink.put_charger``; it never becomes a receiver.

Every datagram is read whole and capped (:mod:`.frames`); replies carrying an ``osc.xid``
we did not send are dropped; duplicates change nothing (values are states, not events).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
import socket
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Final

from micboard_desktop.plugins.api import (
    Backoff,
    Channel,
    ChannelId,
    Clock,
    ConnectionCoordinator,
    ConnectionState,
    ConnectionStatus,
    DeviceSink,
    MeterBus,
    Receiver,
    ReceiverId,
    Transport,
    UdpLink,
    UpdateFailed,
    channel_id,
    replace,
    resolve_datagram_peer,
    sentinels,
)
from micboard_desktop.plugins.sennheiser.ssc1 import chargers, frames, mapping
from micboard_desktop.plugins.sennheiser.ssc1.address import DEFAULT_PORT, device_key
from micboard_desktop.plugins.sennheiser.ssc1.state import MANUFACTURER, Ssc1State
from micboard_desktop.plugins.sennheiser.udp_drain import DrainingLink, open_draining_link

LIFETIME_SECONDS: Final = 20
"""Subscription lifetime asked for (the D6000 client used on hardware asks 20 s, §3.4)."""
RENEW_SHARE: Final = 1 / 3
"""Renew after this share of the lifetime: one lost renewal still lands before the end."""
RESUBSCRIBE_GAP: Final = 1.0
"""Least seconds between two renewals of one subscription forced by 310 or silence."""
POLL_SECONDS: Final = 1.0
"""How often a quiet device is asked its identity (the answer proves it is there)."""
MAX_SILENCE_SECONDS: Final = 2.5
"""Longest silence before a metered device counts as gone (the brief's limit is 3 s)."""
REQUERY_SECONDS: Final = 10.0
"""How often every slow value is asked again (a lost notification is not resent)."""
FOLD_SECONDS: Final = 1.0
"""How often link quality from the meters is moved into the store."""
TICK_SECONDS: Final = 0.1
"""Longest sleep of the session loop (deadlines are checked at least this often)."""
CANCEL_TIMEOUT: Final = 1.0
"""How long a stop waits for the socket to send its cancellations and close."""
UDP_BACKOFF: Final = Backoff(initial_seconds=1.0, maximum_seconds=10.0)
"""Retries of a silent device: one identity request each, found again within ~10 s."""
RECENT_XIDS: Final = 512
"""Transaction ids remembered; a reply to an older one is dropped as foreign."""

ReceiverListener = Callable[[Receiver], None]

SLOW, TX, METERS = "slow", "tx", "meters"


def keep_meter_fields(new: Receiver, current: Receiver | None) -> Receiver:
    """Return ``new`` with antenna, RSSI and audio kept from ``current`` (the level folder's)."""
    if current is None:
        return new
    before = {ch.number: ch for ch in current.channels}
    channels: list[Channel] = []
    kept = False
    for ch in new.channels:
        old = before.get(ch.number)
        if old is None or (
            old.rf.rssi_dbm == ch.rf.rssi_dbm
            and old.rf.antenna == ch.rf.antenna
            and old.audio == ch.audio
        ):
            channels.append(ch)  # nothing of the folder's to keep: no copies to make
            continue
        kept = True
        rf = replace(ch.rf, rssi_dbm=old.rf.rssi_dbm, antenna=old.rf.antenna)
        channels.append(replace(ch, rf=rf, audio=old.audio))
    return replace(new, channels=tuple(channels)) if kept else new


@dataclass(slots=True)
class Subscription:
    """One subscription request and when it was last sent."""

    name: str
    tree: dict[str, Any]
    period_ms: int
    sent_at: float = float("-inf")
    forced_at: float = float("-inf")


class Ssc1Coordinator(ConnectionCoordinator):
    """Keep one SSCv1 device live over UDP (see module docstring)."""

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
        lifetime: int = LIFETIME_SECONDS,
        poll_period: float = POLL_SECONDS,
        max_silence: float = MAX_SILENCE_SECONDS,
        requery_interval: float = REQUERY_SECONDS,
        tick: float = TICK_SECONDS,
        clock: Clock | None = None,
        backoff: Backoff | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        key = device_key(host, port)
        super().__init__(
            f"{MANUFACTURER}:{key}",
            Transport.UDP,
            clock=clock,
            backoff=backoff or UDP_BACKOFF,
            on_state=self._state_changed,
            logger=logger,
        )
        self.host = host
        self.port = port
        self.bind = bind
        self.meter_rate_ms = max(0, min(60_000, meter_rate_ms))
        self.timeout = max(0.1, timeout)
        self.lifetime = max(2, lifetime)
        self.poll_period = max(0.05, poll_period)
        self.max_silence = max(0.2, max_silence)
        self.requery_interval = requery_interval
        self.tick = max(0.005, tick)
        self._meters = meters
        self._sink = sink
        self._on_receiver = on_receiver
        self.state_view = Ssc1State(key, host=host, label=label)
        self.stats = frames.FrameStats()
        self.sent = 0
        """Datagrams sent (tests check that request rates stay bounded)."""
        self.renewals = 0
        self.expired = 0
        """310 answers seen."""
        self.foreign_xids = 0
        self.device_errors = 0
        """Error codes other than 310, 404 and 424 (counted, not fatal)."""
        self._xids = itertools.count(random.randrange(1, 1 << 30))
        self._recent: deque[int] = deque(maxlen=RECENT_XIDS)
        self._recent_set: set[int] = set()
        self._link: UdpLink | None = None
        self._subs: dict[str, Subscription] = {}
        self._answered = False
        self._metered = False
        self._last_rx = 0.0
        self._last_meter = 0.0
        self._antenna: dict[int, str | None] = {}
        self._target: ReceiverId = self.state_view.rid
        self._channel_ids: dict[int, ChannelId] = {}
        self._retarget(self._target)

    # -- merging -----------------------------------------------------------------------

    @property
    def receiver_id(self) -> ReceiverId:
        """Return this device's own receiver id."""
        return self.state_view.rid

    def set_meter_target(self, rid: ReceiverId | None) -> None:
        """Post meters under ``rid``'s channels (an SSCv2 view of the same device), or our own."""
        self._retarget(rid or self.state_view.rid)

    def _retarget(self, rid: ReceiverId) -> None:
        self._target = rid
        self._channel_ids = {n: channel_id(rid, n) for n in range(1, mapping.MAX_CHANNELS + 1)}

    # -- limits ------------------------------------------------------------------------

    @property
    def meter_period(self) -> float:
        """Return the meter notification period in seconds (0: meters not subscribed)."""
        return self.meter_rate_ms / 1000

    @property
    def silence_limit(self) -> float:
        """Return how long the device (or its meters) may stay silent before it counts as gone."""
        if self._metered:
            return min(self.max_silence, max(1.0, 10 * self.meter_period))
        return max(self.max_silence, 2.5 * self.poll_period)

    @property
    def meter_stale(self) -> float:
        """Return how long meters may stop before they are subscribed again."""
        return min(self.silence_limit / 2, max(0.5, 5 * self.meter_period))

    # -- ConnectionCoordinator hooks ---------------------------------------------------

    async def _stream(self) -> None:
        """Open a socket, identify, subscribe, and watch until silence or stop."""
        family, peer = await resolve_datagram_peer(self.host, self.port, self.bind, self.timeout)
        local = (self.bind or ("::" if family == socket.AF_INET6 else "0.0.0.0"), 0)
        # Read whole per wake-up: meters every 100 ms must not queue behind a busy loop (#22).
        link = await open_draining_link(peer, self._on_datagram, local, family)
        self._link = link
        self._answered = False
        self._metered = False
        self._subs = {}
        try:
            await self._watch(link)
        except asyncio.CancelledError:
            raise  # a deliberate stop: _close cancels the subscriptions and closes
        except BaseException:
            await self._close_link(polite=False)
            raise

    async def _close(self) -> None:
        """Cancel the subscriptions, then close the socket (deliberate stop)."""
        await self._close_link(polite=True)

    # -- the session -------------------------------------------------------------------

    async def _watch(self, link: DrainingLink) -> None:
        """Identify, renew, requery and fold until silence; raise TimeoutError then."""
        clock = self._clock
        start = clock.monotonic()
        next_ping = start
        next_requery = start + self.requery_interval
        next_fold = start + FOLD_SECONDS
        while True:
            if link.failure is not None:
                raise link.failure
            now = clock.monotonic()
            if now >= self._judged_at(start):
                # Read what already arrived before judging silence: datagrams that waited in
                # the kernel because the loop was busy are not silence (#22).
                link.drain()
                now = clock.monotonic()
            if not self._answered:
                if self.state_view.product is not None and self.state_view.family is None:
                    raise UpdateFailed(f"not an SSCv1 product we know: {self.state_view.product}")
                if now - start >= self.timeout:
                    raise TimeoutError(f"no answer within {self.timeout:.0f} s")
                if now >= next_ping:
                    self._request(mapping.IDENTITY_TREE)
                    next_ping = now + self.poll_period
            else:
                heard = self._last_meter if self._metered else self._last_rx
                silent_for = now - heard
                if silent_for >= self.silence_limit:
                    what = "meters" if self._metered else "answers"
                    raise TimeoutError(f"no {what} for {silent_for:.1f} s")
                self._renew(now)
                if self._metered and now - self._last_meter >= self.meter_stale:
                    self._force(METERS, now)
                if now - self._last_rx >= self.poll_period and now >= next_ping:
                    self._request(mapping.IDENTITY_TREE)
                    next_ping = now + self.poll_period
                if now >= next_requery:
                    self._requery()
                    next_requery = now + self.requery_interval
            if now >= next_fold:
                self.state_view.fold_quality()
                next_fold = now + FOLD_SECONDS
            self._deliver()
            await clock.sleep(self.tick)

    def _judged_at(self, start: float) -> float:
        """Return when the next silence judgement (meters stale, device gone) falls due."""
        if not self._answered:
            return start + self.timeout
        if self._metered:
            return self._last_meter + min(self.meter_stale, self.silence_limit)
        return self._last_rx + self.silence_limit

    def _greet(self, now: float) -> None:
        """First answer of a session: subscribe to everything and ask the slow values once."""
        view = self.state_view
        assert view.family is not None
        if view.is_charger:
            # A charger: its bays on change, no transmitters, no meters (liveness by answers).
            tree = chargers.charger_tree(view.family, flat_accu=view.flat_accu)
            self._subs = {SLOW: Subscription(SLOW, tree, 0)}
            self._requery()
            self._renew(now)
            return
        count = view.channel_count
        self._subs = {SLOW: Subscription(SLOW, mapping.slow_tree(view.family, count), 0)}
        tx = mapping.tx_tree(view.family, count)
        if tx is not None:
            self._subs[TX] = Subscription(TX, tx, 0)
        meters = mapping.meter_tree(view.family, count)
        if meters is not None and self.meter_rate_ms > 0:
            self._subs[METERS] = Subscription(METERS, meters, self.meter_rate_ms)
            self._metered = True
            self._last_meter = now  # the first notification needs a moment to come
        self._requery()
        self._renew(now)

    def _requery(self) -> None:
        """GET the slow and transmitter trees (answers arrive like notifications)."""
        for name in (SLOW, TX):
            sub = self._subs.get(name)
            if sub is not None:
                self._request(sub.tree)

    def _renew(self, now: float) -> None:
        """Send every subscription whose renewal is due."""
        every = self.lifetime * RENEW_SHARE
        for sub in self._subs.values():
            if now - sub.sent_at >= every:
                self._subscribe(sub, now)

    def _force(self, name: str, now: float) -> None:
        """Renew one subscription now (310, or meters gone quiet), at most once a second."""
        sub = self._subs.get(name)
        if sub is not None and now - sub.forced_at >= RESUBSCRIBE_GAP:
            sub.forced_at = now
            self._subscribe(sub, now)

    def _subscribe(self, sub: Subscription, now: float) -> None:
        period = sub.period_ms
        count = 1000 if period <= 0 else max(1000, 4 * self.lifetime * 1000 // period)
        self._request(
            frames.subscribe(sub.tree, lifetime=self.lifetime, period_ms=period, count=count)
        )
        sub.sent_at = now
        self.renewals += 1

    def _request(self, tree: Mapping[str, Any]) -> None:
        """Send one message with a fresh ``osc.xid``."""
        link = self._link
        if link is None:
            return
        xid = next(self._xids) & 0x7FFFFFFF
        if len(self._recent) == self._recent.maxlen:
            self._recent_set.discard(self._recent[0])
        self._recent.append(xid)
        self._recent_set.add(xid)
        if link.send(frames.encode(tree, xid)):
            self.sent += 1

    # -- datagrams ---------------------------------------------------------------------

    def _on_datagram(self, data: bytes) -> None:
        """Take one datagram from the device (called from the event loop's read callback)."""
        message = frames.decode(data, self.stats)
        if message is None:
            return
        if len(message) == 1 and "mm" in message:
            # A D6000 meter notification, nothing else (ten a second): no xid, no errors, no
            # bundled values and no other leaves to look for.
            now = self._clock.monotonic()
            self._last_rx = now
            self.mark_message()
            self._d6000_meters(message["mm"], now)
            self._answered_check(now)
            return
        self._on_message(message)

    def _on_message(self, message: dict[str, Any]) -> None:
        """Take one decoded message the general way (replies, errors, any notification)."""
        xid = frames.xid_of(message)
        if xid is not None and xid not in self._recent_set:
            self.foreign_xids += 1  # an answer to another client (or to a past session)
            return
        now = self._clock.monotonic()
        self._last_rx = now
        self.mark_message()
        self._take(message, now)
        for entry in frames.subscribed_values(message):
            self._take(entry, now)
        for path, code in frames.errors(message):
            self._error(path, code, now)
        self._answered_check(now)

    def _answered_check(self, now: float) -> None:
        """Greet on the first answer naming a known product, then deliver what changed."""
        if not self._answered and self.state_view.family is not None:
            self._answered = True
            self.mark_connected()
            self._greet(now)
        self._deliver()

    def _take(self, tree: Mapping[str, Any], now: float) -> None:
        """Apply the values of one reply or notification tree."""
        view = self.state_view
        meters = tree.get("m")
        if isinstance(meters, dict):
            self._ewdx_meters(meters, now)
        if "mm" in tree:
            self._d6000_meters(tree["mm"], now)
        for path, value in frames.leaves(tree):
            if path[0] not in ("m", "mm"):
                view.apply(path, value)

    def _ewdx_meters(self, tree: Mapping[str, Any], now: float) -> None:
        """Post ``/m/rxn`` values (a notification may carry any subset of them)."""
        view = self.state_view
        for key, fields in list(tree.items())[: mapping.MAX_CHANNELS]:
            if not isinstance(fields, dict) or not key.startswith("rx"):
                continue
            n = sentinels.parse_int(key[2:])
            cid = self._channel_ids.get(n) if n is not None else None
            if cid is None or n is None:
                continue
            if "divi" in fields:
                self._antenna[n] = mapping.ewdx_antenna(fields["divi"])
            reading = mapping.ewdx_meter(n, fields, self._antenna.get(n))
            self._meters.post(cid, reading.sample)
            if "rsqi" in fields:
                view.note_quality(n, reading.quality)
            self._last_meter = now

    def _d6000_meters(self, raw: Any, now: float) -> None:
        """Post the ``/mm`` rows (§3.6 encodings)."""
        view = self.state_view
        for channel, sample, quality in mapping.d6000_rows(raw):
            cid = self._channel_ids.get(channel)
            if cid is None:
                continue
            self._meters.post(cid, sample)
            view.note_quality(channel, quality)
            self._last_meter = now

    def _error(self, path: frames.Path, code: int, now: float) -> None:
        """Act on one error code (§3.3): 310 renews, 424/404 are values, others are counted."""
        if code == frames.SUBSCRIPTION_ENDED:
            self.expired += 1
            top = path[0] if path else None
            if top in ("m", "mm"):
                self._force(METERS, now)
            elif top == "mates":
                self._force(TX, now)
            elif top is None:
                for name in list(self._subs):
                    self._force(name, now)
            else:
                self._force(SLOW, now)
            return
        if code in frames.NOT_FOUND and path and path[0] in ("m", "mm") and self._metered:
            # No meters on this device after all: judge liveness by any answer instead.
            self._metered = False
            self._subs.pop(METERS, None)
            return
        if code != frames.NO_TRANSMITTER and code not in frames.NOT_FOUND:
            self.device_errors += 1
        view = self.state_view
        flat_before = view.flat_accu
        view.apply_error(path, code)
        slow = self._subs.get(SLOW)
        if view.flat_accu and not flat_before and slow is not None and view.family is not None:
            # The L 6000 has no per-subslot accu_parameter: ask the reference's flat form.
            slow.tree = chargers.charger_tree(view.family, flat_accu=True)
            self._force(SLOW, now)
            self._request(slow.tree)

    # -- output ------------------------------------------------------------------------

    def _deliver(self) -> None:
        """Hand the receiver (or the charger) on when something visible changed."""
        if not self.state_view.changed:
            return  # both snapshots would say so: no clock read per meter datagram
        if self.state_view.is_charger:
            charger = self.state_view.charger_snapshot(self._clock.now())
            if charger is not None and self._sink is not None:
                self._sink.put_charger(charger)
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
        self.state_view.set_connection(state.info(), online=online, last_data=self.last_message_at)
        if self._sink is not None:
            self._sink.connection_state(state)
        self._deliver()

    async def _close_link(self, *, polite: bool) -> None:
        """Close the socket; ``polite`` first cancels every subscription (``"cancel": true``)."""
        if polite and self._link is not None:
            for sub in self._subs.values():
                request = frames.subscribe(sub.tree, lifetime=0, period_ms=sub.period_ms, count=0)
                request["osc"]["state"]["subscribe"][0]["#"] = {"cancel": True}
                self._request(request)
        self._subs = {}
        link, self._link = self._link, None
        if link is None or link.transport is None:
            return
        link.transport.close()  # a datagram transport sends what is buffered first
        with contextlib.suppress(Exception):
            async with asyncio.timeout(CANCEL_TIMEOUT):
                await asyncio.shield(link.closed)
        if not link.closed.done():
            link.transport.abort()
