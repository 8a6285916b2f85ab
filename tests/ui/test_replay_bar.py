"""The replay bar and the replay window: play/pause, speed, scrubbing, next alert, REPLAY."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from benchmarks.show_gen import channel_ids, record_show
from micboard_desktop.app.replay_window import open_replay
from micboard_desktop.core.records import Severity
from micboard_desktop.core.replay import ReplayClock, ShowMark, next_mark
from micboard_desktop.ui.views.replay_bar import ReplayBar, show_clock
from tests.ui.conftest import wait_until

START = 1_800_000_000.0


class Wall:
    """A fake wall clock."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Transport:
    """A replay transport without a recording: a real clock and fixed marks."""

    def __init__(self, wall: Wall) -> None:
        self.clock = ReplayClock(START, START + 3600, wall)
        self.marks: Sequence[ShowMark] = [
            ShowMark(START + 600, "Act 2"),
            ShowMark(START + 900, "Ch 3 low battery", Severity.WARNING),
            ShowMark(START + 2000, "RX 1 offline", Severity.CRITICAL),
        ]

    def play(self) -> None:
        self.clock.play()

    def pause(self) -> None:
        self.clock.pause()

    def seek(self, ts: float) -> None:
        self.clock.seek(ts)

    def set_speed(self, speed: float) -> None:
        self.clock.set_speed(speed)

    def next_alert(self) -> float | None:
        found = next_mark(self.marks, self.clock.now() + 0.5)
        if found is not None:
            self.seek(found)
        return found


def test_play_pause_speed_seek_and_next_alert(qtbot) -> None:
    wall = Wall()
    transport = Transport(wall)
    bar = ReplayBar(transport)
    qtbot.addWidget(bar)
    bar.resize(1400, 60)
    bar.show()
    assert bar.play_button.text() == "Play"
    assert bar.clock_label.text() == show_clock(START)
    qtbot.mouseClick(bar.play_button, Qt.MouseButton.LeftButton)
    assert transport.clock.playing
    assert bar.play_button.text() == "Pause"
    bar.speed_box.setCurrentIndex(bar.speed_box.findText("60\u00d7"))
    assert transport.clock.speed == 60
    wall.now += 10
    bar.refresh()
    assert bar.clock_label.text() == show_clock(START + 600)
    qtbot.mouseClick(bar.play_button, Qt.MouseButton.LeftButton)
    assert not transport.clock.playing
    assert bar.play_button.text() == "Play"
    # A click three quarters along the track goes three quarters into the span.
    scrubber = bar.scrubber
    x = round(scrubber.x_of(START + 2700))
    QTest.mouseClick(scrubber, Qt.MouseButton.LeftButton, pos=QPoint(x, scrubber.height() - 12))
    assert abs(transport.clock.now() - (START + 2700)) < 3600 / scrubber.width() * 2
    assert bar.clock_label.text() == show_clock(transport.clock.now())
    transport.seek(START + 100)
    qtbot.mouseClick(bar.next_button, Qt.MouseButton.LeftButton)
    assert transport.clock.now() == START + 900  # the marker at 600 is not an alert
    qtbot.mouseClick(bar.next_button, Qt.MouseButton.LeftButton)
    assert transport.clock.now() == START + 2000
    assert bar.next_alert() is None
    assert bar.next_button.toolTip() == "No alert after this moment"
    assert transport.clock.now() == START + 2000


def test_the_scrubber_draws_markers_and_alerts_in_their_colours(qtbot) -> None:
    bar = ReplayBar(Transport(Wall()))
    qtbot.addWidget(bar)
    bar.resize(1400, 60)
    bar.show()
    scrubber = bar.scrubber
    image = scrubber.grab().toImage()
    y = scrubber.height() - 12
    marker = image.pixelColor(round(scrubber.x_of(START + 600)), y)
    warning = image.pixelColor(round(scrubber.x_of(START + 900)), y)
    critical = image.pixelColor(round(scrubber.x_of(START + 2000)), y)
    plain = image.pixelColor(round(scrubber.x_of(START + 1500)), y)
    assert marker.blue() > 200
    assert marker.red() < 120
    assert warning.red() > 200
    assert warning.green() > 120
    assert warning.blue() < 60
    assert critical.red() > 180
    assert critical.green() < 120
    assert plain.red() < 80
    assert plain.blue() < 80


async def test_replay_window_says_replay_and_follows_the_scrubber(tmp_path: Path) -> None:
    path = tmp_path / "micboard.db"
    plan = record_show(path, seconds=600, channels=8, seed=2)
    replay = await open_replay(path, settings_dir=tmp_path)
    window = replay.window
    try:
        assert window.windowTitle().startswith("REPLAY ")
        assert window.engine_actions
        assert not any(a.isEnabled() for a in window.engine_actions)
        assert not window.open_replay_action.isEnabled()
        assert window.tray is None
        assert len(window.dashboard.tiles) == 8
        session = replay.session
        off_from, _ = plan.tx_off[1]
        cid = channel_ids(8)[1]
        bar = replay.bar
        bar.seek(session.clock.start + off_from + 5)
        await wait_until(lambda: session.shown_at == session.clock.start + off_from + 5)
        rx = session.store.receiver(session.base[0].id)
        assert rx is not None
        assert rx.channels[1].id == cid
        assert rx.channels[1].transmitter is None
        await wait_until(lambda: window.tabs.tabText(3).startswith("Alerts (1)"))
        assert "Warning" in window.windowTitle() or "WARNING" in window.windowTitle().upper()
        bar.toggle_play()
        assert session.clock.playing
        window.close()  # no "stop monitoring?" question in a replay
        assert window.quit_question is None
        await wait_until(replay.done.is_set)
    finally:
        replay.close()
