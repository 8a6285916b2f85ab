"""ReadingColumns: a pack's battery readings kept as two columns of floats, not an object each.

A channel's series gains a reading on every new value and at least every heartbeat for the
whole show (engine/estimates.py). As objects, a big rig's three-hour show holds hundreds of
thousands of them, and every full pass of Python's garbage collector walks each one on the
event loop's thread: the pass, and the loop's stall, would grow with the show. Two arrays of
floats are invisible to the collector; :class:`Reading` objects are made only when read
one by one. A fit reads the two columns whole (``columns``), in a worker thread.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from typing import overload

from micboard_desktop.core.runtime_estimate import Reading


class ReadingColumns(Sequence[Reading]):
    """Readings in time order as a sequence, stored as columns; ``maxlen`` drops the oldest."""

    __slots__ = ("_at", "_value", "maxlen")

    def __init__(self, readings: Iterable[Reading] = (), maxlen: int | None = None) -> None:
        if maxlen is not None and maxlen < 1:
            raise ValueError("maxlen must be at least 1")
        self.maxlen = maxlen
        self._at = array("d")
        self._value = array("d")
        for reading in readings:
            self.append(reading)

    def append(self, reading: Reading) -> None:
        """Add ``reading`` at the end (dropping the oldest beyond ``maxlen``, as a deque does)."""
        self._at.append(reading.at)
        self._value.append(reading.value)
        if self.maxlen is not None and len(self._at) > self.maxlen:
            del self._at[0]
            del self._value[0]

    def copy(self) -> ReadingColumns:
        """Return an independent copy (two array copies: cheap enough for the event loop)."""
        twin = ReadingColumns.__new__(ReadingColumns)
        twin.maxlen = self.maxlen
        twin._at = array("d", self._at)
        twin._value = array("d", self._value)
        return twin

    def columns(self) -> tuple[array[float], array[float]]:
        """Return the times and the values, oldest first (the stored arrays: do not change)."""
        return self._at, self._value

    def __len__(self) -> int:
        """Return how many readings are kept."""
        return len(self._at)

    @overload
    def __getitem__(self, index: int) -> Reading: ...

    @overload
    def __getitem__(self, index: slice) -> list[Reading]: ...

    def __getitem__(self, index: int | slice) -> Reading | list[Reading]:
        """Return the reading at ``index`` (negative counts from the end), or a slice's list."""
        if isinstance(index, slice):
            return [Reading(at, value) for at, value in
                    zip(self._at[index], self._value[index], strict=True)]
        return Reading(self._at[index], self._value[index])

    def __iter__(self) -> Iterator[Reading]:
        """Yield the readings oldest first."""
        for at, value in zip(self._at, self._value, strict=True):
            yield Reading(at, value)

    def __repr__(self) -> str:
        """Show the size, not every reading."""
        return f"ReadingColumns(<{len(self)} readings>, maxlen={self.maxlen})"

