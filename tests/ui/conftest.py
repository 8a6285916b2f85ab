"""Qt tests run on the qasync loop (stack-notes §6.1); everything else keeps plain asyncio."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Iterator, Mapping

import PySide6  # noqa: F401 - the binding must be imported before qasync picks one
import pytest
import qasync
from PySide6.QtCore import QEvent
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]]:
    def make_loop() -> asyncio.AbstractEventLoop:
        app = QApplication.instance() or QApplication([])
        loop: asyncio.AbstractEventLoop = qasync.QEventLoop(app)
        return loop

    return {"qasync": make_loop}


@pytest.fixture(autouse=True)
def _application_theme_restored() -> Iterator[None]:
    """Take the app theme off again after a test that put it on (a main window does).

    The theme lives on the application, which outlives each test; without this, a test's
    fonts and sizes would depend on whether a window test happened to run before it.
    """
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    sheet, palette = app.styleSheet(), QPalette(app.palette())
    yield
    if app.styleSheet() != sheet:
        # Delete the closed windows first: re-styling re-polishes every widget, and one
        # half-way through deleteLater() must not be among them. The style stays: Fusion
        # is the offscreen default, and replacing a style object under live widgets can
        # crash Qt.
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        app.setStyleSheet(sheet)
        app.setPalette(palette)


@pytest.fixture(autouse=True)
def _qt_garbage_collected_between_tests() -> Iterator[None]:
    """Delete each test's closed windows and widgets after it, never in the middle of another.

    A closed window that sits in a reference cycle (a slot holding ``self``) is freed by
    Python's cyclic collector whenever it happens to run: if that is inside a Qt callback of
    a later test, such as one of its own timers firing, Qt touches the freed object and the
    process dies (seen as a segmentation fault in QTimerInfoList::activateTimers). Collecting
    here, between tests and outside the event loop, frees them at a safe moment.
    """
    yield
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


async def wait_until(predicate: Callable[[], bool], within: float = 3.0) -> None:
    """Poll ``predicate`` on the running loop (never qtbot.waitUntil inside async tests)."""
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110 - the condition is Qt state, not an event
            await asyncio.sleep(0.01)
