"""When the SLP listener runs, and what the plugin's ``discover()`` gets from it.

The listener starts at the first discovery and then keeps listening until the plugin
closes. A technician who opens the discovery dialog expects the receivers on the network to
be listed, and expects the next "Run discovery" to answer at once and to include what was
switched on meanwhile. Listening only for a window at each press would make every press
wait, and could still miss a device between two of its announcements. Listening from the
moment the app starts would join a multicast group (and make Windows or macOS ask about the
firewall or the local network) on every show configured by address, where nobody asked the
app to look. So the first discovery listens for :data:`LISTEN_WINDOW_SECONDS` before it
answers; every later one answers at once with everything heard in the last 30 s.

Where to listen: the manufacturer's ``bind`` address when it names one IPv4 interface, else
the interface the system picks for multicast (its default route). ``MICBOARD_SHURE_SLP``
overrides both: an IPv4 address joins on that interface (a laptop on Wi-Fi and on the wired
rack network at once), ``off`` disables listening (the test suite sets it, so no test joins
a group on a real network by accident).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Final

from micboard_desktop.plugins.api import Clock, DiscoveredDevice, PluginError, clean_text
from micboard_desktop.plugins.shure.discovery.announcement import unicast_ipv4
from micboard_desktop.plugins.shure.discovery.listener import (
    ANY_INTERFACE,
    GROUP,
    PORT,
    SlpDevice,
    SlpListener,
    open_listener_socket,
)

ENV_VAR: Final = "MICBOARD_SHURE_SLP"
"""Environment variable choosing the interface (an IPv4 address), or ``off``."""
LISTEN_WINDOW_SECONDS: Final = 6.0
"""How long the first discovery listens before it answers (capped by the timeout)."""


def host_of(entry: str) -> str:
    """Return the host of a ``devices`` entry (``HOST``, ``HOST:PORT``, ``uhfr://HOST``...)."""
    text = entry.strip()
    scheme, sep, rest = text.partition("://")
    if sep and scheme:
        text = rest
    text = text.split("/", 1)[0]
    if text.startswith("["):
        return text[1:].partition("]")[0].lower()
    host, sep, port = text.rpartition(":")
    if sep and ":" not in host and port.isdigit():
        return host.lower()
    return text.lower()


class NetworkDiscovery:
    """Own the SLP listener for one plugin instance (see the module docstring)."""

    def __init__(
        self,
        *,
        clock: Clock,
        logger: logging.Logger,
        manufacturer: str = "shure",
        window_seconds: float = LISTEN_WINDOW_SECONDS,
        interface: str = ANY_INTERFACE,
        enabled: bool = True,
        port: int = PORT,
    ) -> None:
        self._clock = clock
        self._log = logger
        self._manufacturer = manufacturer
        self.window_seconds = window_seconds
        self.interface = interface
        self.enabled = enabled
        self.port = port
        self.socket_factory: Callable[[], socket.socket] = partial(
            open_listener_socket, interface=interface, port=port
        )
        """Makes the listening socket; tests swap it for one made in a private namespace."""
        self.listener: SlpListener | None = None
        self.status = "not started: discovery has not run yet" if enabled else "off"
        """One line saying whether announcements are heard, and why not."""
        self._started_at = 0.0

    @classmethod
    def from_environment(
        cls,
        *,
        clock: Clock,
        logger: logging.Logger,
        timeout: float,
        bind: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> NetworkDiscovery:
        """Build from ``MICBOARD_SHURE_SLP``, else the manufacturer's ``bind`` address.

        The first window stays within ``timeout * 2``: the engine gives ``discover()`` three
        timeouts, and the System API query runs during the window. ``bind`` (the local
        address the UDP protocols use, docs/contract.md §4) names the interface to join on
        when it is a specific IPv4 address.
        """
        setting = (os.environ if environ is None else environ).get(ENV_VAR, "").strip()
        window = max(0.0, min(LISTEN_WINDOW_SECONDS, timeout * 2))
        if setting.lower() == "off":
            return cls(clock=clock, logger=logger, window_seconds=window, enabled=False)
        interface = unicast_ipv4(bind or "") or ANY_INTERFACE
        if setting:
            chosen = unicast_ipv4(setting)
            if chosen is None:
                logger.warning("%s=%r is not an IPv4 address or 'off'; using the default "
                               "interface", ENV_VAR, clean_text(setting))
            else:
                interface = chosen
        return cls(clock=clock, logger=logger, window_seconds=window, interface=interface)

    @property
    def listening(self) -> bool:
        """Return whether announcements are being heard now."""
        return self.listener is not None and self.listener.listening

    async def start(self) -> bool:
        """Start listening unless already listening; return whether it listens.

        Never raises for a network problem: it logs one line naming the reason (port in
        use, no multicast) and discovery through the System API goes on without it.
        """
        if not self.enabled or self.listening:
            return self.listening
        where = "the default interface" if self.interface == ANY_INTERFACE else self.interface
        try:
            listener = SlpListener(clock=self._clock, logger=self._log)
            await listener.start(self.socket_factory())
        except (PluginError, OSError) as exc:
            self.status = f"unavailable: {exc}"
            self._log.warning("Shure network discovery (SLP) unavailable: %s; devices from "
                              "the System API are still listed", exc)
            return False
        self.listener = listener
        self._started_at = self._clock.monotonic()
        self.status = f"listening for announcements on {GROUP}:{self.port} ({where})"
        self._log.info("Shure network discovery: %s", self.status)
        return True

    def devices(self) -> list[SlpDevice]:
        """Return every device heard in the last 30 s (configured ones included)."""
        return self.listener.devices() if self.listener is not None else []

    async def found(
        self, configured: Iterable[str], known: Iterable[str] = ()
    ) -> list[DiscoveredDevice]:
        """Return the announced devices whose host is neither configured nor in ``known``.

        Waits first until the listener has listened for its window, so the first
        discovery does not answer before the devices had a chance to announce.
        """
        if self.listener is None:
            return []
        remaining = self._started_at + self.window_seconds - self._clock.monotonic()
        if remaining > 0 and self.listening:
            await self._clock.sleep(remaining)
        skip = {host_of(entry) for entry in (*configured, *known)}
        return [
            DiscoveredDevice(
                manufacturer=self._manufacturer,
                address=device.config_address,
                model=device.model.model if device.model else None,
            )
            for device in self.devices()
            if device.address.lower() not in skip
        ]

    async def close(self) -> None:
        """Stop listening."""
        if self.listener is not None:
            self.listener.close()
            self.listener = None
        if self.enabled:
            self.status = "stopped"
