"""Deliver alert messages to webhook, Slack and Teams targets without ever blocking monitoring.

Each target has its own bounded queue and one worker task: a dead Slack never delays the
venue's webhook, and nothing here waits on the engine's behalf (:meth:`Notifier.submit`
only appends). The worker sends the oldest message first and keeps retrying it with
exponential backoff and jitter (1 s doubling to 60 s by default, each wait drawn from half
to all of that, so a restarted receiver is not hit by every instance at once) until it is
delivered, refused for good (a 4xx other than 408/429: the URL or body is wrong, retrying
cannot help) or older than :attr:`Timing.max_age`. Order is kept: a "cleared" never
overtakes its "raised".

A rate limit (``rate_per_minute``, a token bucket that lets :data:`BURST` through at once)
spaces messages out so a flapping channel does not get
the target's URL throttled. When messages arrive faster than they leave for long enough
to fill the queue (``max_queue``), the *oldest* waiting one is dropped and counted, with a
warning: the newest state of a show is what matters, and an unbounded queue would grow
without end while a target is down for hours.

URLs are secrets more often than not (a Slack or Teams webhook URL is its own credential):
they are registered with the log redactor, and error texts never contain them.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

import aiohttp

from micboard_desktop.core.integrations import NotificationTarget, TargetState
from micboard_desktop.core.records import Severity
from micboard_desktop.core.redact import redact, register_secret
from micboard_desktop.core.tasks import TaskOwner
from micboard_desktop.integrations.payloads import body_for

_log = logging.getLogger(__name__)

Json = dict[str, Any]
Post = Callable[[str, Json, float], Awaitable[None]]
"""Send one body to one URL within a timeout; raise :class:`DeliveryError` on failure."""

BURST: Final = 5
"""Messages a target may get at once before the rate limit spaces them out."""
RETRY_STATUSES: Final = frozenset({408, 425, 429})
"""4xx answers that mean "later", not "never"."""


class DeliveryError(Exception):
    """One attempt failed; ``permanent`` when retrying cannot help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True, slots=True)
class Timing:
    """Backoff and age limits (seconds); tests shorten them, the app uses the defaults."""

    first_retry: float = 1.0
    max_retry: float = 60.0
    max_age: float = 3600.0
    """A message still undelivered after this long is dropped (and counted as failed)."""


@dataclass(slots=True)
class Message:
    """One body waiting for one target."""

    body: Json
    queued_at: float
    attempts: int = 0


async def http_post(session: aiohttp.ClientSession, url: str, body: Json, seconds: float) -> None:
    """POST ``body`` as JSON within ``seconds``; raise DeliveryError (never naming the URL)."""
    try:
        async with session.post(
            url, json=body, timeout=aiohttp.ClientTimeout(total=seconds)
        ) as answer:
            if 200 <= answer.status < 300:
                return
            permanent = 400 <= answer.status < 500 and answer.status not in RETRY_STATUSES
            raise DeliveryError(f"HTTP {answer.status}", permanent=permanent)
    except TimeoutError:
        raise DeliveryError(f"no answer within {seconds:g} s") from None
    except aiohttp.ClientConnectorError as exc:
        raise DeliveryError(f"cannot connect ({exc.os_error.strerror or 'refused'})") from None
    except aiohttp.ClientError as exc:
        raise DeliveryError(type(exc).__name__) from None


def backoff(attempt: int, timing: Timing, rng: random.Random) -> float:
    """Return the wait before retry ``attempt`` (1-based): doubling, capped, with jitter."""
    ceiling = min(timing.max_retry, timing.first_retry * 2.0 ** min(attempt - 1, 30))
    return ceiling * rng.uniform(0.5, 1.0)


class TargetWorker:
    """One target's queue, worker task, rate limit and counters."""

    def __init__(
        self,
        target: NotificationTarget,
        url: str | None,
        post: Post,
        timing: Timing,
        rng: random.Random,
    ) -> None:
        self.target = target
        self.url = url
        self._post = post
        self._timing = timing
        self._rng = rng
        self.queue: asyncio.Queue[Message] = asyncio.Queue(maxsize=target.max_queue)
        self.state = TargetState(target.name, target.kind, has_url=url is not None)
        self._tokens = float(BURST)
        self._stamp = time.monotonic()
        self.current: Message | None = None
        """The message being delivered (handed over with the queue on a restart)."""

    def submit(self, body: Json) -> None:
        """Queue ``body``; drop the oldest waiting one if the queue is full (never waits)."""
        if self.url is None:
            return
        if self.queue.full():
            self.queue.get_nowait()
            self.queue.task_done()
            self.state = replace(self.state, dropped=self.state.dropped + 1)
            _log.warning(
                "notification %s: queue full (%d), the oldest message was dropped (%d so far)",
                self.target.name, self.target.max_queue, self.state.dropped,
            )
        self.queue.put_nowait(Message(body, time.monotonic()))
        self.state = replace(self.state, queued=self.queue.qsize())

    async def run(self) -> None:
        """Deliver messages one at a time, oldest first, for ever."""
        while True:
            message = self.current = await self.queue.get()
            try:
                await self._deliver(message)
            finally:
                self.current = None
                self.queue.task_done()
                self.state = replace(self.state, queued=self.queue.qsize())

    async def _deliver(self, message: Message) -> None:
        assert self.url is not None
        while True:
            await self._wait_for_slot()
            message.attempts += 1
            try:
                await self._post(self.url, message.body, self.target.timeout)
            except DeliveryError as exc:
                error = redact(str(exc))
                self.state = replace(
                    self.state,
                    failed_attempts=self.state.failed_attempts + 1,
                    last_error=error,
                )
                age = time.monotonic() - message.queued_at
                if exc.permanent or age > self._timing.max_age:
                    why = "refused" if exc.permanent else f"undelivered after {age:.0f} s"
                    self.state = replace(self.state, dropped=self.state.dropped + 1)
                    _log.error("notification %s: message %s (%s)", self.target.name, why, error)
                    return
                wait = backoff(message.attempts, self._timing, self._rng)
                _log.warning(
                    "notification %s: attempt %d failed (%s); retrying in %.1f s",
                    self.target.name, message.attempts, error, wait,
                )
                await asyncio.sleep(wait)
                continue
            self.state = replace(self.state, delivered=self.state.delivered + 1, last_error=None)
            return

    async def _wait_for_slot(self) -> None:
        """Take one token of the rate limit, waiting for it when the bucket is empty."""
        rate = self.target.rate_per_minute / 60.0
        now = time.monotonic()
        self._tokens = min(BURST, self._tokens + (now - self._stamp) * rate)
        self._stamp = now
        if self._tokens < 1.0:
            await asyncio.sleep((1.0 - self._tokens) / rate)
            self._tokens, self._stamp = 1.0, time.monotonic()
        self._tokens -= 1.0


class Notifier:
    """Every target's worker; :meth:`submit` hands an alert event to those that want it."""

    def __init__(
        self,
        targets: Sequence[NotificationTarget],
        urls: Mapping[str, str | None],
        *,
        post: Post | None = None,
        timing: Timing | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._post = post or self._http_post
        self._timing = timing or Timing()
        self._rng = rng or random.Random()
        self._tasks = TaskOwner("notify")
        self.workers: dict[str, TargetWorker] = {}
        for target in targets:
            url = urls.get(target.name)
            register_secret(url)
            self.workers[target.name] = TargetWorker(
                target, url, self._post, self._timing, self._rng
            )

    async def _http_post(self, url: str, body: Json, seconds: float) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        await http_post(self._session, url, body, seconds)

    def start(self) -> None:
        """Start one worker task per target that has a URL."""
        for worker in self.workers.values():
            if worker.url is not None:
                self._tasks.spawn(worker.run(), f"notify {worker.target.name}")
            else:
                _log.warning(
                    "notification %s: no URL in the file, the keyring or the environment; "
                    "nothing is sent", worker.target.name,
                )

    async def stop(self) -> None:
        """Stop the workers (undelivered messages are dropped) and close the HTTP session."""
        await self._tasks.cancel_all()
        if self._session is not None:
            await self._session.close()
            self._session = None

    def pending(self) -> dict[str, list[Message]]:
        """Return each target's undelivered messages, the one under way first (a restart)."""
        out: dict[str, list[Message]] = {}
        for name, worker in self.workers.items():
            waiting = [worker.current] if worker.current is not None else []
            while not worker.queue.empty():
                waiting.append(worker.queue.get_nowait())
                worker.queue.task_done()
            worker.current = None
            out[name] = waiting
        return out

    def adopt(self, pending: Mapping[str, Sequence[Message]]) -> None:
        """Queue messages a previous notifier left, for the targets that still exist.

        The one that was under way may arrive twice (its POST may have landed before the
        restart cut it): delivery is at least once, never at most once.
        """
        for name, messages in pending.items():
            worker = self.workers.get(name)
            if worker is None or worker.url is None:
                continue
            for message in messages:
                if worker.queue.full():
                    worker.queue.get_nowait()
                    worker.queue.task_done()
                    worker.state = replace(worker.state, dropped=worker.state.dropped + 1)
                worker.queue.put_nowait(message)

    def submit(self, event: str, severity: Severity, alert: Json) -> None:
        """Queue ``alert``'s ``event`` (raised/cleared) for every target that wants it."""
        for worker in self.workers.values():
            if worker.target.wants(event, severity):
                worker.submit(body_for(worker.target.kind, event, alert))

    def states(self) -> list[TargetState]:
        """Return how each target is doing."""
        return [w.state for w in self.workers.values()]

    async def drained(self) -> None:
        """Wait until every queue is empty and no delivery is under way (tests, shutdown)."""
        for worker in self.workers.values():
            if worker.url is not None:
                await worker.queue.join()

    async def send_test(self, target: NotificationTarget, url: str) -> str:
        """Send one test message to ``target`` now, outside its queue; say how it went."""
        register_secret(url)
        alert = {
            "id": "test:micboard",
            "kind": "test",
            "severity": "info",
            "channel_id": None,
            "channel_name": "Test channel",
            "receiver_name": "Micboard Desktop",
            "message": "Test message from Micboard Desktop",
            "raised_at": None,
            "cleared_at": None,
            "acknowledged": False,
        }
        try:
            await self._post(url, body_for(target.kind, "raised", alert), target.timeout)
        except DeliveryError as exc:
            return f"\u2716 Not delivered: {redact(str(exc))}"
        return f"\u2714 Delivered to {target.name}."
