"""Fixtures shared by every test: an isolated keyring, environment and data directory."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import keyring.errors
import pytest

# Qt is never needed outside tests/ui, but a stray import must not try to open a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

_SECRET_ENV = (
    "SHURE_API_KEY",
    "SENNHEISER_API_KEY",
    "MICBOARD_LAN_TOKEN",
    "SHURE_API_URL",
    "SENNHEISER_API_URL",
)


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring that keeps secrets in a dict, so tests never touch the real one."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.entries[(service, username)]
        except KeyError:
            raise keyring.errors.PasswordDeleteError(username) from None


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    """Swap the OS keyring for an in-memory one for every test."""
    previous = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    yield ring
    keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Remove secrets from the environment and point user directories at a temp folder."""
    for name in _SECRET_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MICBOARD_DATA_DIR", str(tmp_path / "user-data"))
    monkeypatch.setenv("MICBOARD_LOG_DIR", str(tmp_path / "user-logs"))
    # No test may join a multicast group on a real network: SLP discovery tests turn it on
    # themselves, inside a private network namespace or on loopback.
    monkeypatch.setenv("MICBOARD_SHURE_SLP", "off")
