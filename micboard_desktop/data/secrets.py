"""Secrets (API keys, passwords, the LAN token) in the OS keyring, never anywhere else.

There is deliberately no plaintext fallback: when no real keyring exists the user is told
to use environment variables. The ``keyrings.alt`` backends (which write plaintext files
and would be picked automatically if installed) and keyring's ``null``/``fail`` backends
count as "no keyring".
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Final

import keyring
import keyring.backend
import keyring.errors

from micboard_desktop.data.errors import KeyringUnavailable

_log = logging.getLogger(__name__)

SERVICE: Final = "micboard-desktop"
"""Keyring service name every secret is stored under (docs/contract.md §2)."""

_UNUSABLE_MODULES: Final = ("keyrings.alt", "keyring.backends.fail", "keyring.backends.null")


def _unusable(backend: keyring.backend.KeyringBackend) -> bool:
    """Return True for backends that store plaintext, store nothing, or always fail."""
    module = type(backend).__module__
    if module.startswith(_UNUSABLE_MODULES) or type(backend).__name__ == "PlaintextKeyring":
        return True
    # keyring's ChainerBackend falls through to lower-priority backends on failure, so
    # one plaintext member could receive a secret: refuse the whole chain.
    members: object = getattr(backend, "backends", ())
    if isinstance(members, list | tuple):
        return any(isinstance(m, keyring.backend.KeyringBackend) and _unusable(m) for m in members)
    return False


class SecretStore:
    """Read and write named secrets in the OS keyring (service ``micboard-desktop``)."""

    def __init__(self, service: str = SERVICE) -> None:
        self.service = service
        self._warned = False

    def _backend(self) -> keyring.backend.KeyringBackend:
        # Looked up on every call: tests and the user may switch backends at run time.
        backend = keyring.get_keyring()
        if _unusable(backend):
            raise KeyringUnavailable()
        return backend

    def get(self, name: str) -> str | None:
        """Return the secret ``name``, or ``None`` if it is not stored.

        Raises:
            KeyringUnavailable: No usable keyring (message is meant for the user).
        """
        try:
            return self._backend().get_password(self.service, name)
        except keyring.errors.KeyringError as error:
            raise KeyringUnavailable() from error

    def set(self, name: str, value: str) -> None:
        """Store the secret ``name``.

        Raises:
            KeyringUnavailable: No usable keyring; nothing was written anywhere.
        """
        try:
            self._backend().set_password(self.service, name, value)
        except keyring.errors.KeyringError as error:
            raise KeyringUnavailable() from error

    def delete(self, name: str) -> None:
        """Delete the secret ``name``; deleting a missing secret is not an error.

        Raises:
            KeyringUnavailable: No usable keyring.
        """
        backend = self._backend()
        try:
            backend.delete_password(self.service, name)
        except keyring.errors.PasswordDeleteError:
            return
        except keyring.errors.KeyringError as error:
            raise KeyringUnavailable() from error

    async def get_async(self, name: str) -> str | None:
        """Return the secret ``name`` without blocking the event loop."""
        return await asyncio.to_thread(self.get, name)

    async def set_async(self, name: str, value: str) -> None:
        """Store the secret ``name`` without blocking the event loop."""
        await asyncio.to_thread(self.set, name, value)

    async def delete_async(self, name: str) -> None:
        """Delete the secret ``name`` without blocking the event loop."""
        await asyncio.to_thread(self.delete, name)

    def resolve(self, name: str, env_var: str | None) -> str | None:
        """Return a secret from the environment first, then the keyring, else ``None``.

        An unusable keyring is not an error here (the app runs without secrets); it is
        logged once per store.
        """
        if env_var is not None:
            value = os.environ.get(env_var)
            if value:
                return value
        try:
            return self.get(name)
        except KeyringUnavailable as error:
            if not self._warned:
                self._warned = True
                _log.warning("%s (looking up %r)", error, name)
            return None

    async def resolve_async(self, name: str, env_var: str | None) -> str | None:
        """Like :meth:`resolve`, without blocking the event loop."""
        return await asyncio.to_thread(self.resolve, name, env_var)


_default_store = SecretStore()


def resolve_secret(name: str, env_var: str | None, store: SecretStore | None = None) -> str | None:
    """Return a secret from ``env_var`` first, then the keyring entry ``name``, else ``None``.

    Keyring problems give ``None`` and one logged warning, never an exception.
    """
    return (store or _default_store).resolve(name, env_var)
