"""Alert sounds in the window: what plays, mute, snoozes, the sound files and miniaudio."""

from __future__ import annotations

import asyncio
import sys
import wave
from array import array
from datetime import UTC, datetime
from pathlib import Path

import miniaudio
import pytest
from PySide6.QtCore import QSettings

from micboard_desktop.core.alert_sounds import Tone
from micboard_desktop.core.meters import MeterBus
from micboard_desktop.core.model import ChannelId
from micboard_desktop.core.records import AlertInfo, Severity
from micboard_desktop.ui.lock import MemoryPinVault
from micboard_desktop.ui.main_window import MainWindow
from micboard_desktop.ui.sound import MUTED_KEY, MiniaudioPlayer, SilentPlayer, sound_file
from tests.fakes.engine import FakeEngine
from tests.ui.conftest import wait_until
from tests.ui.helpers import show_store

CH1, CH2 = "shure:rx1:1", "shure:rx1:2"


def alert(rule: str, channel: str, severity: Severity) -> AlertInfo:
    return AlertInfo(f"{rule}:{channel}", rule, severity, f"{rule} on {channel}",
                     datetime.now(UTC), channel_id=channel)


def build(tmp_path: Path, engine: FakeEngine | None = None) -> tuple[MainWindow, FakeEngine,
                                                                      SilentPlayer]:
    store = show_store(receivers=1, channels=2)
    engine = engine or FakeEngine()
    engine.attach(store)
    player = SilentPlayer()
    settings = QSettings(str(tmp_path / "ui.ini"), QSettings.Format.IniFormat)
    window = MainWindow(store, MeterBus(), engine, subtitle="test", settings=settings,
                        sound_player=player, pin_vault=MemoryPinVault())
    return window, engine, player


async def test_a_new_warning_and_a_new_critical_play_their_own_sounds(tmp_path: Path):
    window, engine, player = build(tmp_path)
    notified: list[list[AlertInfo]] = []
    window._notify_critical = lambda alerts: notified.append(list(alerts))  # type: ignore[method-assign]
    window.sounder._notify = window._notify_critical
    engine.alert_list.append(alert("low_battery", CH1, Severity.WARNING))
    window.check_alerts()
    assert player.played == [Tone.WARNING]
    assert notified == []  # warnings make no desktop notification
    crit = alert("rf_loss", CH2, Severity.CRITICAL)
    engine.alert_list.append(crit)
    window.check_alerts()
    assert player.played == [Tone.WARNING, Tone.CRITICAL]
    assert notified == [[crit]]
    window.check_alerts()  # nothing new: quiet
    assert player.played == [Tone.WARNING, Tone.CRITICAL]
    window.finish_close()


async def test_mute_from_the_menu_silences_and_is_remembered(tmp_path: Path):
    window, engine, player = build(tmp_path)
    window.sound_controls.mute_action.trigger()
    assert window.sounder.muted
    assert "MUTED" in window.sound_controls.button.text()
    engine.alert_list.append(alert("rf_loss", CH1, Severity.CRITICAL))
    window.check_alerts()
    assert player.played == []
    window.finish_close()
    again, _, _ = build(tmp_path)
    assert again.sounder.muted
    assert again.sound_controls.mute_action.isChecked()
    again.finish_close()


async def test_snoozing_the_selected_tile_silences_its_channel_only(tmp_path: Path):
    window, engine, player = build(tmp_path)
    window.show()
    window.dashboard.set_selected(ChannelId(CH1))
    assert window.dashboard.current_tile() is not None
    window.sound_controls.snooze_channel_cleared.trigger()
    assert "silent until cleared" in window.statusBar().currentMessage()
    engine.alert_list.append(alert("rf_loss", CH1, Severity.CRITICAL))
    window.check_alerts()
    assert player.played == []
    assert "1 snoozed" in window.sound_controls.button.text()
    engine.alert_list.append(alert("rf_loss", CH2, Severity.CRITICAL))
    window.check_alerts()
    assert player.played == [Tone.CRITICAL]
    window.finish_close()


async def test_snoozing_alerts_selected_in_the_alerts_tab(tmp_path: Path):
    warn = alert("low_battery", CH1, Severity.WARNING)
    window, _engine, player = build(tmp_path, FakeEngine(alert_list=[warn]))
    assert player.played == [Tone.WARNING]  # open at start: it sounds once
    window.sound_controls.snooze_alerts_15.trigger()
    assert "Select alerts" in window.statusBar().currentMessage()
    window.alerts.refresh()
    window.alerts.table.selectRow(0)
    window.sound_controls.snooze_alerts_15.trigger()
    snoozes = window.sounder.decisions.snoozes(window.sounder.now())
    assert [(s.target, s.until is not None) for s in snoozes] == [(warn.key, True)]
    window.finish_close()


def _notes(path: Path) -> int:
    """Count the notes: runs of 10 ms windows louder than a tenth of the peak."""
    with wave.open(str(path)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
        samples = array("h", wav.readframes(wav.getnframes()))
        step = wav.getframerate() // 100
    peak = max(abs(v) for v in samples)
    loud = [max((abs(v) for v in samples[i:i + step]), default=0) > peak / 10
            for i in range(0, len(samples), step)]
    return sum(1 for before, now in zip([False, *loud], loud, strict=False) if now and not before)


def test_the_two_sounds_are_short_valid_and_distinct():
    warning, critical = sound_file(Tone.WARNING), sound_file(Tone.CRITICAL)
    for path in (warning, critical):
        info = miniaudio.get_file_info(str(path))
        assert 0.5 <= info.duration <= 1.5
        assert path.stat().st_size < 64_000
    # Told apart by rhythm, without looking: a two-note chime against six quick beeps.
    assert _notes(warning) == 2
    assert _notes(critical) == 6


async def test_miniaudio_plays_a_sound_on_its_null_device_and_releases_it():
    player = MiniaudioPlayer(backends=[miniaudio.Backend.NULL])
    player.play(Tone.WARNING)
    assert player.problem is None
    assert player.played == [Tone.WARNING]
    assert player.playing
    await wait_until(lambda: not player.playing, within=4.0)  # closed after the sound
    # The device pulled the whole sound (0.83 s at 48 kHz), none of it dropped.
    seconds = miniaudio.get_file_info(str(sound_file(Tone.WARNING))).duration
    assert player.frames_sent >= int(seconds * 48_000) - 48
    player.play(Tone.CRITICAL)
    player.play(Tone.WARNING)  # cuts the first one short
    assert player.played == [Tone.WARNING, Tone.CRITICAL, Tone.WARNING]
    player.close()
    assert not player.playing


async def test_no_sound_device_is_a_problem_in_words_never_a_crash():
    problems: list[str] = []
    # Another system's backend: the device cannot open, as on a machine without a card.
    foreign = (miniaudio.Backend.ALSA if sys.platform in ("win32", "darwin")
               else miniaudio.Backend.WASAPI)
    player = MiniaudioPlayer(backends=[foreign], on_problem=problems.append)
    player.play(Tone.CRITICAL)
    player.play(Tone.CRITICAL)
    await asyncio.sleep(0)
    assert player.problem is not None
    assert player.problem.startswith("No sound")
    assert problems == [player.problem]  # said once, not on every alert
    assert not player.playing


async def test_a_missing_sound_file_is_a_problem_not_a_crash(monkeypatch: pytest.MonkeyPatch,
                                                              tmp_path: Path):
    monkeypatch.setattr("micboard_desktop.ui.sound.resources_dir", lambda: tmp_path)
    player = MiniaudioPlayer(backends=[miniaudio.Backend.NULL])
    player.play(Tone.WARNING)
    assert player.problem is not None
    assert "No sound" in player.problem


@pytest.mark.parametrize(("stored", "muted"), [("true", True), ("false", False), ("1", True)])
async def test_mute_setting_reads_ini_strings(tmp_path: Path, stored: str, muted: bool):
    settings = QSettings(str(tmp_path / "ui.ini"), QSettings.Format.IniFormat)
    settings.setValue(MUTED_KEY, stored)
    settings.sync()
    window, _, _ = build(tmp_path)
    assert window.sounder.muted is muted
    window.finish_close()


async def test_the_tile_menu_snoozes_its_channel_and_ends_the_snooze(tmp_path: Path):
    window, engine, player = build(tmp_path)
    window.show()
    board = window.dashboard
    tile = board.tiles[ChannelId(CH2)]
    menu = board.open_tile_menu(tile, tile.mapToGlobal(tile.rect().center()))
    items = {a.text(): a for a in menu.actions()}
    items["Snooze alert sounds until cleared"].trigger()
    menu.close()
    engine.alert_list.append(alert("rf_loss", CH2, Severity.CRITICAL))
    window.check_alerts()
    assert player.played == []
    menu = board.open_tile_menu(tile, tile.mapToGlobal(tile.rect().center()))
    items = {a.text(): a for a in menu.actions()}
    items["End the snooze (until cleared)"].trigger()
    menu.close()
    assert window.sounder.decisions.snoozes(window.sounder.now()) == []
    window.finish_close()
