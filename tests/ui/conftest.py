"""Qt tests run on the qasync loop (stack-notes §6.1); everything else keeps plain asyncio."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

import PySide6  # noqa: F401 - the binding must be imported before qasync picks one
import pytest
import qasync
from PySide6.QtWidgets import QApplication


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]]:
    def make_loop() -> asyncio.AbstractEventLoop:
        app = QApplication.instance() or QApplication([])
        loop: asyncio.AbstractEventLoop = qasync.QEventLoop(app)
        return loop

    return {"qasync": make_loop}


async def wait_until(predicate: Callable[[], bool], within: float = 3.0) -> None:
    """Poll ``predicate`` on the running loop (never qtbot.waitUntil inside async tests)."""
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110 - the condition is Qt state, not an event
            await asyncio.sleep(0.01)
