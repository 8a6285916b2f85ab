"""SecretResolver: where the engine finds API keys, passwords and the LAN token.

Order of precedence (docs/contract.md §2): the environment (``SHURE_API_KEY``,
``SENNHEISER_API_KEY``, ``<CODE>_API_KEY`` for other plugins, ``MICBOARD_LAN_TOKEN``), then
the OS keyring (service ``micboard-desktop``). Every secret found is registered with the
log redactor so it can never reach a log line.

**A secret goes only to the endpoints it was entered for.** Someone holding the LAN token
can change a manufacturer's ``api_url`` or ``devices``; without this rule the app would then
send the stored API key or password to whatever address they chose. So each manufacturer
has a set of *approved endpoints* (origins: scheme, host and port, see
:func:`~micboard_desktop.core.addresses.endpoint_origin`) and the TLS mode they were
approved with. Only local acts approve: the operator's own configuration file, saving the
manufacturer in the window's settings, or the first start of an install (trust on first
use). A remote change is applied, but the secret is withheld from the new address until
someone approves it locally; ``http://`` never matches an approved ``https://``, and a TLS
mode changed away from the approved one (to ``insecure`` or another pin) withholds it too.
Approvals live in the keyring next to the secret (entry ``<code>-endpoints``), so nothing a
LAN client can write (the settings file, the database) can grant one.
"""

from __future__ import annotations

import json
import logging
import secrets as _random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from micboard_desktop.core.addresses import endpoint_origin
from micboard_desktop.core.config import ManufacturerConfig
from micboard_desktop.core.redact import register_secret
from micboard_desktop.data.errors import KeyringUnavailable
from micboard_desktop.data.secrets import SecretStore

_log = logging.getLogger(__name__)

LAN_TOKEN = "lan-token"
LAN_TOKEN_ENV = "MICBOARD_LAN_TOKEN"
VERIFY = "verify"


def manufacturer_key(code: str) -> str:
    """Return the keyring entry name of a manufacturer's secret."""
    return f"{code}-secret"


def approvals_key(code: str) -> str:
    """Return the keyring entry name of the endpoints a manufacturer's secret may go to."""
    return f"{code}-endpoints"


def manufacturer_env(code: str) -> str:
    """Return the environment variable that overrides a manufacturer's secret."""
    return f"{code.upper()}_API_KEY"


def secret_endpoints(entry: ManufacturerConfig) -> tuple[str, ...]:
    """Return the addresses of ``entry`` a secret would be sent to (URLs, not raw TCP)."""
    addresses = ([entry.api_url] if entry.api_url else []) + list(entry.devices)
    return tuple(a for a in addresses if "://" in a)


@dataclass(frozen=True, slots=True)
class Approval:
    """The endpoints (origins) a secret may be sent to, and the TLS mode they were set with."""

    origins: frozenset[str]
    tls: str

    @staticmethod
    def of(entry: ManufacturerConfig) -> Approval:
        """Approve exactly the endpoints and TLS mode ``entry`` has now."""
        return Approval(frozenset(endpoint_origin(a) for a in secret_endpoints(entry)), entry.tls)

    def to_json(self) -> str:
        """Return the approval as the JSON kept in the keyring."""
        return json.dumps({"origins": sorted(self.origins), "tls": self.tls})

    @staticmethod
    def from_json(text: str) -> Approval | None:
        """Read an approval kept in the keyring; ``None`` if it is not one."""
        try:
            data = json.loads(text)
            origins, tls = data["origins"], data["tls"]
        except (ValueError, TypeError, KeyError):
            return None
        if not isinstance(tls, str) or not isinstance(origins, list):
            return None
        return Approval(frozenset(str(o) for o in origins), tls)


@dataclass(frozen=True, slots=True)
class SecretBinding:
    """A manufacturer's secret with the rule of where it may go (what a plugin is handed)."""

    secret: str | None
    approval: Approval
    tls: str
    """The TLS mode in force now."""

    def allows(self, endpoint: str) -> bool:
        """Return True when the secret may be sent to ``endpoint`` under the TLS mode in force."""
        tls_ok = self.tls == self.approval.tls or self.tls == VERIFY
        return tls_ok and endpoint_origin(endpoint) in self.approval.origins

    def secret_for(self, endpoint: str) -> str | None:
        """Return the secret for ``endpoint``, or ``None`` where it was not entered for it."""
        return self.secret if self.secret and self.allows(endpoint) else None

    def withheld(self, endpoints: Iterable[str]) -> list[str]:
        """Return the endpoints that would get the secret but are not approved for it."""
        if not self.secret:
            return []
        return [e for e in endpoints if not self.allows(e)]


class SecretResolver:
    """Resolve, store and forget secrets and their approvals; ``fixed`` values win (demo rig).

    Every method that may touch the keyring blocks: the engine calls them in a thread.
    """

    def __init__(
        self, store: SecretStore | None = None, fixed: Mapping[str, str] | None = None
    ) -> None:
        self._store = store or SecretStore()
        self._fixed = dict(fixed or {})
        self._approvals: dict[str, Approval] = {}
        """Approvals in force this session (also where there is no keyring to keep them)."""
        for value in self._fixed.values():
            register_secret(value)

    def manufacturer_secret(self, code: str) -> str | None:
        """Return the secret for manufacturer ``code``, or ``None`` (blocking)."""
        value = self._fixed.get(code) or self._store.resolve(
            manufacturer_key(code), manufacturer_env(code)
        )
        register_secret(value)
        return value

    def binding(self, entry: ManufacturerConfig) -> SecretBinding:
        """Return ``entry``'s secret bound to its approved endpoints (blocking)."""
        secret = self.manufacturer_secret(entry.code)
        if entry.code in self._fixed:
            # A fixed secret belongs to a rig this process built (the demo's simulators) and
            # is no real credential: it goes wherever that manufacturer's entry points.
            return SecretBinding(secret, Approval.of(entry), entry.tls)
        approval = self._approval(entry.code) or Approval(frozenset(), entry.tls)
        binding = SecretBinding(secret, approval, entry.tls)
        withheld = binding.withheld(secret_endpoints(entry))
        if withheld:
            _log.warning(
                "%s: the stored secret is not sent to %s: that address or its TLS setting "
                "was not approved on this machine (save the manufacturer in Settings to do so)",
                entry.code,
                ", ".join(withheld),
            )
        return binding

    def approve(self, entry: ManufacturerConfig) -> bool:
        """Approve ``entry``'s endpoints and TLS mode for its secret (a local act; blocking).

        Returns True when this changed what was approved.
        """
        approval = Approval.of(entry)
        if self._approval(entry.code) == approval:
            return False
        self._approvals[entry.code] = approval
        if entry.code in self._fixed:
            return True  # a fixed secret (the demo rig) lives for this session only: so does this
        try:
            self._store.set(approvals_key(entry.code), approval.to_json())
        except KeyringUnavailable:
            pass  # this session still knows it; without a keyring secrets come from env only
        return True

    def approve_first_use(self, entry: ManufacturerConfig) -> None:
        """Approve ``entry``'s endpoints unless an approval exists already (blocking)."""
        if self._approval(entry.code) is None:
            self.approve(entry)

    def _approval(self, code: str) -> Approval | None:
        if code in self._approvals or code in self._fixed:
            return self._approvals.get(code)
        try:
            stored = self._store.get(approvals_key(code))
        except KeyringUnavailable:
            return None
        approval = Approval.from_json(stored) if stored else None
        if approval is not None:
            self._approvals[code] = approval
        return approval

    async def store_manufacturer_secret(self, code: str, value: str) -> None:
        """Save a manufacturer's secret in the keyring (raises KeyringUnavailable)."""
        register_secret(value)
        await self._store.set_async(manufacturer_key(code), value)

    async def delete_manufacturer_secret(self, code: str) -> None:
        """Remove a manufacturer's secret and its approvals from the keyring, if there."""
        self._approvals.pop(code, None)
        try:
            await self._store.delete_async(manufacturer_key(code))
            await self._store.delete_async(approvals_key(code))
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


LOCK_PIN = "lock-pin"
"""Keyring entry of the monitor-only lock's PIN hash (``keyring del micboard-desktop lock-pin``
is the way out of a forgotten PIN: the window then starts unlocked)."""


class LockPinVault:
    """The monitor-only lock's PIN hash in the keyring; this session only where there is none.

    Only the scrypt hash is kept (``core/lock.py``), never the PIN.
    """

    def __init__(self, store: SecretStore | None = None) -> None:
        self._store = store or SecretStore()
        self._session: str | None = None

    async def load(self) -> str | None:
        """Return the kept hash (the keyring's, else this session's), or ``None``."""
        try:
            stored = await self._store.get_async(LOCK_PIN)
        except KeyringUnavailable:
            return self._session
        return stored or self._session

    async def save(self, stored: str) -> bool:
        """Keep ``stored``; return False when it could only be kept for this session."""
        self._session = stored
        try:
            await self._store.set_async(LOCK_PIN, stored)
        except KeyringUnavailable:
            return False
        return True
