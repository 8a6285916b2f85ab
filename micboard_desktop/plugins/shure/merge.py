"""Merge System API devices and command-string receivers into one receiver per device.

**Matching rule** (:func:`match_report`). Several receivers may share one address (loopback,
port forwarding, or a System API that reports the host it runs on), so an address alone
never pairs two devices. A command-string receiver and a System API device are *candidates*
when

* nothing known contradicts the pair: the models agree (``AD4D-A`` is an ``AD4D``: AD
  receivers add the band, shure.md §3.4), the System API model belongs to a family the
  command strings allow (the SAMPLE layout tells ULX-D/QLX-D, AD and SLX-D apart,
  shure.md §3.3), and the receiver reports no more channels than the device has; and
* something positively agrees, in two tiers tried in order:

  1. the *name* (command-string ``DEVICE_ID`` = System API device name, compared
     case-insensitively), with equal addresses, or any address when the configured host is
     a DNS name or the System API gives none (we cannot compare those without resolving);
  2. the *model* or the *channel count*, with equal IP addresses.

A serial number known on both sides (command strings do not report one today) pairs first.
A pair links only when it is unique in its tier on both sides. A receiver with two or more
candidates is **ambiguous**: it stays a receiver of its own, the System API device stays one
too, and :class:`MatchResult` says why (the plugin shows it on the receiver's connection).
Device ids compare case-insensitively (shure.md §2.5).

**Identity**: a matched device keeps the command-string id ``shure:<host>:<port>``,
because its meters are posted on the MeterBus under that id (and performers and groups
are attached to its channel ids), while its ``api_device_id`` becomes the System API
``deviceId``; a System-API-only device is ``shure:<deviceId lower case>``. When a match
appears later (e.g. the ``DEVICE_ID`` arrives after the inventory) the System-API-only
receiver is removed from the store.

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
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Final

from micboard_desktop.plugins.api import (
    Channel,
    ConnectionInfo,
    Receiver,
    ReceiverId,
    channel_id,
    clean_text,
    receiver_id,
    replace,
)
from micboard_desktop.plugins.shure.command.families import family_from_model
from micboard_desktop.plugins.shure.system_api.mapping import ApiDevice

MANUFACTURER = "shure"
NOTE_NAME_CHARS: Final = 32
"""Longest device name quoted in an ambiguity note (real names have 8-31 characters)."""
NOTE_MAX_CANDIDATES: Final = 3
"""Candidates named in an ambiguity note; more are only counted."""


@dataclass(frozen=True, slots=True)
class CommandView:
    """What matching needs from a configured command-string receiver."""

    key: str
    """``host:port``."""
    host: str
    name: str | None = None
    model: str | None = None
    serial: str | None = None
    families: frozenset[str] | None = None
    """Families the receiver can be (from its model or SAMPLE layout); ``None`` if unknown."""
    channels: int | None = None
    """Channels reported so far (``None`` before any)."""


@dataclass(frozen=True, slots=True)
class ApiView:
    """What matching needs from a System API device."""

    key: str
    """Lower-case device id."""
    address: str | None = None
    name: str | None = None
    model: str | None = None
    serial: str | None = None
    channels: int | None = None
    """Audio channels listed (``None`` when not fetched)."""


@dataclass(frozen=True, slots=True)
class MatchResult:
    """The links found and the receivers left unmatched because several devices fit."""

    links: dict[str, str] = field(default_factory=dict)
    """System API device key -> command-string key."""
    ambiguous: dict[str, tuple[ApiView, ...]] = field(default_factory=dict)
    """Command-string key -> the System API devices it could be (two or more)."""


def _ip(text: str | None) -> str | None:
    """Return ``text`` as a canonical IP literal, or ``None`` if it is not one."""
    if not text:
        return None
    return _ip_literal(text)


@lru_cache(maxsize=4096)
def _ip_literal(text: str) -> str | None:
    """Parse an address once (matching asks for the same few hundred again and again)."""
    try:
        return str(ipaddress.ip_address(text.strip().strip("[]")))
    except ValueError:
        return None


def _lower(text: str | None) -> str | None:
    return text.strip().lower() or None if text else None


def same_model(a: str | None, b: str | None) -> bool | None:
    """Return whether two model names are one model (``AD4D-A`` = ``AD4D``); None if unknown."""
    if not a or not b:
        return None
    x, y = a.strip().upper(), b.strip().upper()
    return x == y or x.startswith(y + "-") or y.startswith(x + "-")


def _compatible(cmd: CommandView, api: ApiView) -> bool:
    """Return False when anything both sides know rules the pair out."""
    if same_model(cmd.model, api.model) is False:
        return False
    api_family = family_from_model(api.model)
    if cmd.families is not None and api_family is not None and api_family not in cmd.families:
        return False
    if cmd.channels is not None and api.channels is not None:
        return cmd.channels <= api.channels
    return True


def _by_name(cmd: CommandView, api: ApiView) -> bool:
    """Tier 1: same name, and the addresses agree where both are IP addresses."""
    name = _lower(cmd.name)
    if name is None or name != _lower(api.name):
        return False
    host, address = _ip(cmd.host), _ip(api.address)
    return host is None or address is None or host == address


def _by_model_or_size(cmd: CommandView, api: ApiView) -> bool:
    """Tier 2: same IP address, and the same model or the same channel count."""
    host = _ip(cmd.host)
    if host is None or host != _ip(api.address):
        return False
    if same_model(cmd.model, api.model):
        return True
    return cmd.channels is not None and cmd.channels == api.channels


def _unique_serials(cmds: Sequence[CommandView], apis: Sequence[ApiView]) -> dict[str, str]:
    """Return links whose serial occurs exactly once on each side."""
    by_cmd: dict[str, list[CommandView]] = {}
    by_api: dict[str, list[ApiView]] = {}
    for c in cmds:
        if (k := _lower(c.serial)) is not None:
            by_cmd.setdefault(k, []).append(c)
    for a in apis:
        if (k := _lower(a.serial)) is not None:
            by_api.setdefault(k, []).append(a)
    links: dict[str, str] = {}
    for k, cs in by_cmd.items():
        found = by_api.get(k, [])
        if len(cs) == 1 and len(found) == 1 and _compatible(cs[0], found[0]):
            links[found[0].key] = cs[0].key
    return links


_Tier = tuple[
    Callable[[CommandView, ApiView], bool],
    Callable[[CommandView], str | None],
    Callable[[ApiView], str | None],
]
"""A tier's test, and the key both sides must share for it to possibly agree."""

_TIERS: Final[tuple[_Tier, ...]] = (
    (_by_name, lambda c: _lower(c.name), lambda a: _lower(a.name)),
    (_by_model_or_size, lambda c: _ip(c.host), lambda a: _ip(a.address)),
)


def match_report(cmds: Sequence[CommandView], apis: Sequence[ApiView]) -> MatchResult:
    """Return links and ambiguous receivers following the rule in the module docstring."""
    links = _unique_serials(cmds, apis)
    ambiguous: dict[str, tuple[ApiView, ...]] = {}
    for agrees, cmd_key, api_key in _TIERS:
        used = set(links.values())
        cmds_left = [c for c in cmds if c.key not in used]
        # A tier can only agree on a shared name (tier 1) or IP address (tier 2): index the
        # devices by it (in their order) rather than test every pair, which on a
        # 500-receiver rig took half a second per re-match, at every identity change.
        bucket: dict[str, list[ApiView]] = {}
        for api in apis:
            if api.key not in links and (shared := api_key(api)) is not None:
                bucket.setdefault(shared, []).append(api)
        fits: dict[str, list[ApiView]] = {}
        claims: dict[str, int] = {}
        for cmd in cmds_left:
            shared = cmd_key(cmd)
            near = bucket.get(shared, []) if shared is not None else []
            found = [a for a in near if _compatible(cmd, a) and agrees(cmd, a)]
            fits[cmd.key] = found
            for api in found:
                claims[api.key] = claims.get(api.key, 0) + 1
        for cmd in cmds_left:
            found = fits[cmd.key]
            if len(found) == 1 and claims[found[0].key] == 1:
                links[found[0].key] = cmd.key
                ambiguous.pop(cmd.key, None)
            elif len(found) > 1 or (found and claims[found[0].key] > 1):
                # Keep what the strongest tier saw; a later tier may still resolve it.
                ambiguous.setdefault(cmd.key, tuple(found))
    linked = set(links.values())
    return MatchResult(links, {k: v for k, v in ambiguous.items() if k not in linked})


def match_devices(cmds: Sequence[CommandView], apis: Sequence[ApiView]) -> dict[str, str]:
    """Return ``{api key: command key}`` following the rule in the module docstring."""
    return match_report(cmds, apis).links


def ambiguity_note(candidates: Sequence[ApiView]) -> str:
    """Return the connection note for a receiver that several System API devices could be."""
    shown = [
        clean_text(f"{c.model or 'unknown model'} '{c.name or c.key}'", 2 * NOTE_NAME_CHARS)
        for c in candidates[:NOTE_MAX_CANDIDATES]
    ]
    more = len(candidates) - len(shown)
    listed = ", ".join(shown) + (f" and {more} more" if more > 0 else "")
    return (
        f"Not merged with the System API: {len(candidates)} devices there could be this "
        f"receiver ({listed}); shown separately until a name, model or channel count tells "
        "them apart"
    )


def api_view(device: ApiDevice) -> ApiView:
    """Return the matching view of a System API device."""
    node = device.node
    channels = len(device.channels) if device.channels else None
    return ApiView(node.key, node.address, device.name, node.model, node.serial, channels)


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
        # The receiver keeps its command-string id (its meters and user data hang on it) but
        # carries the System API's identity, as a LAN client knows the device by it.
        api_device_id=node.device_id or cmd.api_device_id,
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
