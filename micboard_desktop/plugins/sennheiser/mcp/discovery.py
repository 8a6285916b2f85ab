"""Finding MCP devices that are not configured: one broadcast GET on the shared socket.

What the reference supports, and no more (sennheiser.md §4.1, §8): MCP has no documented
discovery message. A client used in the field (RFjs, [IMPL]) broadcasts to
255.255.255.255 from port 53212, and every MCP device answers a GET, the keyword alone
([DOC]). So the probe is the harmless ``Name<CR>`` (it changes nothing), broadcast from the
shared ``bind``:53212 socket; every address that answers with a ``Name`` line (or an error
reply: it is still an MCP device) and is not configured yet is reported. The family is not
known from one answer, so no model is given.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Final

from micboard_desktop.plugins.api import DiscoveredDevice
from micboard_desktop.plugins.sennheiser.mcp.address import (
    DEFAULT_PORT,
    address_of,
    is_mcp_address,
    parse_mcp_address,
)
from micboard_desktop.plugins.sennheiser.mcp.frames import DeviceError, command, split_datagram
from micboard_desktop.plugins.sennheiser.mcp.link import McpSocket, Peer, normal_host
from micboard_desktop.plugins.sennheiser.mcp.mapping import Setting, parse_line

BROADCAST: Final = ("255.255.255.255", DEFAULT_PORT)
LISTEN_SECONDS: Final = 1.5
MAX_FOUND: Final = 256
"""Most devices one probe reports (a flood of answers must not grow memory)."""


async def discover_mcp(
    link: McpSocket,
    configured: Iterable[str],
    *,
    target: Peer = BROADCAST,
    wait: float = LISTEN_SECONDS,
) -> list[DiscoveredDevice]:
    """Broadcast ``Name`` to ``target`` and return the devices that answered in ``wait`` s."""
    known: set[tuple[str, int]] = set()
    for address in configured:
        if is_mcp_address(address):
            try:
                host, port = parse_mcp_address(address)
            except ValueError:
                continue
            known.add((normal_host(host), port))
    found: dict[Peer, str | None] = {}

    def heard(data: bytes, peer: Peer) -> None:
        if peer in known or len(found) >= MAX_FOUND:
            return
        for tokens in split_datagram(data):
            line = parse_line(tokens)
            if isinstance(line, Setting) and line.key == "Name":
                found[peer] = line.value if isinstance(line.value, str) else None
            elif isinstance(line, DeviceError) and peer not in found:
                found[peer] = None

    await link.open()
    remove = link.listen(heard)
    try:
        link.send(command("Name"), target)
        await asyncio.sleep(wait)
    finally:
        remove()
    return [
        DiscoveredDevice(manufacturer="sennheiser", address=address_of(host, port), name=name)
        for (host, port), name in sorted(found.items())
    ]
