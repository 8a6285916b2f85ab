"""core/slices.py: the same sliced work run in one go or with the loop running between."""

from __future__ import annotations

import asyncio

import pytest

from micboard_desktop.core.slices import Steps, run_at_once, run_in_slices


def _count(to: int, log: list[str]) -> Steps[int]:
    total = 0
    for n in range(1, to + 1):
        if n > 1:
            yield
        log.append(f"slice {n}")
        total += n
    return total


def _broken(log: list[str]) -> Steps[int]:
    log.append("slice 1")
    yield
    raise ValueError("bad input in slice 2")


def test_run_at_once_runs_every_slice_and_returns_the_result():
    log: list[str] = []
    assert run_at_once(_count(4, log)) == 10
    assert log == ["slice 1", "slice 2", "slice 3", "slice 4"]


async def test_run_in_slices_lets_other_work_run_between_slices():
    log: list[str] = []

    async def other() -> None:
        for _ in range(3):
            log.append("other")
            await asyncio.sleep(0)

    task = asyncio.create_task(other())
    assert await run_in_slices(_count(3, log)) == 6
    await task
    assert log.index("other") < log.index("slice 3")  # it ran before the work was done
    assert [entry for entry in log if entry != "other"] == ["slice 1", "slice 2", "slice 3"]


async def test_an_error_in_a_slice_reaches_the_caller_either_way():
    log: list[str] = []
    with pytest.raises(ValueError, match="slice 2"):
        run_at_once(_broken(log))
    with pytest.raises(ValueError, match="slice 2"):
        await run_in_slices(_broken(log))
    assert log == ["slice 1", "slice 1"]
