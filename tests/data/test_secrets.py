"""The keyring adapter: no plaintext, clear errors, environment first."""

from __future__ import annotations

import logging

import keyring
import keyring.backend
import keyring.backends.chainer
import keyring.backends.fail
import keyring.backends.null
import keyring.errors
import pytest

from micboard_desktop.data.errors import DataError, KeyringUnavailable
from micboard_desktop.data.secrets import SERVICE, SecretStore, resolve_secret
from tests.conftest import MemoryKeyring


class PlaintextKeyring(MemoryKeyring):
    """Stands in for keyrings.alt.file.PlaintextKeyring (not installed, never shipped)."""


PlaintextKeyring.__module__ = "keyrings.alt.file"


class LockedKeyring(MemoryKeyring):
    """A real backend whose every call fails, like a locked Secret Service."""

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.KeyringLocked("locked")


def test_set_get_delete(memory_keyring: MemoryKeyring) -> None:
    store = SecretStore()
    assert store.get("shure-api-key") is None
    store.set("shure-api-key", "k-123")
    assert memory_keyring.entries == {(SERVICE, "shure-api-key"): "k-123"}
    assert SERVICE == "micboard-desktop"
    assert store.get("shure-api-key") == "k-123"
    store.delete("shure-api-key")
    store.delete("shure-api-key")  # deleting twice is fine
    assert store.get("shure-api-key") is None


async def test_async_wrappers(memory_keyring: MemoryKeyring) -> None:
    store = SecretStore()
    await store.set_async("lan-token", "t-1")
    assert await store.get_async("lan-token") == "t-1"
    await store.delete_async("lan-token")
    assert memory_keyring.entries == {}


@pytest.mark.parametrize(
    "backend",
    [
        keyring.backends.fail.Keyring(),  # type: ignore[no-untyped-call]
        keyring.backends.null.Keyring(),  # type: ignore[no-untyped-call]
        LockedKeyring(),
    ],
    ids=["fail", "null", "locked"],
)
def test_no_usable_keyring_raises_a_clear_error(backend: keyring.backend.KeyringBackend) -> None:
    keyring.set_keyring(backend)
    store = SecretStore()
    with pytest.raises(KeyringUnavailable) as caught:
        store.set("shure-api-key", "k-123")
    message = str(caught.value)
    assert message.startswith("No system keyring is available: secrets cannot be saved")
    assert "SHURE_API_KEY" in message
    assert isinstance(caught.value, DataError)
    with pytest.raises(KeyringUnavailable):
        store.get("shure-api-key")


def test_plaintext_keyring_is_refused() -> None:
    plaintext = PlaintextKeyring()
    keyring.set_keyring(plaintext)
    store = SecretStore()
    with pytest.raises(KeyringUnavailable):
        store.set("shure-api-key", "k-123")
    with pytest.raises(KeyringUnavailable):
        store.get("shure-api-key")
    assert plaintext.entries == {}  # nothing was written


class _Chain(keyring.backends.chainer.ChainerBackend):
    """keyring's chainer over a fixed list of members instead of every installed backend."""

    def __init__(self, members: list[keyring.backend.KeyringBackend]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.members = members

    @property
    def backends(self) -> list[keyring.backend.KeyringBackend]:
        return self.members


def test_chain_with_a_plaintext_member_is_refused() -> None:
    plaintext = PlaintextKeyring()
    keyring.set_keyring(_Chain([MemoryKeyring(), plaintext]))
    with pytest.raises(KeyringUnavailable):
        SecretStore().set("shure-api-key", "k-123")
    assert plaintext.entries == {}

    safe = MemoryKeyring()
    keyring.set_keyring(_Chain([safe]))
    SecretStore().set("shure-api-key", "k-123")
    assert safe.entries == {(SERVICE, "shure-api-key"): "k-123"}


def test_resolve_prefers_the_environment(
    memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SecretStore()
    assert resolve_secret("shure-api-key", "SHURE_API_KEY", store) is None
    store.set("shure-api-key", "from-keyring")
    assert resolve_secret("shure-api-key", "SHURE_API_KEY", store) == "from-keyring"
    monkeypatch.setenv("SHURE_API_KEY", "")  # empty means unset
    assert resolve_secret("shure-api-key", "SHURE_API_KEY", store) == "from-keyring"
    monkeypatch.setenv("SHURE_API_KEY", "from-env")
    assert resolve_secret("shure-api-key", "SHURE_API_KEY", store) == "from-env"
    assert resolve_secret("shure-api-key", None, store) == "from-keyring"


async def test_resolve_async(memory_keyring: MemoryKeyring) -> None:
    store = SecretStore()
    store.set("lan-token", "t-1")
    assert await store.resolve_async("lan-token", "MICBOARD_LAN_TOKEN") == "t-1"


def test_resolve_without_keyring_gives_none_and_warns_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())  # type: ignore[no-untyped-call]
    store = SecretStore()
    with caplog.at_level(logging.WARNING, logger="micboard_desktop.data.secrets"):
        assert resolve_secret("shure-api-key", "SHURE_API_KEY", store) is None
        assert resolve_secret("lan-token", "MICBOARD_LAN_TOKEN", store) is None
        monkeypatch.setenv("SHURE_API_KEY", "from-env")
        assert resolve_secret("shure-api-key", "SHURE_API_KEY", store) == "from-env"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "No system keyring is available" in warnings[0].getMessage()
    assert "from-env" not in caplog.text
