"""SecretResolver: where the engine finds API keys, passwords and the LAN token.

Order of precedence (CONTRACT §2): the environment (``SHURE_API_KEY``,
``SENNHEISER_API_KEY``, ``<CODE>_API_KEY`` for other plugins, ``MICBOARD_LAN_TOKEN``), then
the OS keyring (service ``micboard-desktop``). Every secret found is registered with the
log redactor so it can never reach a log line.
"""

from __future__ import annotations

import secrets as _random
from collections.abc import Mapping

from micboard_desktop.core.redact import register_secret
from micboard_desktop.data.errors import KeyringUnavailable
from micboard_desktop.data.secrets import SecretStore

LAN_TOKEN = "lan-token"
LAN_TOKEN_ENV = "MICBOARD_LAN_TOKEN"


def manufacturer_key(code: str) -> str:
    """Return the keyring entry name of a manufacturer's secret."""
    return f"{code}-secret"


def manufacturer_env(code: str) -> str:
    """Return the environment variable that overrides a manufacturer's secret."""
    return f"{code.upper()}_API_KEY"


class SecretResolver:
    """Resolve, store and forget secrets; ``fixed`` values win (the demo rig uses them)."""

    def __init__(
        self, store: SecretStore | None = None, fixed: Mapping[str, str] | None = None
    ) -> None:
        self._store = store or SecretStore()
        self._fixed = dict(fixed or {})
        for value in self._fixed.values():
            register_secret(value)

    def manufacturer_secret(self, code: str) -> str | None:
        """Return the secret for manufacturer ``code``, or ``None``."""
        value = self._fixed.get(code) or self._store.resolve(
            manufacturer_key(code), manufacturer_env(code)
        )
        register_secret(value)
        return value

    async def store_manufacturer_secret(self, code: str, value: str) -> None:
        """Save a manufacturer's secret in the keyring (raises KeyringUnavailable)."""
        register_secret(value)
        await self._store.set_async(manufacturer_key(code), value)

    async def delete_manufacturer_secret(self, code: str) -> None:
        """Remove a manufacturer's secret from the keyring, if it is there."""
        try:
            await self._store.delete_async(manufacturer_key(code))
        except KeyringUnavailable:  # no keyring means nothing was stored there either
            return

    def lan_token(self) -> str | None:
        """Return the LAN token from the environment or keyring, or ``None``."""
        value = self._store.resolve(LAN_TOKEN, LAN_TOKEN_ENV)
        register_secret(value)
        return value

    async def new_lan_token(self) -> str:
        """Generate a LAN token, keep it in the keyring and return it."""
        token = _random.token_urlsafe(32)
        register_secret(token)
        await self._store.set_async(LAN_TOKEN, token)
        return token
