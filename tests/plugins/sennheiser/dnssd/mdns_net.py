"""A network for DNS-SD tests where multicast DNS reaches nobody else.

The same two choices as the SLP tests (tests/simulator/slp_net.py): first a private network
namespace holding only loopback, entered by one worker thread (root or CAP_SYS_ADMIN on
Linux); then this machine's loopback, with every zeroconf socket joined on 127.0.0.1 only.
A zeroconf instance makes its sockets in the thread that creates it and runs on that
thread's event loop, so a whole scenario (simulators, announcements, browse) runs there as
one coroutine through :meth:`MdnsNet.run`. On loopback other processes of this machine may
be announcing too: tests pick their own services by port. ``MICBOARD_TEST_MDNS_NET=loopback``
skips the namespace (to test the fallback).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

# The one way these tests enter a namespace; shared with the SLP tests rather than copied.
from tests.simulator.slp_net import _enter_private_namespace, _interfaces

T = TypeVar("T")

GROUP = "224.0.0.251"
LOOPBACK = "127.0.0.1"
SCENARIO_SECONDS = 40.0


class MdnsNet:
    """Where a DNS-SD test runs its scenario (see the module docstring)."""

    def __init__(self, kind: str, executor: ThreadPoolExecutor) -> None:
        self.kind = kind
        """``"namespace"`` or ``"loopback"``."""
        self._executor = executor

    def run(self, scenario: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """Run ``scenario()`` on a fresh event loop where the test's sockets must live."""
        return self._executor.submit(lambda: asyncio.run(scenario())).result(SCENARIO_SECONDS)

    def close(self) -> None:
        """Let the namespace go (it disappears with its last socket)."""
        self._executor.shutdown(wait=False, cancel_futures=True)


def _round_trip() -> None:
    """Send one datagram to the mDNS group over loopback and receive it; raise if lost."""
    with contextlib.ExitStack() as stack:
        rx = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
        rx.bind(("", 0))
        membership = socket.inet_aton(GROUP) + socket.inet_aton(LOOPBACK)
        rx.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
        rx.settimeout(1.0)
        tx = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
        tx.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(LOOPBACK))
        tx.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
        tx.sendto(b"probe", (GROUP, rx.getsockname()[1]))
        if rx.recvfrom(64)[0] != b"probe":
            raise OSError("wrong datagram")


def open_mdns_net() -> MdnsNet | str:
    """Return a place for mDNS scenarios, or the reason there is none here."""
    reasons: list[str] = []
    if sys.platform != "linux":
        reasons.append("no network namespaces off Linux")
    elif os.environ.get("MICBOARD_TEST_MDNS_NET") != "loopback":
        executor = ThreadPoolExecutor(1, "mdns-netns", initializer=_enter_private_namespace)
        try:
            names = executor.submit(_interfaces).result(timeout=10)
            if names != ["lo"]:  # never go on unless the thread is cut off from the network
                raise OSError(f"the namespace is not private: {names}")
            executor.submit(_round_trip).result(timeout=10)
        except Exception as exc:
            executor.shutdown(wait=True)
            reasons.append(f"no private network namespace ({exc!r})")
        else:
            return MdnsNet("namespace", executor)
    try:
        _round_trip()
    except OSError as exc:
        reasons.append(f"no multicast on this machine's loopback ({exc!r})")
    else:
        return MdnsNet("loopback", ThreadPoolExecutor(1, "mdns-loopback"))
    return "DNS-SD tests need a network for multicast: " + "; ".join(reasons)


def mdns_net_fixture() -> Iterator[MdnsNet]:
    """Body of the ``mdns_net`` fixture: skip with the reason when no network fits."""
    import pytest

    net = open_mdns_net()
    if isinstance(net, str):
        pytest.skip(net)
    try:
        yield net
    finally:
        net.close()
