"""The lock's PIN hash in the keyring (entry ``lock-pin``), or for the session without one."""

from __future__ import annotations

import keyring
import keyring.backends.fail
import pytest

from micboard_desktop.core.lock import hash_pin, verify_pin
from micboard_desktop.data.secrets import SERVICE
from micboard_desktop.engine.secrets import LOCK_PIN, LockPinVault


async def test_the_hash_goes_to_the_keyring_and_comes_back():
    vault = LockPinVault()
    assert await vault.load() is None
    stored = hash_pin("4321")
    assert await vault.save(stored) is True
    assert keyring.get_password(SERVICE, LOCK_PIN) == stored
    again = LockPinVault()  # a new start reads it from the keyring
    loaded = await again.load()
    assert loaded is not None
    assert verify_pin("4321", loaded)


async def test_without_a_keyring_the_hash_lasts_the_session(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(keyring, "get_keyring", keyring.backends.fail.Keyring)
    vault = LockPinVault()
    stored = hash_pin("4321")
    assert await vault.save(stored) is False
    assert await vault.load() == stored
    assert await LockPinVault().load() is None
