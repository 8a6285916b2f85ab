"""Merge System API devices and command-string receivers into one receiver per device.

**Matching rule** (:func:`match_devices`), each step only among devices still unmatched
and never across different known models:

1. *IP address*: a System API device whose ``communicationProtocol.address`` equals the
   host of exactly one configured command-string address, and no other System API device
   has that address.
2. *Serial number*, when both sides know one (command strings do not report it today;
   kept for a source that will).
3. *Device id*: the command-string ``DEVICE_ID`` (the receiver's user-set name) equals
   the System API device name, the pair is unique on both sides, and the addresses agree
   (or the configured host is a DNS name, which we cannot compare without resolving).

**Identity**: a matched device keeps the command-string id ``shure:<host>:<port>``,
because its meters are posted on the MeterBus under that id; a System-API-only device is
``shure:<deviceId lower case>``. When a match appears later (e.g. the ``DEVICE_ID``
arrives after the inventory) the System-API-only receiver is removed from the store.

**Fields**: inventory (model, name, firmware, serial) comes from the System API first
and falls back to command strings; telemetry (RF, battery, audio, frequency, transmitter)
comes only from command strings; channel names from command strings first, then the
System API. A value one side does not know never overwrites the other's. A matched
receiver's ``online`` and ``connection`` follow the command-string connection: it is
the telemetry source, and "online" with frozen RF/battery values would mislead.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from micboard_desktop.core.model import (
    Channel,
    ConnectionInfo,
    Receiver,
    ReceiverId,
    channel_id,
    receiver_id,
)
from micboard_desktop.plugins.shure.system_api_model import ApiDevice

MANUFACTURER = "shure"


@dataclass(frozen=True, slots=True)
class CommandView:
    """What matching needs from a configured command-string receiver."""

    key: str
    """``host:port``."""
    host: str
    name: str | None = None
    model: str | None = None
    serial: str | None = None


@dataclass(frozen=True, slots=True)
class ApiView:
    """What matching needs from a System API device."""

    key: str
    """Lower-case device id."""
    address: str | None = None
    name: str | None = None
    model: str | None = None
    serial: str | None = None


def _ip(text: str | None) -> str | None:
    """Return ``text`` as a canonical IP literal, or ``None`` if it is not one."""
    if not text:
        return None
    try:
        return str(ipaddress.ip_address(text.strip().strip("[]")))
    except ValueError:
        return None


def _lower(text: str | None) -> str | None:
    return text.strip().lower() or None if text else None


def _compatible(cmd: CommandView, api: ApiView) -> bool:
    """Return False only when both sides know the model and they differ."""
    if not cmd.model or not api.model:
        return True
    return cmd.model.strip().lower() == api.model.strip().lower()


def _unique_pairs(
    cmds: Sequence[CommandView],
    apis: Sequence[ApiView],
    key_cmd: Callable[[CommandView], str | None],
    key_api: Callable[[ApiView], str | None],
) -> list[tuple[CommandView, ApiView]]:
    """Return pairs whose key occurs exactly once on each side."""
    by_cmd: dict[str, list[CommandView]] = {}
    by_api: dict[str, list[ApiView]] = {}
    for c in cmds:
        if (k := key_cmd(c)) is not None:
            by_cmd.setdefault(k, []).append(c)
    for a in apis:
        if (k := key_api(a)) is not None:
            by_api.setdefault(k, []).append(a)
    return [
        (cs[0], by_api[k][0])
        for k, cs in by_cmd.items()
        if len(cs) == 1 and len(by_api.get(k, ())) == 1 and _compatible(cs[0], by_api[k][0])
    ]


def match_devices(cmds: Sequence[CommandView], apis: Sequence[ApiView]) -> dict[str, str]:
    """Return ``{api key: command key}`` following the rule in the module docstring."""
    links: dict[str, str] = {}

    def remaining() -> tuple[list[CommandView], list[ApiView]]:
        used = set(links.values())
        return [c for c in cmds if c.key not in used], [a for a in apis if a.key not in links]

    steps: list[tuple[Callable[[CommandView], str | None], Callable[[ApiView], str | None]]] = [
        (lambda c: _ip(c.host), lambda a: _ip(a.address)),
        (lambda c: _lower(c.serial), lambda a: _lower(a.serial)),
        (lambda c: _lower(c.name), lambda a: _lower(a.name)),
    ]
    for step, (key_cmd, key_api) in enumerate(steps):
        cmds_left, apis_left = remaining()
        for cmd, api in _unique_pairs(cmds_left, apis_left, key_cmd, key_api):
            if step == 2 and _ip(cmd.host) is not None and _ip(cmd.host) != _ip(api.address):
                continue  # same name on a different address: two devices, not one
            links[api.key] = cmd.key
    return links


def api_view(device: ApiDevice) -> ApiView:
    """Return the matching view of a System API device."""
    node = device.node
    return ApiView(node.key, node.address, device.name, node.model, node.serial)


def stamp_channels(new: Receiver, last: Receiver | None, now: datetime) -> Receiver:
    """Give channels that changed since ``last`` the time ``now``; keep the others' stamps."""
    before = {} if last is None else {ch.number: ch for ch in last.channels}
    channels = []
    for ch in new.channels:
        old = before.get(ch.number)
        if ch.updated_at is None:
            same = old is not None and replace(old, updated_at=None) == ch
            ch = replace(ch, updated_at=old.updated_at if same and old else now)
        channels.append(ch)
    return replace(new, channels=tuple(channels))


def unstamped(receiver: Receiver) -> Receiver:
    """Return ``receiver`` without the timestamps that change on every snapshot."""
    return replace(
        receiver,
        last_seen=None,
        channels=tuple(replace(ch, updated_at=None) for ch in receiver.channels),
    )


def merge_receiver(rid: ReceiverId, cmd: Receiver, api: ApiDevice | None) -> Receiver:
    """Fold a System API device's inventory and names into a command-string receiver."""
    if api is None:
        return replace(cmd, id=rid)
    node = api.node
    names = {c.number: c.name for c in api.channels}
    numbers = sorted({ch.number for ch in cmd.channels} | set(names))
    channels = []
    for number in numbers:
        ch = cmd.channel(number) or Channel(id=channel_id(rid, number), number=number)
        channels.append(replace(ch, name=ch.name or names.get(number)))
    return replace(
        cmd,
        id=rid,
        model=node.model or cmd.model,
        name=api.name or cmd.name,
        firmware=node.firmware or cmd.firmware,
        serial=node.serial or cmd.serial,
        channels=tuple(channels),
    )


def api_receiver(device: ApiDevice, connection: ConnectionInfo) -> Receiver:
    """Return the receiver of a System-API-only device (names, no telemetry)."""
    node = device.node
    rid = receiver_id(MANUFACTURER, node.key)
    return Receiver(
        id=rid,
        manufacturer=MANUFACTURER,
        api_device_id=node.device_id,
        connection=connection,
        model=node.model,
        name=device.name,
        ip=node.address,
        serial=node.serial,
        firmware=node.firmware,
        online=node.online,
        channels=tuple(
            Channel(id=channel_id(rid, c.number), number=c.number, name=c.name)
            for c in sorted(device.channels, key=lambda c: c.number)
        ),
    )
