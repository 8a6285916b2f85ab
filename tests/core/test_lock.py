"""The monitor-only lock's core: PIN rules, the scrypt hash, throttling, the guarded engine."""

from __future__ import annotations

import asyncio
import inspect

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micboard_desktop.core import control
from micboard_desktop.core.lock import (
    LOCKED_COMMANDS,
    READ_ONLY_QUERIES,
    LockedError,
    LockState,
    UnlockThrottle,
    guarded,
    hash_pin,
    is_pin_hash,
    pin_problem,
    verify_pin,
)

SALT = b"0123456789abcdef"


@pytest.fixture(scope="module")
def stored() -> str:
    return hash_pin("4711", salt=SALT)


@pytest.mark.parametrize("pin", ["1234", "000000000000", "98765"])
def test_digit_pins_of_four_to_twelve_are_accepted(pin: str):
    assert pin_problem(pin) is None


@pytest.mark.parametrize("pin", ["", "123", "1234567890123", "12a4", " 1234", "١٢٣٤", "12.4"])
def test_other_pins_are_refused_in_words(pin: str):
    problem = pin_problem(pin)
    assert problem is not None
    assert "PIN" in problem
    with pytest.raises(ValueError, match="PIN"):
        hash_pin(pin)


def test_the_right_pin_matches_and_a_wrong_one_does_not(stored: str):
    assert verify_pin("4711", stored) is True
    assert verify_pin("4712", stored) is False
    assert verify_pin("47110", stored) is False
    assert "4711" not in stored
    assert stored.startswith("scrypt$32768$8$1$")


def test_each_hash_has_its_own_salt():
    first, second = hash_pin("1234"), hash_pin("1234")
    assert first != second
    assert verify_pin("1234", first)
    assert verify_pin("1234", second)


@pytest.mark.parametrize("bad", [
    "", "scrypt", "plain:1234", "scrypt$32768$8$1$AAAA$AAAA",
    "scrypt$1073741824$8$1$MDEyMzQ1Njc4OWFiY2RlZg==$" + "A" * 43 + "=",  # n too large
    "scrypt$1000$8$1$MDEyMzQ1Njc4OWFiY2RlZg==$" + "A" * 43 + "=",  # not a power of two
    "scrypt$x$8$1$MDEyMzQ1Njc4OWFiY2RlZg==$" + "A" * 43 + "=",
    "scrypt$32768$8$1$!!!$" + "A" * 43 + "=",
    "md5$32768$8$1$MDEyMzQ1Njc4OWFiY2RlZg==$" + "A" * 43 + "=",
])
def test_malformed_or_hostile_stored_values_never_match(bad: str):
    assert is_pin_hash(bad) is False
    assert verify_pin("4711", bad) is False


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120), st.text(max_size=14))
def test_verify_never_raises_on_any_stored_text(stored: str, pin: str):
    # Either it is not a hash (False) or, by chance, a well-formed one: no exception.
    assert verify_pin(pin, stored) in (True, False)


def test_the_throttle_lets_three_tries_through_then_doubles_the_wait():
    throttle = UnlockThrottle()
    for _ in range(2):
        throttle.failed(100.0)
        assert throttle.wait(100.0) == 0.0
    throttle.failed(100.0)
    assert throttle.wait(100.0) == 5.0
    throttle.failed(105.0)
    assert throttle.wait(105.0) == 10.0
    for _ in range(20):
        throttle.failed(200.0)
    assert throttle.wait(200.0) == UnlockThrottle.MAX_WAIT_S
    throttle.succeeded()
    assert throttle.wait(200.0) == 0.0
    assert throttle.failures == 0


def _engine_methods() -> set[str]:
    names: set[str] = set()
    for role in control.EngineControl.__mro__:
        if role in (object, control.EngineControl) or role.__module__ != control.__name__:
            continue
        names |= {n for n, v in vars(role).items() if not n.startswith("_") and callable(v)}
    return names


def test_every_engine_method_is_either_a_command_or_a_read():
    methods = _engine_methods()
    assert methods, "no engine methods found: the test would pass vacuously"
    unclassified = methods - LOCKED_COMMANDS - READ_ONLY_QUERIES
    assert not unclassified, f"classify for the lock (core/lock.py): {sorted(unclassified)}"
    assert not LOCKED_COMMANDS & READ_ONLY_QUERIES


def test_every_locked_engine_command_is_a_coroutine_function():
    for role in control.EngineControl.__mro__:
        for name, value in vars(role).items():
            if name in LOCKED_COMMANDS:
                assert inspect.iscoroutinefunction(value), name


class _Engine:
    def __init__(self) -> None:
        self.acknowledged: list[str] = []

    async def acknowledge_alert(self, key: str) -> bool:
        self.acknowledged.append(key)
        return True

    def alerts(self, *, active_only: bool = True) -> list[str]:
        return ["a"]

    flag = "plain attribute"


def test_the_guard_refuses_commands_while_locked_and_passes_reads():
    engine, state = _Engine(), LockState()
    view = guarded(engine, state)
    assert asyncio.run(view.acknowledge_alert("k1")) is True
    state.locked = True
    with pytest.raises(LockedError, match="locked"):
        asyncio.run(view.acknowledge_alert("k2"))
    assert view.alerts() == ["a"]
    assert view.flag == "plain attribute"
    state.locked = False
    asyncio.run(view.acknowledge_alert("k3"))
    assert engine.acknowledged == ["k1", "k3"]
