"""Browsing ``_ssc._udp`` over multicast DNS for SSCv1 devices not configured yet.

One browse opens its own zeroconf instance on the running event loop, listens for
:data:`BROWSE_SECONDS`, resolves each service as it is heard (SRV, TXT, A/AAAA; a device
normally sends them with its answer, so most resolve from the cache at once) and closes
everything again: discovery is a button press, not a background service, so nothing is left
listening on UDP 5353 afterwards.

Bounded by design: at most :data:`MAX_SERVICES` names are taken from one browse, at most
:data:`RESOLVE_CONCURRENCY` are resolved at once, and a resolution still running
:data:`GRACE_SECONDS` after the browse ends is dropped. The zeroconf library parses the
packets; :mod:`.records` reads what the records say and cleans it.

The interfaces: ``bind`` (the manufacturer's local address for the UDP protocols, when set
to one address) limits the browse to that interface; otherwise every interface is used, over
IPv4 and IPv6 (IPv4 alone where this machine has no IPv6).

Every question asks for multicast answers (QM). A unicast answer (QU, zeroconf's default for
a first query) goes to UDP 5353 on this machine, and when another mDNS stack holds that port
too (avahi, Bonjour) the kernel may hand it to that stack instead of us: measured on
loopback, a browse asking QU heard nothing in 3 s, QM heard the device in 0.16 s (1.1 s when
the device had just announced: RFC 6762 §6 spaces multicast answers a second apart).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Final

from zeroconf import DNSQuestionType, InterfaceChoice, IPVersion, ServiceStateChange, Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

from micboard_desktop.plugins.api import DiscoveredDevice, PluginError
from micboard_desktop.plugins.sennheiser.dnssd.records import (
    SERVICE_TYPE,
    device_from,
    host_key,
    merge_found,
)
from micboard_desktop.plugins.sennheiser.ssc1.address import is_ssc1_address, parse_ssc1_address

BROWSE_SECONDS: Final = 2.0
"""How long one browse listens: the first query's answers, and those of the second (~1 s)."""
GRACE_SECONDS: Final = 1.5
"""How long resolutions may run on after the browse ends (see :data:`RESOLVE_MS`)."""
RESOLVE_MS: Final = 1500
"""Longest one service is asked for its records.

More than a second: a responder does not multicast a record again within a second of the
last time (RFC 6762 §6), so records it has just sent with other answers come a second later.
Measured on loopback with four services whose answers did not fit one packet: 1000 ms lost
one or two of them in about half the runs; they arrived 1.0-1.1 s after the question.
"""
MAX_SERVICES: Final = 256
"""Most service names taken from one browse (a flood of answers must not grow memory)."""
RESOLVE_CONCURRENCY: Final = 16
"""Services resolved at once."""
OPEN_WAIT_SECONDS: Final = 1.0
"""Longest wait for the mDNS sockets to be ready."""
_ANY_ADDRESS: Final = frozenset({"", "0.0.0.0", "::"})

_log = logging.getLogger(__name__)


class DnssdUnavailable(PluginError):
    """Multicast DNS cannot be used here (no socket on UDP 5353, no interface joins)."""


def _configured_keys(configured: Iterable[str]) -> set[tuple[str, int]]:
    """Return ``(host, port)`` of every configured ``ssc1://`` address (bad ones skipped)."""
    keys: set[tuple[str, int]] = set()
    for address in configured:
        if not is_ssc1_address(address):
            continue
        try:
            keys.add(host_key(*parse_ssc1_address(address)))
        except ValueError:
            continue
    return keys


def open_zeroconf(bind: str | None) -> AsyncZeroconf:
    """Return a zeroconf instance on ``bind``'s interface, or on every interface.

    Raises :class:`DnssdUnavailable` when the sockets cannot be made.
    """
    attempts: list[tuple[list[str] | InterfaceChoice, IPVersion | None]]
    if bind is not None and bind.strip() not in _ANY_ADDRESS:
        attempts = [([bind.strip()], None)]  # the address family follows the address
    else:
        attempts = [(InterfaceChoice.All, IPVersion.All), (InterfaceChoice.All, IPVersion.V4Only)]
    reason = "no interface"
    for interfaces, version in attempts:
        try:
            return AsyncZeroconf(interfaces=interfaces, ip_version=version)
        except (OSError, ValueError, RuntimeError) as exc:  # e.g. no IPv6 on this machine
            reason = getattr(exc, "strerror", None) or type(exc).__name__
    raise DnssdUnavailable(f"cannot listen for DNS-SD on UDP 5353 ({reason})")


async def _resolve(zc: Zeroconf, name: str, gate: asyncio.Semaphore) -> DiscoveredDevice | None:
    """Return the device behind service ``name``, or ``None`` (no answer, odd records)."""
    async with gate:
        try:
            info = AsyncServiceInfo(SERVICE_TYPE, name)
            if not await info.async_request(zc, RESOLVE_MS, question_type=DNSQuestionType.QM):
                return None
            return device_from(
                name,
                info.port,
                info.parsed_addresses(IPVersion.V4Only),
                info.parsed_scoped_addresses(IPVersion.V6Only),
                info.text,
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - one odd service must not end the browse
            _log.debug("DNS-SD: cannot resolve a service: %s", type(exc).__name__)
            return None


async def browse(zc: Zeroconf, seconds: float = BROWSE_SECONDS) -> list[DiscoveredDevice]:
    """Browse ``_ssc._udp`` on ``zc`` for ``seconds`` and return every device resolved."""
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(RESOLVE_CONCURRENCY)
    seen: set[str] = set()
    tasks: list[asyncio.Task[DiscoveredDevice | None]] = []

    def changed(
        zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange
    ) -> None:
        if state_change is ServiceStateChange.Removed or name in seen:
            return
        if len(seen) >= MAX_SERVICES:
            return
        seen.add(name)
        tasks.append(loop.create_task(_resolve(zc, name, gate), name="dnssd-resolve"))

    browser = AsyncServiceBrowser(
        zc, [SERVICE_TYPE], handlers=[changed], question_type=DNSQuestionType.QM
    )
    try:
        await asyncio.sleep(seconds)
    finally:
        await browser.async_cancel()
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=GRACE_SECONDS)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
    found = [
        device
        for task in tasks
        if not task.cancelled() and (device := task.result()) is not None
    ]
    return sorted(merge_found(found), key=lambda d: d.address)


async def discover_ssc1(
    configured: Iterable[str], *, bind: str | None = None, seconds: float = BROWSE_SECONDS
) -> list[DiscoveredDevice]:
    """Return the ``_ssc._udp`` devices heard within ``seconds`` that are not configured.

    Raises :class:`DnssdUnavailable` when multicast DNS cannot be used on this machine.
    """
    known = _configured_keys(configured)
    aiozc = open_zeroconf(bind)
    try:
        try:
            await aiozc.zeroconf.async_wait_for_start(timeout=OPEN_WAIT_SECONDS)
        except Exception as exc:  # noqa: BLE001 - zeroconf says "not running" in its own way
            raise DnssdUnavailable(f"DNS-SD did not start ({type(exc).__name__})") from None
        # The engine's senders are zeroconf internals: checked only where they exist.
        senders = getattr(getattr(aiozc.zeroconf, "engine", None), "senders", None)
        if senders is not None and not senders:
            raise DnssdUnavailable("no network interface joined the mDNS group")
        found = await browse(aiozc.zeroconf, seconds)
    finally:
        await aiozc.async_close()
    return [d for d in found if not (_configured_keys([d.address]) & known)]
