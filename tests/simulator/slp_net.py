"""A network for SLP tests where multicast reaches nobody else.

First choice: a private network namespace holding only loopback, entered by one worker
thread (``unshare(CLONE_NEWNET)`` moves that thread alone), so every socket the tests make
through :meth:`SlpNet.call` lives there and the rest of the process stays where it was. It
needs root (or CAP_SYS_ADMIN) on Linux. Second choice: this machine's loopback, joined and
sent on 127.0.0.1 only with a TTL of 1, on a port the kernel picks (never 8427, where a real
listener might be). When neither carries a multicast datagram the tests are skipped with the
reason. ``MICBOARD_TEST_SLP_NET=loopback`` skips the namespace (to test the fallback).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import struct
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from micboard_desktop.plugins.shure.discovery.listener import GROUP, PORT, open_listener_socket
from micboard_desktop.simulator.shure.slp import open_announcer_socket

T = TypeVar("T")

_SIOCGIFFLAGS = 0x8913
_SIOCSIFFLAGS = 0x8914
_IFF_UP = 0x1
_IFREQ = "16sH14x"


def _enter_private_namespace() -> None:
    """Move the calling thread into a new network namespace and bring its loopback up."""
    os.unshare(os.CLONE_NEWNET)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack(_IFREQ, b"lo", 0)
        flags = struct.unpack(_IFREQ, fcntl.ioctl(sock, _SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, _SIOCSIFFLAGS, struct.pack(_IFREQ, b"lo", flags | _IFF_UP))


def _interfaces() -> list[str]:
    return [name for _, name in socket.if_nameindex()]


class SlpNet:
    """Where a test makes its SLP sockets (see the module docstring)."""

    def __init__(self, kind: str, port: int, executor: ThreadPoolExecutor | None) -> None:
        self.kind = kind
        """``"namespace"`` or ``"loopback"``."""
        self.port = port
        """The SLP port to use there (8427 in a namespace)."""
        self._executor = executor

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn`` where the test's sockets must be made and return its result."""
        if self._executor is None:
            return fn(*args, **kwargs)
        return self._executor.submit(fn, *args, **kwargs).result(timeout=10)

    def interfaces(self) -> list[str]:
        """Return the network interfaces visible where the sockets are made."""
        return self.call(_interfaces)

    def listener_socket(self, interface: str = "127.0.0.1") -> socket.socket:
        """Return an SLP listening socket joined on ``interface`` (loopback by default)."""
        return self.call(open_listener_socket, interface=interface, port=self.port)

    def announcer_socket(self, source: str) -> socket.socket:
        """Return an announcer socket sending from ``source`` over loopback."""
        return self.call(open_announcer_socket, source)

    def close(self) -> None:
        """Let the namespace go (it disappears with its last socket)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True)


def _round_trip(port: int) -> int:
    """Send one datagram to the group over loopback; return the port it arrived on."""
    with contextlib.ExitStack() as stack:
        rx = stack.enter_context(open_listener_socket(interface="127.0.0.1", port=port))
        rx.setblocking(True)
        rx.settimeout(1.0)
        tx = stack.enter_context(open_announcer_socket("127.0.0.1"))
        bound = rx.getsockname()[1]
        tx.sendto(b"probe", (GROUP, bound))
        data, _ = rx.recvfrom(64)
        if data != b"probe":
            raise OSError("wrong datagram")
        return int(bound)


def open_slp_net() -> SlpNet | str:
    """Return a place for SLP sockets, or the reason there is none here."""
    reasons: list[str] = []
    if sys.platform != "linux":
        reasons.append("no network namespaces off Linux")
    elif os.environ.get("MICBOARD_TEST_SLP_NET") != "loopback":
        executor = ThreadPoolExecutor(1, "slp-netns", initializer=_enter_private_namespace)
        try:
            names = executor.submit(_interfaces).result(timeout=10)
            if names != ["lo"]:  # never go on unless the thread is cut off from the network
                raise OSError(f"the namespace is not private: {names}")
            executor.submit(_round_trip, PORT).result(timeout=10)
        except Exception as exc:
            executor.shutdown(wait=True)
            reasons.append(f"no private network namespace ({exc!r})")
        else:
            return SlpNet("namespace", PORT, executor)
    try:
        port = _round_trip(0)
    except OSError as exc:
        reasons.append(f"no multicast on this machine's loopback ({exc!r})")
    else:
        return SlpNet("loopback", port, None)
    return "SLP multicast tests need a private network: " + "; ".join(reasons)


def slp_net_fixture() -> Iterator[SlpNet]:
    """Body of the ``slp_net`` fixture: skip with the reason when no network fits."""
    import pytest

    net = open_slp_net()
    if isinstance(net, str):
        pytest.skip(net)
    try:
        yield net
    finally:
        net.close()
