"""Whether a receiver's values are live, and if not, why: stopped, silent or gone.

A deliberate Stop, a network freeze and a receiver that is switched off used to look the
same (RX OFFLINE and a critical alert). They call for different actions backstage, so the
board names them apart:

* ``NOT_MONITORED``: the user stopped the connection; nothing is wrong, no alert.
* ``NO_DATA``: the link dropped a moment ago; the last values are still worth reading,
  shown dimmed with their age, and the link is being re-made.
* ``OFFLINE``: the link has been down longer than the receiver-offline hold (the same
  hold that raises the "Receiver offline" alert, so tile and alert agree).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from micboard_desktop.core.model import ChannelStatus, ConnectionStatus, Receiver
from micboard_desktop.core.status import ATTENTION_ORDER, NEEDS_ATTENTION, attention_rank


class Liveness(StrEnum):
    """How current a receiver's values are."""

    LIVE = "live"
    NO_DATA = "no_data"
    NOT_MONITORED = "not_monitored"
    OFFLINE = "offline"


@dataclass(frozen=True, slots=True)
class ReceiverLiveness:
    """A receiver's liveness and, while it shows last values, how old they are."""

    state: Liveness
    age: timedelta | None = None
    """Time since the last data, for ``NO_DATA`` (None when unknown)."""


def monitored(receiver: Receiver) -> bool:
    """Return False when the user stopped the receiver's connection (no alerts for it)."""
    return receiver.connection.status is not ConnectionStatus.STOPPED


def receiver_liveness(receiver: Receiver, now: datetime, offline_after: float) -> ReceiverLiveness:
    """Return how current ``receiver``'s values are at ``now``.

    ``offline_after`` is the receiver-offline alert's raise hold in seconds. The age runs
    from ``last_seen``, which the coordinators set to the last message when a link drops.
    """
    if not monitored(receiver):
        return ReceiverLiveness(Liveness.NOT_MONITORED)
    if receiver.online:  # the coordinators set it while the link is up
        return ReceiverLiveness(Liveness.LIVE)
    if receiver.last_seen is None:
        return ReceiverLiveness(Liveness.OFFLINE)
    age = max(timedelta(0), now - receiver.last_seen)
    if age < timedelta(seconds=offline_after):
        return ReceiverLiveness(Liveness.NO_DATA, age)
    return ReceiverLiveness(Liveness.OFFLINE)


def shows_last_values(state: Liveness) -> bool:
    """Return True when the receiver's last values are still shown (live or just dropped)."""
    return state in (Liveness.LIVE, Liveness.NO_DATA)


def board_rank(status: ChannelStatus, state: Liveness) -> int:
    """Return where a channel sorts on the board by status (0 first), liveness included.

    A stopped receiver is nobody's emergency: after the idle spares. Values that just went
    quiet sort with the offline receivers: nobody knows what that mic is doing now.
    """
    if state is Liveness.NOT_MONITORED:
        return len(ATTENTION_ORDER)
    if state is Liveness.NO_DATA:
        return attention_rank(ChannelStatus.RX_OFFLINE)
    return attention_rank(status)


def needs_attention(status: ChannelStatus, state: Liveness) -> bool:
    """Return True for a channel a filter must never hide without saying so."""
    if state is Liveness.NOT_MONITORED:
        return False
    return state is Liveness.NO_DATA or status in NEEDS_ATTENTION
