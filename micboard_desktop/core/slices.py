"""Work in slices: a generator that yields between slices and returns its result.

Long work on the event loop (a history tick of thousands of rows, an intermod search of
dozens of carriers) is written as such a generator, so the same code can run in one go
(:func:`run_at_once`, for tests and small inputs) or let the loop read sockets and paint at
each yield (:func:`run_in_slices`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Generator, Iterator

type Steps[T] = Generator[None, None, T]
"""Slices of work: each ``yield`` is a point where others may run; the return is the result."""


def _slices[T](steps: Steps[T], result: list[T]) -> Iterator[None]:
    """Yield at each of ``steps``' yields; put its result in ``result`` at the end."""
    result.append((yield from steps))


def run_at_once[T](steps: Steps[T]) -> T:
    """Run every slice of ``steps`` back to back and return its result."""
    result: list[T] = []
    for _ in _slices(steps, result):
        pass
    return result[0]


async def run_in_slices[T](steps: Steps[T]) -> T:
    """Run ``steps``, letting the event loop run other callbacks at each yield."""
    result: list[T] = []
    for _ in _slices(steps, result):
        await asyncio.sleep(0)
    return result[0]
