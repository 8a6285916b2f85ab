"""Receiver ids of another instance's receivers, and the chain of instances they came by.

A receiver read from another Micboard Desktop gets the id
``micboard:<source>/<its id there>``, where ``<source>`` is the instance id that instance
serves in ``/api/data/`` (32 hex digits, kept for good in its database), or its
``HOST:PORT`` when it serves none. No local plugin uses the code ``micboard``, so these ids
never collide with local receivers, and two instances never give the same prefix.

A receiver that passed through several instances keeps every hop in its id:
``micboard:B/micboard:A/shure:10.0.0.5:2202`` was attached to A, read by B, then by us.
That chain is how a loop is seen: a receiver whose chain holds our own id started here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from micboard_desktop.plugins.api import ReceiverId, receiver_id

CODE: Final = "micboard"
PREFIX: Final = f"{CODE}:"
MAX_HOPS: Final = 8
"""Most instances a receiver may have passed through; a longer chain is refused."""
_INSTANCE_ID: Final = re.compile(r"^[0-9A-Za-z_-]{8,64}$")


def is_instance_id(value: object) -> bool:
    """Return True when ``value`` can be an instance id (no ``/``, nothing to escape)."""
    return isinstance(value, str) and _INSTANCE_ID.match(value) is not None


def local_id(source: str, remote_id: str) -> ReceiverId:
    """Return our id of the receiver ``remote_id`` read from the instance ``source``."""
    return receiver_id(CODE, f"{source}/{remote_id}")


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a receiver read from other instances belongs."""

    chain: tuple[str, ...]
    """Instances it came through, nearest first; the last one is where it is attached."""
    receiver_id: str
    """Its id where it is attached (``shure:10.0.0.5:2202``)."""

    @property
    def manufacturer(self) -> str:
        """Return the manufacturer code it has where it is attached."""
        return self.receiver_id.partition(":")[0]


def origin_of(rid: str) -> Origin | None:
    """Return the chain of a ``micboard:`` receiver id, or ``None`` for a local receiver."""
    chain: list[str] = []
    rest = rid
    while rest.startswith(PREFIX):
        source, slash, inner = rest.removeprefix(PREFIX).partition("/")
        if not slash or not source:
            break
        chain.append(source)
        rest = inner
    return Origin(tuple(chain), rest) if chain else None


def chain_of(rid: str) -> tuple[str, ...]:
    """Return the instances a receiver id came through (empty for a local receiver)."""
    origin = origin_of(rid)
    return origin.chain if origin is not None else ()
