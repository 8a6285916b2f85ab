"""Make device text safe to store, show and log.

A device (or anything pretending to be one) may send names with lone surrogates, control
characters, terminal escape sequences, bidi overrides or megabytes of text. Lone surrogates
make SQLite (and any UTF-8 encoder) reject the whole write; control characters and escape
sequences rewrite a terminal that prints ``status`` or tails the log; a bidi override turns a
name around on screen. Every string a plugin delivers passes through :func:`clean_text` at the
plugin boundary (:mod:`micboard_desktop.engine.sink`), so nothing past it has to worry.

Cleaning is cheap for ordinary text: a string that is printable and short enough is returned
as it is (one C-level ``str.isprintable`` call), and the dataclass helpers return the same
object when nothing changed, so the store's ``==`` / ``is`` change tests keep working.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from micboard_desktop.core.fast_init import replace
from micboard_desktop.core.model import (
    Battery,
    Channel,
    ChannelId,
    Charger,
    ChargerBay,
    ChargerId,
    ConnectionInfo,
    Receiver,
    ReceiverId,
    Transmitter,
)

MAX_NAME_CHARS: Final = 128
"""Longest name, model or label kept (real devices allow 8-32 characters)."""

MAX_MESSAGE_CHARS: Final = 300
"""Longest error or health message kept (enough for a sentence and an address)."""

ELLIPSIS: Final = "\u2026"

_DROPPED_CATEGORIES: Final = frozenset({"Cc", "Cs", "Cf", "Co"})
"""Controls, surrogates, format characters (bidi overrides, zero-width marks), private use."""

_KEPT_FORMAT: Final = frozenset({"\u200d"})
"""Zero-width joiner: part of ordinary emoji sequences, harmless on a terminal."""

_SPACE_CATEGORIES: Final = frozenset({"Zl", "Zp"})


def _clean_char(char: str) -> str:
    if char in "\t\n\r\x0b\x0c\x85":
        return " "
    category = unicodedata.category(char)
    if category in _SPACE_CATEGORIES:
        return " "
    if category in _DROPPED_CATEGORIES and char not in _KEPT_FORMAT:
        return ""
    return char


def clean_text(value: str, limit: int = MAX_NAME_CHARS) -> str:
    """Return ``value`` without control, surrogate or format characters, at most ``limit`` long.

    Line breaks and tabs become spaces (a name stays on one line); a cut string ends in "…".
    """
    if len(value) <= limit and value.isprintable():
        return value
    cleaned = "".join(_clean_char(c) for c in value[: limit * 4]).strip()
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - 1].rstrip() + ELLIPSIS
    return cleaned


def clean_optional(value: str | None, limit: int = MAX_NAME_CHARS) -> str | None:
    """Like :func:`clean_text`, but ``None`` stays ``None`` and nothing left becomes ``None``."""
    if value is None:
        return None
    if len(value) <= limit and value.isprintable():
        return value
    return clean_text(value, limit) or None


def _clean_battery(battery: Battery) -> Battery:
    kind = clean_optional(battery.type)
    return battery if kind is battery.type else replace(battery, type=kind)


def _clean_transmitter(tx: Transmitter | None) -> Transmitter | None:
    if tx is None:
        return None
    model = clean_optional(tx.model)
    battery = _clean_battery(tx.battery)
    if model is tx.model and battery is tx.battery:
        return tx
    return replace(tx, model=model, battery=battery)


def clean_channel(channel: Channel) -> Channel:
    """Return ``channel`` with every device string cleaned (the same object if all were fine)."""
    name = clean_optional(channel.name)
    performer = clean_optional(channel.performer)
    tx = _clean_transmitter(channel.transmitter)
    antenna = clean_optional(channel.rf.antenna, 8)
    groups = tuple(clean_text(g) for g in channel.groups)
    ch_id = clean_text(channel.id, 4 * MAX_NAME_CHARS)
    if (
        name is channel.name
        and performer is channel.performer
        and tx is channel.transmitter
        and antenna is channel.rf.antenna
        and ch_id is channel.id
        and all(a is b for a, b in zip(groups, channel.groups, strict=True))
    ):
        return channel
    rf = channel.rf if antenna is channel.rf.antenna else replace(channel.rf, antenna=antenna)
    return replace(
        channel,
        id=ChannelId(ch_id),
        name=name,
        performer=performer,
        transmitter=tx,
        rf=rf,
        groups=groups,
    )


def clean_connection_info(info: ConnectionInfo) -> ConnectionInfo:
    """Return ``info`` with its error text cleaned."""
    error = clean_optional(info.last_error, MAX_MESSAGE_CHARS)
    return info if error is info.last_error else replace(info, last_error=error)


class CleanedChannels:
    """The channels :func:`clean_receiver` cleaned last, per receiver, to clean only new ones.

    Coordinators deliver a whole receiver for each change and keep the channel objects that
    did not change; records are immutable, so the same object cleans to the same result.
    Cleaning every channel of every delivery again was about 1 % of the engine's samples at
    2,000 channels (issue 22, benchmarks/RESULTS.md).
    """

    MAX_RECEIVERS: Final = 4096
    """Receivers remembered; past this (ids that keep changing) the memory starts again."""

    def __init__(self) -> None:
        self._last: dict[str, tuple[tuple[Channel, ...], tuple[Channel, ...]]] = {}

    def clean(self, receiver_id: str, channels: tuple[Channel, ...]) -> tuple[Channel, ...]:
        """Return ``channels`` cleaned, reusing the result for each object seen last time."""
        last = self._last.get(receiver_id)
        if last is None:
            if len(self._last) >= self.MAX_RECEIVERS:
                self._last.clear()
            cleaned = tuple(clean_channel(ch) for ch in channels)
        else:
            before, results = last
            known = len(before)
            cleaned = tuple(
                results[i] if i < known and ch is before[i] else clean_channel(ch)
                for i, ch in enumerate(channels)
            )
        self._last[receiver_id] = (channels, cleaned)
        return cleaned

    def forget(self, receiver_id: str) -> None:
        """Drop what was remembered of a receiver (it was removed)."""
        self._last.pop(receiver_id, None)


def clean_receiver(receiver: Receiver, memo: CleanedChannels | None = None) -> Receiver:
    """Return ``receiver`` with every device string cleaned (the same object if all were fine).

    Ids are cleaned too: they end up as database keys and in URLs. The mapping is
    deterministic, so a hostile id is cleaned to the same id every time. ``memo`` skips the
    channels it cleaned in the receiver's last delivery.
    """
    if memo is not None:
        channels = memo.clean(receiver.id, receiver.channels)
    else:
        channels = tuple(clean_channel(ch) for ch in receiver.channels)
    model = clean_optional(receiver.model)
    name = clean_optional(receiver.name)
    ip = clean_optional(receiver.ip)
    serial = clean_optional(receiver.serial)
    firmware = clean_optional(receiver.firmware)
    location = clean_optional(receiver.location)
    rid = clean_text(receiver.id, 4 * MAX_NAME_CHARS)
    api_id = clean_text(receiver.api_device_id, 4 * MAX_NAME_CHARS)
    connection = clean_connection_info(receiver.connection)
    unchanged = (
        rid is receiver.id
        and api_id is receiver.api_device_id
        and connection is receiver.connection
        and model is receiver.model
        and name is receiver.name
        and ip is receiver.ip
        and serial is receiver.serial
        and firmware is receiver.firmware
        and location is receiver.location
        and all(a is b for a, b in zip(channels, receiver.channels, strict=True))
    )
    if unchanged:
        return receiver
    return replace(
        receiver,
        id=ReceiverId(rid),
        api_device_id=api_id,
        connection=connection,
        channels=channels,
        model=model,
        name=name,
        ip=ip,
        serial=serial,
        firmware=firmware,
        location=location,
    )


_UNSAFE_FOR_LOGS: Final = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def escape_controls(text: str) -> str:
    """Return ``text`` with control, surrogate and bidi characters shown as escapes (for logs).

    Logs keep line breaks and tabs (tracebacks need them) but never carry an escape sequence
    that rewrites the terminal tailing them, or a lone surrogate that the UTF-8 log file
    cannot encode. Escaping (an ESC shows as backslash-x-1b) rather than dropping keeps the
    evidence readable.
    """
    if text.isascii() and text.isprintable():
        return text
    return _UNSAFE_FOR_LOGS.sub(lambda m: ascii(m.group())[1:-1], text)


def _clean_bay(bay: ChargerBay) -> ChargerBay:
    device_type = clean_optional(bay.device_type)
    state = clean_optional(bay.state)
    if device_type is bay.device_type and state is bay.state:
        return bay
    return replace(bay, device_type=device_type, state=state)


def clean_charger(charger: Charger) -> Charger:
    """Return ``charger`` with every device string cleaned (the same object if all were fine)."""
    bays = tuple(_clean_bay(bay) for bay in charger.bays)
    cid = clean_text(charger.id, 4 * MAX_NAME_CHARS)
    api_id = clean_text(charger.api_device_id, 4 * MAX_NAME_CHARS)
    model = clean_optional(charger.model)
    name = clean_optional(charger.name)
    ip = clean_optional(charger.ip)
    connection = clean_connection_info(charger.connection)
    if (
        cid is charger.id
        and api_id is charger.api_device_id
        and model is charger.model
        and name is charger.name
        and ip is charger.ip
        and connection is charger.connection
        and all(a is b for a, b in zip(bays, charger.bays, strict=True))
    ):
        return charger
    return replace(
        charger,
        id=ChargerId(cid),
        api_device_id=api_id,
        model=model,
        name=name,
        ip=ip,
        connection=connection,
        bays=bays,
    )
