"""ConnectionCoordinator: one per connection; owns polling, streaming, backoff and state.

A subclass says *how* to talk to a device by overriding :meth:`_stream` (a long-lived
push connection: WebSocket, SSE, TCP) and/or :meth:`_poll` (one request/response round).
This base class decides *when*: it runs the stream and reconnects it with capped
exponential backoff and jitter, polls on an interval (as the only source, as a fallback
while the stream is down, or alongside it), keeps the connection state machine
(``connecting`` → ``connected`` → ``disconnected``/``error`` → ... → ``stopped``), logs once
when a connection fails and once when it recovers, and refuses to hammer a device that
rejected our credentials until they change.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from micboard_desktop.core.clock import Clock, SystemClock
from micboard_desktop.core.errors import AuthFailed, DeviceMismatch, describe_error
from micboard_desktop.core.fast_init import fast_init
from micboard_desktop.core.model import ConnectionInfo, ConnectionStatus, Transport
from micboard_desktop.core.tasks import TaskOwner
from micboard_desktop.core.text_clean import MAX_MESSAGE_CHARS, clean_optional

AUTH_FAILED_MESSAGE = "authentication failed"


@fast_init
@dataclass(frozen=True, slots=True)
class Backoff:
    """Capped exponential backoff with proportional jitter."""

    initial_seconds: float = 1.0
    maximum_seconds: float = 30.0
    factor: float = 2.0
    jitter: float = 0.2
    """Each delay is scaled by a random factor in ``1 ± jitter``, then capped."""

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Return the wait before retry number ``attempt`` (0-based); never above the cap."""
        base = self.initial_seconds * self.factor ** min(attempt, 64)
        jittered = base * (1.0 + rng.uniform(-self.jitter, self.jitter))
        return max(0.0, min(self.maximum_seconds, jittered))


@fast_init
@dataclass(frozen=True, slots=True)
class ConnectionState:
    """Everything known about one connection, as the engine records it."""

    connection_id: str
    transport: Transport
    status: ConnectionStatus = ConnectionStatus.CONNECTING
    since: datetime | None = None
    reconnects: int = 0
    error_count: int = 0
    last_error: str | None = None
    last_message_at: datetime | None = None
    auth_blocked: bool = False
    note: str | None = None
    """Why this connection looks the way it does when that is not an error (shown in words)."""

    def info(self) -> ConnectionInfo:
        """Return the public part that appears in the model and the LAN API."""
        return ConnectionInfo(
            transport=self.transport,
            status=self.status,
            since=self.since,
            reconnects=self.reconnects,
            last_error=self.last_error,
        )


def clean_state(state: ConnectionState) -> ConnectionState:
    """Return ``state`` with its error text and note cleaned (the same object if they were fine).

    Both can quote a device; see core/text_clean.py.
    """
    error = clean_optional(state.last_error, MAX_MESSAGE_CHARS)
    note = clean_optional(state.note, MAX_MESSAGE_CHARS)
    if error is state.last_error and note is state.note:
        return state
    return replace(state, last_error=error, note=note)


StateListener = Callable[[ConnectionState], None]


@fast_init
@dataclass(frozen=True, slots=True)
class _Outcome:
    """How one stream session or poll ended."""

    error: BaseException | None = None
    blocked: bool = False
    """Credentials were refused; wait for new ones."""
    terminal: bool = False
    """The wrong device answers; never retry."""


class ConnectionCoordinator:
    """Base class for every connection to a device or server (see module docstring)."""

    def __init__(
        self,
        connection_id: str,
        transport: Transport,
        *,
        clock: Clock | None = None,
        backoff: Backoff | None = None,
        poll_interval: float | None = None,
        poll_while_streaming: bool = False,
        stable_after: float = 30.0,
        rng: random.Random | None = None,
        on_state: StateListener | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        self.connection_id = connection_id
        self._clock: Clock = clock or SystemClock()
        self._backoff = backoff or Backoff()
        self.poll_interval = poll_interval
        self.poll_while_streaming = poll_while_streaming
        self._stable_after = stable_after
        self._rng = rng or random.Random()
        self._on_state = on_state
        self._log = logger or logging.getLogger(f"micboard_desktop.connection.{connection_id}")
        self._tasks = TaskOwner(f"coordinator:{connection_id}")
        self._state = ConnectionState(connection_id, transport, since=self._clock.now())
        self._connected_at: float | None = None
        self._failing_since: float | None = None
        self._failed_attempts = 0
        self._wake = asyncio.Event()
        self._refresh = asyncio.Event()
        self._credentials_changed = asyncio.Event()
        self._started = False
        self._last_message_mono: float | None = None

    # -- subclass hooks ----------------------------------------------------------------

    async def _stream(self) -> None:
        """Hold the push connection open; call :meth:`mark_connected` once it is up.

        Return when the device closes the connection; raise on errors. Subclasses that
        only poll leave this alone.
        """
        raise NotImplementedError

    async def _poll(self) -> None:
        """Fetch once and hand the result on; raise on failure."""
        raise NotImplementedError

    async def _close(self) -> None:
        """Release sockets and clients when the coordinator stops."""

    # -- public API --------------------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        """Return the current state."""
        return self._state

    @property
    def has_stream(self) -> bool:
        """Return True when the subclass implements a push connection."""
        return type(self)._stream is not ConnectionCoordinator._stream

    @property
    def has_poll(self) -> bool:
        """Return True when the subclass implements polling."""
        return type(self)._poll is not ConnectionCoordinator._poll

    @property
    def tasks(self) -> TaskOwner:
        """Return the owner of this coordinator's tasks (subclasses spawn helpers here)."""
        return self._tasks

    async def start(self) -> None:
        """Start the connection's tasks; returns at once."""
        if self._started:
            return
        self._started = True
        if self.has_stream:
            self._tasks.spawn(self._stream_loop(), "stream")
            if self.has_poll and self.poll_interval:
                self._tasks.spawn(self._side_poll_loop(), "poll")
        elif self.has_poll:
            self._tasks.spawn(self._poll_loop(), "poll")
        else:
            raise TypeError(f"{type(self).__name__} implements neither _stream nor _poll")

    async def stop(self) -> None:
        """Cancel every task, close the connection and enter ``stopped``."""
        await self._tasks.cancel_all()
        try:
            await self._close()
        finally:
            self._set(status=ConnectionStatus.STOPPED, since=self._clock.now())
            self._started = False

    def refresh(self) -> None:
        """Poll (or reconnect) now instead of waiting for the next interval."""
        self._refresh.set()
        self._wake.set()

    def update_credentials(self) -> None:
        """Tell the coordinator its credentials changed, lifting an authentication block."""
        self._credentials_changed.set()
        self._wake.set()

    def set_note(self, note: str | None) -> None:
        """Explain this connection's situation in words (``None`` clears the note)."""
        self._set(note=note)

    def mark_connected(self) -> None:
        """Record that the push connection (or a poll) succeeded."""
        now = self._clock.monotonic()
        self._connected_at = now
        self.mark_message()
        if self._state.status is ConnectionStatus.CONNECTED:
            return
        if self._failing_since is not None:
            down_for = now - self._failing_since
            self._log.info(
                "%s: connected again after %d failed attempt(s), %.1f s down",
                self.connection_id,
                self._failed_attempts,
                down_for,
            )
        self._failing_since = None
        self._set(status=ConnectionStatus.CONNECTED, since=self._clock.now(), last_error=None)

    def mark_message(self) -> None:
        """Record that data arrived; cheap enough to call per message."""
        # Held outside the frozen state so a busy stream does not emit a state change per
        # message; the engine reads it from ``last_message_at`` when it records state. A
        # monotonic float, not a datetime: this runs thousands of times a second.
        self._last_message_mono = self._clock.monotonic()

    def heard_within(self, seconds: float) -> bool:
        """Return True when data arrived in the last ``seconds`` (by the monotonic clock)."""
        mono = self._last_message_mono
        return mono is not None and self._clock.monotonic() - mono <= seconds

    @property
    def last_message_at(self) -> datetime | None:
        """Return when data last arrived (wall clock)."""
        mono = self._last_message_mono
        if mono is None:
            return None
        return self._clock.now() - timedelta(seconds=self._clock.monotonic() - mono)

    # -- loops -------------------------------------------------------------------------

    async def _attempt(self, action: Callable[[], Awaitable[None]]) -> _Outcome:
        """Run one stream session or poll, turning its exception into an outcome."""
        try:
            await action()
        except asyncio.CancelledError:
            raise
        except AuthFailed as exc:
            self._auth_failed(exc)
            return _Outcome(blocked=True)
        except DeviceMismatch as exc:
            self._fail(exc, terminal=True)
            return _Outcome(terminal=True)
        except Exception as exc:  # noqa: BLE001 - any failure is a reason to retry, never to die
            return _Outcome(error=exc)
        return _Outcome()

    async def _stream_loop(self) -> None:
        while True:
            await self._wait_while_auth_blocked()
            self._set_connecting()
            outcome = await self._attempt(self._stream)
            if outcome.blocked:
                continue
            if outcome.terminal:
                return
            self._fail(outcome.error or ConnectionError("connection closed by the device"))
            await self._wait(self._next_delay(), self._wake)

    async def _side_poll_loop(self) -> None:
        assert self.poll_interval is not None
        while True:
            await self._wait(self.poll_interval, self._refresh)
            streaming = self._state.status is ConnectionStatus.CONNECTED
            if streaming and not self.poll_while_streaming:
                continue
            if self._state.auth_blocked:
                continue
            try:
                await self._poll()
            except asyncio.CancelledError:
                raise
            except AuthFailed as exc:
                self._auth_failed(exc)
            except Exception as exc:  # noqa: BLE001 - fallback polling failing is expected while a device is down
                self._log.debug("%s: poll failed: %s", self.connection_id, exc)
            else:
                self.mark_message()

    async def _poll_loop(self) -> None:
        while True:
            await self._wait_while_auth_blocked()
            if self._state.status is not ConnectionStatus.CONNECTED:
                self._set_connecting()
            outcome = await self._attempt(self._poll)
            if outcome.blocked:
                continue
            if outcome.terminal:
                return
            if outcome.error is not None:
                self._fail(outcome.error)
                delay = self._next_delay()
            else:
                self.mark_connected()
                self._failed_attempts = 0
                delay = self.poll_interval or self._backoff.maximum_seconds
            await self._wait(delay, self._wake)
            self._refresh.clear()  # a refresh request is served by the poll we are about to do

    # -- state machine -----------------------------------------------------------------

    def _set(self, **changes: object) -> None:
        # Error texts often quote the device (a reason phrase, a name): cleaned here, so no
        # caller can forget (the engine's sink applies the same rule to every state).
        new = clean_state(replace(self._state, **changes))  # type: ignore[arg-type]
        if new == self._state:
            return
        self._state = new
        if self._on_state is not None:
            try:
                self._on_state(new)
            except Exception:  # noqa: BLE001 - a listener bug must not break the connection
                self._log.exception("%s: state listener failed", self.connection_id)

    def _set_connecting(self) -> None:
        if self._state.status is ConnectionStatus.CONNECTING:
            return
        reconnects = self._state.reconnects
        if self._state.status is not ConnectionStatus.STOPPED and self._failing_since is not None:
            reconnects += 1
        self._set(
            status=ConnectionStatus.CONNECTING, since=self._clock.now(), reconnects=reconnects
        )

    def _fail(self, exc: BaseException, *, terminal: bool = False) -> None:
        now = self._clock.monotonic()
        was_connected = self._state.status is ConnectionStatus.CONNECTED
        if (
            was_connected
            and self._connected_at is not None
            and now - self._connected_at >= self._stable_after
        ):
            self._failed_attempts = 0  # it was a good connection: start backoff from scratch
        message = describe_error(exc)
        if self._failing_since is None:
            self._failing_since = now
            self._log.warning(
                "%s: %s: %s%s",
                self.connection_id,
                "connection lost" if was_connected else "cannot connect",
                message,
                "" if terminal else "; retrying with backoff",
            )
        else:
            self._log.debug("%s: still failing: %s", self.connection_id, message)
        self._failed_attempts += 1
        self._connected_at = None
        status = ConnectionStatus.DISCONNECTED if was_connected else ConnectionStatus.ERROR
        self._set(
            status=status,
            since=self._clock.now(),
            error_count=self._state.error_count + 1,
            last_error=message,
        )

    def _auth_failed(self, exc: AuthFailed) -> None:
        if not self._state.auth_blocked:
            self._log.error(
                "%s: %s (%s); not retrying until the credentials change",
                self.connection_id,
                AUTH_FAILED_MESSAGE,
                exc,
            )
        self._failing_since = self._failing_since or self._clock.monotonic()
        self._connected_at = None
        self._credentials_changed.clear()
        self._set(
            status=ConnectionStatus.ERROR,
            since=self._clock.now(),
            error_count=self._state.error_count + 1,
            last_error=AUTH_FAILED_MESSAGE,
            auth_blocked=True,
        )

    async def _wait_while_auth_blocked(self) -> None:
        if not self._state.auth_blocked:
            return
        await self._credentials_changed.wait()
        self._credentials_changed.clear()
        self._failed_attempts = 0
        self._set(auth_blocked=False)

    def _next_delay(self) -> float:
        return self._backoff.delay(max(0, self._failed_attempts - 1), self._rng)

    async def _wait(self, seconds: float, event: asyncio.Event) -> None:
        """Sleep ``seconds`` on the clock, or less if ``event`` is set meanwhile."""
        if event.is_set():
            event.clear()
            return
        sleeper = asyncio.ensure_future(self._clock.sleep(seconds))
        waker = asyncio.ensure_future(event.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for fut in (sleeper, waker):
                fut.cancel()
            await asyncio.gather(sleeper, waker, return_exceptions=True)
        event.clear()

