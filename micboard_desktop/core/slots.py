"""Slot numbers: the number a channel keeps on the board, whatever else comes or goes.

A technician calls "slot 7" over the radio; the number names a performer's pack for the whole
show, as in the original Micboard. So a channel gets its number once, soon after it is first
seen (with the channels that arrive with it, in board order: :func:`slot_order`), and keeps
it across restarts and when other receivers are added or removed; only the user changes it,
and moving a channel onto a taken number swaps the two (what Micboard users do when they
re-order a board). These are the rules; ``engine/slots.py`` applies and stores them, the
board and the hardware view show them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

from micboard_desktop.core.errors import ConfigError
from micboard_desktop.core.model import Channel, ChannelId, Receiver

MAX_SLOT: Final = 999
"""Highest slot number (three digits fit the tile header at every size)."""


def slot_order(receiver: Receiver, channel: Channel) -> tuple[str, str, str, int]:
    """Return the key new channels are numbered in: maker, receiver name, channel number.

    It is the order the board counted tiles in before numbers were kept, so a database from
    then gets the numbers its technician knew.
    """
    return (receiver.manufacturer, receiver.name or receiver.id, receiver.id, channel.number)


def check_slot(slot: int) -> None:
    """Raise ``ConfigError`` unless ``slot`` is a number from 1 to :data:`MAX_SLOT`."""
    if isinstance(slot, bool) or not isinstance(slot, int) or not 1 <= slot <= MAX_SLOT:
        raise ConfigError(f"slot: slot numbers are 1 to {MAX_SLOT}, not {slot!r}", key="slot")


def assign_slots(taken: Mapping[ChannelId, int], new: Iterable[ChannelId]) -> dict[ChannelId, int]:
    """Return numbers for the ``new`` channels, in the order given, next to the ``taken`` ones.

    Each number follows the highest one in use (max + 1) rather than filling the lowest gap:
    gaps on a board are the user's (vocals 1-8, band from 11), and a receiver plugged in
    mid-show must land after the board, not inside a section someone laid out. Only when the
    numbers reach :data:`MAX_SLOT` are gaps filled, lowest first; a channel for which no
    number is left gets none (it is left out of the result).
    """
    used = set(taken.values())
    top = max(used, default=0)
    given: dict[ChannelId, int] = {}
    for channel in new:
        if channel in taken or channel in given:
            continue
        if top < MAX_SLOT:
            top += 1
            number = top
        else:
            gap = next((n for n in range(1, MAX_SLOT + 1) if n not in used), None)
            if gap is None:
                break
            number = gap
        given[channel] = number
        used.add(number)
    return given


def move_slot(
    slots: Mapping[ChannelId, int], channel: ChannelId, slot: int
) -> dict[ChannelId, int]:
    """Return the numbers that change when the user moves ``channel`` to ``slot``.

    The channel holding ``slot`` takes ``channel``'s old number: a swap, so no channel ever
    loses its number. A channel that had none yet gives the holder a new one by the rule of
    :func:`assign_slots`.

    Raises:
        ConfigError: ``slot`` is outside 1 to :data:`MAX_SLOT`, or it is taken, ``channel``
            has no number to give in exchange, and no number is left.
    """
    check_slot(slot)
    current = slots.get(channel)
    if current == slot:
        return {}
    holder = next((cid for cid, number in slots.items() if number == slot), None)
    changes = {channel: slot}
    if holder is None:
        return changes
    if current is not None:
        changes[holder] = current
        return changes
    others = {cid: number for cid, number in slots.items() if cid != holder}
    replacement = assign_slots({**others, channel: slot}, [holder])
    if holder not in replacement:
        raise ConfigError(
            f"slot: every number up to {MAX_SLOT} is in use; slot {slot} cannot be taken "
            "from its channel",
            key="slot",
        )
    changes[holder] = replacement[holder]
    return changes
