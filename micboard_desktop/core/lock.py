"""The monitor-only lock (issue #21 item 6): the PIN, its hash, and what a lock refuses.

Qt-free and I/O-free: the window keeps the hash in the keyring (through the composition
root) and asks this module whether a PIN fits and whether it matches.

* **The PIN** is 4 to 12 digits (typed on a laptop backstage; no keyboard layout trouble).
* **Its hash** is scrypt (``hashlib.scrypt``, n=2^15, r=8, p=1: about 0.1 s and 32 MiB on a
  laptop) over a random 16-byte salt, kept as ``scrypt$n$r$p$<salt>$<hash>`` (base64). A
  four-digit PIN is still only 10 000 guesses for someone who has the keyring entry; the
  lock keeps a passer-by's hands off a show, it is no safe. Stored parameters are checked
  before use, so a tampered entry can neither crash nor stall the window.
* **Wrong PINs** are throttled (:class:`UnlockThrottle`): after three, each try waits
  longer, 5 s doubling up to 5 minutes.
* **What a lock refuses**: every :class:`~micboard_desktop.core.control.EngineControl`
  method that changes anything (:data:`LOCKED_COMMANDS`); :func:`guarded` wraps the engine
  the views are given, so a forgotten button cannot get through. The reads
  (:data:`READ_ONLY_QUERIES`) go on. A test checks that every method is in one list.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
from collections.abc import Callable, Coroutine
from typing import Any, Final, cast

from micboard_desktop.core.errors import MicboardError

PIN_MIN: Final = 4
PIN_MAX: Final = 12
SCRYPT_N: Final = 2**15
SCRYPT_R: Final = 8
SCRYPT_P: Final = 1
_SALT_BYTES: Final = 16
_HASH_BYTES: Final = 32
_MAXMEM: Final = 64 * 2**20
"""Above the 32 MiB that n=2^15, r=8 needs (scrypt's default limit is exactly 32 MiB)."""
_SCHEME: Final = "scrypt"

LOCKED_COMMANDS: Final = frozenset({
    # ConnectionsControl, MonitorQueries: talk to devices
    "reconnect", "set_connections_enabled", "refresh", "discover",
    # AlertsControl: an acknowledged alert goes quiet for everyone
    "acknowledge_alert",
    # UserDataControl: edits
    "save_group", "delete_group", "set_performer", "set_location", "set_slot", "set_spare",
    # SettingsControl: settings, secrets and the LAN endpoint
    "set_config", "save_manufacturer", "remove_manufacturer", "test_connection",
    "certificate_fingerprint", "set_lan", "generate_lan_token",
    # MarkersControl: markers are part of the show's record
    "add_marker", "update_marker", "delete_marker",
    # IntegrationsControl (notifications page), where a control carries it
    "save_target", "remove_target", "send_test",
})
"""Engine methods a locked window refuses (each is a coroutine function)."""

READ_ONLY_QUERIES: Final = frozenset({
    "health", "metrics", "manufacturer_codes", "history", "swaps", "connections", "alerts",
    "markers", "rf_picture", "groups", "config", "lan_state", "plugin_codes",
})
"""Engine methods a locked window still uses: they only read."""

LOCKED_MESSAGE: Final = "The screen is locked (monitor only): unlock it with the PIN (Ctrl+L)"


class LockedError(MicboardError):
    """A control action was asked of a locked window."""


def pin_problem(pin: str) -> str | None:
    """Return why ``pin`` cannot be a PIN, in words; ``None`` when it can."""
    if not pin.isascii() or not pin.isdigit():
        return "A PIN is digits only (0-9)."
    if not PIN_MIN <= len(pin) <= PIN_MAX:
        return f"A PIN has {PIN_MIN} to {PIN_MAX} digits."
    return None


def hash_pin(pin: str, *, salt: bytes | None = None) -> str:
    """Return the stored form of ``pin``: scrypt with a random salt (about 0.1 s).

    Raises:
        ValueError: ``pin`` is not a PIN (:func:`pin_problem` says why).
    """
    problem = pin_problem(pin)
    if problem is not None:
        raise ValueError(problem)
    salt = secrets.token_bytes(_SALT_BYTES) if salt is None else salt
    digest = _scrypt(pin, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return "$".join((_SCHEME, str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P),
                     _b64(salt), _b64(digest)))


def verify_pin(pin: str, stored: str) -> bool:
    """Return True when ``pin`` matches the stored hash; False for anything malformed."""
    parsed = _parse(stored)
    if parsed is None or pin_problem(pin) is not None:
        return False
    n, r, p, salt, expected = parsed
    return hmac.compare_digest(_scrypt(pin, salt, n, r, p), expected)


def is_pin_hash(stored: str) -> bool:
    """Return True when ``stored`` looks like a hash this module wrote (a keyring check)."""
    return _parse(stored) is not None


def _scrypt(pin: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(pin.encode("ascii"), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM,
                          dklen=_HASH_BYTES)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _parse(stored: str) -> tuple[int, int, int, bytes, bytes] | None:
    parts = stored.split("$") if isinstance(stored, str) else []
    if len(parts) != 6 or parts[0] != _SCHEME:
        return None
    try:
        n, r, p = (int(x) for x in parts[1:4])
        salt = base64.b64decode(parts[4], validate=True)
        digest = base64.b64decode(parts[5], validate=True)
    except ValueError:
        return None
    # Bounds: a tampered entry with n=2^30 would stall the window or exhaust memory.
    power_of_two = n > 1 and n & (n - 1) == 0
    if not (power_of_two and n <= 2**17 and 1 <= r <= 16 and 1 <= p <= 4
            and 128 * r * n <= _MAXMEM // 2 and 8 <= len(salt) <= 64
            and len(digest) == _HASH_BYTES):
        return None
    return n, r, p, salt, digest


class UnlockThrottle:
    """Slow down guessing: after three wrong PINs each try waits longer (5 s doubling, 5 min)."""

    FREE_TRIES: Final = 3
    FIRST_WAIT_S: Final = 5.0
    MAX_WAIT_S: Final = 300.0

    def __init__(self) -> None:
        self.failures = 0
        self._not_before = 0.0

    def wait(self, now: float) -> float:
        """Return how many seconds remain before the next try is allowed (0: now)."""
        return max(0.0, self._not_before - now)

    def failed(self, now: float) -> None:
        """Note a wrong PIN at monotonic time ``now``."""
        self.failures += 1
        extra = self.failures - self.FREE_TRIES
        if extra >= 0:
            delay = min(self.MAX_WAIT_S, self.FIRST_WAIT_S * 2 ** min(extra, 16))
            self._not_before = now + delay

    def succeeded(self) -> None:
        """Forget the wrong tries (the right PIN was given)."""
        self.failures = 0
        self._not_before = 0.0


class LockState:
    """Whether the window is locked; shared by the window and the guarded engine."""

    def __init__(self) -> None:
        self.locked = False


def guarded[T](control: T, state: LockState) -> T:
    """Return ``control`` with its :data:`LOCKED_COMMANDS` refused while ``state`` is locked.

    Everything else (reads, attributes) passes straight through. A refused command returns
    a coroutine that raises :class:`LockedError`, so the caller's task fails with the words
    of :data:`LOCKED_MESSAGE` and nothing reaches the engine.
    """
    return cast(T, _Guarded(control, state))


async def _refuse(name: str) -> Any:
    raise LockedError(f"{LOCKED_MESSAGE} ({name.replace('_', ' ')} refused)")


class _Guarded:
    """The proxy behind :func:`guarded`."""

    def __init__(self, inner: object, state: LockState) -> None:
        self._inner = inner
        self._state = state

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._inner, name)
        if name not in LOCKED_COMMANDS or not callable(value):
            return value
        command = cast(Callable[..., Coroutine[Any, Any, Any]], value)
        state = self._state

        @functools.wraps(command)
        def checked(*args: Any, **kwargs: Any) -> Coroutine[Any, Any, Any]:
            if state.locked:
                return _refuse(name)
            return command(*args, **kwargs)

        return checked
